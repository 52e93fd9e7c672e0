namespace EarlyExit.MLNet;

/// <summary>What runs a fitted transformer's network when it scores (<c>WithBackend</c> of either transformer).</summary>
public enum ScoringBackend
{
    /// <summary>TorchSharp (libtorch) on the model's device: the trained network itself. The default.</summary>
    TorchSharp,

    /// <summary>
    /// ONNX Runtime on the CPU, on the network's ONNX graphs (exported in memory when the backend is chosen):
    /// the same predictions and exit layers, probabilities within float rounding. Which backend is faster
    /// depends on the CPU (README, "Speed against ONNX Runtime": ONNX Runtime on an AMD EPYC, TorchSharp on an Intel Xeon).
    /// </summary>
    OnnxRuntime,
}
