// How a PalbertTransformer turns rows into predictions, for ML.NET.
//
// PalbertMapper          the output schema (input columns + PredictedLabel, Score, ExitLayer,
//                        HaltingDistribution) and the getters of those columns for a given prediction.
// PalbertScoredDataView  Transform's lazy IDataView. Its cursor scores in batches: a second cursor over
//                        the input reads the texts of the next chunk of rows ahead of the caller, the
//                        chunk is scored with early exit (rows that exit leave the batch), and the main
//                        cursor serves the results by position, so output rows keep the input order. If no
//                        output column is requested, nothing is scored.
// PalbertRow             IRowToRowMapper's row, for CreatePredictionEngine: scores its one input row on
//                        first use and caches the result for that row position.
using EarlyExit.Inference;
using EarlyExit.MLNet.Schema;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EarlyExit.MLNet.Palbert;

/// <summary>Input schema to output schema, and the output getters.</summary>
internal sealed class PalbertMapper : IRowToRowMapper
{
    private readonly PalbertTransformer _parent;

    public PalbertMapper(PalbertTransformer parent, DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        _parent = parent;
        InputSchema = inputSchema;
        Text1 = RequireText(inputSchema, parent.Columns.Sentence1, "Sentence1ColumnName");
        Text2 = parent.Columns.Sentence2 is null ? null : RequireText(inputSchema, parent.Columns.Sentence2, "Sentence2ColumnName");
        int classes = parent.Labels.Values.Count;
        uint scoreSet = NextScoreColumnSetId(inputSchema);

        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        var predicted = new DataViewSchema.Annotations.Builder();
        AddTrainerAnnotations(predicted, scoreSet, OutputSchemaShapes.Values.PredictedLabel);
        parent.Labels.AddKeyValues(predicted);
        builder.AddColumn(parent.Columns.PredictedLabel, new KeyDataViewType(typeof(uint), classes), predicted.ToAnnotations());
        var score = new DataViewSchema.Annotations.Builder();
        AddTrainerAnnotations(score, scoreSet, OutputSchemaShapes.Values.Score);
        parent.Labels.AddKeyValues(score, OutputSchemaShapes.Kinds.TrainingLabelValues);
        parent.Labels.AddSlotNames(score);
        builder.AddColumn(parent.Columns.Score, new VectorDataViewType(NumberDataViewType.Single, classes), score.ToAnnotations());
        builder.AddColumn(parent.Columns.ExitLayer, NumberDataViewType.Int32);
        if (HasHalting)
        {
            builder.AddColumn(parent.Columns.HaltingDistribution, new VectorDataViewType(NumberDataViewType.Single, parent.NumLayers));
        }

        OutputSchema = builder.ToSchema();
    }

    public DataViewSchema InputSchema { get; }

    public DataViewSchema OutputSchema { get; }

    public DataViewSchema.Column Text1 { get; }

    public DataViewSchema.Column? Text2 { get; }

    public PalbertTransformer Parent => _parent;

    private bool HasHalting => _parent.HasHaltingHead;

    /// <summary>Whether <paramref name="column"/> is one of the columns this mapper adds.</summary>
    public bool IsOutput(DataViewSchema.Column column) => column.Index >= InputSchema.Count;

