using EarlyExit.MLNet.TokenEarlyExitNer;
using EarlyExit.Modeling;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EarlyExit.MLNet.Tests.TokenEarlyExitNer;

/// <summary><see cref="TokenEarlyExitNerTrainer.Options.OffRampInput"/>: layer-attention off-ramps through an ML.NET pipeline.</summary>
[Collection("Torch")]
public sealed class TokenOffRampInputTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ner-offramp-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Fit_DifferenceAttention_TagsTheToyTask_AndTheZipKeepsIt()
    {
        TokenEarlyExitNerTrainer.Options options = NerFixture.Options();
        options.OffRampInput = TokenOffRampInput.DifferenceAttention;
        List<SentenceRow> test = NerFixture.Rows(60, seed: 52);

        (List<TaggedRow> expected, List<TaggedRow> actual, TokenOffRampInput input, _) = NerFixture.FitSaveLoad(options, NerFixture.Rows(400, seed: 51), test, Path.Combine(_folder, "attention.zip"));

        double accuracy = expected.Zip(test).Sum(p => p.First.PredictedLabel.Zip(p.Second.Label).Count(w => w.First == w.Second)) / (double)test.Sum(r => r.Label.Length);
        Assert.True(accuracy > 0.9, $"word accuracy {accuracy:0.000} with DifferenceAttention off-ramps");
        Assert.Equal(TokenOffRampInput.DifferenceAttention, input);
        Assert.Equal(expected.Select(r => r.PredictedLabel), actual.Select(r => r.PredictedLabel));
        Assert.Equal(expected.Select(r => r.TokenExitLayers), actual.Select(r => r.TokenExitLayers));
    }

    [Fact]
    public void Options_PoolRate_NeedsPoolsAndAPositiveValue()
    {
        TokenEarlyExitNerTrainer.Options withoutPools = NerFixture.Options();
        withoutPools.LayerAttentionLearningRate = 1e-2;
        TokenEarlyExitNerTrainer.Options negative = NerFixture.Options();
        negative.OffRampInput = TokenOffRampInput.LayerAttention;
        negative.LayerAttentionLearningRate = -1;

        var noPools = Assert.Throws<ArgumentException>(() => new MLContext().MulticlassClassification.Trainers.TokenEarlyExitNer(withoutPools));
        var notPositive = Assert.Throws<ArgumentException>(() => new MLContext().MulticlassClassification.Trainers.TokenEarlyExitNer(negative));

        Assert.Contains("LayerAttentionLearningRate is set but OffRampInput is Layer", noPools.Message);
        Assert.Contains("LayerAttentionLearningRate is -1; it must be a positive number", notPositive.Message);
        Assert.Null(new TokenEarlyExitNerTrainer.Options().LayerAttentionLearningRate);
        Assert.Equal(1e-2, withoutPools.ToTrainingOptions().LayerAttentionLearningRate);
    }

    [Fact]
    public void Options_UnknownOffRampInput_NamesTheChoices()
    {
        TokenEarlyExitNerTrainer.Options options = NerFixture.Options();
        options.OffRampInput = (TokenOffRampInput)9;

        var error = Assert.Throws<ArgumentException>(() => new MLContext().MulticlassClassification.Trainers.TokenEarlyExitNer(options));

        Assert.Contains("OffRampInput is 9; use Layer, LayerAttention, DifferenceAttention.", error.Message);
        Assert.Equal(TokenOffRampInput.Layer, new TokenEarlyExitNerTrainer.Options().OffRampInput);
    }
}
