// The options both PALBERT trainers share: the text classifier (MulticlassClassification.Trainers.Palbert)
// and the regressor (Regression.Trainers.Palbert). Each trainer's nested Options class adds what is its
// own: the classifier's PredictedLabel column and validation metric; the regressor validates on Pearson
// and Spearman and refuses criteria that read class probabilities.
using EarlyExit.Devices;
using EarlyExit.Evaluation;
using EarlyExit.ExitCriteria;
using EarlyExit.Hub;
using EarlyExit.Modeling;
using EarlyExit.Training;
using static EarlyExit.MLNet.Palbert.PalbertTextClassificationTrainer;

namespace EarlyExit.MLNet.Palbert;

/// <summary>
/// What both PALBERT trainers can be told, beyond what every early-exit trainer can (<see cref="EarlyExitTrainerOptions"/>).
/// Every default is a constant of <see cref="PalbertDefaults"/> (or a column name ML.NET's trainers use), and
/// every option is checked when the trainer is created; all problems are reported together.
/// </summary>
public abstract class PalbertOptionsBase : EarlyExitTrainerOptions
{
    /// <summary>Only the trainers' own Options classes derive from this one.</summary>
    private protected PalbertOptionsBase()
    {
    }

    /// <summary>The text column (the first sentence of pairs).</summary>
    /// <value>The default value is "Sentence1".</value>
    public string Sentence1ColumnName { get; set; } = DefaultColumnNames.Sentence1;

    /// <summary>The second text column of sentence-pair tasks, or null for single texts.</summary>
    /// <value>The default value is null.</value>
    public string? Sentence2ColumnName { get; set; }

    /// <summary>The output column of the class probabilities at the exit layer (classification), or of the predicted value (regression).</summary>
    /// <value>The default value is "Score".</value>
    public string ScoreColumnName { get; set; } = DefaultColumnNames.Score;

    /// <summary>The output column of the halting distribution p_1..p_L (models with a halting head only).</summary>
    /// <value>The default value is "HaltingDistribution".</value>
    public string HaltingDistributionColumnName { get; set; } = DefaultColumnNames.HaltingDistribution;

    /// <summary>Peak learning rate of the halting (lambda) head.</summary>
    /// <value>The default value is <see cref="PalbertDefaults.HaltingLearningRate"/> (1e-4).</value>
    public double HaltingLearningRate { get; set; } = PalbertDefaults.HaltingLearningRate;

    /// <summary>The training loss: PALBERT's Ponder objective, PABEE's weighted per-layer loss, or joint training.</summary>
    /// <value>The default value is <see cref="TrainingObjective.Ponder"/>.</value>
    public TrainingObjective Objective { get; set; } = TrainingObjective.Ponder;

    /// <summary>
    /// The halting head: Concat (PALBERT), Difference, Linear (PonderNet), LayerAttention (a learned attention over
    /// the pooled states of every layer so far; scored on TorchSharp only) or None (PABEE, DeeBERT). Only the
    /// Ponder objective trains a halting head, so the other objectives build none whatever this says.
    /// </summary>
    /// <value>The default value is <see cref="HaltingVariant.Concat"/>.</value>
    public HaltingVariant Halting { get; set; } = HaltingVariant.Concat;

    /// <summary>One classifier shared by all layers (PALBERT) or one per layer (PABEE).</summary>
    /// <value>The default value is <see cref="ClassifierHeads.Shared"/>.</value>
    public ClassifierHeads Heads { get; set; } = ClassifierHeads.Shared;

    /// <summary>
    /// What the exit heads read of each layer: the pooled <c>[CLS]</c> state or the mean of the token
    /// states. Auto takes what the backbone checkpoint declares (sentence-transformers checkpoints
    /// such as all-MiniLM-L6-v2 declare Mean), else Cls.
    /// </summary>
    /// <value>The default value is <see cref="HeadPooling.Auto"/>.</value>
    public HeadPooling Pooling { get; set; } = HeadPooling.Auto;

    /// <summary>λ_p of the geometric prior over exit layers (Ponder).</summary>
    /// <value>The default value is null: scaled to the backbone's depth by <see cref="PalbertDefaults.PriorLambdaFor"/> (the reference 0.1 for 12 layers, 0.19 for 6).</value>
    public double? PriorLambda { get; set; }

    /// <summary>β, the weight of the KL term (Ponder).</summary>
    /// <value>The default value is <see cref="PalbertDefaults.Beta"/> (0.5).</value>
    public double Beta { get; set; } = PalbertDefaults.Beta;

    /// <summary>Which KL divergence regularises the halting distribution (Ponder).</summary>
    /// <value>The default value is <see cref="KlDirection.PriorToHalting"/>, as PALBERT's reference code.</value>
    public KlDirection KlDirection { get; set; } = KlDirection.PriorToHalting;

    /// <summary>Dropout before the classifier.</summary>
    /// <value>The default value is <see cref="PalbertDefaults.ClassifierDropout"/> (0.1).</value>
    public double ClassifierDropout { get; set; } = PalbertDefaults.ClassifierDropout;

    /// <summary>Dropout on the halting head's input.</summary>
    /// <value>The default value is <see cref="PalbertDefaults.HaltingDropout"/> (0.1).</value>
    public double HaltingDropout { get; set; } = PalbertDefaults.HaltingDropout;

