using EarlyExit.ExitCriteria;
using EarlyExit.MLNet.Palbert;
using EarlyExit.MLNet.Tests.TestSupport;
using EarlyExit.OnnxRuntime;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EarlyExit.MLNet.Tests.Palbert;

/// <summary>
/// <see cref="PalbertTransformer.WithBackend"/>: the fitted transformer scoring on ONNX Runtime gives TorchSharp's
/// predictions and exit layers through every ML.NET surface (Transform, prediction engines, save and load).
/// </summary>
[Collection("Torch")]
public sealed class PalbertBackendTests(PalbertFixture fixture) : IClassFixture<PalbertFixture>, IDisposable
{
    private const float Tolerance = 1e-4f;

    private readonly string _folder = Directory.CreateTempSubdirectory("palbert-backend-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void WithBackend_OnnxRuntime_ScoresAsTorchSharpOnEveryCriterion()
    {
        // The 60 rows in one batch, so that rows exiting at different layers leave that batch while others go on.
        using PalbertTransformer onnxAtTheTrainingBatchSize = fixture.Palbert.WithBackend(ScoringBackend.OnnxRuntime);
        using PalbertTransformer onnx = onnxAtTheTrainingBatchSize.WithBatchSize(64);
        int mixed = 0; // criteria under which rows exit at different layers
        foreach (ExitCriterion criterion in new[] { "qexit:0.5", "full", "layer:1", "sampled:3", "expectation", "patience:1", "entropy:0.5" }.Select(ExitCriterion.Parse).Append(SplittingThreshold()))
        {
            using PalbertTransformer torch = fixture.Palbert.WithExitCriterion(criterion).WithBatchSize(64);
            using PalbertTransformer ort = onnx.WithExitCriterion(criterion);

            List<ScoredRow> expected = fixture.Score(fixture.Test, fixture.Chain(torch));
            List<ScoredRow> actual = fixture.Score(fixture.Test, fixture.Chain(ort));

            Assert.Equal(ScoringBackend.OnnxRuntime, ort.Backend);
            AssertSameScores(expected, actual, criterion.Name);
            mixed += actual.Select(r => r.ExitLayer).Distinct().Count() > 1 ? 1 : 0;
        }

        Assert.Equal(ScoringBackend.TorchSharp, fixture.Palbert.Backend);
        Assert.True(mixed > 0, "Under no criterion did rows exit at different layers, so no row ever left a batch while others went on.");
    }

    [Fact]
    public void WithBackend_OnnxRuntime_PredictionEngineAndBatchSizeOneScoreAsTransform()
    {
        using PalbertTransformer onnx = fixture.Palbert.WithBackend(ScoringBackend.OnnxRuntime, new OnnxRuntimeOptions { IntraOpThreads = 1 });
        using PalbertTransformer single = onnx.WithBatchSize(1);
        List<ScoredRow> batched = fixture.Score(fixture.Test, fixture.Chain(onnx));
        var engine = fixture.Context.Model.CreatePredictionEngine<TextRow, ScoredRow>(fixture.Chain(onnx));

        List<ScoredRow> alone = fixture.Test.Select(engine.Predict).ToList();
        List<ScoredRow> oneByOne = fixture.Score(fixture.Test, fixture.Chain(single));

        Assert.Equal(ScoringBackend.OnnxRuntime, single.Backend);
        AssertSameScores(batched, alone, "prediction engine");
        AssertSameScores(batched, oneByOne, "batch size 1");
    }

    [Theory]
    [InlineData(ScoringBackend.TorchSharp)]
    [InlineData(ScoringBackend.OnnxRuntime)]
    public void WarmUp_OnEitherBackend_ScoresThereAndLeavesTheScoresAsTheyWere(ScoringBackend backend)
    {
        PalbertTransformer scorer = fixture.Palbert.WithBackend(backend);
        List<ScoredRow> cold = fixture.Score(fixture.Test, fixture.Chain(scorer));
        bool torchWasLeftInTraining = WarmUpProbe.LeavesTorchInTraining(scorer.Classifier.Model, scorer.WarmUp);

        List<ScoredRow> warm = fixture.Score(fixture.Test, fixture.Chain(scorer));
        scorer.Dispose();

        Assert.Equal(backend == ScoringBackend.OnnxRuntime, torchWasLeftInTraining);
        AssertSameScores(cold, warm, $"after a warm-up on {backend}");
        Assert.Throws<ObjectDisposedException>(scorer.WarmUp);
    }

    [Fact]
    public void SaveLoad_OnnxRuntimeBackend_LoadsScoringOnOnnxRuntime()
    {
        using PalbertTransformer onnx = fixture.Palbert.WithBackend(ScoringBackend.OnnxRuntime);
        string path = Path.Combine(_folder, "onnx.zip");
        ITransformer chain = fixture.Chain(onnx);
        fixture.Context.Model.Save(chain, fixture.Context.Data.LoadFromEnumerable(fixture.Test).Schema, path);

        var loaded = (TransformerChain<ITransformer>)new MLContext(seed: 3).Model.Load(path, out _);
        using PalbertTransformer palbert = loaded.OfType<PalbertTransformer>().Single();

        Assert.Equal(ScoringBackend.OnnxRuntime, palbert.Backend);
        AssertSameScores(fixture.Score(fixture.Test, chain), fixture.Score(fixture.Test, loaded), "loaded");
        using PalbertTransformer back = palbert.WithBackend(ScoringBackend.TorchSharp);
        Assert.Equal(ScoringBackend.TorchSharp, back.Backend);
    }

    [Theory]
    [InlineData(",\"Backend\":\"TorchSharp\"", "                       ", null)] // as written before the backend was saved
    [InlineData("\"Backend\":\"TorchSharp\"", "\"Backend\":\"TorchSharX\"", "not readable by this version")]
    public void Load_SettingsWithoutOrWithAnUnknownBackend_LoadOnTorchSharpOrSayWhy(string saved, string replacement, string? error)
    {
        string path = Path.Combine(_folder, "edited.zip");
        fixture.Context.Model.Save(fixture.Model, fixture.Context.Data.LoadFromEnumerable(fixture.Test).Schema, path);
        Assert.Equal(saved.Length, replacement.Length); // the entry keeps its length, so ML.NET's header stays valid
        using (var zip = System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Update))
        {
            System.IO.Compression.ZipArchiveEntry entry = zip.Entries.Single(e => e.FullName == "TransformerChain/Transform_001/Model.key");
            byte[] bytes;
            using (var read = new MemoryStream())
            {
                using (Stream stream = entry.Open())
                {
                    stream.CopyTo(read);
                }

                bytes = read.ToArray();
            }

            string text = System.Text.Encoding.Latin1.GetString(bytes);
            Assert.Contains(saved, text);
            string name = entry.FullName;
            entry.Delete();
            using Stream written = zip.CreateEntry(name).Open();
            written.Write(System.Text.Encoding.Latin1.GetBytes(text.Replace(saved, replacement, StringComparison.Ordinal)));
        }

        if (error is null)
        {
            var loaded = (TransformerChain<ITransformer>)new MLContext(seed: 3).Model.Load(path, out _);
            using PalbertTransformer palbert = loaded.OfType<PalbertTransformer>().Single();
            Assert.Equal(ScoringBackend.TorchSharp, palbert.Backend);
            Assert.Equal(fixture.Score(fixture.Test).Select(r => r.ExitLayer), fixture.Score(fixture.Test, loaded).Select(r => r.ExitLayer));
        }
        else
        {
            var thrown = Assert.Throws<InvalidDataException>(() => new MLContext(seed: 3).Model.LoadUnwrapped(path, out _));
            Assert.Contains(error, thrown.Message);
            Assert.Contains("Palbert transformer", thrown.Message);
        }
    }

