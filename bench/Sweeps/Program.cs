// Threshold sweeps on SST-2 and CoNLL-2003, from models fine-tuned from the pretrained
// all-MiniLM-L6-v2 (6 layers, hidden 384):
//
// - SST-2: three classifiers (PALBERT, PonderNet, PABEE; fine-tuned on a sample of SST-2's train.tsv
//   minus a held-out validation split). Each is swept on the validation split, the
//   fastest setting within 1 accuracy point of full depth is chosen there, and it is reported on the
//   GLUE dev set (which the choice never saw) next to full depth, with measured rows/s.
// - CoNLL-2003: the labeller bench/conll-ner.sh trains (kept in bench/out/conll-ner.zip), swept on
//   dev, the fastest setting within 0.5 F1 points chosen there, reported on test.
// - Every sweep: its settings' metrics from one recorded full-depth pass, the Pareto front timed with
//   real passes, the oracle bounds, and what the sweep cost in full-depth passes.
//
//   bash bench/sweeps.sh      (about 10 minutes on 2 CPU cores; models are kept in bench/out/)
//   bash bench/sweeps.sh --train-only true     (only trains the SST-2 models; then rerun to measure)
//   --methods PALBERT,conll   only these SST-2 methods (and CoNLL when named); --grid '...' replaces every
//   SST-2 method's grid; --train-rows N, --models DIR, --out DIR: a model trained on other data, kept apart
//
// Writes bench/results/sweeps.md (the README's tables), sweeps.json, and PNG plots and CSV frames in
// bench/results/sweeps/ (under --out DIR instead of bench/results when given).
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EarlyExit.ExitCriteria;
using EarlyExit.MLNet;
using EarlyExit.MLNet.Palbert;
using EarlyExit.MLNet.Sweeps;
using EarlyExit.MLNet.TokenEarlyExitNer;
using EarlyExit.Modeling;
using EarlyExit.Sequence;
using EarlyExit.Sweeps;
using EarlyExit.Training;
using Microsoft.Data.Analysis;
using Microsoft.ML;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var settings = Settings.Parse(args);
string shared = BenchSupport.FindShared("data/SST-2");
string plots = Path.Combine(settings.Out, "sweeps");
Directory.CreateDirectory(plots);
Directory.CreateDirectory(settings.Models);
var report = new StringBuilder();
var json = new List<object>();
report.AppendLine($"Measured {DateTime.UtcNow:yyyy-MM-dd} on {BenchSupport.Machine()}; models fine-tuned from {settings.Backbone}; " +
    $"SST-2: {settings.TrainRows} training rows, {settings.Epochs} epoch(s); seed {settings.Seed}. Command: `bash bench/sweeps.sh{(args.Length == 0 ? "" : " " + string.Join(' ', args.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"'{a}'" : a)))}`.");
report.AppendLine();

// ---- SST-2 ----
var ml = new MLContext(seed: settings.Seed);
Row[] all = ReadSst2(Path.Combine(shared, "data", "SST-2", "train.tsv")).ToArray();
new Random(settings.Seed).Shuffle(all);
List<Row> valid = all.Take(settings.ValidRows).ToList();
List<Row> train = all.Skip(settings.ValidRows).Take(settings.TrainRows).ToList();
List<Row> dev = ReadSst2(Path.Combine(shared, "data", "SST-2", "dev.tsv"));
Console.WriteLine($"SST-2: {train.Count} training rows, {valid.Count} validation rows (held out of train.tsv), {dev.Count} dev rows");

