// The anchor of issue 13: what a user would otherwise deploy, ONNX Runtime running the fine-tuned model
// at full depth, against this project's scorers on both backends, on the same tokens in one run.
//
// The model is the PALBERT classifier bench/sweeps.sh fine-tunes from the pretrained all-MiniLM-L6-v2 on
// SST-2 (bench/out/sst2-palbert.zip). It is exported with EarlyExitTextClassifier.ExportOnnx, so the
// anchor (model.onnx, the whole model in one graph, run by a plain InferenceSession) and the ONNX
// Runtime backend (the per-layer graphs, with early exit) compute the same function as the TorchSharp
// classifier. The input is the 872 SST-2 dev sentences, tokenized once (tokenization is timed apart).
// Four layouts: all rows in one call, 512-row calls (what ML.NET's Transform reads ahead), 32-row calls,
// one row per call; each call's rows sorted by length and run in batches of 32 (of 1).
// Every scorer runs each layout once to warm up, then --passes times, interleaved (pass 1 of every
// scorer, then pass 2, ...), so that ratios within the run share the machine's state; the table gives
// the median pass. Results: bench/results/backend-speed.md (--out DIR: another folder). With --cold
// [--warm-up row|batch|api] [--cold-backend onnx|torch] it prints instead what the first calls cost on
// each backend (one row, 32 rows, 32 other rows, all rows twice), appended to cold-start.md. --regroup adds the
// ONNX Runtime backend with 16 batches through the layers together, the rows still running regrouped
// across them after each layer; --first-layout runs the first layout only. --compare-spinning adds the ONNX
// Runtime backend with no spinning and with spinning while a graph runs, next to its default settings.
// --profile-onnx times each graph of the backend against model.onnx instead (OnnxProfile.cs).
using System.Diagnostics;
using System.Globalization;
using System.Text;
using EarlyExit;
using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.MLNet.Palbert;
using EarlyExit.OnnxRuntime;
using EarlyExit.Tokenization;
using Microsoft.ML;
using Microsoft.ML.OnnxRuntime;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
int passes = Math.Max(1, Option("--passes", 3));
string outFolder = OptionText("--out", "bench/results");
string command = string.Concat(args.Skip(args.FirstOrDefault() == "--passes" ? 2 : 0).Select(a => " " + a)); // the arguments after the script's own --passes
if (args.Contains("--ner"))
{
    return NerSpeed.Run(passes, OptionText("--model", "bench/out/conll-ner.zip"),
        OptionText("--criteria", "full,layer:3,sentee:0.3,tokee:0.3:3,tokee:0.3:1").Split(','), outFolder, command);
}

string modelPath = OptionText("--model", "bench/out/sst2-palbert.zip");
string[] criteria = OptionText("--criteria", "full,qexit:0.5,entropy:0.95").Split(',');
int threads = Environment.ProcessorCount;

string shared = BenchSupport.FindShared("data/SST-2");
(string Text, int Label)[] dev = File.ReadLines(Path.Combine(shared, "data", "SST-2", "dev.tsv")).Skip(1)
    .Select(l => l.Split('\t')).Select(f => (f[0], int.Parse(f[1], CultureInfo.InvariantCulture))).ToArray();
if (!File.Exists(modelPath))
{
    Console.Error.WriteLine($"{modelPath} is missing; bench/backend-speed.sh trains it with bench/sweeps.sh --train-only.");
    return 1;
}

var ml = new MLContext(seed: 1);
ITransformer pipeline = ml.Model.Load(modelPath, out _);
using PalbertTransformer palbert = ((IEnumerable<ITransformer>)pipeline).OfType<PalbertTransformer>().Single();
EarlyExitTextClassifier torchModel = palbert.Classifier;
int[] labelOfClass = palbert.ClassNames.Select(n => int.Parse(n, CultureInfo.InvariantCulture)).ToArray();

string onnxFolder = Path.Combine(Path.GetDirectoryName(modelPath)!, Path.GetFileNameWithoutExtension(modelPath) + "-onnx");
if (Directory.Exists(onnxFolder))
{
    Directory.Delete(onnxFolder, recursive: true); // the sizes below are this export's alone
}

