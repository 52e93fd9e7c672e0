// The token-level transformer's mapper: the words column (a vector of strings, or one string split on
// whitespace) to PredictedLabel (a key per word), TokenExitLayers, ExitLayer and each auxiliary task's
// predicted tags (a key per word). Batched scoring, the
// lazy view and single-row rows come from Scoring/BatchScoring.cs; each chunk goes to the transformer's
// backend (Core's EarlyExitTokenClassifier.Predict, or OnnxTokenClassifier.Predict on ONNX Runtime: chunks
// of whole words, halt-and-copy) with the transformer's criterion and batch size.
using EarlyExit.Inference;
using EarlyExit.MLNet.Schema;
using EarlyExit.MLNet.Scoring;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EarlyExit.MLNet.TokenEarlyExitNer;

/// <summary>Input words to predicted tags, word exit layers and the row's exit layer.</summary>
internal sealed class TokenEarlyExitNerMapper : BatchScoringMapper<string[], SentencePrediction>
{
    private readonly TokenEarlyExitNerTransformer _parent;

    public TokenEarlyExitNerMapper(TokenEarlyExitNerTransformer parent, DataViewSchema inputSchema)
        : base(inputSchema, [WordColumns.Require(inputSchema, parent.Columns.Tokens, "TokensColumnName")], parent.Columns.BatchSize, builder => AddOutputs(builder, parent))
    {
        _parent = parent;
    }

    public override Func<string[]> CreateReader(DataViewRow row) => WordColumns.Reader(row, ScoringInputs[0]);

    public override SentencePrediction[] Score(IReadOnlyList<string[]> inputs)
    {
        _parent.ThrowIfDisposed();
        return _parent.Predict(inputs, _parent.ExitCriterion, _parent.BatchSize);
    }

    public override Delegate OutputGetter(DataViewSchema.Column column, Func<SentencePrediction> current) => (column.Index - InputSchema.Count) switch
    {
        0 => Keys(() => current().Tags),
        1 => (ValueGetter<VBuffer<int>>)((ref VBuffer<int> value) => VectorValues.Write(current().ExitLayers, ref value)),
        2 => (ValueGetter<int>)((ref int value) => value = current().ExitLayer),
        int output and > 2 when output - 3 < _parent.TaskTags.Count => Keys(() => current().AuxiliaryTags![output - 3]),
        _ => throw new ArgumentOutOfRangeException(nameof(column), $"Column '{column.Name}' is not an output of the token-exit NER transformer."),
    };

    private static ValueGetter<VBuffer<uint>> Keys(Func<int[]> tags) =>
        (ref VBuffer<uint> value) => VectorValues.Write(tags().Select(KeyIndex.ToKey).ToArray(), ref value);

    private static void AddOutputs(DataViewSchema.Builder builder, TokenEarlyExitNerTransformer parent)
    {
        AddTags(builder, parent.Columns.PredictedLabel, parent.Tags);
        builder.AddColumn(parent.Columns.TokenExitLayers, new VectorDataViewType(NumberDataViewType.Int32));
        builder.AddColumn(parent.Columns.ExitLayer, NumberDataViewType.Int32);
        for (int task = 0; task < parent.TaskTags.Count; task++)
        {
            AddTags(builder, parent.Columns.AuxiliaryPredictedLabels![task], parent.TaskTags[task]);
        }
    }

    private static void AddTags(DataViewSchema.Builder builder, string name, LabelKeyValues tags)
    {
        var keyValues = new DataViewSchema.Annotations.Builder();
        tags.AddKeyValues(keyValues);
        builder.AddColumn(name, new VectorDataViewType(new KeyDataViewType(typeof(uint), tags.Values.Count)), keyValues.ToAnnotations());
    }
}

/// <summary>The words column: a vector of strings, or one string split on whitespace.</summary>
internal static class WordColumns
{
    /// <summary>The words column, checked for type.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Missing, or neither text nor a vector of text.</exception>
    public static DataViewSchema.Column Require(DataViewSchema schema, string name, string option, string what = "data")
    {
        DataViewSchema.Column column = InputColumns.Require(schema, name, option, what);
        if (column.Type is not TextDataViewType && column.Type is not VectorDataViewType { ItemType: TextDataViewType })
        {
            throw new ArgumentOutOfRangeException(option,
                $"Column '{name}' ({option}) must hold the words as a vector of strings or as one string, found {column.Type}; load the words as text.");
        }

        return column;
    }

    /// <summary>Reads the current row's words (a string column is split on whitespace).</summary>
    public static Func<string[]> Reader(DataViewRow row, DataViewSchema.Column column)
    {
        if (column.Type is TextDataViewType)
        {
            ValueGetter<ReadOnlyMemory<char>> text = row.GetGetter<ReadOnlyMemory<char>>(column);
            return () =>
            {
                ReadOnlyMemory<char> value = default;
                text(ref value);
                return value.ToString().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            };
        }

        ValueGetter<VBuffer<ReadOnlyMemory<char>>> vector = row.GetGetter<VBuffer<ReadOnlyMemory<char>>>(column);
        return () =>
        {
            VBuffer<ReadOnlyMemory<char>> value = default;
            vector(ref value);
            return value.DenseValues().Select(v => v.ToString()).ToArray();
        };
    }
}
