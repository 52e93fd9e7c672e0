using EarlyExit.Evaluation;
using EarlyExit.ExitCriteria;
using EarlyExit.MLNet.Interop;
using EarlyExit.MLNet.Palbert;
using EarlyExit.MLNet.Tests.TestSupport;
using EarlyExit.Modeling;
using EarlyExit.Training;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EarlyExit.MLNet.Tests.Palbert;

[Collection("Torch")]
public sealed class PalbertTrainerTests(PalbertFixture fixture) : IClassFixture<PalbertFixture>, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("palbert-tests-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Fit_ToyTask_EvaluatesWellThroughMLNet()
    {
        IDataView scored = fixture.Model.Transform(fixture.Context.Data.LoadFromEnumerable(fixture.Test));

        MulticlassClassificationMetrics metrics = fixture.Context.MulticlassClassification.Evaluate(scored, labelColumnName: "Label", predictedLabelColumnName: "PredictedLabel");

        Assert.True(metrics.MicroAccuracy > 0.85, $"micro-accuracy {metrics.MicroAccuracy:0.000} on the toy task");
        List<ScoredRow> rows = fixture.Score(fixture.Test);
        Assert.All(rows, r => Assert.InRange(r.ExitLayer, 1, fixture.Palbert.NumLayers));
        Assert.All(rows, r => Assert.Contains(r.PredictedLabel, new[] { "negative", "positive" }));
        Assert.All(rows, r => Assert.Equal(1f, r.Score.Sum(), 3));
        Assert.All(rows, r => Assert.Equal(fixture.Palbert.NumLayers, r.HaltingDistribution.Length));
        Assert.Equal(fixture.Test.Select(r => r.Text), rows.Select(r => r.Text));
    }

    [Fact]
    public void GetOutputSchema_MatchesTheFittedTransformersSchema()
    {
        IDataView data = fixture.Context.Data.LoadFromEnumerable(fixture.Test);
        var estimator = fixture.Context.MulticlassClassification.Trainers.Palbert(PalbertFixture.Options());
        DataViewSchema keyed = fixture.Model.ElementAt(0).GetOutputSchema(data.Schema);

        SchemaShape declared = estimator.GetOutputSchema(MLNetInternals.ShapeOf(keyed));
        SchemaShape actual = MLNetInternals.ShapeOf(fixture.Palbert.GetOutputSchema(keyed));

        SchemaShapes.AssertSame(actual, declared);
    }

    [Fact]
    public void Transform_Batched_EqualsPredictionEngineRowByRow()
    {
        List<ScoredRow> batched = fixture.Score(fixture.Test);
        var engine = fixture.Context.Model.CreatePredictionEngine<TextRow, ScoredRow>(fixture.Model);

        for (int i = 0; i < fixture.Test.Count; i++)
        {
            ScoredRow alone = engine.Predict(fixture.Test[i]);
            Assert.Equal(alone.ExitLayer, batched[i].ExitLayer);
            Assert.Equal(alone.PredictedLabel, batched[i].PredictedLabel);
            Assert.Equal(alone.Score, batched[i].Score, (a, b) => Math.Abs(a - b) < 1e-4f);
        }
    }

    [Fact]
    public void PredictionEngine_SharedByManyThreads_NeverAnswersWithAnotherRowsScores()
    {
        var engine = fixture.Context.Model.CreatePredictionEngine<TextRow, ScoredRow>(fixture.Model);
        Dictionary<string, float[]> expected = fixture.Test.DistinctBy(r => r.Text).ToDictionary(r => r.Text!, r => engine.Predict(r).Score);
        TextRow[] requests = Enumerable.Range(0, 4000).Select(i => fixture.Test[i % fixture.Test.Count]).ToArray();
        var answers = new (float[]? Score, Exception? Error)[requests.Length];

        Parallel.For(0, requests.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            try
            {
                answers[i] = (engine.Predict(requests[i]).Score, null);
            }
            catch (InvalidOperationException e)
            {
                answers[i] = (null, e);
            }
        });

        for (int i = 0; i < requests.Length; i++)
        {
            if (answers[i].Error is Exception error)
            {
                Assert.Contains("PredictionEnginePool", error.Message);
            }
            else
            {
                Assert.Equal(expected[requests[i].Text!], answers[i].Score!, (a, b) => Math.Abs(a - b) < 1e-5f);
            }
        }

        // Used from one thread again, the engine answers normally.
        Assert.Equal(expected[fixture.Test[0].Text!], engine.Predict(fixture.Test[0]).Score, (a, b) => Math.Abs(a - b) < 1e-5f);
    }

    [Fact]
    public void WithExitCriterion_ChangesExitsWithoutRetraining()
    {
        using PalbertTransformer firstLayer = fixture.Palbert.WithExitCriterion(ExitCriterion.FixedLayer(1));
        using PalbertTransformer full = fixture.Palbert.WithExitCriterion(ExitCriterion.Full());

        Assert.All(fixture.Score(fixture.Test, fixture.Chain(firstLayer)), r => Assert.Equal(1, r.ExitLayer));
        Assert.All(fixture.Score(fixture.Test, fixture.Chain(full)), r => Assert.Equal(fixture.Palbert.NumLayers, r.ExitLayer));
        Assert.Equal(ExitCriterion.QExit(0.5), fixture.Palbert.ExitCriterion);
    }

    [Fact]
    public void WithBatchSize_One_ScoresTheSameAsTheTrainingBatchSize()
    {
        using PalbertTransformer single = fixture.Palbert.WithBatchSize(1);

        List<ScoredRow> batched = fixture.Score(fixture.Test);
        List<ScoredRow> oneByOne = fixture.Score(fixture.Test, fixture.Chain(single));

        Assert.Equal(1, single.Columns.BatchSize);
        Assert.Equal(batched.Select(r => (r.PredictedLabel, r.ExitLayer)), oneByOne.Select(r => (r.PredictedLabel, r.ExitLayer)));
    }

    [Fact]
    public void SaveLoad_SameProcess_GivesIdenticalPredictions()
    {
        string path = Path.Combine(_folder, "model.zip");
        IDataView data = fixture.Context.Data.LoadFromEnumerable(fixture.Test);
        fixture.Context.Model.Save(fixture.Model, data.Schema, path);

        ITransformer loaded = new MLContext(seed: 3).Model.Load(path, out DataViewSchema schema);

        // In the transformer's folder of the zip: ML.NET's header naming our loader and its assembly, and our named entries.
        using (System.IO.Compression.ZipArchive zip = System.IO.Compression.ZipFile.OpenRead(path))
        {
            Assert.Contains(zip.Entries, e => e.FullName == "TransformerChain/Transform_001/classifier/classifier.json");
            using var header = new StreamReader(zip.GetEntry("TransformerChain/Transform_001/Model.key")!.Open(), System.Text.Encoding.Latin1);
            string text = header.ReadToEnd();
            Assert.Contains(PalbertTransformer.LoaderSignature, text);
            Assert.Contains("EarlyExit.MLNet", text);
        }

        Assert.Equal(["Text", "Label"], schema.Select(c => c.Name));
        List<ScoredRow> before = fixture.Score(fixture.Test);
        List<ScoredRow> after = fixture.Score(fixture.Test, loaded);
        Assert.Equal(before.Select(r => (r.PredictedLabel, r.ExitLayer)), after.Select(r => (r.PredictedLabel, r.ExitLayer)));
        Assert.Equal(before.SelectMany(r => r.Score), after.SelectMany(r => r.Score));
    }

    [Fact]
    public void Load_DamagedSettingsEntry_TheInnerErrorNamesTheZipEntry()
    {
        string path = Path.Combine(_folder, "damaged.zip");
        IDataView data = fixture.Context.Data.LoadFromEnumerable(fixture.Test);
        fixture.Context.Model.Save(fixture.Model, data.Schema, path);
        using (var zip = System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Update))
        {
            System.IO.Compression.ZipArchiveEntry entry = zip.Entries.Single(e => e.Name == "classifier.json");
            string name = entry.FullName;
            entry.Delete();
            using Stream stream = zip.CreateEntry(name).Open();
            stream.Write("{ bad"u8);
        }

        // ML.NET builds transformers by reflection and wraps their errors in TargetInvocationException;
        // LoadUnwrapped throws the loader's own.
        var wrapped = Assert.Throws<System.Reflection.TargetInvocationException>(() => new MLContext(seed: 3).Model.Load(path, out _));
        var error = Assert.Throws<InvalidDataException>(() => new MLContext(seed: 3).Model.LoadUnwrapped(path, out _));

        Assert.StartsWith("In the model zip: 'classifier/classifier.json' is not valid", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("earlyexit-load-", error.Message, StringComparison.Ordinal);
        Assert.Equal("Exception has been thrown by the target of an invocation.", wrapped.Message);
    }

    [Fact]
    public void SaveLoad_FreshProcess_ScoresTheSame()
    {
        string path = Path.Combine(_folder, "model.zip");
        string texts = Path.Combine(_folder, "texts.txt");
        List<TextRow> rows = fixture.Test.Take(12).ToList();
        File.WriteAllLines(texts, rows.Select(r => r.Text!));
        fixture.Context.Model.Save(fixture.Model, fixture.Context.Data.LoadFromEnumerable(rows).Schema, path);

        string output = LoadProbe.Run("palbert", path, texts);

        Assert.Contains("before-load: EarlyExit.MLNet loaded=False", output);
        string[] expected = fixture.Score(rows).Select(r => $"row: {r.PredictedLabel} {r.ExitLayer} {string.Join(",", r.Score.Select(s => s.ToString("0.00000", System.Globalization.CultureInfo.InvariantCulture)))}").ToArray();
        Assert.Equal(expected, output.Split('\n').Where(l => l.StartsWith("row: ", StringComparison.Ordinal)).Select(l => l.TrimEnd('\r')).ToArray());
        Assert.Contains($"engine: {expected[0].Split(' ')[1]} {expected[0].Split(' ')[2]}", output);
    }

    [Fact]
    public void Fit_ReportsProgressToTheLogAndTheCallback()
    {
        Assert.Contains(fixture.Log, m => m.Contains("epoch 4/4", StringComparison.Ordinal) && m.Contains("loss", StringComparison.Ordinal));
        Assert.Contains(fixture.Log, m => m.Contains("Backbone preset tiny-bert", StringComparison.Ordinal));
        Assert.NotNull(fixture.Palbert.TrainingReport);
        Assert.Equal(4, fixture.Palbert.TrainingReport!.Epochs.Count);
    }

    [Fact]
    public void Transform_EmptyNullAndOverlongText_AreScored()
    {
        var rows = new List<TextRow>
        {
            new() { Text = "", Label = "positive" },
            new() { Text = null, Label = "positive" },
            new() { Text = string.Join(' ', Enumerable.Repeat("good", 400)), Label = "positive" },
        };

        List<ScoredRow> scored = fixture.Score(rows);

        Assert.Equal(3, scored.Count);
        Assert.Equal("positive", scored[2].PredictedLabel);
        Assert.Equal(fixture.Palbert.Classifier.MaxSequenceLength, fixture.Palbert.Classifier.Encode(rows[2].Text).Length);
    }

    [Fact]
    public void Transform_LabelUnseenInTraining_StillScoresWithKnownClasses()
    {
        var rows = new List<TextRow> { new() { Text = "a good movie", Label = "neutral" } };

        List<ScoredRow> scored = fixture.Score(rows);

        // MapValueToKey maps the unseen "neutral" to the missing key; the prediction is one of the trained classes.
        Assert.Contains(scored[0].PredictedLabel, new[] { "negative", "positive" });
    }

    [Fact]
    public void Fit_MissingTextColumn_ThrowsBeforeTrainingNamingTheColumn()
    {
        PalbertTextClassificationTrainer.Options options = PalbertFixture.Options();
        options.Sentence1ColumnName = "Review";

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Fit(options, fixture.Training.Take(10)));

        Assert.Contains("'Review'", error.Message);
        Assert.Contains("Text, Label", error.Message);
    }

    [Fact]
    public void GetOutputSchemaAndFit_LabelKeyOfUInt64_BothRefuseIt()
    {
        var ml = new MLContext(seed: 1);
        SchemaDefinition wideKey = SchemaDefinition.Create(typeof(WideKeyRow));
        wideKey[nameof(WideKeyRow.Label)].ColumnType = new KeyDataViewType(typeof(ulong), 2);
        IDataView keyed = ml.Data.LoadFromEnumerable(fixture.Training.Take(10).Select((r, i) => new WideKeyRow { Text = r.Text, Label = (ulong)(i % 2) + 1 }), wideKey);
        var estimator = ml.MulticlassClassification.Trainers.Palbert(PalbertFixture.Options());

        var declared = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(MLNetInternals.ShapeOf(keyed.Schema)));
        var fitted = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(keyed));

        Assert.Contains("must be Key<UInt32>, found Key<UInt64", declared.Message);
        Assert.Contains("must be Key<UInt32>, found Key<UInt64", fitted.Message);
    }

    [Fact]
    public void Fit_LabelNotKey_ThrowsNamingMapValueToKey()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = ml.Data.LoadFromEnumerable(fixture.Training.Take(10));

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.Palbert(PalbertFixture.Options()).Fit(data));

        Assert.Contains("Column 'Label' must be Key<UInt32>, found String", error.Message);
        Assert.Contains("MapValueToKey(\"Label\")", error.Message);
    }

    [Fact]
    public void Fit_PositiveLabelNotAClass_ThrowsBeforeTrainingListingTheClasses()
    {
        PalbertTextClassificationTrainer.Options options = PalbertFixture.Options();
        options.ValidationMetric = ClassificationMetric.F1;
        options.PositiveLabel = "1";
        var error = Assert.Throws<ArgumentException>(() => Fit(options, fixture.Training.Take(20)));

        Assert.Contains("The positive label '1' is not a class", error.Message);
        Assert.Contains("'negative'", error.Message);
    }

    [Fact]
    public void Fit_OneClassData_ThrowsNamingTheClass()
    {
        var rows = fixture.Training.Where(r => r.Label == "positive").Take(20);

        var error = Assert.Throws<ArgumentException>(() => Fit(PalbertFixture.Options(), rows));

        Assert.Contains("only one class", error.Message);
        Assert.Contains("'positive'", error.Message);
    }

    [Fact]
    public void Palbert_InvalidOptions_ListsEveryProblemAtCreation()
    {
        PalbertTextClassificationTrainer.Options options = PalbertFixture.Options();
        options.BatchSize = 0;
        options.Halting = HaltingVariant.None;
        options.ExitCriterion = ExitCriterion.QExit(0.5);
        options.Objective = TrainingObjective.Ponder;

        var error = Assert.Throws<ArgumentException>(() => new MLContext().MulticlassClassification.Trainers.Palbert(options));

        Assert.Contains("BatchSize is 0", error.Message);
        Assert.Contains("Objective is Ponder but Halting is None", error.Message);
        Assert.Contains("needs a halting head", error.Message);
    }

    [Fact]
    public void Fit_Cancelled_ThrowsOperationCanceled()
    {
        using var cancellation = new CancellationTokenSource();
        PalbertTextClassificationTrainer.Options options = PalbertFixture.Options();
        options.CancellationToken = cancellation.Token;
        options.Progress = new CancelAtStep(2, cancellation);

        Assert.Throws<OperationCanceledException>(() => Fit(options, fixture.Training.Take(100)));
    }

    [Fact]
    public void Fit_SentencePairs_UsesBothColumns()
    {
        var ml = new MLContext(seed: 1);
        var rows = PalbertFixture.Rows(120, seed: 31).Zip(PalbertFixture.Rows(120, seed: 32), (a, b) => new PairRow { First = a.Text!, Second = b.Text!, Label = a.Label == b.Label ? "same" : "different" }).ToList();
        PalbertTextClassificationTrainer.Options options = PalbertFixture.Options();
        options.Sentence1ColumnName = nameof(PairRow.First);
        options.Sentence2ColumnName = nameof(PairRow.Second);
        options.Epochs = 1;

        var model = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.Palbert(options)).Fit(ml.Data.LoadFromEnumerable(rows));

        PalbertTransformer palbert = (PalbertTransformer)model.LastTransformer;
        Assert.Equal(options.Sentence2ColumnName, palbert.Columns.Sentence2);
        TokenizedInputLength(palbert, rows[0]);
        palbert.Dispose();
    }

    private static void TokenizedInputLength(PalbertTransformer palbert, PairRow row)
    {
        var single = palbert.Classifier.Encode(row.First);
        var pair = palbert.Classifier.Encode(row.First, row.Second);
        Assert.True(pair.Length > single.Length, "the second text must be part of the input");
        Assert.Contains(1, pair.TokenTypeIds);
    }

    private TransformerChain<Microsoft.ML.Transforms.KeyToValueMappingTransformer> Fit(PalbertTextClassificationTrainer.Options options, IEnumerable<TextRow> rows)
    {
        var ml = new MLContext(seed: 1);
        return PalbertFixture.Pipeline(ml, options).Fit(ml.Data.LoadFromEnumerable(rows));
    }

    private sealed class CancelAtStep(long step, CancellationTokenSource cancellation) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Step >= step)
            {
                cancellation.Cancel();
            }
        }
    }

    public sealed class PairRow
    {
        public string First { get; set; } = "";

        public string Second { get; set; } = "";

        public string Label { get; set; } = "";
    }

    private sealed class WideKeyRow
    {
        public string? Text { get; set; }

        public ulong Label { get; set; }
    }
}
