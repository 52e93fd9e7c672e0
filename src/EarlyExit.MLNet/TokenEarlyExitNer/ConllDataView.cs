// The IDataView behind LoadFromConllFile: one row per sentence with Tokens, Label and Line, plus any
// other file columns the caller names (CoNLL-2003's part-of-speech and chunk tags), each a vector of
// strings with one value per word. ML.NET's LoadFromEnumerable needs a row type with one member per
// column, which cannot hold columns chosen at run time, so this small read-only view serves them all.
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EarlyExit.MLNet.TokenEarlyExitNer;

/// <summary>An in-memory view of sentences: named vector-of-text columns (one value per word) and the Int32 Line column.</summary>
internal sealed class ConllDataView : IDataView
{
    private readonly string[][][] _columns; // [column][sentence][word]
    private readonly int[] _lines;

    /// <summary>Creates the view; every column holds one array per sentence.</summary>
    public ConllDataView(IReadOnlyList<(string Name, string[][] Values)> columns, string lineColumn, int[] lines)
    {
        var builder = new DataViewSchema.Builder();
        foreach (var (name, _) in columns)
        {
            builder.AddColumn(name, new VectorDataViewType(TextDataViewType.Instance));
        }

        builder.AddColumn(lineColumn, NumberDataViewType.Int32);
        Schema = builder.ToSchema();
        _columns = columns.Select(c => c.Values).ToArray();
        _lines = lines;
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _lines.Length;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new Cursor(this, columnsNeeded);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor(ConllDataView view, IEnumerable<DataViewSchema.Column> columnsNeeded) : DataViewRowCursor
    {
        private readonly HashSet<int> _active = columnsNeeded.Select(c => c.Index).ToHashSet();
        private long _position = -1;

        public override DataViewSchema Schema => view.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override bool MoveNext() => ++_position < view._lines.Length;

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId value) => value = new DataViewRowId((ulong)_position, 0);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!IsColumnActive(column))
            {
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when the cursor was created.");
            }

            Delegate getter = column.Index < view._columns.Length
                ? (ValueGetter<VBuffer<ReadOnlyMemory<char>>>)((ref VBuffer<ReadOnlyMemory<char>> value) =>
                    Scoring.VectorValues.Write(view._columns[column.Index][_position].Select(w => w.AsMemory()).ToArray(), ref value))
                : (ValueGetter<int>)((ref int value) => value = view._lines[_position]);
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' is {column.Type}; it cannot be read as {typeof(TValue).Name}.");
        }
    }
}
