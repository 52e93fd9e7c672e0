using EarlyExit.Devices;
using EarlyExit.Evaluation;
using EarlyExit.ExitCriteria;
using EarlyExit.MLNet.Palbert;
using EarlyExit.Modeling;
using EarlyExit.Training;

namespace EarlyExit.MLNet.Tests.Palbert;

public class PalbertOptionsTests
{
    [Fact]
    public void Options_Ctor_DefaultsMatchDocumentation()
    {
        var options = new PalbertTextClassificationTrainer.Options();

        Assert.Equal(("Label", "Sentence1", (string?)null), (options.LabelColumnName, options.Sentence1ColumnName, options.Sentence2ColumnName));
        Assert.Equal(("PredictedLabel", "Score", "ExitLayer", "HaltingDistribution"),
            (options.PredictedLabelColumnName, options.ScoreColumnName, options.ExitLayerColumnName, options.HaltingDistributionColumnName));
        Assert.Equal(("albert-base-v2", false), (options.Backbone, options.FromScratch));
        Assert.Equal((128, 32, 3), (options.MaxSequenceLength, options.BatchSize, options.Epochs));
        Assert.Equal((2e-5, 1e-4, 0.1, 0.01, 1.0), (options.LearningRate, options.HaltingLearningRate, options.WarmupFraction, options.WeightDecay, options.MaxGradientNorm));
        Assert.Equal((TrainingObjective.Ponder, HaltingVariant.Concat, ClassifierHeads.Shared), (options.Objective, options.Halting, options.Heads));
        Assert.Equal(((double?)null, 0.5, KlDirection.PriorToHalting), (options.PriorLambda, options.Beta, options.KlDirection));
        Assert.Equal(HeadPooling.Auto, options.Pooling);
        Assert.Equal((0.1, 0.1), (options.ClassifierDropout, options.HaltingDropout));
        Assert.Null(options.ExitCriterion);
        Assert.Equal(ExitCriterion.QExit(0.5), options.EffectiveExitCriterion);
        Assert.Equal((0.0, ClassificationMetric.Accuracy, 0, 42), (options.ValidationFraction, options.ValidationMetric, options.EarlyStoppingPatience, options.Seed));
        Assert.Equal(DeviceOption.Auto, options.Device);
        Assert.Empty(options.Validate());
    }

    [Fact]
    public void EffectiveExitCriterion_NoHaltingHead_IsFullDepth()
    {
        var options = new PalbertTextClassificationTrainer.Options { Halting = HaltingVariant.None, Objective = TrainingObjective.Pabee };

        Assert.Equal(ExitCriterion.Full(), options.EffectiveExitCriterion);
        Assert.Empty(options.Validate());
    }

    [Theory]
    [InlineData(TrainingObjective.Pabee)]
    [InlineData(TrainingObjective.Joint)]
    [InlineData(TrainingObjective.LastLayer)]
    public void EffectiveHalting_ObjectiveOtherThanPonder_BuildsNoHaltingHeadAndScoresAtFullDepth(TrainingObjective objective)
    {
        var options = new PalbertTextClassificationTrainer.Options { Objective = objective }; // Halting left at Concat

        Assert.Equal(HaltingVariant.None, options.EffectiveHalting);
        Assert.Equal(HaltingVariant.None, options.ToHeadsConfig(2).Halting);
        Assert.Equal(ExitCriterion.Full(), options.EffectiveExitCriterion);
        Assert.Empty(options.Validate());
    }

    [Theory]
    [InlineData(TrainingObjective.LastLayer, "qexit:0.5", "only the Ponder objective trains")]
    [InlineData(TrainingObjective.Pabee, "expectation", "only the Ponder objective trains")]
    [InlineData(TrainingObjective.Pabee, "patience:2:0.1", "only regression models use")]
    public void Validate_CriterionTheModelCannotServe_NamesTheProblem(TrainingObjective objective, string criterion, string problem)
    {
        var options = new PalbertTextClassificationTrainer.Options { Objective = objective, ExitCriterion = ExitCriterion.Parse(criterion) };

        Assert.Contains(options.Validate(), p => p.Contains(problem, StringComparison.Ordinal));
    }
}
