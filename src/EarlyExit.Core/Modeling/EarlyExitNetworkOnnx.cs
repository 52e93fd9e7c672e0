// The ONNX form of an EarlyExitNetwork's exit heads at one layer (Step), beside the module, and the
// halting head's. Eval mode: no dropout. What a scorer needs of a layer: the pooled state (the next
// layer's halting head reads it), the scores (class probabilities, or a regression model's values)
// and the halting probability sigmoid(halting logit).
using EarlyExit.Onnx;
using TorchSharp.Modules;

namespace EarlyExit.Modeling;

/// <summary>The names of one layer's exit-head values in an ONNX graph.</summary>
/// <param name="Pooled">[B, H].</param>
/// <param name="Scores">[B, C]: class probabilities (softmax of the logits), or a regression model's values [B, 1].</param>
/// <param name="Halting">The halting probability [B], or null without a halting head.</param>
internal sealed record OnnxExitValues(string Pooled, string Scores, string? Halting);

public sealed partial class EarlyExitNetwork
{
    /// <summary>
    /// The ONNX form of <see cref="Step"/> at <paramref name="layer"/>, with softmax (classifiers) and
    /// sigmoid (halting) applied; <paramref name="previousPooled"/> is read only by a halting head and may
    /// be null when <paramref name="withHalting"/> is false.
    /// </summary>
    internal OnnxExitValues OnnxExit(OnnxGraph g, int layer, string hidden, string attentionMask, string? previousPooled, bool withHalting)
    {
        string pooled = OnnxPool(g, hidden, attentionMask);
        string logits = OnnxOps.Linear(g, classifier ?? classifiers![layer], pooled); // [B, C]
        if (target_mean is not null && target_scale is not null)
        {
            logits = g.Op("Add", [g.Op("Mul", [logits, g.Weight(target_scale, "target_scale")]), g.Weight(target_mean, "target_mean")]);
        }

        string scores = IsRegression ? logits : g.Op("Softmax", [logits], OnnxAttribute.Of("axis", -1L));
        string? halting = null;
        if (withHalting && this.halting is not null)
        {
            string previous = previousPooled ?? throw new ArgumentNullException(nameof(previousPooled), "The halting head reads the previous layer's pooled state.");
            string? confidence = Config.HaltingReadsConfidence ? OnnxConfidence(g, logits) : null;
            halting = g.Op("Sigmoid", [this.halting.Onnx(g, pooled, previous, confidence)]);
        }

        return new OnnxExitValues(pooled, scores, halting);
    }

    // As Confidence: the largest class probability and H(p) / log C, [B, C] -> [B, 2].
    private static string OnnxConfidence(OnnxGraph g, string logits)
    {
        string logP = g.Op("LogSoftmax", [logits], OnnxAttribute.Of("axis", -1L));
        string p = g.Op("Exp", [logP]);
        string top = g.Op("ReduceMax", [p], OnnxAttribute.Of("axes", new long[] { -1 }), OnnxAttribute.Of("keepdims", 1L)); // [B, 1]
        string plogp = g.Op("ReduceSum", [g.Op("Mul", [p, logP]), g.Ints(-1)], OnnxAttribute.Of("keepdims", 1L)); // [B, 1]
        string classes = g.Op("Cast", [g.Op("Shape", [logits], OnnxAttribute.Of("start", -1L))], OnnxAttribute.Of("to", (long)OnnxType.Float)); // [1]
        string entropy = g.Op("Div", [g.Op("Neg", [plogp]), g.Op("Log", [classes])]);
        return g.Op("Concat", [top, entropy], OnnxAttribute.Of("axis", 1L));
    }

    private string OnnxPool(OnnxGraph g, string hidden, string attentionMask)
    {
        if (Config.Pooling == HeadPooling.Mean)
        {
            string weights = g.Op("Unsqueeze", [g.Op("Cast", [attentionMask], OnnxAttribute.Of("to", (long)OnnxType.Float)), g.Ints(-1)]); // [B, T, 1]
            string sum = g.Op("ReduceSum", [g.Op("Mul", [hidden, weights]), g.Ints(1)], OnnxAttribute.Of("keepdims", 0L)); // [B, H]
            string count = g.Op("Max", [g.Op("ReduceSum", [weights, g.Ints(1)], OnnxAttribute.Of("keepdims", 0L)), g.Scalar(1f)]); // [B, 1]
            return g.Op("Div", [sum, count]);
        }

        return pooler is null
            ? encoder.OnnxPool(g, hidden)!
            : OnnxOps.TanhOfFirst(g, pooler, hidden);
    }
}

internal sealed partial class HaltingHead
{
    /// <summary>The ONNX form of <see cref="Forward"/>: pooled and previous [B, H] (and confidence [B, 2]) to the halting logit [B].</summary>
    /// <exception cref="NotSupportedException">A layer-attention head, which has no ONNX form yet.</exception>
    public string Onnx(OnnxGraph g, string pooled, string previous, string? confidence)
    {
        if (ReadsHistory)
        {
            throw new NotSupportedException($"The {HaltingVariant.LayerAttention} halting head has no ONNX form yet.");
        }

        string x = _variant switch
        {
            HaltingVariant.Concat => g.Op("Concat", [pooled, previous], OnnxAttribute.Of("axis", 1L)),
            HaltingVariant.Difference => g.Op("Sub", [pooled, previous]),
            _ => pooled,
        };
        if (confidence is not null)
        {
            x = g.Op("Concat", [x, confidence], OnnxAttribute.Of("axis", 1L));
        }

        foreach (Linear layer in hidden)
        {
            x = g.Op("Tanh", [OnnxOps.Linear(g, layer, x)]);
        }

        return g.Op("Squeeze", [OnnxOps.Linear(g, output, x), g.Ints(-1)]); // [B, 1] -> [B]
    }
}
