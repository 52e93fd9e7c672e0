// A sequence classifier with an exit after every encoder layer (PALBERT, PonderNet, PABEE, DeeBERT).
// With one output (NumLabels = 1, as Hugging Face's num_labels = 1) it is a regressor: each exit
// predicts a real value instead of class logits (GLUE STS-B). Its heads predict the standardised
// target z; the value is z * target_scale + target_mean, two buffers set from the training targets
// (SetTargetStatistics) and saved with the weights. So every exit starts out predicting the mean, and
// the squared errors of all exits are of order 1, as cross-entropies are: trained on raw 0-5 targets,
// the early exits' large errors swamped the encoder's gradients (bench/palbert-glue.sh, STS-B).
//
// After layer i (1-based in the papers, 0-based here):
//   pooled_i = tanh(W h_i[:, 0] + b)       Cls pooling: the backbone's pooler where it has one (ALBERT, BERT), else a new one
//            = Σ_t m_t h_i[:, t] / Σ_t m_t  Mean pooling: the mean of the real tokens' states (m = attention mask)
//   logits_i = classifier(dropout(pooled_i))   one classifier shared by all layers (PALBERT) or one per layer (PABEE)
//   lambda_i = sigmoid(halting(pooled_i, pooled_{i-1}))   the halting probability (HaltingHead), when the model has one
//
// The classifier runs one layer at a time (Step), so early-exit scoring can stop between layers and
// drop rows that have exited; Forward runs every layer for training.
//
// Shapes: B rows, T tokens, H hidden, C classes, L layers.
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EarlyExit.Modeling;

/// <summary>Whether the layers share one classifier or each has its own.</summary>
public enum ClassifierHeads
{
    /// <summary>One classifier for every layer (PALBERT).</summary>
    Shared,

    /// <summary>One classifier per layer (PABEE, DeeBERT).</summary>
    PerLayer,
}

/// <summary>What the exit heads read of a layer's token states.</summary>
/// <remarks>
/// Cls suits checkpoints whose <c>[CLS]</c> state summarises the input at every layer (models
/// pretrained with a sentence-level objective on <c>[CLS]</c>). Many encoders' <c>[CLS]</c> carries
/// little before the last layers; sentence-transformers checkpoints are trained on the mean of the
/// token states, and in all-MiniLM-L6-v2 the <c>[CLS]</c> state is the same for every input up to
/// layer 5. Heads on such checkpoints read the mean.
/// </remarks>
public enum HeadPooling
{
    /// <summary>What the checkpoint declares (sentence-transformers' <c>1_Pooling/config.json</c>), else <see cref="Cls"/>. Options only: a built model holds Cls or Mean.</summary>
    Auto,

    /// <summary>The <c>[CLS]</c> (first) token's state through the pooler, tanh(W h[:, 0] + b), as Hugging Face's sequence classifiers.</summary>
    Cls,

    /// <summary>The mean of the real (unpadded) tokens' states, as sentence-transformers' mean pooling.</summary>
    Mean,
}

/// <summary>The architecture of the classification heads of an <see cref="EarlyExitNetwork"/>.</summary>
public sealed record EarlyExitNetworkConfig
{
    /// <summary>The number of classes C (at least 2), or 1 for a regression model whose exits predict one real value.</summary>
    public required int NumLabels { get; init; }

    /// <summary>Whether the exits predict a real value (NumLabels = 1) rather than class logits.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsRegression => NumLabels == 1;

    /// <summary>Shared or per-layer classifiers.</summary>
    /// <value>The default value is <see cref="ClassifierHeads.Shared"/>.</value>
    public ClassifierHeads Heads { get; init; } = ClassifierHeads.Shared;

    /// <summary>The halting (lambda) head, or <see cref="HaltingVariant.None"/> for a model without one.</summary>
    /// <value>The default value is <see cref="HaltingVariant.Concat"/> (PALBERT).</value>
    public HaltingVariant Halting { get; init; } = HaltingVariant.Concat;

    /// <summary>What the heads read of each layer: the pooled <c>[CLS]</c> state or the mean of the tokens' states.</summary>
    /// <value>The default value is <see cref="HeadPooling.Cls"/> (the only pooling of format-1 model files). <see cref="HeadPooling.Auto"/> is not allowed here: resolve it against the backbone first.</value>
    public HeadPooling Pooling { get; init; } = HeadPooling.Cls;

    /// <summary>Dropout on the pooled output before the classifier.</summary>
    /// <value>The default value is 0.1.</value>
    public double ClassifierDropout { get; init; } = 0.1;

    /// <summary>Dropout on the halting head's input.</summary>
    /// <value>The default value is 0.1.</value>
    public double HaltingDropout { get; init; } = 0.1;