    [Fact]
    public void WithBackend_DerivedTransformer_OutlivesTheOneItCameFrom()
    {
        PalbertTransformer onnx = fixture.Palbert.WithBackend(ScoringBackend.OnnxRuntime);
        using PalbertTransformer full = onnx.WithExitCriterion(ExitCriterion.Full());
        onnx.Dispose();

        List<ScoredRow> scored = fixture.Score(fixture.Test, fixture.Chain(full));

        Assert.Equal(ScoringBackend.OnnxRuntime, full.Backend);
        Assert.All(scored, r => Assert.Equal(full.NumLayers, r.ExitLayer));
        Assert.Throws<ObjectDisposedException>(() => onnx.WithBackend(ScoringBackend.OnnxRuntime));
    }

    [Fact]
    public void WithBackend_OptionsForTorchSharp_ThrowsNamingTheBackend()
    {
        var error = Assert.Throws<ArgumentException>(() => fixture.Palbert.WithBackend(ScoringBackend.TorchSharp, new OnnxRuntimeOptions()));

        Assert.Contains("OnnxRuntime backend", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => fixture.Palbert.WithBackend((ScoringBackend)7));
    }

    [Fact]
    public void ExportedFullDepthGraph_RunByApplyOnnxModel_GivesTheFullDepthScores()
    {
        EarlyExitTextClassifier classifier = fixture.Palbert.Classifier;
        string folder = Path.Combine(_folder, "export");
        classifier.ExportOnnx(folder);
        int tokens = classifier.MaxSequenceLength;
        // ML.NET feeds one row at a time, as fixed-size vectors: every row padded to the model's length.
        List<OnnxTokens> rows = fixture.Test.Select(r => OnnxTokens.Of(classifier.Encode(r.Text), tokens, classifier.PadTokenId)).ToList();
        var shape = new Dictionary<string, int[]> { ["input_ids"] = [1, tokens], ["attention_mask"] = [1, tokens], ["token_type_ids"] = [1, tokens] };
        MLContext ml = fixture.Context;
        SchemaDefinition fixedSize = SchemaDefinition.Create(typeof(OnnxTokens));
        foreach (SchemaDefinition.Column column in fixedSize)
        {
            column.ColumnType = new VectorDataViewType(NumberDataViewType.Int64, tokens);
        }

        IDataView data = ml.Data.LoadFromEnumerable(rows, fixedSize);
        using var onnx = ml.Transforms.ApplyOnnxModel(["scores"], ["input_ids", "attention_mask", "token_type_ids"], Path.Combine(folder, "model.onnx"), shape,
            gpuDeviceId: null, fallbackToCpu: false, recursionLimit: 100).Fit(data);
        float[][] scores = ml.Data.CreateEnumerable<OnnxScores>(onnx.Transform(data), reuseRowObject: false).Select(r => r.Scores).ToArray();

        using PalbertTransformer full = fixture.Palbert.WithExitCriterion(ExitCriterion.Full());
        List<ScoredRow> expected = fixture.Score(fixture.Test, fixture.Chain(full));
        Assert.Equal(expected.Count, scores.Length);
        for (int row = 0; row < expected.Count; row++)
        {
            AssertClose(expected[row].Score, scores[row], $"row {row}");
        }
    }

