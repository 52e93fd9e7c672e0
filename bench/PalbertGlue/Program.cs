// PALBERT and its baselines fine-tuned from the pretrained all-MiniLM-L6-v2 (6 layers, hidden 384) on
// GLUE SST-2, MRPC, RTE, CoLA and STS-B, trained through ML.NET (MulticlassClassification and
// Regression .Trainers.Palbert) and evaluated on the dev sets.
//
// Five training set-ups per task and seed, each scored with its own exit criterion:
//   PALBERT    Ponder objective, concat λ-head, one shared classifier   qexit:0.5
//   PonderNet  Ponder objective, linear λ-head                          sampled
//   PABEE      per-layer classifiers, index-weighted loss               patience:2 (regression: patience:2:0.25)
//   DeeBERT    per-layer classifiers, joint loss                        entropy:0.4 (classification only)
//   Full       plain fine-tuning of the last layer                      full
// Every model's dev set is recorded once (every layer's outputs), and each set-up's criterion family is
// replayed on the record (Q-exit q = 0.05..0.95, patience 1..5, entropy 0.05..0.95), so the methods
// are compared along their whole curves: the metric at equal mean exit layer is read off each curve's
// Pareto front. rows/s are real early-exit passes over the dev set (the first seed, median of 3).
//
//   bash bench/palbert-glue.sh                        (every task, 2 seeds; about 90 minutes on 2 CPU cores)
//   dotnet run -c Release --project bench/PalbertGlue -- --tasks rte --seeds 1 --scale 0.2   (a quick look)
//
// Writes <out>/palbert-glue.json (every measurement) and <out>/palbert-glue.md (the README tables).
// Results of tasks this run does not include are kept from an existing palbert-glue.json, so one task
// can be rerun (e.g. --tasks stsb) without redoing the others; each keeps its own date.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EarlyExit;
using EarlyExit.Evaluation;
using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.MLNet;
using EarlyExit.MLNet.Palbert;
using EarlyExit.Modeling;
using EarlyExit.Sweeps;
using EarlyExit.Training;
using Microsoft.ML;
using Microsoft.ML.Transforms;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var settings = BenchSettings.Parse(args);
string shared = BenchSupport.FindShared("data");
Directory.CreateDirectory(settings.Out);
var results = new List<Result>();
var clock = Stopwatch.StartNew();
string jsonPath = Path.Combine(settings.Out, "palbert-glue.json");
var jsonOptions = new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
List<Result> kept = File.Exists(jsonPath)
    ? (JsonSerializer.Deserialize<Report>(File.ReadAllText(jsonPath), jsonOptions)?.Results ?? []).Where(r => !settings.Tasks.Contains(r.Task)).ToList()
    : [];

