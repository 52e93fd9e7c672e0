// Reader and writer for the safetensors format (https://huggingface.co/docs/safetensors):
//
//   *** Binary format ***
//   u64 little-endian   N, the byte length of the header
//   N bytes             UTF-8 JSON: { "<name>": { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, ...,
//                                     "__metadata__": { "<key>": "<string>" } (optional) }
//   rest                raw little-endian tensor data; data_offsets are relative to the end of the header
//
// The reader keeps only the header in memory and reads each tensor's bytes when asked, so a
// 500 MB checkpoint never sits in memory twice. Floating-point tensors (F64, F32, F16, BF16) come
// back as float32 and integer/bool tensors as int64, which is what the encoders and tests compute with.
using System.Buffers.Binary;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace EarlyExit.Checkpoints;

/// <summary>The stored element type of a safetensors entry.</summary>
internal enum SafeTensorsDType
{
    /// <summary>IEEE float64.</summary>
    F64,
    /// <summary>IEEE float32.</summary>
    F32,
    /// <summary>IEEE float16.</summary>
    F16,
    /// <summary>bfloat16 (the upper half of a float32).</summary>
    BF16,
    /// <summary>Signed 64-bit integer.</summary>
    I64,
    /// <summary>Signed 32-bit integer.</summary>
    I32,
    /// <summary>Signed 16-bit integer.</summary>
    I16,
    /// <summary>Signed 8-bit integer.</summary>
    I8,
    /// <summary>Unsigned 8-bit integer.</summary>
    U8,
    /// <summary>Boolean stored as one byte.</summary>
    BOOL,
}

/// <summary>One tensor's header entry: stored type, shape and byte range inside the data section.</summary>
/// <param name="Name">The tensor's name, e.g. <c>encoder.layer.0.attention.self.query.weight</c>.</param>
/// <param name="DType">The stored element type.</param>
/// <param name="Shape">The tensor's shape (empty for a scalar).</param>
/// <param name="Begin">First byte, relative to the start of the data section.</param>
/// <param name="End">One past the last byte, relative to the start of the data section.</param>
internal sealed record SafeTensorsEntry(string Name, SafeTensorsDType DType, long[] Shape, long Begin, long End)
{
    /// <summary>The number of elements (1 for a scalar).</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Whether the stored type is a floating-point type.</summary>
    public bool IsFloatingPoint => DType is SafeTensorsDType.F64 or SafeTensorsDType.F32 or SafeTensorsDType.F16 or SafeTensorsDType.BF16;
}

/// <summary>A safetensors file, opened for reading. Tensors are read on demand.</summary>
internal sealed class SafeTensorsFile : IDisposable
{
    private const long MaxHeaderBytes = 100L * 1024 * 1024;
    private readonly FileStream _stream;
    private readonly long _dataStart;
    private readonly Dictionary<string, SafeTensorsEntry> _entries;

    private SafeTensorsFile(string path, FileStream stream, long dataStart, Dictionary<string, SafeTensorsEntry> entries, IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        _stream = stream;
        _dataStart = dataStart;
        _entries = entries;
        Metadata = metadata;
    }

    /// <summary>The file's path.</summary>
    public string Path { get; }

    /// <summary>The <c>__metadata__</c> entries (empty when the file has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Every tensor entry, by name.</summary>
    public IReadOnlyDictionary<string, SafeTensorsEntry> Entries => _entries;

