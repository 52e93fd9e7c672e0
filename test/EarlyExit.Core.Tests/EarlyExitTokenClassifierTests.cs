using EarlyExit.Devices;
using EarlyExit.ExitCriteria;
using EarlyExit.Hub;
using EarlyExit.Inference;
using EarlyExit.Sweeps;
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
    public void WarmUp_ModelInTrainingMode_ScoresAndChangesNoTag()
    {
        using EarlyExitTokenClassifier labeller = Trained();
        string[][] sentences = ToyNer.Sentences(20, seed: 5).Select(s => s.Words).ToArray();
        SentencePrediction[] before = labeller.Predict(sentences);
        labeller.Model.train();

        labeller.WarmUp(batchSize: 4);

        Assert.False(labeller.Model.training, "The warm-up did not score: scoring puts the model in eval mode.");
        Assert.Equal(before.SelectMany(p => p.Tags), labeller.Predict(sentences).SelectMany(p => p.Tags));
        Assert.Throws<ArgumentOutOfRangeException>(() => labeller.WarmUp(batchSize: 0));
    }

    [Fact]
    public void Save_ThenLoad_LabelsIdentically()
    {
        using EarlyExitTokenClassifier labeller = Trained();
        string[][] sentences = ToyNer.Sentences(20, seed: 5).Select(s => s.Words).ToArray();
        SentencePrediction[] before = labeller.Predict(sentences);

        labeller.Save(Path.Combine(_root, "saved"));
        using EarlyExitTokenClassifier loaded = EarlyExitTokenClassifier.Load(Path.Combine(_root, "saved"), DeviceOption.Cpu);
        SentencePrediction[] after = loaded.Predict(sentences);

        Assert.Equal(ToyNer.Tags, loaded.Labels);
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

    [Theory]
    [InlineData("")]
    [InlineData("\u200b")] // zero-width space
    [InlineData("\u00ad")] // soft hyphen
    public void Predict_WordsWithoutTokens_GetTheOutsideTagAndLayerOneEverywhere(string tokenless)
    {
        using EarlyExitTokenClassifier labeller = Trained(epochs: 1);
        string[][] sentences =
        [
            [tokenless, "john", "smith"],
            ["john", tokenless, "visited", "paris"],
            ["john", "visited", tokenless],
            [tokenless],
            [.. Enumerable.Range(0, 30).SelectMany(_ => new[] { "john", "smith", tokenless }), "paris", tokenless],
        ];
        int outside = Array.IndexOf(ToyNer.Tags, "O");
        Assert.All(labeller.Encode(["john", tokenless])[0].Input.WordIds!, id => Assert.NotEqual(1, id)); // the word really has no tokens
        SentenceExitRecord record = labeller.Record(sentences);

        foreach (SentencePrediction[] predictions in new[] { labeller.Predict(sentences), record.Replay(TokenExitCriterion.Tokee(0.3)), record.Oracle() })
        {
            for (int s = 0; s < sentences.Length; s++)
            {
                Assert.Equal(sentences[s].Length, predictions[s].Tags.Length);
                Assert.Equal(sentences[s].Length, predictions[s].ExitLayers.Length);
                Assert.All(predictions[s].ExitLayers, l => Assert.InRange(l, 1, labeller.NumLayers));
                for (int w = 0; w < sentences[s].Length; w++)
                {
                    if (sentences[s][w] == tokenless)
                    {
                        Assert.Equal((outside, 1), (predictions[s].Tags[w], predictions[s].ExitLayers[w]));
                    }
                }
            }
        }

        // The other words are labelled as without the tokenless ones.
        Assert.Equal(labeller.Predict([["john", "visited"]])[0].Tags, labeller.Predict([sentences[2]])[0].Tags[..2]);
    }

    [Fact]
    public void Train_ValidationSentencesEndingInATokenlessWord_ScoresEveryWordWithTheOutsideTag()
    {
        using EarlyExitTokenClassifier labeller = Trained(epochs: 0);
        List<TokenExample> training = ToyNer.Sentences(40, seed: 3).Select(s => new TokenExample(ToyNer.Tokenizer.EncodeWords(s.Words, 24), s.Tags)).ToList();
        List<TokenExample> validation = ToyNer.Sentences(10, seed: 4)
            .Select(s => new TokenExample(ToyNer.Tokenizer.EncodeWords([.. s.Words, "\u200b"], 24), [.. s.Tags, 0])).ToList();
        TokenTrainingOptions options = ToyNer.FastOptions();
        options.Epochs = 1;
        options.SelfSamplingEpochs = 0;
        options.TokenlessWordTag = Array.IndexOf(ToyNer.Tags, "O");
        var scored = new List<(int[] Gold, int[] Predicted)>();

        TokenClassifierTrainer.Train(labeller.Model, training, validation, options, labeller.PadTokenId, (gold, predicted) =>
        {
            scored.AddRange(gold.Zip(predicted));
            return 0;
        });

        Assert.Equal(validation.Count, scored.Count);
        Assert.All(scored, p => Assert.Equal(p.Gold.Length, p.Predicted.Length));
        Assert.All(scored, p => Assert.Equal(options.TokenlessWordTag, p.Predicted[^1]));
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
