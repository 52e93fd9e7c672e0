// BERT, ELECTRA and RoBERTa: one layer stack, three ways in.
//
//   BERT     embeddings (hidden_size wide) -> encoder.layer.N -> pooler (tanh of the first token)
//   ELECTRA  embeddings (embedding_size wide) -> embeddings_project (only when embedding_size != hidden_size)
//            -> encoder.layer.N; no pooler
//   RoBERTa  as BERT, but position ids count the non-padding tokens from pad_token_id + 1
//            (cumsum over input_ids != pad), and padding tokens get position pad_token_id
//
// Field names are the Hugging Face module names (self, LayerNorm, embeddings_project, ...), so the
// registered parameter names are the checkpoint keys without the bert./electra./roberta. prefix.
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EarlyExit.Modeling;

/// <summary>
/// The BERT-layer encoder used by BERT, ELECTRA and RoBERTa (transformers' BertModel, ElectraModel
/// and RobertaModel), with the early-exit steps of <see cref="EncoderNetwork"/>.
/// </summary>
public sealed partial class BertEncoder : EncoderNetwork
{
    private readonly BertEmbeddings embeddings;
    private readonly Linear? embeddings_project;
    private readonly BertLayerStack encoder;
    private readonly BertPooler? pooler;

    /// <summary>Builds a BERT, ELECTRA or RoBERTa encoder with weights drawn from <paramref name="seed"/>.</summary>
    /// <param name="config">A bert, electra or roberta config.</param>
    /// <param name="withPooler">Whether to add a pooler; null for the family default (BERT and RoBERTa yes, ELECTRA no; ELECTRA cannot have one).</param>
    /// <param name="seed">Seed of the private generator of the initial weights (see <see cref="EncoderNetwork.InitializeWeights(long)"/>).</param>
    /// <exception cref="ArgumentException">The config is invalid, of another family, or asks ELECTRA for a pooler.</exception>
    public BertEncoder(EncoderConfig config, bool? withPooler = null, long seed = DefaultSeed)
        : base(nameof(BertEncoder), config)
    {
        EncoderFamily family = Config.Family;
        if (family == EncoderFamily.Albert)
        {
            throw new ArgumentException($"BertEncoder implements bert, electra and roberta; model_type '{Config.ModelType}' needs {nameof(AlbertEncoder)}.", nameof(config));
        }

        if (family == EncoderFamily.Electra && withPooler == true)
        {
            throw new ArgumentException("electra has no pooler (transformers' ElectraModel has none); pass withPooler null or false.", nameof(withPooler));
        }

        using (new GlobalRngGuard())
        {
            embeddings = new BertEmbeddings(Config, Config.EmbeddingWidth, robertaPositions: family == EncoderFamily.Roberta);
            embeddings_project = Config.EmbeddingWidth != Config.HiddenSize ? nn.Linear(Config.EmbeddingWidth, Config.HiddenSize) : null;
            encoder = new BertLayerStack(Config);
            pooler = (withPooler ?? family != EncoderFamily.Electra) ? new BertPooler(Config) : null;
        }

        RegisterComponents();
        InitializeWeights(seed);
    }

    /// <inheritdoc />
    public override bool HasPooler => pooler is not null;

    /// <inheritdoc />
    public override Tensor? Pool(Tensor hidden) => pooler?.call(hidden);

    /// <inheritdoc />
    protected override Tensor EmbedTokens(Tensor inputIds, Tensor tokenTypeIds) => embeddings.call(inputIds, tokenTypeIds);

    /// <inheritdoc />
    protected override Tensor ProjectEmbeddings(Tensor embeddings) => embeddings_project?.call(embeddings) ?? embeddings;

    /// <inheritdoc />
    protected override Tensor RunLayer(int layer, Tensor hidden, AttentionMask mask, Tensor? queryIndex) => encoder.Layer(layer).call(hidden, mask, queryIndex);

    /// <inheritdoc />
    protected override Tensor RunLayerPacked(int layer, Tensor hidden, AttentionMask mask, Tensor queryIndex, Tensor packIndex) =>
        encoder.Layer(layer).ForwardPacked(hidden, mask, queryIndex, packIndex);

    /// <inheritdoc />
    protected override IEnumerable<(Embedding Embedding, long Row)> PaddingRows() => embeddings.PaddingRows();
}