    /// <summary>Opens <paramref name="path"/> and validates its header.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file; the message says why.</exception>
    public static SafeTensorsFile Open(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Safetensors file '{path}' does not exist.", path);
        }

        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        try
        {
            long fileLength = stream.Length;
            Span<byte> lengthBytes = stackalloc byte[8];
            if (fileLength < 8 || stream.Read(lengthBytes) != 8)
            {
                throw Invalid(path, $"the file has {fileLength} bytes, fewer than the 8-byte header length");
            }

            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
            if (headerLength == 0 || headerLength > MaxHeaderBytes || (long)headerLength > fileLength - 8)
            {
                throw Invalid(path, $"the header length {headerLength} does not fit the file ({fileLength} bytes)");
            }

            byte[] header = new byte[headerLength];
            stream.ReadExactly(header);
            long dataStart = 8 + (long)headerLength;
            long dataLength = fileLength - dataStart;
            var (entries, metadata) = ParseHeader(path, header, dataLength);
            return new SafeTensorsFile(path, stream, dataStart, entries, metadata);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Whether the file holds a tensor called <paramref name="name"/>.</summary>
    public bool Contains(string name) => _entries.ContainsKey(name);

    /// <summary>Reads a floating-point tensor as float32 values, widening F16/BF16 exactly and narrowing F64.</summary>
    public float[] ReadSingles(string name)
    {
        SafeTensorsEntry entry = GetEntry(name);
        byte[] raw = ReadRaw(entry);
        long count = entry.ElementCount;
        var values = new float[count];
        switch (entry.DType)
        {
            case SafeTensorsDType.F32:
                Buffer.BlockCopy(raw, 0, values, 0, raw.Length);
                if (!BitConverter.IsLittleEndian)
                {
                    for (long i = 0; i < count; i++)
                    {
                        values[i] = BinaryPrimitives.ReadSingleLittleEndian(raw.AsSpan((int)(i * 4)));
                    }
                }

                break;
            case SafeTensorsDType.F64:
                for (long i = 0; i < count; i++)
                {
                    values[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(raw.AsSpan((int)(i * 8)));
                }

                break;
            case SafeTensorsDType.F16:
                for (long i = 0; i < count; i++)
                {
                    values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(raw.AsSpan((int)(i * 2)));
                }

                break;
            case SafeTensorsDType.BF16:
                for (long i = 0; i < count; i++)
                {
                    uint bits = (uint)BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan((int)(i * 2))) << 16;
                    values[i] = BitConverter.UInt32BitsToSingle(bits);
                }

                break;
            default:
                throw new InvalidDataException($"Tensor '{name}' in '{Path}' has dtype {entry.DType}, not a floating-point type.");
        }

        return values;
    }

    /// <summary>Reads an integer or bool tensor as int64 values.</summary>
    public long[] ReadInt64s(string name)
    {
        SafeTensorsEntry entry = GetEntry(name);
        byte[] raw = ReadRaw(entry);
        long count = entry.ElementCount;
        var values = new long[count];
        for (long i = 0; i < count; i++)
        {
            int at = (int)i;
            values[i] = entry.DType switch
            {
                SafeTensorsDType.I64 => BinaryPrimitives.ReadInt64LittleEndian(raw.AsSpan(at * 8)),
                SafeTensorsDType.I32 => BinaryPrimitives.ReadInt32LittleEndian(raw.AsSpan(at * 4)),
                SafeTensorsDType.I16 => BinaryPrimitives.ReadInt16LittleEndian(raw.AsSpan(at * 2)),
                SafeTensorsDType.I8 => (sbyte)raw[at],
                SafeTensorsDType.U8 or SafeTensorsDType.BOOL => raw[at],
                _ => throw new InvalidDataException($"Tensor '{name}' in '{Path}' has dtype {entry.DType}, not an integer type."),
            };
        }

        return values;
    }

    /// <summary>
    /// Reads a tensor into a new CPU TorchSharp tensor: float32 for floating-point entries, int64 for
    /// integer and bool entries. The caller owns (and disposes) the result.
    /// </summary>
    public Tensor ReadTensor(string name)
    {
        SafeTensorsEntry entry = GetEntry(name);
        return entry.IsFloatingPoint
            ? torch.tensor(ReadSingles(name), entry.Shape, ScalarType.Float32)
            : torch.tensor(ReadInt64s(name), entry.Shape, ScalarType.Int64);
    }

    /// <inheritdoc />
    public void Dispose() => _stream.Dispose();

    private SafeTensorsEntry GetEntry(string name)
    {
        if (!_entries.TryGetValue(name, out SafeTensorsEntry? entry))
        {
            throw new KeyNotFoundException($"Safetensors file '{Path}' has no tensor '{name}'.");
        }

        return entry;
    }

    private byte[] ReadRaw(SafeTensorsEntry entry)
    {
        long length = entry.End - entry.Begin;
        if (length > Array.MaxLength)
        {
            throw new InvalidDataException($"Tensor '{entry.Name}' in '{Path}' has {length} bytes, more than one array can hold.");
        }

        var raw = new byte[length];
        lock (_stream)
        {
            _stream.Position = _dataStart + entry.Begin;
            _stream.ReadExactly(raw);
        }

        return raw;
    }

    private static (Dictionary<string, SafeTensorsEntry>, IReadOnlyDictionary<string, string>) ParseHeader(string path, byte[] header, long dataLength)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw Invalid(path, $"the header is not valid JSON ({e.Message})");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Invalid(path, "the header is not a JSON object");
            }

