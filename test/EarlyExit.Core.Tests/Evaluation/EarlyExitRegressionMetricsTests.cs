using EarlyExit.Evaluation;

namespace EarlyExit.Tests.Evaluation;

public sealed class EarlyExitRegressionMetricsTests
{
    [Fact]
    public void Compute_KnownValues_MatchHandComputedCorrelationsAndErrors()
    {
        // Targets 1..5; predictions keep the order except one swap, with ties in the predictions.
        float[] actual = [1, 2, 3, 4, 5];
        float[] predicted = [1, 3, 2, 4, 4];

        EarlyExitRegressionMetrics metrics = EarlyExitRegressionMetrics.Compute(predicted, actual, [1, 2, 2, 3, 4], layers: 4);

        // Pearson: cov 7/5... computed from the definitions: x̄ = 2.8, ȳ = 3.
        double sxy = ((1 - 2.8) * -2) + ((3 - 2.8) * -1) + 0 + ((4 - 2.8) * 1) + ((4 - 2.8) * 2);
        double sxx = Math.Pow(1 - 2.8, 2) + Math.Pow(3 - 2.8, 2) + Math.Pow(2 - 2.8, 2) + (2 * Math.Pow(4 - 2.8, 2));
        Assert.Equal(sxy / Math.Sqrt(sxx * 10), metrics.Pearson, 10);
        // Spearman: prediction ranks 1, 3, 2, 4.5, 4.5 against 1..5.
        double[] ranks = [1, 3, 2, 4.5, 4.5];
        double rxy = ranks.Select((r, i) => (r - 3) * (i + 1 - 3)).Sum();
        double rxx = ranks.Select(r => (r - 3) * (r - 3)).Sum();
        Assert.Equal(rxy / Math.Sqrt(rxx * 10), metrics.Spearman, 10);
        Assert.Equal(3.0 / 5, metrics.MeanSquaredError, 10);
        Assert.Equal(3.0 / 5, metrics.MeanAbsoluteError, 10);
        Assert.Equal(2.4, metrics.MeanExitLayer, 10);
        Assert.Equal(4 / 2.4, metrics.LayerSpeedup, 10);
        Assert.Equal([1, 2, 1, 1], metrics.ExitLayerHistogram);
        Assert.Equal((metrics.Pearson + metrics.Spearman) / 2, metrics.PearsonSpearman, 12);
    }

    [Fact]
    public void Compute_ConstantPredictions_GiveZeroCorrelation()
    {
        EarlyExitRegressionMetrics metrics = EarlyExitRegressionMetrics.Compute([2f, 2f, 2f], [1f, 2f, 3f], [1, 1, 1], layers: 2);

        Assert.Equal(0, metrics.Pearson);
        Assert.Equal(0, metrics.Spearman);
    }

    [Fact]
    public void Compute_NotFiniteValue_ThrowsNamingTheRow()
    {
        var error = Assert.Throws<ArgumentException>(() => EarlyExitRegressionMetrics.Compute([1f, float.NaN], [1f, 2f], [1, 1], layers: 2));

        Assert.Contains("Row 1", error.Message);
    }
}
