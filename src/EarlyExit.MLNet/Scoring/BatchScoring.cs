// The ML.NET side of batched scoring, shared by every transformer here (Palbert, token-exit NER).
//
// BatchScoringMapper  the output schema (input columns + the transformer's columns), how to read one
//                     row's input, how to score a list of inputs, and the getters of the output columns.
// ScoringDataView     Transform's lazy IDataView. Its cursor scores in chunks: a second cursor over the
//                     input reads the next chunk of inputs ahead of the caller, the chunk is scored at
//                     once (batches with early exit), and the main cursor serves the results by position,
//                     so output rows keep the input order. If no output column is requested, nothing is scored.
// ScoringRow          IRowToRowMapper's row, for CreatePredictionEngine: scores its one input row on first
//                     use and caches the result for that row position. ML.NET's engine writes every
//                     example into one shared input row and numbers the calls (Position + 1 each), so
//                     two threads sharing an engine can read each other's example. The row refuses to
//                     answer when it sees that: a call while another is scoring, a position that skipped
//                     a call, or a position that moved while scoring.
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EarlyExit.MLNet.Scoring;

/// <summary>A mapper that also scores a whole view lazily (what a transformer's Transform returns).</summary>
internal interface IBatchScoringMapper : IRowToRowMapper
{
    /// <summary>The lazy scored view of <paramref name="input"/>, whose schema is this mapper's input schema.</summary>
    IDataView Transform(IDataView input);
}

