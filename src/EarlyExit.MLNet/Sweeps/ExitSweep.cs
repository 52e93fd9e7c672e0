// The result of a threshold sweep, shared by both transformers: one row per exit setting with the task
// metric(s), mean exit layer and layer speed-up (replayed from one recorded full-depth pass, see
// Core/Sweeps), the Pareto front of metric against speed-up, measured throughput of a real early-exit
// pass for the settings on the front (and full depth), the oracle bounds, and selection under a
// constraint. ToDataFrame gives it as a Microsoft.Data.Analysis DataFrame.
using System.Globalization;
using EarlyExit.Sweeps;
using Microsoft.Data.Analysis;

namespace EarlyExit.MLNet.Sweeps;

/// <summary>One exit setting of a sweep and how it does.</summary>
public sealed record SweepSetting
{
    /// <summary>The criterion's canonical text, e.g. <c>qexit:0.5</c> or <c>tokee:0.3:5</c>; <c>oracle:agree</c> and <c>oracle:correct</c> for the bounds.</summary>
    public required string Criterion { get; init; }

    /// <summary>The criterion's kind: the text before the first ':' (qexit, patience, sentee, oracle, ...).</summary>
    public string Kind => Criterion.Split(':')[0];

    /// <summary>The criterion's parameters: the text after the kind (e.g. <c>0.3:5</c> of <c>tokee:0.3:5</c>), empty for none.</summary>
    public string Parameters => Criterion.Contains(':', StringComparison.Ordinal) ? Criterion[(Criterion.IndexOf(':', StringComparison.Ordinal) + 1)..] : string.Empty;

    /// <summary>Whether this is an oracle bound rather than a criterion one can deploy.</summary>
    public bool IsOracle => Kind == "oracle";

    /// <summary>The sweep's metric (e.g. accuracy, entity F1) from the replay.</summary>
    public required double Metric { get; init; }

    /// <summary>Every metric of the replay, by name.</summary>
    public required IReadOnlyDictionary<string, double> Metrics { get; init; }

    /// <summary>The mean 1-based exit layer (per row for classifiers, per word for token-level exit).</summary>
    public required double MeanExitLayer { get; init; }

    /// <summary>L / mean exit layer.</summary>
    public required double LayerSpeedup { get; init; }

    /// <summary>How many rows (words) exited at each layer; index 0 is layer 1.</summary>
    public required IReadOnlyList<long> ExitLayerHistogram { get; init; }

    /// <summary>The mean exit layer of each group: true class for a classifier, gold entity type (and O) for NER.</summary>
    public required IReadOnlyDictionary<string, double> MeanExitLayerByGroup { get; init; }

    /// <summary>Whether the replayed figures are estimates (TOKEE: a real pass copies halted tokens upward).</summary>
    public required bool Estimated { get; init; }

    /// <summary>Whether no other (non-oracle) setting is at least as good in metric and speed-up and better in one.</summary>
    public bool OnParetoFront { get; init; }

    /// <summary>Rows per second of a real early-exit pass with this setting (measured for the front and full depth), else null.</summary>
    public double? RowsPerSecond { get; init; }

    /// <summary>The metric of that real pass, else null. Equal to <see cref="Metric"/> unless <see cref="Estimated"/>.</summary>
    public double? MeasuredMetric { get; init; }

    /// <summary>The layer speed-up of that real pass, else null.</summary>
    public double? MeasuredLayerSpeedup { get; init; }

    /// <summary>The metric selection uses: the measured one when there is one.</summary>
    public double EffectiveMetric => MeasuredMetric ?? Metric;

    /// <summary>The speed-up selection uses: the measured one when there is one.</summary>
    public double EffectiveSpeedup => MeasuredLayerSpeedup ?? LayerSpeedup;

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Criterion}: metric {EffectiveMetric:0.0000}, {EffectiveSpeedup:0.00}x fewer layers{(RowsPerSecond is double r ? $", {r:0.0} rows/s" : "")}");
}

