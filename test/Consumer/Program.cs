// The consumer test's app (test/Consumer/run.sh copies it into a fresh `dotnet new console` project that
// references the packed EarlyExit.MLNet). It uses the product as a NuGet user would: no project
// reference, no repository file.
//
//   fit  <train.tsv> <dev.tsv> <model.zip> <scores.tsv>   fits Palbert on the first rows of train.tsv (GLUE
//        SST-2: sentence, label) with the tiny-bert preset, saves with mlContext.Model.Save, and writes
//        the dev rows' scores, predicted labels and exit layers
//   load <dev.tsv> <model.zip> <scores.tsv>               loads with mlContext.Model.Load (a new process)
//        and fails unless every score, label and exit layer equals the file's, bit for bit
//   export <dev.tsv> <model.zip> <folder>                 scores the dev rows through ML.NET with the ONNX Runtime
//        backend (WithBackend), which must give TorchSharp's labels and exit layers, then writes the model's
//        ONNX export (for the ONNX app, test/Consumer/OnnxProgram.cs, which scores it without libtorch)
using System.Globalization;
using EarlyExit.MLNet;
using EarlyExit.MLNet.Palbert;
using Microsoft.ML;
using Microsoft.ML.Data;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var ml = new MLContext(seed: 1);
const int TrainRows = 64;
const int DevRows = 24;

if (args is ["fit", string trainFile, string devFile, string modelFile, string scoresFile])
{
    IDataView train = ml.Data.TakeRows(Load(trainFile), TrainRows);
    var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
        .Append(ml.MulticlassClassification.Trainers.Palbert(new PalbertTextClassificationTrainer.Options
        {
            Sentence1ColumnName = nameof(Review.Sentence),
            Backbone = "tiny-bert",
            FromScratch = true,
            Epochs = 1,
            BatchSize = 16,
            MaxSequenceLength = 32,
            Seed = 1,
        }))
        .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
    ITransformer model = pipeline.Fit(train);
    ml.Model.Save(model, train.Schema, modelFile);
    string[] lines = Score(model, devFile);
    File.WriteAllLines(scoresFile, lines);
    Console.WriteLine($"fitted on {TrainRows} rows, saved {modelFile}, scored {lines.Length} dev rows");
    return 0;
}

if (args is ["load", string devPath, string modelPath, string expectedFile])
{
    ITransformer model = ml.Model.Load(modelPath, out _);
    string[] expected = File.ReadAllLines(expectedFile);
    string[] actual = Score(model, devPath);
    if (expected.Length == 0 || !expected.SequenceEqual(actual))
    {
        Console.Error.WriteLine($"the loaded model scores differently ({actual.Length} rows against {expected.Length} expected):");
        foreach ((string want, string got) in expected.Zip(actual).Where(p => p.First != p.Second).Take(3))
        {
            Console.Error.WriteLine($"  expected {want}\n  got      {got}");
        }

        return 1;
    }

    Console.WriteLine($"loaded in a new process: identical scores, labels and exit layers for {actual.Length} rows");
    return 0;
}

if (args is ["export", string dev, string zip, string folder])
{
    var model = (TransformerChain<ITransformer>)ml.Model.Load(zip, out _);
    PalbertTransformer palbert = model.OfType<PalbertTransformer>().Single();
    using PalbertTransformer onnx = palbert.WithBackend(ScoringBackend.OnnxRuntime);
    string[] torch = Score(model, dev).Select(LabelAndExit).ToArray();
    string[] ort = Score(new TransformerChain<ITransformer>(model.Select(t => t == palbert ? onnx : t).ToArray()), dev).Select(LabelAndExit).ToArray();
    if (torch.Length == 0 || !torch.SequenceEqual(ort))
    {
        Console.Error.WriteLine($"the ONNX Runtime backend gives other labels or exit layers than TorchSharp: {string.Join(" | ", ort)} against {string.Join(" | ", torch)}");
        return 1;
    }

    Console.WriteLine($"the ONNX Runtime backend (WithBackend) gives TorchSharp's labels and exit layers for {ort.Length} rows");
    palbert.Classifier.ExportOnnx(folder);
    Console.WriteLine($"exported {zip} to {folder}");
    return 0;
}

Console.Error.WriteLine("usage: fit <train.tsv> <dev.tsv> <model.zip> <scores.tsv> | load <dev.tsv> <model.zip> <scores.tsv> | export <dev.tsv> <model.zip> <folder>");
return 2;

IDataView Load(string path) =>
    ml.Data.LoadFromTextFile<Review>(path, separatorChar: '\t', hasHeader: true, allowQuoting: false);

// One line a row: the exact bits of every score, the predicted label and the exit layer.
string[] Score(ITransformer model, string devFile) =>
    ml.Data.CreateEnumerable<Scored>(model.Transform(ml.Data.TakeRows(Load(devFile), DevRows)), reuseRowObject: false)
        .Select(r => $"{string.Join(" ", r.Score.Select(s => BitConverter.SingleToInt32Bits(s).ToString("x8")))}\t{r.PredictedLabel}\t{r.ExitLayer}")
        .ToArray();

// A scored line's predicted label and exit layer (the scores of two backends differ in the last bits).
static string LabelAndExit(string line) => line[(line.IndexOf('\t', StringComparison.Ordinal) + 1)..];

/// <summary>A GLUE SST-2 row.</summary>
internal sealed class Review
{
    [LoadColumn(0)]
    public string Sentence { get; set; } = "";

    [LoadColumn(1)]
    public string Label { get; set; } = "";
}

/// <summary>What the pipeline adds.</summary>
internal sealed class Scored
{
    public float[] Score { get; set; } = [];

    public string PredictedLabel { get; set; } = "";

    public int ExitLayer { get; set; }
}
