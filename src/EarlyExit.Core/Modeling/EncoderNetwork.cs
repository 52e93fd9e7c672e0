// The encoder API shared by every family (docs/design.md, "The encoder API"). Early exit stops
// between layers, so besides Forward the encoder exposes the steps: Embed, PrepareMask (once per
// batch), ForwardLayer (one layer, optionally for a subset of query positions) and Pool.
//
// Shapes: B batch, T tokens, E embedding width, H hidden size, nH heads, dH head width, Q query positions.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace EarlyExit.Modeling;

/// <summary>
/// The additive attention mask of one batch, [B, 1, 1, T]: 0 where a key may be attended to and the
/// dtype's lowest value where it is padding (as transformers computes it). Made once per batch by
/// <see cref="EncoderNetwork.PrepareMask(Tensor)"/> and passed to every layer.
/// </summary>
public sealed class AttentionMask : IDisposable
{
    internal AttentionMask(Tensor additive)
    {
        Additive = additive;
    }

    /// <summary>The additive mask, [B, 1, 1, T].</summary>
    public Tensor Additive { get; }

    /// <summary>B, the number of rows.</summary>
    public long BatchSize => Additive.shape[0];

    /// <summary>T, the number of key positions.</summary>
    public long Length => Additive.shape[3];

    /// <summary>The mask of a row subset (rows: int64 [R]); pair it with <c>hidden.index_select(0, rows)</c>.</summary>
    public AttentionMask IndexSelect(Tensor rows) => new(Additive.index_select(0, rows));

    /// <inheritdoc />
    public void Dispose() => Additive.Dispose();
}

/// <summary>
/// Everything one forward pass computes, for convenience and parity checks. The caller owns the
/// tensors; <see cref="Dispose"/> releases them all.
/// </summary>
public sealed class EncoderOutput : IDisposable
{
    /// <summary>Creates an output; the tensors become owned by it.</summary>
    public EncoderOutput(Tensor embeddings, IReadOnlyList<Tensor> hiddenStates, Tensor? poolerOutput)
    {
        Embeddings = embeddings;
        HiddenStates = hiddenStates;
        PoolerOutput = poolerOutput;
    }

    /// <summary>Output of the embeddings module, before any projection to hidden_size: [B, T, E].</summary>
    public Tensor Embeddings { get; }

    /// <summary>L + 1 hidden states [B, T, H]: index 0 is the input of the first layer, index k the output of layer k.</summary>
    public IReadOnlyList<Tensor> HiddenStates { get; }

    /// <summary>The output of the last layer, [B, T, H].</summary>
    public Tensor LastHiddenState => HiddenStates[^1];

    /// <summary>tanh(W h[:, 0] + b), [B, H], or null when the encoder has no pooler.</summary>
    public Tensor? PoolerOutput { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (Tensor tensor in Distinct(Embeddings, HiddenStates, PoolerOutput))
        {
            tensor.Dispose();
        }
    }

    internal static IEnumerable<Tensor> Distinct(Tensor embeddings, IEnumerable<Tensor> hiddenStates, Tensor? pooler)
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (Tensor tensor in hiddenStates.Prepend(embeddings).Append(pooler).OfType<Tensor>())
        {
            if (seen.Add(tensor))
            {
                yield return tensor;
            }
        }
    }
}

/// <summary>
/// A Hugging Face-compatible transformer encoder (ALBERT, BERT, ELECTRA, RoBERTa) with its layer
/// steps exposed for early exit. Module names are the checkpoint keys without the family prefix, so
/// <c>state_dict()</c> names match <c>model.safetensors</c>.
/// </summary>
public abstract partial class EncoderNetwork : nn.Module<Tensor, Tensor?, Tensor, EncoderOutput>
{
    /// <summary>The seed the constructors use when none is given.</summary>
    public const long DefaultSeed = 0;

