// Token heads beyond the paper's on CoNLL-2003 (issue 14): labellers fine-tuned from the pretrained
// all-MiniLM-L6-v2 with the same settings and seed, differing in their heads (--variants, default all):
//   ner                   the entity tags alone, off-ramps reading their layer (the baseline)
//   tasks                 with auxiliary tasks too (part of speech after layer 1, chunks after layer 2: --tasks)
//   layer-attention       off-ramps reading a learned attention over the states of layers 1..i
//   difference-attention  off-ramps reading a learned attention over what each layer added
//   layer-attention-fast, difference-attention-fast
//                         the same, the pools at a learning rate of their own (--pool-learning-rate, default 1e-2)
//   words-K               layers K..6 on words: each word's pieces averaged into one position before layer K
// On dev and test it reports, per model and exit criterion:
//   - entity F1 (conlleval's rules) and the mean word exit layer;
//   - each auxiliary task's word accuracy at its layer, beside two references: the majority tag and
//     each word's most frequent training tag (unknown words: the majority tag);
//   - the mean exit layer of the words of each frequent part-of-speech class, under TOKEE, for both
//     models: does a model that settles part of speech low let those words stop earlier?
//
// With --time-passes N it also times labelling the dev sentences with each model (EarlyExitTokenClassifier.
// Predict, tokenization included) under full depth and TOKEE: N passes, the models taken in turn within each
// pass, the median per model, and its ratio to the first model's; and counts the positions the layers
// compute (tokens, or words after pooling).
//
//   bash bench/conll-heads.sh     (about 90 minutes on 2 CPU cores: five trainings, then scoring)
//   bash bench/word-pooling.sh    (words-K against NER alone, with timing)
//
// Writes <out>/<report>.json and <out>/<report>.md (the README tables; --report, default conll-heads). The
// models are kept in <models>/conll-heads-<variant>.zip; a second run with them only scores.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EarlyExit;
using EarlyExit.ExitCriteria;
using EarlyExit.MLNet;
using EarlyExit.MLNet.TokenEarlyExitNer;
using EarlyExit.Modeling;
using EarlyExit.Sequence;
using Microsoft.ML;
using Microsoft.ML.Data;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var settings = Settings.Parse(args);
string conll = Path.Combine(BenchSupport.FindShared("data/conll2003"), "data", "conll2003");
Directory.CreateDirectory(settings.Out);
string[] criteria = settings.Criteria.ToArray();
const string PosClassCriterion = "tokee:0.3:1";

var ml = new MLContext(seed: settings.Seed);
IDataView Load(string file) => ml.Data.LoadFromConllFile(Path.Combine(conll, file), convertTo: TagScheme.Iob2, otherColumns: ConllDataLoader.Conll2003Columns);
IDataView train = ml.Data.TakeRows(Load("train.txt"), settings.TrainSentences);
var splits = new[] { ("dev", Load("valid.txt")), ("test", Load("test.txt")) };
Baselines baselines = Baselines.From(train);

Variant[] allVariants =
[
    new Variant("ner", "NER alone", [], TokenOffRampInput.Layer),
    .. Enumerable.Range(1, 6).Select(k => new Variant($"words-{k}", $"words from layer {k}", [], TokenOffRampInput.Layer, k)),
    new Variant("tasks", $"NER + {string.Join(" + ", settings.Tasks.Select(t => $"{t.Column}@{t.Layer}"))}", settings.Tasks, TokenOffRampInput.Layer),
    new Variant("layer-attention", "layer attention", [], TokenOffRampInput.LayerAttention),
    new Variant("difference-attention", "difference attention", [], TokenOffRampInput.DifferenceAttention),
    new Variant("layer-attention-fast", $"layer attention, pools at {settings.PoolLearningRate:G3}", [], TokenOffRampInput.LayerAttention, PoolLearningRate: settings.PoolLearningRate),
    new Variant("difference-attention-fast", $"difference attention, pools at {settings.PoolLearningRate:G3}", [], TokenOffRampInput.DifferenceAttention, PoolLearningRate: settings.PoolLearningRate),
    new Variant("tasks-light", $"NER + {string.Join(" + ", settings.Tasks.Select(t => $"{t.Column}@{t.Layer}"))}, weights x{settings.LightFactor}",
        settings.Tasks.Select(t => t with { Weight = t.Weight * settings.LightFactor }).ToArray(), TokenOffRampInput.Layer),
];
Variant[] variants = settings.Variants.Select(key => allVariants.SingleOrDefault(v => v.Key == key)
    ?? throw new ArgumentException($"--variants: unknown '{key}'; use {string.Join(", ", allVariants.Select(v => v.Key))}.")).ToArray();

