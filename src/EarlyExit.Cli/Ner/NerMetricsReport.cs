// The metrics the ner commands print and write as JSON (MetricsReport.ToJson: camelCase). Field names
// are stable: scripts and benchmarks read them. Add fields; never rename or remove one.
using System.Globalization;
using System.Text;
using EarlyExit.Cli.Output;

namespace EarlyExit.Cli.Ner;

/// <summary>Entity scores of one type (or of all).</summary>
/// <param name="Precision">Correct / predicted entities.</param>
/// <param name="Recall">Correct / gold entities.</param>
/// <param name="F1">Their harmonic mean.</param>
/// <param name="Gold">Gold entities.</param>
/// <param name="Predicted">Predicted entities.</param>
/// <param name="Correct">Predicted entities with the gold span and type.</param>
internal sealed record EntityTypeMetrics(double Precision, double Recall, double F1, long Gold, long Predicted, long Correct);

/// <summary>The metrics of one evaluation (ner evaluate, and the validation part of ner train).</summary>
internal sealed record NerEvaluationMetrics : EvaluationSummary
{
    /// <summary>Sentences evaluated.</summary>
    public required int Sentences { get; init; }

    /// <summary>Words evaluated.</summary>
    public required long Words { get; init; }

    /// <summary>The model's tag scheme; the gold tags are converted to it.</summary>
    public required string Scheme { get; init; }

    /// <summary>The data file's tag scheme (given with --scheme or detected).</summary>
    public required string FileScheme { get; init; }

    /// <summary>Micro-averaged entity precision (conlleval's).</summary>
    public required double Precision { get; init; }

    /// <summary>Micro-averaged entity recall.</summary>
    public required double Recall { get; init; }

    /// <summary>Micro-averaged entity F1, the figure CoNLL-2003 reports.</summary>
    public required double F1 { get; init; }

    /// <summary>The unweighted mean of the per-type F1 scores.</summary>
    public required double MacroF1 { get; init; }

    /// <summary>Fraction of words whose tag is right.</summary>
    public required double TokenAccuracy { get; init; }

    /// <summary>Gold entities.</summary>
    public required long GoldEntities { get; init; }

    /// <summary>Predicted entities.</summary>
    public required long PredictedEntities { get; init; }

    /// <summary>Correct entities.</summary>
    public required long CorrectEntities { get; init; }

    /// <summary>Scores per entity type.</summary>
    public required IReadOnlyDictionary<string, EntityTypeMetrics> PerType { get; init; }

    /// <summary>The mean 1-based exit layer over every word.</summary>
    public required double MeanTokenExitLayer { get; init; }

    /// <summary>L · words / Σ word exit layers: how many times fewer token-layers ran than at full depth.</summary>
    public required double TokenLayerSpeedup { get; init; }

    /// <summary>Sentences labelled per second of labelling wall-clock time (reading files and loading the model excluded).</summary>
    public required double SentencesPerSecond { get; init; }

    /// <summary>Words labelled per second of labelling wall-clock time.</summary>
    public required double WordsPerSecond { get; init; }

    /// <summary>Words that stopped at each layer: index 0 is layer 1.</summary>
    public required IReadOnlyList<long> ExitLayerHistogram { get; init; }

    /// <summary>The model's tags, in key order.</summary>
    public required IReadOnlyList<string> Tags { get; init; }

    /// <summary>What conlleval.pl prints for the same gold and predicted tags.</summary>
    public required string ConllevalReport { get; init; }
}

/// <summary>One epoch of ner training.</summary>
/// <param name="Epoch">1-based.</param>
/// <param name="SelfSampling">Whether the epoch trained with self-sampled halting (the second stage).</param>
/// <param name="MeanLoss">The mean training loss.</param>
/// <param name="ValidationF1">Entity F1 on --valid after the epoch, or null without it.</param>
internal sealed record NerEpochMetrics(int Epoch, bool SelfSampling, double MeanLoss, double? ValidationF1);

