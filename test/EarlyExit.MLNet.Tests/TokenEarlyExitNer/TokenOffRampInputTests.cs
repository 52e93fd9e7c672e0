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
        var ml = new MLContext(seed: 1);
        TokenEarlyExitNerTrainer.Options options = NerFixture.Options();
        options.OffRampInput = TokenOffRampInput.DifferenceAttention;
        List<SentenceRow> test = NerFixture.Rows(60, seed: 52);
        IDataView training = ml.Data.LoadFromEnumerable(NerFixture.Rows(400, seed: 51));

        using var model = NerFixture.Pipeline(ml, options).Fit(training);
        string path = Path.Combine(_folder, "attention.zip");
        ml.Model.Save(model, training.Schema, path);
        var loaded = (TransformerChain<ITransformer>)new MLContext(seed: 3).Model.Load(path, out _);
        List<TaggedRow> expected = Tag(ml, model, test);
        List<TaggedRow> actual = Tag(ml, loaded, test);
        TokenExitNetwork network = loaded.OfType<TokenEarlyExitNerTransformer>().Single().Classifier.Model;
        (loaded as IDisposable)?.Dispose();

        double accuracy = expected.Zip(test).Sum(p => p.First.PredictedLabel.Zip(p.Second.Label).Count(w => w.First == w.Second)) / (double)test.Sum(r => r.Label.Length);
        Assert.True(accuracy > 0.9, $"word accuracy {accuracy:0.000} with DifferenceAttention off-ramps");
        Assert.Equal(TokenOffRampInput.DifferenceAttention, network.OffRampInput);
        Assert.Equal(expected.Select(r => r.PredictedLabel), actual.Select(r => r.PredictedLabel));
        Assert.Equal(expected.Select(r => r.TokenExitLayers), actual.Select(r => r.TokenExitLayers));
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

    private static List<TaggedRow> Tag(MLContext ml, ITransformer model, List<SentenceRow> rows) =>
        ml.Data.CreateEnumerable<TaggedRow>(model.Transform(ml.Data.LoadFromEnumerable(rows)), reuseRowObject: false).ToList();
}