    // maxprob between two of layer 1's confidences near their median, in the widest gap: about half the rows stop at layer 1.
    private ExitCriterion SplittingThreshold()
    {
        using PalbertTransformer first = fixture.Palbert.WithExitCriterion(ExitCriterion.FixedLayer(1));
        float[] confidence = fixture.Score(fixture.Test, fixture.Chain(first)).Select(r => r.Score.Max()).Order().ToArray();
        int gap = Enumerable.Range(confidence.Length / 4, confidence.Length / 2).MaxBy(i => confidence[i + 1] - confidence[i]);
        return ExitCriterion.MaxProbability((confidence[gap] + confidence[gap + 1]) / 2.0);
    }

    private static void AssertSameScores(List<ScoredRow> expected, List<ScoredRow> actual, string what)
    {
        Assert.Equal(expected.Select(r => (r.PredictedLabel, r.ExitLayer)), actual.Select(r => (r.PredictedLabel, r.ExitLayer)));
        for (int row = 0; row < expected.Count; row++)
        {
            AssertClose(expected[row].Score, actual[row].Score, $"{what}, score of row {row}");
            AssertClose(expected[row].HaltingDistribution, actual[row].HaltingDistribution, $"{what}, halting distribution of row {row}");
        }
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            bool same = float.IsNaN(expected[i]) ? float.IsNaN(actual[i]) : Math.Abs(expected[i] - actual[i]) <= Tolerance;
            Assert.True(same, $"{what}: entry {i} is {actual[i]}, expected {expected[i]}.");
        }
    }

    /// <summary>model.onnx's inputs for one row, padded to a fixed length.</summary>
    private sealed class OnnxTokens
    {
        [ColumnName("input_ids")]
        public long[] InputIds { get; set; } = [];

        [ColumnName("attention_mask")]
        public long[] AttentionMask { get; set; } = [];

        [ColumnName("token_type_ids")]
        public long[] TokenTypeIds { get; set; } = [];

        public static OnnxTokens Of(Tokenization.TokenizedInput input, int length, int padTokenId)
        {
            long[] Padded(int[] values, int pad) => values.Select(v => (long)v).Concat(Enumerable.Repeat((long)pad, length - values.Length)).ToArray();
            return new OnnxTokens { InputIds = Padded(input.InputIds, padTokenId), AttentionMask = Padded(input.AttentionMask, 0), TokenTypeIds = Padded(input.TokenTypeIds, 0) };
        }
    }

    /// <summary>model.onnx's output.</summary>
    private sealed class OnnxScores
    {
        [ColumnName("scores")]
        public float[] Scores { get; set; } = [];
    }
}