foreach (GlueTask task in GlueTask.All.Where(t => settings.Tasks.Contains(t.Name)))
{
    List<Row> allTrain = task.Read(Path.Combine(shared, "data", task.Folder, "train.tsv"));
    List<Row> dev = task.Read(Path.Combine(shared, "data", task.Folder, "dev.tsv"));
    int rows = Math.Max(64, (int)(task.TrainRows * settings.Scale));
    for (int seedIndex = 0; seedIndex < settings.Seeds && (seedIndex == 0 || task.Small); seedIndex++)
    {
        int seed = settings.Seed + seedIndex;
        List<Row> train = Subsample(allTrain, rows, seed);
        Console.WriteLine($"== {task.Name}, seed {seed}: {train.Count} of {allTrain.Count} training rows, {dev.Count} dev rows, {task.Epochs} epoch(s) ({clock.Elapsed:hh\\:mm\\:ss})");
        foreach (Method method in Method.All.Where(m => !(task.Regression && m.ClassificationOnly)))
        {
            var watch = Stopwatch.StartNew();
            using PalbertTransformer palbert = Fit(task, method, train, seed, settings);
            double trainSeconds = watch.Elapsed.TotalSeconds;
            EarlyExitTextClassifier model = palbert.Classifier;
            string[] texts = dev.Select(r => r.Sentence1).ToArray();
            string[]? pairs = task.Text2 is null ? null : dev.Select(r => r.Sentence2).ToArray();
            ClassificationRecord record = model.Record(texts, pairs);
            var curve = method.Curve(task, model.NumLayers).Select(c => Point(task, model, record, dev, c)).ToList();
            Point main = Point(task, model, record, dev, method.Criterion(task, model.NumLayers));
            Point full = Point(task, model, record, dev, "full");
            // Speed of the set-up's own criterion (the Full set-up's is full depth's), first seed only.
            double? rowsPerSecond = seedIndex == 0 ? RowsPerSecond(model, texts, pairs, main.Criterion) : null;
            LambdaStats? lambdas = model.Model.HasHaltingHead ? LambdaStats.Of(record) : null;
            var result = new Result(task.Name, method.Name, seed, train.Count, task.Epochs, trainSeconds, DateTime.UtcNow.ToString("yyyy-MM-dd"), main, full, rowsPerSecond, curve, lambdas);
            results.Add(result);
            Console.WriteLine($"   {method.Name,-10} {main.Criterion,-16} {task.MetricName} {main.Metric:0.000}  mean exit {main.MeanExitLayer:0.00}  " +
                $"full {full.Metric:0.000}  {(rowsPerSecond is double r ? $"{r:0} rows/s" : "")}  (trained in {trainSeconds:0} s)");
            File.WriteAllText(jsonPath, JsonSerializer.Serialize(new Report(BenchSupport.Machine(), settings.Backbone, Ordered(kept.Concat(results))), jsonOptions));
        }
    }
}

File.WriteAllText(Path.Combine(settings.Out, "palbert-glue.md"), Tables.Markdown(Ordered(kept.Concat(results)), settings));
Console.WriteLine($"done in {clock.Elapsed:hh\\:mm\\:ss}: {Path.Combine(settings.Out, "palbert-glue.md")}");
return 0;

// Tasks in the order of GlueTask.All, then set-ups and seeds as run.
static List<Result> Ordered(IEnumerable<Result> results) =>
    results.OrderBy(r => GlueTask.All.ToList().FindIndex(t => t.Name == r.Task)).ThenBy(r => Method.All.ToList().FindIndex(m => m.Name == r.Method)).ThenBy(r => r.Seed).ToList();

static PalbertTransformer Fit(GlueTask task, Method method, List<Row> train, int seed, BenchSettings settings)
{
    var ml = new MLContext(seed: seed);
    IDataView view = ml.Data.LoadFromEnumerable(train);
    if (task.Regression)
    {
        var options = method.Options(new PalbertRegressionTrainer.Options(), task, seed, settings);
        var targets = ml.Data.LoadFromEnumerable(train.Select(r => new ScoredRow { Sentence1 = r.Sentence1, Sentence2 = r.Sentence2, Label = float.Parse(r.Label, CultureInfo.InvariantCulture) }));
        return ml.Regression.Trainers.Palbert(options).Fit(targets);
    }

    // Classes sorted by value ("0" < "1") for readable outputs; F1's positive class is chosen by value anyway.
    var toKey = ml.Transforms.Conversion.MapValueToKey(nameof(Row.Label), keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue).Fit(view);
    var classifierOptions = method.Options(new PalbertTextClassificationTrainer.Options(), task, seed, settings);
    return ml.MulticlassClassification.Trainers.Palbert(classifierOptions).Fit(toKey.Transform(view));
}

