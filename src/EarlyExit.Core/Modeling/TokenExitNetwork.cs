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
// Auxiliary tag tasks (AuxiliaryTagTask, issue 14): one more linear head per task, after the task's
// layer, on the same states as that layer's off-ramp (so, under halt-and-copy, a halted token's copied
// state). They are trained with the off-ramps and never decide exits. Their heads are registered and
// initialised after the off-ramps, so a network without tasks keeps its parameter names and seeded weights.
//
// Layer attention (TokenOffRampInput, issue 14): the off-ramp after layer i may read a learned attention
// over the token's states after layers 1..i, or over their differences (Modeling/LayerAttention.cs),
// instead of layer i's state alone. Its pools are registered after the auxiliary heads. Whoever runs
// the layers keeps the states (OffRampLogits takes them), since scoring holds them per row.
//
// Word pooling (WordPoolingLayer k, issue 14): before layer k the states of each word's pieces are averaged
// into one position (Modeling/WordPooling.cs), so layers k..L and their off-ramps run on words. Their
// logits are spread back onto the word's tokens, so every output stays [.., B, T, ..] and a word's tag
// is still read from its first piece. Pooling needs each token's word id, so Forward takes them.
//
// Shapes: B rows, T tokens, U units (words and special tokens), H hidden, C tags, L layers.
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EarlyExit.Modeling;

/// <summary>Every layer's token logits, from <see cref="TokenExitNetwork.Forward"/>.</summary>
/// <param name="Logits">[L, B, T, C].</param>
/// <param name="Auxiliary">Each auxiliary task's logits [B, T, C_t], in the order of <see cref="TokenExitNetwork.AuxiliaryTasks"/>; null for none.</param>
public sealed record TokenLayerwiseOutput(Tensor Logits, IReadOnlyList<Tensor>? Auxiliary = null) : IDisposable
{
    /// <summary>Each auxiliary task's logits [B, T, C_t] (empty without tasks).</summary>
    public IReadOnlyList<Tensor> Auxiliary { get; } = Auxiliary ?? [];

    /// <inheritdoc />
    public void Dispose()
    {
        Logits.Dispose();
        foreach (Tensor logits in Auxiliary)
        {
            logits.Dispose();
        }
    }
}

/// <summary>An encoder with a token classifier (off-ramp) after every layer, for early-exit sequence labelling.</summary>
public sealed partial class TokenExitNetwork : nn.Module<Tensor, Tensor?, Tensor, TokenLayerwiseOutput>
{
    private readonly EncoderNetwork encoder;
    private readonly Dropout dropout;
    private readonly ModuleList<Linear> classifiers;
    private readonly ModuleList<Linear> auxiliary;
    private readonly ModuleList<LayerAttentionPool> attention;

