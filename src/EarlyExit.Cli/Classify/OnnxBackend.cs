// --backend onnx for classify evaluate and score, and classify export-onnx.
//
// The ONNX Runtime backend scores an ONNX export (EarlyExitTextClassifier.ExportOnnx). The commands
// take the model zip as always and export it into a temporary folder first (a few seconds), which is
// deleted afterwards; `classify export-onnx` writes the export for a deployment of its own.
using System.CommandLine;
using EarlyExit.OnnxRuntime;

namespace EarlyExit.Cli.Classify;

/// <summary>Which runtime scores the model.</summary>
internal enum ScoringBackend
{
    /// <summary>TorchSharp (libtorch): the trained model as it is.</summary>
    Torch,

    /// <summary>ONNX Runtime, on the model's ONNX export.</summary>
    Onnx,
}

/// <summary>The model's ONNX export in a temporary folder, opened with ONNX Runtime; disposing closes it and deletes the folder.</summary>
internal sealed class TemporaryOnnxExport : IDisposable
{
    private readonly string _folder;

    private TemporaryOnnxExport(string folder, OnnxTextClassifier classifier)
    {
        _folder = folder;
        Classifier = classifier;
    }

    public OnnxTextClassifier Classifier { get; }

    /// <summary>--backend torch|onnx.</summary>
    public static Option<ScoringBackend?> Option() => CommonOptions.Choice("--backend",
        "What scores the model: torch (TorchSharp, on --device) or onnx (ONNX Runtime on the CPU, on the model's ONNX export, made first in a temporary folder). Default: torch.",
        new Dictionary<string, ScoringBackend> { ["torch"] = ScoringBackend.Torch, ["onnx"] = ScoringBackend.Onnx });

    public static TemporaryOnnxExport Create(EarlyExitTextClassifier classifier)
    {
        string folder = Directory.CreateTempSubdirectory("earlyexit-onnx-").FullName;
        try
        {
            classifier.ExportOnnx(folder, fullDepth: false);
            return new TemporaryOnnxExport(folder, OnnxTextClassifier.Load(folder));
        }
        catch
        {
            Directory.Delete(folder, recursive: true);
            throw;
        }
    }

    public void Dispose()
    {
        Classifier.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
