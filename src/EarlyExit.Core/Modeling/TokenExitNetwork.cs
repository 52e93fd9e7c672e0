// A token classifier with an off-ramp after every encoder layer (Li et al., ACL 2021: SENTEE/TOKEE).
//
// After layer l (0-based here): token logits_l = classifier_l(dropout(h_l)), one linear off-ramp per
// layer, over every token. A token's uncertainty at a layer is the normalised entropy of its softmax.
//
// Halt-and-copy: a halted token's hidden state is copied upward unchanged. Forward takes an optional
// halting plan (the layer after which each token stops changing) and applies it with `where`, which
// is the reference semantics: run the layer on every token, then restore the halted ones. Scoring
// (Inference/TokenExitScoring) gets the same result while computing queries and feed-forward only for
// the tokens still active (EncoderNetwork.ForwardLayer with a queryIndex).
//
// Shapes: B rows, T tokens, H hidden, C tags, L layers.
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EarlyExit.Modeling;

/// <summary>Every layer's token logits, from <see cref="TokenExitNetwork.Forward"/>.</summary>
/// <param name="Logits">[L, B, T, C].</param>
public sealed record TokenLayerwiseOutput(Tensor Logits) : IDisposable
{
    /// <inheritdoc />
    public void Dispose() => Logits.Dispose();
}

/// <summary>An encoder with a token classifier (off-ramp) after every layer, for early-exit sequence labelling.</summary>
public sealed partial class TokenExitNetwork : nn.Module<Tensor, Tensor?, Tensor, TokenLayerwiseOutput>
{
    private readonly EncoderNetwork encoder;
    private readonly Dropout dropout;
    private readonly ModuleList<Linear> classifiers;

    /// <summary>Puts an off-ramp after every layer of <paramref name="encoder"/>, which the classifier then owns.</summary>
    /// <param name="encoder">The backbone.</param>
    /// <param name="numLabels">C, the number of tags (at least 2).</param>
    /// <param name="dropoutProbability">Dropout on the hidden states before each off-ramp.</param>
    /// <param name="seed">Seed of the off-ramps' initial weights (normal(0, initializer_range), zero biases).</param>
    public TokenExitNetwork(EncoderNetwork encoder, int numLabels, double dropoutProbability = 0.1, long seed = EncoderNetwork.DefaultSeed)
        : base(nameof(TokenExitNetwork))
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentOutOfRangeException.ThrowIfLessThan(numLabels, 2);
        if (dropoutProbability is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(dropoutProbability), dropoutProbability, "Dropout must be in [0, 1).");
        }

        NumLabels = numLabels;
        DropoutProbability = dropoutProbability;
        this.encoder = encoder;
        using (new GlobalRngGuard())
        {
            dropout = nn.Dropout(dropoutProbability);
            classifiers = nn.ModuleList(Enumerable.Range(0, encoder.NumLayers).Select(_ => nn.Linear(encoder.HiddenSize, numLabels)).ToArray());
        }

        RegisterComponents();
        using var generator = new Generator(unchecked((ulong)seed), CPU);
        using var noGrad = no_grad();
        foreach (Linear linear in classifiers)
        {
            using Tensor sample = empty(linear.weight!.shape, ScalarType.Float32, CPU).normal_(0.0, encoder.Config.InitializerRange, generator);
            linear.weight.copy_(sample);
            linear.bias!.zero_();
        }
    }

    /// <summary>The backbone.</summary>
    public EncoderNetwork Encoder => encoder;

    /// <summary>L, the number of layers and off-ramps.</summary>
    public int NumLayers => encoder.NumLayers;

    /// <summary>C, the number of tags.</summary>
    public int NumLabels { get; }

    /// <summary>Dropout before each off-ramp.</summary>
    public double DropoutProbability { get; }

    /// <summary>Off-ramp <paramref name="layer"/>'s logits for hidden states [B, T, H] (or [B, Q, H]): [B, T, C].</summary>
    public Tensor TokenLogits(int layer, Tensor hidden)
    {
        if (layer < 0 || layer >= NumLayers)
        {
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"layer must be in [0, {NumLayers}).");
        }

        using var scope = NewDisposeScope();
        return classifiers[layer].call(dropout.call(hidden)).MoveToOuterDisposeScope(); // [B, T, H] -> [B, T, C]
    }

    /// <summary>Runs every layer (no halting): each off-ramp's token logits.</summary>
    public TokenLayerwiseOutput Forward(Tensor inputIds, Tensor? tokenTypeIds, Tensor attentionMask) => call(inputIds, tokenTypeIds, attentionMask);

    /// <summary>
    /// Runs every layer with halt-and-copy: after layer <c>haltLayers[b, t]</c> (1-based; L or more means
    /// never) token t of row b keeps its hidden state, so later off-ramps see the copied state.
    /// </summary>
    /// <param name="inputIds">int64 [B, T].</param>
    /// <param name="tokenTypeIds">int64 [B, T], or null.</param>
    /// <param name="attentionMask">[B, T].</param>
    /// <param name="haltLayers">int64 [B, T], the 1-based layer each token halts after.</param>
    public TokenLayerwiseOutput ForwardWithHalting(Tensor inputIds, Tensor? tokenTypeIds, Tensor attentionMask, Tensor haltLayers)
    {
        ArgumentNullException.ThrowIfNull(haltLayers);
        return Run(inputIds, tokenTypeIds, attentionMask, haltLayers);
    }

    /// <summary>The module's forward; call <see cref="Forward"/> instead.</summary>
    public override TokenLayerwiseOutput forward(Tensor inputIds, Tensor? tokenTypeIds, Tensor attentionMask) =>
        Run(inputIds, tokenTypeIds, attentionMask, haltLayers: null);

    private TokenLayerwiseOutput Run(Tensor inputIds, Tensor? tokenTypeIds, Tensor attentionMask, Tensor? haltLayers)
    {
        using var scope = NewDisposeScope();
        Tensor hidden = encoder.Embed(inputIds, tokenTypeIds, attentionMask);
        using AttentionMask mask = encoder.PrepareMask(attentionMask);
        var logits = new List<Tensor>(NumLayers);
        for (int layer = 0; layer < NumLayers; layer++)
        {
            Tensor next = encoder.ForwardLayer(layer, hidden, mask);
            if (haltLayers is not null)
            {
                Tensor active = haltLayers.gt(layer).unsqueeze(-1); // [B, T] -> [B, T, 1]: still running at this layer
                next = where(active, next, hidden);
            }

            hidden = next;
            logits.Add(TokenLogits(layer, hidden));
        }

        Tensor stacked = stack(logits); // L x [B, T, C] -> [L, B, T, C]
        return new TokenLayerwiseOutput(stacked.MoveToOuterDisposeScope());
    }

    /// <summary>Frees the weights now (see ModuleTensors), then the native module.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            ModuleTensors.DisposeAll(this);
        }

        base.Dispose(disposing);
    }
}
