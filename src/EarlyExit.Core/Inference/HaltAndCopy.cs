// Halt-and-copy, one layer of token-level early exit at scoring time (the scoring loop around it is
// TokenExitScoring; training's tensor form is TokenExitNetwork.ForwardWithHalting).
//
// A halted token is copied upward: its hidden state stays what it was when it halted, and later layers of
// its still-active neighbours attend to that state. Only the active tokens are computed: their positions
// go to EncoderNetwork.ForwardLayer as a queryIndex [R, Q] (queries, residuals and the feed-forward run for
// them alone; keys and values span every token of the row), and the results are scattered back into the
// row's states. Padding slots of queryIndex repeat a real active position, so the scatter writes the same
// value twice and nothing else.
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
    /// ([R, T, H]). Returns the next states of every token ([R, T, H]; halted tokens unchanged) and the active tokens' ([R, Q, H]).
    /// </summary>
    public static (Tensor Next, Tensor Active) Layer(EncoderNetwork encoder, int layer, Tensor hidden, AttentionMask mask, Tensor queryIndex)
    {
        Tensor active = encoder.ForwardLayer(layer, hidden, mask, queryIndex); // [R, Q, H]
        return (hidden.scatter(1, GatherIndex(queryIndex, hidden), active), active);
    }

    /// <summary>As <see cref="Layer"/>, computed for every token and then restoring the halted ones (the reference).</summary>
    public static (Tensor Next, Tensor Active) Reference(EncoderNetwork encoder, int layer, Tensor hidden, AttentionMask mask, Tensor queryIndex)
    {
        Tensor full = encoder.ForwardLayer(layer, hidden, mask); // [R, T, H]
        Tensor isActive = zeros(hidden.shape[0], hidden.shape[1], ScalarType.Bool, hidden.device)
            .scatter(1, queryIndex, ones(queryIndex.shape[0], queryIndex.shape[1], ScalarType.Bool, hidden.device)); // [R, T]
        Tensor next = where(isActive.unsqueeze(-1), full, hidden);
        return (next, next.gather(1, GatherIndex(queryIndex, hidden))); // [R, T, H] -> [R, Q, H]
    }

    // [R, Q] -> [R, Q, H]: the query positions, for gathering and scattering whole hidden states.
    private static Tensor GatherIndex(Tensor queryIndex, Tensor hidden) =>
        queryIndex.unsqueeze(-1).expand(queryIndex.shape[0], queryIndex.shape[1], hidden.shape[2]);
}
