// What both training loops are told (ClassifierTrainer: PALBERT and its baselines; TokenClassifierTrainer:
// SENTEE/TOKEE): the fine-tuning schedule and its seed. Each line's options class adds its own (the
// Ponder objective's prior and halting rate; self-sampling epochs) and its own epoch rule; the shared
// values default to FineTuningDefaults, which both lines' defaults classes repeat by reference.
namespace EarlyExit.Training;

/// <summary>The defaults both training lines share; <see cref="PalbertDefaults"/> and <see cref="TokenExitDefaults"/> name them again for their line.</summary>
public static class FineTuningDefaults
{
    /// <summary>The backbone when none is named: the hub id of PALBERT's backbone.</summary>
    public const string Backbone = "albert-base-v2";

    /// <summary>Longest input in tokens, special tokens included.</summary>
    public const int MaxSequenceLength = 128;

    /// <summary>Rows (sentences, chunks) per training and scoring batch.</summary>
    public const int BatchSize = 32;

    /// <summary>Passes over the training data.</summary>
    public const int Epochs = 3;

    /// <summary>Peak AdamW learning rate (a fine-tuning rate; raise it, e.g. to 1e-4, when training from scratch).</summary>
    public const double LearningRate = 2e-5;

    /// <summary>Fraction of the training steps spent warming the learning rate up linearly from 0; it then decays linearly to 0.</summary>
    public const double WarmupFraction = 0.1;

    /// <summary>AdamW weight decay (not applied to biases or LayerNorm weights).</summary>
    public const double WeightDecay = 0.01;

    /// <summary>Gradients are clipped to this global L2 norm; 0 disables clipping.</summary>
    public const double MaxGradientNorm = 1.0;

    /// <summary>Dropout before the exit heads (reference PALBERT: 0.1).</summary>
    public const double HeadDropout = 0.1;

    /// <summary>Epochs without a better validation metric before training stops; 0 trains every epoch.</summary>
    public const int EarlyStoppingPatience = 0;

    /// <summary>Seed of weights, dropout, data order and the validation split.</summary>
    public const int Seed = 42;
}

/// <summary>
/// The fine-tuning settings both training lines share (<see cref="ClassifierTrainingOptions"/>,
/// <see cref="TokenTrainingOptions"/>). Defaults: <see cref="FineTuningDefaults"/>.
/// </summary>
internal abstract class FineTuningOptions
{
    /// <summary>Only the two lines' options classes derive from this one.</summary>
    private protected FineTuningOptions()
    {
    }

    /// <summary>Passes over the training data (for the token line: the joint-training epochs).</summary>
    /// <value>The default value is <see cref="FineTuningDefaults.Epochs"/> (3).</value>
    public int Epochs { get; set; } = FineTuningDefaults.Epochs;

    /// <summary>Rows per batch.</summary>
    /// <value>The default value is <see cref="FineTuningDefaults.BatchSize"/> (32).</value>
    public int BatchSize { get; set; } = FineTuningDefaults.BatchSize;

    /// <summary>Peak learning rate of the encoder and the exit heads.</summary>
    /// <value>The default value is <see cref="FineTuningDefaults.LearningRate"/> (2e-5).</value>
    public double LearningRate { get; set; } = FineTuningDefaults.LearningRate;

    /// <summary>Fraction of steps of linear warm-up; the rate then decays linearly to 0.</summary>
    /// <value>The default value is <see cref="FineTuningDefaults.WarmupFraction"/> (0.1).</value>
    public double WarmupFraction { get; set; } = FineTuningDefaults.WarmupFraction;

    /// <summary>AdamW weight decay (not on biases, LayerNorm or a halting head).</summary>
    /// <value>The default value is <see cref="FineTuningDefaults.WeightDecay"/> (0.01).</value>
    public double WeightDecay { get; set; } = FineTuningDefaults.WeightDecay;

    /// <summary>Global gradient-norm clip; 0 disables it.</summary>
    /// <value>The default value is <see cref="FineTuningDefaults.MaxGradientNorm"/> (1.0).</value>
    public double MaxGradientNorm { get; set; } = FineTuningDefaults.MaxGradientNorm;

    /// <summary>Epochs without a better validation score before stopping (needs validation data); 0 trains every epoch.</summary>
    /// <value>The default value is <see cref="FineTuningDefaults.EarlyStoppingPatience"/> (0).</value>
    public int EarlyStoppingPatience { get; set; } = FineTuningDefaults.EarlyStoppingPatience;

    /// <summary>Seed of dropout and the data order (and of the token line's self-sampling).</summary>
    /// <value>The default value is <see cref="FineTuningDefaults.Seed"/> (42).</value>
    public int Seed { get; set; } = FineTuningDefaults.Seed;

    /// <summary>Every problem with the values (empty when valid), each naming the option and the allowed range.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>(EpochProblems());
        void Require(bool ok, string problem)
        {
            if (!ok)
            {
                problems.Add(problem);
            }
        }

        Require(BatchSize >= 1, $"BatchSize is {BatchSize}; it must be at least 1.");
        Require(LearningRate > 0, $"LearningRate is {LearningRate}; it must be positive.");
        Require(WarmupFraction is >= 0 and < 1, $"WarmupFraction is {WarmupFraction}; it must be in [0, 1).");
        Require(WeightDecay >= 0, $"WeightDecay is {WeightDecay}; it must be 0 or more.");
        Require(MaxGradientNorm >= 0, $"MaxGradientNorm is {MaxGradientNorm}; it must be 0 (off) or more.");
        Require(EarlyStoppingPatience >= 0, $"EarlyStoppingPatience is {EarlyStoppingPatience}; it must be 0 (off) or more.");
        problems.AddRange(LineProblems());
        return problems;
    }

    /// <summary>Problems with the number of epochs (the token line counts its self-sampling epochs too).</summary>
    private protected abstract IEnumerable<string> EpochProblems();

    /// <summary>Problems with the options only this line has.</summary>
    private protected abstract IEnumerable<string> LineProblems();
}