/// <summary>What a sweep cost.</summary>
/// <param name="RecordSeconds">The one full-depth pass that recorded every layer.</param>
/// <param name="ReplaySeconds">Replaying every setting on the record.</param>
/// <param name="FullDepthSeconds">A plain full-depth scoring pass of the same data, for comparison.</param>
/// <param name="Settings">How many settings were replayed.</param>
public sealed record SweepTimings(double RecordSeconds, double ReplaySeconds, double FullDepthSeconds, int Settings)
{
    /// <summary>(record + replays) / one full-depth pass: what the whole sweep cost in full-depth passes.</summary>
    public double CostRatio => FullDepthSeconds > 0 ? (RecordSeconds + ReplaySeconds) / FullDepthSeconds : double.NaN;
}

/// <summary>A threshold sweep: every setting's metric and speed, the Pareto front, the oracle bounds and selection.</summary>
public sealed class ExitSweep
{
    internal ExitSweep(string metricName, int layers, long rows, IReadOnlyList<SweepSetting> settings, SweepTimings timings)
    {
        MetricName = metricName;
        Layers = layers;
        Rows = rows;
        Settings = settings;
        Timings = timings;
    }

    /// <summary>The metric the front and selection use, e.g. accuracy or entity-f1.</summary>
    public string MetricName { get; }

    /// <summary>L.</summary>
    public int Layers { get; }

    /// <summary>Rows (sentences) swept.</summary>
    public long Rows { get; }

    /// <summary>Every setting, in grid order, then the oracle bounds.</summary>
    public IReadOnlyList<SweepSetting> Settings { get; }

    /// <summary>What the sweep cost.</summary>
    public SweepTimings Timings { get; }

    /// <summary>Full depth (always part of a sweep).</summary>
    public SweepSetting FullDepth => Settings.First(s => s.Criterion == "full");

    /// <summary>The settings on the Pareto front, by increasing speed-up.</summary>
    public IReadOnlyList<SweepSetting> ParetoFront => Settings.Where(s => s.OnParetoFront).OrderBy(s => s.LayerSpeedup).ToArray();

    /// <summary>
    /// The fastest deployable setting whose metric is at most <paramref name="maxDrop"/> below full depth's
    /// (absolute, or a fraction of it), or null when none is. Measured figures are used where there are
    /// some; estimated settings (TOKEE) count only once a real pass confirmed them (those on the front,
    /// when the sweep measured speed).
    /// </summary>
    public SweepSetting? FastestWithin(double maxDrop, MetricDrop drop = MetricDrop.Absolute)
    {
        SweepSetting[] candidates = Deployable();
        int best = TradeOff.FastestWithin(candidates.Select(s => (s.EffectiveMetric, s.EffectiveSpeedup)).ToArray(), FullDepth.EffectiveMetric, maxDrop, drop);
        return best < 0 ? null : candidates[best];
    }

    /// <summary>The most accurate deployable setting with a layer speed-up of at least <paramref name="minSpeedup"/>, or null when none reaches it.</summary>
    public SweepSetting? MostAccurateAt(double minSpeedup)
    {
        SweepSetting[] candidates = Deployable();
        int best = TradeOff.MostAccurateAt(candidates.Select(s => (s.EffectiveMetric, s.EffectiveSpeedup)).ToArray(), minSpeedup);
        return best < 0 ? null : candidates[best];
    }

    /// <summary>
    /// The sweep as a DataFrame: Criterion, Kind, Parameters, one column per metric, MeanExitLayer, LayerSpeedup,
    /// ParetoFront, Estimated, RowsPerSecond, MeasuredMetric and MeasuredLayerSpeedup (null where not measured).
    /// </summary>
    public DataFrame ToDataFrame()
    {
        string[] metricNames = Settings.SelectMany(s => s.Metrics.Keys).Distinct().ToArray();
        var columns = new List<DataFrameColumn>
        {
            new StringDataFrameColumn("Criterion", Settings.Select(s => s.Criterion)),
            new StringDataFrameColumn("Kind", Settings.Select(s => s.Kind)),
            new StringDataFrameColumn("Parameters", Settings.Select(s => s.Parameters)),
        };
        columns.AddRange(metricNames.Select(m => new DoubleDataFrameColumn(m, Settings.Select(s => s.Metrics.TryGetValue(m, out double v) ? v : (double?)null))));
        columns.Add(new DoubleDataFrameColumn("MeanExitLayer", Settings.Select(s => s.MeanExitLayer)));
        columns.Add(new DoubleDataFrameColumn("LayerSpeedup", Settings.Select(s => s.LayerSpeedup)));
        columns.Add(new BooleanDataFrameColumn("ParetoFront", Settings.Select(s => s.OnParetoFront)));
        columns.Add(new BooleanDataFrameColumn("Estimated", Settings.Select(s => s.Estimated)));
        columns.Add(new DoubleDataFrameColumn("RowsPerSecond", Settings.Select(s => s.RowsPerSecond)));
        columns.Add(new DoubleDataFrameColumn("MeasuredMetric", Settings.Select(s => s.MeasuredMetric)));
        columns.Add(new DoubleDataFrameColumn("MeasuredLayerSpeedup", Settings.Select(s => s.MeasuredLayerSpeedup)));
        return new DataFrame(columns);
    }

