namespace EarlyExit.ExitCriteria;

/// <summary>
/// PALBERT's Q-exit: the row exits at the first layer whose halting CDF, Σ_{j≤i} p_j with
/// p_j = λ_j Π_{k&lt;j} (1 − λ_k), exceeds q. Deterministic, unlike PonderNet's sampling.
/// </summary>
public sealed class QExitCriterion : ExitCriterion
{
    /// <summary>Creates the criterion.</summary>
    /// <param name="q">The threshold on the halting CDF, in (0, 1).</param>
    public QExitCriterion(double q)
    {
        if (!(q > 0 && q < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(q), q, $"q must be in (0, 1), got {q}.");
        }

        Q = q;
    }

    /// <summary>The threshold on the halting CDF.</summary>
    public double Q { get; }

    /// <inheritdoc />
    public override string Name => $"qexit:{Format(Q)}";

    /// <inheritdoc />
    public override bool RequiresHaltingHead => true;

    /// <inheritdoc />
    private protected override ExitDecider CreateDeciderCore(int rows, int layers, int classes, ReadOnlySpan<ulong> rowKeys) => new Decider(this, rows, layers, classes);

    private sealed class Decider(QExitCriterion criterion, int rows, int layers, int classes) : ExitDecider(rows, layers, classes)
    {
        private readonly double[] _cdf = new double[rows];
        private readonly double[] _notHalted = Enumerable.Repeat(1.0, rows).ToArray();

        protected override bool Decide(int row, int layer, ReadOnlySpan<float> probabilities, float halting)
        {
            _cdf[row] += halting * _notHalted[row];
            _notHalted[row] *= 1 - halting;
            return _cdf[row] > criterion.Q;
        }
    }
}