/// <summary>
/// Word + position + token-type embeddings, LayerNorm, dropout (transformers' BertEmbeddings, shared
/// by all four families; ALBERT and ELECTRA use it at embedding_size width).
/// </summary>
internal sealed partial class BertEmbeddings : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Embedding word_embeddings;
    private readonly Embedding position_embeddings;
    private readonly Embedding token_type_embeddings;
    private readonly TorchSharp.Modules.LayerNorm LayerNorm;
    private readonly Dropout dropout;
    private readonly bool _robertaPositions;
    private readonly long _padId;
    private readonly long _maxPositions;
    private readonly long _maxSequenceLength;

    public BertEmbeddings(EncoderConfig config, int width, bool robertaPositions)
        : base(nameof(BertEmbeddings))
    {
        _robertaPositions = robertaPositions;
        _padId = config.PadTokenId;
        _maxPositions = config.MaxPositionEmbeddings;
        _maxSequenceLength = config.MaxSequenceLength;
        word_embeddings = nn.Embedding(config.VocabSize, width, padding_idx: config.PadTokenId);
        position_embeddings = robertaPositions
            ? nn.Embedding(config.MaxPositionEmbeddings, width, padding_idx: config.PadTokenId)
            : nn.Embedding(config.MaxPositionEmbeddings, width);
        token_type_embeddings = nn.Embedding(config.TypeVocabSize, width);
        LayerNorm = nn.LayerNorm(width, eps: config.LayerNormEps);
        dropout = nn.Dropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    /// <summary>The rows transformers zeroes at initialisation: the padding word, and for RoBERTa the padding position.</summary>
    public IEnumerable<(Embedding Embedding, long Row)> PaddingRows()
    {
        yield return (word_embeddings, _padId);
        if (_robertaPositions)
        {
            yield return (position_embeddings, _padId);
        }
    }

    public override Tensor forward(Tensor inputIds, Tensor tokenTypeIds)
    {
        using var scope = NewDisposeScope();
        Tensor positions = _robertaPositions ? RobertaPositions(inputIds) : AbsolutePositions(inputIds);
        Tensor summed = word_embeddings.call(inputIds) + token_type_embeddings.call(tokenTypeIds);
        summed = summed + position_embeddings.call(positions); // [B, T, E]
        return dropout.call(LayerNorm.call(summed)).MoveToOuterDisposeScope();
    }

    private Tensor AbsolutePositions(Tensor inputIds)
    {
        long b = inputIds.shape[0];
        long t = inputIds.shape[1];
        if (t > _maxSequenceLength)
        {
            throw new ArgumentException($"The input has {t} tokens but max_position_embeddings is {_maxPositions}; truncate to at most {_maxSequenceLength} tokens.", nameof(inputIds));
        }

        return arange(t, ScalarType.Int64, inputIds.device).unsqueeze(0).expand(b, t); // [T] -> [B, T]
    }

    // position = pad + (number of non-padding tokens up to and including this one), and pad itself at
    // padding tokens, as transformers' create_position_ids_from_input_ids.
    private Tensor RobertaPositions(Tensor inputIds)
    {
        long t = inputIds.shape[1];
        long longest = _maxSequenceLength;
        if (t > longest)
        {
            throw new ArgumentException(
                $"The input has {t} tokens but roberta's max_position_embeddings {_maxPositions} with pad_token_id {_padId} allows at most {longest}; truncate the input.",
                nameof(inputIds));
        }

        Tensor notPad = inputIds.ne(_padId).to_type(ScalarType.Int64);
        return notPad.cumsum(1) * notPad + _padId;
    }
}

/// <summary>Query, key and value projections and the attention itself (transformers' BertSelfAttention).</summary>
internal sealed partial class BertSelfAttention : nn.Module<Tensor, Tensor, AttentionMask, Tensor>
{
    private readonly Linear query;
    private readonly Linear key;
    private readonly Linear value;
    private readonly Dropout dropout;
    private readonly int _heads;

    public BertSelfAttention(EncoderConfig config)
        : base(nameof(BertSelfAttention))
    {
        _heads = config.NumAttentionHeads;
        query = nn.Linear(config.HiddenSize, config.HiddenSize);
        key = nn.Linear(config.HiddenSize, config.HiddenSize);
        value = nn.Linear(config.HiddenSize, config.HiddenSize);
        dropout = nn.Dropout(config.AttentionProbsDropoutProb);
        RegisterComponents();
    }