    /// <summary>Puts an off-ramp after every layer of <paramref name="encoder"/>, which the classifier then owns.</summary>
    /// <param name="encoder">The backbone.</param>
    /// <param name="numLabels">C, the number of tags (at least 2).</param>
    /// <param name="dropoutProbability">Dropout on the hidden states before each off-ramp.</param>
    /// <param name="seed">Seed of the heads' initial weights (normal(0, initializer_range), zero biases).</param>
    /// <param name="auxiliaryTasks">Auxiliary tag tasks, each with its head after its layer; null or empty for none.</param>
    /// <param name="offRampInput">What each off-ramp reads: its layer's state (default), or a learned attention over the states or differences of the layers so far.</param>
    /// <param name="wordPoolingLayer">The 1-based first layer that runs on words, their pieces averaged into one position; 0 (default) for none.</param>
    /// <exception cref="ArgumentException">An auxiliary task is invalid for this encoder, or two share a name.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="wordPoolingLayer"/> is not 0 and not a layer of the encoder.</exception>
    public TokenExitNetwork(EncoderNetwork encoder, int numLabels, double dropoutProbability = 0.1, long seed = EncoderNetwork.DefaultSeed,
        IReadOnlyList<AuxiliaryTagTask>? auxiliaryTasks = null, TokenOffRampInput offRampInput = TokenOffRampInput.Layer, int wordPoolingLayer = 0)
        : base(nameof(TokenExitNetwork))
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentOutOfRangeException.ThrowIfLessThan(numLabels, 2);
        if (dropoutProbability is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(dropoutProbability), dropoutProbability, "Dropout must be in [0, 1).");
        }

        if (!Enum.IsDefined(offRampInput))
        {
            throw new ArgumentOutOfRangeException(nameof(offRampInput), offRampInput, $"Use one of {string.Join(", ", Enum.GetNames<TokenOffRampInput>())}.");
        }

        if (wordPoolingLayer < 0 || wordPoolingLayer > encoder.NumLayers)
        {
            throw new ArgumentOutOfRangeException(nameof(wordPoolingLayer), wordPoolingLayer,
                $"Word pooling starts at a layer in 1..{encoder.NumLayers} (the first layer that runs on words), or 0 for none.");
        }

        AuxiliaryTasks = CheckTasks(auxiliaryTasks ?? [], encoder.NumLayers);
        WordPoolingLayer = wordPoolingLayer;
        OffRampInput = offRampInput;
        NumLabels = numLabels;
        DropoutProbability = dropoutProbability;
        this.encoder = encoder;
        using (new GlobalRngGuard())
        {
            dropout = nn.Dropout(dropoutProbability);
            classifiers = nn.ModuleList(Enumerable.Range(0, encoder.NumLayers).Select(_ => nn.Linear(encoder.HiddenSize, numLabels)).ToArray());
            auxiliary = nn.ModuleList(AuxiliaryTasks.Select(t => nn.Linear(encoder.HiddenSize, t.NumLabels)).ToArray());
            attention = nn.ModuleList(offRampInput == TokenOffRampInput.Layer ? []
                : Enumerable.Range(1, encoder.NumLayers).Select(values => new LayerAttentionPool(encoder.HiddenSize, values)).ToArray());
        }

        RegisterComponents();
        using var generator = new Generator(unchecked((ulong)seed), CPU);
        using var noGrad = no_grad();
        foreach (Linear linear in classifiers.Concat(auxiliary))
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

    /// <summary>What each off-ramp reads.</summary>
    public TokenOffRampInput OffRampInput { get; }

    /// <summary>Whether the off-ramps read earlier layers' states too (<see cref="OffRampLogits"/> needs them).</summary>
    public bool ReadsLayerHistory => OffRampInput != TokenOffRampInput.Layer;

    /// <summary>The 1-based first layer that runs on words (each word's pieces averaged into one position), or 0 when every layer runs on pieces.</summary>
    public int WordPoolingLayer { get; }

    /// <summary>Whether layers from <see cref="WordPoolingLayer"/> on run on words (<see cref="Forward"/> then needs word ids).</summary>
    public bool PoolsWords => WordPoolingLayer > 0;

    /// <summary>The learned attention pools of the off-ramps (none when they read their layer), for a learning rate of their own.</summary>
    internal IEnumerable<Parameter> LayerAttentionParameters() => attention.parameters();

    /// <summary>The auxiliary tag tasks, in the order of their heads (empty for none).</summary>
    public IReadOnlyList<AuxiliaryTagTask> AuxiliaryTasks { get; }

    /// <summary>Auxiliary task <paramref name="task"/>'s logits for hidden states [B, T, H] (or [N, H]) after its layer: [B, T, C_t].</summary>
    public Tensor AuxiliaryLogits(int task, Tensor hidden)
    {
        if (task < 0 || task >= AuxiliaryTasks.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(task), task, $"task must be in [0, {AuxiliaryTasks.Count}): the network has {AuxiliaryTasks.Count} auxiliary tasks.");
        }

        using var scope = NewDisposeScope();
        return auxiliary[task].call(dropout.call(hidden)).MoveToOuterDisposeScope();
    }

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

    /// <summary>
    /// Off-ramp <paramref name="layer"/>'s logits from the token states so far: <paramref name="history"/>[0] the
    /// embeddings' output, [k] the states after layer k (1-based), each [..., H] for the same tokens; at least
    /// <paramref name="layer"/> + 2 of them. With <see cref="TokenOffRampInput.Layer"/> only [layer + 1] is read.
    /// </summary>
    public Tensor OffRampLogits(int layer, IReadOnlyList<Tensor> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        if (history.Count < layer + 2)
        {
            throw new ArgumentException($"Off-ramp {layer} reads the embeddings and layers 1 to {layer + 1}; given {history.Count} states.", nameof(history));
        }

        if (!ReadsLayerHistory)
        {
            return TokenLogits(layer, history[layer + 1]);
        }

        using var scope = NewDisposeScope();
        Tensor values = OffRampInput == TokenOffRampInput.LayerAttention
            ? stack(history.Skip(1).Take(layer + 1)) // [J, ..., H]
            : stack(Enumerable.Range(1, layer + 1).Select(j => history[j] - history[j - 1]));
        return TokenLogits(layer, attention[layer].call(values)).MoveToOuterDisposeScope();
    }

    /// <summary>Runs every layer (no halting): each off-ramp's token logits.</summary>
    /// <param name="inputIds">int64 [B, T].</param>
    /// <param name="tokenTypeIds">int64 [B, T], or null.</param>
    /// <param name="attentionMask">[B, T], right-padded.</param>
    /// <param name="wordIds">int64 [B, T]: each token's word, below 0 for special tokens; needed when the network <see cref="PoolsWords"/>.</param>
    /// <exception cref="ArgumentException">The network pools words and <paramref name="wordIds"/> is null.</exception>
    public TokenLayerwiseOutput Forward(Tensor inputIds, Tensor? tokenTypeIds, Tensor attentionMask, Tensor? wordIds = null) =>
        Run(inputIds, tokenTypeIds, attentionMask, haltLayers: null, wordIds);

    /// <summary>
    /// Runs every layer with halt-and-copy: after layer <c>haltLayers[b, t]</c> (1-based; L or more means
    /// never) token t of row b keeps its hidden state, so later off-ramps see the copied state.
    /// </summary>
    /// <param name="inputIds">int64 [B, T].</param>
    /// <param name="tokenTypeIds">int64 [B, T], or null.</param>
    /// <param name="attentionMask">[B, T].</param>
    /// <param name="haltLayers">int64 [B, T], the 1-based layer each token halts after (the pieces of a word together, when the network pools words).</param>
    /// <param name="wordIds">int64 [B, T]: each token's word, below 0 for special tokens; needed when the network <see cref="PoolsWords"/>.</param>
    public TokenLayerwiseOutput ForwardWithHalting(Tensor inputIds, Tensor? tokenTypeIds, Tensor attentionMask, Tensor haltLayers, Tensor? wordIds = null)
    {
        ArgumentNullException.ThrowIfNull(haltLayers);
        return Run(inputIds, tokenTypeIds, attentionMask, haltLayers, wordIds);
    }

    /// <summary>The module's forward; call <see cref="Forward"/> instead.</summary>
    public override TokenLayerwiseOutput forward(Tensor inputIds, Tensor? tokenTypeIds, Tensor attentionMask) =>
        Run(inputIds, tokenTypeIds, attentionMask, haltLayers: null, wordIds: null);

    private TokenLayerwiseOutput Run(Tensor inputIds, Tensor? tokenTypeIds, Tensor attentionMask, Tensor? haltLayers, Tensor? wordIds)
    {
        if (PoolsWords && wordIds is null)
        {
            throw new ArgumentException($"This network runs on words from layer {WordPoolingLayer}; pass each token's word id (below 0 for special tokens).", nameof(wordIds));
        }

        using var scope = NewDisposeScope();
        Tensor hidden = encoder.Embed(inputIds, tokenTypeIds, attentionMask);
        AttentionMask mask = encoder.PrepareMask(attentionMask);
        var logits = new List<Tensor>(NumLayers);
        var history = new List<Tensor>(NumLayers + 1) { hidden };
        var auxiliaryLogits = new Tensor[AuxiliaryTasks.Count];
        WordPooling? words = null; // from WordPoolingLayer on: the states are [B, U, H], and outputs are spread back onto tokens
        try
        {
            for (int layer = 0; layer < NumLayers; layer++)
            {
                if (layer + 1 == WordPoolingLayer)
                {
                    words = WordPooling.Plan(wordIds!, attentionMask, hidden.dtype);
                    history = history.Select(words.Pool).ToList();
                    hidden = history[^1];
                    mask.Dispose();
                    mask = encoder.PrepareMask(words.Mask);
                    haltLayers = haltLayers?.gather(1, words.FirstTokens); // [B, T] -> [B, U]: a unit halts with its first token
                }

                Tensor next = encoder.ForwardLayer(layer, hidden, mask);
                if (haltLayers is not null)
                {
                    Tensor active = haltLayers.gt(layer).unsqueeze(-1); // [B, T] -> [B, T, 1]: still running at this layer
                    next = where(active, next, hidden);
                }

                hidden = next;
                history.Add(hidden);
                logits.Add(OnTokens(words, OffRampLogits(layer, history)));
                for (int task = 0; task < AuxiliaryTasks.Count; task++)
                {
                    if (AuxiliaryTasks[task].Layer == layer + 1)
                    {
                        auxiliaryLogits[task] = OnTokens(words, AuxiliaryLogits(task, hidden));
                    }
                }
            }
        }
        finally
        {
            mask.Dispose();
        }

        Tensor stacked = stack(logits); // L x [B, T, C] -> [L, B, T, C]
        scope.MoveToOuter(auxiliaryLogits);
        return new TokenLayerwiseOutput(stacked.MoveToOuterDisposeScope(), auxiliaryLogits);
    }

    // Per-position outputs [B, T or U, C] laid out on tokens.
    private static Tensor OnTokens(WordPooling? words, Tensor outputs) => words is null ? outputs : words.Spread(outputs);

    private static AuxiliaryTagTask[] CheckTasks(IReadOnlyList<AuxiliaryTagTask> tasks, int layers)
    {
        if (tasks.Any(t => t is null))
        {
            throw new ArgumentException("An auxiliary task is null.", "auxiliaryTasks");
        }

        var problems = tasks.SelectMany(t => t.Problems(layers)).ToList();
        problems.AddRange(tasks.GroupBy(t => t.Name, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1)
            .Select(g => $"{g.Count()} auxiliary tasks are named '{g.Key}'; give each task its own name."));
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid auxiliary tasks: " + string.Join(" ", problems), "auxiliaryTasks");
        }

        return [.. tasks];
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
