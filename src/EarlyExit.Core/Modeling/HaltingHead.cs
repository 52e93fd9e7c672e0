// PALBERT's lambda layers: the probability lambda_i = sigmoid(halting(...)) that the model stops at
// layer i, given it has not stopped before. Three inputs are possible:
//
//   Linear      pooled_i                         -> Linear(H, 1)                      PonderNet's baseline
//   Concat      concat(pooled_i, pooled_{i-1})   -> k x (Linear(2H, 2H) + tanh) -> Linear(2H, 1)   PALBERT (default)
//   Difference  pooled_i - pooled_{i-1}          -> k x (Linear(H, H) + tanh)   -> Linear(H, 1)
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
}

/// <summary>The halting (lambda) head: pooled states of this and the previous layer to a halting logit [B].</summary>
internal sealed partial class HaltingHead : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Dropout dropout;
    private readonly ModuleList<Linear> hidden;
    private readonly Linear output;
    private readonly HaltingVariant _variant;

    /// <summary>How many confidence features the head reads when it reads the classifier's confidence.</summary>
    public const int ConfidenceFeatures = 2;

    public HaltingHead(HaltingVariant variant, int hiddenSize, int hiddenLayers, double dropoutProbability, bool readsConfidence = false)
        : base(nameof(HaltingHead))
    {
        _variant = variant;
        int width = (variant == HaltingVariant.Concat ? 2 * hiddenSize : hiddenSize) + (readsConfidence ? ConfidenceFeatures : 0);
        int layers = variant == HaltingVariant.Linear ? 0 : hiddenLayers;
        dropout = nn.Dropout(dropoutProbability);
        hidden = nn.ModuleList(Enumerable.Range(0, layers).Select(_ => nn.Linear(width, width)).ToArray());
        output = nn.Linear(width, 1);
        RegisterComponents();
    }

    /// <summary>pooled [B, H], previous [B, H] -> halting logit [B] (before the sigmoid).</summary>
    public override Tensor forward(Tensor pooled, Tensor previous) => Forward(pooled, previous, confidence: null);

    /// <summary>pooled [B, H], previous [B, H] and, for a head that reads it, the classifier's confidence [B, 2] -> halting logit [B].</summary>
    public Tensor Forward(Tensor pooled, Tensor previous, Tensor? confidence)
    {
        using var scope = NewDisposeScope();
        Tensor x = _variant switch
        {
            HaltingVariant.Concat => cat([pooled, previous], 1), // [B, H] + [B, H] -> [B, 2H]
            HaltingVariant.Difference => pooled - previous,
            _ => pooled,
        };
        x = dropout.call(x);
        if (confidence is not null)
        {
            x = cat([x, confidence], 1); // [B, W] + [B, 2] -> [B, W + 2]
        }

        foreach (Linear layer in hidden)
        {
            x = layer.call(x).tanh();
        }

        return output.call(x).squeeze(-1).MoveToOuterDisposeScope(); // [B, 1] -> [B]
    }
}
