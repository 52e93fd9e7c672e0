// Token-level early exit on CoNLL-2003 (Li et al., ACL 2021): one labeller fine-tuned from the
// pretrained all-MiniLM-L6-v2 (joint off-ramp training, then self-sampling), evaluated on dev and test
// at full depth, at fixed shallower depths, and with SENTEE and TOKEE at several thresholds: entity F1
// (conlleval's rules), token-layer speed-up and measured sentences/s on the same batches.
//
//   bash bench/conll-ner.sh          (about 20 minutes on 2 CPU cores: 7 training, the rest measuring)
//
// Writes <out>/conll-ner.json and <out>/conll-ner.md (the README table). The trained model is kept in
// bench/out/conll-ner.zip (with its training time beside it): a second run with the same model file
// only measures, so timings can be retaken on an idle machine without retraining; `--train-only true`
// stops after training (bench/backend-speed.sh --ner needs the model). Each setting is
// labelled three times; sentences/s is the median.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EarlyExit.ExitCriteria;
using EarlyExit.MLNet;
using EarlyExit.MLNet.TokenEarlyExitNer;
using EarlyExit.Sequence;
using Microsoft.ML;
using Microsoft.ML.Data;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var settings = Settings.Parse(args);
string shared = BenchSupport.FindShared("data/conll2003");
string conll = Path.Combine(shared, "data", "conll2003");
Directory.CreateDirectory(settings.Out);
string[] criteria = ["full", "layer:5", "layer:4", "sentee:0.1", "sentee:0.2", "sentee:0.3", "tokee:0.1:5", "tokee:0.2:5", "tokee:0.3:3", "tokee:0.3:1"];

var ml = new MLContext(seed: settings.Seed);
IDataView train = ml.Data.TakeRows(ml.Data.LoadFromConllFile(Path.Combine(conll, "train.txt"), convertTo: TagScheme.Iob2), settings.TrainSentences);
var splits = new[] { ("dev", "valid.txt"), ("test", "test.txt") }
    .Select(s => (Name: s.Item1, Data: ml.Data.LoadFromConllFile(Path.Combine(conll, s.Item2), convertTo: TagScheme.Iob2))).ToArray();

ITransformer model;
double trainSeconds;
string trainTimeFile = settings.Model + ".train-seconds";
if (File.Exists(settings.Model))
{
    model = ml.Model.Load(settings.Model, out _);
    trainSeconds = double.Parse(File.ReadAllText(trainTimeFile), CultureInfo.InvariantCulture);
    Console.WriteLine($"loaded {settings.Model} (trained in {trainSeconds:0} s); delete it to retrain");
}
else
{
    var clock = Stopwatch.StartNew();
    model = ml.Transforms.Conversion.MapValueToKey("Label")
        .Append(ml.MulticlassClassification.Trainers.TokenEarlyExitNer(new TokenEarlyExitNerTrainer.Options
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
        }))
        .Fit(train);
    trainSeconds = clock.Elapsed.TotalSeconds;
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(settings.Model))!);
    ml.Model.Save(model, train.Schema, settings.Model);
    File.WriteAllText(trainTimeFile, trainSeconds.ToString("R", CultureInfo.InvariantCulture));
    Console.WriteLine($"trained in {trainSeconds:0} s; saved {settings.Model}");
}

if (settings.TrainOnly)
{
    return 0; // --train-only true: the model for other benches (bench/backend-speed.sh --ner)
}

ITransformer[] stages = ((IEnumerable<ITransformer>)model).ToArray();
var ner = stages.OfType<TokenEarlyExitNerTransformer>().Single();
ITransformer toKey = stages[0];

var results = new List<Result>();
foreach (var (name, data) in splits)
{
    IDataView keyed = toKey.Transform(data);
    long sentences = keyed.GetRowCount() ?? keyed.GetColumn<int>("Line").LongCount();
    Measure(ner, ml.Data.TakeRows(keyed, 64), repeats: 1); // warm up
    foreach (string text in criteria)
    {
        using TokenEarlyExitNerTransformer scorer = ner.WithExitCriterion(TokenExitCriterion.Parse(text));
        var (metrics, seconds) = Measure(scorer, keyed);
        var result = new Result(name, text, metrics.Entities.Overall.F1, metrics.Entities.Overall.Precision, metrics.Entities.Overall.Recall,
            metrics.MeanTokenExitLayer, metrics.TokenLayerSpeedup, sentences / seconds, trainSeconds, metrics.ExitLayerHistogram.ToArray());
        results.Add(result);
        Console.WriteLine($"{name,-5} {text,-12} F1 {result.F1:0.000}  mean exit {result.MeanTokenExitLayer:0.00}  speed-up {result.TokenLayerSpeedup:0.00}x  {result.SentencesPerSecond:0} sentences/s");
    }
}

