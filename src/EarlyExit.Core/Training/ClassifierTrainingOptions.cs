using EarlyExit.Evaluation;
using EarlyExit.ExitCriteria;

namespace EarlyExit.Training;

/// <summary>How <see cref="ClassifierTrainer"/> trains an early-exit classifier. Defaults: <see cref="PalbertDefaults"/>.</summary>
public sealed class ClassifierTrainingOptions
{
    /// <summary>Passes over the training data.</summary>
    /// <value>The default value is <see cref="PalbertDefaults.Epochs"/> (3).</value>
    public int Epochs { get; set; } = PalbertDefaults.Epochs;

    /// <summary>Rows per batch.</summary>
    /// <value>The default value is <see cref="PalbertDefaults.BatchSize"/> (32).</value>
    public int BatchSize { get; set; } = PalbertDefaults.BatchSize;

    /// <summary>Peak learning rate of the encoder and classifiers.</summary>
    /// <value>The default value is <see cref="PalbertDefaults.LearningRate"/> (2e-5).</value>
    public double LearningRate { get; set; } = PalbertDefaults.LearningRate;

    /// <summary>Peak learning rate of the halting head.</summary>
    /// <value>The default value is <see cref="PalbertDefaults.HaltingLearningRate"/> (1e-4).</value>
    public double HaltingLearningRate { get; set; } = PalbertDefaults.HaltingLearningRate;

    /// <summary>Fraction of steps of linear warm-up; the rate then decays linearly to 0.</summary>
    /// <value>The default value is <see cref="PalbertDefaults.WarmupFraction"/> (0.1).</value>
    public double WarmupFraction { get; set; } = PalbertDefaults.WarmupFraction;

    /// <summary>AdamW weight decay (not on biases, LayerNorm or the halting head).</summary>
    /// <value>The default value is <see cref="PalbertDefaults.WeightDecay"/> (0.01).</value>
    public double WeightDecay { get; set; } = PalbertDefaults.WeightDecay;

    /// <summary>Global gradient-norm clip; 0 disables it.</summary>
    /// <value>The default value is <see cref="PalbertDefaults.MaxGradientNorm"/> (1.0).</value>
    public double MaxGradientNorm { get; set; } = PalbertDefaults.MaxGradientNorm;

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

    /// <summary>Epochs without improvement before stopping (needs validation data); 0 trains every epoch.</summary>
    /// <value>The default value is <see cref="PalbertDefaults.EarlyStoppingPatience"/> (0).</value>
    public int EarlyStoppingPatience { get; set; } = PalbertDefaults.EarlyStoppingPatience;

    /// <summary>Seed of dropout and the data order.</summary>
    /// <value>The default value is <see cref="PalbertDefaults.Seed"/> (42).</value>
    public int Seed { get; set; } = PalbertDefaults.Seed;

    /// <summary>Every problem with the values (empty when valid), each naming the option and the allowed range.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (Epochs < 1)
        {
            problems.Add($"Epochs is {Epochs}; it must be at least 1.");
        }

        if (BatchSize < 1)
        {
            problems.Add($"BatchSize is {BatchSize}; it must be at least 1.");
        }

        if (!(LearningRate > 0))
        {
            problems.Add($"LearningRate is {LearningRate}; it must be positive.");
        }

        if (!(HaltingLearningRate > 0))
        {
            problems.Add($"HaltingLearningRate is {HaltingLearningRate}; it must be positive.");
        }

        if (!(WarmupFraction >= 0 && WarmupFraction < 1))
        {
            problems.Add($"WarmupFraction is {WarmupFraction}; it must be in [0, 1).");
        }

        if (!(WeightDecay >= 0))
        {
            problems.Add($"WeightDecay is {WeightDecay}; it must be 0 or more.");
        }

        if (!(MaxGradientNorm >= 0))
        {
            problems.Add($"MaxGradientNorm is {MaxGradientNorm}; it must be 0 (off) or more.");
        }

        if (!Enum.IsDefined(Objective))
        {
            problems.Add($"Objective is {Objective}; use Ponder, Pabee, Joint or LastLayer.");
        }

        if (PriorLambda is double lambda && !(lambda > 0 && lambda < 1))
        {
            problems.Add($"PriorLambda is {PriorLambda}; it must be in (0, 1).");
        }

        if (!(Beta >= 0))
        {
            problems.Add($"Beta is {Beta}; it must be 0 or more.");
        }

        if (ValidationCriterion is null)
        {
            problems.Add("ValidationCriterion is null; give an exit criterion, e.g. ExitCriterion.QExit(0.5).");
        }

        if (PositiveClass < 0)
        {
            problems.Add($"PositiveClass is {PositiveClass}; it must be a 0-based class index.");
        }

        if (EarlyStoppingPatience < 0)
        {
            problems.Add($"EarlyStoppingPatience is {EarlyStoppingPatience}; it must be 0 (off) or more.");
        }

        return problems;
    }
}
