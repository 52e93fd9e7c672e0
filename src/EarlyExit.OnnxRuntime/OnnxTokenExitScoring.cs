// Token-level early exit (SENTEE, TOKEE) with halt-and-copy on ONNX Runtime: Core's TokenExitScoring,
// one batch at a time, with the network's steps as ONNX graphs.
//
// Each layer graph takes the positions still active (a query index [R, Q], padded with a row's last active
// position) and computes only them, attending over every token; every other token's state is copied
// upward unchanged. After attention the real queries of all rows are packed into one list [N, H] (the
// packed layout of issue 13's item 4, laid out by Core's TokenQueries as on TorchSharp), so the feed-forward
// and the off-ramp skip the padding. The layer's off-ramp graph gives the active tokens' tag probabilities,
// and Core's TokenExitState decides who stops. Rows whose tokens have all stopped leave the batch: the rest
// are copied into a smaller batch cut to their longest row, as BatchShrinking does on TorchSharp.
using EarlyExit.Checkpoints;
using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.Tokenization;
using Microsoft.ML.OnnxRuntime;

namespace EarlyExit.OnnxRuntime;

internal static class OnnxTokenExitScoring
{
    /// <summary>
    /// Scores <paramref name="inputs"/> (word encodings, at least one) as one batch; predictions in input order.
    /// <paramref name="packed"/> false gives the feed-forward every padded query slot too (the layout before packing,
    /// kept for bench/BackendSpeed --ner to compare in one run; the padding repeats a real position, so the result is the same).
    /// </summary>
    public static TokenPrediction[] ScoreBatch(OnnxGraphs graphs, OnnxManifest manifest, IReadOnlyList<TokenizedInput> inputs, TokenExitCriterion criterion, bool packed = true)
    {
        int layers = manifest.NumLayers;
        int tags = manifest.Labels.Length;
        int width = manifest.HiddenSize;
        TokenExitState[] rows = inputs.Select((input, i) => new TokenExitState(input, i, tags, layers)).ToArray();
        PaddedTokens padded = PaddedTokens.Of(inputs.ToArray(), manifest.PadTokenId);
        int length = padded.Length;
        long[] attention = padded.AttentionMask;
        TokenExitState[] active = rows;
        OrtValue? hidden = null;
        OrtValue? mask = null;
        try
        {
            hidden = graphs.Embed(padded);
            mask = OrtTensors.Of(attention, rows.Length, length);
            for (int layer = 0; layer < layers && active.Length > 0; layer++)
            {
                // Each row's active positions, padded to the longest list by repeating its last; the real ones packed.
                TokenQueries layout = TokenQueries.Of(active, length, packed);
                OrtValue states;
                using (OrtValue queryIndex = OrtTensors.Of(layout.Index, active.Length, layout.Queries))
                using (OrtValue packIndex = OrtTensors.Of(layout.Pack, layout.Pack.Length))
                using (OrtValue tokens = OrtTensors.Of(layout.Tokens, layout.Tokens.Length))
                {
                    (OrtValue next, states) = graphs.TokenLayer(layer, hidden, mask, queryIndex, packIndex, tokens);
                    hidden.Dispose();
                    hidden = next;
                }

                using (states)
                using (OrtValue scores = graphs.TokenScores(layer, states))
                {
                    ReadOnlySpan<float> probabilities = scores.GetTensorDataAsSpan<float>(); // [N, C]
                    for (int b = 0; b < active.Length; b++)
                    {
                        active[b].Observe(layer, layers, probabilities[layout.Row(b, tags)], criterion);
                    }
                }

                TokenExitState[] remaining = active.Where(r => r.ActiveCount > 0).ToArray();
                if (remaining.Length > 0 && remaining.Length < active.Length)
                {
                    // Finished rows leave the batch; the rest keep only their longest length.
                    int longest = remaining.Max(r => r.Length);
                    int[] keep = Enumerable.Range(0, active.Length).Where(b => active[b].ActiveCount > 0).ToArray();
                    var kept = new float[keep.Length * longest * width];
                    var keptAttention = new long[keep.Length * longest];
                    ReadOnlySpan<float> all = hidden.GetTensorDataAsSpan<float>();
                    for (int i = 0; i < keep.Length; i++)
                    {
                        all.Slice(keep[i] * length * width, longest * width).CopyTo(kept.AsSpan(i * longest * width));
                        attention.AsSpan(keep[i] * length, longest).CopyTo(keptAttention.AsSpan(i * longest));
                    }

                    (attention, length) = (keptAttention, longest);
                    hidden.Dispose();
                    hidden = OrtTensors.Of(kept, keep.Length, longest, width);
                    mask.Dispose();
                    mask = OrtTensors.Of(attention, keep.Length, longest);
                }

                active = remaining;
            }
        }
        finally
        {
            hidden?.Dispose();
            mask?.Dispose();
        }

        return rows.Select(r => r.ToPrediction()).ToArray();
    }
}
