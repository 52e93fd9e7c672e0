// Which tokens one layer of token-level early exit computes, laid out for both scoring loops
// (TokenExitScoring on TorchSharp, OnnxTokenExitScoring on ONNX Runtime):
// Positions are the rows' query positions (TokenExitState.ActiveQueryPositions): tokens, or once a network
// has pooled words, units (Modeling/WordPooling).
//   Index   [R, Q]  each row's active positions, padded to the longest list by repeating the row's last
//   Pack    [N]     the query slots kept after attention (b * Q + q): the real ones, or every slot unpacked
//   Tokens  [N]     each kept slot's flat token position in the batch (b * T + t), where its state goes back
//   First   [R + 1] row b's kept slots are First[b] .. First[b + 1] - 1, in its active positions' order
namespace EarlyExit.Inference;

/// <summary>The query layout of one token-exit layer for the rows still running.</summary>
internal sealed class TokenQueries
{
    private TokenQueries(int queries, long[] index, long[] pack, long[] tokens, int[] first)
    {
        Queries = queries;
        Index = index;
        Pack = pack;
        Tokens = tokens;
        First = first;
    }

    /// <summary>Q, the most active positions of any row.</summary>
    public int Queries { get; }

    /// <summary>[R * Q] row-major: each row's active positions, padded by repeating its last.</summary>
    public long[] Index { get; }

    /// <summary>[N]: the query slots kept after attention.</summary>
    public long[] Pack { get; }

    /// <summary>[N]: each kept slot's flat token position in the [R, T] batch.</summary>
    public long[] Tokens { get; }

    /// <summary>[R + 1]: where each row's kept slots start.</summary>
    public int[] First { get; }

    /// <summary>Row <paramref name="b"/>'s part of a per-slot output [N, <paramref name="width"/>] laid out flat (e.g. its tag probabilities).</summary>
    public Range Row(int b, int width) => (First[b] * width)..(First[b + 1] * width);

    /// <summary>The layout for <paramref name="active"/> in a batch of <paramref name="length"/> positions.</summary>
    /// <param name="active">The rows still running, each with at least one active token.</param>
    /// <param name="length">T, the batch's positions per row.</param>
    /// <param name="packed">True: keep only the real slots. False: keep every slot, padding included (the layout before packing, for comparison).</param>
    public static TokenQueries Of(IReadOnlyList<TokenExitState> active, int length, bool packed = true)
    {
        int[][] rows = active.Select(r => r.ActiveQueryPositions()).ToArray();
        int queries = rows.Max(p => p.Length);
        int count = packed ? rows.Sum(p => p.Length) : active.Count * queries;
        long[] index = new long[active.Count * queries];
        long[] pack = new long[count];
        long[] tokens = new long[count];
        int[] first = new int[active.Count + 1];
        for (int b = 0; b < active.Count; b++)
        {
            int[] positions = rows[b];
            for (int q = 0; q < queries; q++)
            {
                index[(b * queries) + q] = positions[Math.Min(q, positions.Length - 1)];
            }

            int slots = packed ? positions.Length : queries;
            for (int q = 0; q < slots; q++)
            {
                pack[first[b] + q] = (b * queries) + q;
                tokens[first[b] + q] = ((long)b * length) + index[(b * queries) + q];
            }

            first[b + 1] = first[b] + slots;
        }

        return new TokenQueries(queries, index, pack, tokens, first);
    }
}
