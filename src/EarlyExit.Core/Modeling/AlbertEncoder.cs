// ALBERT (Lan et al., 2019): factorised embeddings and cross-layer parameter sharing.
//
//   embeddings (embedding_size E wide) -> encoder.embedding_hidden_mapping_in (E -> H)
//   -> L steps; step i runs every layer of group i / (L / G), G = num_hidden_groups,
//      each group holding inner_group_num layers (albert_layer_groups.g.albert_layers.j)
//   -> pooler (a Linear on the first token, then tanh)
//
// With the usual G = 1 and inner_group_num = 1 all L steps reuse one layer's parameters.
// Field names are the Hugging Face module names, so parameter names are checkpoint keys without
// the albert. prefix.
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EarlyExit.Modeling;

/// <summary>
/// The ALBERT encoder (transformers' AlbertModel) with the early-exit steps of
/// <see cref="EncoderNetwork"/>. <see cref="EncoderNetwork.ForwardLayer"/>(i) runs shared
/// group i / (L / G), so exiting after step i is exactly HF's hidden_states[i + 1].
/// </summary>
public sealed partial class AlbertEncoder : EncoderNetwork
{
    private readonly BertEmbeddings embeddings;
    private readonly AlbertTransformer encoder;
    private readonly Linear? pooler;

    /// <summary>Builds an ALBERT encoder with weights drawn from <paramref name="seed"/>.</summary>
    /// <param name="config">An albert config.</param>
    /// <param name="withPooler">Whether to add the pooler (AlbertModel's default is yes).</param>
    /// <param name="seed">Seed of the private generator of the initial weights (see <see cref="EncoderNetwork.InitializeWeights(long)"/>).</param>
    /// <exception cref="ArgumentException">The config is invalid or not an albert config.</exception>
    public AlbertEncoder(EncoderConfig config, bool withPooler = true, long seed = DefaultSeed)
        : base(nameof(AlbertEncoder), config)
    {
        if (Config.Family != EncoderFamily.Albert)
        {
            throw new ArgumentException($"AlbertEncoder implements albert; model_type '{Config.ModelType}' needs {nameof(BertEncoder)}.", nameof(config));
        }

        using (new GlobalRngGuard())
        {
            embeddings = new BertEmbeddings(Config, Config.EmbeddingWidth, robertaPositions: false);
            encoder = new AlbertTransformer(Config);
            pooler = withPooler ? nn.Linear(Config.HiddenSize, Config.HiddenSize) : null;
        }

        RegisterComponents();
        InitializeWeights(seed);
    }

    /// <summary>The shared group that layer step <paramref name="layer"/> runs: layer / (L / G).</summary>
    public int GroupOf(int layer) => layer / (Config.NumHiddenLayers / Config.NumHiddenGroups);

    /// <inheritdoc />
    public override bool HasPooler => pooler is not null;

    /// <inheritdoc />
    public override Tensor? Pool(Tensor hidden)
    {
        if (pooler is null)
        {
            return null;
        }

        using var scope = NewDisposeScope();
        Tensor first = hidden.select(1, 0); // [B, T, H] -> [B, H]
        return pooler.call(first).tanh().MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    protected override Tensor EmbedTokens(Tensor inputIds, Tensor tokenTypeIds) => embeddings.call(inputIds, tokenTypeIds);

    /// <inheritdoc />
    protected override Tensor ProjectEmbeddings(Tensor embeddings) => encoder.Project(embeddings);

    /// <inheritdoc />
    protected override Tensor RunLayer(int layer, Tensor hidden, AttentionMask mask, Tensor? queryIndex) =>
        encoder.Group(GroupOf(layer)).call(hidden, mask, queryIndex);

    /// <inheritdoc />
    protected override Tensor RunLayerPacked(int layer, Tensor hidden, AttentionMask mask, Tensor queryIndex, Tensor packIndex) =>
        encoder.Group(GroupOf(layer)).ForwardPacked(hidden, mask, queryIndex, packIndex);

    /// <inheritdoc />
    protected override IEnumerable<(Embedding Embedding, long Row)> PaddingRows() => embeddings.PaddingRows();
}

/// <summary>The projection to hidden_size and the shared layer groups (transformers' AlbertTransformer).</summary>
internal sealed partial class AlbertTransformer : nn.Module
{
    private readonly Linear embedding_hidden_mapping_in;
    private readonly ModuleList<AlbertLayerGroup> albert_layer_groups;

