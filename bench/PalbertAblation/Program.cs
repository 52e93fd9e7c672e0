// Why does (or doesn't) PALBERT's halting head decide per row? Each configuration fine-tunes the
// pretrained backbone (all-MiniLM-L6-v2 by default) on an SST-2 training subset with the Ponder
// objective, changing one thing at a time (pooling, λ_p, β, KL direction, the λ-head's input and
// learning rate, shared or per-layer classifiers), records every layer's outputs on the dev set once,
// and replays every exit criterion on that record. It reports:
//   - accuracy at every fixed layer (can the early exits classify at all?);
//   - λ per layer: its mean and its spread across rows (a spread near 0 is a constant λ: no per-row decision);
//   - the Q-exit curve (q from 0.05 to 0.95), sampled exit, the expectation, and the patience and
//     entropy curves of the same model, compared at equal mean exit layer;
//   - under qexit:0.5: the exit-layer histogram, accuracy by exit layer, and the mean exit layer of rows
//     the full-depth model gets right and wrong (does exit depth follow difficulty?).
//
//   bash bench/palbert-ablation.sh                                  (the README's ablation; ~20 min on 2 cores)
//   dotnet run -c Release --project bench/PalbertAblation -- --rows 2000 --configs "base: beta0:beta=0"
//
// A configuration is NAME:key=value,key=value with keys prior, beta, kl (prior|halting), halting
// (concat|difference|linear|layer-attention), halting-lr, lr, heads (shared|per-layer), pooling (auto|cls|mean),
// confidence (true: the λ-head also reads the classifier's confidence), epochs. Writes <out>/palbert-ablation.{json,md}.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EarlyExit;
using EarlyExit.Devices;
using EarlyExit.Evaluation;
using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.Modeling;
using EarlyExit.Sweeps;
using EarlyExit.Training;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var settings = AblationSettings.Parse(args);
string shared = BenchSupport.FindShared("data/SST-2");
List<(string Text, int Label)> train = Sst2.Read(Path.Combine(shared, "data", "SST-2", "train.tsv"));
List<(string Text, int Label)> dev = Sst2.Read(Path.Combine(shared, "data", "SST-2", "dev.tsv"));
train = Sst2.Subsample(train, settings.Rows, settings.Seed);
Directory.CreateDirectory(settings.Out);
Console.WriteLine($"{settings.Backbone}: {train.Count} SST-2 training rows, {dev.Count} dev rows, {settings.Configs.Count} configurations.");

var results = new List<AblationResult>();
foreach (AblationConfig config in settings.Configs)
{
    var clock = Stopwatch.StartNew();
    using PretrainedEncoder backbone = PretrainedEncoder.LoadBackbone(settings.Backbone, new PretrainedEncoderOptions { Device = DeviceOption.Cpu, Seed = settings.Seed });
    using EarlyExitTextClassifier classifier = EarlyExitTextClassifier.Create(backbone, ["0", "1"], config.Heads(), 128, ExitCriterion.QExit(), settings.Seed);
    var examples = train.Select(r => new ClassificationExample(classifier.Encode(r.Text), r.Label)).ToList();
    ClassifierTrainer.Train(classifier.Model, examples, null, config.Training(settings), classifier.PadTokenId);
    double trainSeconds = clock.Elapsed.TotalSeconds;
    ClassificationRecord record = classifier.Record(dev.Select(r => (string?)r.Text).ToArray());
    AblationResult result = Analyse(config, record, dev.Select(r => r.Label).ToArray(), trainSeconds);
    results.Add(result);
    Console.WriteLine($"{config.Name,-14} full {result.FullAccuracy:0.000}  layers [{string.Join(" ", result.LayerAccuracy.Select(a => a.ToString("0.000")))}]  " +
        $"lambda mean [{string.Join(" ", result.LambdaMean.Select(a => a.ToString("0.00")))}] spread [{string.Join(" ", result.LambdaSpread.Select(a => a.ToString("0.00")))}]  " +
        $"qexit:0.5 {result.QExit05.Accuracy:0.000} at {result.QExit05.MeanExitLayer:0.00}  ({trainSeconds:0} s)");
    File.WriteAllText(Path.Combine(settings.Out, "palbert-ablation.json"),
        JsonSerializer.Serialize(new AblationReport(BenchSupport.Machine(), DateTime.UtcNow.ToString("yyyy-MM-dd"), settings.Backbone, train.Count, settings.Seed, results), new JsonSerializerOptions { WriteIndented = true }));
}

