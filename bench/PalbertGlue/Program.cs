// PALBERT and its baselines trained from scratch on GLUE (SST-2, MRPC, RTE, CoLA), evaluated on the dev
// sets: task metric, mean exit layer, layer speed-up and measured rows/s of early-exit scoring.
//
// No pretrained weights can be downloaded where this project is built, so every model here starts from
// random weights (the small-albert preset: 12 steps of one shared ALBERT layer, hidden 128). The numbers
// compare exit criteria with each other, not with the paper's fine-tuned albert-base-v2.
//
//   bash bench/palbert-glue.sh                 (all four tasks; about an hour on 2 CPU cores)
//   dotnet run -c Release --project bench/PalbertGlue -- --tasks rte --train-rows 500 --epochs 1   (a quick look)
//
// Writes <out>/palbert-glue.json (every measurement) and <out>/palbert-glue.md (the README table).
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EarlyExit.Evaluation;
using EarlyExit.ExitCriteria;
using EarlyExit.MLNet;
using EarlyExit.MLNet.Palbert;
using EarlyExit.Modeling;
using EarlyExit.Training;
using Microsoft.ML;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var settings = BenchSettings.Parse(args);
string shared = BenchSupport.FindShared("data");
Directory.CreateDirectory(settings.Out);
var results = new List<Result>();
var clock = Stopwatch.StartNew();

foreach (Task task in Task.All.Where(t => settings.Tasks.Contains(t.Name)))
{
    List<Row> train = task.Read(Path.Combine(shared, "data", task.Folder, "train.tsv"));
    List<Row> dev = task.Read(Path.Combine(shared, "data", task.Folder, "dev.tsv"));
    train = Subsample(train, settings.TrainRows, settings.Seed);
    Console.WriteLine($"== {task.Name}: {train.Count} training rows, {dev.Count} dev rows ({clock.Elapsed:hh\\:mm\\:ss})");
    foreach (Method method in Method.All)
    {
        var ml = new MLContext(seed: settings.Seed);
        IDataView trainView = ml.Data.LoadFromEnumerable(train);
        IDataView devView = ml.Data.LoadFromEnumerable(dev);
        var options = method.Options(task, settings);
        var watch = Stopwatch.StartNew();
        var model = ml.Transforms.Conversion.MapValueToKey(nameof(Row.Label))
            .Append(ml.MulticlassClassification.Trainers.Palbert(options))
            .Fit(trainView);
        double trainSeconds = watch.Elapsed.TotalSeconds;
        var palbert = model.LastTransformer;
        IDataView keyedDev = model.ElementAt(0).Transform(devView);
        Score(palbert, keyedDev.Take(ml, 64)); // warm up: JIT and allocator
        foreach (string criterion in method.Criteria)
        {
            using PalbertTransformer scorer = palbert.WithExitCriterion(ExitCriterion.Parse(criterion));
            var (metrics, rowsPerSecond) = Score(scorer, keyedDev);
            var result = new Result(task.Name, method.Name, criterion, task.MetricName, metrics.Get(task.Metric), metrics.Accuracy,
                metrics.MeanExitLayer, metrics.LayerSpeedup, rowsPerSecond, trainSeconds, train.Count, dev.Count, metrics.ExitLayerHistogram.ToArray());
            results.Add(result);
            Console.WriteLine($"   {method.Name,-10} {criterion,-12} {task.MetricName} {result.Metric:0.000}  acc {result.Accuracy:0.000}  mean exit {result.MeanExitLayer:0.00}  " +
                $"speed-up {result.LayerSpeedup:0.00}x  {result.RowsPerSecond:0} rows/s  (trained in {trainSeconds:0} s)");
        }

        palbert.Dispose();
        File.WriteAllText(Path.Combine(settings.Out, "palbert-glue.json"), JsonSerializer.Serialize(new Report(BenchSupport.Machine(), settings, results), new JsonSerializerOptions { WriteIndented = true }));
    }
}

