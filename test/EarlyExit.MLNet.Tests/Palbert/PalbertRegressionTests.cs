using EarlyExit.ExitCriteria;
using EarlyExit.MLNet.Interop;
using EarlyExit.MLNet.Palbert;
using EarlyExit.MLNet.Tests.TestSupport;
using EarlyExit.Tests.Training;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EarlyExit.MLNet.Tests.Palbert;

/// <summary>A text row of the toy regression task: positive sentences score about 4, negative about 1.</summary>
public sealed class ValueRow
{
    public string? Text { get; set; }

    public float Label { get; set; }
}

/// <summary>A scored regression row.</summary>
public sealed class ScoredValueRow
{
    public string Text { get; set; } = "";

    public float Label { get; set; }

    public float Score { get; set; }

    public int ExitLayer { get; set; }
}

/// <summary>One regression Palbert fitted once on the toy task and shared by the tests.</summary>
public sealed class PalbertRegressionFixture : IDisposable
{
    public PalbertRegressionFixture()
    {
        Context = new MLContext(seed: 1);
        Test = Rows(60, seed: 22);
        Model = Context.Regression.Trainers.Palbert(Options()).Fit(Context.Data.LoadFromEnumerable(Rows(400, seed: 21)));
    }

    public MLContext Context { get; }

    public List<ValueRow> Test { get; }

    public PalbertTransformer Model { get; }

    public static List<ValueRow> Rows(int count, int seed) =>
        ToyClassification.Sentences(count, seed).Select(s => new ValueRow { Text = s.Text, Label = s.Label == 1 ? 4f : 1f }).ToList();

    public static PalbertRegressionTrainer.Options Options() => new()
    {
        Sentence1ColumnName = nameof(ValueRow.Text),
        Backbone = "tiny-bert",
        FromScratch = true,
        Hub = PalbertFixture.OfflineHub(),
        MaxSequenceLength = 48,
        BatchSize = 16,
        Epochs = 6,
        LearningRate = 2e-3,
        HaltingLearningRate = 2e-3,
        Device = Devices.DeviceOption.Cpu,
        Seed = 5,
    };

    public List<ScoredValueRow> Score(IEnumerable<ValueRow> rows, ITransformer? model = null) =>
        Context.Data.CreateEnumerable<ScoredValueRow>((model ?? Model).Transform(Context.Data.LoadFromEnumerable(rows)), reuseRowObject: false).ToList();

    public void Dispose() => Model.Dispose();
}

