// Where the time of full-depth scoring goes in the TorchSharp encoder (issue 13, "profile first").
//
// The pretrained all-MiniLM-L6-v2 encoder (6 layers, hidden 384) runs the 872 SST-2 dev sentences at
// full depth through its public layer-step API (Embed, PrepareMask, ForwardLayer: what scoring calls),
// in five layouts: batches of 32 sorted by length (over all rows, within the 128-row chunks ML.NET's
// Transform reads ahead, within the CLI's 512-row chunks), batches of 32 in input order, one row at a time.
// Each layout runs once to warm up and then --passes times; the table gives the median pass. Every step
// is timed on its own (CPU ops are synchronous): tokenization (once, apart), building the input tensors,
// the embeddings, the attention mask and each layer. Gradient tracking is off as in scoring (no_grad),
// and the same is measured under inference_mode. Then the whole scoring path (EarlyExitTextClassifier.
// Predict at full depth: tokenization, length batching, the exit heads after every layer, the exit
// decisions, the results back on the host) runs the same sentences on the same encoder with
// untrained heads, to show what scoring adds around the layers. Then one layer op by op at batch 1 and 32
// (each matrix product, attention, LayerNorm, GELU; the layer with merged QKV and no modules against
// ForwardLayer; the exit heads' step). Last, the cost of one eager op at single-row shapes. The figures
// are written to bench/results/scoring-profile.md (--out DIR: another folder, for another machine).
using System.Diagnostics;
using System.Globalization;
using System.Text;
using EarlyExit;
using EarlyExit.Devices;
using EarlyExit.ExitCriteria;
using EarlyExit.Modeling;
using EarlyExit.Tokenization;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

int passes = Option("--passes") is string passesText ? int.Parse(passesText, CultureInfo.InvariantCulture) : 3;
string outFolder = Option("--out") ?? Path.Combine("bench", "results"); // another machine's results go to a folder of their own
bool opsOnly = args.Contains("--ops-only"); // only the single-op table, printed (for trying runtime settings quickly)
string shared = BenchSupport.FindShared("data/SST-2");
string[] texts = File.ReadLines(Path.Combine(shared, "data", "SST-2", "dev.tsv")).Skip(1).Select(l => l.Split('\t')[0]).ToArray();
using PretrainedEncoder backbone = PretrainedEncoder.Load("sentence-transformers/all-MiniLM-L6-v2", new PretrainedEncoderOptions { Device = DeviceOption.Cpu });
EncoderNetwork encoder = backbone.Encoder;
encoder.eval();

var clock = Stopwatch.StartNew();
TokenizedInput[] inputs = texts.Select(t => backbone.Tokenizer.Encode(t, 128)).ToArray();
double tokenizeSeconds = clock.Elapsed.TotalSeconds;
int padId = backbone.Tokenizer.SpecialTokens.Pad >= 0 ? backbone.Tokenizer.SpecialTokens.Pad : encoder.Config.PadTokenId;

int[] inputOrder = Enumerable.Range(0, inputs.Length).ToArray();
int[] byLength = inputOrder.OrderBy(i => inputs[i].Length).ThenBy(i => i).ToArray();
var layouts = new (string Name, int[][] Batches)[]
{
    ("batch 32, sorted by length", Chunk(byLength, 32)),
    ("batch 32, sorted within 128-row chunks (ML.NET Transform's read-ahead)", inputOrder.Chunk(128).SelectMany(c => Chunk(c.OrderBy(i => inputs[i].Length).ThenBy(i => i).ToArray(), 32)).ToArray()),
    ("batch 32, sorted within 512-row chunks (the CLI's)", inputOrder.Chunk(512).SelectMany(c => Chunk(c.OrderBy(i => inputs[i].Length).ThenBy(i => i).ToArray(), 32)).ToArray()),
    ("batch 32, input order", Chunk(inputOrder, 32)),
    ("batch 1", Chunk(inputOrder, 1)),
};

