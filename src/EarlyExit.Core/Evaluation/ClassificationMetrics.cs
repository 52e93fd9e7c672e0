// Classification metrics of early-exit predictions: the task metrics GLUE reports (accuracy,
// F1 of the positive class for MRPC, Matthews correlation for CoLA), macro-F1, and the cost side:
// mean exit layer and layer speed-up L / mean exit layer.
namespace EarlyExit.Evaluation;

/// <summary>Which number early stopping and model selection maximise.</summary>
public enum ClassificationMetric
{
    /// <summary>Fraction of rows predicted correctly.</summary>
    Accuracy,

    /// <summary>Unweighted mean of the per-class F1 scores.</summary>
    MacroF1,

    /// <summary>F1 of the positive class (GLUE's MRPC metric); which class is positive is named by value (<see cref="PositiveClass"/>).</summary>
    F1,

    /// <summary>Matthews correlation coefficient (multiclass form), as GLUE reports for CoLA.</summary>
    MatthewsCorrelation,
}

/// <summary>Task and cost metrics of a set of predictions.</summary>
public sealed record ClassificationMetrics
{
    /// <summary>The number of rows.</summary>
    public required int Count { get; init; }

    /// <summary>Fraction of rows predicted correctly.</summary>
    public required double Accuracy { get; init; }

    /// <summary>Unweighted mean of the per-class F1 scores (classes never seen nor predicted count as F1 0).</summary>
    public required double MacroF1 { get; init; }

    /// <summary>F1 of the positive class, <see cref="PositiveClass"/> (meaningful for binary tasks).</summary>
    public required double F1 { get; init; }

    /// <summary>The 0-based class whose F1 is <see cref="F1"/>.</summary>
    public required int PositiveClass { get; init; }

    /// <summary>Matthews correlation coefficient (multiclass form; 0 when undefined).</summary>
    public required double MatthewsCorrelation { get; init; }

    /// <summary>The F1 score of each class.</summary>
    public required IReadOnlyList<double> PerClassF1 { get; init; }

    /// <summary>The mean 1-based exit layer.</summary>
    public required double MeanExitLayer { get; init; }

    /// <summary>L / mean exit layer: how many times fewer layers ran than at full depth.</summary>
    public required double LayerSpeedup { get; init; }

    /// <summary>How many rows exited at each layer (index 0 = layer 1).</summary>
    public required IReadOnlyList<int> ExitLayerHistogram { get; init; }

    /// <summary>The value of <paramref name="metric"/>.</summary>
    public double Get(ClassificationMetric metric) => metric switch
    {
        ClassificationMetric.Accuracy => Accuracy,
        ClassificationMetric.MacroF1 => MacroF1,
        ClassificationMetric.F1 => F1,
        ClassificationMetric.MatthewsCorrelation => MatthewsCorrelation,
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, null),
    };

    /// <summary>Computes the metrics of 0-based predicted and true classes with their 1-based exit layers.</summary>
    /// <param name="predicted">Predicted class per row.</param>
    /// <param name="actual">True class per row.</param>
    /// <param name="exitLayers">1-based exit layer per row.</param>
    /// <param name="classes">C.</param>
    /// <param name="layers">L.</param>
    /// <param name="positiveClass">The 0-based class <see cref="F1"/> is computed for; resolve it from the class names with <see cref="Evaluation.PositiveClass.Resolve"/>.</param>
    /// <exception cref="ArgumentException">The lists differ in length or are empty, or a value is out of range.</exception>
    public static ClassificationMetrics Compute(IReadOnlyList<int> predicted, IReadOnlyList<int> actual, IReadOnlyList<int> exitLayers, int classes, int layers, int positiveClass)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(positiveClass);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(positiveClass, classes);
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(exitLayers);
        int n = predicted.Count;
        if (n == 0 || actual.Count != n || exitLayers.Count != n)
        {
            throw new ArgumentException($"Need equally many predictions ({predicted.Count}), labels ({actual.Count}) and exit layers ({exitLayers.Count}), at least one.");
        }

        var confusion = new long[classes, classes]; // [actual, predicted]
        var histogram = new int[layers];
        long layerSum = 0;
        for (int i = 0; i < n; i++)
        {
            if ((uint)predicted[i] >= (uint)classes || (uint)actual[i] >= (uint)classes)
            {
                throw new ArgumentException($"Row {i}: class {actual[i]} or prediction {predicted[i]} is outside 0..{classes - 1}.");
            }

            if (exitLayers[i] < 1 || exitLayers[i] > layers)
            {
                throw new ArgumentException($"Row {i}: exit layer {exitLayers[i]} is outside 1..{layers}.");
            }

            confusion[actual[i], predicted[i]]++;
            histogram[exitLayers[i] - 1]++;
            layerSum += exitLayers[i];
        }

        long correct = 0;
        var f1 = new double[classes];
        var rowTotals = new long[classes];
        var columnTotals = new long[classes];
        for (int c = 0; c < classes; c++)
        {
            correct += confusion[c, c];
            for (int k = 0; k < classes; k++)
            {
                rowTotals[c] += confusion[c, k];
                columnTotals[c] += confusion[k, c];
            }
        }

        for (int c = 0; c < classes; c++)
        {
            long tp = confusion[c, c];
            long denominator = rowTotals[c] + columnTotals[c];
            f1[c] = denominator == 0 ? 0 : 2.0 * tp / denominator;
        }

        double meanLayer = (double)layerSum / n;
        return new ClassificationMetrics
        {
            Count = n,
            Accuracy = (double)correct / n,
            MacroF1 = f1.Average(),
            F1 = f1[positiveClass],
            PositiveClass = positiveClass,
            MatthewsCorrelation = Matthews(correct, n, rowTotals, columnTotals),
            PerClassF1 = f1,
            MeanExitLayer = meanLayer,
            LayerSpeedup = layers / meanLayer,
            ExitLayerHistogram = histogram,
        };
    }

    // Gorodkin's multiclass MCC: (c·s − Σ p_k t_k) / sqrt((s² − Σ p_k²)(s² − Σ t_k²)), which equals the
    // binary MCC for two classes.
    private static double Matthews(long correct, long samples, long[] actualTotals, long[] predictedTotals)
    {
        double sumPT = 0;
        double sumP2 = 0;
        double sumT2 = 0;
        for (int k = 0; k < actualTotals.Length; k++)
        {
            sumPT += (double)predictedTotals[k] * actualTotals[k];
            sumP2 += (double)predictedTotals[k] * predictedTotals[k];
            sumT2 += (double)actualTotals[k] * actualTotals[k];
        }

        double s2 = (double)samples * samples;
        double denominator = Math.Sqrt((s2 - sumP2) * (s2 - sumT2));
        return denominator == 0 ? 0 : ((correct * (double)samples) - sumPT) / denominator;
    }
}
