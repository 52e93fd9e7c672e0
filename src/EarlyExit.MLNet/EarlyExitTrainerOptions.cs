// What every trainer of this library can be told, whatever its task (the PALBERT trainers' PalbertOptionsBase,
// TokenEarlyExitNerTrainer.Options): the label and exit-layer columns, the backbone and how to load it,
// the fine-tuning schedule (Core's FineTuningOptions), the validation split, the seed, the device and the
// progress and cancellation hooks. Defaults come from Core's FineTuningDefaults, which PalbertDefaults and
// TokenExitDefaults name again for their lines; each derived class adds its own options and problems.
using EarlyExit.Devices;
using EarlyExit.Hub;
using EarlyExit.Training;

namespace EarlyExit.MLNet;

/// <summary>
/// The options every early-exit trainer shares. Every option is checked when the trainer is created, and
/// all problems are reported together.
/// </summary>
public abstract class EarlyExitTrainerOptions
{
    /// <summary>Only the trainers' own Options classes derive from this one.</summary>
    private protected EarlyExitTrainerOptions()
    {
    }

    /// <summary>The label column: key-typed for classification (a vector of keys, one per word, for token classification; use <c>MapValueToKey</c> before the trainer), Single for regression.</summary>
    /// <value>The default value is "Label".</value>
    public string LabelColumnName { get; set; } = "Label";

    /// <summary>The output column of the 1-based layer each row exited at (for token classification: the deepest layer any word reached).</summary>
    /// <value>The default value is "ExitLayer".</value>
    public string ExitLayerColumnName { get; set; } = "ExitLayer";

    /// <summary>
    /// The backbone: a Hugging Face hub id (e.g. albert-base-v2), a local Hugging Face folder, or a
    /// preset architecture (e.g. tiny-albert; needs <see cref="FromScratch"/>).
    /// </summary>
    /// <value>The default value is <see cref="FineTuningDefaults.Backbone"/> ("albert-base-v2"), PALBERT's backbone.</value>
    public string Backbone { get; set; } = FineTuningDefaults.Backbone;

    /// <summary>Build the backbone from its config with random weights instead of loading pretrained weights.</summary>
    /// <value>The default value is false.</value>
    public bool FromScratch { get; set; }

    /// <summary>Hub mirror, cache and offline settings for hub ids; null reads them from the environment.</summary>
    /// <value>The default value is null.</value>
    public HubOptions? Hub { get; set; }

    /// <summary>
    /// Longest input in tokens, special tokens included. Longer texts are truncated (pairs: longest first);
    /// longer sentences of a token classifier are labelled in chunks of whole words.
    /// </summary>
    /// <value>The default value is <see cref="FineTuningDefaults.MaxSequenceLength"/> (128).</value>
    public int MaxSequenceLength { get; set; } = FineTuningDefaults.MaxSequenceLength;

    /// <summary>Rows (sentence chunks, for token classification) per training and scoring batch.</summary>
    /// <value>The default value is <see cref="FineTuningDefaults.BatchSize"/> (32).</value>
    public int BatchSize { get; set; } = FineTuningDefaults.BatchSize;

    /// <summary>Passes over the training data (for token classification: the joint-training epochs).</summary>
    /// <value>The default value is <see cref="FineTuningDefaults.Epochs"/> (3).</value>
    public int Epochs { get; set; } = FineTuningDefaults.Epochs;

    /// <summary>Peak learning rate of the encoder and the exit heads.</summary>
    /// <value>The default value is <see cref="FineTuningDefaults.LearningRate"/> (2e-5).</value>
    public double LearningRate { get; set; } = FineTuningDefaults.LearningRate;

    /// <summary>Fraction of steps of linear warm-up, followed by linear decay to 0.</summary>
    /// <value>The default value is <see cref="FineTuningDefaults.WarmupFraction"/> (0.1).</value>
    public double WarmupFraction { get; set; } = FineTuningDefaults.WarmupFraction;

    /// <summary>AdamW weight decay (not on biases, LayerNorm or a halting head).</summary>
    /// <value>The default value is <see cref="FineTuningDefaults.WeightDecay"/> (0.01).</value>
    public double WeightDecay { get; set; } = FineTuningDefaults.WeightDecay;

