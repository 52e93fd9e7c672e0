// The ML.NET trainer of early-exit text classifiers (PALBERT and its baselines). Fit is shared with
// the regression trainer (PalbertFitting.cs); what is the classifier's own is its key-typed label
// (ClassLabel below) and its output schema.
using EarlyExit.MLNet.Schema;
using EarlyExit.Tokenization;
using EarlyExit.Training;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace EarlyExit.MLNet.Palbert;

/// <summary>
/// Trains an early-exit text classifier on a transformer backbone (ALBERT, BERT, ELECTRA, RoBERTa):
/// PALBERT (halting heads, Q-exit) by default, or PonderNet, PABEE, DeeBERT-style and fixed-depth
/// baselines through <see cref="Options"/>. Create it with
/// <c>mlContext.MulticlassClassification.Trainers.Palbert(...)</c>.
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>Column</term><description>Type and role</description></listheader>
/// <item><term>Label (input)</term><description>Key&lt;UInt32&gt;: put <c>Transforms.Conversion.MapValueToKey</c> before the trainer. Rows with a missing label (key 0) are skipped, with one warning that counts them.</description></item>
/// <item><term>Sentence1, Sentence2 (input)</term><description>String; the second only for sentence-pair tasks.</description></item>
/// <item><term>PredictedLabel (output)</term><description>Key&lt;UInt32&gt; with the label's key values.</description></item>
/// <item><term>Score (output)</term><description>Vector&lt;Single&gt; of class probabilities at the exit layer.</description></item>
/// <item><term>ExitLayer (output)</term><description>Int32, the 1-based layer each row exited at.</description></item>
/// <item><term>HaltingDistribution (output)</term><description>Vector&lt;Single&gt; of L halting probabilities (models with a halting head).</description></item>
/// </list>
/// </remarks>
public sealed partial class PalbertTextClassificationTrainer : EarlyExitTrainer<PalbertTextClassificationTrainer.Options, PalbertTransformer>
{
    /// <summary>Creates the trainer; every option is checked now and all problems are reported together.</summary>
    /// <exception cref="ArgumentException">Some options are invalid; the message lists each.</exception>
    internal PalbertTextClassificationTrainer(IHostEnvironment env, Options options)
        : base(env, options, "Palbert", "Palbert")
    {
    }

    /// <summary>Trains on <paramref name="trainData"/>, selecting the best epoch (and stopping early, if set) on <paramref name="validationData"/>.</summary>
    /// <param name="trainData">The training rows.</param>
    /// <param name="validationData">Validation rows with the same columns, or null (then <see cref="Options.ValidationFraction"/> applies).</param>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or of the wrong type; the message names it and the fix.</exception>
    /// <exception cref="ArgumentException">The data has fewer than two classes, or early stopping has no validation data.</exception>
    public override PalbertTransformer Fit(IDataView trainData, IDataView? validationData) =>
        PalbertFitting.Fit(Env, Host, TrainerOptions, ClassLabel.Instance, trainData, validationData);

    /// <summary>The input schema plus PredictedLabel, Score, ExitLayer and (with a halting head) HaltingDistribution.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or of the wrong type; the message names it and the fix.</exception>
    public override SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaShape.Column label = InputColumns.RequireShape(inputSchema, TrainerOptions.LabelColumnName, "LabelColumnName");
        // The same rule as Fit's (ClassLabel.Require): a scalar Key<UInt32>, as MapValueToKey makes.
        if (!label.IsKey || label.ItemType != NumberDataViewType.UInt32 || label.Kind != SchemaShape.Column.VectorKind.Scalar)
        {
            string found = label.IsKey ? $"Key<{label.ItemType.RawType.Name}>" : label.ItemType.ToString() ?? "?";
            throw ClassLabel.NotKey(TrainerOptions.LabelColumnName, label.Kind == SchemaShape.Column.VectorKind.Scalar ? found : $"a vector of {found}");
        }

        return PalbertFitting.OutputSchema(inputSchema, TrainerOptions,
            [OutputSchemaShapes.PredictedLabel(label, TrainerOptions.PredictedLabelColumnName), OutputSchemaShapes.Score(label, TrainerOptions.ScoreColumnName)]);
    }

    /// <summary>A key-typed label: one 0-based class per row (key - 1); key 0 is a missing label.</summary>
    private sealed class ClassLabel : PalbertLabel<int>
    {
        public static readonly ClassLabel Instance = new();

        public override string MissingDescription => "key 0, e.g. a value MapValueToKey never saw";

        public static ArgumentOutOfRangeException NotKey(string name, string? found) => new(
            "LabelColumnName",
            $"Column '{name}' must be Key<UInt32>, found {found}; add mlContext.Transforms.Conversion.MapValueToKey(\"{name}\") before Palbert (and MapKeyToValue(\"PredictedLabel\") after it).");

        public override DataViewSchema.Column Require(DataViewSchema schema, string name, string what)
        {
            DataViewSchema.Column label = InputColumns.Require(schema, name, "LabelColumnName", what);
            return label.Type is KeyDataViewType key && key.RawType == typeof(uint) ? label : throw NotKey(name, label.Type.ToString());
        }

        public override LabelKeyValues KeyValues(DataViewSchema.Column label)
        {
            int classes = (int)((KeyDataViewType)label.Type).Count;
            LabelKeyValues values = LabelKeyValues.FromColumn(label, classes);
            return classes >= 2 ? values : throw OneClass(label.Name, values.Values.FirstOrDefault() ?? "?", "its key has a single value");
        }

        public override IReadOnlyList<string> OutputNames(DataViewSchema.Column label, LabelKeyValues? keyValues) => keyValues!.Values;

        public override Func<int?> Reader(DataViewRowCursor cursor, DataViewSchema.Column label)
        {
            ValueGetter<uint> getter = cursor.GetGetter<uint>(label);
            uint key = 0;
            return () =>
            {
                getter(ref key);
                return KeyIndex.ToIndex(key);
            };
        }

        public override void CheckTraining(IReadOnlyList<int> labels, IReadOnlyList<string> outputNames, string column)
        {
            int[] seen = labels.Distinct().Order().ToArray();
            if (seen.Length < 2)
            {
                throw OneClass(column, outputNames[seen[0]], $"all {labels.Count} rows");
            }
        }

        public override TrainingReport Train(EarlyExitTextClassifier classifier, IReadOnlyList<(TokenizedInput Input, int Label)> training,
            IReadOnlyList<(TokenizedInput Input, int Label)>? validation, ClassifierTrainingOptions options, IProgress<TrainingProgress> progress, CancellationToken cancellationToken) =>
            ClassifierTrainer.Train(classifier.Model, training.Select(r => new ClassificationExample(r.Input, r.Label)).ToList(),
                validation?.Select(r => new ClassificationExample(r.Input, r.Label)).ToList(), options, classifier.PadTokenId, progress, cancellationToken);

        private static ArgumentException OneClass(string column, string value, string detail) => new(
            $"Column '{column}' has only one class in the training data ('{value}': {detail}); a classifier needs rows of at least two classes.");
    }
}
