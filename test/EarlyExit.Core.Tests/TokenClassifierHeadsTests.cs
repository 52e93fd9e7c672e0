using System.Text.Json.Nodes;
using EarlyExit.Devices;
using EarlyExit.ExitCriteria;
using EarlyExit.Hub;
using EarlyExit.Inference;
using EarlyExit.Modeling;
using EarlyExit.Tests.TestSupport;
using EarlyExit.Tests.Training;

namespace EarlyExit.Tests;

/// <summary>A labeller with more than the paper's heads (auxiliary tag tasks, layer-attention off-ramps): its tags per sentence, saved and loaded, and what it refuses.</summary>
[Collection("Torch")]
public sealed class TokenClassifierHeadsTests : IDisposable
{
    private static readonly AuxiliaryTaskTags[] s_tasks = [new("pos", ["NN", "VB", "DT"], Layer: 1, Weight: 0.5), new("chunk", ["B-NP", "I-NP"], Layer: 2, Weight: 1)];

    private readonly string _root = Directory.CreateTempSubdirectory("auxiliary-classifier-tests-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Save_ThenLoad_KeepsTheTasksAndTheirTags()
    {
        using EarlyExitTokenClassifier labeller = Create(s_tasks);
        string[][] sentences = Sentences();
        SentencePrediction[] before = labeller.Predict(sentences, TokenExitCriterion.Tokee(0.99, 1));

        labeller.Save(Path.Combine(_root, "saved"));
        using EarlyExitTokenClassifier loaded = EarlyExitTokenClassifier.Load(Path.Combine(_root, "saved"), DeviceOption.Cpu);
        SentencePrediction[] after = loaded.Predict(sentences, TokenExitCriterion.Tokee(0.99, 1));

        JsonNode settings = JsonNode.Parse(File.ReadAllText(Path.Combine(_root, "saved", "token-classifier.json")))!;
        Assert.Equal(2, (int)settings["MinReadableVersion"]!);
        Assert.Equal(s_tasks.Select(t => t.Task), loaded.AuxiliaryTasks);
        Assert.Equal(s_tasks.Select(t => t.Tags), loaded.AuxiliaryTags);
        for (int s = 0; s < sentences.Length; s++)
        {
            Assert.Equal(before[s].Tags, after[s].Tags);
            Assert.Equal(2, after[s].AuxiliaryTags!.Count);
            Assert.Equal(before[s].AuxiliaryTags![0], after[s].AuxiliaryTags![0]);
            Assert.Equal(before[s].AuxiliaryTags![1], after[s].AuxiliaryTags![1]);
        }
    }

    [Fact]
    public void Predict_LongSentenceAndTokenlessWord_GivesEveryWordAnAuxiliaryTag()
    {
        using EarlyExitTokenClassifier labeller = Create(s_tasks);
        string[][] sentences = Sentences();

        SentencePrediction[] predictions = labeller.Predict(sentences);

        Assert.True(labeller.Encode(sentences[0]).Count > 1, "the first sentence should need several chunks");
        for (int s = 0; s < sentences.Length; s++)
        {
            Assert.Equal(sentences[s].Length, predictions[s].AuxiliaryTags![0].Length);
            Assert.All(predictions[s].AuxiliaryTags![0], t => Assert.InRange(t, 0, 2));
            Assert.All(predictions[s].AuxiliaryTags![1], t => Assert.InRange(t, 0, 1));
        }

        int[] pos = predictions[1].AuxiliaryTags![0]; // "john \u200b smith": the word without tokens takes the nearest word's tag, the left one first
        Assert.Equal(pos[0], pos[1]);
    }

    [Fact]
    public void Save_WithoutTasks_StaysReadableByTheFirstReader()
    {
        using EarlyExitTokenClassifier labeller = Create([]);

        labeller.Save(Path.Combine(_root, "plain"));

        JsonNode settings = JsonNode.Parse(File.ReadAllText(Path.Combine(_root, "plain", "token-classifier.json")))!;
        Assert.Equal(1, (int)settings["MinReadableVersion"]!);
        Assert.False(settings.AsObject().ContainsKey("AuxiliaryTasks"));
        Assert.False(settings.AsObject().ContainsKey("OffRampInput"));
        Assert.All(labeller.Predict(Sentences()), p => Assert.Null(p.AuxiliaryTags));
    }

    [Fact]
    public void Load_SettingsWithABadTask_NamesTheFile()
    {
        (string path, InvalidDataException error) = LoadEdited(Create(s_tasks), "bad", settings => settings["AuxiliaryTasks"]![1]!["Layer"] = 9);

        Assert.Contains(path, error.Message);
        Assert.Contains("'chunk' reads layer 9; choose a layer in 1..2", error.Message);
    }

    [Fact]
    public void ExportOnnx_WithTasks_RefusesNamingThemAndTheWayOut()
    {
        using EarlyExitTokenClassifier labeller = Create(s_tasks);

        var error = Assert.Throws<NotSupportedException>(() => labeller.ExportOnnx(Path.Combine(_root, "onnx")));

        Assert.Contains("auxiliary tag tasks (pos, chunk)", error.Message);
        Assert.Contains("Score it on TorchSharp", error.Message);
    }

    [Theory]
    [InlineData(TokenOffRampInput.LayerAttention)]
    [InlineData(TokenOffRampInput.DifferenceAttention)]
    public void Save_ThenLoad_LayerAttention_KeepsTheInputAndTheTags(TokenOffRampInput input)
    {
        using EarlyExitTokenClassifier labeller = Create([], input);
        FillAttention(labeller.Model.named_parameters(), "attention."); // zero pools would load the same as new ones
        string[][] sentences = Sentences();
        SentencePrediction[] before = labeller.Predict(sentences, TokenExitCriterion.Full());

        labeller.Save(Path.Combine(_root, "attention"));
        using EarlyExitTokenClassifier loaded = EarlyExitTokenClassifier.Load(Path.Combine(_root, "attention"), DeviceOption.Cpu);
        SentencePrediction[] after = loaded.Predict(sentences, TokenExitCriterion.Full());
        using EarlyExitTokenClassifier fresh = Create([], input);

        JsonNode settings = JsonNode.Parse(File.ReadAllText(Path.Combine(_root, "attention", "token-classifier.json")))!;
        Assert.Equal(3, (int)settings["MinReadableVersion"]!);
        Assert.Equal(input.ToString(), (string)settings["OffRampInput"]!);
        Assert.Equal(input, loaded.Model.OffRampInput);
        Assert.Equal(before.Select(p => p.Tags), after.Select(p => p.Tags));
        Assert.All(loaded.Model.named_parameters().Where(p => p.name.StartsWith("attention.", StringComparison.Ordinal)),
            p => Assert.True(p.parameter.allclose(labeller.Model.get_parameter(p.name)!, rtol: 0, atol: 0), $"{p.name} was not loaded"));
        Assert.Contains(fresh.Model.named_parameters().Where(p => p.name.StartsWith("attention.", StringComparison.Ordinal)),
            p => !p.parameter.allclose(labeller.Model.get_parameter(p.name)!, rtol: 0, atol: 0));
    }

    /// <summary>Gives the parameters under <paramref name="prefix"/> seeded random values.</summary>
    internal static void FillAttention(IEnumerable<(string name, TorchSharp.Modules.Parameter parameter)> parameters, string prefix)
    {
        using var noGrad = TorchSharp.torch.no_grad();
        var generator = new TorchSharp.torch.Generator(5);
        foreach (var (name, parameter) in parameters.Where(p => p.name.StartsWith(prefix, StringComparison.Ordinal)))
        {
            parameter.copy_(TorchSharp.torch.randn(parameter.shape, generator: generator));
        }
    }

    [Fact]
    public void Load_UnknownOffRampInput_NamesTheFile()
    {
        (string path, InvalidDataException error) = LoadEdited(Create([], TokenOffRampInput.LayerAttention), "unknown", settings => settings["OffRampInput"] = "Telepathy");

        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void ExportOnnx_LayerAttention_RefusesNamingTheInputAndTheWayOut()
    {
        using EarlyExitTokenClassifier labeller = Create([], TokenOffRampInput.DifferenceAttention);

        var error = Assert.Throws<NotSupportedException>(() => labeller.ExportOnnx(Path.Combine(_root, "onnx")));

        Assert.Contains("off-ramps read DifferenceAttention", error.Message);
        Assert.Contains("Score it on TorchSharp", error.Message);
    }

    [Fact]
    public void Save_ThenLoad_WordPooling_KeepsTheLayerAndTheTags()
    {
        using EarlyExitTokenClassifier labeller = Create(s_tasks, wordPoolingLayer: 2);
        string[][] sentences = [.. Sentences(), ["annas", "smithson", "visited", "londoners"]];
        SentencePrediction[] before = labeller.Predict(sentences, TokenExitCriterion.Tokee(0.99, 1));

        labeller.Save(Path.Combine(_root, "words"));
        using EarlyExitTokenClassifier loaded = EarlyExitTokenClassifier.Load(Path.Combine(_root, "words"), DeviceOption.Cpu);
        SentencePrediction[] after = loaded.Predict(sentences, TokenExitCriterion.Tokee(0.99, 1));

        JsonNode settings = JsonNode.Parse(File.ReadAllText(Path.Combine(_root, "words", "token-classifier.json")))!;
        Assert.Equal(4, (int)settings["MinReadableVersion"]!);
        Assert.Equal(2, (int)settings["WordPoolingLayer"]!);
        Assert.Equal(2, loaded.Model.WordPoolingLayer);
        Assert.Equal(before.Select(p => p.Tags), after.Select(p => p.Tags));
        Assert.Equal(before.Select(p => p.AuxiliaryTags![1]), after.Select(p => p.AuxiliaryTags![1]));
        for (int s = 0; s < sentences.Length; s++)
        {
            Assert.Equal(sentences[s].Length, after[s].Tags.Length); // chunked, a tokenless word included: every word has a tag
            Assert.Equal(sentences[s].Length, after[s].AuxiliaryTags![1].Length);
        }
    }

    [Fact]
    public void Load_PoolingLayerPastTheEncoder_NamesTheFile()
    {
        (string path, InvalidDataException error) = LoadEdited(Create([], wordPoolingLayer: 1), "deep", settings => settings["WordPoolingLayer"] = 3);

        Assert.Contains(path, error.Message);
        Assert.Contains("a layer in 1..2", error.Message);
    }

    [Fact]
    public void ExportOnnx_WordPooling_RefusesNamingTheLayerAndTheWayOut()
    {
        using EarlyExitTokenClassifier labeller = Create([], wordPoolingLayer: 2);

        var error = Assert.Throws<NotSupportedException>(() => labeller.ExportOnnx(Path.Combine(_root, "onnx")));

        Assert.Contains("runs on words from layer 2", error.Message);
        Assert.Contains("train it without word pooling", error.Message);
    }

    [Fact]
    public void Create_TaskWithOneTag_NamesTheTask()
    {
        var error = Assert.Throws<ArgumentException>(() => Create([new AuxiliaryTaskTags("pos", ["NN"], 1, 1)]));

        Assert.Contains("'pos' tags", error.Message);
    }

    // Saves (and disposes) the labeller in folder `name`, edits its settings file, and returns the error of loading it.
    private (string SettingsPath, InvalidDataException Error) LoadEdited(EarlyExitTokenClassifier labeller, string name, Action<JsonNode> edit)
    {
        using (labeller)
        {
            labeller.Save(Path.Combine(_root, name));
        }

        string path = Path.Combine(_root, name, "token-classifier.json");
        JsonNode settings = JsonNode.Parse(File.ReadAllText(path))!;
        edit(settings);
        File.WriteAllText(path, settings.ToJsonString());
        return (path, Assert.Throws<InvalidDataException>(() => EarlyExitTokenClassifier.Load(Path.Combine(_root, name), DeviceOption.Cpu)));
    }

    private static string[][] Sentences() =>
    [
        Enumerable.Range(0, 12).SelectMany(_ => new[] { "john", "smith", "visited", "paris" }).ToArray(),
        ["john", "\u200b", "smith"],
        ["mary", "lives", "in", "rome"],
    ];

    private static EarlyExitTokenClassifier Create(IReadOnlyList<AuxiliaryTaskTags> tasks, TokenOffRampInput offRampInput = TokenOffRampInput.Layer, int wordPoolingLayer = 0)
    {
        using PretrainedEncoder backbone = PretrainedEncoder.FromPreset("tiny-bert", new PretrainedEncoderOptions
        {
            Device = DeviceOption.Cpu,
            Seed = 2,
            Hub = new HubOptions { MirrorDirectory = SharedAssets.Root, Offline = true, CacheDirectory = Path.Combine(Path.GetTempPath(), "earlyexit-test-cache") },
        });
        return EarlyExitTokenClassifier.Create(backbone, ToyNer.Tags, 24, TokenExitCriterion.Tokee(0.3), dropout: 0, seed: 1, tasks, offRampInput, wordPoolingLayer);
    }
}
