// Layer-attention off-ramp inputs (issue 14, idea 2): instead of layer i's state alone, a token's off-ramp
// after layer i reads a learned attention over the token's own states after layers 1..i
// (LayerAttention), or over what each layer added to it, h_j - h_(j-1) with h_0 the embeddings
// (DifferenceAttention: each layer's update is additive, so the pattern of updates is a signal too).
//
// For layer i (J = i values v_1..v_J, each [..., H]):
//   score_j = q_i . LayerNorm(v_j) / sqrt(H) + b_i[j]      (LayerNorm without weights; q_i [H], b_i [J] learnt)
//   pooled  = sum_j softmax_j(score) v_j                    -> the off-ramp's input [..., H]
// q_i and b_i start at zero, so an untrained pool averages the states; being zero, they draw nothing
// from the random generator, and the other heads keep their seeded weights.
//
// Under halt-and-copy a halted token's later states are copies of its last one (its later differences
// are zero), in training (TokenExitNetwork.ForwardWithHalting) and in scoring alike.
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EarlyExit.Modeling;

/// <summary>What a token off-ramp reads after layer i.</summary>
public enum TokenOffRampInput
{
    /// <summary>Layer i's state alone (the paper's off-ramps; the default).</summary>
    Layer,

    /// <summary>A learned attention over the token's states after layers 1..i.</summary>
    LayerAttention,

    /// <summary>A learned attention over what each of layers 1..i added to the token's state.</summary>
    DifferenceAttention,
}

/// <summary>The learned attention of one off-ramp over a token's layer values (see the file header).</summary>
internal sealed class LayerAttentionPool : nn.Module<Tensor, Tensor>
{
    private readonly Parameter query;
    private readonly Parameter bias;
    private readonly int _hiddenSize;

    /// <summary>Creates the pool of <paramref name="values"/> values of width <paramref name="hiddenSize"/>, its parameters zero.</summary>
    public LayerAttentionPool(int hiddenSize, int values)
        : base(nameof(LayerAttentionPool))
    {
        _hiddenSize = hiddenSize;
        query = nn.Parameter(zeros(hiddenSize));
        bias = nn.Parameter(zeros(values));
        RegisterComponents();
    }

    /// <summary>Pools <paramref name="values"/> [J, ..., H] over J into [..., H].</summary>
    public override Tensor forward(Tensor values)
    {
        using var scope = NewDisposeScope();
        long count = values.shape[0];
        if (count != bias.shape[0])
        {
            throw new ArgumentException($"The pool reads {bias.shape[0]} layer values, given {count}.", nameof(values));
        }

        Tensor keys = nn.functional.layer_norm(values, [_hiddenSize]); // [J, ..., H]
        long[] biasShape = [count, .. Enumerable.Repeat(1L, (int)values.dim() - 2)];
        Tensor scores = (keys * query).sum(-1) / Math.Sqrt(_hiddenSize) + bias.view(biasShape); // [J, ...]
        Tensor weights = scores.softmax(0).unsqueeze(-1); // [J, ..., 1]
        return (weights * values).sum(dim: 0).MoveToOuterDisposeScope(); // [..., H] (dim named: a literal 0 would bind to the ScalarType overload)
    }
}