    /// <summary>
    /// Builds the sweep: speed-ups, the Pareto front over the deployable settings, then a real pass for
    /// full depth and every front setting (when <paramref name="measure"/> is given).
    /// </summary>
    internal static ExitSweep Create(string metricName, int layers, long rows, IReadOnlyList<SweepCandidate> candidates, Func<string, MeasuredPass>? measure,
        double recordSeconds, double replaySeconds)
    {
        SweepSetting[] settings = candidates.Select(c => new SweepSetting
        {
            Criterion = c.Criterion,
            Metric = c.Metrics[metricName],
            Metrics = c.Metrics,
            MeanExitLayer = c.MeanExitLayer,
            LayerSpeedup = c.MeanExitLayer > 0 ? layers / c.MeanExitLayer : double.NaN,
            ExitLayerHistogram = c.Histogram,
            MeanExitLayerByGroup = c.MeanExitLayerByGroup,
            Estimated = c.Estimated,
        }).ToArray();
        int[] deployable = Enumerable.Range(0, settings.Length).Where(i => !settings[i].IsOracle).ToArray();
        foreach (int i in TradeOff.ParetoFront(deployable.Select(i => (settings[i].Metric, settings[i].LayerSpeedup)).ToArray()))
        {
            settings[deployable[i]] = settings[deployable[i]] with { OnParetoFront = true };
        }

        double fullSeconds = double.NaN;
        if (measure is not null)
        {
            for (int i = 0; i < settings.Length; i++)
            {
                if (!settings[i].OnParetoFront && settings[i].Criterion != "full")
                {
                    continue;
                }

                MeasuredPass pass = measure(settings[i].Criterion);
                settings[i] = settings[i] with
                {
                    RowsPerSecond = pass.Seconds > 0 ? rows / pass.Seconds : null,
                    MeasuredMetric = pass.Metrics[metricName],
                    MeasuredLayerSpeedup = pass.MeanExitLayer > 0 ? layers / pass.MeanExitLayer : null,
                };
                if (settings[i].Criterion == "full")
                {
                    fullSeconds = pass.Seconds;
                }
            }
        }

        return new ExitSweep(metricName, layers, rows, settings, new SweepTimings(recordSeconds, replaySeconds, fullSeconds, deployable.Length));
    }

    // What selection may choose: real criteria whose figures are exact, or estimates confirmed by a real pass.
    private SweepSetting[] Deployable() => Settings.Where(s => !s.IsOracle && (!s.Estimated || s.MeasuredMetric is not null)).ToArray();
}

/// <summary>One replayed setting before the front and the measurements.</summary>
internal sealed record SweepCandidate(string Criterion, bool Estimated, IReadOnlyDictionary<string, double> Metrics, double MeanExitLayer, IReadOnlyList<long> Histogram,
    IReadOnlyDictionary<string, double> MeanExitLayerByGroup)
{
    /// <summary>The mean of <paramref name="exits"/> per group, groups in first-seen order.</summary>
    public static IReadOnlyDictionary<string, double> MeansByGroup(IEnumerable<(string Group, int Exit)> exits) =>
        exits.GroupBy(e => e.Group, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Average(e => (double)e.Exit), StringComparer.Ordinal);
}

/// <summary>A real early-exit pass with one setting: its wall-clock time, metrics and mean exit layer.</summary>
internal sealed record MeasuredPass(double Seconds, IReadOnlyDictionary<string, double> Metrics, double MeanExitLayer);
