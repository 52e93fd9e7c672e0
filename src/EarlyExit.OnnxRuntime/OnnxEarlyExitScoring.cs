// Batched early-exit scoring on ONNX Runtime: the loop of Core's EarlyExitScoring.ScoreBatch, with the
// graphs of an ONNX export in place of the TorchSharp network. After each layer the exit graph speaks
// for the rows still in the batch, the same ExitDecider says which rows exit, and those rows leave:
// the hidden states, mask and pooled states are copied down to the remaining rows and to their longest
// length. When no row leaves, a layer's output goes to the next layer as it is, without a copy.
using EarlyExit.Checkpoints;
using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.Tokenization;
using Microsoft.ML.OnnxRuntime;

namespace EarlyExit.OnnxRuntime;

internal static class OnnxEarlyExitScoring
{
    /// <summary>Scores <paramref name="inputs"/> (at least one) as one batch; predictions in input order.</summary>
    public static ClassificationPrediction[] ScoreBatch(OnnxGraphs graphs, OnnxManifest manifest, IReadOnlyList<TokenizedInput> inputs, ExitCriterion criterion)
    {
        int rows = inputs.Count;
        int layers = manifest.NumLayers;
        int classes = manifest.Labels.Length;
        int width = manifest.HiddenSize;
        ExitDecider decider = EarlyExitScoring.CreateDecider(criterion, inputs, layers, classes, manifest.HasHaltingHead);
        List<float>[]? lambdas = EarlyExitScoring.HaltingLog(manifest.HasHaltingHead, rows, layers);
        PaddedTokens padded = PaddedTokens.Of(inputs, manifest.PadTokenId);
        int[] lengths = inputs.Select(i => i.Length).ToArray();
        int[] active = Enumerable.Range(0, rows).ToArray(); // original row of each batch position
        int length = padded.Length;
        long[] mask = padded.AttentionMask;

        OrtValue hidden;
        using (OrtValue ids = Tensor(padded.InputIds, rows, length))
        using (OrtValue types = Tensor(padded.TokenTypeIds, rows, length))
        {
            hidden = graphs.Embed(ids, types);
        }

        OrtValue attention = Tensor(mask, rows, length);
        OrtValue? previous = manifest.HasHaltingHead ? Tensor(new float[rows * width], rows, width) : null;
        try
        {
            for (int layer = 0; layer < layers && active.Length > 0; layer++)
            {
                OrtValue output = graphs.Layer(layer, hidden, attention);
                hidden.Dispose();
                hidden = output;
                using ExitOutputs exit = graphs.Exit(layer, hidden, attention, previous);
                List<long> keep = EarlyExitScoring.Observe(decider, active, layer, exit.Scores.GetTensorDataAsSpan<float>(), classes,
                    exit.Halting is null ? default : exit.Halting.GetTensorDataAsSpan<float>(), lambdas);
                if (keep.Count == 0)
                {
                    break;
                }

                previous?.Dispose();
                if (keep.Count == active.Length)
                {
                    previous = exit.TakePooled();
                    continue;
                }

                // Rows that exited leave the batch; the rest keep only their longest remaining length.
                active = keep.Select(k => active[(int)k]).ToArray();
                int longest = active.Max(r => lengths[r]);
                OrtValue keptHidden = Tensor(KeepRows(hidden.GetTensorDataAsSpan<float>(), keep, length, longest, width), active.Length, longest, width);
                hidden.Dispose();
                hidden = keptHidden;
                mask = KeepRows<long>(mask, keep, length, longest, 1);
                attention.Dispose();
                attention = Tensor(mask, active.Length, longest);
                previous = Tensor(KeepRows(exit.Pooled.GetTensorDataAsSpan<float>(), keep, 1, 1, width), active.Length, width);
                length = longest;
            }
        }
        finally
        {
            hidden.Dispose();
            attention.Dispose();
            previous?.Dispose();
        }

        return EarlyExitScoring.Predictions(decider, lambdas, layers);
    }

    // The rows at batch positions `keep` of a row-major [R, length, width] array, cut to `longest` positions.
    private static T[] KeepRows<T>(ReadOnlySpan<T> source, List<long> keep, int length, int longest, int width)
    {
        var kept = new T[keep.Count * longest * width];
        for (int i = 0; i < keep.Count; i++)
        {
            source.Slice((int)keep[i] * length * width, longest * width).CopyTo(kept.AsSpan(i * longest * width));
        }

        return kept;
    }

    private static OrtValue Tensor<T>(T[] values, params long[] shape)
        where T : unmanaged => OrtValue.CreateTensorValueFromMemory(values, shape);
}