var results = new List<Result>();
var kept = new List<(Variant Variant, TokenEarlyExitNerTransformer Ner)>(); // for timing
var pools = new Dictionary<string, PoolSummary>(); // layer-attention variants: what the last pool learnt
var exitsByPos = new Dictionary<string, Dictionary<string, (long Words, double Mean)>>();
double[] trainSeconds = new double[variants.Length];
for (int v = 0; v < variants.Length; v++)
{
    Variant variant = variants[v];
    (ITransformer model, trainSeconds[v]) = TrainOrLoad(ml, train, variant, settings);
    ITransformer[] stages = ((IEnumerable<ITransformer>)model).ToArray();
    TokenEarlyExitNerTransformer ner = stages.OfType<TokenEarlyExitNerTransformer>().Single();
    if (variant.OffRampInput != TokenOffRampInput.Layer)
    {
        // What the last off-ramp's pool learnt: its bias's softmax over layers 1..6 (the query adds a per-token part) and the query's size.
        var parameters = ner.Classifier.Model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        string last = $"attention.{ner.NumLayers - 1}";
        float[] weights = parameters[last + ".bias"].softmax(0).data<float>().ToArray();
        float query = parameters[last + ".query"].norm().item<float>();
        pools[variant.Name] = new PoolSummary(weights, query);
        Console.WriteLine($"{variant.Name}: last pool's bias softmax {string.Join(" ", weights.Select(w => w.ToString("0.00")))}, |query| {query:0.00}");
    }

    foreach (var (split, data) in splits)
    {
        IDataView keyed = stages[0].Transform(data);
        foreach (string text in criteria)
        {
            using TokenEarlyExitNerTransformer scorer = ner.WithExitCriterion(TokenExitCriterion.Parse(text));
            List<Scored> rows = Score(stages[^1], scorer.Transform(keyed), data.GetColumn<string[]>("Label").ToArray(), variant.Tasks);
            EntityEvaluationResult entities = EntityEvaluation.Evaluate(rows.Select(r => (IReadOnlyList<string>)r.Gold).ToArray(), rows.Select(r => (IReadOnlyList<string>)r.Predicted).ToArray());
            double meanExit = rows.SelectMany(r => r.Exits).Average();
            var taskAccuracy = variant.Tasks.Select((t, i) => (t.Column, Accuracy(rows.Select(r => r.TaskGold[i]), rows.Select(r => r.TaskPredicted[i])))).ToDictionary(x => x.Column, x => x.Item2);
            results.Add(new Result(variant.Name, split, text, entities.Overall.F1, entities.Overall.Precision, entities.Overall.Recall, meanExit, ner.NumLayers / meanExit, taskAccuracy));
            Console.WriteLine($"{variant.Name,-28} {split,-4} {text,-12} F1 {entities.Overall.F1:0.000} mean exit {meanExit:0.00} " +
                string.Join(" ", taskAccuracy.Select(a => $"{a.Key} {a.Value:0.000}")));
            if (split == "dev" && text == PosClassCriterion && criteria.Contains(PosClassCriterion))
            {
                exitsByPos[variant.Name] = rows.SelectMany(r => r.PartOfSpeech.Zip(r.Exits)).GroupBy(p => p.First)
                    .ToDictionary(g => g.Key, g => ((long)g.Count(), g.Average(p => (double)p.Second)));
            }
        }
    }

    if (settings.TimePasses > 0)
    {
        kept.Add((variant, ner));
    }
    else
    {
        ner.Dispose();
    }

    // The report so far, rewritten after each model, so an interrupted run keeps what it measured.
    Variant[] done = variants[..(v + 1)];
    IReadOnlyList<BaselineRow> references = baselines.Summary(splits.Select(s => (s.Item1, s.Item2)).ToArray());
    WriteReport(done, references, timed: []);
}