[Collection("Torch")]
public sealed class PalbertRegressionTests(PalbertRegressionFixture fixture) : IClassFixture<PalbertRegressionFixture>, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("palbert-regression-tests-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Fit_ToyRegression_EvaluatesWellThroughMLNet()
    {
        IDataView data = fixture.Context.Data.LoadFromEnumerable(fixture.Test);
        IDataView scored = fixture.Model.Transform(data);
        using PalbertTransformer full = fixture.Model.WithExitCriterion(ExitCriterion.Full());

        RegressionMetrics metrics = fixture.Context.Regression.Evaluate(scored);
        RegressionMetrics fullDepth = fixture.Context.Regression.Evaluate(full.Transform(data));

        Assert.True(fixture.Model.IsRegression);
        Assert.Empty(fixture.Model.ClassNames);
        // Predicting the mean everywhere gives R² 0; the targets (1 or 4) are learned when R² is well above it.
        Assert.True(fullDepth.RSquared > 0.6, $"R² {fullDepth.RSquared:0.000} at full depth on the toy regression");
        Assert.True(metrics.RSquared > 0.5, $"R² {metrics.RSquared:0.000} with the default Q-exit on the toy regression");
        Assert.Null(scored.Schema.GetColumnOrNull("PredictedLabel"));
        Assert.Equal(NumberDataViewType.Single, scored.Schema["Score"].Type);
        Assert.All(fixture.Score(fixture.Test), r => Assert.InRange(r.ExitLayer, 1, fixture.Model.NumLayers));
    }

    [Fact]
    public void GetOutputSchema_MatchesTheFittedTransformersSchema()
    {
        DataViewSchema input = fixture.Context.Data.LoadFromEnumerable(fixture.Test).Schema;
        var estimator = fixture.Context.Regression.Trainers.Palbert(PalbertRegressionFixture.Options());

        SchemaShape declared = estimator.GetOutputSchema(MLNetInternals.ShapeOf(input));
        SchemaShape actual = MLNetInternals.ShapeOf(fixture.Model.GetOutputSchema(input));

        SchemaShapes.AssertSame(actual, declared);
    }

    [Fact]
    public void WithExitCriterion_PatienceWithTolerance_ExitsEarlierThanFullDepth()
    {
        using PalbertTransformer patient = fixture.Model.WithExitCriterion(ExitCriterion.Patience(1, 0.5));
        using PalbertTransformer full = fixture.Model.WithExitCriterion(ExitCriterion.Full());

        double patientLayers = fixture.Score(fixture.Test, patient).Average(r => r.ExitLayer);

        Assert.All(fixture.Score(fixture.Test, full), r => Assert.Equal(fixture.Model.NumLayers, r.ExitLayer));
        Assert.InRange(patientLayers, 2, fixture.Model.NumLayers);
        Assert.Throws<InvalidOperationException>(() => fixture.Model.WithExitCriterion(ExitCriterion.Entropy(0.3)));
        Assert.Throws<InvalidOperationException>(() => fixture.Model.WithExitCriterion(ExitCriterion.Patience(2)));
    }

    [Fact]
    public void SaveLoad_GivesIdenticalPredictions()
    {
        string path = Path.Combine(_folder, "regressor.zip");
        IDataView data = fixture.Context.Data.LoadFromEnumerable(fixture.Test);
        fixture.Context.Model.Save(fixture.Model, data.Schema, path);

        ITransformer loaded = new MLContext(seed: 3).Model.Load(path, out _);

        List<ScoredValueRow> before = fixture.Score(fixture.Test);
        List<ScoredValueRow> after = fixture.Score(fixture.Test, loaded);
        Assert.Equal(before.Select(r => (r.Score, r.ExitLayer)), after.Select(r => (r.Score, r.ExitLayer)));
        Assert.True(((PalbertTransformer)loaded).IsRegression);
    }

    [Fact]
    public void Transform_Batched_EqualsPredictionEngineRowByRow()
    {
        List<ScoredValueRow> batched = fixture.Score(fixture.Test);
        var engine = fixture.Context.Model.CreatePredictionEngine<ValueRow, ScoredValueRow>(fixture.Model);

        for (int i = 0; i < fixture.Test.Count; i += 5)
        {
            ScoredValueRow alone = engine.Predict(fixture.Test[i]);
            Assert.Equal(alone.ExitLayer, batched[i].ExitLayer);
            Assert.Equal(alone.Score, batched[i].Score, 4);
        }
    }

    [Fact]
    public void Fit_LabelNotSingle_ThrowsNamingConvertType()
    {
        IDataView text = fixture.Context.Data.LoadFromEnumerable(PalbertFixture.Rows(20, seed: 1));

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => fixture.Context.Regression.Trainers.Palbert(PalbertRegressionFixture.Options()).Fit(text));
        Assert.Contains("'Label' must be Single", error.Message);
        Assert.Contains("ConvertType", error.Message);
    }

    [Fact]
    public void Fit_ConstantTarget_ThrowsSayingTargetsMustVary()
    {
        var rows = PalbertRegressionFixture.Rows(20, seed: 1).Select(r => new ValueRow { Text = r.Text, Label = 2f }).ToList();

        var error = Assert.Throws<ArgumentException>(() => fixture.Context.Regression.Trainers.Palbert(PalbertRegressionFixture.Options()).Fit(fixture.Context.Data.LoadFromEnumerable(rows)));
        Assert.Contains("same value", error.Message);
    }

    [Theory]
    [InlineData("entropy:0.3", "class probabilities")]
    [InlineData("patience:2", "needs a tolerance")]
    public void Palbert_CriterionARegressorCannotServe_ThrowsAtCreation(string criterion, string problem)
    {
        PalbertRegressionTrainer.Options options = PalbertRegressionFixture.Options();
        options.Halting = Modeling.HaltingVariant.None;
        options.Objective = Training.TrainingObjective.Pabee;
        options.ExitCriterion = ExitCriterion.Parse(criterion);

        var error = Assert.Throws<ArgumentException>(() => fixture.Context.Regression.Trainers.Palbert(options));
        Assert.Contains(problem, error.Message);
    }
}