    /// <summary>Validates <paramref name="config"/> and stores it; derived constructors build the modules.</summary>
    protected EncoderNetwork(string name, EncoderConfig config)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config.EnsureValid();
    }

    /// <summary>The architecture.</summary>
    public EncoderConfig Config { get; }

    /// <summary>L, the number of layer steps (ForwardLayer accepts 0 .. L - 1).</summary>
    public int NumLayers => Config.NumHiddenLayers;

    /// <summary>H, the width of every hidden state.</summary>
    public int HiddenSize => Config.HiddenSize;

    /// <summary>Whether <see cref="Pool(Tensor)"/> returns a value.</summary>
    public abstract bool HasPooler { get; }

    /// <summary>
    /// Builds the encoder of <paramref name="config"/>'s family with freshly initialised weights.
    /// </summary>
    /// <param name="config">The architecture.</param>
    /// <param name="withPooler">Whether to add a pooler; null takes the family's default (yes, except ELECTRA, which has none).</param>
    /// <param name="seed">Seed of the private generator the initial weights are drawn from; torch's global generator is left untouched.</param>
    public static EncoderNetwork Create(EncoderConfig config, bool? withPooler = null, long seed = DefaultSeed)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.EnsureValid().Family switch
        {
            EncoderFamily.Albert => new AlbertEncoder(config, withPooler ?? true, seed),
            _ => new BertEncoder(config, withPooler, seed),
        };
    }

    /// <summary>Token ids to the first hidden state: [B, T] -> [B, T, H] (= hidden_states[0], after any projection).</summary>
    /// <param name="inputIds">int64 [B, T].</param>
    /// <param name="tokenTypeIds">int64 [B, T], or null for all zeros.</param>
    /// <param name="attentionMask">[B, T], 1 for tokens and 0 for padding (checked for shape; RoBERTa derives positions from the padding id, as transformers does).</param>
    public Tensor Embed(Tensor inputIds, Tensor? tokenTypeIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        Tensor types = CheckInputs(inputIds, tokenTypeIds, attentionMask);
        Tensor embeddings = EmbedTokens(inputIds, types);
        return ProjectEmbeddings(embeddings).MoveToOuterDisposeScope();
    }

    /// <summary>A [B, T] 0/1 mask to the additive mask every layer uses, [B, 1, 1, T]; compute it once per batch.</summary>
    public AttentionMask PrepareMask(Tensor attentionMask)
    {
        ArgumentNullException.ThrowIfNull(attentionMask);
        if (attentionMask.ndim != 2)
        {
            throw new ArgumentException($"attentionMask must be [B, T], found shape {Shape(attentionMask)}.", nameof(attentionMask));
        }

        using var scope = NewDisposeScope();
        ScalarType dtype = ParameterType;
        Tensor keep = attentionMask.to_type(dtype);
        Tensor additive = (1.0 - keep) * finfo(dtype).min;
        Tensor shaped = additive.view(attentionMask.shape[0], 1, 1, attentionMask.shape[1]); // [B, T] -> [B, 1, 1, T]
        return new AttentionMask(shaped.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Runs layer step <paramref name="layer"/> (0-based). Keys and values span all T positions of
    /// <paramref name="hidden"/>; with <paramref name="queryIndex"/> only those positions are computed
    /// (queries, residual, LayerNorm and feed-forward), which is what token-level early exit needs.
    /// </summary>
    /// <param name="layer">0 .. NumLayers - 1. For ALBERT, step i runs shared group i / (L / G).</param>
    /// <param name="hidden">[B, T, H].</param>
    /// <param name="mask">From <see cref="PrepareMask(Tensor)"/>, for the same B rows and T positions.</param>
    /// <param name="queryIndex">Optional int64 [B, Q]: the positions of each row to compute.</param>
    /// <returns>[B, T, H] without <paramref name="queryIndex"/>, [B, Q, H] with it.</returns>
    public Tensor ForwardLayer(int layer, Tensor hidden, AttentionMask mask, Tensor? queryIndex = null)
    {
        CheckLayerArguments(layer, hidden, mask, queryIndex);
        using var scope = NewDisposeScope();
        return RunLayer(layer, hidden, mask, queryIndex).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Runs layer step <paramref name="layer"/> for the positions at <paramref name="queryIndex"/>, as
    /// <see cref="ForwardLayer"/> does, and returns only the query slots at <paramref name="packIndex"/>, packed
    /// into one list: what token-level early exit needs when rows have different numbers of active tokens
    /// (their query index repeats a position to pad). The families this library implements pack right after
    /// attention, so the feed-forward runs on the packed slots alone.
    /// </summary>
    /// <param name="layer">0 .. NumLayers - 1.</param>
    /// <param name="hidden">[B, T, H].</param>
    /// <param name="mask">From <see cref="PrepareMask(Tensor)"/>, for the same B rows and T positions.</param>
    /// <param name="queryIndex">int64 [B, Q]: the positions of each row to compute.</param>
    /// <param name="packIndex">int64 [N]: the slots to keep, each b * Q + q.</param>
    /// <returns>[N, H]: slot packIndex[n]'s output, the same as ForwardLayer's [B, Q, H] output flattened and indexed.</returns>
    public Tensor ForwardLayerPacked(int layer, Tensor hidden, AttentionMask mask, Tensor queryIndex, Tensor packIndex)
    {
        ArgumentNullException.ThrowIfNull(queryIndex);
        ArgumentNullException.ThrowIfNull(packIndex);
        if (packIndex.ndim != 1 || packIndex.dtype != ScalarType.Int64)
        {
            throw new ArgumentException($"packIndex must be int64 [N], found {packIndex.dtype} shape {Shape(packIndex)}.", nameof(packIndex));
        }

        CheckLayerArguments(layer, hidden, mask, queryIndex);
        CheckIndexRange(packIndex, queryIndex.shape[0] * queryIndex.shape[1], nameof(packIndex), "a query slot b * Q + q");
        using var scope = NewDisposeScope();
        return RunLayerPacked(layer, hidden, mask, queryIndex, packIndex).MoveToOuterDisposeScope();
    }

    /// <summary>The pooler output tanh(W h[:, 0] + b): [B, T, H] -> [B, H]; null when the encoder has no pooler.</summary>
    public abstract Tensor? Pool(Tensor hidden);

    /// <summary>The whole encoder: embeddings, every hidden state and the pooler output.</summary>
    /// <param name="inputIds">int64 [B, T].</param>
    /// <param name="tokenTypeIds">int64 [B, T], or null for all zeros.</param>
    /// <param name="attentionMask">[B, T], 1 for tokens and 0 for padding.</param>
    public EncoderOutput Forward(Tensor inputIds, Tensor? tokenTypeIds, Tensor attentionMask) => call(inputIds, tokenTypeIds, attentionMask);

    /// <summary>The module's forward; call <see cref="Forward(Tensor, Tensor?, Tensor)"/> instead.</summary>
    public override EncoderOutput forward(Tensor inputIds, Tensor? tokenTypeIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        Tensor types = CheckInputs(inputIds, tokenTypeIds, attentionMask);
        Tensor embeddings = EmbedTokens(inputIds, types);
        Tensor hidden = ProjectEmbeddings(embeddings);
        using AttentionMask mask = PrepareMask(attentionMask);
        var states = new List<Tensor>(NumLayers + 1) { hidden };
        for (int layer = 0; layer < NumLayers; layer++)
        {
            hidden = RunLayer(layer, hidden, mask, queryIndex: null);
            states.Add(hidden);
        }

        Tensor? pooled = Pool(hidden);
        scope.MoveToOuter(EncoderOutput.Distinct(embeddings, states, pooled));
        return new EncoderOutput(embeddings, states, pooled);
    }

    /// <summary>
    /// Draws every weight again from a private generator seeded with <paramref name="seed"/>, as
    /// transformers' <c>_init_weights</c> does: normal(0, initializer_range) for linear and embedding
    /// weights, zero biases, LayerNorm weight 1 and bias 0, zero embedding rows at the padding index.
    /// Values are drawn on the CPU, so the same seed gives the same weights on every device.
    /// </summary>
    public void InitializeWeights(long seed)
    {
        using var generator = new Generator(unchecked((ulong)seed), CPU);
        using var noGrad = no_grad();
        double std = Config.InitializerRange;
        foreach (var (_, module) in named_modules().OrderBy(m => m.name, StringComparer.Ordinal))
        {
            switch (module)
            {
                case Linear linear:
                    FillNormal(linear.weight!, std, generator);
                    linear.bias?.zero_();
                    break;
                case Embedding embedding:
                    FillNormal(embedding.weight!, std, generator);
                    break;
                case LayerNorm norm:
                    norm.weight?.fill_(1.0);
                    norm.bias?.zero_();
                    break;
            }
        }

        foreach (var (embedding, row) in PaddingRows())
        {
            using Tensor padding = embedding.weight![row];
            padding.zero_();
        }
    }

    /// <summary>The family's token embeddings: [B, T] ids -> [B, T, E] (word + position + token type, LayerNorm, dropout).</summary>
    protected abstract Tensor EmbedTokens(Tensor inputIds, Tensor tokenTypeIds);

    /// <summary>The projection from embedding width to hidden width where the family has one: [B, T, E] -> [B, T, H].</summary>
    protected virtual Tensor ProjectEmbeddings(Tensor embeddings) => embeddings;

    /// <summary>One layer step, arguments already checked.</summary>
    protected abstract Tensor RunLayer(int layer, Tensor hidden, AttentionMask mask, Tensor? queryIndex);

    /// <summary>
    /// One layer step with the query slots at <paramref name="packIndex"/> packed ([N, H]), arguments already
    /// checked. The default runs <see cref="RunLayer"/> and packs its output; a family packs earlier to save work.
    /// </summary>
    protected virtual Tensor RunLayerPacked(int layer, Tensor hidden, AttentionMask mask, Tensor queryIndex, Tensor packIndex) =>
        RunLayer(layer, hidden, mask, queryIndex).reshape(-1, HiddenSize).index_select(0, packIndex);

    /// <summary>The embeddings whose padding row transformers zeroes at initialisation, with that row.</summary>
    protected abstract IEnumerable<(Embedding Embedding, long Row)> PaddingRows();

    private void CheckLayerArguments(int layer, Tensor hidden, AttentionMask mask, Tensor? queryIndex)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        ArgumentNullException.ThrowIfNull(mask);
        if (layer < 0 || layer >= NumLayers)
        {
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"layer must be in [0, {NumLayers}); this {Config.ModelType} encoder has {NumLayers} layers.");
        }

        if (hidden.ndim != 3 || hidden.shape[2] != HiddenSize)
        {
            throw new ArgumentException($"hidden must be [B, T, {HiddenSize}], found shape {Shape(hidden)}.", nameof(hidden));
        }

        if (mask.BatchSize != hidden.shape[0] || mask.Length != hidden.shape[1])
        {
            throw new ArgumentException($"mask is for {mask.BatchSize} rows of {mask.Length} positions but hidden has shape {Shape(hidden)}; select the same rows from both.", nameof(mask));
        }

        if (queryIndex is null)
        {
            return;
        }

        if (queryIndex.ndim != 2 || queryIndex.shape[0] != hidden.shape[0] || queryIndex.dtype != ScalarType.Int64)
        {
            throw new ArgumentException($"queryIndex must be int64 [B, Q] with B = {hidden.shape[0]}, found {queryIndex.dtype} shape {Shape(queryIndex)}.", nameof(queryIndex));
        }

        CheckIndexRange(queryIndex, hidden.shape[1], nameof(queryIndex), "a position of its row (0 .. T - 1)");
    }

    // Every value of an index must address an existing entry; libtorch's own error names neither the index nor the bound.
    private static void CheckIndexRange(Tensor index, long bound, string name, string what)
    {
        if (index.numel() == 0)
        {
            return;
        }

        using Tensor lowest = index.min();
        using Tensor highest = index.max();
        long low = lowest.item<long>();
        long high = highest.item<long>();
        if (low < 0 || high >= bound)
        {
            throw new ArgumentOutOfRangeException(name, $"{name} holds values {low} .. {high}, but each must be {what}, below {bound}.");
        }
    }

    private ScalarType ParameterType => parameters().FirstOrDefault()?.dtype ?? ScalarType.Float32;

    private Tensor CheckInputs(Tensor inputIds, Tensor? tokenTypeIds, Tensor attentionMask)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        ArgumentNullException.ThrowIfNull(attentionMask);
        if (inputIds.ndim != 2 || inputIds.dtype != ScalarType.Int64)
        {
            throw new ArgumentException($"inputIds must be int64 [B, T], found {inputIds.dtype} shape {Shape(inputIds)}.", nameof(inputIds));
        }

        if (!attentionMask.shape.SequenceEqual(inputIds.shape))
        {
            throw new ArgumentException($"attentionMask has shape {Shape(attentionMask)} but inputIds has {Shape(inputIds)}.", nameof(attentionMask));
        }

        if (tokenTypeIds is null)
        {
            return zeros_like(inputIds);
        }

        if (!tokenTypeIds.shape.SequenceEqual(inputIds.shape) || tokenTypeIds.dtype != ScalarType.Int64)
        {
            throw new ArgumentException($"tokenTypeIds must be int64 with the shape of inputIds {Shape(inputIds)}, found {tokenTypeIds.dtype} shape {Shape(tokenTypeIds)}.", nameof(tokenTypeIds));
        }

        return tokenTypeIds;
    }

    private static void FillNormal(Tensor weight, double std, Generator generator)
    {
        using Tensor sample = empty(weight.shape, ScalarType.Float32, CPU).normal_(0.0, std, generator);
        weight.copy_(sample);
    }

    internal static string Shape(Tensor tensor) => $"[{string.Join(", ", tensor.shape)}]";

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