var clock = Stopwatch.StartNew();
torchModel.ExportOnnx(onnxFolder);
double exportSeconds = clock.Elapsed.TotalSeconds;
long FolderBytes(IEnumerable<string> files) => files.Sum(f => new FileInfo(Path.Combine(onnxFolder, f)).Length);
using var onnx = OnnxTextClassifier.Load(onnxFolder, new OnnxRuntimeOptions { IntraOpThreads = threads });
using var anchor = new InferenceSession(Path.Combine(onnxFolder, "model.onnx"), new SessionOptions { IntraOpNumThreads = threads });

// Tokenization, timed apart: the median of the passes.
var tokenizeSeconds = new List<double>();
TokenizedInput[] inputs = [];
for (int pass = 0; pass <= passes; pass++)
{
    clock.Restart();
    inputs = dev.Select(r => torchModel.Encode(r.Text)).ToArray();
    if (pass > 0)
    {
        tokenizeSeconds.Add(clock.Elapsed.TotalSeconds);
    }
}

if (args.Contains("--profile-onnx"))
{
    string profile = OnnxProfile.Run(onnxFolder, inputs, torchModel.PadTokenId, threads, passes);
    Console.WriteLine(profile);
    Directory.CreateDirectory(outFolder);
    File.WriteAllText(Path.Combine(outFolder, "onnx-profile.md"),
        $"Measured {DateTime.UtcNow:yyyy-MM-dd} on {BenchSupport.Machine()}. Command: `PASSES={passes} bash bench/backend-speed.sh{command}`. Model: {modelPath}; ONNX Runtime {OrtVersion()}, {threads} threads.{Environment.NewLine}{Environment.NewLine}{profile}");
    return 0;
}

if (args.Contains("--cold"))
{
    // What the first calls cost: one row, one batch of 32, 32 other rows, then all rows twice, per backend;
    // with --warm-up row|batch|api, after a warm-up call of the shortest row alone, of the 32 longest rows, or
    // the classifier's own WarmUp (made-up words: one row, then 32).
    string warmUp = OptionText("--warm-up", "none");
    string coldBackend = OptionText("--cold-backend", "both");
    if (warmUp is not ("none" or "row" or "batch" or "api") || coldBackend is not ("both" or "onnx" or "torch"))
    {
        Console.Error.WriteLine($"--warm-up takes none, row, batch or api (got '{warmUp}'); --cold-backend takes both, onnx or torch (got '{coldBackend}').");
        return 1;
    }

    TokenizedInput[] byLength = inputs.OrderBy(i => i.Length).ToArray();
    var lines = new List<string>();
    void Print(string line)
    {
        Console.WriteLine(line);
        lines.Add($"- {line}");
    }

    foreach (var (name, predict, warm) in new (string, Func<TokenizedInput[], int>, Action)[]
    {
        ("ONNX Runtime backend", call => onnx.Predict(call, ExitCriterion.Full(), 32).Length, () => onnx.WarmUp(32)),
        ("TorchSharp backend", call => EarlyExitScoring.Predict(torchModel.Model, call, ExitCriterion.Full(), torchModel.PadTokenId, 32).Length, () => torchModel.WarmUp(32)),
    }.Where(b => coldBackend is "both" || b.Item1.StartsWith(coldBackend, StringComparison.OrdinalIgnoreCase)))
    {
        if (warmUp == "api")
        {
            clock.Restart();
            warm();
            Print($"{name}, WarmUp(): {clock.Elapsed.TotalMilliseconds:0} ms");
        }

        var calls = new List<(string, TokenizedInput[])>();
        if (warmUp is "row" or "batch")
        {
            calls.Add(($"warm-up ({warmUp})", warmUp == "row" ? byLength[..1] : byLength[^32..]));
        }

        calls.AddRange([("1 row", inputs[..1]), ("32 rows", inputs[1..33]), ("32 other rows", inputs[33..65]), ("all rows", inputs), ("all rows again", inputs)]);
        foreach (var (what, call) in calls)
        {
            clock.Restart();
            predict(call);
            Print($"{name}, {what}: {clock.Elapsed.TotalMilliseconds:0} ms");
        }
    }

    // Each run is a new process, so the runs append to one file.
    Directory.CreateDirectory(outFolder);
    File.AppendAllText(Path.Combine(outFolder, "cold-start.md"),
        $"### {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, `{RuntimeSettings()}bash bench/backend-speed.sh{command}`{Environment.NewLine}" +
        $"{BenchSupport.Machine()}; model {modelPath}; full depth, batches of 32.{Environment.NewLine}{Environment.NewLine}{string.Join(Environment.NewLine, lines)}{Environment.NewLine}{Environment.NewLine}");
    return 0;
}