    public AlbertTransformer(EncoderConfig config)
        : base(nameof(AlbertTransformer))
    {
        embedding_hidden_mapping_in = nn.Linear(config.EmbeddingWidth, config.HiddenSize);
        albert_layer_groups = nn.ModuleList(Enumerable.Range(0, config.NumHiddenGroups).Select(_ => new AlbertLayerGroup(config)).ToArray());
        RegisterComponents();
    }

    /// <summary>[B, T, E] -> [B, T, H].</summary>
    public Tensor Project(Tensor embeddings) => embedding_hidden_mapping_in.call(embeddings);

    public AlbertLayerGroup Group(int index) => albert_layer_groups[index];
}

/// <summary>The inner_group_num layers one step runs (transformers' AlbertLayerGroup).</summary>
internal sealed partial class AlbertLayerGroup : nn.Module<Tensor, AttentionMask, Tensor?, Tensor>
{
    private readonly ModuleList<AlbertLayer> albert_layers;

    public AlbertLayerGroup(EncoderConfig config)
        : base(nameof(AlbertLayerGroup))
    {
        albert_layers = nn.ModuleList(Enumerable.Range(0, config.InnerGroupNum).Select(_ => new AlbertLayer(config)).ToArray());
        RegisterComponents();
    }

    /// <summary>
    /// hidden [B, T, H] -> [B, T, H], or [B, Q, H] for queryIndex [B, Q]. Every inner layer but the
    /// last needs all positions (the next one attends over them), so only the last is restricted.
    /// </summary>
    public override Tensor forward(Tensor hidden, AttentionMask mask, Tensor? queryIndex)
    {
        using var scope = NewDisposeScope();
        return albert_layers[^1].call(AllButLast(hidden, mask), mask, queryIndex).MoveToOuterDisposeScope();
    }

    /// <summary>As forward, with the last inner layer's query slots at packIndex [N] (each b * Q + q) packed: -> [N, H].</summary>
    public Tensor ForwardPacked(Tensor hidden, AttentionMask mask, Tensor queryIndex, Tensor packIndex)
    {
        using var scope = NewDisposeScope();
        return albert_layers[^1].ForwardPacked(AllButLast(hidden, mask), mask, queryIndex, packIndex).MoveToOuterDisposeScope();
    }

    // Every inner layer but the last, on all positions (in the caller's dispose scope).
    private Tensor AllButLast(Tensor hidden, AttentionMask mask)
    {
        for (int i = 0; i < albert_layers.Count - 1; i++)
        {
            hidden = albert_layers[i].call(hidden, mask, null);
        }

        return hidden;
    }
}

/// <summary>One ALBERT layer: attention block, then feed-forward with a residual LayerNorm (transformers' AlbertLayer).</summary>
internal sealed partial class AlbertLayer : nn.Module<Tensor, AttentionMask, Tensor?, Tensor>
{
    private readonly TorchSharp.Modules.LayerNorm full_layer_layer_norm;
    private readonly AlbertAttention attention;
    private readonly Linear ffn;
    private readonly Linear ffn_output;
    private readonly string _activation;

    public AlbertLayer(EncoderConfig config)
        : base(nameof(AlbertLayer))
    {
        _activation = config.HiddenAct;
        full_layer_layer_norm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        attention = new AlbertAttention(config);
        ffn = nn.Linear(config.HiddenSize, config.IntermediateSize);
        ffn_output = nn.Linear(config.IntermediateSize, config.HiddenSize);
        RegisterComponents();
    }

