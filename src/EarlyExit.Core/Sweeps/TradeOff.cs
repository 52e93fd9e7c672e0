// The speed/accuracy trade-off of a set of exit settings: which settings are Pareto-optimal (no other
// setting is at least as accurate and at least as fast, and better in one), and which one to choose
// under a constraint: the fastest within a metric drop of full depth, or the most accurate at a target
// speed-up. Metrics are "higher is better" (accuracy, F1, MCC); speed-up is L / mean exit layer.
namespace EarlyExit.Sweeps;

/// <summary>How much metric a selection may give up, relative to a reference (usually full depth).</summary>
public enum MetricDrop
{
    /// <summary>The drop is in metric units: 0.005 allows 0.900 → 0.895.</summary>
    Absolute,

    /// <summary>The drop is a fraction of the reference: 0.01 allows 0.900 → 0.891.</summary>
    Relative,
}

/// <summary>Pareto fronts and constrained selection over (metric, speed-up) points.</summary>
internal static class TradeOff
{
    /// <summary>
    /// The indices of the Pareto-optimal points, by increasing speed-up (so by decreasing metric). A point
    /// is on the front when no other point has a metric and a speed-up at least as high and one of them
    /// higher; of identical points only the first is listed.
    /// </summary>
    /// <param name="points">Each setting's metric and speed-up; NaN points are never on the front.</param>
    public static int[] ParetoFront(IReadOnlyList<(double Metric, double Speedup)> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        // Sort by speed-up descending, metric descending, index ascending; sweep keeping the best metric so far.
        int[] order = Enumerable.Range(0, points.Count)
            .Where(i => !double.IsNaN(points[i].Metric) && !double.IsNaN(points[i].Speedup))
            .OrderByDescending(i => points[i].Speedup).ThenByDescending(i => points[i].Metric).ThenBy(i => i)
            .ToArray();
        var front = new List<int>();
        double best = double.NegativeInfinity;
        foreach (int i in order)
        {
            if (points[i].Metric > best)
            {
                front.Add(i);
                best = points[i].Metric;
            }
        }

        front.Reverse();
        return front.ToArray();
    }

    /// <summary>
    /// The index of the fastest point whose metric is at least <paramref name="reference"/> minus the allowed
    /// drop (the more accurate on equal speed-ups, then the first), or -1 when none qualifies.
    /// </summary>
    /// <param name="points">Each setting's metric and speed-up.</param>
    /// <param name="reference">The metric to stay close to, e.g. full depth's.</param>
    /// <param name="maxDrop">The allowed drop, at least 0.</param>
    /// <param name="drop">Whether <paramref name="maxDrop"/> is absolute or relative to <paramref name="reference"/>.</param>
    public static int FastestWithin(IReadOnlyList<(double Metric, double Speedup)> points, double reference, double maxDrop, MetricDrop drop = MetricDrop.Absolute)
    {
        ArgumentNullException.ThrowIfNull(points);
        if (!(maxDrop >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(maxDrop), maxDrop, "The allowed metric drop must be 0 or more.");
        }

        double floor = MetricFloor(reference, maxDrop, drop);
        return Best(points, i => points[i].Metric >= floor, i => (points[i].Speedup, points[i].Metric));
    }

    /// <summary>The lowest metric <see cref="FastestWithin"/> accepts.</summary>
    public static double MetricFloor(double reference, double maxDrop, MetricDrop drop) =>
        drop == MetricDrop.Absolute ? reference - maxDrop : reference - (Math.Abs(reference) * maxDrop);

    /// <summary>
    /// The index of the most accurate point whose speed-up is at least <paramref name="minSpeedup"/> (the
    /// faster on equal metrics, then the first), or -1 when none qualifies.
    /// </summary>
    public static int MostAccurateAt(IReadOnlyList<(double Metric, double Speedup)> points, double minSpeedup)
    {
        ArgumentNullException.ThrowIfNull(points);
        return Best(points, i => points[i].Speedup >= minSpeedup, i => (points[i].Metric, points[i].Speedup));
    }

    private static int Best(IReadOnlyList<(double Metric, double Speedup)> points, Func<int, bool> allowed, Func<int, (double, double)> key)
    {
        int best = -1;
        for (int i = 0; i < points.Count; i++)
        {
            if (double.IsNaN(points[i].Metric) || double.IsNaN(points[i].Speedup) || !allowed(i))
            {
                continue;
            }

            if (best < 0 || key(i).CompareTo(key(best)) > 0)
            {
                best = i;
            }
        }

        return best;
    }
}