// The task metric of one criterion, replayed on the record.
static Point Point(GlueTask task, EarlyExitTextClassifier model, ClassificationRecord record, List<Row> dev, string criterion)
{
    ClassificationPrediction[] predictions = record.Replay(ExitCriterion.Parse(criterion));
    int[] exits = predictions.Select(p => p.ExitLayer).ToArray();
    if (task.Regression)
    {
        EarlyExitRegressionMetrics metrics = EarlyExitRegressionMetrics.Compute(predictions.Select(p => p.Value).ToArray(), dev.Select(r => float.Parse(r.Label, CultureInfo.InvariantCulture)).ToArray(), exits, model.NumLayers);
        return new Point(criterion, metrics.PearsonSpearman, double.NaN, metrics.Pearson, metrics.Spearman, metrics.MeanExitLayer, metrics.LayerSpeedup);
    }

    int[] labels = dev.Select(r => model.Labels.ToList().IndexOf(r.Label)).ToArray();
    if (labels.Any(l => l < 0))
    {
        throw new InvalidDataException($"{task.Name}: a dev label is not among the trained classes {string.Join(", ", model.Labels)}.");
    }

    ClassificationMetrics m = ClassificationMetrics.Compute(predictions.Select(p => p.PredictedClass).ToArray(), labels, exits, model.Labels.Count, model.NumLayers, PositiveClass.Resolve(model.Labels));
    return new Point(criterion, m.Get(task.Metric), m.Accuracy, double.NaN, double.NaN, m.MeanExitLayer, m.LayerSpeedup);
}

// Real early-exit passes over the dev set: one warm-up, then the median of three.
static double RowsPerSecond(EarlyExitTextClassifier model, string[] texts, string[]? pairs, string criterion)
{
    ExitCriterion parsed = ExitCriterion.Parse(criterion);
    model.Predict(texts.Take(64).ToArray(), pairs?.Take(64).ToArray(), parsed);
    var passes = new List<double>();
    for (int pass = 0; pass < 3; pass++)
    {
        var watch = Stopwatch.StartNew();
        model.Predict(texts, pairs, parsed);
        passes.Add(texts.Length / watch.Elapsed.TotalSeconds);
    }

    return passes.Order().ElementAt(1);
}

static List<Row> Subsample(List<Row> rows, int count, int seed)
{
    if (count >= rows.Count)
    {
        return rows;
    }

    int[] order = Enumerable.Range(0, rows.Count).ToArray();
    new Random(seed).Shuffle(order);
    return order.Take(count).Order().Select(i => rows[i]).ToList();
}

internal sealed record BenchSettings(HashSet<string> Tasks, int Seeds, int Seed, double Scale, string Backbone, string Out)
{
    public static BenchSettings Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            values[args[i].TrimStart('-')] = args[i + 1];
        }

        return new BenchSettings(
            (values.GetValueOrDefault("tasks") ?? "sst2,mrpc,rte,cola,stsb").Split(',').ToHashSet(StringComparer.Ordinal),
            int.Parse(values.GetValueOrDefault("seeds") ?? "2", CultureInfo.InvariantCulture),
            int.Parse(values.GetValueOrDefault("seed") ?? "42", CultureInfo.InvariantCulture),
            double.Parse(values.GetValueOrDefault("scale") ?? "1", CultureInfo.InvariantCulture),
            values.GetValueOrDefault("backbone") ?? "sentence-transformers/all-MiniLM-L6-v2",
            values.GetValueOrDefault("out") ?? Path.Combine("bench", "results"));
    }
}

/// <summary>One GLUE row, with the column names the Palbert trainers are told.</summary>
internal class Row
{
    public string Sentence1 { get; set; } = "";

    public string Sentence2 { get; set; } = "";

    public string Label { get; set; } = "";
}

/// <summary>A regression row: the label as a number.</summary>
internal sealed class ScoredRow
{
    public string Sentence1 { get; set; } = "";

    public string Sentence2 { get; set; } = "";

    public float Label { get; set; }
}

