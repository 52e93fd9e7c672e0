// The ONNX form of each encoder module, beside the module (partial classes), so an export computes
// what forward computes: the same weights, the same order of operations, eval mode (no dropout).
// Names follow forward; each method takes the graph and the names of its input values and returns
// the name of its output. A layer takes an optional query index, as forward does: only those positions
// are computed (queries, residuals, feed-forward), attending over every position (token-level exit).
// With a pack index too, the attended queries of all rows are packed into one list of real positions
// [N, H] (the padding of the query index dropped) before the feed-forward, which then runs on those alone.
//
// Shapes as in forward: B rows, T tokens, Q query positions, E embedding width, H hidden, nH heads, dH head width.
using EarlyExit.Onnx;
using TorchSharp.Modules;

namespace EarlyExit.Modeling;

/// <summary>The ONNX counterparts of <see cref="EncoderOps"/> and of the Linear and LayerNorm modules.</summary>
internal static class OnnxOps
{
    /// <summary>x W^T + b: [.., in] -> [.., out].</summary>
    public static string Linear(OnnxGraph g, Linear linear, string x)
    {
        string product = g.Op("MatMul", [x, g.Weight(linear.weight!, "weight", transpose: true)]);
        return linear.bias is null ? product : g.Op("Add", [product, g.Weight(linear.bias, "bias")]);
    }

    /// <summary>LayerNormalization over the last axis.</summary>
    public static string LayerNorm(OnnxGraph g, TorchSharp.Modules.LayerNorm norm, string x) =>
        g.Op("LayerNormalization", [x, g.Weight(norm.weight!, "ln_weight"), g.Weight(norm.bias!, "ln_bias")],
            OnnxAttribute.Of("axis", -1L), OnnxAttribute.Of("epsilon", (float)norm.eps));

    /// <summary>The activation named by hidden_act, in the node patterns ONNX Runtime fuses (Gelu, FastGelu).</summary>
    public static string Activate(OnnxGraph g, string hiddenAct, string x)
    {
        switch (hiddenAct)
        {
            case "gelu": // x * 0.5 * (1 + erf(x / sqrt 2))
                string erf = g.Op("Erf", [g.Op("Div", [x, g.Scalar(MathF.Sqrt(2f))])]);
                return g.Op("Mul", [g.Op("Mul", [x, g.Op("Add", [erf, g.Scalar(1f)])]), g.Scalar(0.5f)]);
            case "gelu_new": // 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
                string cube = g.Op("Mul", [g.Op("Mul", [x, x]), x]);
                string inner = g.Op("Add", [x, g.Op("Mul", [cube, g.Scalar(0.044715f)])]);
                string tanh = g.Op("Tanh", [g.Op("Mul", [inner, g.Scalar(MathF.Sqrt(2f / MathF.PI))])]);
                return g.Op("Mul", [g.Op("Mul", [x, g.Scalar(0.5f)]), g.Op("Add", [tanh, g.Scalar(1f)])]);
            case "relu":
                return g.Op("Relu", [x]);
            default:
                throw new ArgumentException($"hidden_act '{hiddenAct}' is not supported; supported: {string.Join(", ", EncoderConfig.SupportedActivations)}.");
        }
    }

    /// <summary>
    /// Multi-head attention of the positions <paramref name="queries"/> [B, Q, H] over every position of
    /// <paramref name="hidden"/> [B, T, H], with the additive mask [B, 1, 1, T]: the context [B, Q, H] before
    /// the output dense (as EncoderOps.Attend).
    /// </summary>
    public static string Attend(OnnxGraph g, Linear query, Linear key, Linear value, int heads, string hidden, string queries, string mask)
    {
        long hiddenSize = query.weight!.shape[0];
        long d = hiddenSize / heads;
        string split = g.Ints(0, 0, heads, d); // [B, T, H] -> [B, T, nH, dH]
        string Heads(Linear projection, string states, long[] perm) =>
            g.Op("Transpose", [g.Op("Reshape", [Linear(g, projection, states), split])], OnnxAttribute.Of("perm", perm));
        string q = Heads(query, queries, [0, 2, 1, 3]); // [B, nH, Q, dH]
        string k = Heads(key, hidden, [0, 2, 3, 1]); // [B, nH, dH, T]
        string v = Heads(value, hidden, [0, 2, 1, 3]); // [B, nH, T, dH]
        string scores = g.Op("Div", [g.Op("MatMul", [q, k]), g.Scalar(MathF.Sqrt(d))]); // [B, nH, Q, T]
        string weights = g.Op("Softmax", [g.Op("Add", [scores, mask])], OnnxAttribute.Of("axis", -1L));
        string context = g.Op("Transpose", [g.Op("MatMul", [weights, v])], OnnxAttribute.Of("perm", 0L, 2L, 1L, 3L)); // [B, Q, nH, dH]
        return g.Op("Reshape", [context, g.Ints(0, 0, hiddenSize)]); // [B, Q, H]
    }

