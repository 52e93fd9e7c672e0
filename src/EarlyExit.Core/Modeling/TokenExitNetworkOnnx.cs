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
    internal string OnnxTokenProbabilities(OnnxGraph g, int layer, string states) =>
        g.Op("Softmax", [OnnxOps.Linear(g, classifiers[layer], states)], OnnxAttribute.Of("axis", -1L));
}
