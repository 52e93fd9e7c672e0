// The Palbert transformer's mapper: input texts (one or two columns) to PredictedLabel, Score,
// ExitLayer and HaltingDistribution; a regression model's Score is the predicted value (Single) and it
// has no PredictedLabel. Batched scoring, the lazy view and single-row rows come from
// Scoring/BatchScoring.cs; each chunk goes to the transformer's backend (Core's EarlyExitTextClassifier.Predict,
// or OnnxTextClassifier.Predict on ONNX Runtime) with the transformer's criterion and batch size.
using EarlyExit.Inference;
using EarlyExit.MLNet.Schema;
using EarlyExit.MLNet.Scoring;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EarlyExit.MLNet.Palbert;

/// <summary>Input schema to output schema, and the output getters of a <see cref="PalbertTransformer"/>.</summary>
internal sealed class PalbertMapper : BatchScoringMapper<(string Text, string? Pair), ClassificationPrediction>
{
    private readonly PalbertTransformer _parent;

    public PalbertMapper(PalbertTransformer parent, DataViewSchema inputSchema)
        : base(inputSchema, TextColumns(parent, inputSchema), parent.Columns.BatchSize, builder => AddOutputs(builder, parent, inputSchema))
    {
        _parent = parent;
    }

    public override Func<(string Text, string? Pair)> CreateReader(DataViewRow row)
    {
        ValueGetter<ReadOnlyMemory<char>> first = row.GetGetter<ReadOnlyMemory<char>>(ScoringInputs[0]);
        ValueGetter<ReadOnlyMemory<char>>? second = ScoringInputs.Count > 1 ? row.GetGetter<ReadOnlyMemory<char>>(ScoringInputs[1]) : null;
        return () =>
        {
            ReadOnlyMemory<char> a = default;
            first(ref a);
            string? pair = null;
            if (second is not null)
            {
                ReadOnlyMemory<char> b = default;
                second(ref b);
                pair = b.ToString();
            }

            return (a.ToString(), pair);
        };
    }

    public override ClassificationPrediction[] Score(IReadOnlyList<(string Text, string? Pair)> inputs)
    {
        _parent.ThrowIfDisposed();
        return _parent.Predict(inputs.Select(i => i.Text).ToArray(), ScoringInputs.Count > 1 ? inputs.Select(i => i.Pair ?? string.Empty).ToArray() : null,
            _parent.ExitCriterion, _parent.BatchSize);
    }

    public override Delegate OutputGetter(DataViewSchema.Column column, Func<ClassificationPrediction> current)
    {
        // Outputs in schema order: PredictedLabel (classifiers only), Score, ExitLayer, HaltingDistribution (with a halting head).
        int output = column.Index - InputSchema.Count + (_parent.IsRegression ? 1 : 0);
        switch (output)
        {
            case 0:
                return (ValueGetter<uint>)((ref uint value) => value = KeyIndex.ToKey(current().PredictedClass));
            case 1 when _parent.IsRegression:
                return (ValueGetter<float>)((ref float value) => value = current().Value);
            case 1:
                return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) => VectorValues.Write(current().Probabilities, ref value));
            case 2:
                return (ValueGetter<int>)((ref int value) => value = current().ExitLayer);
            case 3 when _parent.HasHaltingHead:
                return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) => VectorValues.Write(current().HaltingDistribution!, ref value));
            default:
                throw new ArgumentOutOfRangeException(nameof(column), $"Column '{column.Name}' is not an output of the Palbert transformer.");
        }
    }

    private static IReadOnlyList<DataViewSchema.Column> TextColumns(PalbertTransformer parent, DataViewSchema inputSchema)
    {
        var columns = new List<DataViewSchema.Column> { InputColumns.RequireText(inputSchema, parent.Columns.Sentence1, "Sentence1ColumnName") };
        if (parent.Columns.Sentence2 is string second)
        {
            columns.Add(InputColumns.RequireText(inputSchema, second, "Sentence2ColumnName"));
        }

        return columns;
    }

    private static void AddOutputs(DataViewSchema.Builder builder, PalbertTransformer parent, DataViewSchema inputSchema)
    {
        uint scoreSet = NextScoreColumnSetId(inputSchema);
        var score = new DataViewSchema.Annotations.Builder();
        if (parent.Labels is not LabelKeyValues labels)
        {
            AddTrainerAnnotations(score, scoreSet, OutputSchemaShapes.Values.Regression, OutputSchemaShapes.Values.Score);
            builder.AddColumn(parent.Columns.Score, NumberDataViewType.Single, score.ToAnnotations());
        }
        else
        {
            int classes = labels.Values.Count;
            var predicted = new DataViewSchema.Annotations.Builder();
            AddTrainerAnnotations(predicted, scoreSet, OutputSchemaShapes.Values.MulticlassClassification, OutputSchemaShapes.Values.PredictedLabel);
            labels.AddKeyValues(predicted);
            builder.AddColumn(parent.Columns.PredictedLabel!, new KeyDataViewType(typeof(uint), classes), predicted.ToAnnotations());
            AddTrainerAnnotations(score, scoreSet, OutputSchemaShapes.Values.MulticlassClassification, OutputSchemaShapes.Values.Score);
            labels.AddKeyValues(score, OutputSchemaShapes.Kinds.TrainingLabelValues);
            labels.AddSlotNames(score);
            builder.AddColumn(parent.Columns.Score, new VectorDataViewType(NumberDataViewType.Single, classes), score.ToAnnotations());
        }

        builder.AddColumn(parent.Columns.ExitLayer, NumberDataViewType.Int32);
        if (parent.HasHaltingHead)
        {
            builder.AddColumn(parent.Columns.HaltingDistribution, new VectorDataViewType(NumberDataViewType.Single, parent.NumLayers));
        }
    }

    private static void AddTrainerAnnotations(DataViewSchema.Annotations.Builder builder, uint scoreSet, string columnKind, string valueKind)
    {
        ReadOnlyMemory<char> kind = columnKind.AsMemory();
        ReadOnlyMemory<char> value = valueKind.AsMemory();
        builder.Add(OutputSchemaShapes.Kinds.ScoreColumnKind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = kind);
        builder.Add(OutputSchemaShapes.Kinds.ScoreValueKind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = value);
        builder.Add(OutputSchemaShapes.Kinds.ScoreColumnSetId, new KeyDataViewType(typeof(uint), int.MaxValue), (ref uint v) => v = scoreSet);
    }

    // ML.NET numbers the score-column sets of a schema: a new set gets the largest id so far + 1.
    private static uint NextScoreColumnSetId(DataViewSchema schema)
    {
        uint max = 0;
        foreach (DataViewSchema.Column column in schema)
        {
            DataViewSchema.Column? id = column.Annotations.Schema.GetColumnOrNull(OutputSchemaShapes.Kinds.ScoreColumnSetId);
            if (id?.Type is KeyDataViewType { RawType: var raw } && raw == typeof(uint))
            {
                uint value = 0;
                column.Annotations.GetValue(OutputSchemaShapes.Kinds.ScoreColumnSetId, ref value);
                max = Math.Max(max, value);
            }
        }

        return max + 1;
    }
}