    /// <summary>
    /// The positions <paramref name="queryIndex"/> (int64 [B, Q]) of <paramref name="hidden"/> [B, T, H]: [B, Q, H]
    /// (as EncoderOps.SelectQueries); <paramref name="hidden"/> itself without an index.
    /// </summary>
    public static string SelectQueries(OnnxGraph g, string hidden, string? queryIndex) =>
        queryIndex is null ? hidden : g.Op("GatherElements", [hidden, StateIndex(g, hidden, queryIndex)], OnnxAttribute.Of("axis", 1L));

    /// <summary>
    /// The states of <paramref name="states"/> [B, Q, H] at the flat positions <paramref name="packIndex"/> (int64 [N],
    /// b * Q + q): [N, H]; <paramref name="states"/> itself without an index.
    /// </summary>
    public static string Pack(OnnxGraph g, string states, string? packIndex) =>
        packIndex is null ? states : g.Op("Gather", [Rows(g, states), packIndex], OnnxAttribute.Of("axis", 0L));

    /// <summary>
    /// <paramref name="hidden"/> [B, T, H] with <paramref name="rows"/> [N, H] written at the flat token positions
    /// <paramref name="tokenIndex"/> (int64 [N], b * T + t); a position written twice must get the same state twice.
    /// </summary>
    public static string ScatterRows(OnnxGraph g, string hidden, string tokenIndex, string rows) =>
        g.Op("Reshape", [g.Op("ScatterND", [Rows(g, hidden), g.Op("Unsqueeze", [tokenIndex, g.Ints(-1)]), rows]), g.Op("Shape", [hidden])]);

    // [B, T, H] -> [B * T, H].
    private static string Rows(OnnxGraph g, string states) =>
        g.Op("Reshape", [states, g.Op("Concat", [g.Ints(-1), Width(g, states)], OnnxAttribute.Of("axis", 0L))]);

    // [B, Q] -> [B, Q, H]: the query positions, for gathering whole hidden states.
    private static string StateIndex(OnnxGraph g, string hidden, string queryIndex)
    {
        string shape = g.Op("Concat", [g.Op("Shape", [queryIndex]), Width(g, hidden)], OnnxAttribute.Of("axis", 0L)); // [B, Q, H]
        return g.Op("Expand", [g.Op("Unsqueeze", [queryIndex, g.Ints(-1)]), shape]);
    }

    // [B, T, H] -> the shape [H], as a 1-D int64 tensor.
    private static string Width(OnnxGraph g, string states) => g.Op("Slice", [g.Op("Shape", [states]), g.Ints(2), g.Ints(3)]);

    /// <summary>A pooler: tanh(W h[:, 0] + b), [B, T, H] -> [B, H].</summary>
    public static string TanhOfFirst(OnnxGraph g, Linear dense, string hidden) =>
        g.Op("Tanh", [Linear(g, dense, g.Op("Gather", [hidden, g.IntScalar(0)], OnnxAttribute.Of("axis", 1L)))]);
}

public abstract partial class EncoderNetwork
{
    /// <summary>The ONNX form of <see cref="Embed"/>: int64 ids and token types [B, T] to the first hidden state [B, T, H].</summary>
    internal string OnnxEmbed(OnnxGraph g, string inputIds, string tokenTypeIds) => OnnxProject(g, OnnxEmbedTokens(g, inputIds, tokenTypeIds));