// Timing: every model labels the dev sentences in turn, pass after pass (so slow spells of the machine fall on all).
var timings = new List<Timing>();
if (kept.Count > 0)
{
    IReadOnlyList<string>[] devWords = splits[0].Item2.GetColumn<string[]>("Tokens").Select(w => (IReadOnlyList<string>)w).ToArray();
    foreach (string text in settings.TimedCriteria)
    {
        var seconds = kept.ToDictionary(k => k.Variant.Key, _ => new List<double>());
        foreach (var (_, ner) in kept)
        {
            ner.Classifier.Predict(devWords.Take(64).ToArray(), TokenExitCriterion.Parse(text), 32); // warm-up
        }

        for (int pass = 0; pass < settings.TimePasses; pass++)
        {
            foreach (var (variant, ner) in kept)
            {
                var clock = Stopwatch.StartNew();
                ner.Classifier.Predict(devWords, TokenExitCriterion.Parse(text), 32);
                seconds[variant.Key].Add(clock.Elapsed.TotalSeconds);
            }
        }

        double baseline = Median(seconds[kept[0].Variant.Key]);
        foreach (var (variant, ner) in kept)
        {
            double median = Median(seconds[variant.Key]);
            (double tokens, double positions) = Positions(ner.Classifier, devWords, variant.WordPoolingLayer);
            timings.Add(new Timing(variant.Name, text, devWords.Length, seconds[variant.Key], median, baseline / median, tokens, positions));
            Console.WriteLine($"{variant.Name,-28} {text,-12} {median:0.00} s (median of {settings.TimePasses}), {baseline / median:0.00}x; positions per layer {positions:0.0} of {tokens:0.0} tokens");
        }
    }

    WriteReport(variants, baselines.Summary(splits.Select(s => (s.Item1, s.Item2)).ToArray()), timings);
    foreach (var (_, ner) in kept)
    {
        ner.Dispose();
    }
}

Console.WriteLine($"done: {Path.Combine(settings.Out, settings.Report + ".md")}");
return 0;