            var entries = new Dictionary<string, SafeTensorsEntry>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind == JsonValueKind.Object)
                    {
                        foreach (JsonProperty item in property.Value.EnumerateObject())
                        {
                            metadata[item.Name] = item.Value.ValueKind == JsonValueKind.String ? item.Value.GetString()! : item.Value.GetRawText();
                        }
                    }

                    continue;
                }

                entries.Add(property.Name, ParseEntry(path, property, dataLength));
            }

            return (entries, metadata);
        }
    }

    private static SafeTensorsEntry ParseEntry(string path, JsonProperty property, long dataLength)
    {
        string name = property.Name;
        JsonElement value = property.Value;
        if (value.ValueKind != JsonValueKind.Object
            || !value.TryGetProperty("dtype", out JsonElement dtypeElement)
            || !value.TryGetProperty("shape", out JsonElement shapeElement)
            || !value.TryGetProperty("data_offsets", out JsonElement offsetsElement)
            || shapeElement.ValueKind != JsonValueKind.Array
            || offsetsElement.ValueKind != JsonValueKind.Array
            || offsetsElement.GetArrayLength() != 2)
        {
            throw Invalid(path, $"the header entry of tensor '{name}' lacks dtype, shape or data_offsets [begin, end]");
        }

        string dtypeText = dtypeElement.GetString() ?? string.Empty;
        if (!Enum.TryParse(dtypeText, ignoreCase: false, out SafeTensorsDType dtype) || !Enum.IsDefined(dtype))
        {
            throw Invalid(path, $"tensor '{name}' has dtype '{dtypeText}'; supported: {string.Join(", ", Enum.GetNames<SafeTensorsDType>())}");
        }

        long[] shape;
        long begin;
        long end;
        try
        {
            shape = shapeElement.EnumerateArray().Select(e => e.GetInt64()).ToArray();
            begin = offsetsElement[0].GetInt64();
            end = offsetsElement[1].GetInt64();
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            throw Invalid(path, $"tensor '{name}' has a non-integer shape or data offset");
        }

        if (shape.Any(d => d < 0))
        {
            throw Invalid(path, $"tensor '{name}' has a negative dimension in shape [{string.Join(", ", shape)}]");
        }

        var entry = new SafeTensorsEntry(name, dtype, shape, begin, end);
        long expected = checked(entry.ElementCount * ElementSize(dtype));
        if (begin < 0 || end < begin || end > dataLength)
        {
            throw Invalid(path, $"tensor '{name}' has data_offsets [{begin}, {end}] outside the data section ({dataLength} bytes); the file may be truncated");
        }

        if (end - begin != expected)
        {
            throw Invalid(path, $"tensor '{name}' ({dtype}, shape [{string.Join(", ", shape)}]) needs {expected} bytes but data_offsets span {end - begin}");
        }

        return entry;
    }

    internal static int ElementSize(SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.F64 or SafeTensorsDType.I64 => 8,
        SafeTensorsDType.F32 or SafeTensorsDType.I32 => 4,
        SafeTensorsDType.F16 or SafeTensorsDType.BF16 or SafeTensorsDType.I16 => 2,
        _ => 1,
    };

    private static InvalidDataException Invalid(string path, string problem) =>
        new($"'{path}' is not a valid safetensors file: {problem}.");
}