File.WriteAllText(Path.Combine(settings.Out, "conll-ner.json"), JsonSerializer.Serialize(new { Machine = BenchSupport.Machine(), settings, TrainSeconds = trainSeconds, Results = results }, new JsonSerializerOptions { WriteIndented = true }));
File.WriteAllText(Path.Combine(settings.Out, "conll-ner.md"), Markdown(results, settings, trainSeconds));
Console.WriteLine($"done: {Path.Combine(settings.Out, "conll-ner.md")}");
return 0;

// Labels every sentence (the lazy view computes when the tags are read), three times; the median time.
static (NerMetrics Metrics, double Seconds) Measure(TokenEarlyExitNerTransformer ner, IDataView keyed, int repeats = 3)
{
    var seconds = new List<double>();
    NerMetrics? metrics = null;
    for (int i = 0; i < repeats; i++)
    {
        var watch = Stopwatch.StartNew();
        metrics = NerEvaluation.Evaluate(ner.Transform(keyed), ner.NumLayers);
        seconds.Add(watch.Elapsed.TotalSeconds);
    }

    return (metrics!, seconds.Order().ElementAt(repeats / 2));
}


static string Markdown(List<Result> results, Settings settings, double trainSeconds)
{
    var text = new StringBuilder();
    text.AppendLine($"Measured {DateTime.UtcNow:yyyy-MM-dd} on {BenchSupport.Machine()}; {settings.Backbone} fine-tuned (pretrained, 6 layers, hidden 384), " +
        $"{settings.TrainSentences} training sentences, {settings.Epochs} joint epoch(s) + 1 self-sampling epoch ({trainSeconds / 60:0} min), seed {settings.Seed}; " +
        "IOB2 tags, entity F1 by conlleval's rules; sentences/s = labelling with halt-and-copy, batch 32, median of 3 passes over the split. Command: `bash bench/conll-ner.sh`.");
    text.AppendLine();
    text.AppendLine("| split | exit criterion | entity F1 | precision | recall | mean word exit layer | token-layer speed-up | sentences/s |");
    text.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    foreach (Result r in results)
    {
        text.AppendLine($"| {r.Split} | `{r.Criterion}` | {r.F1:0.000} | {r.Precision:0.000} | {r.Recall:0.000} | {r.MeanTokenExitLayer:0.00} | {r.TokenLayerSpeedup:0.00}x | {r.SentencesPerSecond:0} |");
    }

    return text.ToString();
}

internal sealed record Settings(int TrainSentences, int Epochs, int Seed, string Out, string Model, string Backbone, bool TrainOnly)
{
    public static Settings Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            values[args[i].TrimStart('-')] = args[i + 1];
        }

        return new Settings(
            int.Parse(values.GetValueOrDefault("train-sentences") ?? "14041", CultureInfo.InvariantCulture),
            int.Parse(values.GetValueOrDefault("epochs") ?? "1", CultureInfo.InvariantCulture),
            int.Parse(values.GetValueOrDefault("seed") ?? "42", CultureInfo.InvariantCulture),
            values.GetValueOrDefault("out") ?? Path.Combine("bench", "results"),
            values.GetValueOrDefault("model") ?? Path.Combine("bench", "out", "conll-ner.zip"),
            values.GetValueOrDefault("backbone") ?? "sentence-transformers/all-MiniLM-L6-v2",
            bool.Parse(values.GetValueOrDefault("train-only") ?? "false"));
    }
}

internal sealed record Result(string Split, string Criterion, double F1, double Precision, double Recall, double MeanTokenExitLayer, double TokenLayerSpeedup,
    double SentencesPerSecond, double TrainSeconds, long[] ExitLayerHistogram);
