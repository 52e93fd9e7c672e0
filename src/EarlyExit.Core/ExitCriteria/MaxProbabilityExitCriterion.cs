namespace EarlyExit.ExitCriteria;

/// <summary>The row exits at the first layer whose largest class probability is at least the threshold.</summary>
public sealed class MaxProbabilityExitCriterion : ExitCriterion
{
    /// <summary>Creates the criterion.</summary>
    /// <param name="threshold">The confidence threshold, in [0, 1].</param>
    public MaxProbabilityExitCriterion(double threshold)
    {
        if (!(threshold >= 0 && threshold <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, $"the probability threshold must be in [0, 1], got {threshold}.");
        }

        Threshold = threshold;
    }

    /// <summary>The confidence threshold.</summary>
    public double Threshold { get; }

    /// <inheritdoc />
    public override string Name => $"maxprob:{Format(Threshold)}";

    /// <inheritdoc />
    public override bool RequiresClassProbabilities => true;

    /// <inheritdoc />
    private protected override ExitDecider CreateDeciderCore(int rows, int layers, int classes, ReadOnlySpan<ulong> rowKeys) => new Decider(Threshold, rows, layers, classes);

    private sealed class Decider(double threshold, int rows, int layers, int classes) : ExitDecider(rows, layers, classes)
    {
        protected override bool Decide(int row, int layer, ReadOnlySpan<float> probabilities, float halting)
        {
            float max = 0;
            foreach (float p in probabilities)
            {
                max = Math.Max(max, p);
            }

            return max >= (float)threshold; // compare at the precision the probabilities have
        }
    }
}