File.WriteAllText(Path.Combine(settings.Out, "palbert-glue.md"), Markdown(results, settings));
Console.WriteLine($"done in {clock.Elapsed:hh\\:mm\\:ss}: {Path.Combine(settings.Out, "palbert-glue.md")}");
return 0;

// Scores every row (the lazy view computes when ExitLayer and PredictedLabel are read) and times it.
static (ClassificationMetrics Metrics, double RowsPerSecond) Score(ITransformer palbert, IDataView keyedData)
{
    var watch = Stopwatch.StartNew();
    IDataView scored = palbert.Transform(keyedData);
    var predicted = new List<int>();
    var actual = new List<int>();
    var exits = new List<int>();
    using (DataViewRowCursor cursor = scored.GetRowCursor(scored.Schema.Where(c => c.Name is "Label" or "PredictedLabel" or "ExitLayer")))
    {
        ValueGetter<uint> label = cursor.GetGetter<uint>(scored.Schema["Label"]);
        ValueGetter<uint> prediction = cursor.GetGetter<uint>(scored.Schema["PredictedLabel"]);
        ValueGetter<int> exit = cursor.GetGetter<int>(scored.Schema["ExitLayer"]);
        uint l = 0, p = 0;
        int e = 0;
        while (cursor.MoveNext())
        {
            label(ref l);
            prediction(ref p);
            exit(ref e);
            actual.Add((int)l - 1);
            predicted.Add((int)p - 1);
            exits.Add(e);
        }
    }

    double seconds = watch.Elapsed.TotalSeconds;
    var transformer = (PalbertTransformer)palbert;
    var metrics = ClassificationMetrics.Compute(predicted, actual, exits, transformer.ClassNames.Count, transformer.NumLayers);
    return (metrics, predicted.Count / seconds);
}

static List<Row> Subsample(List<Row> rows, int count, int seed)
{
    if (count <= 0 || count >= rows.Count)
    {
        return rows;
    }

    int[] order = Enumerable.Range(0, rows.Count).ToArray();
    new Random(seed).Shuffle(order);
    return order.Take(count).Order().Select(i => rows[i]).ToList();
}


static string Markdown(List<Result> results, BenchSettings settings)
{
    var text = new StringBuilder();
    text.AppendLine($"Measured {DateTime.UtcNow:yyyy-MM-dd} on {BenchSupport.Machine()}; small-albert from scratch (12 shared layers, hidden 128), " +
        $"at most {settings.TrainRows} training rows, {settings.Epochs} epochs, seed {settings.Seed}; dev sets; rows/s = early-exit scoring, batch 32.");
    text.AppendLine();
    text.AppendLine("| task | model (training) | exit criterion | metric | accuracy | mean exit layer | layer speed-up | rows/s |");
    text.AppendLine("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |");
    foreach (Result r in results)
    {
        text.AppendLine($"| {r.Task} | {r.Method} | `{r.Criterion}` | {r.MetricName} {r.Metric:0.000} | {r.Accuracy:0.000} | {r.MeanExitLayer:0.00} | {r.LayerSpeedup:0.00}x | {r.RowsPerSecond:0} |");
    }

    return text.ToString();
}

internal sealed record BenchSettings(HashSet<string> Tasks, int TrainRows, int Epochs, int Seed, string Out)
{
    public static BenchSettings Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            values[args[i].TrimStart('-')] = args[i + 1];
        }

        return new BenchSettings(
            (values.GetValueOrDefault("tasks") ?? "sst2,mrpc,rte,cola").Split(',').ToHashSet(StringComparer.Ordinal),
            int.Parse(values.GetValueOrDefault("train-rows") ?? "20000", CultureInfo.InvariantCulture),
            int.Parse(values.GetValueOrDefault("epochs") ?? "3", CultureInfo.InvariantCulture),
            int.Parse(values.GetValueOrDefault("seed") ?? "42", CultureInfo.InvariantCulture),
            values.GetValueOrDefault("out") ?? Path.Combine("bench", "results"));
    }
}

/// <summary>One GLUE row, with the column names the Palbert trainer is told.</summary>
internal sealed class Row
{
    public string Sentence1 { get; set; } = "";

