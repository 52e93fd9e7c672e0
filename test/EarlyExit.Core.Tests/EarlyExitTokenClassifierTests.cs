using EarlyExit.Devices;
using EarlyExit.ExitCriteria;
using EarlyExit.Hub;
using EarlyExit.Tests.TestSupport;
using EarlyExit.Tests.Training;
using EarlyExit.Training;

namespace EarlyExit.Tests;

[Collection("Torch")]
public sealed class EarlyExitTokenClassifierTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("token-classifier-tests-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Save_ThenLoad_LabelsIdentically()
    {
        using EarlyExitTokenClassifier labeller = Trained();
        string[][] sentences = ToyNer.Sentences(20, seed: 5).Select(s => s.Words).ToArray();
        SentencePrediction[] before = labeller.Predict(sentences);

        labeller.Save(Path.Combine(_root, "saved"));
        using EarlyExitTokenClassifier loaded = EarlyExitTokenClassifier.Load(Path.Combine(_root, "saved"), DeviceOption.Cpu);
        SentencePrediction[] after = loaded.Predict(sentences);

        Assert.Equal(ToyNer.Tags, loaded.Tags);
        Assert.Equal(labeller.ExitCriterion, loaded.ExitCriterion);
        Assert.Equal(before.SelectMany(p => p.Tags), after.SelectMany(p => p.Tags));
        Assert.Equal(before.SelectMany(p => p.ExitLayers), after.SelectMany(p => p.ExitLayers));
    }

    [Fact]
    public void Predict_SentenceLongerThanMaxLength_LabelsEveryWord()
    {
        using EarlyExitTokenClassifier labeller = Trained();
        string[] longSentence = Enumerable.Range(0, 40).SelectMany(_ => new[] { "john", "smith", "visited", "paris" }).ToArray();

        SentencePrediction prediction = labeller.Predict([longSentence])[0];

        Assert.True(labeller.Encode(longSentence).Count > 1, "the sentence should need several chunks");
        Assert.Equal(longSentence.Length, prediction.Tags.Length);
        Assert.All(prediction.ExitLayers, l => Assert.InRange(l, 1, labeller.NumLayers));
        // The pattern repeats, so the learned tags repeat too, across chunk borders.
        Assert.Equal(prediction.Tags[..4], prediction.Tags[^4..]);
    }

    [Fact]
    public void Predict_EmptySentence_GivesNoTags()
    {
        using EarlyExitTokenClassifier labeller = Trained(epochs: 0);

        SentencePrediction prediction = labeller.Predict([Array.Empty<string>()])[0];

        Assert.Empty(prediction.Tags);
        Assert.Equal(0, prediction.ExitLayer);
    }

    [Fact]
    public void Predict_NullWord_ThrowsNamingIt()
    {
        using EarlyExitTokenClassifier labeller = Trained(epochs: 0);

        var error = Assert.Throws<ArgumentNullException>(() => labeller.Predict([new[] { "john", null!, "smith" }]));

        Assert.Contains("Word 1", error.Message);
    }

    [Fact]
    public void ExitCriterion_LayerPastTheModel_Throws()
    {
        using EarlyExitTokenClassifier labeller = Trained(epochs: 0);

        Assert.Throws<InvalidOperationException>(() => labeller.ExitCriterion = TokenExitCriterion.FixedLayer(3));
    }

    private static EarlyExitTokenClassifier Trained(int epochs = 3)
    {
        using PretrainedEncoder backbone = PretrainedEncoder.FromPreset("tiny-bert", new PretrainedEncoderOptions
        {
            Device = DeviceOption.Cpu,
            Seed = 2,
            Hub = new HubOptions { MirrorDirectory = SharedAssets.Root, Offline = true, CacheDirectory = Path.Combine(Path.GetTempPath(), "earlyexit-test-cache") },
        });
        EarlyExitTokenClassifier labeller = EarlyExitTokenClassifier.Create(backbone, ToyNer.Tags, 24, TokenExitCriterion.Tokee(0.3), dropout: 0, seed: 1);
        if (epochs > 0)
        {
            var examples = ToyNer.Sentences(300, seed: 3).Select(s => new TokenExample(ToyNer.Tokenizer.EncodeWords(s.Words, 24), s.Tags)).ToList();
            TokenTrainingOptions options = ToyNer.FastOptions();
            options.Epochs = epochs;
            options.SelfSamplingEpochs = 0;
            TokenClassifierTrainer.Train(labeller.Model, examples, null, options, labeller.PadTokenId);
        }

        return labeller;
    }
}
