using EarlyExit.Evaluation;

namespace EarlyExit.MLNet.Palbert;

public sealed partial class PalbertTextClassificationTrainer
{
    /// <summary>
    /// Everything <see cref="PalbertTextClassificationTrainer"/> can be told: the options both PALBERT
    /// trainers share (<see cref="PalbertOptionsBase"/>) plus the predicted-label column and the
    /// validation metric.
    /// </summary>
    public sealed class Options : PalbertOptionsBase
    {
        /// <summary>The output column of the predicted label (key, with the label's key values).</summary>
        /// <value>The default value is "PredictedLabel".</value>
        public string PredictedLabelColumnName { get; set; } = DefaultColumnNames.PredictedLabel;

        /// <summary>The validation metric best-epoch selection and early stopping maximise.</summary>
        /// <value>The default value is <see cref="ClassificationMetric.Accuracy"/>.</value>
        public ClassificationMetric ValidationMetric { get; set; } = ClassificationMetric.Accuracy;

        /// <summary>
        /// The label value whose F1 <see cref="ClassificationMetric.F1"/> means, or null for "1", else "true", else
        /// the second value in ordinal order. Chosen by value: ML.NET numbers keys by first occurrence, so
        /// position would depend on the order of the training rows.
        /// </summary>
        /// <value>The default value is null.</value>
        public string? PositiveLabel { get; set; }

        /// <inheritdoc />
        internal override ClassificationMetric TrainingValidationMetric => ValidationMetric;

        /// <inheritdoc />
        internal override int PositiveClassOf(IReadOnlyList<string> classNames) => PositiveClass.Resolve(classNames, PositiveLabel);

        /// <inheritdoc />
        internal override string? PredictedLabelOutput => PredictedLabelColumnName;

        /// <inheritdoc />
        internal override IEnumerable<string> OutputColumnNames() => base.OutputColumnNames().Prepend(PredictedLabelColumnName);

        /// <inheritdoc />
        internal override int TaskOutputs => 2;

        /// <inheritdoc />
        internal override IEnumerable<string> TaskProblems()
        {
            if (!Enum.IsDefined(ValidationMetric))
            {
                yield return $"ValidationMetric is {ValidationMetric}; use Accuracy, MacroF1, F1 or MatthewsCorrelation.";
            }
        }
    }

    /// <summary>The column names ML.NET's multiclass trainers use, plus ours.</summary>
    public static class DefaultColumnNames
    {
        /// <summary>"Label".</summary>
        public const string Label = "Label";

        /// <summary>"Sentence1" (as ML.NET's TorchSharp text classifier).</summary>
        public const string Sentence1 = "Sentence1";

        /// <summary>"PredictedLabel".</summary>
        public const string PredictedLabel = "PredictedLabel";

        /// <summary>"Score".</summary>
        public const string Score = "Score";

        /// <summary>"ExitLayer".</summary>
        public const string ExitLayer = "ExitLayer";

        /// <summary>"HaltingDistribution".</summary>
        public const string HaltingDistribution = "HaltingDistribution";
    }
}
