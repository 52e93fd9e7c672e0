using System.Text.Json;
using EarlyExit.Cli.Tests.TestSupport;
using EarlyExit.ExitCriteria;
using EarlyExit.OnnxRuntime;

namespace EarlyExit.Cli.Tests.Classify;

/// <summary>classify export-onnx, and --backend onnx on evaluate and score.</summary>
[Collection(CliCollection.Name)]
public sealed class OnnxBackendTests(Sst2ModelFixture sst2) : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task ExportOnnx_WritesAFolderOnnxRuntimeScores()
    {
        string folder = _folder.File("export");

        CliResult result = await CliRun.RunAsync("classify", "export-onnx", "--model", sst2.ModelPath, "--out", folder);
        CliResult again = await CliRun.RunAsync("classify", "export-onnx", "--model", sst2.ModelPath, "--out", folder);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(again.ExitCode == 0, again.ToString()); // an earlier export is replaced
        Assert.True(File.Exists(Path.Combine(folder, "model.onnx")));
        Assert.Empty(Directory.GetDirectories(_folder.Path, ".export.*")); // no temporary folder left
        using OnnxTextClassifier classifier = OnnxTextClassifier.Load(folder);
        Assert.Equal(["0", "1"], classifier.Labels);
        Assert.Equal(ExitCriterion.QExit(), classifier.ExitCriterion);
        Assert.Single(classifier.Predict(["a gripping, funny film"]));
    }

    [Fact]
    public async Task ExportOnnx_IntoAFolderOfOtherFiles_IsRefused()
    {
        string folder = _folder.File("busy");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "mine");

        CliResult result = await CliRun.RunAsync("classify", "export-onnx", "--model", sst2.ModelPath, "--out", folder);

        Assert.Equal(ExitCodes.Error, result.ExitCode);
        Assert.Contains("other files", result.Error);
        Assert.True(File.Exists(Path.Combine(folder, "notes.txt")));
    }

    [Fact]
    public async Task Evaluate_OnnxBackend_GivesTheTorchMetrics()
    {
        string torch = _folder.File("torch.json");
        string onnx = _folder.File("onnx.json");

        CliResult torchRun = await Evaluate("--metrics-json", torch);
        CliResult onnxRun = await Evaluate("--metrics-json", onnx, "--backend", "onnx");

        Assert.True(onnxRun.ExitCode == 0, onnxRun.ToString());
        Assert.True(torchRun.ExitCode == 0, torchRun.ToString());
        using JsonDocument expected = JsonDocument.Parse(File.ReadAllText(torch));
        using JsonDocument actual = JsonDocument.Parse(File.ReadAllText(onnx));
        foreach (string name in new[] { "accuracy", "macroF1", "meanExitLayer" })
        {
            Assert.Equal(expected.RootElement.GetProperty(name).GetDouble(), actual.RootElement.GetProperty(name).GetDouble(), 9);
        }

        Assert.Equal(expected.RootElement.GetProperty("exitLayerHistogram").ToString(), actual.RootElement.GetProperty("exitLayerHistogram").ToString());
    }

    [Fact]
    public async Task Score_OnnxBackendWithACriterionTheModelCannotServe_IsAnError()
    {
        CliResult result = await CliRun.RunAsync("classify", "score", "--model", sst2.ModelPath, "--data", sst2.ValidPath, "--text-column", "sentence",
            "--out", _folder.File("scored.tsv"), "--backend", "onnx", "--exit-criterion", "layer:3");

        Assert.Equal(ExitCodes.Error, result.ExitCode);
        Assert.Contains("the model has 2 layers", result.Error);
    }

    [Fact]
    public async Task Evaluate_UnknownBackend_IsAUsageError()
    {
        CliResult result = await Evaluate("--backend", "tensorrt");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--backend 'tensorrt' is not valid; use one of: torch, onnx.", result.Error);
    }

    private Task<CliResult> Evaluate(params string[] extra) => CliRun.RunAsync(
        ["classify", "evaluate", "--model", sst2.ModelPath, "--data", sst2.ValidPath, "--text-column", "sentence", "--label-column", "label", .. extra]);
}
