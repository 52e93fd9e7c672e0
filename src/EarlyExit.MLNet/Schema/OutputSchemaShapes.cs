using EarlyExit.MLNet.Interop;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EarlyExit.MLNet.Schema;

/// <summary>
/// The <see cref="SchemaShape.Column"/>s an early-exit estimator declares in
/// <see cref="IEstimator{TTransformer}.GetOutputSchema"/>: the same Score and PredictedLabel shapes as
/// ML.NET's own multiclass and regression trainers (so Evaluate and MapKeyToValue accept them), plus ExitLayer.
/// </summary>
internal static class OutputSchemaShapes
{
    /// <summary>Annotation kinds ML.NET uses on trainer outputs (AnnotationUtils.Kinds).</summary>
    public static class Kinds
    {
        public const string KeyValues = "KeyValues";
        public const string SlotNames = "SlotNames";
        public const string TrainingLabelValues = "TrainingLabelValues";
        public const string ScoreColumnSetId = "ScoreColumnSetId";
        public const string ScoreColumnKind = "ScoreColumnKind";
        public const string ScoreValueKind = "ScoreValueKind";
    }

    /// <summary>Annotation values of trainer outputs (AnnotationUtils.Const).</summary>
    public static class Values
    {
        public const string MulticlassClassification = "MulticlassClassification";
        public const string Regression = "Regression";
        public const string Score = "Score";
        public const string PredictedLabel = "PredictedLabel";
    }

    /// <summary>
    /// PredictedLabel: scalar Key&lt;UInt32&gt; carrying the label's KeyValues (when the label has them)
    /// and the trainer-output annotations.
    /// </summary>
    public static SchemaShape.Column PredictedLabel(SchemaShape.Column label, string name = "PredictedLabel")
    {
        IEnumerable<SchemaShape.Column> keyValues = label.Annotations.Where(a => a.Name == Kinds.KeyValues);
        return MLNetInternals.CreateColumn(name, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, isKey: true,
            new SchemaShape(keyValues.Concat(TrainerOutputAnnotations())));
    }

    /// <summary>
    /// Score: known-size Vector&lt;Single&gt; with SlotNames (text KeyValues) and TrainingLabelValues
    /// (any vector KeyValues) of a key label, plus the trainer-output annotations.
    /// </summary>
    public static SchemaShape.Column Score(SchemaShape.Column label, string name = "Score")
    {
        var annotations = new List<SchemaShape.Column>();
        SchemaShape.Column keyValues = label.Annotations.FirstOrDefault(a => a.Name == Kinds.KeyValues);
        if (label.IsKey && keyValues.Name is not null && keyValues.Kind == SchemaShape.Column.VectorKind.Vector)
        {
            if (keyValues.ItemType is TextDataViewType)
            {
                annotations.Add(MLNetInternals.CreateColumn(Kinds.SlotNames, SchemaShape.Column.VectorKind.Vector, TextDataViewType.Instance));
            }

            annotations.Add(MLNetInternals.CreateColumn(Kinds.TrainingLabelValues, SchemaShape.Column.VectorKind.Vector, keyValues.ItemType));
        }

        annotations.AddRange(TrainerOutputAnnotations());
        return MLNetInternals.CreateColumn(name, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, annotations: new SchemaShape(annotations));
    }

    /// <summary>A regression Score: scalar Single with the trainer-output annotations, as ML.NET's regression trainers declare it.</summary>
    public static SchemaShape.Column RegressionScore(string name = "Score") =>
        MLNetInternals.CreateColumn(name, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, annotations: new SchemaShape(TrainerOutputAnnotations()));

    /// <summary>A scalar Int32 column without annotations, e.g. ExitLayer.</summary>
    public static SchemaShape.Column Int32Scalar(string name) =>
        MLNetInternals.CreateColumn(name, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Int32);

    private static IEnumerable<SchemaShape.Column> TrainerOutputAnnotations() =>
    [
        MLNetInternals.CreateColumn(Kinds.ScoreColumnSetId, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, isKey: true),
        MLNetInternals.CreateColumn(Kinds.ScoreColumnKind, SchemaShape.Column.VectorKind.Scalar, TextDataViewType.Instance),
        MLNetInternals.CreateColumn(Kinds.ScoreValueKind, SchemaShape.Column.VectorKind.Scalar, TextDataViewType.Instance),
    ];
}
