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
        CliResult again = await CliRun.RunAsync("classify", "export-onnx", "--model", sst2.ModelPath, "--out", folder + Path.DirectorySeparatorChar);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(again.ExitCode == 0, again.ToString()); // an earlier export is replaced, also when named with a trailing separator
        Assert.True(File.Exists(Path.Combine(folder, "model.onnx")));
        Assert.Equal([folder], Directory.GetDirectories(_folder.Path)); // no temporary or earlier folder left
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
        Assert.Contains("Scoring on ONNX Runtime", onnxRun.Output);
        Assert.DoesNotContain("Scoring on ONNX Runtime", torchRun.Output);
        using JsonDocument expected = JsonDocument.Parse(File.ReadAllText(torch));
        using JsonDocument actual = JsonDocument.Parse(File.ReadAllText(onnx));
        foreach (string name in new[] { "accuracy", "macroF1", "meanExitLayer" })
        {
            Assert.Equal(expected.RootElement.GetProperty(name).GetDouble(), actual.RootElement.GetProperty(name).GetDouble(), 9);
        }

        Assert.Equal(expected.RootElement.GetProperty("exitLayerHistogram").ToString(), actual.RootElement.GetProperty("exitLayerHistogram").ToString());
    }

    [Fact]
    public async Task Score_OnnxBackend_WritesTheTorchPredictions()
    {
        string torch = _folder.File("torch.tsv");
        string onnx = _folder.File("onnx.tsv");

        CliResult torchRun = await Score(torch);
        CliResult onnxRun = await Score(onnx, "--backend", "onnx", "--exit-criterion", "entropy:0.9");
        CliResult torchEntropy = await Score(_folder.File("entropy.tsv"), "--exit-criterion", "entropy:0.9");

        Assert.True(onnxRun.ExitCode == 0, onnxRun.ToString());
        Assert.True(torchRun.ExitCode == 0 && torchEntropy.ExitCode == 0, torchRun.ToString());
        Assert.Contains("Scoring on ONNX Runtime", onnxRun.Output);
        string[][] expected = File.ReadLines(_folder.File("entropy.tsv")).Skip(1).Select(l => l.Split('\t')).ToArray();
        string[][] actual = File.ReadLines(onnx).Skip(1).Select(l => l.Split('\t')).ToArray();
        Assert.Equal(Sst2ModelFixture.ValidationRows, actual.Length);
        for (int row = 0; row < expected.Length; row++)
        {
            Assert.Equal(expected[row][^4..^2], actual[row][^4..^2]); // PredictedLabel, ExitLayer
            Assert.Equal(double.Parse(expected[row][^1], System.Globalization.CultureInfo.InvariantCulture), double.Parse(actual[row][^1], System.Globalization.CultureInfo.InvariantCulture), 4);
        }
    }

    [Fact]
    public async Task Evaluate_UnknownBackend_IsAUsageError()
    {
        CliResult result = await Evaluate("--backend", "tensorrt");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--backend 'tensorrt' is not valid; use one of: torch, onnx.", result.Error);
    }

    private Task<CliResult> Score(string output, params string[] extra) => CliRun.RunAsync(
        ["classify", "score", "--model", sst2.ModelPath, "--data", sst2.ValidPath, "--text-column", "sentence", "--out", output, .. extra]);

    private Task<CliResult> Evaluate(params string[] extra) => CliRun.RunAsync(
        ["classify", "evaluate", "--model", sst2.ModelPath, "--data", sst2.ValidPath, "--text-column", "sentence", "--label-column", "label", .. extra]);
}