// --compare-spinning: the backend's other thread settings side by side with its default.
var spinning = new (string Name, OnnxRuntimeOptions Options)[]
{
    ("no spinning", new OnnxRuntimeOptions { IntraOpThreads = threads, AllowSpinning = false }),
    ("spinning while a graph runs (the default, again)", new OnnxRuntimeOptions { IntraOpThreads = threads, AllowSpinning = true, StopSpinningAfterRun = true }),
};
var spinningVariants = args.Contains("--compare-spinning") ? spinning.Select(v => (v.Name, Classifier: OnnxTextClassifier.Load(onnxFolder, v.Options))).ToArray() : [];

// A layout says which rows each call gets and the batch size. Every scorer sorts a call's rows by length
// and runs them in batches of that size: the anchor as a user of ONNX Runtime would, ours as Predict does.
int[] inputOrder = Enumerable.Range(0, inputs.Length).ToArray();
var layouts = new (string Name, int[][] Calls, int BatchSize)[]
{
    ("all rows in one call, batches of 32", [inputOrder], 32),
    ("512 rows per call in input order (ML.NET Transform's read-ahead), batches of 32", inputOrder.Chunk(512).ToArray(), 32),
    ("32 rows per call in input order", inputOrder.Chunk(32).ToArray(), 32),
    ("one row per call", inputOrder.Chunk(1).ToArray(), 1),
};

// Each scorer maps the rows of one call and the batch size to (predicted class, exit layer) per row.
var scorers = new List<(string Name, Func<TokenizedInput[], int, (int Class, int Exit)[]> Score)>
{
    ($"ONNX Runtime {OrtVersion()}, model.onnx, full depth (the anchor)", (call, batchSize) =>
        LengthBatches.Map(call, i => i.Length, batchSize, batch => Anchor(anchor, batch, torchModel.PadTokenId, torchModel.NumLayers))),
};
foreach (string name in criteria)
{
    ExitCriterion criterion = ExitCriterion.Parse(name);
    scorers.Add(($"TorchSharp backend, {name}", (call, batchSize) => Classes(EarlyExitScoring.Predict(torchModel.Model, call, criterion, torchModel.PadTokenId, batchSize))));
    scorers.Add(($"ONNX Runtime backend, {name}", (call, batchSize) => Classes(onnx.Predict(call, criterion, batchSize))));
    foreach (var (variant, classifier) in spinningVariants)
    {
        scorers.Add(($"ONNX Runtime backend, {variant}, {name}", (call, batchSize) => Classes(classifier.Predict(call, criterion, batchSize))));
    }
    if (args.Contains("--regroup"))
    {
        // 16 batches through the layers together, the rows still running regrouped after each layer.
        scorers.Add(($"ONNX Runtime backend, regrouped over 16 batches, {name}", (call, batchSize) => Classes(onnx.Predict(call, criterion, batchSize, batchesPerChunk: 16))));
    }
}

if (args.Contains("--first-layout"))
{
    layouts = layouts[..1];
}

var results = new List<Result>();
foreach (var (layoutName, calls, batchSize) in layouts)
{
    TokenizedInput[][] callInputs = calls.Select(c => c.Select(i => inputs[i]).ToArray()).ToArray();
    var seconds = scorers.Select(_ => new List<double>()).ToArray();
    var outputs = new (int Class, int Exit)[scorers.Count][];
    for (int pass = 0; pass <= passes; pass++)
    {
        for (int s = 0; s < scorers.Count; s++)
        {
            clock.Restart();
            var scored = new (int Class, int Exit)[inputs.Length];
            for (int c = 0; c < calls.Length; c++)
            {
                (int Class, int Exit)[] rows = scorers[s].Score(callInputs[c], batchSize);
                for (int r = 0; r < rows.Length; r++)
                {
                    scored[calls[c][r]] = rows[r];
                }
            }

            if (pass > 0)
            {
                seconds[s].Add(clock.Elapsed.TotalSeconds);
            }

            outputs[s] = scored;
            Console.WriteLine($"{layoutName}, pass {pass}{(pass == 0 ? " (warm-up)" : string.Empty)}: {scorers[s].Name}: {inputs.Length / clock.Elapsed.TotalSeconds:0} rows/s");
        }
    }

    for (int s = 0; s < scorers.Count; s++)
    {
        double accuracy = outputs[s].Select((o, i) => labelOfClass[o.Class] == dev[i].Label ? 1.0 : 0.0).Average();
        results.Add(new Result(layoutName, scorers[s].Name, inputs.Length / BenchSupport.Median(seconds[s]), seconds[s].Select(x => inputs.Length / x).ToArray(), accuracy, outputs[s].Average(o => o.Exit)));
    }
}