/// <summary>What ner train did.</summary>
internal sealed record NerTrainingMetrics : TrainingSummary
{
    /// <summary>Training sentences used (after --max-train-sentences).</summary>
    public required int TrainingSentences { get; init; }

    /// <summary>The training file's tag scheme (given or detected).</summary>
    public required string FileScheme { get; init; }

    /// <summary>The scheme the model was trained on.</summary>
    public required string Scheme { get; init; }

    /// <summary>Validation sentences, or null.</summary>
    public required int? ValidationSentences { get; init; }

    /// <summary>The model's tags, in key order.</summary>
    public required IReadOnlyList<string> Tags { get; init; }

    /// <summary>Self-sampling epochs planned (--self-sampling-epochs).</summary>
    public required int SelfSamplingEpochs { get; init; }

    /// <summary>Every epoch run.</summary>
    public required IReadOnlyList<NerEpochMetrics> EpochHistory { get; init; }

    /// <summary>The saved model's metrics on --valid, or null without it.</summary>
    public required NerEvaluationMetrics? Validation { get; init; }
}

/// <summary>The text form of the ner metrics.</summary>
internal static class NerMetricsReport
{
    /// <summary>The evaluation as aligned lines, then conlleval's report.</summary>
    public static string ToText(NerEvaluationMetrics m)
    {
        var text = new StringBuilder();
        void Line(string name, string value) => text.Append(CultureInfo.InvariantCulture, $"  {name,-22}{value}\n");
        Line("sentences", $"{N(m.Sentences)} ({N(m.Words)} words)");
        Line("exit criterion", m.ExitCriterion);
        Line("tag scheme", m.FileScheme == m.Scheme ? m.Scheme : $"{m.Scheme} (the file's {m.FileScheme} tags converted)");
        Line("entity F1 (micro)", $"{F(m.F1)}  precision {F(m.Precision)}  recall {F(m.Recall)}  ({N(m.CorrectEntities)} of {N(m.GoldEntities)} entities found, {N(m.PredictedEntities)} predicted)");
        foreach ((string type, EntityTypeMetrics t) in m.PerType)
        {
            Line($"  {type}", $"{F(t.F1)}  precision {F(t.Precision)}  recall {F(t.Recall)}  ({N(t.Correct)} of {N(t.Gold)}, {N(t.Predicted)} predicted)");
        }

        Line("entity F1 (macro)", F(m.MacroF1));
        Line("token accuracy", F(m.TokenAccuracy));
        Line("mean word exit layer", $"{m.MeanTokenExitLayer.ToString("0.00", CultureInfo.InvariantCulture)} of {m.Layers}");
        Line("token-layer speed-up", $"{m.TokenLayerSpeedup.ToString("0.00", CultureInfo.InvariantCulture)}x");
        Line("sentences/s", $"{m.SentencesPerSecond.ToString("0.0", CultureInfo.InvariantCulture)} ({m.WordsPerSecond.ToString("0", CultureInfo.InvariantCulture)} words/s, " +
            $"{m.ScoringSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s of labelling, batch {m.BatchSize})");
        text.Append("  word exit layers:\n");
        long words = Math.Max(1, m.ExitLayerHistogram.Sum());
        long most = Math.Max(1, m.ExitLayerHistogram.Max());
        for (int layer = 1; layer <= m.ExitLayerHistogram.Count; layer++)
        {
            long count = m.ExitLayerHistogram[layer - 1];
            string bar = new('#', (int)Math.Round(40.0 * count / most));
            text.Append(CultureInfo.InvariantCulture, $"    {layer,3} {count,9:N0} {100.0 * count / words,5:0.0}% {bar}\n");
        }

        text.Append("  conlleval:\n");
        foreach (string line in m.ConllevalReport.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            text.Append("    ").Append(line).Append('\n');
        }

        return text.ToString();
    }

    private static string F(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
