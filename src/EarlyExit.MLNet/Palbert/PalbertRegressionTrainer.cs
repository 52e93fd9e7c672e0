// The ML.NET trainer of early-exit text regressors (GLUE STS-B): the PALBERT network with one output
// per exit, trained on squared errors. Fit is shared with the classifier (PalbertFitting.cs); what is
// the regressor's own is its Single label (TargetLabel below), its Score output (Single) and the exit
// criteria it refuses (those that read class probabilities: entropy, maxprob).
using EarlyExit.Evaluation;
using EarlyExit.MLNet.Schema;
using EarlyExit.Tokenization;
using EarlyExit.Training;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace EarlyExit.MLNet.Palbert;

/// <summary>
/// Trains an early-exit text regressor on a transformer backbone: PALBERT (halting heads, Q-exit) by
/// default, or PonderNet, PABEE and fixed-depth baselines through <see cref="Options"/>. Create it with
/// <c>mlContext.Regression.Trainers.Palbert(...)</c>; evaluate with <c>mlContext.Regression.Evaluate</c>.
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>Column</term><description>Type and role</description></listheader>
/// <item><term>Label (input)</term><description>Single: the value to predict (rows with NaN are skipped).</description></item>
/// <item><term>Sentence1, Sentence2 (input)</term><description>String; the second only for sentence-pair tasks.</description></item>
/// <item><term>Score (output)</term><description>Single, the predicted value at the exit layer (the halting-weighted mean for <c>expectation</c>).</description></item>
/// <item><term>ExitLayer (output)</term><description>Int32, the 1-based layer each row exited at.</description></item>
/// <item><term>HaltingDistribution (output)</term><description>Vector&lt;Single&gt; of L halting probabilities (models with a halting head).</description></item>
/// </list>
/// Exit criteria: <c>qexit:Q</c>, <c>sampled</c>, <c>expectation</c>, <c>patience:N:T</c> (PABEE for
/// regression: the value changed by less than T for N layers), <c>layer:K</c> and <c>full</c>.
/// Validation (best epoch, early stopping) maximises the mean of Pearson's and Spearman's correlation.
/// </remarks>
public sealed class PalbertRegressionTrainer : EarlyExitTrainer<PalbertRegressionTrainer.Options, PalbertTransformer>
{
    /// <summary>Creates the trainer; every option is checked now and all problems are reported together.</summary>
    /// <exception cref="ArgumentException">Some options are invalid; the message lists each.</exception>
    internal PalbertRegressionTrainer(IHostEnvironment env, Options options)
        : base(env, options, "PalbertRegression", "Palbert regression")
    {
    }

    /// <summary>Trains on <paramref name="trainData"/>, selecting the best epoch (and stopping early, if set) on <paramref name="validationData"/>.</summary>
    /// <param name="trainData">The training rows.</param>
    /// <param name="validationData">Validation rows with the same columns, or null (then <see cref="PalbertOptionsBase.ValidationFraction"/> applies).</param>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or of the wrong type; the message names it and the fix.</exception>
    /// <exception cref="ArgumentException">Every target is the same, or early stopping has no validation data.</exception>
    public override PalbertTransformer Fit(IDataView trainData, IDataView? validationData) =>
        PalbertFitting.Fit(Env, Host, TrainerOptions, TargetLabel.Instance, trainData, validationData);

    /// <summary>The input schema plus Score (Single), ExitLayer and (with a halting head) HaltingDistribution.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or of the wrong type; the message names it and the fix.</exception>
    public override SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaShape.Column label = InputColumns.RequireShape(inputSchema, TrainerOptions.LabelColumnName, "LabelColumnName");
        if (label.IsKey || label.ItemType != NumberDataViewType.Single || label.Kind != SchemaShape.Column.VectorKind.Scalar)
        {
            throw TargetLabel.NotSingle(TrainerOptions.LabelColumnName, label.IsKey ? $"Key<{label.ItemType}>" : label.ItemType.ToString());
        }

        return PalbertFitting.OutputSchema(inputSchema, TrainerOptions, [OutputSchemaShapes.RegressionScore(TrainerOptions.ScoreColumnName)]);
    }

    /// <summary>
    /// Everything <see cref="PalbertRegressionTrainer"/> can be told: the options both PALBERT trainers
    /// share (<see cref="PalbertOptionsBase"/>). Validation maximises the mean of Pearson's and
    /// Spearman's correlation; exit criteria that read class probabilities (entropy, maxprob) are refused.
    /// </summary>
    public sealed class Options : PalbertOptionsBase
    {
        /// <inheritdoc />
        internal override ClassificationMetric TrainingValidationMetric => ClassificationMetric.Accuracy; // not used: regression validates on Pearson and Spearman

        /// <inheritdoc />
        internal override int TaskOutputs => 1;

        /// <inheritdoc />
        internal override IEnumerable<string> TaskProblems() => []; // the criterion's fit to one output is checked with every task's options
    }

    /// <summary>A Single label: one target value per row; NaN is a missing label.</summary>
    private sealed class TargetLabel : PalbertLabel<float>
    {
        public static readonly TargetLabel Instance = new();

        public override string MissingDescription => "NaN";

        public static ArgumentOutOfRangeException NotSingle(string name, string? found) => new(
            "LabelColumnName",
            $"Column '{name}' must be Single (the value to predict), found {found}; load it as float, or convert it with mlContext.Transforms.Conversion.ConvertType(\"{name}\", outputKind: DataKind.Single).");

        public override DataViewSchema.Column Require(DataViewSchema schema, string name, string what)
        {
            DataViewSchema.Column label = InputColumns.Require(schema, name, "LabelColumnName", what);
            return label.Type == NumberDataViewType.Single ? label : throw NotSingle(name, label.Type.ToString());
        }

        public override LabelKeyValues? KeyValues(DataViewSchema.Column label) => null;

        public override IReadOnlyList<string> OutputNames(DataViewSchema.Column label, LabelKeyValues? keyValues) => [label.Name];

        public override Func<float?> Reader(DataViewRowCursor cursor, DataViewSchema.Column label)
        {
            ValueGetter<float> getter = cursor.GetGetter<float>(label);
            float value = 0;
            return () =>
            {
                getter(ref value);
                return float.IsNaN(value) ? null : value;
            };
        }

        public override void CheckTraining(IReadOnlyList<float> labels, IReadOnlyList<string> outputNames, string column)
        {
            if (labels.FirstOrDefault(v => !float.IsFinite(v), 0f) is float infinite && !float.IsFinite(infinite))
            {
                throw new ArgumentException($"Column '{column}' holds {infinite} in the training data; targets must be finite numbers.");
            }

            if (labels.Distinct().Count() < 2)
            {
                throw new ArgumentException($"Column '{column}' has the same value ({labels[0]}) in all {labels.Count} training rows; a regressor needs targets that vary.");
            }
        }

        public override TrainingReport Train(EarlyExitTextClassifier classifier, IReadOnlyList<(TokenizedInput Input, float Label)> training,
            IReadOnlyList<(TokenizedInput Input, float Label)>? validation, ClassifierTrainingOptions options, IProgress<TrainingProgress> progress, CancellationToken cancellationToken) =>
            ClassifierTrainer.Train(classifier.Model, training.Select(r => new RegressionExample(r.Input, r.Label)).ToList(),
                validation?.Select(r => new RegressionExample(r.Input, r.Label)).ToList(), options, classifier.PadTokenId, progress, cancellationToken);
    }
}
