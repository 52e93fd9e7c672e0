// PALBERT on GLUE SST-2 with ML.NET: load the TSVs, MapValueToKey -> Palbert -> MapKeyToValue, fit,
// evaluate on the dev set and show at which layers the sentences left the network.
//
//   dotnet run --project examples/PalbertSentiment            (a small ALBERT trained from scratch: runs anywhere, in minutes)
//   dotnet run --project examples/PalbertSentiment -- albert-base-v2 20000
//       fine-tunes the pretrained albert-base-v2 from the Hugging Face hub on 20,000 rows (needs network or a mirror)
using EarlyExit.ExitCriteria;
using EarlyExit.Hub;
using EarlyExit.MLNet;
using EarlyExit.MLNet.Palbert;
using Microsoft.ML;
using Microsoft.ML.Data;

string backbone = args.Length > 0 ? args[0] : "small-albert";
int trainRows = args.Length > 1 ? int.Parse(args[1]) : 4000;
bool fromScratch = backbone is "small-albert" or "tiny-albert"; // presets have no pretrained weights
string data = FindSharedData("SST-2");

var ml = new MLContext(seed: 42);
ml.Log += (_, e) =>
{
    if (e.Source.StartsWith("Palbert", StringComparison.Ordinal) && e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Info)
    {
        Console.WriteLine(e.Message);
    }
};

// GLUE TSVs are tab-separated and unquoted.
IDataView train = ml.Data.TakeRows(
    ml.Data.ShuffleRows(ml.Data.LoadFromTextFile<Review>(Path.Combine(data, "train.tsv"), separatorChar: '\t', hasHeader: true, allowQuoting: false), seed: 42),
    trainRows);
IDataView dev = ml.Data.LoadFromTextFile<Review>(Path.Combine(data, "dev.tsv"), separatorChar: '\t', hasHeader: true, allowQuoting: false);

var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
    .Append(ml.MulticlassClassification.Trainers.Palbert(new PalbertTextClassificationTrainer.Options
    {
        Sentence1ColumnName = nameof(Review.Sentence),
        Backbone = backbone,
        FromScratch = fromScratch,
        Epochs = 2,
        LearningRate = fromScratch ? 5e-4 : 2e-5,   // from scratch needs a far larger rate than fine-tuning
        HaltingLearningRate = 5e-4,
        MaxSequenceLength = 64,
        ExitCriterion = ExitCriterion.QExit(0.5),   // PALBERT's deterministic Q-exit
        // ../shared/models holds the albert-base-v2 tokenizer in the hub-mirror layout; without a mirror
        // the tokenizer (and, for hub ids, the weights) are downloaded from the Hugging Face hub.
        Hub = new HubOptions { MirrorDirectory = Path.GetFullPath(Path.Combine(data, "..", "..")) },
    }))
    .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));

var model = pipeline.Fit(train);
IDataView scored = model.Transform(dev);
var metrics = ml.MulticlassClassification.Evaluate(scored);
Console.WriteLine($"\nSST-2 dev accuracy: {metrics.MicroAccuracy:0.000}");

int[] exitLayers = scored.GetColumn<int>("ExitLayer").ToArray();
var palbert = (PalbertTransformer)model.ElementAt(1);
Console.WriteLine($"mean exit layer: {exitLayers.Average():0.00} of {palbert.NumLayers} (layer speed-up {palbert.NumLayers / exitLayers.Average():0.00}x)");
Console.WriteLine("exit-layer histogram:");
for (int layer = 1; layer <= palbert.NumLayers; layer++)
{
    int count = exitLayers.Count(l => l == layer);
    Console.WriteLine($"  layer {layer,2}: {count,4} {new string('#', (int)Math.Round(60.0 * count / exitLayers.Length))}");
}

// The exit criterion can change without retraining, e.g. PABEE's patience:
using PalbertTransformer patient = palbert.WithExitCriterion(ExitCriterion.Patience(2));
double patientLayers = patient.Transform(model.ElementAt(0).Transform(dev)).GetColumn<int>("ExitLayer").Average();
Console.WriteLine($"with patience:2 instead: mean exit layer {patientLayers:0.00}");

ml.Model.Save(model, train.Schema, "palbert-sst2.zip");
Console.WriteLine("saved palbert-sst2.zip (load it with mlContext.Model.Load)");

static string FindSharedData(string task)
{
    for (var directory = new DirectoryInfo(Environment.CurrentDirectory); directory is not null; directory = directory.Parent)
    {
        string candidate = Path.Combine(directory.FullName, "..", "shared", "data", task);
        if (Directory.Exists(candidate))
        {
            return Path.GetFullPath(candidate);
        }
    }

    throw new DirectoryNotFoundException($"GLUE {task} was not found in ../shared/data; run from the repository.");
}

/// <summary>One row of GLUE SST-2: a sentence and its 0/1 label.</summary>
public sealed class Review
{
    [LoadColumn(0)]
    public string Sentence { get; set; } = "";

    [LoadColumn(1)]
    public string Label { get; set; } = "";
}
