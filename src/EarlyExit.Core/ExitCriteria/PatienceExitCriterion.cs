namespace EarlyExit.ExitCriteria;

/// <summary>
/// PABEE's patience: a counter grows by one at every layer whose predicted class equals the
/// previous layer's and resets otherwise; the row exits when it reaches the patience. With
/// patience n the earliest exit is layer n + 1.
/// </summary>
public sealed class PatienceExitCriterion : ExitCriterion
{
    /// <summary>Creates the criterion.</summary>
    /// <param name="patience">Consecutive unchanged predictions needed, at least 1.</param>
    public PatienceExitCriterion(int patience)
    {
        if (patience < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(patience), patience, $"patience must be at least 1, got {patience}; use 'full' for no early exit.");
        }

        Count = patience;
    }

    /// <summary>The patience: consecutive unchanged predictions needed.</summary>
    public int Count { get; }

    /// <inheritdoc />
    public override string Name => $"patience:{Count}";

    /// <inheritdoc />
    protected override ExitDecider CreateDeciderCore(int rows, int layers, int classes, ReadOnlySpan<ulong> rowKeys) => new Decider(Count, rows, layers, classes);

    private sealed class Decider(int patience, int rows, int layers, int classes) : ExitDecider(rows, layers, classes)
    {
        private readonly int[] _previous = Enumerable.Repeat(-1, rows).ToArray();
        private readonly int[] _counter = new int[rows];

        protected override bool Decide(int row, int layer, ReadOnlySpan<float> probabilities, float halting)
        {
            int predicted = Scores.ArgMax(probabilities);
            _counter[row] = predicted == _previous[row] ? _counter[row] + 1 : 0;
            _previous[row] = predicted;
            return _counter[row] >= patience;
        }
    }
}