File.WriteAllText(Path.Combine(settings.Out, "palbert-ablation.md"), Markdown(results, settings, train.Count));
Console.WriteLine($"wrote {Path.Combine(settings.Out, "palbert-ablation.md")}");
return 0;

static AblationResult Analyse(AblationConfig config, ClassificationRecord record, int[] labels, double trainSeconds)
{
    int layers = record.Layers;
    CurvePoint Point(string criterion)
    {
        ClassificationPrediction[] predictions = record.Replay(ExitCriterion.Parse(criterion));
        ClassificationMetrics metrics = ClassificationMetrics.Compute(predictions.Select(p => p.PredictedClass).ToArray(), labels, predictions.Select(p => p.ExitLayer).ToArray(), record.Classes, layers, positiveClass: 1); // only accuracy is read
        return new CurvePoint(criterion, metrics.Accuracy, metrics.MeanExitLayer);
    }

    double full = Point("full").Accuracy;
    double[] layerAccuracy = Enumerable.Range(1, layers).Select(k => Point($"layer:{k}").Accuracy).ToArray();
    var lambdaMean = new double[layers];
    var lambdaSpread = new double[layers];
    if (record.HasHaltingHead)
    {
        for (int layer = 0; layer < layers; layer++)
        {
            double[] values = Enumerable.Range(0, record.Rows).Select(r => (double)record.Halting(r, layer)).ToArray();
            lambdaMean[layer] = values.Average();
            lambdaSpread[layer] = Math.Sqrt(values.Select(v => (v - lambdaMean[layer]) * (v - lambdaMean[layer])).Average());
        }
    }

    double[] qs = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];
    CurvePoint[] qexit = record.HasHaltingHead ? qs.Select(q => Point($"qexit:{q}")).ToArray() : [];
    CurvePoint[] patience = Enumerable.Range(1, layers - 1).Select(n => Point($"patience:{n}")).ToArray();
    CurvePoint[] entropy = new[] { 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9 }.Select(t => Point($"entropy:{t}")).ToArray();
    CurvePoint? sampled = record.HasHaltingHead ? Point("sampled:0") : null;
    CurvePoint? expectation = record.HasHaltingHead ? Point("expectation") : null;

    // Under qexit:0.5 (or full depth without a halting head): where rows exit, and whether depth follows difficulty.
    ClassificationPrediction[] at05 = record.Replay(record.HasHaltingHead ? ExitCriterion.QExit(0.5) : ExitCriterion.Full());
    ClassificationPrediction[] fullDepth = record.Replay(ExitCriterion.Full());
    int[] histogram = Enumerable.Range(1, layers).Select(k => at05.Count(p => p.ExitLayer == k)).ToArray();
    double?[] accuracyByExit = Enumerable.Range(1, layers).Select(k =>
    {
        int[] rows = Enumerable.Range(0, at05.Length).Where(r => at05[r].ExitLayer == k).ToArray();
        return rows.Length == 0 ? (double?)null : rows.Average(r => at05[r].PredictedClass == labels[r] ? 1.0 : 0.0);
    }).ToArray();
    double MeanExit(bool correct) => Enumerable.Range(0, at05.Length).Where(r => (fullDepth[r].PredictedClass == labels[r]) == correct).Select(r => (double)at05[r].ExitLayer).DefaultIfEmpty(double.NaN).Average();
    return new AblationResult(config.Name, config.Description, full, layerAccuracy, lambdaMean, lambdaSpread, qexit, sampled, expectation, patience, entropy,
        record.HasHaltingHead ? Point("qexit:0.5") : Point("full"), histogram, accuracyByExit, MeanExit(correct: true), MeanExit(correct: false), trainSeconds);
}

