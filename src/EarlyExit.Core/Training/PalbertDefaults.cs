namespace EarlyExit.Training;

/// <summary>
/// The one place where the defaults of early-exit classifier training (PALBERT and its baselines) live.
/// The training options, the ML.NET trainers' Options and the catalog methods' parameters all read these
/// constants; the values both lines share come from <see cref="FineTuningDefaults"/>.
/// Values marked "reference" are those of PALBERT's reference code (tinkoff-ai/palbert).
/// </summary>
public static class PalbertDefaults
{
    /// <summary>The backbone when none is named: the hub id of PALBERT's backbone.</summary>
    public const string Backbone = FineTuningDefaults.Backbone;

    /// <summary>Longest input in tokens, special tokens included; longer inputs are truncated (pairs: longest first).</summary>
    public const int MaxSequenceLength = FineTuningDefaults.MaxSequenceLength;

    /// <summary>Rows per training and scoring batch.</summary>
    public const int BatchSize = FineTuningDefaults.BatchSize;

    /// <summary>Passes over the training data.</summary>
    public const int Epochs = FineTuningDefaults.Epochs;

    /// <summary>Peak AdamW learning rate of the encoder and the classifier (a fine-tuning rate; raise it, e.g. to 1e-4, when training from scratch).</summary>
    public const double LearningRate = FineTuningDefaults.LearningRate;

    /// <summary>Peak learning rate of the freshly initialised halting (lambda) head.</summary>
    public const double HaltingLearningRate = 1e-4;

    /// <summary>Fraction of the training steps spent warming the learning rate up linearly from 0; it then decays linearly to 0.</summary>
    public const double WarmupFraction = FineTuningDefaults.WarmupFraction;

    /// <summary>AdamW weight decay (not applied to biases, LayerNorm weights or the halting head).</summary>
    public const double WeightDecay = FineTuningDefaults.WeightDecay;

    /// <summary>Gradients are clipped to this global L2 norm; 0 disables clipping.</summary>
    public const double MaxGradientNorm = FineTuningDefaults.MaxGradientNorm;

    /// <summary>
    /// Parameter λ_p of the geometric prior over exit layers for a 12-layer model (reference: 0.1, tuned
    /// on 12-layer ALBERT). Other depths get <see cref="PriorLambdaFor"/>.
    /// </summary>
    public const double PriorLambda = 0.1;

    /// <summary>The depth <see cref="PriorLambda"/> was tuned for.</summary>
    public const int PriorLambdaDepth = 12;

    /// <summary>
    /// The default λ_p for an <paramref name="layers"/>-layer model: 1 − (1 − 0.1)^(12 / L), which keeps
    /// the prior's shape over relative depth. The prior's mass before any fraction of the network is then
    /// what the reference 0.1 gives on 12 layers: 0.1 at 12 layers, 0.19 at 6, 0.05 at 24. On 6 layers
    /// the reference 0.1 leaves the prior's CDF at 0.41 before the last layer, so Q-exit at q = 0.5 never
    /// exits early (bench/palbert-ablation.sh has the measurements).
    /// </summary>
    public static double PriorLambdaFor(int layers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(layers, 1);
        return 1 - Math.Pow(1 - PriorLambda, (double)PriorLambdaDepth / layers);
    }

    /// <summary>Weight β of the KL term of the Ponder objective (reference: 0.5).</summary>
    public const double Beta = 0.5;

    /// <summary>Threshold q of the Q-exit criterion (reference: 0.5).</summary>
    public const double QExitThreshold = 0.5;

    /// <summary>Dropout on the pooled output before the classifier (reference: 0.1).</summary>
    public const double ClassifierDropout = FineTuningDefaults.HeadDropout;

    /// <summary>Dropout on the halting head's input.</summary>
    public const double HaltingDropout = 0.1;

    /// <summary>Hidden layers of the concat and difference halting heads (reference: 3).</summary>
    public const int HaltingHiddenLayers = 3;

    /// <summary>Epochs without a better validation metric before training stops; 0 trains every epoch.</summary>
    public const int EarlyStoppingPatience = FineTuningDefaults.EarlyStoppingPatience;

    /// <summary>Seed of weights, dropout and data order.</summary>
    public const int Seed = FineTuningDefaults.Seed;
}