    /// <summary>The input columns needed for <paramref name="dependingColumns"/> of the output.</summary>
    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
    {
        var needed = new SortedSet<int>();
        foreach (DataViewSchema.Column column in dependingColumns)
        {
            if (IsOutput(column))
            {
                needed.Add(Text1.Index);
                if (Text2 is DataViewSchema.Column second)
                {
                    needed.Add(second.Index);
                }
            }
            else
            {
                needed.Add(column.Index);
            }
        }

        return needed.Select(i => InputSchema[i]).ToList();
    }

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new PalbertRow(this, input, activeColumns.Select(c => c.Index).ToHashSet());
    }

    /// <summary>Reads the text(s) of the input's current row (missing text reads as empty).</summary>
    public Func<(string Text, string? Pair)> TextReader(DataViewRow input)
    {
        ValueGetter<ReadOnlyMemory<char>> first = input.GetGetter<ReadOnlyMemory<char>>(Text1);
        ValueGetter<ReadOnlyMemory<char>>? second = Text2 is DataViewSchema.Column c ? input.GetGetter<ReadOnlyMemory<char>>(c) : null;
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

    /// <summary>The getter of output column <paramref name="column"/>, reading the current row's prediction from <paramref name="current"/>.</summary>
    public Delegate OutputGetter(DataViewSchema.Column column, Func<ClassificationPrediction> current)
    {
        string name = column.Name;
        int offset = column.Index - InputSchema.Count;
        switch (offset)
        {
            case 0:
                return (ValueGetter<uint>)((ref uint value) => value = (uint)current().PredictedClass + 1); // 0-based class -> 1-based key
            case 1:
                return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) => Write(current().Probabilities, ref value));
            case 2:
                return (ValueGetter<int>)((ref int value) => value = current().ExitLayer);
            case 3 when HasHalting:
                return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) => Write(current().HaltingDistribution!, ref value));
            default:
                throw new ArgumentOutOfRangeException(nameof(column), $"Column '{name}' is not an output of the Palbert transformer.");
        }
    }

    private static void Write(float[] source, ref VBuffer<float> value)
    {
        VBufferEditor<float> editor = VBufferEditor.Create(ref value, source.Length);
        source.CopyTo(editor.Values);
        value = editor.Commit();
    }

    private static DataViewSchema.Column RequireText(DataViewSchema schema, string name, string option)
    {
        DataViewSchema.Column? column = schema.GetColumnOrNull(name);
        if (column is null)
        {
            throw new ArgumentOutOfRangeException(nameof(schema),
                $"Text column '{name}' ({option}) is not in the data; its columns are: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => c.Name))}.");
        }

        if (column.Value.Type is not TextDataViewType)
        {
            throw new ArgumentOutOfRangeException(nameof(schema),
                $"Column '{name}' ({option}) must be String (text), found {column.Value.Type}; load it as text or convert it, e.g. with Transforms.Conversion.ConvertType.");
        }

        return column.Value;
    }

    private static void AddTrainerAnnotations(DataViewSchema.Annotations.Builder builder, uint scoreSet, string valueKind)
    {
        ReadOnlyMemory<char> kind = OutputSchemaShapes.Values.MulticlassClassification.AsMemory();
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

/// <summary>A row of the mapper for single-row use (prediction engines): scores on first use, cached per position.</summary>
internal sealed class PalbertRow : DataViewRow
{
    private readonly PalbertMapper _mapper;
    private readonly DataViewRow _input;
    private readonly HashSet<int> _active;
    private readonly Func<(string Text, string? Pair)> _readText;
    private long _cachedPosition = -1;
    private ClassificationPrediction? _cached;

    public PalbertRow(PalbertMapper mapper, DataViewRow input, HashSet<int> active)
    {
        _mapper = mapper;
        _input = input;
        _active = active;
        _readText = active.Any(i => i >= mapper.InputSchema.Count) ? mapper.TextReader(input) : () => (string.Empty, null);
    }

    public override DataViewSchema Schema => _mapper.OutputSchema;

    public override long Position => _input.Position;

    public override long Batch => _input.Batch;

    public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

    public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
    {
        if (!_mapper.IsOutput(column))
        {
            return _input.GetGetter<TValue>(_mapper.InputSchema[column.Index]);
        }

        return _mapper.OutputGetter(column, Current) as ValueGetter<TValue>
            ?? throw new InvalidOperationException($"Column '{column.Name}' has type {column.Type}, not {typeof(TValue).Name}.");
    }

    private ClassificationPrediction Current()
    {
        if (_cached is null || _cachedPosition != _input.Position)
        {
            var (text, pair) = _readText();
            _cached = _mapper.Parent.Score([text], pair is null ? null : [pair])[0];
            _cachedPosition = _input.Position;
        }

        return _cached;
    }
}

/// <summary>The lazy, batch-scoring result of <see cref="PalbertTransformer.Transform"/>.</summary>
internal sealed class PalbertScoredDataView : IDataView
{
    private readonly IDataView _input;
    private readonly PalbertMapper _mapper;

    public PalbertScoredDataView(IDataView input, PalbertMapper mapper)
    {
        _input = input;
        _mapper = mapper;
    }

    /// <summary>Rows come in input order only: scoring reads ahead with a second cursor over the same rows.</summary>
    public bool CanShuffle => false;

    public DataViewSchema Schema => _mapper.OutputSchema;

    public long? GetRowCount() => _input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        ArgumentNullException.ThrowIfNull(columnsNeeded);
        List<DataViewSchema.Column> active = columnsNeeded.ToList();
        DataViewRowCursor main = _input.GetRowCursor(_mapper.GetDependencies(active));
        DataViewRowCursor? lookahead = active.Any(_mapper.IsOutput) ? _input.GetRowCursor(_mapper.GetDependencies([_mapper.OutputSchema[_mapper.InputSchema.Count]])) : null;
        return new PalbertCursor(_mapper, main, lookahead, active.Select(c => c.Index).ToHashSet());
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];
}