foreach (Method method in Method.All.Where(m => settings.Methods is null || settings.Methods.Contains(m.Name, StringComparer.OrdinalIgnoreCase)))
{
    string modelPath = Path.Combine(settings.Models, $"sst2-{method.Name.ToLowerInvariant()}.zip");
    ITransformer model = LoadOrTrain(ml, modelPath, () => ml.Transforms.Conversion.MapValueToKey(nameof(Row.Label))
        .Append(ml.MulticlassClassification.Trainers.Palbert(method.Options(settings, shared)))
        .Fit(ml.Data.LoadFromEnumerable(train)));
    ITransformer[] stages = ((IEnumerable<ITransformer>)model).ToArray();
    var palbert = stages.OfType<PalbertTransformer>().Single();
    if (settings.TrainOnly)
    {
        palbert.Dispose();
        continue;
    }

    IDataView keyedValid = stages[0].Transform(ml.Data.LoadFromEnumerable(valid));
    IDataView keyedDev = stages[0].Transform(ml.Data.LoadFromEnumerable(dev));
    IReadOnlyList<ExitCriterion> grid = ExitGrid.Parse(settings.Grid ?? method.Grid);

    palbert.Sweep(ml.Data.TakeRows(keyedDev, 64), ExitGrid.Parse("full"), measureSpeed: true); // warm up
    ExitSweep onValid = palbert.Sweep(keyedValid, grid, measureSpeed: false);
    SweepSetting chosen = onValid.FastestWithin(0.01) ?? onValid.FullDepth;
    ExitSweep onDev = palbert.Sweep(keyedDev, grid);
    SweepSetting chosenOnDev = onDev.Settings.Single(s => s.Criterion == chosen.Criterion);
    double chosenRowsPerSecond = chosenOnDev.RowsPerSecond ?? RowsPerSecond(palbert.WithExitCriterion(chosen), keyedDev, dev.Count);

    string name = $"sst2-{method.Name.ToLowerInvariant()}";
    DataFrame.SaveCsv(onDev.ToDataFrame(), Path.Combine(plots, $"{name}.csv"));
    onDev.SaveTradeOff(Path.Combine(plots, $"{name}-tradeoff.png"), $"SST-2 dev, {method.Name} (all-MiniLM-L6-v2): accuracy against layer speed-up");
    onDev.SaveExitHistogram(chosen.Criterion, Path.Combine(plots, $"{name}-exits.png"));
    onDev.SaveExitLayerByGroup(["full", chosen.Criterion, "oracle:agree"], Path.Combine(plots, $"{name}-by-class.png"));

    Section(report, $"SST-2, {method.Name} model: {onDev.Timings.Settings} settings (`{settings.Grid ?? method.Grid}`)", onDev, "accuracy", "rows/s",
        $"Chosen on the validation split (fastest within 0.01 accuracy of full depth there): `{chosen.Criterion}`. " +
        $"On dev: accuracy {chosenOnDev.Metric:0.000} vs {onDev.FullDepth.Metric:0.000} at full depth, {chosenOnDev.LayerSpeedup:0.00}x fewer layers, " +
        $"{chosenRowsPerSecond:0} vs {onDev.FullDepth.RowsPerSecond:0} rows/s.",
        $"sweeps/{name}-tradeoff.png");
    json.Add(new { Task = "sst2", method.Name, Grid = settings.Grid ?? method.Grid, Chosen = chosen.Criterion, ChosenOnDev = chosenOnDev, ChosenRowsPerSecond = chosenRowsPerSecond, onDev.Timings, Settings = onDev.Settings });
    Console.WriteLine($"{name}: chose {chosen.Criterion}; dev {chosenOnDev}; sweep cost {onDev.Timings.CostRatio:0.00} full passes");
    palbert.Dispose();
}

if (settings.TrainOnly)
{
    Console.WriteLine("--train-only: models are in place; run again without it to sweep.");
    return 0;
}

