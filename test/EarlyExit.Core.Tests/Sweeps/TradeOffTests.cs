using EarlyExit.Sweeps;

namespace EarlyExit.Tests.Sweeps;

public sealed class TradeOffTests
{
    // (metric, speed-up), by hand: the front is 0 (1.0x, 0.90), 2 (1.5x, 0.89), 4 (2.0x, 0.85), 6 (3.0x, 0.70).
    private static readonly (double Metric, double Speedup)[] s_table =
    [
        (0.90, 1.0), // 0 full depth
        (0.88, 1.2), // 1 dominated by 2
        (0.89, 1.5), // 2
        (0.85, 1.4), // 3 dominated by 2
        (0.85, 2.0), // 4
        (0.85, 2.0), // 5 identical to 4: only the first is listed
        (0.70, 3.0), // 6
        (0.60, 2.5), // 7 dominated by 6
        (double.NaN, 9.0), // 8 not a result
    ];

    [Fact]
    public void ParetoFront_HandMadeTable_IsTheNonDominatedPointsBySpeedup()
    {
        Assert.Equal([0, 2, 4, 6], TradeOff.ParetoFront(s_table));
    }

    [Theory]
    [InlineData(0.0, MetricDrop.Absolute, 0)]
    [InlineData(0.01, MetricDrop.Absolute, 2)]
    [InlineData(0.05, MetricDrop.Absolute, 4)]
    [InlineData(0.5, MetricDrop.Absolute, 6)]
    [InlineData(0.06, MetricDrop.Relative, 4)] // 0.90 * 0.94 = 0.846
    public void FastestWithin_PicksTheFastestSettingWithinTheDrop(double drop, MetricDrop kind, int expected)
    {
        Assert.Equal(expected, TradeOff.FastestWithin(s_table, reference: 0.90, drop, kind));
    }

    [Fact]
    public void FastestWithin_NothingQualifies_IsMinusOne()
    {
        Assert.Equal(-1, TradeOff.FastestWithin(s_table, reference: 0.95, maxDrop: 0.01));
    }

    [Theory]
    [InlineData(1.0, 0)]
    [InlineData(1.3, 2)]
    [InlineData(1.6, 4)]
    [InlineData(2.1, 6)]
    [InlineData(3.5, -1)]
    public void MostAccurateAt_PicksTheBestMetricAtTheSpeedup(double speedup, int expected)
    {
        Assert.Equal(expected, TradeOff.MostAccurateAt(s_table, speedup));
    }

    [Fact]
    public void Selection_RandomTables_NeverBreaksTheConstraint_AndNothingBetterQualifies()
    {
        var random = new Random(7);
        for (int trial = 0; trial < 500; trial++)
        {
            var points = Enumerable.Range(0, random.Next(1, 30)).Select(_ => (Metric: Math.Round(random.NextDouble(), 2), Speedup: 1 + Math.Round(random.NextDouble() * 3, 1))).ToArray();
            double reference = points[0].Metric;
            double drop = random.NextDouble() * 0.3;
            double target = 1 + (random.NextDouble() * 3);

            int fastest = TradeOff.FastestWithin(points, reference, drop);
            int accurate = TradeOff.MostAccurateAt(points, target);

            double floor = reference - drop;
            Assert.True(fastest >= 0, "full depth itself is within any drop");
            Assert.True(points[fastest].Metric >= floor);
            Assert.DoesNotContain(points, p => p.Metric >= floor && p.Speedup > points[fastest].Speedup);
            if (accurate >= 0)
            {
                Assert.True(points[accurate].Speedup >= target);
                Assert.DoesNotContain(points, p => p.Speedup >= target && p.Metric > points[accurate].Metric);
            }
            else
            {
                Assert.DoesNotContain(points, p => p.Speedup >= target);
            }

            int[] front = TradeOff.ParetoFront(points);
            foreach (int i in front)
            {
                Assert.DoesNotContain(points, p => p.Metric >= points[i].Metric && p.Speedup >= points[i].Speedup && p != points[i]);
            }
        }
    }
}