void WriteReport(Variant[] done, IReadOnlyList<BaselineRow> references, IReadOnlyList<Timing> timed)
{
    var report = new { Machine = BenchSupport.Machine(), Settings = settings, TrainSeconds = trainSeconds[..done.Length], Baselines = references, Results = results, ExitsByPartOfSpeech = exitsByPos, Timings = timed, Pools = pools };
    File.WriteAllText(Path.Combine(settings.Out, settings.Report + ".json"), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
    File.WriteAllText(Path.Combine(settings.Out, settings.Report + ".md"), Markdown(results, exitsByPos, references, done, settings, trainSeconds, timed, pools));
}

static double Median(List<double> values)
{
    double[] sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}

// Mean tokens per sentence (up to the model's length), and mean positions each layer computes at full depth: tokens before the pooling layer, units (words and special tokens) from it.
static (double Tokens, double Positions) Positions(EarlyExitTokenClassifier classifier, IReadOnlyList<string>[] sentences, int wordPoolingLayer)
{
    var chunks = sentences.Select(s => classifier.Tokenizer.EncodeWords(s, classifier.MaxSequenceLength).WordIds!).ToArray();
    double tokens = chunks.Average(ids => ids.Length);
    double units = chunks.Average(ids => ids.Where((id, t) => id < 0 || t == 0 || ids[t - 1] != id).Count());
    int layers = classifier.NumLayers;
    double positions = wordPoolingLayer == 0 ? tokens : (((wordPoolingLayer - 1) * tokens) + ((layers - wordPoolingLayer + 1) * units)) / layers;
    return (tokens, positions);
}

static (ITransformer Model, double Seconds) TrainOrLoad(MLContext ml, IDataView train, Variant variant, Settings settings)
{
    string path = Path.Combine(settings.Models, $"conll-heads-{variant.Key}.zip");
    string timeFile = path + ".train-seconds";
    // What the model was trained with, kept beside it: a kept model trained otherwise is refused, so its
    // figures never appear under this run's settings.
    // Settings a variant does not use are left out, so models kept from before they existed still match.
    var described = new Dictionary<string, object>
    {
        ["TrainSentences"] = settings.TrainSentences,
        ["Epochs"] = settings.Epochs,
        ["Seed"] = settings.Seed,
        ["Backbone"] = settings.Backbone,
        ["Tasks"] = variant.Tasks,
        ["OffRampInput"] = variant.OffRampInput.ToString(),
    };
    if (variant.WordPoolingLayer != 0)
    {
        described["WordPoolingLayer"] = variant.WordPoolingLayer;
    }

    if (variant.PoolLearningRate is double poolRate)
    {
        described["PoolLearningRate"] = poolRate;
    }

    string trainedWith = JsonSerializer.Serialize(described);
    string settingsFile = path + ".settings.json";
    if (File.Exists(path))
    {
        string kept = File.Exists(settingsFile) ? File.ReadAllText(settingsFile) : "(none)";
        if (kept != trainedWith)
        {
            throw new InvalidOperationException($"{path} was trained with {kept}, this run asks for {trainedWith}; delete it (and its .train-seconds and .settings.json) to retrain.");
        }

        double seconds = double.Parse(File.ReadAllText(timeFile), CultureInfo.InvariantCulture);
        Console.WriteLine($"loaded {path} (trained in {seconds:0} s); delete it to retrain");
        return (ml.Model.Load(path, out _), seconds);
    }

    var options = new TokenEarlyExitNerTrainer.Options
    {
        Backbone = settings.Backbone,
        Epochs = settings.Epochs,
        SelfSamplingEpochs = 1,
        BatchSize = 32,
        LearningRate = 1e-4,
        MaxSequenceLength = 128,
        ExitCriterion = TokenExitCriterion.Full(),
        Seed = settings.Seed,
        Device = EarlyExit.Devices.DeviceOption.Cpu,
        AuxiliaryTasks = variant.Tasks.Select(t => new TokenAuxiliaryTask(Key(t.Column), t.Layer, t.Weight, Predicted(t.Column))).ToList(),
        OffRampInput = variant.OffRampInput,
        WordPoolingLayer = variant.WordPoolingLayer,
        LayerAttentionLearningRate = variant.PoolLearningRate,
    };
    var clock = Stopwatch.StartNew();
    IEstimator<ITransformer> keys = ml.Transforms.Conversion.MapValueToKey("Label");
    foreach (string column in ConllDataLoader.Conll2003Columns.Keys)
    {
        keys = keys.Append(ml.Transforms.Conversion.MapValueToKey(Key(column), column));
    }

    IEstimator<ITransformer> toValues = variant.Tasks.Aggregate((IEstimator<ITransformer>)ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"),
        (chain, t) => chain.Append(ml.Transforms.Conversion.MapKeyToValue(Predicted(t.Column))));
    ITransformer model = keys.Append(ml.MulticlassClassification.Trainers.TokenEarlyExitNer(options)).Append(toValues).Fit(train);
    double trained = clock.Elapsed.TotalSeconds;
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    ml.Model.Save(model, train.Schema, path);
    File.WriteAllText(timeFile, trained.ToString("R", CultureInfo.InvariantCulture));
    File.WriteAllText(settingsFile, trainedWith);
    Console.WriteLine($"{variant.Name}: trained in {trained:0} s; saved {path}");
    return (model, trained);
}

// One pass over the labelled rows (the lazy view scores as it is read), through the fitted key-to-value stage.
static List<Scored> Score(ITransformer toValues, IDataView labelled, string[][] gold, IReadOnlyList<TaskSpec> tasks)
{
    IDataView view = toValues.Transform(labelled);
    string[] taskColumns = tasks.SelectMany(t => new[] { t.Column, Predicted(t.Column) }).ToArray();
    DataViewSchema.Column[] columns = new[] { "PredictedLabel", "PartOfSpeech" }.Concat(taskColumns).Select(c => view.Schema[c]).Append(view.Schema["TokenExitLayers"]).ToArray();
    var rows = new List<Scored>();
    using DataViewRowCursor cursor = view.GetRowCursor(columns);
    Func<string[]>[] text = columns[..^1].Select(c => Strings(cursor, c)).ToArray();
    ValueGetter<VBuffer<int>> exits = cursor.GetGetter<VBuffer<int>>(columns[^1]);
    VBuffer<int> exitValues = default;
    while (cursor.MoveNext())
    {
        string[][] values = text.Select(read => read()).ToArray();
        exits(ref exitValues);
        rows.Add(new Scored(gold[rows.Count], values[0], values[1], exitValues.DenseValues().ToArray(),
            Enumerable.Range(0, tasks.Count).Select(i => values[2 + (2 * i)]).ToArray(), Enumerable.Range(0, tasks.Count).Select(i => values[3 + (2 * i)]).ToArray()));
    }

    return rows;
}

static Func<string[]> Strings(DataViewRow row, DataViewSchema.Column column)
{
    ValueGetter<VBuffer<ReadOnlyMemory<char>>> getter = row.GetGetter<VBuffer<ReadOnlyMemory<char>>>(column);
    VBuffer<ReadOnlyMemory<char>> value = default;
    return () =>
    {
        getter(ref value);
        return value.DenseValues().Select(v => v.ToString()).ToArray();
    };
}

static double Accuracy(IEnumerable<string[]> gold, IEnumerable<string[]> predicted)
{
    var pairs = gold.Zip(predicted).SelectMany(p => p.First.Zip(p.Second)).ToArray();
    return pairs.Count(p => p.First == p.Second) / (double)pairs.Length;
}

static string Key(string column) => column + "Key";

static string Predicted(string column) => "Predicted" + column;

static string Markdown(List<Result> results, Dictionary<string, Dictionary<string, (long Words, double Mean)>> exitsByPos, IReadOnlyList<BaselineRow> baselines, Variant[] variants, Settings settings, double[] trainSeconds,
    IReadOnlyList<Timing> timings, IReadOnlyDictionary<string, PoolSummary> pools)
{
    var text = new StringBuilder();
    string[] taskNames = variants.SelectMany(v => v.Tasks).Select(t => t.Column).Distinct().ToArray();
    text.AppendLine($"Measured {DateTime.UtcNow:yyyy-MM-dd} on {BenchSupport.Machine()}; {settings.Backbone} fine-tuned (pretrained, 6 layers, hidden 384) {variants.Length} times with the same settings: " +
        $"{settings.TrainSentences} training sentences, {settings.Epochs} joint epoch(s) + 1 self-sampling epoch, batch 32, learning rate 1e-4, seed {settings.Seed} " +
        $"({string.Join(", ", variants.Select((v, i) => $"{v.Name}: {trainSeconds[i] / 60:0} min"))}). {(taskNames.Length == 0 ? "" : $"Task weights: {string.Join(", ", settings.Tasks.Select(t => $"{t.Column} {t.Weight}"))}. ")}" +
        "Entity F1 by conlleval's rules on IOB2 tags" +
        (taskNames.Length == 0 ? ". " : "; task accuracy per word, read at the task's layer (from a halted word's copied state under TOKEE; " +
            "a row that leaves the batch before that layer is read from the state it leaves with, so under `layer:1` the chunk head reads layer 1). ") +
        $"Command: `{settings.Command}`.");
    text.AppendLine();
    text.AppendLine($"| model | split | exit criterion | entity F1 | mean word exit layer | token-layer speed-up |{string.Concat(taskNames.Select(t => $" {t} accuracy |"))}");
    text.AppendLine($"| --- | --- | --- | ---: | ---: | ---: |{string.Concat(taskNames.Select(_ => " ---: |"))}");
    foreach (Result r in results)
    {
        text.AppendLine($"| {r.Model} | {r.Split} | `{r.Criterion}` | {r.F1:0.000} | {r.MeanTokenExitLayer:0.00} | {r.TokenLayerSpeedup:0.00}x |" +
            string.Concat(taskNames.Select(t => r.TaskAccuracy.TryGetValue(t, out double a) ? $" {a:0.000} |" : " |")));
    }

    if (pools.Count > 0)
    {
        text.AppendLine();
        text.AppendLine("What the last off-ramp's pool learnt: the softmax of its bias over layers 1..6 (each token's query score adds to it) and the size of its query (both start at zero, an even average).");
        text.AppendLine();
        text.AppendLine("| model | weights of layers 1..6 from the bias | query norm |");
        text.AppendLine("| --- | --- | ---: |");
        foreach (var (model, pool) in pools)
        {
            text.AppendLine($"| {model} | {string.Join(" ", pool.BiasSoftmax.Select(w => w.ToString("0.00", CultureInfo.InvariantCulture)))} | {pool.QueryNorm:0.00} |");
        }
    }

    if (timings.Count > 0)
    {
        text.AppendLine();
        text.AppendLine($"Time to label the {timings[0].Sentences} dev sentences (TorchSharp, CPU, batch 32, tokenization included): median of {settings.TimePasses} passes, the models in turn within each pass; " +
            $"speed-up against {variants[0].Name} in the same run. Positions per layer: the mean over layers of the positions each layer computes per sentence at full depth (tokens; words and special tokens once pooled).");
        text.AppendLine();
        text.AppendLine("| model | exit criterion | seconds (median) | speed-up | positions per layer | tokens per sentence |");
        text.AppendLine("| --- | --- | ---: | ---: | ---: | ---: |");
        foreach (Timing t in timings)
        {
            text.AppendLine($"| {t.Model} | `{t.Criterion}` | {t.MedianSeconds:0.00} | {t.Speedup:0.00}x | {t.Positions:0.0} | {t.Tokens:0.0} |");
        }
    }

    if (!exitsByPos.ContainsKey(variants[0].Name))
    {
        return text.ToString();
    }

    text.AppendLine();
    text.AppendLine("References for the task accuracies (no network): the majority tag, and each word's most frequent tag in the training sentences (unknown words: the majority tag).");
    text.AppendLine();
    text.AppendLine("| task | split | majority tag | accuracy | most frequent tag per word |");
    text.AppendLine("| --- | --- | --- | ---: | ---: |");
    foreach (BaselineRow b in baselines)
    {
        text.AppendLine($"| {b.Task} | {b.Split} | {b.Majority} | {b.MajorityAccuracy:0.000} | {b.PerWordAccuracy:0.000} |");
    }

    text.AppendLine();
    text.AppendLine($"Mean exit layer of dev words by gold part of speech under `{PosClassCriterion}` (the 15 most frequent classes):");
    text.AppendLine();
    text.AppendLine($"| part of speech | words |{string.Concat(variants.Select(v => $" {v.Name} |"))}");
    text.AppendLine($"| --- | ---: |{string.Concat(variants.Select(_ => " ---: |"))}");
    Dictionary<string, (long Words, double Mean)> first = exitsByPos[variants[0].Name];
    foreach (var (pos, (words, _)) in first.OrderByDescending(p => p.Value.Words).Take(15))
    {
        double[] means = variants.Select(v => exitsByPos[v.Name][pos].Mean).ToArray();
        text.AppendLine($"| {pos} | {words} |{string.Concat(means.Select(m => $" {m:0.00} |"))}");
    }

    return text.ToString();
}

internal sealed record TaskSpec(string Column, int Layer, double Weight);

internal sealed record Variant(string Key, string Name, IReadOnlyList<TaskSpec> Tasks, TokenOffRampInput OffRampInput, int WordPoolingLayer = 0, double? PoolLearningRate = null);

internal sealed record PoolSummary(float[] BiasSoftmax, float QueryNorm);

internal sealed record Timing(string Model, string Criterion, int Sentences, IReadOnlyList<double> Seconds, double MedianSeconds, double Speedup, double Tokens, double Positions);

internal sealed record Scored(string[] Gold, string[] Predicted, string[] PartOfSpeech, int[] Exits, string[][] TaskGold, string[][] TaskPredicted);

internal sealed record Result(string Model, string Split, string Criterion, double F1, double Precision, double Recall, double MeanTokenExitLayer, double TokenLayerSpeedup,
    IReadOnlyDictionary<string, double> TaskAccuracy);

internal sealed record BaselineRow(string Task, string Split, string Majority, double MajorityAccuracy, double PerWordAccuracy);

// The no-network references for each task column: the majority tag and each word's most frequent tag in training.
internal sealed class Baselines
{
    private readonly Dictionary<string, (string Majority, Dictionary<string, string> PerWord)> _tasks = [];

    public static Baselines From(IDataView train)
    {
        var baselines = new Baselines();
        string[][] words = train.GetColumn<string[]>("Tokens").ToArray();
        foreach (string task in ConllDataLoader.Conll2003Columns.Keys)
        {
            var pairs = words.Zip(train.GetColumn<string[]>(task)).SelectMany(p => p.First.Zip(p.Second)).ToArray();
            string majority = pairs.GroupBy(p => p.Second).MaxBy(g => g.Count())!.Key;
            var perWord = pairs.GroupBy(p => p.First).ToDictionary(g => g.Key, g => g.GroupBy(p => p.Second).MaxBy(t => t.Count())!.Key);
            baselines._tasks[task] = (majority, perWord);
        }

        return baselines;
    }

    public IReadOnlyList<BaselineRow> Summary(IReadOnlyList<(string Split, IDataView Data)> splits) =>
        _tasks.SelectMany(t => splits.Select(s =>
        {
            var pairs = s.Data.GetColumn<string[]>("Tokens").Zip(s.Data.GetColumn<string[]>(t.Key)).SelectMany(p => p.First.Zip(p.Second)).ToArray();
            double majority = pairs.Count(p => p.Second == t.Value.Majority) / (double)pairs.Length;
            double perWord = pairs.Count(p => t.Value.PerWord.GetValueOrDefault(p.First, t.Value.Majority) == p.Second) / (double)pairs.Length;
            return new BaselineRow(t.Key, s.Split, t.Value.Majority, majority, perWord);
        })).ToArray();
}

internal sealed record Settings(int TrainSentences, int Epochs, int Seed, string Out, string Models, string Backbone, IReadOnlyList<TaskSpec> Tasks, IReadOnlyList<string> Variants, double LightFactor,
    string Report, IReadOnlyList<string> Criteria, int TimePasses, IReadOnlyList<string> TimedCriteria, string Command, double PoolLearningRate)
{

    public static Settings Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            values[args[i].TrimStart('-')] = args[i + 1];
        }

        // --tasks "PartOfSpeech:1:1,Chunk:2:1": column:layer:weight, columns of ConllDataLoader.Conll2003Columns.
        TaskSpec[] tasks = (values.GetValueOrDefault("tasks") ?? "PartOfSpeech:1:1,Chunk:2:1").Split(',').Select(t => t.Split(':'))
            .Select(p => new TaskSpec(p[0], int.Parse(p[1], CultureInfo.InvariantCulture), double.Parse(p[2], CultureInfo.InvariantCulture))).ToArray();
        return new Settings(
            int.Parse(values.GetValueOrDefault("train-sentences") ?? "14041", CultureInfo.InvariantCulture),
            int.Parse(values.GetValueOrDefault("epochs") ?? "1", CultureInfo.InvariantCulture),
            int.Parse(values.GetValueOrDefault("seed") ?? "42", CultureInfo.InvariantCulture),
            values.GetValueOrDefault("out") ?? Path.Combine("bench", "results"),
            values.GetValueOrDefault("models") ?? Path.Combine("bench", "out"),
            values.GetValueOrDefault("backbone") ?? "sentence-transformers/all-MiniLM-L6-v2",
            tasks,
            (values.GetValueOrDefault("variants") ?? "ner,tasks,layer-attention,difference-attention,tasks-light").Split(','),
            double.Parse(values.GetValueOrDefault("light-factor") ?? "0.1", CultureInfo.InvariantCulture),
            values.GetValueOrDefault("report") ?? "conll-heads",
            (values.GetValueOrDefault("criteria") ?? "full,layer:1,layer:2,tokee:0.3:3,tokee:0.3:1").Split(','),
            int.Parse(values.GetValueOrDefault("time-passes") ?? "0", CultureInfo.InvariantCulture),
            (values.GetValueOrDefault("timed-criteria") ?? "full,tokee:0.3:3").Split(','),
            values.GetValueOrDefault("command") ?? "bash bench/conll-heads.sh",
            double.Parse(values.GetValueOrDefault("pool-learning-rate") ?? "1e-2", CultureInfo.InvariantCulture));
    }
}