var report = new StringBuilder();
report.AppendLine($"Measured {DateTime.UtcNow:yyyy-MM-dd} on {BenchSupport.Machine()}. Command: `PASSES={passes} bash bench/backend-speed.sh{command}`.");
report.AppendLine($"Model: {modelPath} (PALBERT fine-tuned from all-MiniLM-L6-v2 by bench/sweeps.sh, or by bench/sst2-full.sh for its own model), exported to ONNX in {exportSeconds:0.0} s. " +
    $"Input: the {inputs.Length} SST-2 dev sentences, {inputs.Average(i => i.Length):0.0} tokens on average. {threads} threads for ONNX Runtime and TorchSharp ({TorchSharp.torch.get_num_threads()}). " +
    $"Median of {passes} passes after a warm-up pass; the passes of all scorers interleave.");
report.AppendLine();
report.AppendLine($"Tokenization (apart from every figure below): {inputs.Length / BenchSupport.Median(tokenizeSeconds):0} rows/s.");
report.AppendLine();
report.AppendLine("| layout | scorer | rows/s | × anchor | accuracy | mean exit layer | rows/s of each pass |");
report.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | --- |");
foreach (Result result in results)
{
    double anchorSpeed = results.First(r => r.Layout == result.Layout).RowsPerSecond;
    report.AppendLine($"| {result.Layout} | {result.Scorer} | {result.RowsPerSecond:0} | {result.RowsPerSecond / anchorSpeed:0.00} | {result.Accuracy:0.0000} | {result.MeanExit:0.00} | {string.Join(", ", result.Passes.Select(p => p.ToString("0", CultureInfo.InvariantCulture)))} |");
}

report.AppendLine();
string[] allFiles = Directory.GetFiles(onnxFolder).Select(Path.GetFileName).OfType<string>().ToArray();
report.AppendLine($"Export size: {FolderBytes(allFiles) / 1e6:0.0} MB in all; the early-exit graphs (embeddings, layers, exits) {FolderBytes(allFiles.Where(f => f.EndsWith(".onnx", StringComparison.Ordinal) && f != "model.onnx")) / 1e6:0.0} MB, model.onnx {FolderBytes(["model.onnx"]) / 1e6:0.0} MB.");
Directory.CreateDirectory(outFolder);
File.WriteAllText(Path.Combine(outFolder, "backend-speed.md"), report.ToString());
Console.WriteLine();
Console.WriteLine(report);
foreach (var (_, classifier) in spinningVariants)
{
    classifier.Dispose();
}

return 0;

static (int Class, int Exit)[] Classes(ClassificationPrediction[] predictions) => predictions.Select(p => (p.PredictedClass, p.ExitLayer)).ToArray();

// Plain ONNX Runtime, as a user runs an exported encoder: pad the batch, run the one graph, argmax.
static (int Class, int Exit)[] Anchor(InferenceSession session, TokenizedInput[] batch, int padTokenId, int layers)
{
    float[] scores = FullDepthGraph.Run(session, batch, padTokenId).Scores;
    int classes = scores.Length / batch.Length;
    var result = new (int Class, int Exit)[batch.Length];
    for (int row = 0; row < batch.Length; row++)
    {
        result[row] = (Scores.ArgMax(scores.AsSpan(row * classes, classes)), layers);
    }

    return result;
}

// The .NET JIT settings of the environment that change what the first calls cost, as a command prefix.
static string RuntimeSettings() => string.Concat(new[] { "DOTNET_TieredCompilation", "DOTNET_TieredPGO", "DOTNET_ReadyToRun" }
    .Where(v => Environment.GetEnvironmentVariable(v) is not null).Select(v => $"{v}={Environment.GetEnvironmentVariable(v)} "));

static string OrtVersion() => typeof(InferenceSession).Assembly.GetName().Version?.ToString(3) ?? "?";

int Option(string name, int fallback) => int.Parse(OptionText(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

string OptionText(string name, string fallback)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
}

internal sealed record Result(string Layout, string Scorer, double RowsPerSecond, double[] Passes, double Accuracy, double MeanExit);