    /// <summary>The exit criterion the fitted transformer scores with (and validation uses); change it later with <see cref="PalbertTransformer.WithExitCriterion"/>.</summary>
    /// <value>The default value is Q-exit with q = <see cref="PalbertDefaults.QExitThreshold"/> (0.5); models without a halting head default to <c>full</c>.</value>
    public ExitCriterion? ExitCriterion { get; set; }

    /// <summary>The hub id used when no backbone is named.</summary>
    public const string DefaultBackbone = PalbertDefaults.Backbone;

    /// <summary>The halting head the model gets: <see cref="Halting"/> under the Ponder objective (the only one that trains it), else none.</summary>
    internal HaltingVariant EffectiveHalting => Objective == TrainingObjective.Ponder ? Halting : HaltingVariant.None;

    /// <summary>The exit criterion in effect: <see cref="ExitCriterion"/>, else Q-exit (with a halting head) or full depth.</summary>
    internal ExitCriterion EffectiveExitCriterion =>
        ExitCriterion ?? (EffectiveHalting == HaltingVariant.None ? ExitCriteria.ExitCriterion.Full() : ExitCriteria.ExitCriterion.QExit(PalbertDefaults.QExitThreshold));

    private protected override FineTuningOptions FineTuning() => ToTrainingOptions();

    private protected override IEnumerable<(string Name, string Option)> InputColumns() => [(Sentence1ColumnName, nameof(Sentence1ColumnName))];

    private protected override IEnumerable<string> LineProblems()
    {
        var problems = new List<string>();
        void Require(bool ok, string problem)
        {
            if (!ok)
            {
                problems.Add(problem);
            }
        }

        Require(Sentence2ColumnName is null || !string.IsNullOrWhiteSpace(Sentence2ColumnName), "Sentence2ColumnName is empty; use null for single texts.");
        Require(Sentence2ColumnName != Sentence1ColumnName, $"Sentence2ColumnName equals Sentence1ColumnName ('{Sentence1ColumnName}').");
        Require(Enum.IsDefined(Halting), $"Halting is {Halting}; use None, Linear, Concat or Difference.");
        Require(Enum.IsDefined(Heads), $"Heads is {Heads}; use Shared or PerLayer.");
        Require(Enum.IsDefined(Pooling), $"Pooling is {Pooling}; use Auto, Cls or Mean.");
        Require(ClassifierDropout is >= 0 and < 1, $"ClassifierDropout is {ClassifierDropout}; it must be in [0, 1).");
        Require(HaltingDropout is >= 0 and < 1, $"HaltingDropout is {HaltingDropout}; it must be in [0, 1).");
        Require(!(Objective == TrainingObjective.Ponder && Halting == HaltingVariant.None),
            "Objective is Ponder but Halting is None: the Ponder objective trains the halting head. Choose a halting variant or the Pabee / Joint objective.");
        ExitCriterion criterion = EffectiveExitCriterion;
        if (criterion.RequiresHaltingHead)
        {
            Require(Objective == TrainingObjective.Ponder,
                $"ExitCriterion '{criterion}' reads the halting head, which only the Ponder objective trains, but Objective is {Objective}; use patience:N, entropy:T, maxprob:T, layer:K or full, or Objective = Ponder.");
            Require(Halting != HaltingVariant.None,
                $"ExitCriterion '{criterion}' needs a halting head but Halting is None; use patience:N, entropy:T, maxprob:T, layer:K or full.");
        }
        else if (criterion.Incompatibility(TaskOutputs, hasHaltingHead: false) is string problem)
        {
            problems.Add(problem);
        }

        problems.AddRange(TaskProblems());
        return problems;
    }

    /// <inheritdoc />
    internal override IEnumerable<string> OutputColumnNames() => [ScoreColumnName, HaltingDistributionColumnName];

    /// <summary>The predicted-label output column, or null for a task that has none (regression).</summary>
    internal virtual string? PredictedLabelOutput => null;

    /// <summary>The 0-based class F1 is computed for, from the class names in key order (regression: 0, unused).</summary>
    /// <exception cref="ArgumentException">A named positive label that is not a class.</exception>
    internal virtual int PositiveClassOf(IReadOnlyList<string> classNames) => 0;

    /// <summary>What a criterion checks the model's outputs against: 1 for regression, 2 (any number above 1) for classification.</summary>
    internal abstract int TaskOutputs { get; }

    /// <summary>Problems particular to the task (classification or regression).</summary>
    internal abstract IEnumerable<string> TaskProblems();

    /// <summary>The classification metric validation maximises (regression validates on Pearson and Spearman instead).</summary>
    internal abstract ClassificationMetric TrainingValidationMetric { get; }

    /// <summary>The Core training options these options describe.</summary>
    internal ClassifierTrainingOptions ToTrainingOptions() => WithFineTuning(new ClassifierTrainingOptions
    {
        HaltingLearningRate = HaltingLearningRate,
        Objective = Objective,
        PriorLambda = PriorLambda,
        Beta = Beta,
        KlDirection = KlDirection,
        ValidationCriterion = EffectiveExitCriterion,
        ValidationMetric = TrainingValidationMetric,
    });

    /// <summary>The classifier heads these options describe.</summary>
    /// <param name="classes">C, or 1 for regression.</param>
    internal EarlyExitNetworkConfig ToHeadsConfig(int classes) => new()
    {
        NumLabels = classes,
        Heads = Heads,
        Halting = EffectiveHalting,
        Pooling = Pooling,
        ClassifierDropout = ClassifierDropout,
        HaltingDropout = HaltingDropout,
        HaltingHiddenLayers = PalbertDefaults.HaltingHiddenLayers,
    };
}
