namespace EarlyExit.ExitCriteria;

/// <summary>
/// PABEE's patience: a counter grows by one at every layer whose prediction agrees with the previous
/// layer's and resets otherwise; the row exits when it reaches the patience. With patience n the
/// earliest exit is layer n + 1. A classifier's prediction agrees when the predicted class is the
/// same; a regression model's (one output) when its value changed by less than the tolerance.
/// </summary>
public sealed class PatienceExitCriterion : ExitCriterion
{
    /// <summary>Creates the criterion.</summary>
    /// <param name="patience">Consecutive agreeing predictions needed, at least 1.</param>
    /// <param name="tolerance">Regression models only: the largest change of the value that still counts as agreeing (positive); null for classifiers.</param>
    public PatienceExitCriterion(int patience, double? tolerance = null)
    {
        if (patience < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(patience), patience, $"patience must be at least 1, got {patience}; use 'full' for no early exit.");
        }

        if (tolerance is double t && !(t > 0 && double.IsFinite(t)))
        {
            throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, $"the patience tolerance must be a positive number, got {t}.");
        }

        Count = patience;
        Tolerance = tolerance;
    }

    /// <summary>The patience: consecutive agreeing predictions needed.</summary>
    public int Count { get; }

    /// <summary>The tolerance of regression models, or null (classifiers).</summary>
    public double? Tolerance { get; }

    /// <inheritdoc />
    public override string Name => Tolerance is double t ? $"patience:{Count}:{Format(t)}" : $"patience:{Count}";

    /// <inheritdoc />
    public override string? Incompatibility(int classes, bool hasHaltingHead)
    {
        if (classes == 1 && Tolerance is null)
        {
            return $"Exit criterion '{Name}' on a regression model needs a tolerance: patience:{Count}:T exits once the predicted value changed by less than T for {Count} layer(s), e.g. patience:{Count}:0.1.";
        }

        if (classes > 1 && Tolerance is not null)
        {
            return $"Exit criterion '{Name}' has a tolerance, which only regression models use; a classifier's patience counts unchanged classes: use patience:{Count}.";
        }

        return base.Incompatibility(classes, hasHaltingHead);
    }

    /// <inheritdoc />
    private protected override ExitDecider CreateDeciderCore(int rows, int layers, int classes, ReadOnlySpan<ulong> rowKeys)
    {
        return new Decider(Count, Tolerance ?? 0, rows, layers, classes);
    }

    private sealed class Decider(int patience, double tolerance, int rows, int layers, int classes) : ExitDecider(rows, layers, classes)
    {
        private readonly float[] _previous = Enumerable.Repeat(float.NaN, rows).ToArray();
        private readonly int[] _counter = new int[rows];

        protected override bool Decide(int row, int layer, ReadOnlySpan<float> probabilities, float halting)
        {
            // The previous prediction: a class index, or a regression model's value (NaN before the first layer).
            float current = Classes == 1 ? probabilities[0] : Scores.ArgMax(probabilities);
            bool agrees = Classes == 1 ? Math.Abs(current - _previous[row]) < tolerance : current == _previous[row];
            _counter[row] = agrees ? _counter[row] + 1 : 0;
            _previous[row] = current;
            return _counter[row] >= patience;
        }
    }
}