var report = new StringBuilder();
report.AppendLine("# Scoring profile: where full-depth time goes (TorchSharp encoder)");
report.AppendLine();
report.AppendLine(CultureInfo.InvariantCulture, $"Command: `PASSES={passes} bash bench/scoring-profile.sh{string.Concat(args.Skip(args.FirstOrDefault() == "--passes" ? 2 : 0).Select(a => " " + a))}` (median of the passes). Machine: {BenchSupport.Machine()}. Date: {DateTime.UtcNow:yyyy-MM-dd}.");
report.AppendLine(CultureInfo.InvariantCulture, $"Model: sentence-transformers/all-MiniLM-L6-v2 ({encoder.NumLayers} layers, hidden {encoder.HiddenSize}), {texts.Length} SST-2 dev sentences, {inputs.Average(i => i.Length):0.0} tokens on average.");
report.AppendLine(CultureInfo.InvariantCulture, $"Tokenization (once, all sentences): {tokenizeSeconds * 1000:0} ms ({texts.Length / tokenizeSeconds:0} rows/s).");
report.AppendLine();
report.AppendLine("| layout | grad mode | rows/s | input tensors ms | embeddings ms | mask ms | layers ms (1..L) | total ms |");
report.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | --- | ---: |");
foreach (var (name, batches) in opsOnly ? [] : layouts)
{
    foreach (string mode in new[] { "no_grad", "inference_mode" })
    {
        Timings median = Enumerable.Range(0, passes + 1)
            .Select(_ => Pass(batches, mode))
            .Skip(1) // warm-up
            .OrderBy(t => t.Total)
            .ElementAt(passes / 2);
        string layers = string.Join(" / ", median.Layers.Select(l => l.ToString("0", CultureInfo.InvariantCulture)));
        report.AppendLine(CultureInfo.InvariantCulture,
            $"| {name} | {mode} | {texts.Length / (median.Total / 1000):0} | {median.Inputs:0} | {median.Embed:0} | {median.Mask:0} | {layers} | {median.Total:0} |");
        Console.WriteLine($"{name}, {mode}: {texts.Length / (median.Total / 1000):0} rows/s");
    }
}

report.AppendLine();
report.AppendLine("The whole scoring path (`EarlyExitTextClassifier.Predict`, criterion `full`, PALBERT heads: mean pooling, shared classifier, concat halting head; tokenization included):");
report.AppendLine();
report.AppendLine("| batch | rows/s | ms |");
report.AppendLine("| ---: | ---: | ---: |");
using (PretrainedEncoder headsBackbone = PretrainedEncoder.Load("sentence-transformers/all-MiniLM-L6-v2", new PretrainedEncoderOptions { Device = DeviceOption.Cpu }))
using (EarlyExitTextClassifier classifier = EarlyExitTextClassifier.Create(headsBackbone, ["0", "1"], new EarlyExitNetworkConfig { NumLabels = 2, Pooling = HeadPooling.Mean }, 128,
    ExitCriterion.Full(), seed: 1))
{
    classifier.Model.eval();
    foreach (int batch in opsOnly ? [] : new[] { 32, 1 })
    {
        double[] times = Enumerable.Range(0, passes + 1).Select(_ =>
        {
            var predictClock = Stopwatch.StartNew();
            classifier.Predict(texts, criterion: ExitCriterion.Full(), batchSize: batch);
            return predictClock.Elapsed.TotalMilliseconds;
        }).Skip(1).Order().ToArray();
        double ms = times[passes / 2];
        report.AppendLine(CultureInfo.InvariantCulture, $"| {batch} | {texts.Length / (ms / 1000):0} | {ms:0} |");
        Console.WriteLine($"Predict, batch {batch}: {texts.Length / (ms / 1000):0} rows/s");
    }

    if (!opsOnly)
    {
        LayerOps(classifier.Model, report, passes);
    }
}

// What one eager op costs at these shapes: an elementwise add (almost no arithmetic, so the time is the
// dispatch through TorchSharp and libtorch) and a layer's largest matmul, one row of 25 tokens.
report.AppendLine();
report.AppendLine("One eager op at scoring shapes (25 tokens, hidden 384), median of 5 runs of 2,000 calls (200 for the batch of 32):");
report.AppendLine();
report.AppendLine("| op | µs per call | GFLOP/s |");
report.AppendLine("| --- | ---: | ---: |");
using (no_grad())
{
    Tensor x = randn(1, 25, encoder.HiddenSize);
    Tensor y = randn(1, 25, encoder.HiddenSize);
    Tensor w = randn(encoder.HiddenSize, 4 * encoder.HiddenSize);
    Tensor x32 = randn(32, 25, encoder.HiddenSize);
    foreach (var (name, flops, op) in new (string, double, Func<Tensor>)[]
    {
        ("add [1,25,384] + [1,25,384]", 0, () => x.add(y)),
        ("matmul [1,25,384] × [384,1536]", 2.0 * 25 * 384 * 1536, () => x.matmul(w)),
        ("matmul [32,25,384] × [384,1536]", 2.0 * 32 * 25 * 384 * 1536, () => x32.matmul(w)),
    })
    {
        double micro = Enumerable.Range(0, 6).Select(_ =>
        {
            var opClock = Stopwatch.StartNew();
            int calls = flops > 1e9 ? 200 : 2000;
            for (int i = 0; i < calls; i++)
            {
                op().Dispose();
            }

            return opClock.Elapsed.TotalMilliseconds * 1000 / calls;
        }).Skip(1).Order().ElementAt(2);
        report.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {micro:0.0} | {(flops == 0 ? "" : (flops / micro / 1000).ToString("0", CultureInfo.InvariantCulture))} |");
    }
}