    /// <summary>The ONNX form of <see cref="PrepareMask"/>: int64 [B, T] 0/1 to the additive float mask [B, 1, 1, T].</summary>
    internal static string OnnxMask(OnnxGraph g, string attentionMask)
    {
        string keep = g.Op("Cast", [attentionMask], OnnxAttribute.Of("to", (long)OnnxType.Float));
        string additive = g.Op("Mul", [g.Op("Sub", [g.Scalar(1f), keep]), g.Scalar(float.MinValue)]);
        return g.Op("Unsqueeze", [additive, g.Ints(1, 2)]);
    }

    /// <summary>
    /// The ONNX form of layer step <paramref name="layer"/> (<see cref="ForwardLayer"/>): [B, T, H] -> [B, T, H] over every
    /// position, or [B, Q, H] for the positions of <paramref name="queryIndex"/> (int64 [B, Q]) alone, or [N, H] for those
    /// of them that <paramref name="packIndex"/> (int64 [N], b * Q + q) names, packed before the feed-forward.
    /// </summary>
    internal abstract string OnnxLayer(OnnxGraph g, int layer, string hidden, string mask, string? queryIndex = null, string? packIndex = null);

    /// <summary>The ONNX form of <see cref="Pool"/>; null when the encoder has no pooler.</summary>
    internal abstract string? OnnxPool(OnnxGraph g, string hidden);

    /// <summary>Which parameter set layer step <paramref name="layer"/> runs: steps with the same key have one graph.</summary>
    internal virtual int OnnxLayerKey(int layer) => layer;

    private protected abstract string OnnxEmbedTokens(OnnxGraph g, string inputIds, string tokenTypeIds);

    private protected virtual string OnnxProject(OnnxGraph g, string embeddings) => embeddings;
}

public sealed partial class BertEncoder
{
    internal override string OnnxLayer(OnnxGraph g, int layer, string hidden, string mask, string? queryIndex = null, string? packIndex = null) =>
        encoder.Layer(layer).Onnx(g, hidden, mask, queryIndex, packIndex);

    internal override string? OnnxPool(OnnxGraph g, string hidden) => pooler?.Onnx(g, hidden);

    private protected override string OnnxEmbedTokens(OnnxGraph g, string inputIds, string tokenTypeIds) => embeddings.Onnx(g, inputIds, tokenTypeIds);

    private protected override string OnnxProject(OnnxGraph g, string embeddings) =>
        embeddings_project is null ? embeddings : OnnxOps.Linear(g, embeddings_project, embeddings);
}

public sealed partial class AlbertEncoder
{
    internal override string OnnxLayer(OnnxGraph g, int layer, string hidden, string mask, string? queryIndex = null, string? packIndex = null) =>
        encoder.Group(GroupOf(layer)).Onnx(g, hidden, mask, queryIndex, packIndex);

    internal override string? OnnxPool(OnnxGraph g, string hidden) =>
        pooler is null ? null : OnnxOps.TanhOfFirst(g, pooler, hidden);

    internal override int OnnxLayerKey(int layer) => GroupOf(layer);

    private protected override string OnnxEmbedTokens(OnnxGraph g, string inputIds, string tokenTypeIds) => embeddings.Onnx(g, inputIds, tokenTypeIds);

    private protected override string OnnxProject(OnnxGraph g, string embeddings) => encoder.OnnxProject(g, embeddings);
}

internal sealed partial class BertEmbeddings
{
    public string Onnx(OnnxGraph g, string inputIds, string tokenTypeIds)
    {
        string words = g.Op("Gather", [g.Weight(word_embeddings.weight!, "word_embeddings"), inputIds]); // [B, T, E]
        string types = g.Op("Gather", [g.Weight(token_type_embeddings.weight!, "token_type_embeddings"), tokenTypeIds]);
        string positionTable = g.Weight(position_embeddings.weight!, "position_embeddings");
        string positions = _robertaPositions
            ? g.Op("Gather", [positionTable, RobertaPositions(g, inputIds)]) // [B, T, E]
            : g.Op("Slice", [positionTable, g.Ints(0), g.Op("Shape", [inputIds], OnnxAttribute.Of("start", 1L), OnnxAttribute.Of("end", 2L)), g.Ints(0)]); // [T, E]
        string summed = g.Op("Add", [g.Op("Add", [words, types]), positions]);
        return OnnxOps.LayerNorm(g, LayerNorm, summed);
    }

