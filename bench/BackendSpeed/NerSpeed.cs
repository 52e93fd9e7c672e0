// bench/backend-speed.sh --ner: token-level early exit (issue 13, items 3 and 4) against ONNX Runtime running
// the fine-tuned labeller at full depth, on both backends, in one run.
//
// The model is the labeller bench/conll-ner.sh fine-tunes from the pretrained all-MiniLM-L6-v2 on CoNLL-2003
// (bench/out/conll-ner.zip), exported with ExportOnnx: the anchor runs its model.onnx (every token through
// every layer, one graph) in a plain InferenceSession; the ONNX Runtime backend runs the per-layer graphs with
// halt-and-copy. The input is the 3,250 dev sentences, chunked and tokenized once (timed apart), all in one
// call, sorted by length, batches of 32. Every scorer runs once to warm up, then --passes times, interleaved.
//
// Both backends also run full depth and TOKEE with the layout before packing (each row's padded
// query slots through the feed-forward), for the before and after of issue 13's item 4 in one run.
// For each criterion: sentences/s; the token-layer speed-up (L x tokens / the sum of every token's exit
// layer, special tokens included: the work the layers were spared); the wall-clock speed-up over the same
// backend's full depth; and their ratio, the share of the spared work that became speed (issue 13's target
// for TOKEE: 0.7). Fixed layers (layer:K) show the ratio when whole batches stop at once.
// Results: bench/results/ner-backend-speed.md.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using EarlyExit;
using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.MLNet.TokenEarlyExitNer;
using EarlyExit.OnnxRuntime;
using EarlyExit.Sequence;
using EarlyExit.Tokenization;
using Microsoft.ML;
using Microsoft.ML.OnnxRuntime;

internal static class NerSpeed
{
    public static int Run(int passes, string modelPath, string[] criteria, string outFolder, string command)
    {
        string shared = BenchSupport.FindShared("data/conll2003");
        IReadOnlyList<IReadOnlyList<string>> dev = ConllReader.Read(Path.Combine(shared, "data", "conll2003", "valid.txt")).Words;
        if (!File.Exists(modelPath))
        {
            Console.Error.WriteLine($"{modelPath} is missing; bench/backend-speed.sh --ner trains it with bench/conll-ner.sh --train-only true.");
            return 1;
        }

        int threads = Environment.ProcessorCount;
        var ml = new MLContext(seed: 1);
        ITransformer pipeline = ml.Model.Load(modelPath, out _);
        using TokenEarlyExitNerTransformer ner = ((IEnumerable<ITransformer>)pipeline).OfType<TokenEarlyExitNerTransformer>().Single();
        EarlyExitTokenClassifier torchModel = ner.Classifier;
        int layers = torchModel.NumLayers;

        string onnxFolder = Path.Combine(Path.GetDirectoryName(modelPath)!, Path.GetFileNameWithoutExtension(modelPath) + "-onnx");
        var clock = Stopwatch.StartNew();
        torchModel.ExportOnnx(onnxFolder);
        double exportSeconds = clock.Elapsed.TotalSeconds;
        using var onnx = OnnxTokenClassifier.Load(onnxFolder, new OnnxRuntimeOptions { IntraOpThreads = threads });
        using var anchor = new InferenceSession(Path.Combine(onnxFolder, "model.onnx"), new SessionOptions { IntraOpNumThreads = threads });

        var tokenizeSeconds = new List<double>();
        TokenizedInput[] inputs = [];
        for (int pass = 0; pass <= passes; pass++)
        {
            clock.Restart();
            inputs = SentenceChunks.Of(torchModel.Tokenizer, dev, torchModel.MaxSequenceLength, torchModel.OutsideTag).Inputs;
            if (pass > 0)
            {
                tokenizeSeconds.Add(clock.Elapsed.TotalSeconds);
            }
        }

        const int BatchSize = 32;
        var scorers = new List<(string Name, string Backend, string Criterion, Func<TokenPrediction[]> Score)>
        {
            ($"ONNX Runtime {typeof(InferenceSession).Assembly.GetName().Version?.ToString(3)}, model.onnx, full depth (the anchor)", "anchor", "full",
                () => LengthBatches.Map(inputs, i => i.Length, BatchSize, batch => Anchor(anchor, batch, torchModel.PadTokenId, layers))),
        };
        foreach (string name in criteria)
        {
            TokenExitCriterion criterion = TokenExitCriterion.Parse(name);
            scorers.Add(($"TorchSharp backend, {name}", "torch", name, () => TokenExitScoring.Predict(torchModel.Model, inputs, criterion, torchModel.PadTokenId, BatchSize)));
            scorers.Add(($"ONNX Runtime backend, {name}", "onnx", name, () => onnx.Predict(inputs, criterion, BatchSize)));
            if (name is "full" || criterion.Mode == TokenExitMode.Tokee)
            {
                // The layout before packing: the feed-forward also runs on each row's padded query slots.
                scorers.Add(($"ONNX Runtime backend, queries padded per row (before packing), {name}", "onnx-padded", name, () => onnx.Predict(inputs, criterion, BatchSize, packed: false)));
                scorers.Add(($"TorchSharp backend, queries padded per row (before packing), {name}", "torch-padded", name,
                    () => TokenExitScoring.Predict(torchModel.Model, inputs, criterion, torchModel.PadTokenId, BatchSize, packed: false)));
            }
        }

        var seconds = scorers.Select(_ => new List<double>()).ToArray();
        var outputs = new TokenPrediction[scorers.Count][];
        for (int pass = 0; pass <= passes; pass++)
        {
            for (int s = 0; s < scorers.Count; s++)
            {
                clock.Restart();
                outputs[s] = scorers[s].Score();
                if (pass > 0)
                {
                    seconds[s].Add(clock.Elapsed.TotalSeconds);
                }

                Console.WriteLine($"pass {pass}{(pass == 0 ? " (warm-up)" : string.Empty)}: {scorers[s].Name}: {dev.Count / clock.Elapsed.TotalSeconds:0} sentences/s");
            }
        }

        long tokens = inputs.Sum(i => (long)i.Length);
        double Speed(int s) => dev.Count / BenchSupport.Median(seconds[s]);
        double TokenLayerSpeedup(int s) => layers * (double)tokens / outputs[s].Sum(p => p.TokenExitLayers.Sum(l => (long)l));
        double anchorSpeed = Speed(0);
        var report = new StringBuilder();
        report.AppendLine($"Measured {DateTime.UtcNow:yyyy-MM-dd} on {BenchSupport.Machine()}. Command: `PASSES={passes} bash bench/backend-speed.sh{command}`.");
        report.AppendLine($"Model: {modelPath} (the CoNLL-2003 labeller bench/conll-ner.sh fine-tunes from all-MiniLM-L6-v2), exported to ONNX in {exportSeconds:0.0} s. " +
            $"Input: the {dev.Count} CoNLL-2003 dev sentences as {inputs.Length} chunks, {tokens} tokens ({tokens / (double)inputs.Length:0.0} per chunk), all in one call, sorted by length, " +
            $"batches of {BatchSize}. {threads} threads for ONNX Runtime and TorchSharp. Median of {passes} passes after a warm-up pass; the passes of all scorers interleave. " +
            $"Tokenization and chunking (apart from every figure): {dev.Count / BenchSupport.Median(tokenizeSeconds):0} sentences/s.");
        report.AppendLine();
        report.AppendLine("Token-layer speed-up: L x tokens / the sum of the tokens' exit layers (special tokens included). Wall-clock speed-up: over the same backend's full depth. " +
            "Ratio: wall-clock ÷ token-layer speed-up (issue 13's TOKEE target: 0.7). Words whose tag differs: against the same criterion on the other backend.");
        report.AppendLine();
        report.AppendLine("| scorer | sentences/s | × anchor | token-layer speed-up | wall-clock speed-up | ratio | words whose tag differs | sentences/s of each pass |");
        report.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        for (int s = 0; s < scorers.Count; s++)
        {
            var (name, backend, criterion, _) = scorers[s];
            int full = scorers.FindIndex(x => x.Backend == backend && x.Criterion == "full");
            int other = scorers.FindIndex(x => x.Backend == (backend == "torch" ? "onnx" : "torch") && x.Criterion == criterion);
            string wall = full >= 0 && backend != "anchor" ? $"{Speed(s) / Speed(full):0.00}x" : "";
            string ratio = full >= 0 && backend != "anchor" && criterion != "full" ? $"{Speed(s) / Speed(full) / TokenLayerSpeedup(s):0.00}" : "";
            string differs = other >= 0 && backend != "anchor" ? $"{outputs[s].Zip(outputs[other]).Sum(p => p.First.WordClasses.Zip(p.Second.WordClasses).Count(w => w.First != w.Second))}" : "";
            report.AppendLine($"| {name} | {Speed(s):0} | {Speed(s) / anchorSpeed:0.00} | {TokenLayerSpeedup(s):0.00}x | {wall} | {ratio} | {differs} | " +
                $"{string.Join(", ", seconds[s].Select(x => (dev.Count / x).ToString("0", CultureInfo.InvariantCulture)))} |");
        }

        Directory.CreateDirectory(outFolder);
        File.WriteAllText(Path.Combine(outFolder, "ner-backend-speed.md"), report.ToString());
        Console.WriteLine();
        Console.WriteLine(report);
        return 0;
    }

