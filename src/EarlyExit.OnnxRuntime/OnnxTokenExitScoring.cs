// Token-level early exit (SENTEE, TOKEE) with halt-and-copy on ONNX Runtime: Core's TokenExitScoring,
// one batch at a time, with the network's steps as ONNX graphs.
//
// Each layer graph takes the positions still active (a query index [R, Q], padded with a row's last active
// position) and computes only them, attending over every token; every other token's state is copied
// upward unchanged. The layer's off-ramp graph gives the active tokens' tag probabilities, and Core's
// TokenExitState decides who stops. Rows whose tokens have all stopped leave the batch: the rest are
// copied into a smaller batch cut to their longest row, as BatchShrinking does on TorchSharp.
using EarlyExit.Checkpoints;
using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.Tokenization;
using Microsoft.ML.OnnxRuntime;

namespace EarlyExit.OnnxRuntime;

internal static class OnnxTokenExitScoring
{
    /// <summary>Scores <paramref name="inputs"/> (word encodings, at least one) as one batch; predictions in input order.</summary>
    public static TokenPrediction[] ScoreBatch(OnnxGraphs graphs, OnnxManifest manifest, IReadOnlyList<TokenizedInput> inputs, TokenExitCriterion criterion)
    {
        int layers = manifest.NumLayers;
        int tags = manifest.Labels.Length;
        int width = manifest.HiddenSize;
        TokenExitState[] rows = inputs.Select((input, i) => new TokenExitState(input, i, tags, layers)).ToArray();
        PaddedTokens padded = PaddedTokens.Of(inputs.ToArray(), manifest.PadTokenId);
        int length = padded.Length;
        OrtValue hidden;
        using (OrtValue ids = OrtTensors.Of(padded.InputIds, rows.Length, length))
        using (OrtValue types = OrtTensors.Of(padded.TokenTypeIds, rows.Length, length))
        {
            hidden = graphs.Embed(ids, types);
        }

        long[] attention = padded.AttentionMask;
        OrtValue mask = OrtTensors.Of(attention, rows.Length, length);
        TokenExitState[] active = rows;
        try
        {
            for (int layer = 0; layer < layers && active.Length > 0; layer++)
            {
                int queries = active.Max(r => r.ActiveCount);
                long[] index = new long[active.Length * queries];
                for (int b = 0; b < active.Length; b++)
                {
                    int[] positions = active[b].ActivePositions();
                    for (int q = 0; q < queries; q++)
                    {
                        index[(b * queries) + q] = positions[Math.Min(q, positions.Length - 1)];
                    }
                }

                OrtValue next;
                using (OrtValue queryIndex = OrtTensors.Of(index, active.Length, queries))
                {
                    (next, OrtValue states) = graphs.TokenLayer(layer, hidden, mask, queryIndex);
                    using (states)
                    using (OrtValue scores = graphs.TokenScores(layer, states))
                    {
                        ReadOnlySpan<float> probabilities = scores.GetTensorDataAsSpan<float>(); // [R, Q, C]
                        for (int b = 0; b < active.Length; b++)
                        {
                            active[b].Observe(layer, layers, probabilities.Slice(b * queries * tags, queries * tags), criterion);
                        }
                    }
                }

                hidden.Dispose();
                hidden = next;
                TokenExitState[] remaining = active.Where(r => r.ActiveCount > 0).ToArray();
                if (remaining.Length > 0 && remaining.Length < active.Length)
                {
                    // Finished rows leave the batch; the rest keep only their longest length.
                    int longest = remaining.Max(r => r.Length);
                    int[] keep = Enumerable.Range(0, active.Length).Where(b => active[b].ActiveCount > 0).ToArray();
                    var states = new float[keep.Length * longest * width];
                    var kept = new long[keep.Length * longest];
                    ReadOnlySpan<float> all = hidden.GetTensorDataAsSpan<float>();
                    for (int i = 0; i < keep.Length; i++)
                    {
                        all.Slice(keep[i] * length * width, longest * width).CopyTo(states.AsSpan(i * longest * width));
                        attention.AsSpan(keep[i] * length, longest).CopyTo(kept.AsSpan(i * longest));
                    }

                    hidden.Dispose();
                    mask.Dispose();
                    (attention, length) = (kept, longest);
                    hidden = OrtTensors.Of(states, keep.Length, longest, width);
                    mask = OrtTensors.Of(attention, keep.Length, longest);
                }

                active = remaining;
            }
        }
        finally
        {
            hidden.Dispose();
            mask.Dispose();
        }

        return rows.Select(r => r.ToPrediction()).ToArray();
    }
}