    public string Sentence2 { get; set; } = "";

    public string Label { get; set; } = "";
}

/// <summary>A GLUE task: where its files are, which columns hold the texts and label, and its metric.</summary>
internal sealed record Task(string Name, string Folder, bool Header, int Text1, int? Text2, int Label, ClassificationMetric Metric, string MetricName)
{
    public static IReadOnlyList<Task> All { get; } =
    [
        new("sst2", "SST-2", true, 0, null, 1, ClassificationMetric.Accuracy, "acc"),
        new("mrpc", "MRPC", true, 3, 4, 0, ClassificationMetric.F1, "F1"),
        new("rte", "RTE", true, 1, 2, 3, ClassificationMetric.Accuracy, "acc"),
        new("cola", "CoLA", false, 3, null, 1, ClassificationMetric.MatthewsCorrelation, "MCC"),
    ];

    /// <summary>Reads a GLUE TSV (tab-separated, unquoted, MRPC with a byte-order mark).</summary>
    public List<Row> Read(string path)
    {
        var rows = new List<Row>();
        int line = 0;
        foreach (string raw in File.ReadLines(path))
        {
            line++;
            if (Header && line == 1)
            {
                continue;
            }

            string[] fields = raw.TrimStart('\uFEFF').Split('\t');
            int needed = new[] { Text1, Text2 ?? 0, Label }.Max() + 1;
            if (fields.Length < needed)
            {
                throw new InvalidDataException($"{path}:{line} has {fields.Length} fields, {needed} needed.");
            }

            rows.Add(new Row { Sentence1 = fields[Text1], Sentence2 = Text2 is int t ? fields[t] : "", Label = fields[Label] });
        }

        return rows;
    }
}

/// <summary>A trained model and the exit criteria it is evaluated with.</summary>
internal sealed record Method(string Name, TrainingObjective Objective, HaltingVariant Halting, ClassifierHeads Heads, string[] Criteria)
{
    public static IReadOnlyList<Method> All { get; } =
    [
        new("PALBERT", TrainingObjective.Ponder, HaltingVariant.Concat, ClassifierHeads.Shared, ["full", "qexit:0.5", "expectation"]),
        new("PonderNet", TrainingObjective.Ponder, HaltingVariant.Linear, ClassifierHeads.Shared, ["sampled:0", "qexit:0.5"]),
        new("PABEE", TrainingObjective.Pabee, HaltingVariant.None, ClassifierHeads.PerLayer, ["full", "patience:6", "patience:3"]),
        new("DeeBERT", TrainingObjective.Joint, HaltingVariant.None, ClassifierHeads.PerLayer, ["entropy:0.5", "entropy:0.3"]),
    ];

    public PalbertTextClassificationTrainer.Options Options(Task task, BenchSettings settings) => new()
    {
        Sentence1ColumnName = nameof(Row.Sentence1),
        Sentence2ColumnName = task.Text2 is null ? null : nameof(Row.Sentence2),
        Backbone = "small-albert",
        FromScratch = true,
        MaxSequenceLength = 128,
        BatchSize = 32,
        Epochs = settings.Epochs,
        LearningRate = 5e-4,
        HaltingLearningRate = 5e-4,
        Objective = Objective,
        Halting = Halting,
        Heads = Heads,
        ExitCriterion = ExitCriterion.Parse(Criteria[0]),
        Seed = settings.Seed,
        Device = EarlyExit.Devices.DeviceOption.Cpu,
    };
}

internal sealed record Result(string Task, string Method, string Criterion, string MetricName, double Metric, double Accuracy, double MeanExitLayer,
    double LayerSpeedup, double RowsPerSecond, double TrainSeconds, int TrainRows, int DevRows, int[] ExitLayerHistogram);

internal sealed record Report(string Machine, BenchSettings Settings, List<Result> Results);

internal static class DataViewExtensions
{
    public static IDataView Take(this IDataView data, MLContext ml, int rows) => ml.Data.TakeRows(data, rows);
}
