// A sweep of a fitted Palbert transformer: read the texts and label keys of an IDataView, record every
// layer once (ClassificationRecord), replay every criterion of the grid and the oracles, then time a
// real early-exit pass for full depth and the Pareto front.
using System.Diagnostics;
using EarlyExit.Evaluation;
using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.MLNet.Palbert;
using EarlyExit.MLNet.Schema;
using EarlyExit.Sweeps;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EarlyExit.MLNet.Sweeps;

/// <summary>Sweeps of <see cref="PalbertTransformer"/>s.</summary>
internal static class PalbertSweep
{
    /// <summary>The metric names of a classifier sweep, as DataFrame columns.</summary>
    public static string Name(ClassificationMetric metric) => metric switch
    {
        ClassificationMetric.Accuracy => "accuracy",
        ClassificationMetric.MacroF1 => "macro-f1",
        ClassificationMetric.F1 => "f1",
        ClassificationMetric.MatthewsCorrelation => "mcc",
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, null),
    };

    public static ExitSweep Run(PalbertTransformer palbert, IDataView data, IReadOnlyList<ExitCriterion>? grid, ClassificationMetric metric, string labelColumnName, bool measureSpeed, string? positiveLabel)
    {
        ArgumentNullException.ThrowIfNull(data);
        int positive = PositiveClass.Resolve(palbert.ClassNames, positiveLabel);
        EarlyExitTextClassifier classifier = palbert.Classifier;
        int layers = classifier.NumLayers;
        int classes = palbert.ClassNames.Count;
        IReadOnlyList<ExitCriterion> settings = WithFullDepth(grid ?? ExitGrid.Default(layers, palbert.HasHaltingHead));
        foreach (ExitCriterion criterion in settings)
        {
            try
            {
                classifier.EnsureSupported(criterion);
            }
            catch (InvalidOperationException e)
            {
                throw new ArgumentException($"The sweep grid holds '{criterion.Name}', which this model cannot serve: {e.Message}", nameof(grid), e);
            }
        }

        (string[] texts, string[]? pairs, int[] labels) = Read(palbert, data, labelColumnName, classes);
        if (texts.Length == 0)
        {
            throw new ArgumentException("The data to sweep has no rows.", nameof(data));
        }

        int batch = palbert.Columns.BatchSize;
        var clock = Stopwatch.StartNew();
        ClassificationRecord record = classifier.Record(texts, pairs, batch);
        double recordSeconds = clock.Elapsed.TotalSeconds;

        clock.Restart();
        // Replays only read the record, so the settings run in parallel.
        var replayed = new SweepCandidate[settings.Count];
        Parallel.For(0, settings.Count, i =>
        {
            ClassificationPrediction[] predictions = record.Replay(settings[i]);
            replayed[i] = Candidate(settings[i].Name, predictions.Select(p => p.PredictedClass).ToArray(), predictions.Select(p => p.ExitLayer).ToArray(), labels, palbert.ClassNames, layers, positive);
        });
        var candidates = replayed.ToList();
        double replaySeconds = clock.Elapsed.TotalSeconds;
        (int[] agreeExits, int[] agreePredicted) = record.Oracle();
        (int[] correctExits, int[] correctPredicted) = record.Oracle(labels);
        candidates.Add(Candidate("oracle:agree", agreePredicted, agreeExits, labels, palbert.ClassNames, layers, positive));
        candidates.Add(Candidate("oracle:correct", correctPredicted, correctExits, labels, palbert.ClassNames, layers, positive));

        MeasuredPass Measure(string criterion)
        {
            var watch = Stopwatch.StartNew();
            ClassificationPrediction[] predictions = palbert.Predict(texts, pairs, ExitCriterion.Parse(criterion), batch); // timed on the transformer's backend
            double seconds = watch.Elapsed.TotalSeconds;
            SweepCandidate real = Candidate(criterion, predictions.Select(p => p.PredictedClass).ToArray(), predictions.Select(p => p.ExitLayer).ToArray(), labels, palbert.ClassNames, layers, positive);
            return new MeasuredPass(seconds, real.Metrics, real.MeanExitLayer);
        }

        return ExitSweep.Create(Name(metric), layers, texts.Length, candidates, measureSpeed ? Measure : null, recordSeconds, replaySeconds);
    }

    private static IReadOnlyList<ExitCriterion> WithFullDepth(IEnumerable<ExitCriterion> grid)
    {
        List<ExitCriterion> settings = grid.DistinctBy(c => c.Name).ToList();
        if (settings.Count == 0)
        {
            throw new ArgumentException("The sweep grid is empty; leave it null for the default grid.", nameof(grid));
        }

        return settings.Any(c => c.Name == "full") ? settings : [ExitCriterion.Full(), .. settings];
    }

    private static SweepCandidate Candidate(string criterion, int[] predicted, int[] exits, int[] labels, IReadOnlyList<string> classNames, int layers, int positive)
    {
        ClassificationMetrics m = ClassificationMetrics.Compute(predicted, labels, exits, classNames.Count, layers, positive);
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [Name(ClassificationMetric.Accuracy)] = m.Accuracy,
            [Name(ClassificationMetric.MacroF1)] = m.MacroF1,
            [Name(ClassificationMetric.F1)] = m.F1,
            [Name(ClassificationMetric.MatthewsCorrelation)] = m.MatthewsCorrelation,
        };
        IReadOnlyDictionary<string, double> byClass = SweepCandidate.MeansByGroup(labels.Select((l, i) => (classNames[l], exits[i])).OrderBy(p => p.Item1, StringComparer.Ordinal));
        return new SweepCandidate(criterion, Estimated: false, metrics, m.MeanExitLayer, m.ExitLayerHistogram.Select(c => (long)c).ToArray(), byClass);
    }

    // The texts (and pairs) and 0-based labels of every row; a missing label (key 0) names the row.
    private static (string[] Texts, string[]? Pairs, int[] Labels) Read(PalbertTransformer palbert, IDataView data, string labelColumnName, int classes)
    {
        DataViewSchema.Column text1 = InputColumns.RequireText(data.Schema, palbert.Columns.Sentence1, "Sentence1ColumnName", "data to sweep");
        DataViewSchema.Column? text2 = palbert.Columns.Sentence2 is string second ? InputColumns.RequireText(data.Schema, second, "Sentence2ColumnName", "data to sweep") : null;
        DataViewSchema.Column label = InputColumns.Require(data.Schema, labelColumnName, nameof(labelColumnName), "data to sweep");
        if (label.Type is not KeyDataViewType key || key.RawType != typeof(uint) || key.Count != (ulong)classes)
        {
            throw new ArgumentOutOfRangeException(nameof(labelColumnName),
                $"Column '{labelColumnName}' must be Key<UInt32> with the model's {classes} classes, found {label.Type}; apply the same MapValueToKey as in training (the fitted pipeline's first stage).");
        }

        var texts = new List<string>();
        var pairs = text2 is null ? null : new List<string>();
        var labels = new List<int>();
        using DataViewRowCursor cursor = data.GetRowCursor(text2 is DataViewSchema.Column c2 ? [text1, c2, label] : [text1, label]);
        ValueGetter<ReadOnlyMemory<char>> getText1 = cursor.GetGetter<ReadOnlyMemory<char>>(text1);
        ValueGetter<ReadOnlyMemory<char>>? getText2 = text2 is DataViewSchema.Column c ? cursor.GetGetter<ReadOnlyMemory<char>>(c) : null;
        ValueGetter<uint> getLabel = cursor.GetGetter<uint>(label);
        ReadOnlyMemory<char> a = default;
        ReadOnlyMemory<char> b = default;
        uint k = 0;
        while (cursor.MoveNext())
        {
            getLabel(ref k);
            if (k == 0)
            {
                throw new ArgumentException(
                    $"Row {cursor.Position} has a missing label in '{labelColumnName}' (key 0: a value the label mapping never saw in training); a sweep measures every row against its label, so remove or fix that row.");
            }

            getText1(ref a);
            texts.Add(a.ToString());
            if (getText2 is not null)
            {
                getText2(ref b);
                pairs!.Add(b.ToString());
            }

            labels.Add(KeyIndex.ToIndex(k)!.Value); // key 0 was refused above
        }

        return (texts.ToArray(), pairs?.ToArray(), labels.ToArray());
    }
}
