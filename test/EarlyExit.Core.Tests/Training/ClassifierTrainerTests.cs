using EarlyExit.Evaluation;
using EarlyExit.ExitCriteria;
using EarlyExit.Modeling;
using EarlyExit.Training;
using static TorchSharp.torch;

namespace EarlyExit.Tests.Training;

[Collection("Torch")]
public class ClassifierTrainerTests
{
    [Theory]
    [InlineData(TrainingObjective.Ponder, HaltingVariant.Concat, "qexit:0.5")]
    [InlineData(TrainingObjective.Ponder, HaltingVariant.Linear, "sampled:1")]
    [InlineData(TrainingObjective.Pabee, HaltingVariant.None, "patience:1")]
    [InlineData(TrainingObjective.Joint, HaltingVariant.None, "entropy:0.5")]
    public void Train_ToyTask_LearnsIt(TrainingObjective objective, HaltingVariant halting, string criterion)
    {
        using EarlyExitNetwork model = ToyClassification.Model(halting, objective == TrainingObjective.Pabee ? ClassifierHeads.PerLayer : ClassifierHeads.Shared);
        List<ClassificationExample> training = ToyClassification.Examples(480, seed: 1);
        List<ClassificationExample> test = ToyClassification.Examples(200, seed: 2);

        TrainingReport report = ClassifierTrainer.Train(model, training, null, ToyClassification.FastOptions(objective), ToyClassification.PadId);
        ClassificationMetrics metrics = ClassifierTrainer.Evaluate(model, test, ExitCriterion.Parse(criterion), ToyClassification.PadId, 32);

        Assert.Equal(4, report.Epochs.Count);
        Assert.True(report.Epochs[^1].MeanLoss < report.Epochs[0].MeanLoss, $"loss did not fall: {string.Join(", ", report.Epochs.Select(e => e.MeanLoss))}");
        Assert.True(metrics.Accuracy > 0.9, $"{objective}/{criterion}: accuracy {metrics.Accuracy:0.000} on the toy task");
        Assert.InRange(metrics.MeanExitLayer, 1, 4);
    }

    [Theory]
    [InlineData(TrainingObjective.Ponder, HaltingVariant.Concat, "qexit:0.5")]
    [InlineData(TrainingObjective.Ponder, HaltingVariant.Concat, "expectation")]
    [InlineData(TrainingObjective.Pabee, HaltingVariant.None, "patience:1:0.3")]
    public void Train_ToyRegression_LearnsTheValues(TrainingObjective objective, HaltingVariant halting, string criterion)
    {
        using EarlyExitNetwork model = ToyClassification.Model(halting, objective == TrainingObjective.Pabee ? ClassifierHeads.PerLayer : ClassifierHeads.Shared, outputs: 1);
        List<RegressionExample> training = ToyClassification.RegressionExamples(480, seed: 1);
        List<RegressionExample> validation = ToyClassification.RegressionExamples(80, seed: 2);
        List<RegressionExample> test = ToyClassification.RegressionExamples(200, seed: 3);
        ClassifierTrainingOptions options = ToyClassification.FastOptions(objective);
        options.Epochs = 6;
        options.ValidationCriterion = ExitCriterion.Parse(criterion);

        TrainingReport report = ClassifierTrainer.Train(model, training, validation, options, ToyClassification.PadId);
        EarlyExitRegressionMetrics metrics = ClassifierTrainer.EvaluateRegression(model, test, ExitCriterion.Parse(criterion), ToyClassification.PadId, 32);
        double mean = test.Average(e => e.Target);
        double trivialError = test.Average(e => Math.Abs(e.Target - mean)); // predicting the mean everywhere

        Assert.True(model.IsRegression);
        Assert.True(report.Epochs[^1].MeanLoss < report.Epochs[0].MeanLoss, $"loss did not fall: {string.Join(", ", report.Epochs.Select(e => e.MeanLoss))}");
        Assert.All(report.Epochs, e => Assert.NotNull(e.ValidationScore));
        Assert.True(metrics.Pearson > 0.85, $"{objective}/{criterion}: Pearson {metrics.Pearson:0.000} on the toy regression");
        Assert.True(metrics.MeanAbsoluteError < 0.6 * trivialError, $"{objective}/{criterion}: mean absolute error {metrics.MeanAbsoluteError:0.000}, predicting the mean gives {trivialError:0.000}");
    }