    /// <summary>Gradient clipping to this global norm; 0 disables it.</summary>
    /// <value>The default value is <see cref="FineTuningDefaults.MaxGradientNorm"/> (1.0).</value>
    public double MaxGradientNorm { get; set; } = FineTuningDefaults.MaxGradientNorm;

    /// <summary>Fraction of the training rows held out (seeded) as the validation set for best-epoch selection and early stopping; 0 uses none.</summary>
    /// <value>The default value is 0.</value>
    public double ValidationFraction { get; set; }

    /// <summary>Epochs without a better validation metric before stopping; 0 trains every epoch.</summary>
    /// <value>The default value is <see cref="FineTuningDefaults.EarlyStoppingPatience"/> (0).</value>
    public int EarlyStoppingPatience { get; set; } = FineTuningDefaults.EarlyStoppingPatience;

    /// <summary>Seed of weights, dropout, data order and the validation split.</summary>
    /// <value>The default value is <see cref="FineTuningDefaults.Seed"/> (42).</value>
    public int Seed { get; set; } = FineTuningDefaults.Seed;

    /// <summary>Where training and scoring run: auto, cpu, cuda or cuda:N.</summary>
    /// <value>The default value is <see cref="DeviceOption.Auto"/>.</value>
    public DeviceOption Device { get; set; } = DeviceOption.Auto;

    /// <summary>Receives training progress (epoch, step, loss, validation metric, elapsed, ETA), or null.</summary>
    /// <value>The default value is null.</value>
    public IProgress<TrainingProgress>? Progress { get; set; }

    /// <summary>Cancels training (Fit then throws <see cref="OperationCanceledException"/>).</summary>
    /// <value>The default value is <see cref="CancellationToken.None"/>.</value>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>Every problem with the options (empty when valid), each naming the option.</summary>
    internal IReadOnlyList<string> Validate()
    {
        var problems = new List<string>(FineTuning().Validate());
        void Require(bool ok, string problem)
        {
            if (!ok)
            {
                problems.Add(problem);
            }
        }

        Require(!string.IsNullOrWhiteSpace(LabelColumnName), "LabelColumnName is empty.");
        foreach (var (name, option) in InputColumns())
        {
            Require(!string.IsNullOrWhiteSpace(name), $"{option} is empty.");
        }

        foreach (string output in OutputColumnNames().Prepend(ExitLayerColumnName))
        {
            Require(!string.IsNullOrWhiteSpace(output), "An output column name is empty.");
        }

        Require(!string.IsNullOrWhiteSpace(Backbone), "Backbone is empty; name a hub id, a folder or a preset.");
        Require(MaxSequenceLength >= 8, $"MaxSequenceLength is {MaxSequenceLength}; it must be at least 8.");
        Require(ValidationFraction is >= 0 and < 1, $"ValidationFraction is {ValidationFraction}; it must be in [0, 1).");
        Require(Device is not null, "Device is null; use DeviceOption.Auto, Cpu or Cuda(n).");
        problems.AddRange(LineProblems());
        return problems;
    }

    /// <summary>The backbone options these options describe.</summary>
    internal PretrainedEncoderOptions BackboneOptions() => new() { FromScratch = FromScratch, Seed = Seed, Device = Device, Hub = Hub };

    /// <summary>Copies the shared fine-tuning settings into <paramref name="options"/> (a line's Core training options) and returns it.</summary>
    private protected T WithFineTuning<T>(T options)
        where T : FineTuningOptions
    {
        options.Epochs = Epochs;
        options.BatchSize = BatchSize;
        options.LearningRate = LearningRate;
        options.WarmupFraction = WarmupFraction;
        options.WeightDecay = WeightDecay;
        options.MaxGradientNorm = MaxGradientNorm;
        options.EarlyStoppingPatience = EarlyStoppingPatience;
        options.Seed = Seed;
        return options;
    }

    /// <summary>The line's Core training options these options describe (checked with them).</summary>
    private protected abstract FineTuningOptions FineTuning();

    /// <summary>The input columns other than the label, each with its option's name (each must be non-empty).</summary>
    private protected abstract IEnumerable<(string Name, string Option)> InputColumns();

    /// <summary>The output columns other than the exit layer (each must be non-empty).</summary>
    internal abstract IEnumerable<string> OutputColumnNames();

    /// <summary>Problems with the options only this line has.</summary>
    private protected abstract IEnumerable<string> LineProblems();
}
