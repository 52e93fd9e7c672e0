// --backend torch|onnx for classify evaluate and score.
//
// With onnx the commands score on ONNX Runtime: the model's network is exported to ONNX graphs in memory
// (OnnxTextClassifier.FromClassifier, a few seconds, before the clock starts) and its chunks go there.
// `classify export-onnx` writes the export as files, for a deployment of its own.
using System.CommandLine;
using EarlyExit.MLNet;

namespace EarlyExit.Cli.Classify;

/// <summary>The --backend option.</summary>
internal static class BackendOption
{
    /// <summary>--backend torch|onnx.</summary>
    public static Option<ScoringBackend?> Create() => CommonOptions.Choice("--backend",
        "What scores the model: torch (TorchSharp, on --device) or onnx (ONNX Runtime on the CPU, on the model's ONNX graphs, exported in memory first). Default: torch.",
        new Dictionary<string, ScoringBackend> { ["torch"] = ScoringBackend.TorchSharp, ["onnx"] = ScoringBackend.OnnxRuntime });
}