    [Fact]
    public void Train_RegressionRowsOnAClassifier_ThrowsBeforeTraining()
    {
        using EarlyExitNetwork model = ToyClassification.Model();

        var error = Assert.Throws<ArgumentException>(() => ClassifierTrainer.Train(model, ToyClassification.RegressionExamples(8, seed: 1), null, ToyClassification.FastOptions(), ToyClassification.PadId));
        Assert.Contains("one output", error.Message);
    }

    [Fact]
    public void Train_RegressionTargetNotFinite_NamesTheRow()
    {
        using EarlyExitNetwork model = ToyClassification.Model(outputs: 1);
        List<RegressionExample> training = ToyClassification.RegressionExamples(8, seed: 1);
        training[5] = training[5] with { Target = float.PositiveInfinity };

        var error = Assert.Throws<ArgumentException>(() => ClassifierTrainer.Train(model, training, null, ToyClassification.FastOptions(), ToyClassification.PadId));
        Assert.Contains("training row 5", error.Message);
    }

    [Fact]
    public void Train_RegressionValidationTargetsAllEqual_ThrowsBeforeTraining()
    {
        using EarlyExitNetwork model = ToyClassification.Model(outputs: 1);
        List<RegressionExample> validation = ToyClassification.RegressionExamples(3, seed: 2).Select(e => e with { Target = 2.5f }).ToList();

        var error = Assert.Throws<ArgumentException>(() => ClassifierTrainer.Train(
            model, ToyClassification.RegressionExamples(8, seed: 1), validation, ToyClassification.FastOptions(), ToyClassification.PadId));
        Assert.Contains("All 3 validation row(s) have the target 2.5", error.Message);
    }

    [Theory]
    [InlineData(1, HaltingVariant.None, TrainingObjective.Pabee, "patience:3", "needs a tolerance")]
    [InlineData(1, HaltingVariant.None, TrainingObjective.Pabee, "entropy:0.5", "reads class probabilities")]
    [InlineData(2, HaltingVariant.None, TrainingObjective.Pabee, "patience:3:0.1", "only regression models use")]
    [InlineData(2, HaltingVariant.Concat, TrainingObjective.Pabee, "qexit:0.5", "only the Ponder objective trains")]
    [InlineData(2, HaltingVariant.Concat, TrainingObjective.LastLayer, "sampled:1", "only the Ponder objective trains")]
    public void Train_ValidationCriterionTheModelCannotServe_ThrowsBeforeTraining(int outputs, HaltingVariant halting, TrainingObjective objective, string criterion, string problem)
    {
        using EarlyExitNetwork model = ToyClassification.Model(halting, outputs: outputs);
        ClassifierTrainingOptions options = ToyClassification.FastOptions(objective);
        options.ValidationCriterion = ExitCriterion.Parse(criterion);
        var progress = new List<TrainingProgress>();
        var recorder = new SyncProgress(progress.Add);

        var error = Assert.Throws<ArgumentException>(() => outputs == 1
            ? ClassifierTrainer.Train(model, ToyClassification.RegressionExamples(16, seed: 1), ToyClassification.RegressionExamples(8, seed: 2), options, ToyClassification.PadId, recorder)
            : ClassifierTrainer.Train(model, ToyClassification.Examples(16, seed: 1), ToyClassification.Examples(8, seed: 2), options, ToyClassification.PadId, recorder));

        Assert.Contains(problem, error.Message);
        Assert.Empty(progress); // refused before the first step
    }

    [Fact]
    public void Train_SameSeed_GivesIdenticalModels()
    {
        List<ClassificationExample> training = ToyClassification.Examples(96, seed: 5);
        ClassifierTrainingOptions options = ToyClassification.FastOptions();
        options.Epochs = 1;
        using EarlyExitNetwork first = ToyClassification.Model();
        using EarlyExitNetwork second = ToyClassification.Model();

        ClassifierTrainer.Train(first, training, null, options, ToyClassification.PadId);
        ClassifierTrainer.Train(second, training, null, options, ToyClassification.PadId);

        foreach (var ((name, a), (_, b)) in first.state_dict().Zip(second.state_dict()))
        {
            Assert.True(a.eq(b).all().item<bool>(), $"{name} differs between two runs with the same seed");
        }
    }