    // pad + cumsum(ids != pad) at real tokens, pad at padding, as RobertaPositions.
    private string RobertaPositions(OnnxGraph g, string inputIds)
    {
        string notPad = g.Op("Cast", [g.Op("Not", [g.Op("Equal", [inputIds, g.IntScalar(_padId)])])], OnnxAttribute.Of("to", (long)OnnxType.Int64));
        string counted = g.Op("Mul", [g.Op("CumSum", [notPad, g.IntScalar(1)]), notPad]);
        return g.Op("Add", [counted, g.IntScalar(_padId)]);
    }
}

internal sealed partial class BertSelfAttention
{
    public string Onnx(OnnxGraph g, string hidden, string queries, string mask) =>
        OnnxOps.Attend(g, query, key, value, _heads, hidden, queries, mask);
}

internal sealed partial class BertResidualOutput
{
    public string Onnx(OnnxGraph g, string input, string residual) =>
        OnnxOps.LayerNorm(g, LayerNorm, g.Op("Add", [OnnxOps.Linear(g, dense, input), residual]));
}

internal sealed partial class BertAttention
{
    public string Onnx(OnnxGraph g, string hidden, string queries, string mask) => output.Onnx(g, @self.Onnx(g, hidden, queries, mask), queries);
}

internal sealed partial class BertIntermediate
{
    public string Onnx(OnnxGraph g, string hidden) => OnnxOps.Activate(g, _activation, OnnxOps.Linear(g, dense, hidden));
}

internal sealed partial class BertLayer
{
    public string Onnx(OnnxGraph g, string hidden, string mask, string? queryIndex, string? packIndex)
    {
        string attended = OnnxOps.Pack(g, attention.Onnx(g, hidden, OnnxOps.SelectQueries(g, hidden, queryIndex), mask), packIndex);
        return output.Onnx(g, intermediate.Onnx(g, attended), attended);
    }
}

internal sealed partial class BertPooler
{
    public string Onnx(OnnxGraph g, string hidden) => OnnxOps.TanhOfFirst(g, dense, hidden);
}

internal sealed partial class AlbertTransformer
{
    public string OnnxProject(OnnxGraph g, string embeddings) => OnnxOps.Linear(g, embedding_hidden_mapping_in, embeddings);
}

internal sealed partial class AlbertLayerGroup
{
    // As forward: every inner layer but the last runs every position.
    public string Onnx(OnnxGraph g, string hidden, string mask, string? queryIndex, string? packIndex)
    {
        for (int i = 0; i < albert_layers.Count; i++)
        {
            bool last = i == albert_layers.Count - 1;
            hidden = albert_layers[i].Onnx(g, hidden, mask, last ? queryIndex : null, last ? packIndex : null);
        }

        return hidden;
    }
}

internal sealed partial class AlbertLayer
{
    public string Onnx(OnnxGraph g, string hidden, string mask, string? queryIndex, string? packIndex)
    {
        string attended = OnnxOps.Pack(g, attention.Onnx(g, hidden, OnnxOps.SelectQueries(g, hidden, queryIndex), mask), packIndex);
        string fed = OnnxOps.Linear(g, ffn_output, OnnxOps.Activate(g, _activation, OnnxOps.Linear(g, ffn, attended)));
        return OnnxOps.LayerNorm(g, full_layer_layer_norm, g.Op("Add", [fed, attended]));
    }
}

internal sealed partial class AlbertAttention
{
    public string Onnx(OnnxGraph g, string hidden, string queries, string mask)
    {
        string context = OnnxOps.Attend(g, query, key, value, _heads, hidden, queries, mask);
        return OnnxOps.LayerNorm(g, LayerNorm, g.Op("Add", [queries, OnnxOps.Linear(g, dense, context)]));
    }
}
