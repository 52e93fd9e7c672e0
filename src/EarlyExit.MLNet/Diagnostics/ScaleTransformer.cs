using EarlyExit.MLNet.Interop;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace EarlyExit.MLNet.Diagnostics;

/// <summary>
/// The interop probe: the smallest transformer that uses the whole save/load route, so the tests (and a
/// fresh process, test/EarlyExit.MLNet.Tests.LoadProbe) can prove it. Adds
/// <see cref="OutputColumn"/> = <see cref="InputColumn"/> × <see cref="Factor"/> (Single), annotated
/// with the payload as hex text ("Payload"). Implements <see cref="ITransformer"/> directly.
/// </summary>
internal sealed class ScaleTransformer : ITransformer, IModelPersistable<ScaleTransformer>
{
    /// <summary>The catalog name of the loader.</summary>
    public const string LoaderSignature = "EarlyExitScaleTransform";

    /// <summary>The annotation on the output column that carries the payload as hex.</summary>
    public const string PayloadAnnotation = "Payload";

    /// <summary>The zip entry with the factor and the payload.</summary>
    internal const string ScaleEntry = "scale.bin";

    // *** Binary format ***
    // Model.key body: string InputColumn, string OutputColumn
    // entry scale.bin: float Factor, int payload length, payload bytes
    private static readonly ModelFormat s_format = new("EESCALE1", versionWritten: 0x00010001, versionReadable: 0x00010001,
        minVersionReadable: 0x00010001, LoaderSignature);

    private readonly IHost _host;
    private readonly byte[] _payload;