    [Fact]
    public void Train_WithValidation_KeepsTheBestEpochAndStopsEarly()
    {
        List<ClassificationExample> training = ToyClassification.Examples(160, seed: 7);
        List<ClassificationExample> validation = ToyClassification.Examples(80, seed: 8);
        ClassifierTrainingOptions options = ToyClassification.FastOptions();
        options.Epochs = 30;
        options.LearningRate = 3e-3;
        options.EarlyStoppingPatience = 2;
        var reports = new List<TrainingProgress>();
        using EarlyExitNetwork model = ToyClassification.Model();

        TrainingReport report = ClassifierTrainer.Train(model, training, validation, options, ToyClassification.PadId, new SyncProgress(reports.Add));

        Assert.True(report.StoppedEarly, "30 epochs on an easy task should stop early");
        EpochSummary best = report.Epochs[report.BestEpoch - 1];
        Assert.Equal(report.Epochs.Max(e => e.Validation!.Accuracy), best.Validation!.Accuracy);
        double now = ClassifierTrainer.Evaluate(model, validation, options.ValidationCriterion, ToyClassification.PadId, 16).Accuracy;
        Assert.Equal(best.Validation.Accuracy, now, 6);
        Assert.Contains(reports, r => r.Phase == "validate" && r.ValidationMetric is not null);
        Assert.All(reports.Where(r => r.Phase == "train"), r => Assert.NotNull(r.Remaining));
        Assert.Equal(reports.Where(r => r.Phase == "train").Select(r => r.Step), Enumerable.Range(1, reports.Count(r => r.Phase == "train")).Select(i => (long)i));
    }

    [Fact]
    public void Train_Cancelled_ThrowsOperationCanceled()
    {
        using var cancellation = new CancellationTokenSource();
        using EarlyExitNetwork model = ToyClassification.Model();
        var progress = new SyncProgress(p =>
        {
            if (p.Step == 2)
            {
                cancellation.Cancel();
            }
        });

        Assert.Throws<OperationCanceledException>(() => ClassifierTrainer.Train(
            model, ToyClassification.Examples(96, 1), null, ToyClassification.FastOptions(), ToyClassification.PadId, progress, cancellation.Token));
    }

    [Fact]
    public void Train_PonderWithoutHaltingHead_ThrowsBeforeTraining()
    {
        using EarlyExitNetwork model = ToyClassification.Model(HaltingVariant.None);

        var error = Assert.Throws<ArgumentException>(() => ClassifierTrainer.Train(
            model, ToyClassification.Examples(8, 1), null, ToyClassification.FastOptions(TrainingObjective.Ponder), ToyClassification.PadId));

        Assert.Contains("Ponder objective needs a halting head", error.Message);
    }

    [Fact]
    public void Train_InvalidOptions_ListsEveryProblem()
    {
        using EarlyExitNetwork model = ToyClassification.Model();
        ClassifierTrainingOptions options = ToyClassification.FastOptions();
        options.BatchSize = 0;
        options.PriorLambda = 1.5;
        options.Epochs = 0;

        var error = Assert.Throws<ArgumentException>(() => ClassifierTrainer.Train(model, ToyClassification.Examples(8, 1), null, options, ToyClassification.PadId));

        Assert.Contains("BatchSize is 0", error.Message);
        Assert.Contains("PriorLambda is 1.5", error.Message);
        Assert.Contains("Epochs is 0", error.Message);
    }

    [Fact]
    public void Train_LabelOutsideTheClasses_NamesTheRow()
    {
        using EarlyExitNetwork model = ToyClassification.Model();
        List<ClassificationExample> training = ToyClassification.Examples(8, 1);
        training[5] = training[5] with { Label = 2 };

        var error = Assert.Throws<ArgumentException>(() => ClassifierTrainer.Train(model, training, null, ToyClassification.FastOptions(), ToyClassification.PadId));

        Assert.Contains("training row 5 has class 2", error.Message);
    }

    [Fact]
    public void LengthBucketedBatches_CoverEveryRowOnce_WithSimilarLengths()
    {
        int[] lengths = Enumerable.Range(0, 1000).Select(i => (i * 37) % 120 + 3).ToArray();

        List<int[]> batches = ClassifierTrainer.LengthBucketedBatches(lengths, 10, new Random(1)).ToList();

        Assert.Equal(Enumerable.Range(0, 1000), batches.SelectMany(b => b).Order());
        double meanSpread = batches.Average(b => b.Max(i => lengths[i]) - b.Min(i => lengths[i]));
        Assert.True(meanSpread < 10, $"batches should hold rows of similar length; mean spread {meanSpread:0.0}");
    }

    private sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
