// Halt-and-copy, one layer of token-level early exit at scoring time (the scoring loop around it is
// TokenExitScoring; training's tensor form is TokenExitNetwork.ForwardWithHalting).
//
// A halted token is copied upward: its hidden state stays what it was when it halted, and later layers of
// its still-active neighbours attend to that state. Only the active tokens are computed: their positions
// go to EncoderNetwork.ForwardLayerPacked as a queryIndex [R, Q] (keys and values span every token of the
// row), the real query slots of all rows are packed after attention into one list [N] (TokenQueries), so
// residuals and the feed-forward run for them alone, and the results are written back into the batch's
// states by flat token position.
//
// Reference is the same layer computed the slow way (every token through the full layer, then the halted
// ones restored); tests check that both give the same decisions.
using EarlyExit.Modeling;
using static TorchSharp.torch;

namespace EarlyExit.Inference;

/// <summary>One encoder layer that computes only the active tokens and copies the halted ones upward.</summary>
internal static class HaltAndCopy
{
    /// <summary>
    /// Runs layer <paramref name="layer"/> for the tokens at <paramref name="queryIndex"/> ([R, Q]) of <paramref name="hidden"/>
    /// ([R, T, H]), packed after attention to the slots at <paramref name="packIndex"/> ([N]) whose flat token positions are
    /// <paramref name="tokenIndex"/> ([N]). Returns the next states of every token ([R, T, H]; halted tokens unchanged)
    /// and the packed active tokens' ([N, H]).
    /// </summary>
    public static (Tensor Next, Tensor Active) Layer(EncoderNetwork encoder, int layer, Tensor hidden, AttentionMask mask, Tensor queryIndex, Tensor packIndex, Tensor tokenIndex)
    {
        Tensor active = encoder.ForwardLayerPacked(layer, hidden, mask, queryIndex, packIndex); // [N, H]
        Tensor next = hidden.reshape(-1, hidden.shape[2]).index_copy(0, tokenIndex, active).view(hidden.shape); // [R * T, H] -> [R, T, H]
        return (next, active);
    }

    /// <summary>As <see cref="Layer"/>, computed for every token and then restoring the halted ones (the reference).</summary>
    public static (Tensor Next, Tensor Active) Reference(EncoderNetwork encoder, int layer, Tensor hidden, AttentionMask mask, Tensor queryIndex, Tensor packIndex)
    {
        Tensor full = encoder.ForwardLayer(layer, hidden, mask); // [R, T, H]
        Tensor isActive = zeros(hidden.shape[0], hidden.shape[1], ScalarType.Bool, hidden.device)
            .scatter(1, queryIndex, ones(queryIndex.shape[0], queryIndex.shape[1], ScalarType.Bool, hidden.device)); // [R, T]
        Tensor next = where(isActive.unsqueeze(-1), full, hidden);
        Tensor index = queryIndex.unsqueeze(-1).expand(queryIndex.shape[0], queryIndex.shape[1], hidden.shape[2]); // [R, Q] -> [R, Q, H]
        Tensor queries = next.gather(1, index); // [R, Q, H]
        return (next, queries.reshape(-1, hidden.shape[2]).index_select(0, packIndex)); // [N, H]
    }
}