    /// <summary>
    /// Whether the halting head also reads the classifier's confidence at the same layer (its largest
    /// class probability and normalised entropy, detached). Classifiers only.
    /// </summary>
    /// <value>The default value is false (PALBERT's heads read the pooled states only).</value>
    public bool HaltingReadsConfidence { get; init; }

    /// <summary>Hidden Linear + tanh layers of the concat and difference halting heads.</summary>
    /// <value>The default value is 3.</value>
    public int HaltingHiddenLayers { get; init; } = 3;

    /// <summary>Every problem with the values, empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (NumLabels < 1)
        {
            problems.Add($"NumLabels is {NumLabels}; a classifier needs at least 2 classes (or 1 output for regression).");
        }

        if (!Enum.IsDefined(Heads))
        {
            problems.Add($"Heads is {Heads}; use Shared or PerLayer.");
        }

        if (!Enum.IsDefined(Halting))
        {
            problems.Add($"Halting is {Halting}; use None, Linear, Concat, Difference or LayerAttention.");
        }

        if (Pooling is not (HeadPooling.Cls or HeadPooling.Mean))
        {
            problems.Add($"Pooling is {Pooling}; a built model needs Cls or Mean (Auto is resolved against the backbone's declaration before the model is built).");
        }

        if (ClassifierDropout is < 0 or >= 1)
        {
            problems.Add($"ClassifierDropout is {ClassifierDropout}; it must be in [0, 1).");
        }

        if (HaltingDropout is < 0 or >= 1)
        {
            problems.Add($"HaltingDropout is {HaltingDropout}; it must be in [0, 1).");
        }

        if (HaltingReadsConfidence && (Halting == HaltingVariant.None || NumLabels < 2))
        {
            problems.Add("HaltingReadsConfidence needs a halting head and class probabilities (a classifier with 2 or more classes).");
        }

        if (HaltingHiddenLayers < 0)
        {
            problems.Add($"HaltingHiddenLayers is {HaltingHiddenLayers}; it must be 0 or more.");
        }

        return problems;
    }
}

/// <summary>What the heads say about one layer: the pooled state, class logits and (if any) the halting logit.</summary>
/// <param name="Pooled">tanh pooler output, [B, H] (the next layer's halting head reads it).</param>
/// <param name="Logits">Class logits, [B, C]; for a regression model the predicted values, [B, 1].</param>
/// <param name="HaltingLogit">The halting logit before the sigmoid, [B], or null when the model has no halting head.</param>
public sealed record LayerHeadsOutput(Tensor Pooled, Tensor Logits, Tensor? HaltingLogit);

/// <summary>Every layer's class logits and halting logits, from <see cref="EarlyExitNetwork.Forward"/>.</summary>
/// <param name="Logits">[L, B, C].</param>
/// <param name="HaltingLogits">[L, B] before the sigmoid, or null when the model has no halting head.</param>
public sealed record LayerwiseOutput(Tensor Logits, Tensor? HaltingLogits) : IDisposable
{
    /// <inheritdoc />
    public void Dispose()
    {
        Logits.Dispose();
        HaltingLogits?.Dispose();
    }
}

/// <summary>
/// An encoder with a classification exit after every layer and, optionally, a halting head that
/// gives each layer's probability of stopping (PALBERT's lambda layers).
/// </summary>
public sealed partial class EarlyExitNetwork : nn.Module<Tensor, Tensor?, Tensor, LayerwiseOutput>
{
    private readonly EncoderNetwork encoder;
    private readonly Linear? pooler;
    private readonly Dropout dropout;
    private readonly Linear? classifier;
    private readonly ModuleList<Linear>? classifiers;
    private readonly HaltingHead? halting;
    private readonly Tensor? target_mean; // [1], regression only
    private readonly Tensor? target_scale; // [1], regression only