/// <summary>Input schema to output schema, reading inputs, scoring them, and the output getters.</summary>
/// <typeparam name="TInput">What one row gives the model (texts, words).</typeparam>
/// <typeparam name="TPrediction">What the model gives back for one row.</typeparam>
internal abstract class BatchScoringMapper<TInput, TPrediction> : IBatchScoringMapper
{
    /// <summary>Creates the mapper.</summary>
    /// <param name="inputSchema">The input.</param>
    /// <param name="scoringInputs">The input columns scoring reads.</param>
    /// <param name="batchSize">Rows scored together; a chunk read ahead holds several batches.</param>
    /// <param name="addOutputs">Adds the output columns to a builder that already holds the input columns.</param>
    protected BatchScoringMapper(DataViewSchema inputSchema, IReadOnlyList<DataViewSchema.Column> scoringInputs, int batchSize, Action<DataViewSchema.Builder> addOutputs)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        InputSchema = inputSchema;
        ScoringInputs = scoringInputs;
        ChunkSize = Math.Max(1, batchSize) * BatchesPerChunk;
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        addOutputs(builder);
        OutputSchema = builder.ToSchema();
    }

    /// <summary>
    /// Batches read ahead and scored at once. Scoring sorts a chunk by length, so a longer chunk pads less:
    /// bench/scoring-profile.sh measured the encoder on SST-2 dev (four runs) at 188-216 rows/s with
    /// batches of 32 sorted within 128 rows (4 batches, the value before) and 229-248 rows/s within 512
    /// rows (16), as fast as sorting all 872 rows. The read-ahead holds only the inputs (texts or words).
    /// </summary>
    public const int BatchesPerChunk = 16;

    public DataViewSchema InputSchema { get; }

    public DataViewSchema OutputSchema { get; }

    /// <summary>The input columns scoring reads.</summary>
    public IReadOnlyList<DataViewSchema.Column> ScoringInputs { get; }

    /// <summary>Rows read ahead and scored at once.</summary>
    public int ChunkSize { get; }

    /// <summary>Whether <paramref name="column"/> is one of the columns this mapper adds.</summary>
    public bool IsOutput(DataViewSchema.Column column) => column.Index >= InputSchema.Count;

    /// <summary>A reader of the input of <paramref name="row"/>'s current row.</summary>
    public abstract Func<TInput> CreateReader(DataViewRow row);

    /// <summary>Scores <paramref name="inputs"/>, in order.</summary>
    public abstract TPrediction[] Score(IReadOnlyList<TInput> inputs);

    /// <summary>The getter of output column <paramref name="column"/>, reading the current row's prediction from <paramref name="current"/>.</summary>
    public abstract Delegate OutputGetter(DataViewSchema.Column column, Func<TPrediction> current);

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
    {
        var needed = new SortedSet<int>();
        foreach (DataViewSchema.Column column in dependingColumns)
        {
            if (IsOutput(column))
            {
                needed.UnionWith(ScoringInputs.Select(c => c.Index));
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
        return new ScoringRow<TInput, TPrediction>(this, input, activeColumns.Select(c => c.Index).ToHashSet());
    }

    public IDataView Transform(IDataView input) => new ScoringDataView<TInput, TPrediction>(input, this);

    /// <summary>The typed getter of an output column, or a clear error for the wrong type.</summary>
    public ValueGetter<TValue> TypedOutputGetter<TValue>(DataViewSchema.Column column, Func<TPrediction> current) =>
        OutputGetter(column, current) as ValueGetter<TValue>
            ?? throw new InvalidOperationException($"Column '{column.Name}' has type {column.Type}, not {typeof(TValue).Name}.");
}

/// <summary>A row for single-row use (prediction engines): scores on first use, cached per position.</summary>
internal sealed class ScoringRow<TInput, TPrediction> : DataViewRow
{
    private readonly BatchScoringMapper<TInput, TPrediction> _mapper;
    private readonly DataViewRow _input;
    private readonly HashSet<int> _active;
    private readonly Func<TInput>? _read;
    private long _cachedPosition = -1;
    private TPrediction? _cached;
    private long _lastPosition = -1;
    private int _busy;
    private int _refused; // calls refused while another was scoring: each wrote one example this row never scored

    public ScoringRow(BatchScoringMapper<TInput, TPrediction> mapper, DataViewRow input, HashSet<int> active)
    {
        _mapper = mapper;
        _input = input;
        _active = active;
        _read = active.Any(i => i >= mapper.InputSchema.Count) ? mapper.CreateReader(input) : null;
    }

    public override DataViewSchema Schema => _mapper.OutputSchema;

    public override long Position => _input.Position;

    public override long Batch => _input.Batch;

    public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

    public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
        _mapper.IsOutput(column)
            ? _mapper.TypedOutputGetter<TValue>(column, Current)
            : _input.GetGetter<TValue>(_mapper.InputSchema[column.Index]);

    private TPrediction Current()
    {
        if (_read is null)
        {
            throw new InvalidOperationException("No output column was requested from this row.");
        }

        if (Interlocked.Exchange(ref _busy, 1) == 1)
        {
            Interlocked.Increment(ref _refused);
            throw ConcurrentUse("while another call was scoring");
        }

        try
        {
            long position = _input.Position;
            if (_cached is not null && _cachedPosition == position)
            {
                return _cached;
            }

            long last = _lastPosition;
            int refused = Interlocked.Exchange(ref _refused, 0);
            _lastPosition = position;
            _cached = default;
            // The same position again is a retry (e.g. after a failed call). Past the next one, only calls
            // refused above may have used positions; any more means calls wrote examples into the input row
            // that were never seen here.
            if (last >= 0 && position != last && (position < last || position > last + 1 + refused))
            {
                throw ConcurrentUse("after another call wrote its example into the engine's input row");
            }

            TPrediction prediction = _mapper.Score([_read()])[0];
            if (_input.Position != position)
            {
                throw ConcurrentUse("while another call wrote its example into the engine's input row");
            }

            _cached = prediction;
            _cachedPosition = position;
            return prediction;
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    private static InvalidOperationException ConcurrentUse(string what) => new(
        $"A PredictionEngine was used from several threads at once: a prediction was asked for {what}, so its answer could belong to another thread's example. " +
        "ML.NET's prediction engines are not thread-safe: use PredictionEnginePool (Microsoft.Extensions.ML), one engine per thread, a lock around Predict, " +
        "or score many rows at once with Transform, which is faster.");
}

/// <summary>The lazy, batch-scoring result of a transformer's Transform.</summary>
internal sealed class ScoringDataView<TInput, TPrediction>(IDataView input, BatchScoringMapper<TInput, TPrediction> mapper) : IDataView
{
    /// <summary>Rows come in input order only: scoring reads ahead with a second cursor over the same rows.</summary>
    public bool CanShuffle => false;

    public DataViewSchema Schema => mapper.OutputSchema;

    public long? GetRowCount() => input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        ArgumentNullException.ThrowIfNull(columnsNeeded);
        List<DataViewSchema.Column> active = columnsNeeded.ToList();
        DataViewRowCursor main = input.GetRowCursor(mapper.GetDependencies(active.Where(c => !mapper.IsOutput(c))));
        DataViewRowCursor? lookahead = active.Any(mapper.IsOutput) ? input.GetRowCursor(mapper.ScoringInputs) : null;
        return new ScoringCursor<TInput, TPrediction>(mapper, main, lookahead, active.Select(c => c.Index).ToHashSet());
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];
}

/// <summary>The cursor of <see cref="ScoringDataView{TInput, TPrediction}"/>: input rows in order, predictions scored chunk by chunk ahead.</summary>
internal sealed class ScoringCursor<TInput, TPrediction> : DataViewRowCursor
{
    private readonly BatchScoringMapper<TInput, TPrediction> _mapper;
    private readonly DataViewRowCursor _main;
    private readonly DataViewRowCursor? _lookahead;
    private readonly HashSet<int> _active;
    private readonly Func<TInput>? _readAhead;
    private TPrediction[] _chunk = [];
    private long _chunkStart;

    public ScoringCursor(BatchScoringMapper<TInput, TPrediction> mapper, DataViewRowCursor main, DataViewRowCursor? lookahead, HashSet<int> active)
    {
        _mapper = mapper;
        _main = main;
        _lookahead = lookahead;
        _active = active;
        _readAhead = lookahead is null ? null : mapper.CreateReader(lookahead);
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

        return _mapper.TypedOutputGetter<TValue>(column, Current);
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

    private TPrediction Current()
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

    // Moves the look-ahead cursor to `position` (skipping rows nobody asked about) and scores the next
    // chunk of rows from there.
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

        var inputs = new List<TInput>(_mapper.ChunkSize);
        do
        {
            inputs.Add(_readAhead!());
        }
        while (inputs.Count < _mapper.ChunkSize && _lookahead.MoveNext());

        _chunk = _mapper.Score(inputs);
        _chunkStart = position;
        if (inputs.Count == _mapper.ChunkSize)
        {
            // The look-ahead cursor sits on the chunk's last row; the next chunk starts after it.
            _lookahead.MoveNext();
        }
    }
}