    /// <summary>hidden [B, T, H] (keys, values), queries [B, Q, H] -> context [B, Q, H].</summary>
    public override Tensor forward(Tensor hidden, Tensor queries, AttentionMask mask)
    {
        using var scope = NewDisposeScope();
        double p = training ? dropout.p : 0.0;
        return EncoderOps.Attend(query, key, value, _heads, hidden, queries, mask, p).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Dense, dropout, residual and LayerNorm: the output of the attention block (transformers'
/// BertSelfOutput, input width H) and of the feed-forward block (BertOutput, input width I). Both
/// have the same parameters (dense, LayerNorm), so one class serves both checkpoint places.
/// </summary>
internal sealed partial class BertResidualOutput : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Linear dense;
    private readonly TorchSharp.Modules.LayerNorm LayerNorm;
    private readonly Dropout dropout;

    public BertResidualOutput(EncoderConfig config, int inputWidth)
        : base(nameof(BertResidualOutput))
    {
        dense = nn.Linear(inputWidth, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        dropout = nn.Dropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    /// <summary>input [B, Q, H or I], residual [B, Q, H] -> [B, Q, H].</summary>
    public override Tensor forward(Tensor input, Tensor residual)
    {
        using var scope = NewDisposeScope();
        return LayerNorm.call(dropout.call(dense.call(input)) + residual).MoveToOuterDisposeScope();
    }
}

/// <summary>The attention block (transformers' BertAttention: <c>self</c> and <c>output</c>).</summary>
internal sealed partial class BertAttention : nn.Module<Tensor, Tensor, AttentionMask, Tensor>
{
    private readonly BertSelfAttention @self;
    private readonly BertResidualOutput output;

    public BertAttention(EncoderConfig config)
        : base(nameof(BertAttention))
    {
        @self = new BertSelfAttention(config);
        output = new BertResidualOutput(config, config.HiddenSize);
        RegisterComponents();
    }

    /// <summary>hidden [B, T, H], queries [B, Q, H] -> [B, Q, H].</summary>
    public override Tensor forward(Tensor hidden, Tensor queries, AttentionMask mask)
    {
        using var scope = NewDisposeScope();
        Tensor context = @self.call(hidden, queries, mask);
        return output.call(context, queries).MoveToOuterDisposeScope();
    }

    /// <summary>As forward, with the query slots at packIndex [N] (each b * Q + q) packed after attention: -> [N, H].</summary>
    public Tensor ForwardPacked(Tensor hidden, Tensor queries, AttentionMask mask, Tensor packIndex)
    {
        using var scope = NewDisposeScope();
        long width = queries.shape[2];
        Tensor context = @self.call(hidden, queries, mask).reshape(-1, width).index_select(0, packIndex); // [B, Q, H] -> [N, H]
        Tensor residual = queries.reshape(-1, width).index_select(0, packIndex); // [B, Q, H] -> [N, H]
        return output.call(context, residual).MoveToOuterDisposeScope();
    }
}

/// <summary>The first feed-forward dense and its activation (transformers' BertIntermediate).</summary>
internal sealed partial class BertIntermediate : nn.Module<Tensor, Tensor>
{
    private readonly Linear dense;
    private readonly string _activation;

    public BertIntermediate(EncoderConfig config)
        : base(nameof(BertIntermediate))
    {
        _activation = config.HiddenAct;
        dense = nn.Linear(config.HiddenSize, config.IntermediateSize);
        RegisterComponents();
    }

    /// <summary>[B, Q, H] -> [B, Q, I].</summary>
    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        return EncoderOps.Activate(_activation, dense.call(hidden)).MoveToOuterDisposeScope();
    }
}

/// <summary>One transformer layer (transformers' BertLayer), computing only the query positions when given.</summary>
internal sealed partial class BertLayer : nn.Module<Tensor, AttentionMask, Tensor?, Tensor>
{
    private readonly BertAttention attention;
    private readonly BertIntermediate intermediate;
    private readonly BertResidualOutput output;

    public BertLayer(EncoderConfig config)
        : base(nameof(BertLayer))
    {
        attention = new BertAttention(config);
        intermediate = new BertIntermediate(config);
        output = new BertResidualOutput(config, config.IntermediateSize);
        RegisterComponents();
    }

    /// <summary>hidden [B, T, H] -> [B, T, H], or [B, Q, H] for queryIndex [B, Q].</summary>
    public override Tensor forward(Tensor hidden, AttentionMask mask, Tensor? queryIndex)
    {
        using var scope = NewDisposeScope();
        Tensor queries = EncoderOps.SelectQueries(hidden, queryIndex); // [B, T, H] -> [B, Q, H]
        Tensor attended = attention.call(hidden, queries, mask);
        return output.call(intermediate.call(attended), attended).MoveToOuterDisposeScope();
    }

    /// <summary>hidden [B, T, H], queryIndex [B, Q], packIndex [N] -> [N, H]: the feed-forward runs on the packed slots alone.</summary>
    public Tensor ForwardPacked(Tensor hidden, AttentionMask mask, Tensor queryIndex, Tensor packIndex)
    {
        using var scope = NewDisposeScope();
        Tensor queries = EncoderOps.SelectQueries(hidden, queryIndex); // [B, T, H] -> [B, Q, H]
        Tensor attended = attention.ForwardPacked(hidden, queries, mask, packIndex); // [N, H]
        return output.call(intermediate.call(attended), attended).MoveToOuterDisposeScope();
    }
}

/// <summary>The layer list, registered as <c>encoder.layer.N</c> (transformers' BertEncoder).</summary>
internal sealed class BertLayerStack : nn.Module
{
    private readonly ModuleList<BertLayer> layer;

    public BertLayerStack(EncoderConfig config)
        : base(nameof(BertLayerStack))
    {
        layer = nn.ModuleList(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new BertLayer(config)).ToArray());
        RegisterComponents();
    }

    public BertLayer Layer(int index) => layer[index];
}

/// <summary>tanh of a dense layer applied to the first token (transformers' BertPooler).</summary>
internal sealed partial class BertPooler : nn.Module<Tensor, Tensor>
{
    private readonly Linear dense;

    public BertPooler(EncoderConfig config)
        : base(nameof(BertPooler))
    {
        dense = nn.Linear(config.HiddenSize, config.HiddenSize);
        RegisterComponents();
    }

    /// <summary>[B, T, H] -> [B, H].</summary>
    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        Tensor first = hidden.select(1, 0); // [B, T, H] -> [B, H]
        return dense.call(first).tanh().MoveToOuterDisposeScope();
    }
}