string output = Path.Combine(outFolder, "scoring-profile.md");
if (!opsOnly)
{
    Directory.CreateDirectory(Path.GetDirectoryName(output)!);
    File.WriteAllText(output, report.ToString());
}

Console.Write(report);

Timings Pass(int[][] batches, string mode)
{
    var t = new Timings(encoder.NumLayers);
    var step = new Stopwatch();
    var total = Stopwatch.StartNew();
    foreach (int[] rows in batches)
    {
        using var scope = NewDisposeScope();
        using IDisposable guard = mode == "no_grad" ? no_grad() : inference_mode();
        step.Restart();
        int length = rows.Max(r => inputs[r].Length);
        var ids = new long[rows.Length * length];
        var mask = new long[rows.Length * length];
        Array.Fill(ids, padId);
        for (int r = 0; r < rows.Length; r++)
        {
            TokenizedInput input = inputs[rows[r]];
            for (int p = 0; p < input.Length; p++)
            {
                ids[r * length + p] = input.InputIds[p];
                mask[r * length + p] = 1;
            }
        }

        Tensor inputIds = tensor(ids, [rows.Length, length]);
        Tensor attention = tensor(mask, [rows.Length, length]);
        Tensor tokenTypes = zeros_like(inputIds);
        t.Inputs += step.Elapsed.TotalMilliseconds;
        step.Restart();
        Tensor hidden = encoder.Embed(inputIds, tokenTypes, attention);
        t.Embed += step.Elapsed.TotalMilliseconds;
        step.Restart();
        using AttentionMask additive = encoder.PrepareMask(attention);
        t.Mask += step.Elapsed.TotalMilliseconds;
        for (int layer = 0; layer < encoder.NumLayers; layer++)
        {
            step.Restart();
            hidden = encoder.ForwardLayer(layer, hidden, additive);
            t.Layers[layer] += step.Elapsed.TotalMilliseconds;
        }
    }

    t.Total = total.Elapsed.TotalMilliseconds;
    return t;
}

static int[][] Chunk(int[] order, int size) => order.Chunk(size).ToArray();

string? Option(string name) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