/// <summary>The cursor of <see cref="PalbertScoredDataView"/>: input rows in order, predictions scored chunk by chunk ahead.</summary>
internal sealed class PalbertCursor : DataViewRowCursor
{
    private readonly PalbertMapper _mapper;
    private readonly DataViewRowCursor _main;
    private readonly DataViewRowCursor? _lookahead;
    private readonly HashSet<int> _active;
    private readonly Func<(string Text, string? Pair)>? _readAhead;
    private readonly int _chunkSize;
    private ClassificationPrediction[] _chunk = [];
    private long _chunkStart;

    public PalbertCursor(PalbertMapper mapper, DataViewRowCursor main, DataViewRowCursor? lookahead, HashSet<int> active)
    {
        _mapper = mapper;
        _main = main;
        _lookahead = lookahead;
        _active = active;
        _readAhead = lookahead is null ? null : mapper.TextReader(lookahead);
        // Several batches per chunk: the classifier sorts a chunk by length, so batches pad little.
        _chunkSize = Math.Max(1, mapper.Parent.Columns.BatchSize) * 4;
    }

    public override DataViewSchema Schema => _mapper.OutputSchema;

    public override long Position => _main.Position;

    public override long Batch => _main.Batch;

    public override ValueGetter<DataViewRowId> GetIdGetter() => _main.GetIdGetter();

    public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

    public override bool MoveNext() => _main.MoveNext();

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
    {
        if (!_mapper.IsOutput(column))
        {
            return _main.GetGetter<TValue>(_mapper.InputSchema[column.Index]);
        }

        if (_lookahead is null)
        {
            throw new InvalidOperationException($"Column '{column.Name}' was not requested when the cursor was created.");
        }

        return _mapper.OutputGetter(column, Current) as ValueGetter<TValue>
            ?? throw new InvalidOperationException($"Column '{column.Name}' has type {column.Type}, not {typeof(TValue).Name}.");
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _main.Dispose();
            _lookahead?.Dispose();
        }

        base.Dispose(disposing);
    }

    private ClassificationPrediction Current()
    {
        long position = _main.Position;
        if (position < 0)
        {
            throw new InvalidOperationException("The cursor is not on a row; call MoveNext first.");
        }

        if (position < _chunkStart || position >= _chunkStart + _chunk.Length)
        {
            ScoreChunkFrom(position);
        }

        return _chunk[position - _chunkStart];
    }

    // Moves the look-ahead cursor to `position` (skipping rows nobody asked about) and scores the
    // next chunk of rows from there.
    private void ScoreChunkFrom(long position)
    {
        if (_lookahead!.Position > position)
        {
            throw new InvalidOperationException($"Row {position} was already passed by the scoring cursor; rows must be read in order.");
        }

        while (_lookahead.Position < position)
        {
            if (!_lookahead.MoveNext())
            {
                throw new InvalidOperationException($"The input data ended before row {position} on a second pass; its cursors must return the same rows every time.");
            }
        }

        var texts = new List<string>(_chunkSize);
        var pairs = _mapper.Text2 is null ? null : new List<string>(_chunkSize);
        do
        {
            var (text, pair) = _readAhead!();
            texts.Add(text);
            pairs?.Add(pair ?? string.Empty);
        }
        while (texts.Count < _chunkSize && _lookahead.MoveNext());

        _chunk = _mapper.Parent.Score(texts, pairs);
        _chunkStart = position;
        if (texts.Count == _chunkSize)
        {
            // The look-ahead cursor sits on the chunk's last row; the next chunk starts after it.
            _lookahead.MoveNext();
        }
    }
}
