using EarlyExit.Evaluation;

namespace EarlyExit.Tests.Evaluation;

public class ClassificationMetricsTests
{
    // Binary, by hand: actual 1 1 1 1 0 0 0 0 0 0, predicted 1 1 1 0 1 1 0 0 0 0.
    // Class 1: TP 3, FN 1, FP 2 -> F1 = 6 / (6 + 1 + 2) = 2/3. Class 0: TP 4, FN 2, FP 1 -> F1 = 8 / 11.
    // MCC = (TP·TN − FP·FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)) = (12 − 2) / sqrt(5·4·6·5) = 10 / sqrt(600).
    private static readonly int[] s_actual = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0];
    private static readonly int[] s_predicted = [1, 1, 1, 0, 1, 1, 0, 0, 0, 0];

    [Fact]
    public void Compute_Binary_MatchesHandComputedValues()
    {
        ClassificationMetrics m = ClassificationMetrics.Compute(s_predicted, s_actual, [1, 2, 2, 2, 2, 2, 2, 2, 2, 2], classes: 2, layers: 2, positiveClass: 1);

        Assert.Equal(0.7, m.Accuracy, 12);
        Assert.Equal(2.0 / 3, m.F1, 12);
        Assert.Equal(1, m.PositiveClass);
        Assert.Equal([8.0 / 11, 2.0 / 3], m.PerClassF1);
        Assert.Equal((8.0 / 11 + 2.0 / 3) / 2, m.MacroF1, 12);
        Assert.Equal(10 / Math.Sqrt(600), m.MatthewsCorrelation, 12);
        Assert.Equal(1.9, m.MeanExitLayer, 12);
        Assert.Equal([1, 9], m.ExitLayerHistogram);
    }

    [Fact]
    public void Compute_PositiveClassZero_GivesThatClassesF1()
    {
        ClassificationMetrics m = ClassificationMetrics.Compute(s_predicted, s_actual, Enumerable.Repeat(1, 10).ToArray(), classes: 2, layers: 1, positiveClass: 0);

        Assert.Equal(8.0 / 11, m.F1, 12);
        Assert.Equal(0, m.PositiveClass);
    }

    [Fact]
    public void Compute_ThreeClasses_MatchesHandComputedMacroF1AndMcc()
    {
        // actual 0 0 1 1 2 2, predicted 0 1 1 1 2 0: per class F1 = 2·1/(2+2), 2·2/(2+3), 2·1/(2+1) = 1/2, 4/5, 2/3.
        // Gorodkin: c = 4, s = 6, t = (2,2,2), p = (2,3,1): (4·6 − (4+6+2)) / sqrt((36 − 14)(36 − 12)) = 12 / sqrt(528).
        ClassificationMetrics m = ClassificationMetrics.Compute([0, 1, 1, 1, 2, 0], [0, 0, 1, 1, 2, 2], [1, 1, 1, 1, 1, 1], classes: 3, layers: 1, positiveClass: 1);

        Assert.Equal(0.5, m.PerClassF1[0], 12);
        Assert.Equal(0.8, m.PerClassF1[1], 12);
        Assert.Equal(2.0 / 3, m.PerClassF1[2], 12);
        Assert.Equal((0.5 + 0.8 + 2.0 / 3) / 3, m.MacroF1, 12);
        Assert.Equal(12 / Math.Sqrt(528), m.MatthewsCorrelation, 12);
    }

    [Fact]
    public void Compute_PositiveClassOutOfRange_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ClassificationMetrics.Compute([0], [0], [1], classes: 2, layers: 1, positiveClass: 2));
    }

    [Theory]
    [InlineData(new[] { "1", "0" }, null, 0)] // MRPC: train.tsv starts with "1", so ML.NET makes "1" the first key
    [InlineData(new[] { "0", "1" }, null, 1)]
    [InlineData(new[] { "True", "False" }, null, 0)]
    [InlineData(new[] { "positive", "negative" }, null, 0)]
    [InlineData(new[] { "negative", "positive" }, null, 1)]
    [InlineData(new[] { "yes", "no" }, null, 0)]
    [InlineData(new[] { "only" }, null, 0)]
    [InlineData(new[] { "1", "0" }, "0", 1)]
    [InlineData(new[] { "b", "c", "a" }, null, 0)] // the second in ordinal order: a, b, c -> b
    public void Resolve_ChoosesByValueNotPosition(string[] classes, string? named, int expected)
    {
        Assert.Equal(expected, PositiveClass.Resolve(classes, named));
    }

    [Fact]
    public void Resolve_UnknownLabel_ListsTheClasses()
    {
        var error = Assert.Throws<ArgumentException>(() => PositiveClass.Resolve(["0", "1"], "yes"));

        Assert.Contains("'yes' is not a class", error.Message);
        Assert.Contains("'0', '1'", error.Message);
    }
}