static string Markdown(List<AblationResult> results, AblationSettings settings, int rows)
{
    var text = new StringBuilder();
    text.AppendLine($"Measured {DateTime.UtcNow:yyyy-MM-dd} on {BenchSupport.Machine()}; backbone {settings.Backbone}; {rows} SST-2 training rows, seed {settings.Seed}; SST-2 dev (872 rows). " +
        $"Command: `{settings.Command}`.");
    text.AppendLine();
    text.AppendLine("| config | change | full | accuracy at layer 1..L | λ mean per layer | λ spread across rows | qexit:0.5 (acc @ mean exit) | best Q-exit within 0.01 | best patience within 0.01 | best entropy within 0.01 | sampled |");
    text.AppendLine("| --- | --- | ---: | --- | --- | --- | --- | --- | --- | --- | --- |");
    foreach (AblationResult r in results)
    {
        text.AppendLine($"| {r.Name} | {r.Description} | {r.FullAccuracy:0.000} | {Join(r.LayerAccuracy, "0.000")} | {Join(r.LambdaMean, "0.00")} | {Join(r.LambdaSpread, "0.00")} | " +
            $"{r.QExit05.Accuracy:0.000} @ {r.QExit05.MeanExitLayer:0.00} | {Best(r.QExit, r.FullAccuracy)} | {Best(r.Patience, r.FullAccuracy)} | {Best(r.Entropy, r.FullAccuracy)} | " +
            $"{(r.Sampled is { } s ? $"{s.Accuracy:0.000} @ {s.MeanExitLayer:0.00}" : "–")} |");
    }

    text.AppendLine();
    text.AppendLine("Where rows exit under qexit:0.5, and whether depth follows difficulty:");
    text.AppendLine();
    text.AppendLine("| config | exit-layer histogram (layer 1..L) | accuracy by exit layer | mean exit, rows full depth gets right | mean exit, rows it gets wrong |");
    text.AppendLine("| --- | --- | --- | ---: | ---: |");
    foreach (AblationResult r in results)
    {
        text.AppendLine($"| {r.Name} | {string.Join(" ", r.QExitHistogram)} | {string.Join(" ", r.AccuracyByExitLayer.Select(a => a is double v ? v.ToString("0.00") : "–"))} | {r.MeanExitCorrect:0.00} | {r.MeanExitWrong:0.00} |");
    }

    return text.ToString();

    static string Join(double[] values, string format) => string.Join(" ", values.Select(v => v.ToString(format)));

    // The fastest point of a curve within 0.01 of full depth's accuracy.
    static string Best(CurvePoint[] curve, double full) =>
        curve.Where(p => p.Accuracy >= full - 0.01).OrderBy(p => p.MeanExitLayer).FirstOrDefault() is { } best
            ? $"`{best.Criterion}` {best.Accuracy:0.000} @ {best.MeanExitLayer:0.00}"
            : "–";
}

internal sealed record CurvePoint(string Criterion, double Accuracy, double MeanExitLayer);

internal sealed record AblationResult(
    string Name, string Description, double FullAccuracy, double[] LayerAccuracy, double[] LambdaMean, double[] LambdaSpread,
    CurvePoint[] QExit, CurvePoint? Sampled, CurvePoint? Expectation, CurvePoint[] Patience, CurvePoint[] Entropy,
    CurvePoint QExit05, int[] QExitHistogram, double?[] AccuracyByExitLayer, double MeanExitCorrect, double MeanExitWrong, double TrainSeconds);

internal sealed record AblationReport(string Machine, string Date, string Backbone, int TrainRows, int Seed, List<AblationResult> Results);

/// <summary>One configuration: PALBERT's defaults (as the library has them) with some values changed.</summary>
internal sealed record AblationConfig(string Name, IReadOnlyDictionary<string, string> Changes)
{
    public string Description => Changes.Count == 0 ? "library defaults" : string.Join(", ", Changes.Select(c => $"{c.Key}={c.Value}"));

    public static AblationConfig Parse(string text)
    {
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        string name = colon < 0 ? text : text[..colon];
        string body = colon < 0 ? "" : text[(colon + 1)..];
        var changes = body.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => p[0], p => p.Length == 2 ? p[1] : throw new FormatException($"'{text}': '{p[0]}' needs =value."), StringComparer.Ordinal);
        string[] known = ["prior", "beta", "kl", "halting", "halting-lr", "lr", "heads", "pooling", "confidence", "epochs"];
        if (changes.Keys.FirstOrDefault(k => !known.Contains(k)) is string unknown)
        {
            throw new FormatException($"'{text}': unknown key '{unknown}'; keys: {string.Join(", ", known)}.");
        }