/// <summary>Writes safetensors files: float32 tensors as F32, integer tensors as I64.</summary>
internal static class SafeTensorsWriter
{
    /// <summary>
    /// Writes <paramref name="tensors"/> to <paramref name="path"/> (atomically: a temporary file in the
    /// same folder is renamed over the target only once complete). Tensors may live on any device.
    /// </summary>
    /// <param name="path">The file to write.</param>
    /// <param name="tensors">Name and tensor pairs; names must be unique.</param>
    /// <param name="metadata">Optional <c>__metadata__</c> string entries; <c>format: pt</c> is added when absent.</param>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var items = new List<(string Name, SafeTensorsDType DType, long[] Shape, byte[] Data)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in tensors)
        {
            if (!seen.Add(name))
            {
                throw new ArgumentException($"Tensor name '{name}' appears twice; safetensors names must be unique.", nameof(tensors));
            }

            items.Add(ToBytes(name, tensor));
        }

        using var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("__metadata__");
            var meta = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["format"] = "pt" };
            if (metadata is not null)
            {
                foreach (var (key, value) in metadata)
                {
                    meta[key] = value;
                }
            }

            foreach (var (key, value) in meta)
            {
                writer.WriteString(key, value);
            }

            writer.WriteEndObject();
            long offset = 0;
            foreach (var item in items)
            {
                writer.WriteStartObject(item.Name);
                writer.WriteString("dtype", item.DType.ToString());
                writer.WriteStartArray("shape");
                foreach (long d in item.Shape)
                {
                    writer.WriteNumberValue(d);
                }

                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                writer.WriteNumberValue(offset + item.Data.Length);
                writer.WriteEndArray();
                writer.WriteEndObject();
                offset += item.Data.Length;
            }

            writer.WriteEndObject();
        }

        // Pad the header with spaces so the data section starts 8-byte aligned, as the reference writer does.
        int padding = (int)((8 - (json.Length % 8)) % 8);
        for (int i = 0; i < padding; i++)
        {
            json.WriteByte((byte)' ');
        }

        string fullPath = System.IO.Path.GetFullPath(path);
        string directory = System.IO.Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(directory);
        string temporary = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                Span<byte> lengthBytes = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(lengthBytes, (ulong)json.Length);
                stream.Write(lengthBytes);
                json.Position = 0;
                json.CopyTo(stream);
                foreach (var item in items)
                {
                    stream.Write(item.Data);
                }

                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, fullPath, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }

    private static (string, SafeTensorsDType, long[], byte[]) ToBytes(string name, Tensor tensor)
    {
        using var scope = torch.NewDisposeScope();
        Tensor cpu = tensor.detach().cpu().contiguous();
        long[] shape = cpu.shape;
        if (cpu.is_floating_point())
        {
            float[] values = cpu.to_type(ScalarType.Float32).data<float>().ToArray();
            var bytes = new byte[values.Length * 4];
            for (int i = 0; i < values.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
            }

            return (name, SafeTensorsDType.F32, shape, bytes);
        }

        if (cpu.dtype is ScalarType.Int64 or ScalarType.Int32 or ScalarType.Int16 or ScalarType.Int8 or ScalarType.Byte or ScalarType.Bool)
        {
            long[] values = cpu.to_type(ScalarType.Int64).data<long>().ToArray();
            var bytes = new byte[values.Length * 8];
            for (int i = 0; i < values.Length; i++)
            {
                BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), values[i]);
            }

            return (name, SafeTensorsDType.I64, shape, bytes);
        }

        throw new ArgumentException($"Tensor '{name}' has dtype {cpu.dtype}; only floating-point and integer tensors can be written.");
    }
}
