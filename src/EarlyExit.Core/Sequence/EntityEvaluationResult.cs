using System.Globalization;
using System.Text;

namespace EarlyExit.Sequence;

/// <summary>Entity counts and scores for one entity type, or for all types together (micro average).</summary>
/// <param name="Gold">Entities in the gold tags.</param>
/// <param name="Predicted">Entities in the predicted tags.</param>
/// <param name="Correct">Predicted entities with exactly a gold entity's tokens and type.</param>
public sealed record EntityScores(long Gold, long Predicted, long Correct)
{
    /// <summary>Correct / Predicted, as a fraction; 0 when nothing was predicted.</summary>
    public double Precision => Predicted == 0 ? 0 : (double)Correct / Predicted;

    /// <summary>Correct / Gold, as a fraction; 0 when there is no gold entity.</summary>
    public double Recall => Gold == 0 ? 0 : (double)Correct / Gold;

    /// <summary>The harmonic mean of precision and recall, 2·Correct / (Gold + Predicted), as a fraction; 0 when both are 0.</summary>
    public double F1 => Gold + Predicted == 0 ? 0 : 2.0 * Correct / (Gold + Predicted);
}

/// <summary>
/// The result of an entity-level evaluation: token accuracy, entity counts and precision, recall and
/// F1 overall (micro-averaged over entities), per entity type, and macro-averaged over types.
/// Scores are fractions in [0, 1]; <see cref="ToConllevalReport"/> prints the percentages as conlleval.pl does.
/// </summary>
public sealed record EntityEvaluationResult
{
    /// <summary>The chunk rules the entities were read with.</summary>
    public required ChunkRules Rules { get; init; }

    /// <summary>The number of sentences.</summary>
    public required int SentenceCount { get; init; }

    /// <summary>The number of tokens.</summary>
    public required long TokenCount { get; init; }

    /// <summary>Tokens whose predicted tag equals the gold tag exactly (prefix and type).</summary>
    public required long CorrectTokenCount { get; init; }

    /// <summary>CorrectTokenCount / TokenCount, as a fraction; 0 without tokens.</summary>
    public double TokenAccuracy => TokenCount == 0 ? 0 : (double)CorrectTokenCount / TokenCount;

    /// <summary>Counts and scores over all entities (the micro average, conlleval's overall line).</summary>
    public required EntityScores Overall { get; init; }

    /// <summary>Counts and scores per entity type, for every type found in gold or prediction, keys in ordinal order.</summary>
    public required IReadOnlyDictionary<string, EntityScores> PerType { get; init; }

    /// <summary>The mean of the per-type precisions (0 without types).</summary>
    public double MacroPrecision => MacroMean(s => s.Precision);

    /// <summary>The mean of the per-type recalls (0 without types).</summary>
    public double MacroRecall => MacroMean(s => s.Recall);

    /// <summary>The mean of the per-type F1 scores (0 without types), as seqeval's "macro avg".</summary>
    public double MacroF1 => MacroMean(s => s.F1);

    /// <summary>
    /// The report conlleval.pl prints for the same data, byte for byte: the counts line, then accuracy,
    /// precision, recall and FB1 in percent with two decimals (the accuracy line only when there are
    /// tokens), then one line per type with the number of predicted entities. Lines end with '\n'.
    /// </summary>
    public string ToConllevalReport()
    {
        var report = new StringBuilder();
        report.Append(CultureInfo.InvariantCulture,
            $"processed {TokenCount} tokens with {Overall.Gold} phrases; found: {Overall.Predicted} phrases; correct: {Overall.Correct}.\n");
        if (TokenCount > 0)
        {
            (double precision, double recall, double f1) = ConllevalPercentages(Overall);
            report.Append("accuracy: ").Append(Fixed(100.0 * CorrectTokenCount / TokenCount)).Append("%; ");
            report.Append("precision: ").Append(Fixed(precision)).Append("%; ");
            report.Append("recall: ").Append(Fixed(recall)).Append("%; ");
            report.Append("FB1: ").Append(Fixed(f1)).Append('\n');
        }

        foreach ((string type, EntityScores scores) in PerType)
        {
            (double precision, double recall, double f1) = ConllevalPercentages(scores);

            // Perl pads "%17s" by bytes: the script reads its input undecoded.
            report.Append(' ', Math.Max(0, 17 - Encoding.UTF8.GetByteCount(type))).Append(type).Append(": ");
            report.Append("precision: ").Append(Fixed(precision)).Append("%; ");
            report.Append("recall: ").Append(Fixed(recall)).Append("%; ");
            report.Append("FB1: ").Append(Fixed(f1)).Append("  ").Append(scores.Predicted.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        return report.ToString();
    }

    /// <summary>A one-line summary: precision, recall and F1 in percent, and the token accuracy.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"precision {100 * Overall.Precision:F2}%, recall {100 * Overall.Recall:F2}%, F1 {100 * Overall.F1:F2} ({Overall.Correct} of {Overall.Gold} entities found, {Overall.Predicted} predicted), token accuracy {100 * TokenAccuracy:F2}%");

    /// <summary>
    /// Formats as C's <c>printf("%6.2f")</c>: the exact binary value rounded to two decimals, an exact
    /// tie to even (0.125 -> 0.12), right-aligned in six characters. .NET's "F2" rounds the same way
    /// (checked against Perl's printf on 550,000 ratios c/n and F1 values; a test pins the ties).
    /// </summary>
    internal static string Fixed(double value) => value.ToString("F2", CultureInfo.InvariantCulture).PadLeft(6);

    // conlleval.pl's arithmetic, in percent, in its order of operations, so that the printed
    // roundings agree to the last digit.
    private static (double Precision, double Recall, double F1) ConllevalPercentages(EntityScores scores)
    {
        double precision = scores.Predicted > 0 ? 100.0 * scores.Correct / scores.Predicted : 0.0;
        double recall = scores.Gold > 0 ? 100.0 * scores.Correct / scores.Gold : 0.0;
        double f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
        return (precision, recall, f1);
    }

    private double MacroMean(Func<EntityScores, double> score) => PerType.Count == 0 ? 0 : PerType.Values.Average(score);
}