    /// <summary>hidden [B, T, H] -> [B, T, H], or [B, Q, H] for queryIndex [B, Q].</summary>
    /// <remarks>transformers' AlbertLayer declares a dropout that its forward never applies; so does this one not.</remarks>
    public override Tensor forward(Tensor hidden, AttentionMask mask, Tensor? queryIndex)
    {
        using var scope = NewDisposeScope();
        Tensor queries = EncoderOps.SelectQueries(hidden, queryIndex); // [B, T, H] -> [B, Q, H]
        return FeedForward(attention.call(hidden, queries, mask)).MoveToOuterDisposeScope();
    }

    /// <summary>hidden [B, T, H], queryIndex [B, Q], packIndex [N] -> [N, H]: the feed-forward runs on the packed slots alone.</summary>
    public Tensor ForwardPacked(Tensor hidden, AttentionMask mask, Tensor queryIndex, Tensor packIndex)
    {
        using var scope = NewDisposeScope();
        Tensor queries = EncoderOps.SelectQueries(hidden, queryIndex); // [B, T, H] -> [B, Q, H]
        return FeedForward(attention.ForwardPacked(hidden, queries, mask, packIndex)).MoveToOuterDisposeScope(); // [N, H]
    }

    // The feed-forward with its residual LayerNorm, position by position: [..., H] -> [..., H] (in the caller's dispose scope).
    private Tensor FeedForward(Tensor attended) =>
        full_layer_layer_norm.call(ffn_output.call(EncoderOps.Activate(_activation, ffn.call(attended))) + attended); // [..., I] -> [..., H]
}

/// <summary>ALBERT's attention block, projections and output in one module (transformers' AlbertAttention).</summary>
internal sealed partial class AlbertAttention : nn.Module<Tensor, Tensor, AttentionMask, Tensor>
{
    private readonly Linear query;
    private readonly Linear key;
    private readonly Linear value;
    private readonly Dropout attention_dropout;
    private readonly Dropout output_dropout;
    private readonly Linear dense;
    private readonly TorchSharp.Modules.LayerNorm LayerNorm;
    private readonly int _heads;

    public AlbertAttention(EncoderConfig config)
        : base(nameof(AlbertAttention))
    {
        _heads = config.NumAttentionHeads;
        query = nn.Linear(config.HiddenSize, config.HiddenSize);
        key = nn.Linear(config.HiddenSize, config.HiddenSize);
        value = nn.Linear(config.HiddenSize, config.HiddenSize);
        attention_dropout = nn.Dropout(config.AttentionProbsDropoutProb);
        output_dropout = nn.Dropout(config.HiddenDropoutProb);
        dense = nn.Linear(config.HiddenSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        RegisterComponents();
    }

    /// <summary>hidden [B, T, H] (keys, values), queries [B, Q, H] -> [B, Q, H].</summary>
    public override Tensor forward(Tensor hidden, Tensor queries, AttentionMask mask)
    {
        using var scope = NewDisposeScope();
        double p = training ? attention_dropout.p : 0.0;
        return Output(EncoderOps.Attend(query, key, value, _heads, hidden, queries, mask, p), queries).MoveToOuterDisposeScope();
    }

    /// <summary>As forward, with the query slots at packIndex [N] (each b * Q + q) packed after attention: -> [N, H].</summary>
    public Tensor ForwardPacked(Tensor hidden, Tensor queries, AttentionMask mask, Tensor packIndex)
    {
        using var scope = NewDisposeScope();
        double p = training ? attention_dropout.p : 0.0;
        long width = queries.shape[2];
        Tensor context = EncoderOps.Attend(query, key, value, _heads, hidden, queries, mask, p).reshape(-1, width).index_select(0, packIndex); // [B, Q, H] -> [N, H]
        Tensor residual = queries.reshape(-1, width).index_select(0, packIndex); // [B, Q, H] -> [N, H]
        return Output(context, residual).MoveToOuterDisposeScope();
    }

    // The output projection with its residual LayerNorm, position by position (in the caller's dispose scope).
    private Tensor Output(Tensor context, Tensor residual) => LayerNorm.call(residual + output_dropout.call(dense.call(context)));
}