/// <summary>
/// A GLUE task: where its files are, which columns hold the texts and label, its metric, and how much of
/// its training set the bench uses (sub-sampled so that all tasks, set-ups and seeds fit about 90 minutes).
/// </summary>
internal sealed record GlueTask(string Name, string Folder, bool Header, int Text1, int? Text2, int Label, ClassificationMetric Metric, string MetricName,
    int TrainRows, int Epochs, bool Small, bool Regression = false)
{
    public static IReadOnlyList<GlueTask> All { get; } =
    [
        // Sized by tokens: a training step costs about its token count, and pairs (MRPC, RTE, STS-B) are 3-6 times longer than SST-2's phrases.
        new("sst2", "SST-2", true, 0, null, 1, ClassificationMetric.Accuracy, "acc", TrainRows: 6000, Epochs: 1, Small: false),
        new("mrpc", "MRPC", true, 3, 4, 0, ClassificationMetric.F1, "F1", TrainRows: 1100, Epochs: 2, Small: true),
        new("rte", "RTE", true, 1, 2, 3, ClassificationMetric.Accuracy, "acc", TrainRows: 700, Epochs: 2, Small: true),
        new("cola", "CoLA", false, 3, null, 1, ClassificationMetric.MatthewsCorrelation, "MCC", TrainRows: 4000, Epochs: 2, Small: true),
        new("stsb", "STS-B", true, 7, 8, 9, ClassificationMetric.Accuracy, "Pearson/Spearman", TrainRows: 1800, Epochs: 2, Small: true, Regression: true),
    ];

    /// <summary>Reads a GLUE TSV (tab-separated, unquoted, MRPC with a byte-order mark).</summary>
    public List<Row> Read(string path)
    {
        var rows = new List<Row>();
        int line = 0;
        int needed = new[] { Text1, Text2 ?? 0, Label }.Max() + 1;
        foreach (string raw in File.ReadLines(path))
        {
            line++;
            if (Header && line == 1)
            {
                continue;
            }

            string[] fields = raw.TrimStart('\uFEFF').Split('\t');
            if (fields.Length < needed)
            {
                throw new InvalidDataException($"{path}:{line} has {fields.Length} fields, {needed} needed.");
            }

            rows.Add(new Row { Sentence1 = fields[Text1], Sentence2 = Text2 is int t ? fields[t] : "", Label = fields[Label] });
        }

        return rows;
    }
}

/// <summary>A training set-up, its deployment criterion and the criterion family its curve sweeps.</summary>
internal sealed record Method(string Name, TrainingObjective Objective, HaltingVariant Halting, ClassifierHeads Heads, bool ClassificationOnly = false)
{
    public static IReadOnlyList<Method> All { get; } =
    [
        new("PALBERT", TrainingObjective.Ponder, HaltingVariant.Concat, ClassifierHeads.Shared),
        new("PonderNet", TrainingObjective.Ponder, HaltingVariant.Linear, ClassifierHeads.Shared),
        new("PABEE", TrainingObjective.Pabee, HaltingVariant.None, ClassifierHeads.PerLayer),
        new("DeeBERT", TrainingObjective.Joint, HaltingVariant.None, ClassifierHeads.PerLayer, ClassificationOnly: true),
        new("Full", TrainingObjective.LastLayer, HaltingVariant.None, ClassifierHeads.Shared),
    ];

    public string Criterion(GlueTask task, int layers) => Name switch
    {
        "PALBERT" => "qexit:0.5",
        "PonderNet" => "sampled:0",
        "PABEE" => task.Regression ? "patience:2:0.25" : "patience:2",
        "DeeBERT" => "entropy:0.4",
        _ => "full",
    };