    public ScaleTransformer(IHostEnvironment env, string inputColumn, string outputColumn, float factor, byte[] payload)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentException.ThrowIfNullOrEmpty(inputColumn);
        ArgumentException.ThrowIfNullOrEmpty(outputColumn);
        ArgumentNullException.ThrowIfNull(payload);
        _host = env.Register(nameof(ScaleTransformer));
        InputColumn = inputColumn;
        OutputColumn = outputColumn;
        Factor = factor;
        _payload = payload.ToArray();
    }

    public static ModelFormat Format => s_format;

    public string InputColumn { get; }

    public string OutputColumn { get; }

    public float Factor { get; }

    public IReadOnlyList<byte> Payload => _payload;

    public bool IsRowToRowMapper => true;

    public static ScaleTransformer LoadModel(IHostEnvironment env, ModelReader reader)
    {
        string input = reader.Reader.ReadString();
        string output = reader.Reader.ReadString();
        float factor = 0;
        byte[] payload = [];
        reader.ReadStream(ScaleEntry, r =>
        {
            factor = r.ReadSingle();
            payload = r.ReadBytes(r.ReadInt32());
        });
        var transformer = new ScaleTransformer(env, input, output, factor, payload);
        using (IChannel ch = transformer._host.Start("Load"))
        {
            ch.Info(MessageSensitivity.None, $"Loaded {input} -> {output} x{factor} with a {payload.Length}-byte payload.");
        }

        return transformer;
    }

    public void SaveModel(ModelWriter writer)
    {
        writer.Writer.Write(InputColumn);
        writer.Writer.Write(OutputColumn);
        writer.WriteStream(ScaleEntry, w =>
        {
            w.Write(Factor);
            w.Write(_payload.Length);
            w.Write(_payload);
        });
    }

    void ICanSaveModel.Save(ModelSaveContext ctx) => ModelPersistence.Save(this, ctx);

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => new Mapper(this, inputSchema).OutputSchema;

    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => new Mapper(this, inputSchema);

    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new ScaledDataView(input, new Mapper(this, input.Schema));
    }

    /// <summary>Input schema + one Single column; the row reads the input row and multiplies.</summary>
    private sealed class Mapper : IRowToRowMapper
    {
        private readonly float _factor;

        public Mapper(ScaleTransformer parent, DataViewSchema inputSchema)
        {
            ArgumentNullException.ThrowIfNull(inputSchema);
            DataViewSchema.Column input = inputSchema.GetColumnOrNull(parent.InputColumn)
                ?? throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Column '{parent.InputColumn}' not found; the scale transformer needs it as Single.");
            if (input.Type != NumberDataViewType.Single)
            {
                throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Column '{parent.InputColumn}' must be Single, found {input.Type}.");
            }

            _factor = parent.Factor;
            InputSchema = inputSchema;
            Input = input;
            var annotations = new DataViewSchema.Annotations.Builder();
            ReadOnlyMemory<char> hex = Convert.ToHexString(parent._payload).AsMemory();
            annotations.Add(PayloadAnnotation, TextDataViewType.Instance, (ref ReadOnlyMemory<char> value) => value = hex);
            var builder = new DataViewSchema.Builder();
            builder.AddColumns(inputSchema);
            builder.AddColumn(parent.OutputColumn, NumberDataViewType.Single, annotations.ToAnnotations());
            OutputSchema = builder.ToSchema();
        }

        public DataViewSchema InputSchema { get; }

        public DataViewSchema OutputSchema { get; }

        public DataViewSchema.Column Input { get; }

        /// <summary>The output column's index: after every input column.</summary>
        public int OutputIndex => InputSchema.Count;

        public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
        {
            var needed = new HashSet<int>();
            foreach (DataViewSchema.Column column in dependingColumns)
            {
                needed.Add(column.Index == OutputIndex ? Input.Index : column.Index);
            }

            return needed.Order().Select(i => InputSchema[i]).ToList();
        }

        public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns) =>
            new ScaledRow(this, input, activeColumns.Select(c => c.Index).ToHashSet());

        public ValueGetter<float> MakeGetter(DataViewRow input)
        {
            ValueGetter<float> source = input.GetGetter<float>(Input);
            float factor = _factor;
            return (ref float value) =>
            {
                float x = 0;
                source(ref x);
                value = x * factor;
            };
        }
    }

    private sealed class ScaledRow : DataViewRow
    {
        private readonly Mapper _mapper;
        private readonly DataViewRow _input;
        private readonly HashSet<int> _active;

        public ScaledRow(Mapper mapper, DataViewRow input, HashSet<int> active)
        {
            _mapper = mapper;
            _input = input;
            _active = active;
        }

        public override DataViewSchema Schema => _mapper.OutputSchema;

        public override long Position => _input.Position;

        public override long Batch => _input.Batch;

        public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
            column.Index == _mapper.OutputIndex
                ? (ValueGetter<TValue>)(Delegate)_mapper.MakeGetter(_input)
                : _input.GetGetter<TValue>(_mapper.InputSchema[column.Index]);
    }

    private sealed class ScaledDataView : IDataView
    {
        private readonly IDataView _input;
        private readonly Mapper _mapper;

        public ScaledDataView(IDataView input, Mapper mapper)
        {
            _input = input;
            _mapper = mapper;
        }

        public bool CanShuffle => _input.CanShuffle;

        public DataViewSchema Schema => _mapper.OutputSchema;

        public long? GetRowCount() => _input.GetRowCount();

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
        {
            var active = columnsNeeded.ToList();
            DataViewRowCursor input = _input.GetRowCursor(_mapper.GetDependencies(active), rand);
            return new ScaledCursor(_mapper, input, active.Select(c => c.Index).ToHashSet());
        }

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
            [GetRowCursor(columnsNeeded, rand)];
    }

    private sealed class ScaledCursor : DataViewRowCursor
    {
        private readonly DataViewRowCursor _input;
        private readonly ScaledRow _row;

        public ScaledCursor(Mapper mapper, DataViewRowCursor input, HashSet<int> active)
        {
            _input = input;
            _row = new ScaledRow(mapper, input, active);
        }

        public override DataViewSchema Schema => _row.Schema;

        public override long Position => _input.Position;

        public override long Batch => _input.Batch;

        public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => _row.IsColumnActive(column);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => _row.GetGetter<TValue>(column);

        public override bool MoveNext() => _input.MoveNext();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _input.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
