using EarlyExit.ExitCriteria;
using EarlyExit.MLNet.Sweeps;
using EarlyExit.MLNet.TokenEarlyExitNer;
using EarlyExit.Modeling;
using EarlyExit.Sweeps;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EarlyExit.MLNet.Tests.TokenEarlyExitNer;

/// <summary><see cref="TokenEarlyExitNerTrainer.Options.WordPoolingLayer"/>: layers on words through an ML.NET pipeline.</summary>
[Collection("Torch")]
public sealed class TokenWordPoolingTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ner-words-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Fit_OnWordsFromLayer2_TagsEveryWord_AndTheZipKeepsIt()
    {
        TokenEarlyExitNerTrainer.Options options = NerFixture.Options();
        options.WordPoolingLayer = 2;
        List<SentenceRow> test = NerFixture.Rows(60, seed: 52, pieces: true);

        (List<TaggedRow> expected, List<TaggedRow> actual, _, int wordPoolingLayer) = NerFixture.FitSaveLoad(options, NerFixture.Rows(400, seed: 51, pieces: true), test, Path.Combine(_folder, "words.zip"));

        Assert.All(expected.Zip(test), p => Assert.Equal(p.Second.Tokens.Length, p.First.PredictedLabel.Length));
        double accuracy = expected.Zip(test).Sum(p => p.First.PredictedLabel.Zip(p.Second.Label).Count(w => w.First == w.Second)) / (double)test.Sum(r => r.Label.Length);
        Assert.True(accuracy > 0.9, $"word accuracy {accuracy:0.000} on words from layer 2");
        Assert.Equal(2, wordPoolingLayer);
        Assert.Equal(expected.Select(r => r.PredictedLabel), actual.Select(r => r.PredictedLabel));
        Assert.Equal(expected.Select(r => r.TokenExitLayers), actual.Select(r => r.TokenExitLayers));
        Assert.Equal(0, new TokenEarlyExitNerTrainer.Options().WordPoolingLayer);
    }

    [Theory]
    [InlineData("layer:1")]
    [InlineData("sentee:0.3")]
    public void Sweep_OnWords_ReplaysExactly(string criterion)
    {
        var ml = new MLContext(seed: 1);
        TokenEarlyExitNerTrainer.Options options = NerFixture.Options();
        options.WordPoolingLayer = 2;
        using var model = NerFixture.Pipeline(ml, options).Fit(ml.Data.LoadFromEnumerable(NerFixture.Rows(200, seed: 51, pieces: true)));
        var ner = model.OfType<TokenEarlyExitNerTransformer>().Single();
        IDataView keyed = model.ElementAt(0).Transform(ml.Data.LoadFromEnumerable(NerFixture.Rows(40, seed: 52, pieces: true)));

        ExitSweep sweep = ner.Sweep(keyed, ExitGrid.ParseTokens($"full {criterion}"), measureSpeed: false);
        SweepSetting setting = sweep.Settings.Single(s => s.Criterion == TokenExitCriterion.Parse(criterion).Name);
        using TokenEarlyExitNerTransformer labeller = ner.WithExitCriterion(setting);
        NerMetrics real = NerEvaluation.Evaluate(labeller.Transform(keyed), labeller.NumLayers);

        Assert.False(setting.Estimated);
        Assert.Equal(real.Entities.Overall.F1, setting.Metric, 12);
        Assert.Equal(real.MeanTokenExitLayer, setting.MeanExitLayer, 12);
        Assert.Equal(real.ExitLayerHistogram, setting.ExitLayerHistogram);
    }

    [Fact]
    public void Options_NegativeLayer_IsRefusedWhenTheTrainerIsCreated()
    {
        TokenEarlyExitNerTrainer.Options options = NerFixture.Options();
        options.WordPoolingLayer = -2;

        var error = Assert.Throws<ArgumentException>(() => new MLContext().MulticlassClassification.Trainers.TokenEarlyExitNer(options));

        Assert.Contains("WordPoolingLayer is -2; use the first layer to run on words (1 or more), or 0 for none.", error.Message);
    }

    [Fact]
    public void Fit_LayerPastTheBackbone_NamesTheOptionAndTheRange()
    {
        var ml = new MLContext(seed: 1);
        TokenEarlyExitNerTrainer.Options options = NerFixture.Options();
        options.WordPoolingLayer = 3;

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => NerFixture.Pipeline(ml, options).Fit(ml.Data.LoadFromEnumerable(NerFixture.Rows(20, seed: 51))));

        Assert.Equal("WordPoolingLayer", error.ParamName);
        Assert.Contains("WordPoolingLayer is 3, but the backbone has 2 layers; use 1 to 2", error.Message);
    }

    [Fact]
    public void WithBackend_OnnxRuntime_RefusesNamingThePooling()
    {
        var ml = new MLContext(seed: 1);
        TokenEarlyExitNerTrainer.Options options = NerFixture.Options();
        options.WordPoolingLayer = 1;
        options.Epochs = 0;
        options.SelfSamplingEpochs = 1;
        using var model = NerFixture.Pipeline(ml, options).Fit(ml.Data.LoadFromEnumerable(NerFixture.Rows(20, seed: 51, pieces: true)));
        var ner = model.OfType<TokenEarlyExitNerTransformer>().Single();

        var error = Assert.Throws<NotSupportedException>(() => ner.WithBackend(ScoringBackend.OnnxRuntime));

        Assert.Contains("runs on words from layer 1", error.Message);
    }
}