    public IEnumerable<string> Curve(GlueTask task, int layers)
    {
        double[] thresholds = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];
        return Name switch
        {
            "PALBERT" or "PonderNet" => thresholds.Select(q => $"qexit:{q}").Append("sampled:0").Append("expectation"),
            "PABEE" => Enumerable.Range(1, layers - 1).SelectMany(n => task.Regression ? new[] { 0.1, 0.25, 0.5 }.Select(t => $"patience:{n}:{t}") : [$"patience:{n}"]),
            "DeeBERT" => thresholds.Select(t => $"entropy:{t}"),
            _ => Enumerable.Range(1, layers).Select(k => $"layer:{k}"),
        };
    }

    public TOptions Options<TOptions>(TOptions options, GlueTask task, int seed, BenchSettings settings)
        where TOptions : PalbertOptionsBase
    {
        options.Sentence1ColumnName = nameof(Row.Sentence1);
        options.Sentence2ColumnName = task.Text2 is null ? null : nameof(Row.Sentence2);
        options.Backbone = settings.Backbone;
        options.MaxSequenceLength = 128;
        options.BatchSize = 32;
        options.Epochs = task.Epochs;
        options.LearningRate = 1e-4;
        options.Objective = Objective;
        options.Halting = Halting;
        options.Heads = Heads;
        options.ExitCriterion = ExitCriterion.Parse(Criterion(task, 6));
        options.Seed = seed;
        options.Device = EarlyExit.Devices.DeviceOption.Cpu;
        return options;
    }
}

/// <summary>One criterion's outcome: the task metric (Pearson and Spearman's mean for STS-B), accuracy, and cost.</summary>
internal sealed record Point(string Criterion, double Metric, double Accuracy, double Pearson, double Spearman, double MeanExitLayer, double LayerSpeedup);

/// <summary>λ per layer over the dev rows: mean and spread (a spread near 0 is a λ that ignores the row).</summary>
internal sealed record LambdaStats(double[] Mean, double[] Spread)
{
    public static LambdaStats Of(ClassificationRecord record)
    {
        var mean = new double[record.Layers];
        var spread = new double[record.Layers];
        for (int layer = 0; layer < record.Layers; layer++)
        {
            double[] values = Enumerable.Range(0, record.Rows).Select(r => (double)record.Halting(r, layer)).ToArray();
            mean[layer] = values.Average();
            spread[layer] = Math.Sqrt(values.Select(v => (v - mean[layer]) * (v - mean[layer])).Average());
        }

        return new LambdaStats(mean, spread);
    }
}

internal sealed record Result(string Task, string Method, int Seed, int TrainRows, int Epochs, double TrainSeconds, string Date, Point Main, Point Full, double? RowsPerSecond,
    List<Point> Curve, LambdaStats? Lambdas);

internal sealed record Report(string Machine, string Backbone, List<Result> Results);

/// <summary>The README tables.</summary>
internal static class Tables
{
    private static readonly double[] s_depths = [2, 3, 4, 5];

