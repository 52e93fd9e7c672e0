namespace EarlyExit.Training;

/// <summary>
/// The one place where the defaults of token-level early-exit training (SENTEE/TOKEE) live: Core's
/// <see cref="TokenTrainingOptions"/>, the ML.NET trainer's Options and the catalog method's parameters all
/// read these constants, as <see cref="PalbertDefaults"/> serves the sentence-level line. The fine-tuning
/// settings the two lines share take the same values.
/// </summary>
public static class TokenExitDefaults
{
    /// <summary>The backbone when none is named: the hub id of PALBERT's backbone, as for the sentence line.</summary>
    public const string Backbone = PalbertDefaults.Backbone;

    /// <summary>Longest chunk in tokens, special tokens included; longer sentences are split at word boundaries.</summary>
    public const int MaxSequenceLength = PalbertDefaults.MaxSequenceLength;

    /// <summary>Chunks per training and scoring batch.</summary>
    public const int BatchSize = PalbertDefaults.BatchSize;

    /// <summary>Epochs of joint training of every off-ramp.</summary>
    public const int Epochs = 3;

    /// <summary>Epochs of self-sampling training after the joint epochs (the paper's second stage); 0 skips it.</summary>
    public const int SelfSamplingEpochs = 1;

    /// <summary>Peak AdamW learning rate.</summary>
    public const double LearningRate = PalbertDefaults.LearningRate;

    /// <summary>Fraction of the training steps spent warming the learning rate up.</summary>
    public const double WarmupFraction = PalbertDefaults.WarmupFraction;

    /// <summary>AdamW weight decay.</summary>
    public const double WeightDecay = PalbertDefaults.WeightDecay;

    /// <summary>Gradients are clipped to this global L2 norm; 0 disables clipping.</summary>
    public const double MaxGradientNorm = PalbertDefaults.MaxGradientNorm;

    /// <summary>Dropout before every off-ramp.</summary>
    public const double Dropout = PalbertDefaults.ClassifierDropout;

    /// <summary>Seed of weights, dropout, data order and the validation split.</summary>
    public const int Seed = PalbertDefaults.Seed;
}
