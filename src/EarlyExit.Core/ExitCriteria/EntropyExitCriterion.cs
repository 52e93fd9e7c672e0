namespace EarlyExit.ExitCriteria;

/// <summary>
/// DeeBERT's entropy exit: the row exits at the first layer whose normalised entropy
/// H(p) / log C (0 = certain, 1 = uniform) is below the threshold.
/// </summary>
public sealed class EntropyExitCriterion : ExitCriterion
{
    /// <summary>Creates the criterion.</summary>
    /// <param name="threshold">The normalised-entropy threshold, in [0, 1].</param>
    public EntropyExitCriterion(double threshold)
    {
        if (!(threshold >= 0 && threshold <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, $"the entropy threshold must be in [0, 1], got {threshold}.");
        }

        Threshold = threshold;
    }

    /// <summary>The normalised-entropy threshold.</summary>
    public double Threshold { get; }

    /// <inheritdoc />
    public override string Name => $"entropy:{Format(Threshold)}";

    /// <summary>H(p) / log C of a probability vector (natural logs; 0 log 0 = 0).</summary>
    public static double NormalizedEntropy(ReadOnlySpan<float> probabilities)
    {
        double entropy = 0;
        foreach (float p in probabilities)
        {
            if (p > 0)
            {
                entropy -= p * Math.Log(p);
            }
        }

        return probabilities.Length > 1 ? entropy / Math.Log(probabilities.Length) : 0;
    }

    /// <inheritdoc />
    public override bool RequiresClassProbabilities => true;

    /// <inheritdoc />
    private protected override ExitDecider CreateDeciderCore(int rows, int layers, int classes, ReadOnlySpan<ulong> rowKeys) => new Decider(Threshold, rows, layers, classes);

    private sealed class Decider(double threshold, int rows, int layers, int classes) : ExitDecider(rows, layers, classes)
    {
        protected override bool Decide(int row, int layer, ReadOnlySpan<float> probabilities, float halting) =>
            NormalizedEntropy(probabilities) < threshold;
    }
}
