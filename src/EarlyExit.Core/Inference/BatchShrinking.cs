// Rows leave a batch when they are done: both scoring loops (EarlyExitScoring: a row exits whole;
// TokenExitScoring: a row is done when its last token halted) keep only the rows still running and cut
// the sequence axis to the longest of them, so deeper layers run on a smaller batch. This is that one
// step, shared:
//   inside the layer's dispose scope   Keep: the kept rows' index and their attention, cut to length
//                                      (the attention moved out of the scope); the caller selects its own
//                                      per-row tensors with the index (Rows for [R, T, ...] states;
//                                      CutEach for the layer histories kept across layers)
//   after the layer's dispose scope    Swap: the new attention's prepared mask replaces the old one, and
//                                      the old attention is freed unless the TokenBatch owns it
using EarlyExit.Modeling;
using static TorchSharp.torch;

namespace EarlyExit.Inference;

/// <summary>Drops finished rows from a batch that runs layer by layer.</summary>
internal static class BatchShrinking
{
    /// <summary>
    /// The index of the rows at <paramref name="keep"/> (batch positions) and <paramref name="attention"/> cut to
    /// them and to <paramref name="longest"/> tokens; the attention is moved to the outer dispose scope.
    /// </summary>
    public static (Tensor Index, Tensor Attention) Keep(Tensor attention, long[] keep, long longest)
    {
        Tensor index = tensor(keep, ScalarType.Int64, attention.device);
        Tensor kept = attention.index_select(0, index).narrow(1, 0, longest); // [R, T] -> [R', T']
        kept.MoveToOuterDisposeScope();
        return (index, kept);
    }

    /// <summary>The kept rows of a [R, T, ...] tensor, cut to <paramref name="longest"/> positions.</summary>
    public static Tensor Rows(Tensor states, Tensor index, long longest) =>
        states.index_select(0, index).narrow(1, 0, longest); // [R, T, H] -> [R', T', H]

    /// <summary>
    /// Replaces each tensor of <paramref name="kept"/> (held across layers, so in the outer dispose scope) by <paramref name="cut"/>
    /// of it, moved to the outer scope, and frees the old one. For the layer histories of layer-attention heads.
    /// </summary>
    public static void CutEach(IList<Tensor> kept, Func<Tensor, Tensor> cut)
    {
        for (int k = 0; k < kept.Count; k++)
        {
            Tensor next = cut(kept[k]).MoveToOuterDisposeScope();
            kept[k].Dispose();
            kept[k] = next;
        }
    }

    /// <summary>
    /// Makes <paramref name="next"/> the running attention: prepares its mask in place of <paramref name="mask"/> and
    /// frees the previous attention unless it is <paramref name="batchAttention"/> (owned by the TokenBatch).
    /// </summary>
    public static void Swap(EncoderNetwork encoder, ref Tensor attention, ref AttentionMask mask, Tensor next, Tensor batchAttention)
    {
        mask.Dispose();
        mask = encoder.PrepareMask(next);
        if (!ReferenceEquals(attention, batchAttention))
        {
            attention.Dispose();
        }

        attention = next;
    }
}
