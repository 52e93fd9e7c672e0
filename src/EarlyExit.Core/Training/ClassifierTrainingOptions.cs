using EarlyExit.Evaluation;
using EarlyExit.ExitCriteria;

namespace EarlyExit.Training;

/// <summary>How <see cref="ClassifierTrainer"/> trains an early-exit classifier. Defaults: <see cref="PalbertDefaults"/>.</summary>
internal sealed class ClassifierTrainingOptions : FineTuningOptions
{
    /// <summary>Peak learning rate of the halting head.</summary>
    /// <value>The default value is <see cref="PalbertDefaults.HaltingLearningRate"/> (1e-4).</value>
    public double HaltingLearningRate { get; set; } = PalbertDefaults.HaltingLearningRate;

    /// <summary>The training loss.</summary>
    /// <value>The default value is <see cref="TrainingObjective.Ponder"/>.</value>
    public TrainingObjective Objective { get; set; } = TrainingObjective.Ponder;

    /// <summary>λ_p of the geometric prior (Ponder).</summary>
    /// <value>The default value is null: <see cref="PalbertDefaults.PriorLambdaFor"/> of the model's depth (0.1 for 12 layers, 0.19 for 6).</value>
    public double? PriorLambda { get; set; }

    /// <summary>β, the weight of the KL term (Ponder).</summary>
    /// <value>The default value is <see cref="PalbertDefaults.Beta"/> (0.5).</value>
    public double Beta { get; set; } = PalbertDefaults.Beta;

    /// <summary>Which KL divergence (Ponder).</summary>
    /// <value>The default value is <see cref="KlDirection.PriorToHalting"/>, as PALBERT's reference code.</value>
    public KlDirection KlDirection { get; set; } = KlDirection.PriorToHalting;

    /// <summary>The exit criterion validation scores with (what will be deployed).</summary>
    /// <value>The default value is <c>qexit:0.5</c>.</value>
    public ExitCriterion ValidationCriterion { get; set; } = ExitCriterion.QExit(PalbertDefaults.QExitThreshold);

    /// <summary>The validation metric early stopping and best-epoch selection maximise.</summary>
    /// <value>The default value is <see cref="ClassificationMetric.Accuracy"/>.</value>
    public ClassificationMetric ValidationMetric { get; set; } = ClassificationMetric.Accuracy;

    /// <summary>The 0-based class whose F1 <see cref="ClassificationMetric.F1"/> means (the caller's class numbering; the ML.NET trainer resolves it from the label values with <see cref="Evaluation.PositiveClass.Resolve"/>).</summary>
    /// <value>The default value is 1.</value>
    public int PositiveClass { get; set; } = 1;

    private protected override IEnumerable<string> EpochProblems()
    {
        if (Epochs < 1)
        {
            yield return $"Epochs is {Epochs}; it must be at least 1.";
        }
    }

    private protected override IEnumerable<string> LineProblems()
    {
        if (!(HaltingLearningRate > 0))
        {
            yield return $"HaltingLearningRate is {HaltingLearningRate}; it must be positive.";
        }

        if (!Enum.IsDefined(Objective))
        {
            yield return $"Objective is {Objective}; use Ponder, Pabee, Joint or LastLayer.";
        }

        if (PriorLambda is double lambda && !(lambda > 0 && lambda < 1))
        {
            yield return $"PriorLambda is {PriorLambda}; it must be in (0, 1).";
        }

        if (!(Beta >= 0))
        {
            yield return $"Beta is {Beta}; it must be 0 or more.";
        }

        if (ValidationCriterion is null)
        {
            yield return "ValidationCriterion is null; give an exit criterion, e.g. ExitCriterion.QExit(0.5).";
        }

        if (PositiveClass < 0)
        {
            yield return $"PositiveClass is {PositiveClass}; it must be a 0-based class index.";
        }
    }
}
