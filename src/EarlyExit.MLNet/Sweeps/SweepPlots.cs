// PNG plots of a sweep (ScottPlot): the trade-off (metric against layer speed-up, one colour per
// criterion kind, the Pareto front as a line, full depth and the oracles marked), the exit-layer
// histogram of one setting, and the mean exit layer per group (class, or entity type for NER) of a
// few settings. Made to decide by looking: axes say what they measure, legends name the kinds.
using System.Globalization;
using ScottPlot;

namespace EarlyExit.MLNet.Sweeps;

/// <summary>Plots of an <see cref="ExitSweep"/>.</summary>
public static class SweepPlots
{
    /// <summary>The default image size in pixels.</summary>
    public const int Width = 900;

    /// <summary>The default image height in pixels.</summary>
    public const int Height = 600;

    /// <summary>
    /// Saves <paramref name="sweep"/>'s trade-off as a PNG: the metric (y) against the layer speed-up (x)
    /// of every setting, one colour per kind, the Pareto front joined by a line, full depth and the
    /// oracle bounds as large markers; for estimated settings (TOKEE) the real passes of the front as crosses.
    /// </summary>
    /// <param name="sweep">The sweep.</param>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="title">A title; null for one made from the sweep.</param>
    public static void SaveTradeOff(this ExitSweep sweep, string path, string? title = null, int width = Width, int height = Height)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var plot = new Plot();
        foreach (IGrouping<string, SweepSetting> kind in sweep.Settings.Where(s => !s.IsOracle && s.Criterion != "full").GroupBy(s => s.Kind))
        {
            var points = plot.Add.ScatterPoints(kind.Select(s => s.LayerSpeedup).ToArray(), kind.Select(s => s.Metric).ToArray());
            points.LegendText = kind.Key + (kind.Any(s => s.Estimated) ? " (estimated)" : "");
            points.MarkerSize = 7;
        }

        IReadOnlyList<SweepSetting> front = sweep.ParetoFront;
        var line = plot.Add.Scatter(front.Select(s => s.LayerSpeedup).ToArray(), front.Select(s => s.Metric).ToArray());
        line.LegendText = "Pareto front";
        line.LineWidth = 2;
        line.MarkerShape = MarkerShape.OpenCircle; // circles the front's points, visible even when the front is one point
        line.MarkerSize = 14;
        line.Color = Colors.Black.WithAlpha(0.6);

        SweepSetting[] confirmed = front.Where(s => s.Estimated && s.MeasuredMetric is not null).ToArray();
        if (confirmed.Length > 0)
        {
            var real = plot.Add.ScatterPoints(confirmed.Select(s => s.MeasuredLayerSpeedup ?? s.LayerSpeedup).ToArray(), confirmed.Select(s => s.MeasuredMetric!.Value).ToArray());
            real.LegendText = "front, real pass";
            real.MarkerShape = MarkerShape.Cross;
            real.MarkerSize = 10;
            real.Color = Colors.Black;
        }

        Mark(plot, sweep.FullDepth, "full depth", MarkerShape.FilledSquare, Colors.Black);
        foreach (SweepSetting oracle in sweep.Settings.Where(s => s.IsOracle))
        {
            Mark(plot, oracle, oracle.Criterion, oracle.Criterion.EndsWith("correct", StringComparison.Ordinal) ? MarkerShape.FilledTriangleUp : MarkerShape.FilledDiamond, Colors.Gray);
        }

        plot.Title(title ?? $"{sweep.MetricName} against layer speed-up ({sweep.Rows.ToString("N0", CultureInfo.InvariantCulture)} rows, {sweep.Layers} layers)");
        plot.XLabel("layer speed-up (L / mean exit layer)");
        plot.YLabel(sweep.MetricName);
        plot.ShowLegend(Edge.Right); // outside the data: points can be anywhere, full depth sits at the left edge
        Save(plot, path, width, height);
    }

    /// <summary>Saves the exit-layer histogram of setting <paramref name="criterion"/> as a PNG.</summary>
    /// <exception cref="ArgumentException">The sweep has no such setting.</exception>
    public static void SaveExitHistogram(this ExitSweep sweep, string criterion, string path, int width = Width, int height = Height)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        SweepSetting setting = Find(sweep, criterion);
        var plot = new Plot();
        double total = Math.Max(1, setting.ExitLayerHistogram.Sum());
        double[] positions = Enumerable.Range(1, setting.ExitLayerHistogram.Count).Select(l => (double)l).ToArray();
        plot.Add.Bars(positions, setting.ExitLayerHistogram.Select(c => 100.0 * c / total).ToArray());
        plot.Axes.Margins(bottom: 0);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, positions.Select(p => p.ToString(CultureInfo.InvariantCulture)).ToArray());
        plot.Title($"exit layers with {setting.Criterion}: mean {setting.MeanExitLayer.ToString("0.00", CultureInfo.InvariantCulture)}, " +
            $"{sweep.MetricName} {setting.Metric.ToString("0.0000", CultureInfo.InvariantCulture)}");
        plot.XLabel("exit layer");
        plot.YLabel("% of rows (words)");
        Save(plot, path, width, height);
    }

    /// <summary>
    /// Saves, as a PNG, the mean exit layer of each group (class for a classifier, gold entity type and
    /// O for NER) under each of <paramref name="criteria"/>: which inputs leave early and which go deep.
    /// </summary>
    /// <exception cref="ArgumentException">A setting is not in the sweep.</exception>
    public static void SaveExitLayerByGroup(this ExitSweep sweep, IReadOnlyList<string> criteria, string path, int width = Width, int height = Height)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        ArgumentNullException.ThrowIfNull(criteria);
        SweepSetting[] settings = criteria.Select(c => Find(sweep, c)).ToArray();
        string[] groups = settings.SelectMany(s => s.MeanExitLayerByGroup.Keys).Distinct().ToArray();
        var plot = new Plot();
        var bars = new List<Bar>();
        IPalette palette = new ScottPlot.Palettes.Category10();
        for (int g = 0; g < groups.Length; g++)
        {
            for (int s = 0; s < settings.Length; s++)
            {
                double value = settings[s].MeanExitLayerByGroup.TryGetValue(groups[g], out double v) ? v : 0;
                bars.Add(new Bar { Position = (g * (settings.Length + 1)) + s, Value = value, FillColor = palette.GetColor(s) });
            }
        }

        plot.Add.Bars(bars);
        for (int s = 0; s < settings.Length; s++)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = settings[s].Criterion, FillColor = palette.GetColor(s) });
        }

        double[] ticks = groups.Select((_, g) => (g * (settings.Length + 1)) + ((settings.Length - 1) / 2.0)).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks, groups);
        plot.Axes.Margins(bottom: 0);
        plot.Title("mean exit layer by group");
        plot.YLabel("mean exit layer");
        plot.ShowLegend(Edge.Right);
        Save(plot, path, width, height);
    }

    private static void Mark(Plot plot, SweepSetting setting, string label, MarkerShape shape, Color color)
    {
        var marker = plot.Add.Marker(setting.LayerSpeedup, setting.Metric, shape, 12, color);
        marker.LegendText = label;
    }

    private static SweepSetting Find(ExitSweep sweep, string criterion) =>
        sweep.Settings.FirstOrDefault(s => s.Criterion == criterion)
        ?? throw new ArgumentException($"The sweep has no setting '{criterion}'; its settings include: {string.Join(", ", sweep.Settings.Take(12).Select(s => s.Criterion))}.", nameof(criterion));

    private static void Save(Plot plot, string path, int width, int height)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
        }

        plot.SavePng(path, width, height);
    }
}
