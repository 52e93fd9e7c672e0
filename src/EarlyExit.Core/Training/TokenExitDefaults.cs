namespace EarlyExit.Training;

/// <summary>
/// The one place where the defaults of token-level early-exit training (SENTEE/TOKEE) live: Core's
/// training options, the ML.NET trainer's Options and the catalog method's parameters all
/// read these constants, as <see cref="PalbertDefaults"/> serves the sentence-level line. The values
/// both lines share come from <see cref="FineTuningDefaults"/>.
/// </summary>
public static class TokenExitDefaults
{
    /// <summary>The backbone when none is named: as for the sentence line.</summary>
    public const string Backbone = FineTuningDefaults.Backbone;

    /// <summary>Longest chunk in tokens, special tokens included; longer sentences are split at word boundaries.</summary>
    public const int MaxSequenceLength = FineTuningDefaults.MaxSequenceLength;

    /// <summary>Chunks per training and scoring batch.</summary>
    public const int BatchSize = FineTuningDefaults.BatchSize;

    /// <summary>Epochs of joint training of every off-ramp.</summary>
    public const int Epochs = FineTuningDefaults.Epochs;

    /// <summary>Epochs of self-sampling training after the joint epochs (the paper's second stage); 0 skips it.</summary>
    public const int SelfSamplingEpochs = 1;

    /// <summary>Peak AdamW learning rate.</summary>
    public const double LearningRate = FineTuningDefaults.LearningRate;

    /// <summary>Fraction of the training steps spent warming the learning rate up.</summary>
    public const double WarmupFraction = FineTuningDefaults.WarmupFraction;

    /// <summary>AdamW weight decay.</summary>
    public const double WeightDecay = FineTuningDefaults.WeightDecay;

    /// <summary>Gradients are clipped to this global L2 norm; 0 disables clipping.</summary>
    public const double MaxGradientNorm = FineTuningDefaults.MaxGradientNorm;

    /// <summary>The threshold of the default exit criterion, TOKEE with its default window (<c>tokee:0.3:5</c>).</summary>
    public const double TokeeThreshold = 0.3;

    /// <summary>Dropout before every off-ramp.</summary>
    public const double Dropout = FineTuningDefaults.HeadDropout;

    /// <summary>Seed of weights, dropout, data order and the validation split.</summary>
    public const int Seed = FineTuningDefaults.Seed;
}
