using TorchSharp;

namespace EarlyExit.MLNet.Tests.TestSupport;

/// <summary>Which backend a transformer's WarmUp scored on, seen from its TorchSharp model.</summary>
internal static class WarmUpProbe
{
    /// <summary>
    /// Runs <paramref name="warmUp"/> with <paramref name="model"/> in training mode and says whether it was left
    /// there: scoring on TorchSharp puts the model in eval mode, scoring on ONNX Runtime never touches it. The model
    /// is back in eval mode afterwards.
    /// </summary>
    public static bool LeavesTorchInTraining(torch.nn.Module model, Action warmUp)
    {
        try
        {
            model.train();
            warmUp();
            return model.training;
        }
        finally
        {
            model.eval();
        }
    }
}