        return new AblationConfig(name, changes);
    }

    public EarlyExitNetworkConfig Heads() => new()
    {
        NumLabels = 2,
        Halting = Get("halting") switch { null or "concat" => HaltingVariant.Concat, "difference" => HaltingVariant.Difference, "linear" => HaltingVariant.Linear, "layer-attention" => HaltingVariant.LayerAttention, var v => throw Bad("halting", v) },
        Heads = Get("heads") switch { null or "shared" => ClassifierHeads.Shared, "per-layer" => ClassifierHeads.PerLayer, var v => throw Bad("heads", v) },
        Pooling = Get("pooling") switch { null or "auto" => HeadPooling.Auto, "cls" => HeadPooling.Cls, "mean" => HeadPooling.Mean, var v => throw Bad("pooling", v) },
        HaltingReadsConfidence = Get("confidence") switch { null or "false" => false, "true" => true, var v => throw Bad("confidence", v) },
    };

    public ClassifierTrainingOptions Training(AblationSettings settings)
    {
        var options = new ClassifierTrainingOptions { Epochs = settings.Epochs, LearningRate = settings.LearningRate, Seed = settings.Seed, Objective = TrainingObjective.Ponder };
        options.PriorLambda = Number("prior") ?? options.PriorLambda;
        options.Beta = Number("beta") ?? options.Beta;
        options.HaltingLearningRate = Number("halting-lr") ?? options.HaltingLearningRate;
        options.LearningRate = Number("lr") ?? options.LearningRate;
        options.Epochs = (int?)Number("epochs") ?? options.Epochs;
        options.KlDirection = Get("kl") switch { null => options.KlDirection, "prior" => KlDirection.PriorToHalting, "halting" => KlDirection.HaltingToPrior, var v => throw Bad("kl", v) };
        return options;
    }

    private string? Get(string key) => Changes.GetValueOrDefault(key);

    private double? Number(string key) => Get(key) is string v ? double.Parse(v, CultureInfo.InvariantCulture) : null;

    private FormatException Bad(string key, string value) => new($"Configuration '{Name}': {key}={value} is not known.");
}

internal sealed record AblationSettings(string Backbone, int Rows, int Epochs, double LearningRate, int Seed, string Out, IReadOnlyList<AblationConfig> Configs, string Command)
{
    public static AblationSettings Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            values[args[i].TrimStart('-')] = args[i + 1];
        }

        string configs = values.GetValueOrDefault("configs") ?? "base:";
        return new AblationSettings(
            values.GetValueOrDefault("backbone") ?? "minilm",
            int.Parse(values.GetValueOrDefault("rows") ?? "4000", CultureInfo.InvariantCulture),
            int.Parse(values.GetValueOrDefault("epochs") ?? "1", CultureInfo.InvariantCulture),
            double.Parse(values.GetValueOrDefault("lr") ?? "1e-4", CultureInfo.InvariantCulture),
            int.Parse(values.GetValueOrDefault("seed") ?? "42", CultureInfo.InvariantCulture),
            values.GetValueOrDefault("out") ?? Path.Combine("bench", "results"),
            configs.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(AblationConfig.Parse).ToArray(),
            values.GetValueOrDefault("command") ?? "bash bench/palbert-ablation.sh"); // what the report names as its command
    }
}

/// <summary>GLUE SST-2's TSV: a header, then sentence TAB label.</summary>
internal static class Sst2
{
    public static List<(string Text, int Label)> Read(string path) => File.ReadLines(path).Skip(1)
        .Select((line, i) => line.Split('\t') is [string text, string label] ? (text, int.Parse(label, CultureInfo.InvariantCulture)) : throw new InvalidDataException($"{path}:{i + 2} is not 'sentence<TAB>label'."))
        .ToList();

    public static List<(string Text, int Label)> Subsample(List<(string Text, int Label)> rows, int count, int seed)
    {
        if (count <= 0 || count >= rows.Count)
        {
            return rows;
        }

        int[] order = Enumerable.Range(0, rows.Count).ToArray();
        new Random(seed).Shuffle(order);
        return order.Take(count).Order().Select(i => rows[i]).ToList();
    }
}
