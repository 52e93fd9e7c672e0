// PALBERT on GLUE SST-2 with ML.NET: fine-tune the pretrained all-MiniLM-L6-v2 (a 6-layer BERT) inside
// an ML.NET pipeline (MapValueToKey -> Palbert -> MapKeyToValue), evaluate it on the dev set at full
// depth and with early exit, show at which layers the sentences left the network, and save the model.
//
//   dotnet run -c Release --project examples/PalbertSentiment                        (about 3 minutes on 2 CPU cores)
//   dotnet run -c Release --project examples/PalbertSentiment -- albert-base-v2 20000 2   (another checkpoint, rows, epochs)
//
// The checkpoint comes from ../shared/models (found beside the repository with no setting), else from
// the Hugging Face hub. It declares mean pooling (sentence-transformers' 1_Pooling/config.json), so
// the exit heads read the mean of the token states: its [CLS] state is the same for every input
// until the last layer.
using System.Diagnostics;
using EarlyExit.ExitCriteria;
using EarlyExit.MLNet;
using EarlyExit.MLNet.Palbert;
using Microsoft.ML;
using Microsoft.ML.Data;

string backbone = args.Length > 0 ? args[0] : "sentence-transformers/all-MiniLM-L6-v2";
int trainRows = args.Length > 1 ? int.Parse(args[1]) : 9000;
int epochs = args.Length > 2 ? int.Parse(args[2]) : 1;
string data = FindSharedData("SST-2");
var clock = Stopwatch.StartNew();

var ml = new MLContext(seed: 42);
ml.Log += (_, e) =>
{
    if (e.Source.StartsWith("Palbert", StringComparison.Ordinal) && e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Info)
    {
        Console.WriteLine(e.Message);
    }
};

// GLUE TSVs are tab-separated and unquoted. A seeded sample of the 67,349 training phrases keeps the run short.
IDataView train = ml.Data.TakeRows(
    ml.Data.ShuffleRows(ml.Data.LoadFromTextFile<Review>(Path.Combine(data, "train.tsv"), separatorChar: '\t', hasHeader: true, allowQuoting: false), seed: 42),
    trainRows);
IDataView dev = ml.Data.LoadFromTextFile<Review>(Path.Combine(data, "dev.tsv"), separatorChar: '\t', hasHeader: true, allowQuoting: false);

var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
    .Append(ml.MulticlassClassification.Trainers.Palbert(new PalbertTextClassificationTrainer.Options
    {
        Sentence1ColumnName = nameof(Review.Sentence),
        Backbone = backbone,
        Epochs = epochs,
        LearningRate = 1e-4,   // a small model fine-tuned for one short epoch takes a larger rate than BERT-base's 2e-5
        MaxSequenceLength = 64,
        ExitCriterion = ExitCriterion.QExit(0.5),   // PALBERT's deterministic Q-exit
    }))
    .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));

var model = pipeline.Fit(train);
Console.WriteLine($"trained in {clock.Elapsed.TotalSeconds:0} s");
var palbert = (PalbertTransformer)model.ElementAt(1);
IDataView keyedDev = model.ElementAt(0).Transform(dev);

using (PalbertTransformer full = palbert.WithExitCriterion(ExitCriterion.Full()))
{
    var fullMetrics = ml.MulticlassClassification.Evaluate(full.Transform(keyedDev));
    Console.WriteLine($"\nSST-2 dev accuracy at full depth ({palbert.NumLayers} layers): {fullMetrics.MicroAccuracy:0.000}");
}

Report(ml, palbert, keyedDev);
// The exit criterion changes without retraining, e.g. to DeeBERT's entropy threshold:
using (PalbertTransformer entropy = palbert.WithExitCriterion(ExitCriterion.Entropy(0.6)))
{
    Report(ml, entropy, keyedDev);
}

ml.Model.Save(model, train.Schema, "palbert-sst2.zip");
Console.WriteLine($"\nsaved palbert-sst2.zip (load it with mlContext.Model.Load); {clock.Elapsed.TotalSeconds:0} s in all");

static void Report(MLContext ml, PalbertTransformer palbert, IDataView keyedDev)
{
    var watch = Stopwatch.StartNew();
    IDataView scored = ml.Data.Cache(palbert.Transform(keyedDev), "Label", "PredictedLabel", "Score", "ExitLayer"); // scored once, read twice
    int[] exitLayers = scored.GetColumn<int>("ExitLayer").ToArray();
    double seconds = watch.Elapsed.TotalSeconds;
    var metrics = ml.MulticlassClassification.Evaluate(scored);
    Console.WriteLine($"\n{palbert.ExitCriterion}: accuracy {metrics.MicroAccuracy:0.000}, mean exit layer {exitLayers.Average():0.00} of {palbert.NumLayers} " +
        $"(layer speed-up {palbert.NumLayers / exitLayers.Average():0.00}x), {exitLayers.Length / seconds:0} rows/s");
    for (int layer = 1; layer <= palbert.NumLayers; layer++)
    {
        int count = exitLayers.Count(l => l == layer);
        Console.WriteLine($"  layer {layer,2}: {count,4} {new string('#', (int)Math.Round(60.0 * count / exitLayers.Length))}");
    }
}

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