    // Plain ONNX Runtime on model.onnx: every token through every layer; the argmax tag of each token.
    private static TokenPrediction[] Anchor(InferenceSession session, TokenizedInput[] batch, int padTokenId, int layers)
    {
        (float[] scores, int length) = FullDepthGraph.Run(session, batch, padTokenId);
        int tags = scores.Length / (batch.Length * length);
        var result = new TokenPrediction[batch.Length];
        for (int row = 0; row < batch.Length; row++)
        {
            var classes = new int[batch[row].Length];
            for (int t = 0; t < classes.Length; t++)
            {
                classes[t] = Scores.ArgMax(scores.AsSpan(((row * length) + t) * tags, tags));
            }

            result[row] = new TokenPrediction(classes, Enumerable.Repeat(layers, classes.Length).ToArray(), [], []);
        }

        return result;
    }
}

/// <summary>An export's model.onnx run as a user of plain ONNX Runtime runs it: one padded batch, one graph.</summary>
internal static class FullDepthGraph
{
    /// <summary>The graph's scores for <paramref name="batch"/>, and the padded length.</summary>
    public static (float[] Scores, int Length) Run(InferenceSession session, TokenizedInput[] batch, int padTokenId)
    {
        PaddedTokens padded = PaddedTokens.Of(batch, padTokenId);
        long[] shape = [padded.Count, padded.Length];
        using OrtValue ids = OrtValue.CreateTensorValueFromMemory(padded.InputIds, shape);
        using OrtValue mask = OrtValue.CreateTensorValueFromMemory(padded.AttentionMask, shape);
        using OrtValue types = OrtValue.CreateTensorValueFromMemory(padded.TokenTypeIds, shape);
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(runOptions,
            new Dictionary<string, OrtValue> { ["input_ids"] = ids, ["attention_mask"] = mask, ["token_type_ids"] = types }, ["scores"]);
        return (outputs[0].GetTensorDataAsSpan<float>().ToArray(), padded.Length);
    }
}
