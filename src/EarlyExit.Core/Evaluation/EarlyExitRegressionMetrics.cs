namespace EarlyExit.Evaluation;

/// <summary>The quality of a regression model's early-exit predictions (GLUE STS-B reports Pearson and Spearman) and their cost.</summary>
public sealed record EarlyExitRegressionMetrics
{
    /// <summary>The number of rows.</summary>
    public required int Count { get; init; }

    /// <summary>Pearson's correlation of predictions and targets (0 when either is constant).</summary>
    public required double Pearson { get; init; }

    /// <summary>Spearman's rank correlation (ties get their average rank; 0 when either is constant).</summary>
    public required double Spearman { get; init; }

    /// <summary>Mean squared error.</summary>
    public required double MeanSquaredError { get; init; }

    /// <summary>Mean absolute error.</summary>
    public required double MeanAbsoluteError { get; init; }

    /// <summary>The mean 1-based exit layer.</summary>
    public required double MeanExitLayer { get; init; }

    /// <summary>L divided by the mean exit layer: how many times fewer layers than full depth ran.</summary>
    public required double LayerSpeedup { get; init; }

    /// <summary>Rows per exit layer, index = layer - 1.</summary>
    public required IReadOnlyList<int> ExitLayerHistogram { get; init; }

    /// <summary>The mean of Pearson and Spearman: GLUE's single STS-B score, and what validation maximises.</summary>
    public double PearsonSpearman => (Pearson + Spearman) / 2;

    /// <summary>Computes the metrics of predicted and true values with their 1-based exit layers.</summary>
    /// <param name="predicted">Predicted value per row.</param>
    /// <param name="actual">True value per row.</param>
    /// <param name="exitLayers">1-based exit layer per row.</param>
    /// <param name="layers">L.</param>
    /// <exception cref="ArgumentException">The lists differ in length or are empty, a value is not finite, or an exit layer is out of range.</exception>
    public static EarlyExitRegressionMetrics Compute(IReadOnlyList<float> predicted, IReadOnlyList<float> actual, IReadOnlyList<int> exitLayers, int layers)
    {
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(exitLayers);
        int n = predicted.Count;
        if (n == 0 || actual.Count != n || exitLayers.Count != n)
        {
            throw new ArgumentException($"Need equally many predictions ({predicted.Count}), targets ({actual.Count}) and exit layers ({exitLayers.Count}), at least one.");
        }

        var histogram = new int[layers];
        double squared = 0;
        double absolute = 0;
        long layerSum = 0;
        for (int i = 0; i < n; i++)
        {
            if (!float.IsFinite(predicted[i]) || !float.IsFinite(actual[i]))
            {
                throw new ArgumentException($"Row {i}: prediction {predicted[i]} or target {actual[i]} is not a finite number.");
            }

            if (exitLayers[i] < 1 || exitLayers[i] > layers)
            {
                throw new ArgumentException($"Row {i}: exit layer {exitLayers[i]} is outside 1..{layers}.");
            }

            double error = predicted[i] - actual[i];
            squared += error * error;
            absolute += Math.Abs(error);
            histogram[exitLayers[i] - 1]++;
            layerSum += exitLayers[i];
        }

        double[] x = predicted.Select(v => (double)v).ToArray();
        double[] y = actual.Select(v => (double)v).ToArray();
        double meanLayer = (double)layerSum / n;
        return new EarlyExitRegressionMetrics
        {
            Count = n,
            Pearson = Correlation(x, y),
            Spearman = Correlation(Ranks(x), Ranks(y)),
            MeanSquaredError = squared / n,
            MeanAbsoluteError = absolute / n,
            MeanExitLayer = meanLayer,
            LayerSpeedup = layers / meanLayer,
            ExitLayerHistogram = histogram,
        };
    }

    private static double Correlation(double[] x, double[] y)
    {
        double meanX = x.Average();
        double meanY = y.Average();
        double covariance = 0;
        double varianceX = 0;
        double varianceY = 0;
        for (int i = 0; i < x.Length; i++)
        {
            covariance += (x[i] - meanX) * (y[i] - meanY);
            varianceX += (x[i] - meanX) * (x[i] - meanX);
            varianceY += (y[i] - meanY) * (y[i] - meanY);
        }

        return varianceX == 0 || varianceY == 0 ? 0 : covariance / Math.Sqrt(varianceX * varianceY);
    }

    // 1-based ranks; tied values share the average of their ranks.
    private static double[] Ranks(double[] values)
    {
        int[] order = Enumerable.Range(0, values.Length).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Length];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]])
            {
                end++;
            }

            double rank = ((start + end) / 2.0) + 1;
            for (int k = start; k <= end; k++)
            {
                ranks[order[k]] = rank;
            }

            start = end + 1;
        }

        return ranks;
    }
}
