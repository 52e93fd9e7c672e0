// Where the ONNX Runtime backend's full-depth time goes against the anchor (issue 13): each graph of the
// per-layer export (embeddings, every layer, every exit) timed on its own, run after run as the backend
// chains them, next to model.onnx (the whole model in one graph) on the same batches. Sorted batches of
// 32 and one row at a time, under three thread settings: no spinning, the anchor's (ONNX Runtime's
// default: idle workers spin), and spinning while a graph runs but stopped when it returns
// (session.force_spinning_stop), the backend's default since this profile was first run. Every setting runs each layout once to warm up, then --passes
// times interleaved; the table gives the median pass. Run by bench/backend-speed.sh --profile-onnx.
using System.Diagnostics;
using System.Text;
using EarlyExit.Checkpoints;
using EarlyExit.OnnxRuntime;
using EarlyExit.Tokenization;
using Microsoft.ML.OnnxRuntime;

internal static class OnnxProfile
{
    private enum Spinning
    {
        Off,
        On,
        StopAfterRun,
    }

    public static string Run(string onnxFolder, TokenizedInput[] inputs, int padTokenId, int threads, int passes)
    {
        OnnxManifest manifest = OnnxFolder.ReadManifest(onnxFolder, OnnxFolder.Format);
        var settings = new[] { Spinning.Off, Spinning.On, Spinning.StopAfterRun };
        var graphs = settings.Select(s => OnnxGraphs.Open(onnxFolder, manifest, Options(threads, s))).ToArray();
        var anchors = settings.Select(s =>
        {
            using SessionOptions options = Anchor(threads, s);
            return new InferenceSession(Path.Combine(onnxFolder, "model.onnx"), options);
        }).ToArray();
        try
        {
            TokenizedInput[] byLength = inputs.OrderBy(i => i.Length).ToArray();
            var report = new StringBuilder();
            report.AppendLine("### Where the ONNX Runtime backend's full-depth time goes");
            report.AppendLine();
            report.AppendLine($"Each graph timed on its own over all {inputs.Length} rows (ms, median of {passes} passes; all settings interleave). " +
                "Spinning: off never spins, on is ONNX Runtime's default (the anchor's), stop-after-run spins while a graph runs and stops when it returns (the backend's default).");
            report.AppendLine();
            report.AppendLine("| batch | spinning | model.onnx | embeddings | layers | exits | backend total | backend ÷ model.onnx | graph runs | per layer (ms) | per exit (ms) |");
            report.AppendLine("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |");
            foreach (int batchSize in new[] { 32, 1 })
            {
                TokenizedInput[][] batches = byLength.Chunk(batchSize).ToArray();
                var samples = settings.Select(_ => new List<Timings>()).ToArray();
                for (int pass = 0; pass <= passes; pass++)
                {
                    for (int s = 0; s < settings.Length; s++)
                    {
                        Timings timings = Time(graphs[s], anchors[s], manifest, batches, padTokenId);
                        if (pass > 0)
                        {
                            samples[s].Add(timings);
                        }
                    }
                }

                for (int s = 0; s < settings.Length; s++)
                {
                    Timings median = Timings.Median(samples[s]);
                    double total = median.Embeddings + median.Layers.Sum() + median.Exits.Sum();
                    report.AppendLine($"| {batchSize} | {settings[s]} | {median.Anchor:0} | {median.Embeddings:0} | {median.Layers.Sum():0} | {median.Exits.Sum():0} | {total:0} | {total / median.Anchor:0.00} | " +
                        $"{batches.Length * (1 + (2 * manifest.NumLayers))} | {string.Join(", ", median.Layers.Select(t => t.ToString("0")))} | {string.Join(", ", median.Exits.Select(t => t.ToString("0")))} |");
                }
            }

            return report.ToString();
        }
        finally
        {
            foreach (IDisposable session in graphs.Cast<IDisposable>().Concat(anchors))
            {
                session.Dispose();
            }
        }
    }

    // Every graph of the backend at full depth, as OnnxEarlyExitScoring chains them, then model.onnx; ms summed over the batches.
    private static Timings Time(OnnxGraphs graphs, InferenceSession anchor, OnnxManifest manifest, TokenizedInput[][] batches, int padTokenId)
    {
        var timings = new Timings(0, 0, new double[manifest.NumLayers], new double[manifest.NumLayers]);
        var clock = new Stopwatch();
        double anchorMs = 0;
        double embeddingsMs = 0;
        foreach (TokenizedInput[] batch in batches)
        {
            PaddedTokens padded = PaddedTokens.Of(batch, padTokenId);
            using OrtValue mask = OrtValue.CreateTensorValueFromMemory(padded.AttentionMask, [padded.Count, padded.Length]);
            OrtValue? pooled = manifest.HasHaltingHead ? OrtValue.CreateTensorValueFromMemory(new float[padded.Count * manifest.HiddenSize], [padded.Count, manifest.HiddenSize]) : null;
            clock.Restart();
            OrtValue hidden = graphs.Embed(padded);
            embeddingsMs += clock.Elapsed.TotalMilliseconds;
            for (int layer = 0; layer < manifest.NumLayers; layer++)
            {
                clock.Restart();
                OrtValue output = graphs.Layer(layer, hidden, mask);
                timings.Layers[layer] += clock.Elapsed.TotalMilliseconds;
                hidden.Dispose();
                hidden = output;
                clock.Restart();
                ExitOutputs exit = graphs.Exit(layer, hidden, mask, pooled);
                timings.Exits[layer] += clock.Elapsed.TotalMilliseconds;
                pooled?.Dispose();
                pooled = exit.TakePooled();
                exit.Dispose();
            }

            hidden.Dispose();
            pooled?.Dispose();
            clock.Restart();
            FullDepthGraph.Run(anchor, batch, padTokenId);
            anchorMs += clock.Elapsed.TotalMilliseconds;
        }

        return timings with { Anchor = anchorMs, Embeddings = embeddingsMs };
    }

    private static OnnxRuntimeOptions Options(int threads, Spinning spinning) =>
        new() { IntraOpThreads = threads, AllowSpinning = spinning != Spinning.Off, StopSpinningAfterRun = spinning == Spinning.StopAfterRun };

    private static SessionOptions Anchor(int threads, Spinning spinning)
    {
        var options = new SessionOptions { IntraOpNumThreads = threads };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", spinning == Spinning.Off ? "0" : "1");
        options.AddSessionConfigEntry("session.force_spinning_stop", spinning == Spinning.StopAfterRun ? "1" : "0");
        return options;
    }

    private sealed record Timings(double Anchor, double Embeddings, double[] Layers, double[] Exits)
    {
        public static Timings Median(List<Timings> passes) => new(
            BenchSupport.Median(passes.Select(p => p.Anchor)),
            BenchSupport.Median(passes.Select(p => p.Embeddings)),
            Enumerable.Range(0, passes[0].Layers.Length).Select(l => BenchSupport.Median(passes.Select(p => p.Layers[l]))).ToArray(),
            Enumerable.Range(0, passes[0].Exits.Length).Select(l => BenchSupport.Median(passes.Select(p => p.Exits[l]))).ToArray());
    }
}
