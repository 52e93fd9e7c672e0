// The ONNX form of the token classifier's off-ramps, beside the module (partial class), as
// EncoderOnnx.cs and EarlyExitNetworkOnnx.cs are for the encoders and the sentence heads.
using EarlyExit.Onnx;

namespace EarlyExit.Modeling;

public sealed partial class TokenExitNetwork
{
    /// <summary>
    /// The ONNX form of off-ramp <paramref name="layer"/>'s tag probabilities (eval mode: no dropout):
    /// states [B, Q, H] -> softmax(<see cref="TokenLogits"/>) [B, Q, C], what scoring reads.
    /// </summary>
    /// <exception cref="NotSupportedException">Off-ramps that read the layer history, which have no ONNX form yet.</exception>
    internal string OnnxTokenProbabilities(OnnxGraph g, int layer, string states) => ReadsLayerHistory
        ? throw new NotSupportedException($"Off-ramps reading {OffRampInput} have no ONNX form yet.")
        : g.Op("Softmax", [OnnxOps.Linear(g, classifiers[layer], states)], OnnxAttribute.Of("axis", -1L));
}
