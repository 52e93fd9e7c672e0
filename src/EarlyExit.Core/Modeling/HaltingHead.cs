// PALBERT's lambda layers: the probability lambda_i = sigmoid(halting(...)) that the model stops at
// layer i, given it has not stopped before. Three inputs are possible:
//
//   Linear      pooled_i                         -> Linear(H, 1)                      PonderNet's baseline
//   Concat      concat(pooled_i, pooled_{i-1})   -> k x (Linear(2H, 2H) + tanh) -> Linear(2H, 1)   PALBERT (default)
//   Difference  pooled_i - pooled_{i-1}          -> k x (Linear(H, H) + tanh)   -> Linear(H, 1)
//   LayerAttention  pool_i(pooled_1..pooled_i)    -> k x (Linear(H, H) + tanh)   -> Linear(H, 1)
//
// LayerAttention (issue 14) reads a learned attention over the pooled states of every layer so far
// (Modeling/LayerAttention.cs, one pool per layer), so the head can follow how the representation
// moves over several layers rather than the last step alone.
//
// pooled_0 (before the first layer) is zeros. Dropout applies to the head's input.
//
// With ReadsConfidence the head also reads how sure the same layer's classifier is: its largest class
// probability and its normalised entropy, appended to the input (detached: halting never trains the
// classifier). This is the ablation's "λ-head sees the task head's confidence" variant.
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EarlyExit.Modeling;

/// <summary>What the halting head reads.</summary>
public enum HaltingVariant
{
    /// <summary>No halting head (PABEE, DeeBERT, plain joint training).</summary>
    None,

    /// <summary>λ from the current pooled state alone, through one linear layer (PonderNet's baseline).</summary>
    Linear,

    /// <summary>λ from the current and previous pooled states, concatenated, through an MLP (PALBERT).</summary>
    Concat,

    /// <summary>λ from the difference of the current and previous pooled states, through an MLP.</summary>
    Difference,

    /// <summary>λ from a learned attention over the pooled states of layers 1..i, through an MLP.</summary>
    LayerAttention,
}

/// <summary>The halting (lambda) head: pooled states of this and the previous layer to a halting logit [B].</summary>
internal sealed partial class HaltingHead : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Dropout dropout;
    private readonly ModuleList<Linear> hidden;
    private readonly Linear output;
    private readonly ModuleList<LayerAttentionPool> pools;
    private readonly HaltingVariant _variant;

    /// <summary>How many confidence features the head reads when it reads the classifier's confidence.</summary>
    public const int ConfidenceFeatures = 2;

    /// <param name="variant">What the head reads.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="hiddenLayers">Hidden Linear + tanh layers (not for <see cref="HaltingVariant.Linear"/>).</param>
    /// <param name="dropoutProbability">Dropout on the head's input.</param>
    /// <param name="readsConfidence">Whether the head also reads the classifier's confidence.</param>
    /// <param name="numLayers">L: one attention pool per layer for <see cref="HaltingVariant.LayerAttention"/>.</param>
    public HaltingHead(HaltingVariant variant, int hiddenSize, int hiddenLayers, double dropoutProbability, bool readsConfidence = false, int numLayers = 0)
        : base(nameof(HaltingHead))
    {
        _variant = variant;
        pools = nn.ModuleList(variant == HaltingVariant.LayerAttention
            ? Enumerable.Range(1, numLayers).Select(values => new LayerAttentionPool(hiddenSize, values)).ToArray()
            : []);
        int width = (variant == HaltingVariant.Concat ? 2 * hiddenSize : hiddenSize) + (readsConfidence ? ConfidenceFeatures : 0);
        int layers = variant == HaltingVariant.Linear ? 0 : hiddenLayers;
        dropout = nn.Dropout(dropoutProbability);
        hidden = nn.ModuleList(Enumerable.Range(0, layers).Select(_ => nn.Linear(width, width)).ToArray());
        output = nn.Linear(width, 1);
        RegisterComponents();
    }

    /// <summary>Whether the head reads the pooled states of every earlier layer (<see cref="HaltingVariant.LayerAttention"/>).</summary>
    public bool ReadsHistory => _variant == HaltingVariant.LayerAttention;

    /// <summary>pooled [B, H], previous [B, H] -> halting logit [B] (before the sigmoid), for the first layer or a head without history.</summary>
    public override Tensor forward(Tensor pooled, Tensor previous) => Forward(0, pooled, previous, earlier: [], confidence: null);

    /// <summary>
    /// Layer <paramref name="layer"/>'s halting logit [B] from its pooled state [B, H], the previous layer's [B, H] (zeros before
    /// the first), for a head that reads them every earlier layer's (<paramref name="earlier"/>: <paramref name="layer"/> states
    /// [B, H], oldest first) and, for a head that reads it, the classifier's confidence [B, 2].
    /// </summary>
    public Tensor Forward(int layer, Tensor pooled, Tensor previous, IReadOnlyList<Tensor> earlier, Tensor? confidence)
    {
        using var scope = NewDisposeScope();
        Tensor x = _variant switch
        {
            HaltingVariant.Concat => cat([pooled, previous], 1), // [B, H] + [B, H] -> [B, 2H]
            HaltingVariant.Difference => pooled - previous,
            HaltingVariant.LayerAttention => pools[layer].call(stack([.. earlier, pooled])), // (layer + 1) x [B, H] -> [B, H]
            _ => pooled,
        };
        x = dropout.call(x);
        if (confidence is not null)
        {
            x = cat([x, confidence], 1); // [B, W] + [B, 2] -> [B, W + 2]
        }

        foreach (Linear dense in hidden)
        {
            x = dense.call(x).tanh();
        }

        return output.call(x).squeeze(-1).MoveToOuterDisposeScope(); // [B, 1] -> [B]
    }
}
