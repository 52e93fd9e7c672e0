using System.Text.Json;
using EarlyExit.Cli.Tests.TestSupport;
using EarlyExit.ExitCriteria;
using EarlyExit.OnnxRuntime;
using EarlyExit.Sequence;

namespace EarlyExit.Cli.Tests.Ner;

/// <summary>ner export-onnx, and --backend onnx on ner evaluate and score.</summary>
[Collection(CliCollection.Name)]
public sealed class NerOnnxBackendTests(ConllModelFixture conll) : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Evaluate_OnnxBackend_GivesTheTorchMetrics()
    {
        string torch = _folder.File("torch.json");
        string onnx = _folder.File("onnx.json");

        CliResult torchRun = await Evaluate("--metrics-json", torch);
        CliResult onnxRun = await Evaluate("--metrics-json", onnx, "--backend", "onnx");

        Assert.True(torchRun.ExitCode == 0, torchRun.ToString());
        Assert.True(onnxRun.ExitCode == 0, onnxRun.ToString());
        Assert.Contains("Scoring on ONNX Runtime", onnxRun.Output);
        Assert.DoesNotContain("Scoring on ONNX Runtime", torchRun.Output);
        using JsonDocument expected = JsonDocument.Parse(File.ReadAllText(torch));
        using JsonDocument actual = JsonDocument.Parse(File.ReadAllText(onnx));
        foreach (string name in new[] { "f1", "precision", "recall", "tokenAccuracy", "meanTokenExitLayer" })
        {
            Assert.Equal(expected.RootElement.GetProperty(name).GetDouble(), actual.RootElement.GetProperty(name).GetDouble(), 9);
        }

        Assert.Equal(expected.RootElement.GetProperty("exitLayerHistogram").ToString(), actual.RootElement.GetProperty("exitLayerHistogram").ToString());
    }

    [Fact]
    public async Task Score_OnnxBackend_WritesTheTorchTagsAndExitLayers()
    {
        string torch = _folder.File("torch.txt");
        string onnx = _folder.File("onnx.txt");

        CliResult torchRun = await Score(torch, "--exit-criterion", "sentee:0.5");
        CliResult onnxRun = await Score(onnx, "--exit-criterion", "sentee:0.5", "--backend", "onnx");

        Assert.True(torchRun.ExitCode == 0, torchRun.ToString());
        Assert.True(onnxRun.ExitCode == 0, onnxRun.ToString());
        Assert.Contains("Scoring on ONNX Runtime", onnxRun.Output);
        Assert.Equal(File.ReadAllLines(torch), File.ReadAllLines(onnx));
    }

    [Fact]
    public async Task ExportOnnx_WritesAFolderOnnxTokenClassifierScoresAsTheModel()
    {
        string folder = _folder.File("export");
        string scored = _folder.File("scored.txt");

        CliResult result = await CliRun.RunAsync("ner", "export-onnx", "--model", conll.ModelPath, "--out", folder);
        CliResult score = await Score(scored);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("OnnxTokenClassifier", result.Output);
        Assert.True(score.ExitCode == 0, score.ToString());
        Assert.True(File.Exists(Path.Combine(folder, "model.onnx")));
        using OnnxTokenClassifier labeller = OnnxTokenClassifier.Load(folder);
        Assert.Equal(TokenExitCriterion.Tokee(0.3), labeller.ExitCriterion);
        ConllCorpus expected = ConllReader.Read(scored);
        var predictions = labeller.Predict(conll.Valid.Words);
        Assert.Equal(expected.Column(1), predictions.Select(p => p.ExitLayers.Select(l => l.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray()));
        Assert.Equal(expected.Column(3), predictions.Select(p => p.Tags.Select(t => labeller.Labels[t]).ToArray()));
    }

    private Task<CliResult> Score(string output, params string[] extra) =>
        CliRun.RunAsync(["ner", "score", "--model", conll.ModelPath, "--data", conll.ValidPath, "--out", output, .. extra]);

    private Task<CliResult> Evaluate(params string[] extra) =>
        CliRun.RunAsync(["ner", "evaluate", "--model", conll.ModelPath, "--data", conll.ValidPath, .. extra]);
}