    public static string Markdown(List<Result> results, BenchSettings settings)
    {
        var text = new StringBuilder();
        text.AppendLine($"Measured on {BenchSupport.Machine()} ({string.Join(", ", results.GroupBy(r => r.Task).Select(g => $"{g.Key} {g.First().Date}"))}); " +
            $"backbone {settings.Backbone} (pretrained, 6 layers); dev sets; seeds {string.Join(", ", results.Select(r => r.Seed).Distinct().Order())} on the small tasks, " +
            $"{results.Where(r => r.Task == "sst2").Select(r => r.Seed).Distinct().Count()} on SST-2; training time per model in the JSON. Command: `bash bench/palbert-glue.sh`.");
        text.AppendLine();
        text.AppendLine("| task | training rows × epochs | set-up | exit criterion | metric | same model at full depth | mean exit layer | layer speed-up | rows/s | vs Full's rows/s |");
        text.AppendLine("| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var group in results.GroupBy(r => (r.Task, r.Method)))
        {
            Result first = group.First();
            double? fullRate = results.FirstOrDefault(r => r.Task == first.Task && r.Method == "Full" && r.RowsPerSecond is not null)?.RowsPerSecond;
            text.AppendLine($"| {first.Task} | {first.TrainRows} × {first.Epochs} | {first.Method} | `{first.Main.Criterion}` | {Spread(group.Select(r => r.Main.Metric))} | {Spread(group.Select(r => r.Full.Metric))} | " +
                $"{group.Average(r => r.Main.MeanExitLayer):0.00} | {group.Average(r => r.Main.LayerSpeedup):0.00}x | " +
                $"{(first.RowsPerSecond is double rows ? $"{rows:0}" : "–")} | {(first.RowsPerSecond is double own && fullRate is double baseline ? $"{own / baseline:0.00}x" : "–")} |");
        }

        text.AppendLine();
        text.AppendLine("The metric at equal mean exit layer, read off each set-up's Pareto front (linear between its points; mean over seeds; – where the front does not reach that depth):");
        text.AppendLine();
        text.AppendLine($"| task | set-up (criterion family) | {string.Join(" | ", s_depths.Select(d => $"exit layer {d:0}"))} | fastest within 0.01 of its full depth |");
        text.AppendLine($"| --- | --- | {string.Join(" | ", s_depths.Select(_ => "---:"))} | --- |");
        foreach (var group in results.GroupBy(r => (r.Task, r.Method)))
        {
            Result first = group.First();
            string family = first.Method switch { "PALBERT" or "PonderNet" => "Q-exit", "PABEE" => "patience", "DeeBERT" => "entropy", _ => "fixed layer" };
            IEnumerable<string> cells = s_depths.Select(depth =>
            {
                double[] values = group.Select(r => AtDepth(r.Curve, depth)).Where(v => !double.IsNaN(v)).ToArray();
                return values.Length == group.Count() ? values.Average().ToString("0.000") : "–";
            });
            string fastest = string.Join("; ", group.Select(r => r.Curve.Where(p => p.Metric >= r.Full.Metric - 0.01).OrderBy(p => p.MeanExitLayer).FirstOrDefault() is { } p
                ? $"`{p.Criterion}` {p.Metric:0.000} @ {p.MeanExitLayer:0.00}" : "–"));
            text.AppendLine($"| {first.Task} | {first.Method} ({family}) | {string.Join(" | ", cells)} | {fastest} |");
        }

        text.AppendLine();
        text.AppendLine("PALBERT's halting probabilities λ on the dev set (first seed): mean per layer, and in brackets their spread across rows:");
        text.AppendLine();
        text.AppendLine("| task | set-up | λ per layer 1..6 |");
        text.AppendLine("| --- | --- | --- |");
        foreach (Result r in results.Where(r => r.Lambdas is not null).GroupBy(r => (r.Task, r.Method)).Select(g => g.First()))
        {
            text.AppendLine($"| {r.Task} | {r.Method} | {string.Join(" ", r.Lambdas!.Mean.Zip(r.Lambdas.Spread, (m, s) => $"{m:0.00} ({s:0.00})"))} |");
        }

        return text.ToString();
    }

    // Mean ± half the range over seeds (just the value for one seed).
    private static string Spread(IEnumerable<double> values)
    {
        double[] v = values.ToArray();
        return v.Length == 1 ? $"{v[0]:0.000}" : $"{v.Average():0.000} ± {(v.Max() - v.Min()) / 2:0.000}";
    }

    // The metric of the curve's Pareto front (best metric at or below each depth) at mean exit layer
    // `depth`, linear between front points; NaN outside the front's range.
    private static double AtDepth(List<Point> curve, double depth)
    {
        var front = new List<Point>();
        foreach (Point p in curve.OrderBy(p => p.MeanExitLayer).ThenByDescending(p => p.Metric))
        {
            if (front.Count == 0 || p.Metric > front[^1].Metric)
            {
                front.Add(p);
            }
        }

        if (front.Count == 0 || depth < front[0].MeanExitLayer - 1e-9)
        {
            return double.NaN;
        }

        for (int i = 0; i + 1 < front.Count; i++)
        {
            if (depth <= front[i + 1].MeanExitLayer)
            {
                double t = (depth - front[i].MeanExitLayer) / (front[i + 1].MeanExitLayer - front[i].MeanExitLayer);
                return front[i].Metric + (t * (front[i + 1].Metric - front[i].Metric));
            }
        }

        return front[^1].Metric; // deeper than the front's last point: its best metric holds
    }
}