// One BERT layer op by op, with the layer's own weights, at 25 tokens per row, batch 1 and 32: each op on
// its own, the same ops in one function (what a layer computes, without the modules), the layer as
// scoring runs it (ForwardLayer), and the exit heads' step after it (pooling, classifier, halting head).
// Each op is timed over many calls; the rounds interleave the ops and the table gives the median round.
static void LayerOps(EarlyExitNetwork model, StringBuilder report, int passes)
{
    EncoderNetwork encoder = model.Encoder;
    Dictionary<string, Tensor> w = encoder.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
    Tensor W(string name) => w["encoder.layer.0." + name];
    int hidden = encoder.HiddenSize;
    int heads = encoder.Config.NumAttentionHeads;
    double eps = encoder.Config.LayerNormEps;
    using var inference = inference_mode();
    using var tensors = NewDisposeScope(); // frees every tensor made here
    Tensor qkvWeight = cat([W("attention.self.query.weight"), W("attention.self.key.weight"), W("attention.self.value.weight")], 0);
    Tensor qkvBias = cat([W("attention.self.query.bias"), W("attention.self.key.bias"), W("attention.self.value.bias")], 0);
    report.AppendLine();
    report.AppendLine(CultureInfo.InvariantCulture, $"One layer op by op (layer 1's weights, 25 tokens per row, {TorchSharp.torch.get_num_threads()} threads; median of {Math.Max(5, passes)} interleaved rounds; µs per call):");
    report.AppendLine();
    report.AppendLine("| op | batch 1 | batch 32 | GFLOP/s at batch 1 | GFLOP/s at batch 32 |");
    report.AppendLine("| --- | ---: | ---: | ---: | ---: |");
    var rows = new List<(string Name, double Flops, double[] Micro)>();
    foreach (int batch in new[] { 1, 32 })
    {
        const int T = 25;
        Tensor x = randn(batch, T, hidden);
        Tensor attention = ones(batch, T, ScalarType.Int64);
        using AttentionMask mask = encoder.PrepareMask(attention);
        Tensor Heads(Tensor t) => t.view(batch, T, heads, hidden / heads).transpose(1, 2); // [B, T, H] -> [B, nH, T, dH]
        Tensor q = Heads(F.linear(x, W("attention.self.query.weight"), W("attention.self.query.bias")));
        Tensor context = F.scaled_dot_product_attention(q, q, q, mask.Additive).transpose(1, 2).reshape(batch, T, hidden);
        Tensor inner = F.linear(x, W("intermediate.dense.weight"), W("intermediate.dense.bias")).gelu();
        Tensor previous = model.InitialPooled(batch, CPU);
        Tensor Layer()
        {
            using var scope = NewDisposeScope();
            Tensor[] qkv = F.linear(x, qkvWeight, qkvBias).chunk(3, -1);
            Tensor c = F.scaled_dot_product_attention(Heads(qkv[0]), Heads(qkv[1]), Heads(qkv[2]), mask.Additive).transpose(1, 2).reshape(batch, T, hidden);
            Tensor a = F.layer_norm(F.linear(c, W("attention.output.dense.weight"), W("attention.output.dense.bias")) + x, [hidden], W("attention.output.LayerNorm.weight"), W("attention.output.LayerNorm.bias"), eps);
            Tensor i = F.linear(a, W("intermediate.dense.weight"), W("intermediate.dense.bias")).gelu();
            return F.layer_norm(F.linear(i, W("output.dense.weight"), W("output.dense.bias")) + a, [hidden], W("output.LayerNorm.weight"), W("output.LayerNorm.bias"), eps).MoveToOuterDisposeScope();
        }

        double tokens = batch * T;
        var ops = new (string Name, double Flops, Func<IDisposable> Op)[]
        {
            ("query, key or value projection (one of three)", 2 * tokens * hidden * hidden, () => F.linear(x, W("attention.self.query.weight"), W("attention.self.query.bias"))),
            ("query, key and value in one projection", 6 * tokens * hidden * hidden, () => F.linear(x, qkvWeight, qkvBias)),
            ("scaled_dot_product_attention", 4 * tokens * T * hidden, () => F.scaled_dot_product_attention(q, q, q, mask.Additive)),
            ("attention output projection", 2 * tokens * hidden * hidden, () => F.linear(context, W("attention.output.dense.weight"), W("attention.output.dense.bias"))),
            ("residual add + LayerNorm (one of two)", 0, () =>
            {
                using Tensor sum = x + context;
                return F.layer_norm(sum, [hidden], W("attention.output.LayerNorm.weight"), W("attention.output.LayerNorm.bias"), eps);
            }),
            ("feed-forward in (to 4H)", 2 * tokens * hidden * 4 * hidden, () => F.linear(x, W("intermediate.dense.weight"), W("intermediate.dense.bias"))),
            ("GELU", 0, () => inner.gelu()),
            ("feed-forward out (to H)", 2 * tokens * hidden * 4 * hidden, () => F.linear(inner, W("output.dense.weight"), W("output.dense.bias"))),
            ("the layer as one function (merged QKV, no modules)", 24 * tokens * hidden * hidden, Layer),
            ("the layer as scoring runs it (ForwardLayer)", 24 * tokens * hidden * hidden, () => encoder.ForwardLayer(0, x, mask)),
            ("the exit heads after a layer (Step: mean pooling, classifier, halting head)", 0, () =>
            {
                TorchSharp.DisposeScope scope = NewDisposeScope(); // disposing it frees every output of the step
                model.Step(0, x, previous, attention);
                return scope;
            }),
        };
        int calls = batch == 1 ? 400 : 40;
        double[][] rounds = Enumerable.Range(0, Math.Max(5, passes) + 1).Select(_ => ops.Select(op =>
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < calls; i++)
            {
                op.Op().Dispose();
            }

            return clock.Elapsed.TotalMilliseconds * 1000 / calls;
        }).ToArray()).Skip(1).ToArray();
        for (int o = 0; o < ops.Length; o++)
        {
            double micro = BenchSupport.Median(rounds.Select(r => r[o]));
            if (batch == 1)
            {
                rows.Add((ops[o].Name, ops[o].Flops, [micro, 0]));
            }
            else
            {
                rows[o].Micro[1] = micro;
            }
        }
    }

    string Rate(double flops, double micro, int batch) => flops == 0 ? "" : (flops * batch / micro / 1000).ToString("0", CultureInfo.InvariantCulture);
    foreach (var (name, flops, micro) in rows)
    {
        report.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {micro[0]:0} | {micro[1]:0} | {Rate(flops, micro[0], 1)} | {Rate(flops, micro[1], 32)} |");
    }
}

internal sealed class Timings(int layers)
{
    public double Inputs { get; set; }

    public double Embed { get; set; }

    public double Mask { get; set; }

    public double[] Layers { get; } = new double[layers];

    public double Total { get; set; }
}