// ---- CoNLL-2003 ----
// (skipped when --methods names only SST-2 methods)
if (settings.Methods is null || settings.Methods.Contains("conll", StringComparer.OrdinalIgnoreCase))
{
    string nerPath = Path.Combine(settings.Models, "conll-ner.zip");
    if (!File.Exists(nerPath))
    {
        throw new FileNotFoundException($"{nerPath} is missing: run bash bench/conll-ner.sh first (it trains the labeller and keeps it there).");
    }

    ITransformer nerModel = ml.Model.Load(nerPath, out _);
    ITransformer[] nerStages = ((IEnumerable<ITransformer>)nerModel).ToArray();
    var ner = nerStages.OfType<TokenEarlyExitNerTransformer>().Single();
    IDataView conllDev = nerStages[0].Transform(ml.Data.LoadFromConllFile(Path.Combine(shared, "data", "conll2003", "valid.txt"), convertTo: TagScheme.Iob2));
    IDataView conllTest = nerStages[0].Transform(ml.Data.LoadFromConllFile(Path.Combine(shared, "data", "conll2003", "test.txt"), convertTo: TagScheme.Iob2));
    IReadOnlyList<TokenExitCriterion> tokenGrid = ExitGrid.DefaultTokens(ner.NumLayers);
    ner.Sweep(ml.Data.TakeRows(conllDev, 64), ExitGrid.ParseTokens("full"), measureSpeed: true); // warm up
    ExitSweep nerDev = ner.Sweep(conllDev, tokenGrid);
    SweepSetting nerChosen = nerDev.FastestWithin(0.005) ?? nerDev.FullDepth;
    ExitSweep nerTest = ner.Sweep(conllTest, [TokenExitCriterion.Full(), TokenExitCriterion.Parse(nerChosen.Criterion)], measureSpeed: false);
    (NerMetrics testMetrics, double testRate) = Ner(ner.WithExitCriterion(nerChosen), conllTest);
    (NerMetrics testFull, double testFullRate) = Ner(ner.WithExitCriterion(TokenExitCriterion.Full()), conllTest);

    DataFrame.SaveCsv(nerDev.ToDataFrame(), Path.Combine(plots, "conll-ner.csv"));
    nerDev.SaveTradeOff(Path.Combine(plots, "conll-ner-tradeoff.png"), "CoNLL-2003 dev (all-MiniLM-L6-v2): entity F1 against token-layer speed-up");
    nerDev.SaveExitHistogram(nerChosen.Criterion, Path.Combine(plots, "conll-ner-exits.png"));
    // Which words TOKEE lets go early: the most accurate TOKEE setting a real pass confirmed on the front.
    string? tokee = nerDev.ParetoFront.Where(s => s.Kind == "tokee" && s.MeasuredMetric is not null).MaxBy(s => s.MeasuredMetric)?.Criterion;
    nerDev.SaveExitLayerByGroup(new[] { "full", nerChosen.Criterion, tokee, "oracle:agree" }.OfType<string>().Distinct().ToArray(), Path.Combine(plots, "conll-ner-by-entity.png"));
    Section(report, $"CoNLL-2003 dev, token-level exit: {nerDev.Timings.Settings} settings (the default grid)", nerDev, "entity F1", "sentences/s",
        $"Chosen on dev (fastest within 0.005 F1 of full depth, using the real passes' F1 on the front): `{nerChosen.Criterion}`. " +
        $"On test: F1 {testMetrics.Entities.Overall.F1:0.000} vs {testFull.Entities.Overall.F1:0.000} at full depth, {testMetrics.TokenLayerSpeedup:0.00}x fewer token-layers, " +
        $"{testRate:0} vs {testFullRate:0} sentences/s (the replay on test estimated F1 {nerTest.Settings.Single(s => s.Criterion == nerChosen.Criterion).Metric:0.000}).",
        "sweeps/conll-ner-tradeoff.png");
    json.Add(new { Task = "conll2003", Chosen = nerChosen.Criterion, TestF1 = testMetrics.Entities.Overall.F1, TestFullF1 = testFull.Entities.Overall.F1, TestSentencesPerSecond = testRate,
        TestFullSentencesPerSecond = testFullRate, nerDev.Timings, Settings = nerDev.Settings });
    Console.WriteLine($"conll: chose {nerChosen.Criterion}; test F1 {testMetrics.Entities.Overall.F1:0.000} vs {testFull.Entities.Overall.F1:0.000}; {testRate:0} vs {testFullRate:0} sentences/s");
}

File.WriteAllText(Path.Combine(settings.Out, "sweeps.md"), report.ToString());
File.WriteAllText(Path.Combine(settings.Out, "sweeps.json"), JsonSerializer.Serialize(new { Machine = BenchSupport.Machine(), settings, Sweeps = json }, new JsonSerializerOptions { WriteIndented = true }));
Console.WriteLine($"done: {Path.Combine(settings.Out, "sweeps.md")}");
return 0;

static ITransformer LoadOrTrain(MLContext ml, string path, Func<ITransformer> train)
{
    if (File.Exists(path))
    {
        Console.WriteLine($"loaded {path} (delete it to retrain)");
        return ml.Model.Load(path, out _);
    }

    var clock = Stopwatch.StartNew();
    ITransformer model = train();
    ml.Model.Save(model, null, path);
    Console.WriteLine($"trained {path} in {clock.Elapsed.TotalSeconds:0} s");
    return model;
}

static double RowsPerSecond(PalbertTransformer scorer, IDataView keyed, int rows)
{
    var clock = Stopwatch.StartNew();
    IDataView scored = scorer.Transform(keyed);
    using var cursor = scored.GetRowCursor(scored.Schema.Where(c => c.Name == "ExitLayer"));
    ValueGetter<int> exitLayer = cursor.GetGetter<int>(scored.Schema["ExitLayer"]); // scoring is lazy: only reading a score scores
    int layer = 0;
    while (cursor.MoveNext())
    {
        exitLayer(ref layer);
    }

    scorer.Dispose();
    return rows / clock.Elapsed.TotalSeconds;
}

static (NerMetrics Metrics, double SentencesPerSecond) Ner(TokenEarlyExitNerTransformer labeller, IDataView keyed)
{
    var clock = Stopwatch.StartNew();
    NerMetrics metrics = NerEvaluation.Evaluate(labeller.Transform(keyed), labeller.NumLayers);
    double seconds = clock.Elapsed.TotalSeconds;
    labeller.Dispose();
    return (metrics, metrics.Entities.SentenceCount / seconds);
}