/// <summary>
/// Saves torch's global CPU generator state and restores it on dispose. Building TorchSharp modules
/// draws their default initial weights from that generator; the encoders draw their own weights from
/// a seeded private generator, so construction must leave the global state as it found it.
/// </summary>
internal sealed class GlobalRngGuard : IDisposable
{
    private readonly Tensor _state = torch.random.get_rng_state();

    public void Dispose()
    {
        torch.random.set_rng_state(_state);
        _state.Dispose();
    }
}

/// <summary>Arithmetic the families share: activations, multi-head attention, query selection.</summary>
internal static class EncoderOps
{
    /// <summary>The feed-forward activation named by hidden_act (validated by the config).</summary>
    public static Tensor Activate(string hiddenAct, Tensor x) => hiddenAct switch
    {
        "gelu" => x.gelu(),
        "gelu_new" => x.gelu(GELU.Approximate.tanh),
        "relu" => x.relu(),
        _ => throw new ArgumentException($"hidden_act '{hiddenAct}' is not supported; supported: {string.Join(", ", EncoderConfig.SupportedActivations)}."),
    };

    /// <summary>The rows of <paramref name="hidden"/> at <paramref name="queryIndex"/>: [B, T, H] gathered to [B, Q, H]; the input itself when there is no index.</summary>
    public static Tensor SelectQueries(Tensor hidden, Tensor? queryIndex)
    {
        if (queryIndex is null)
        {
            return hidden;
        }

        Tensor index = queryIndex.unsqueeze(-1).expand(queryIndex.shape[0], queryIndex.shape[1], hidden.shape[2]); // [B, Q] -> [B, Q, H]
        return hidden.gather(1, index);
    }

    /// <summary>
    /// Scaled dot-product attention of <paramref name="queries"/> [B, Q, H] over all positions of
    /// <paramref name="hidden"/> [B, T, H]; returns the context [B, Q, H] (before the output dense).
    /// </summary>
    public static Tensor Attend(Linear query, Linear key, Linear value, int heads, Tensor hidden, Tensor queries, AttentionMask mask, double dropout)
    {
        long b = hidden.shape[0];
        long t = hidden.shape[1];
        long q = queries.shape[1];
        long h = hidden.shape[2];
        long d = h / heads;
        Tensor qh = query.call(queries).view(b, q, heads, d).transpose(1, 2); // [B, Q, H] -> [B, nH, Q, dH]
        Tensor kh = key.call(hidden).view(b, t, heads, d).transpose(1, 2); // [B, T, H] -> [B, nH, T, dH]
        Tensor vh = value.call(hidden).view(b, t, heads, d).transpose(1, 2); // [B, T, H] -> [B, nH, T, dH]
        Tensor context = F.scaled_dot_product_attention(qh, kh, vh, mask.Additive, dropout); // [B, nH, Q, dH]
        return context.transpose(1, 2).reshape(b, q, h); // [B, nH, Q, dH] -> [B, Q, H]
    }
}