    /// <summary>Puts heads on <paramref name="encoder"/>, which the classifier then owns (and disposes).</summary>
    /// <param name="encoder">The backbone.</param>
    /// <param name="config">The heads' architecture.</param>
    /// <param name="seed">Seed of the heads' initial weights (normal(0, initializer_range), zero biases), drawn from a private generator.</param>
    /// <exception cref="ArgumentException">The config is invalid; the message lists every problem.</exception>
    public EarlyExitNetwork(EncoderNetwork encoder, EarlyExitNetworkConfig config, long seed = EncoderNetwork.DefaultSeed)
        : base(nameof(EarlyExitNetwork))
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(config);
        IReadOnlyList<string> problems = config.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid classifier config: " + string.Join(" ", problems), nameof(config));
        }

        Config = config;
        int hidden = encoder.HiddenSize;
        this.encoder = encoder;
        using (new GlobalRngGuard())
        {
            pooler = config.Pooling == HeadPooling.Cls && !encoder.HasPooler ? nn.Linear(hidden, hidden) : null;
            dropout = nn.Dropout(config.ClassifierDropout);
            if (config.Heads == ClassifierHeads.Shared)
            {
                classifier = nn.Linear(hidden, config.NumLabels);
            }
            else
            {
                classifiers = nn.ModuleList(Enumerable.Range(0, encoder.NumLayers).Select(_ => nn.Linear(hidden, config.NumLabels)).ToArray());
            }

            halting = config.Halting == HaltingVariant.None
                ? null
                : new HaltingHead(config.Halting, hidden, config.HaltingHiddenLayers, config.HaltingDropout, config.HaltingReadsConfidence, encoder.NumLayers);
        }

        if (config.IsRegression)
        {
            target_mean = zeros(1, ScalarType.Float32);
            target_scale = ones(1, ScalarType.Float32);
        }

        RegisterComponents();
        InitializeHeads(seed);
    }

    /// <summary>The backbone.</summary>
    public EncoderNetwork Encoder => encoder;

    /// <summary>The heads' architecture.</summary>
    public EarlyExitNetworkConfig Config { get; }

    /// <summary>L, the number of layers (and exits).</summary>
    public int NumLayers => encoder.NumLayers;

    /// <summary>C, the number of classes (1 for a regression model).</summary>
    public int NumLabels => Config.NumLabels;

    /// <summary>Whether the exits predict a real value rather than class logits.</summary>
    public bool IsRegression => Config.IsRegression;

    /// <summary>A regression model's target standard deviation (its heads predict targets divided by it); 1 for a classifier.</summary>
    public double TargetScale => target_scale?.item<float>() ?? 1.0;

    /// <summary>
    /// Sets a regression model's target statistics: its exits predict <c>z * scale + mean</c> for the
    /// standardised output z of their heads. Set them from the training targets before training.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model is a classifier.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The scale is not positive or a value not finite.</exception>
    public void SetTargetStatistics(double mean, double scale)
    {
        if (target_mean is null || target_scale is null)
        {
            throw new InvalidOperationException("Target statistics belong to regression models (NumLabels = 1); this model is a classifier.");
        }

        if (!double.IsFinite(mean) || !(scale > 0 && double.IsFinite(scale)))
        {
            throw new ArgumentOutOfRangeException(nameof(scale), $"The target mean must be finite and the scale positive, got mean {mean} and scale {scale}.");
        }

        using var noGrad = no_grad();
        target_mean.fill_(mean);
        target_scale.fill_(scale);
    }

    /// <summary>Whether the model has a halting (lambda) head.</summary>
    public bool HasHaltingHead => halting is not null;

    /// <summary>Whether the halting head reads every earlier layer's pooled state (<see cref="HaltingVariant.LayerAttention"/>): <see cref="Step"/> then needs them.</summary>
    public bool ReadsPooledHistory => halting?.ReadsHistory ?? false;

    /// <summary>The parameters of the halting head (trained with their own learning rate); empty without one.</summary>
    public IEnumerable<Parameter> HaltingParameters() => halting?.parameters() ?? [];

    /// <summary>
    /// The heads of layer <paramref name="layer"/> (0-based) on that layer's output
    /// <paramref name="hidden"/> [B, T, H]; <paramref name="previousPooled"/> is the previous layer's
    /// pooled state [B, H] (zeros before the first layer), read by the halting head;
    /// <paramref name="attentionMask"/> [B, T] (1 for real tokens, 0 for padding) says which tokens mean pooling averages;
    /// <paramref name="earlierPooled"/> holds the pooled states of every earlier layer, oldest first, when
    /// <see cref="ReadsPooledHistory"/> (else it may be null).
    /// </summary>
    public LayerHeadsOutput Step(int layer, Tensor hidden, Tensor previousPooled, Tensor attentionMask, IReadOnlyList<Tensor>? earlierPooled = null)
    {
        if (layer < 0 || layer >= NumLayers)
        {
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"layer must be in [0, {NumLayers}).");
        }

        if (ReadsPooledHistory && (earlierPooled?.Count ?? 0) != layer)
        {
            throw new ArgumentException($"The halting head of layer {layer} reads the pooled states of the {layer} layers before it; given {earlierPooled?.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}.", nameof(earlierPooled));
        }

        using var scope = NewDisposeScope();
        Tensor pooled = Pool(hidden, attentionMask);
        Linear head = classifier ?? classifiers![layer];
        Tensor logits = head.call(dropout.call(pooled)); // [B, H] -> [B, C]
        if (target_mean is not null && target_scale is not null)
        {
            logits = (logits * target_scale) + target_mean; // [B, 1]: standardised -> the target's units
        }

        Tensor? haltingLogit = halting?.Forward(layer, pooled, previousPooled, earlierPooled ?? [], Config.HaltingReadsConfidence ? Confidence(logits) : null); // [B]
        scope.MoveToOuter(pooled, logits);
        haltingLogit?.MoveToOuterDisposeScope();
        return new LayerHeadsOutput(pooled, logits, haltingLogit);
    }

    /// <summary>Zeros shaped like a pooled state, for the halting head of the first layer: [B, H].</summary>
    public Tensor InitialPooled(long rows, Device device) => zeros(rows, encoder.HiddenSize, ScalarType.Float32, device);

    /// <summary>Runs every layer: each layer's class logits and halting logits (training, full-depth records).</summary>
    public LayerwiseOutput Forward(Tensor inputIds, Tensor? tokenTypeIds, Tensor attentionMask) => call(inputIds, tokenTypeIds, attentionMask);

    /// <summary>The module's forward; call <see cref="Forward(Tensor, Tensor?, Tensor)"/> instead.</summary>
    public override LayerwiseOutput forward(Tensor inputIds, Tensor? tokenTypeIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        Tensor hidden = encoder.Embed(inputIds, tokenTypeIds, attentionMask);
        using AttentionMask mask = encoder.PrepareMask(attentionMask);
        Tensor previous = InitialPooled(inputIds.shape[0], hidden.device);
        var logits = new List<Tensor>(NumLayers);
        var haltingLogits = new List<Tensor>(NumLayers);
        var earlier = new List<Tensor>(NumLayers);
        for (int layer = 0; layer < NumLayers; layer++)
        {
            hidden = encoder.ForwardLayer(layer, hidden, mask);
            LayerHeadsOutput heads = Step(layer, hidden, previous, attentionMask, earlier);
            earlier.Add(heads.Pooled);
            logits.Add(heads.Logits);
            if (heads.HaltingLogit is not null)
            {
                haltingLogits.Add(heads.HaltingLogit);
            }

            previous = heads.Pooled;
        }

        Tensor stackedLogits = stack(logits); // L x [B, C] -> [L, B, C]
        Tensor? stackedHalting = haltingLogits.Count > 0 ? stack(haltingLogits) : null; // L x [B] -> [L, B]
        stackedLogits.MoveToOuterDisposeScope();
        stackedHalting?.MoveToOuterDisposeScope();
        return new LayerwiseOutput(stackedLogits, stackedHalting);
    }

    // The classifier's largest probability and normalised entropy H(p) / log C, without gradient: [B, C] -> [B, 2].
    private static Tensor Confidence(Tensor logits)
    {
        using var scope = NewDisposeScope();
        Tensor logP = logits.detach().log_softmax(-1); // [B, C]
        Tensor top = logP.exp().max(-1).values; // [B]
        Tensor entropy = -(logP.exp() * logP).sum(-1) / Math.Log(logits.shape[1]); // [B]
        return stack([top, entropy], 1).MoveToOuterDisposeScope(); // 2 x [B] -> [B, 2]
    }

    private Tensor Pool(Tensor hidden, Tensor attentionMask)
    {
        if (Config.Pooling == HeadPooling.Mean)
        {
            using var scope = NewDisposeScope();
            Tensor weights = attentionMask.to_type(hidden.dtype).unsqueeze(-1); // [B, T] -> [B, T, 1]
            Tensor sum = (hidden * weights).sum(1); // [B, T, H] -> [B, H]
            Tensor count = weights.sum(1).clamp_min(1.0); // [B, T, 1] -> [B, 1]
            return (sum / count).MoveToOuterDisposeScope();
        }

        if (pooler is null)
        {
            return encoder.Pool(hidden)!;
        }

        Tensor first = hidden.select(1, 0); // [B, T, H] -> [B, H]
        return pooler.call(first).tanh();
    }

    private void InitializeHeads(long seed)
    {
        using var generator = new Generator(unchecked((ulong)seed), CPU);
        using var noGrad = no_grad();
        double std = encoder.Config.InitializerRange;
        IEnumerable<Linear> linears = new[] { pooler, classifier }.OfType<Linear>()
            .Concat(classifiers ?? Enumerable.Empty<Linear>())
            .Concat(halting?.modules().OfType<Linear>() ?? Enumerable.Empty<Linear>());
        foreach (Linear linear in linears)
        {
            using Tensor sample = empty(linear.weight!.shape, ScalarType.Float32, CPU).normal_(0.0, std, generator);
            linear.weight.copy_(sample);
            linear.bias?.zero_();
        }
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
