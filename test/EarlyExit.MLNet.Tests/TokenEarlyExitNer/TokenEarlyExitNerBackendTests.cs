using EarlyExit.ExitCriteria;
using EarlyExit.MLNet.Tests.TestSupport;
using EarlyExit.MLNet.TokenEarlyExitNer;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EarlyExit.MLNet.Tests.TokenEarlyExitNer;

/// <summary>
/// The token-exit transformer on ONNX Runtime (<c>WithBackend</c>): TorchSharp's tags and exit layers for every
/// word through Transform, prediction engines and save/load, under SENTEE, TOKEE and fixed layers.
/// </summary>
[Collection("Torch")]
public sealed class TokenEarlyExitNerBackendTests(NerFixture fixture) : IClassFixture<NerFixture>, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ner-backend-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void WithBackend_OnnxRuntime_TagsAsTorchSharpOnEveryCriterion()
    {
        // The 60 sentences in one batch, so that sentences finishing at different layers leave that batch while others go on.
        using TokenEarlyExitNerTransformer onnxAtTheTrainingBatchSize = fixture.Ner.WithBackend(ScoringBackend.OnnxRuntime);
        using TokenEarlyExitNerTransformer onnx = onnxAtTheTrainingBatchSize.WithBatchSize(64);
        // The fixture's words are about 0.15 uncertain at layer 1: thresholds there stop some words of a sentence and not others.
        int mixed = 0; // criteria under which the words of one sentence stop at different layers
        foreach (TokenExitCriterion criterion in new[] { "tokee:0.3", "tokee:0.15:1", "tokee:0.15:3:first", "sentee:0.15", "sentee:0.5:mean", "layer:1", "full" }.Select(TokenExitCriterion.Parse))
        {
            using TokenEarlyExitNerTransformer torch = fixture.Ner.WithExitCriterion(criterion).WithBatchSize(64);
            using TokenEarlyExitNerTransformer ort = onnx.WithExitCriterion(criterion);

            List<TaggedRow> expected = fixture.Tag(fixture.Test, fixture.Chain(torch));
            List<TaggedRow> actual = fixture.Tag(fixture.Test, fixture.Chain(ort));

            Assert.Equal(ScoringBackend.OnnxRuntime, ort.Backend);
            AssertSameTags(expected, actual, criterion.Name);
            mixed += actual.Any(r => r.TokenExitLayers.Distinct().Count() > 1) ? 1 : 0;
        }

        Assert.Equal(ScoringBackend.TorchSharp, fixture.Ner.Backend);
        Assert.True(mixed > 0, "Under no criterion did the words of a sentence stop at different layers, so halt-and-copy never ran.");
    }

    [Theory]
    [InlineData(ScoringBackend.TorchSharp)]
    [InlineData(ScoringBackend.OnnxRuntime)]
    public void WarmUp_OnEitherBackend_ScoresThereAndLeavesTheTagsAsTheyWere(ScoringBackend backend)
    {
        TokenEarlyExitNerTransformer labeller = fixture.Ner.WithBackend(backend);
        List<TaggedRow> cold = fixture.Tag(fixture.Test, fixture.Chain(labeller));
        bool torchWasLeftInTraining = WarmUpProbe.LeavesTorchInTraining(labeller.Classifier.Model, labeller.WarmUp);

        List<TaggedRow> warm = fixture.Tag(fixture.Test, fixture.Chain(labeller));
        labeller.Dispose();

        Assert.Equal(backend == ScoringBackend.OnnxRuntime, torchWasLeftInTraining);
        AssertSameTags(cold, warm, $"after a warm-up on {backend}");
        Assert.Throws<ObjectDisposedException>(labeller.WarmUp);
    }

    [Fact]
    public void WithBackend_OnnxRuntime_PredictionEngineAndSaveLoadTagAsTransform()
    {
        using TokenEarlyExitNerTransformer onnx = fixture.Ner.WithBackend(ScoringBackend.OnnxRuntime);
        ITransformer chain = fixture.Chain(onnx);
        List<TaggedRow> batched = fixture.Tag(fixture.Test, chain);
        var engine = fixture.Context.Model.CreatePredictionEngine<SentenceRow, TaggedRow>(chain);
        string path = Path.Combine(_folder, "onnx.zip");
        fixture.Context.Model.Save(chain, fixture.Context.Data.LoadFromEnumerable(fixture.Test).Schema, path);

        List<TaggedRow> alone = fixture.Test.Select(engine.Predict).ToList();
        var loaded = (TransformerChain<ITransformer>)new MLContext(seed: 3).Model.Load(path, out _);
        using TokenEarlyExitNerTransformer ner = loaded.OfType<TokenEarlyExitNerTransformer>().Single();

        AssertSameTags(batched, alone, "prediction engine");
        Assert.Equal(ScoringBackend.OnnxRuntime, ner.Backend);
        AssertSameTags(batched, fixture.Tag(fixture.Test, loaded), "loaded");
    }

    private static void AssertSameTags(List<TaggedRow> expected, List<TaggedRow> actual, string what)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int row = 0; row < expected.Count; row++)
        {
            Assert.True(expected[row].PredictedLabel.SequenceEqual(actual[row].PredictedLabel), $"{what}, row {row}: {string.Join(" ", actual[row].PredictedLabel)} against {string.Join(" ", expected[row].PredictedLabel)}");
            Assert.True(expected[row].TokenExitLayers.SequenceEqual(actual[row].TokenExitLayers), $"{what}, row {row}: exit layers {string.Join(",", actual[row].TokenExitLayers)} against {string.Join(",", expected[row].TokenExitLayers)}");
            Assert.Equal(expected[row].ExitLayer, actual[row].ExitLayer);
        }
    }
}