static void Section(StringBuilder report, string title, ExitSweep sweep, string metric, string rate, string choice, string plot)
{
    report.AppendLine($"#### {title}");
    report.AppendLine();
    report.AppendLine($"Sweep cost: one recording pass {sweep.Timings.RecordSeconds:0.0} s + replaying every setting {sweep.Timings.ReplaySeconds:0.00} s, " +
        $"against {sweep.Timings.FullDepthSeconds:0.0} s for one plain full-depth pass: **{sweep.Timings.CostRatio:0.00} full-depth passes** for the whole sweep.");
    report.AppendLine();
    report.AppendLine($"| setting | {metric} | mean exit layer | layer speed-up | {rate} (real pass) |");
    report.AppendLine("| --- | ---: | ---: | ---: | ---: |");
    foreach (SweepSetting s in sweep.Settings.Where(s => s.OnParetoFront || s.Criterion == "full" || s.IsOracle).OrderBy(s => s.IsOracle).ThenBy(s => s.LayerSpeedup))
    {
        string measured = s.MeasuredMetric is double m && Math.Abs(m - s.Metric) > 1e-12 ? $" (real {m:0.000})" : "";
        report.AppendLine($"| `{s.Criterion}`{(s.OnParetoFront ? " (front)" : "")} | {s.Metric:0.000}{measured} | {s.MeanExitLayer:0.00} | {s.LayerSpeedup:0.00}x | {(s.RowsPerSecond is double r ? r.ToString("0") : "")} |");
    }

    report.AppendLine();
    report.AppendLine(choice);
    report.AppendLine();
    report.AppendLine($"![{title}]({plot})");
    report.AppendLine();
}

static List<Row> ReadSst2(string path) => File.ReadLines(path).Skip(1).Select(l => l.Split('\t')).Select(f => new Row { Sentence1 = f[0], Label = f[1] }).ToList();


internal sealed record Settings(int TrainRows, int ValidRows, int Epochs, int Seed, string Out, string Models, bool TrainOnly, string Backbone, string[]? Methods, string? Grid)
{
    public static Settings Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            values[args[i].TrimStart('-')] = args[i + 1];
        }

        return new Settings(
            int.Parse(values.GetValueOrDefault("train-rows") ?? "8000", CultureInfo.InvariantCulture),
            int.Parse(values.GetValueOrDefault("valid-rows") ?? "2000", CultureInfo.InvariantCulture),
            int.Parse(values.GetValueOrDefault("epochs") ?? "1", CultureInfo.InvariantCulture),
            int.Parse(values.GetValueOrDefault("seed") ?? "42", CultureInfo.InvariantCulture),
            values.GetValueOrDefault("out") ?? Path.Combine("bench", "results"),
            values.GetValueOrDefault("models") ?? Path.Combine("bench", "out"),
            values.GetValueOrDefault("train-only") == "true",
            values.GetValueOrDefault("backbone") ?? "sentence-transformers/all-MiniLM-L6-v2",
            values.GetValueOrDefault("methods")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            values.GetValueOrDefault("grid"));
    }
}

/// <summary>An SST-2 row.</summary>
internal sealed class Row
{
    public string Sentence1 { get; set; } = "";

    public string Label { get; set; } = "";
}

/// <summary>A trained classifier and the grid swept on it.</summary>
internal sealed record Method(string Name, TrainingObjective Objective, HaltingVariant Halting, ClassifierHeads Heads, string Grid)
{
    public static IReadOnlyList<Method> All { get; } =
    [
        new("PALBERT", TrainingObjective.Ponder, HaltingVariant.Concat, ClassifierHeads.Shared, "qexit:0.05..0.95/0.05 expectation entropy:0.05..0.95/0.05 patience:1..5"),
        new("PonderNet", TrainingObjective.Ponder, HaltingVariant.Linear, ClassifierHeads.Shared, "sampled:0,1,2 qexit:0.05..0.95/0.05"),
        new("PABEE", TrainingObjective.Pabee, HaltingVariant.None, ClassifierHeads.PerLayer, "patience:1..5 entropy:0.05..0.95/0.05 maxprob:0.5..0.95/0.05"),
    ];

    public PalbertTextClassificationTrainer.Options Options(Settings settings, string shared) => new()
    {
        Sentence1ColumnName = nameof(Row.Sentence1),
        Backbone = settings.Backbone,
        MaxSequenceLength = 128,
        BatchSize = 32,
        Epochs = settings.Epochs,
        LearningRate = 1e-4,
        Objective = Objective,
        Halting = Halting,
        Heads = Heads,
        ExitCriterion = ExitCriterion.Full(),
        Seed = settings.Seed,
        Device = EarlyExit.Devices.DeviceOption.Cpu,
    };
}
