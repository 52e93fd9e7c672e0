// Token-level early exit for named entities with ML.NET: CoNLL-2003 in, MapValueToKey ->
// TokenEarlyExitNer (TOKEE with halt-and-copy) -> MapKeyToValue, fit, then entity F1 on the dev set and
// the layers at which the words left the network.
//
//   dotnet run --project examples/TokenEarlyExitNer                  (fine-tunes all-MiniLM-L6-v2 on 3,000 sentences: a few minutes on 2 cores)
//   dotnet run --project examples/TokenEarlyExitNer -- albert-base-v2 14041   (another checkpoint, all sentences; needs the hub or a mirror)
//
// The checkpoint comes from ../shared/models (found beside the repository with no setting), else from
// the Hugging Face hub.
using EarlyExit.ExitCriteria;
using EarlyExit.MLNet;
using EarlyExit.MLNet.TokenEarlyExitNer;
using EarlyExit.Sequence;
using Microsoft.ML;

string backbone = args.Length > 0 ? args[0] : "sentence-transformers/all-MiniLM-L6-v2";
int trainSentences = args.Length > 1 ? int.Parse(args[1]) : 3000;
string shared = FindShared();

var ml = new MLContext(seed: 42);
ml.Log += (_, e) =>
{
    if (e.Source.StartsWith("TokenEarlyExitNer", StringComparison.Ordinal) && e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Info)
    {
        Console.WriteLine(e.Message);
    }
};

// CoNLL-2003 is tagged IOB1; IOB2 (BIO) is easier to learn. Entity-level F1 does not depend on the scheme.
IDataView train = ml.Data.TakeRows(ml.Data.LoadFromConllFile(Path.Combine(shared, "data", "conll2003", "train.txt"), convertTo: TagScheme.Iob2), trainSentences);
IDataView dev = ml.Data.LoadFromConllFile(Path.Combine(shared, "data", "conll2003", "valid.txt"), convertTo: TagScheme.Iob2);

var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
    .Append(ml.MulticlassClassification.Trainers.TokenEarlyExitNer(new TokenEarlyExitNerTrainer.Options
    {
        Backbone = backbone,
        Epochs = 2,
        SelfSamplingEpochs = 1,                            // the paper's second stage: train on the halting it will see
        LearningRate = 1e-4,                               // a small pretrained model, a few hundred steps
        MaxSequenceLength = 64,                            // longer sentences are labelled in chunks of whole words
        ExitCriterion = TokenExitCriterion.Tokee(0.3, 5),  // a word stops when its window of 5 is certain
    }))
    .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));

var model = pipeline.Fit(train);
var ner = (TokenEarlyExitNerTransformer)model.ElementAt(1);
NerMetrics metrics = NerEvaluation.Evaluate(model.Transform(dev), ner.NumLayers);
Console.WriteLine($"\nCoNLL-2003 dev entity F1: {metrics.Entities.Overall.F1:0.000} (precision {metrics.Entities.Overall.Precision:0.000}, recall {metrics.Entities.Overall.Recall:0.000})");
foreach (var (type, scores) in metrics.Entities.PerType)
{
    Console.WriteLine($"  {type,-5} F1 {scores.F1:0.000}");
}

Console.WriteLine($"mean word exit layer {metrics.MeanTokenExitLayer:0.00} of {ner.NumLayers} (token-layer speed-up {metrics.TokenLayerSpeedup:0.00}x)");
Console.WriteLine("word exit-layer histogram:");
long words = metrics.ExitLayerHistogram.Sum();
for (int layer = 1; layer <= ner.NumLayers; layer++)
{
    long count = metrics.ExitLayerHistogram[layer - 1];
    Console.WriteLine($"  layer {layer,2}: {count,6} {new string('#', (int)Math.Round(60.0 * count / words))}");
}

// Sentence-level exit (SENTEE) on the same model, no retraining:
using TokenEarlyExitNerTransformer sentee = ner.WithExitCriterion(TokenExitCriterion.Sentee(0.3));
NerMetrics senteeMetrics = NerEvaluation.Evaluate(sentee.Transform(model.ElementAt(0).Transform(dev)), ner.NumLayers);
Console.WriteLine($"with sentee:0.3 instead: F1 {senteeMetrics.Entities.Overall.F1:0.000}, speed-up {senteeMetrics.TokenLayerSpeedup:0.00}x");

static string FindShared()
{
    for (var directory = new DirectoryInfo(Environment.CurrentDirectory); directory is not null; directory = directory.Parent)
    {
        string candidate = Path.Combine(directory.FullName, "..", "shared");
        if (Directory.Exists(Path.Combine(candidate, "data", "conll2003")))
        {
            return Path.GetFullPath(candidate);
        }
    }

    throw new DirectoryNotFoundException("CoNLL-2003 was not found in ../shared/data; run from the repository.");
}
