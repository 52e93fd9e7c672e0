namespace EarlyExit.ExitCriteria;

/// <summary>
/// No early exit: every layer runs and the prediction is the halting-weighted mixture
/// Σ_i p_i · softmax_i (the expectation of the output under the halting distribution).
/// </summary>
public sealed class ExpectationExitCriterion : ExitCriterion
{
    /// <inheritdoc />
    public override string Name => "expectation";

    /// <inheritdoc />
    public override bool RequiresHaltingHead => true;

    /// <inheritdoc />
    private protected override ExitDecider CreateDeciderCore(int rows, int layers, int classes, ReadOnlySpan<ulong> rowKeys) => new Decider(rows, layers, classes);

    private sealed class Decider(int rows, int layers, int classes) : ExitDecider(rows, layers, classes)
    {
        private readonly double[] _mixture = new double[rows * classes];
        private readonly double[] _notHalted = Enumerable.Repeat(1.0, rows).ToArray();

        protected override bool Decide(int row, int layer, ReadOnlySpan<float> probabilities, float halting)
        {
            // p_i = λ_i Π_{j<i}(1 − λ_j); the last layer takes the remaining mass.
            double weight = layer == Layers - 1 ? _notHalted[row] : halting * _notHalted[row];
            _notHalted[row] *= 1 - halting;
            Span<double> mixture = _mixture.AsSpan(row * Classes, Classes);
            for (int c = 0; c < Classes; c++)
            {
                mixture[c] += weight * probabilities[c];
            }

            return false;
        }

        protected override void WritePrediction(int row, int layer, ReadOnlySpan<float> probabilities, Span<float> destination)
        {
            ReadOnlySpan<double> mixture = _mixture.AsSpan(row * Classes, Classes);
            for (int c = 0; c < Classes; c++)
            {
                destination[c] = (float)mixture[c];
            }
        }
    }
}
