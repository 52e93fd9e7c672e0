using EarlyExit.MLNet.Palbert;
using EarlyExit.Modeling;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EarlyExit.MLNet.Tests.Palbert;

/// <summary><see cref="HaltingVariant.LayerAttention"/> through the ML.NET trainer: fit, Q-exit scoring, the zip and the ONNX Runtime refusal.</summary>
[Collection("Torch")]
public sealed class PalbertLayerAttentionTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("palbert-attention-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Fit_LayerAttentionHalting_ClassifiesTheToyTask_AndTheZipKeepsIt()
    {
        var ml = new MLContext(seed: 1);
        PalbertTextClassificationTrainer.Options options = PalbertFixture.Options();
        options.Halting = HaltingVariant.LayerAttention;
        IDataView training = ml.Data.LoadFromEnumerable(PalbertFixture.Rows(320, seed: 11));
        List<TextRow> test = PalbertFixture.Rows(40, seed: 12);

        using var model = PalbertFixture.Pipeline(ml, options).Fit(training);
        string path = Path.Combine(_folder, "attention.zip");
        ml.Model.Save(model, training.Schema, path);
        var loaded = (TransformerChain<ITransformer>)new MLContext(seed: 3).Model.Load(path, out _);
        List<ScoredRow> expected = Score(ml, model, test);
        List<ScoredRow> actual = Score(ml, loaded, test);
        PalbertTransformer palbert = loaded.OfType<PalbertTransformer>().Single();
        var onnx = Assert.Throws<NotSupportedException>(() => palbert.WithBackend(ScoringBackend.OnnxRuntime));
        (loaded as IDisposable)?.Dispose();

        double accuracy = expected.Zip(test).Count(p => p.First.PredictedLabel == p.Second.Label) / (double)test.Count;
        Assert.True(accuracy > 0.9, $"accuracy {accuracy:0.000} with a layer-attention halting head");
        Assert.Equal(expected.Select(r => (r.PredictedLabel, r.ExitLayer)), actual.Select(r => (r.PredictedLabel, r.ExitLayer)));
        Assert.Equal(expected.SelectMany(r => r.HaltingDistribution), actual.SelectMany(r => r.HaltingDistribution));
        Assert.Contains("halting head reads LayerAttention", onnx.Message);
    }

    private static List<ScoredRow> Score(MLContext ml, ITransformer model, List<TextRow> rows) =>
        ml.Data.CreateEnumerable<ScoredRow>(model.Transform(ml.Data.LoadFromEnumerable(rows)), reuseRowObject: false).ToList();
}
