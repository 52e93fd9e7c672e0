// The protocol-buffers wire format, as far as ONNX files need it: varints, 32-bit floats and
// length-delimited fields (strings, bytes, packed ints, nested messages). ONNX's schema is fixed,
// so a writer of these four wire types is all the exporter needs, and the library takes no protobuf
// dependency. Field numbers are ONNX's (onnx/onnx.proto); OnnxGraph names each one where it writes it.
using System.Buffers.Binary;
using System.Text;

namespace EarlyExit.Onnx;

/// <summary>Writes one protocol-buffers message into memory.</summary>
internal sealed class ProtoWriter
{
    private const int VarintType = 0;
    private const int LengthDelimitedType = 2;
    private const int Fixed32Type = 5;

    private readonly MemoryStream _stream = new();

    /// <summary>An int32, int64 or enum field.</summary>
    public void Int(int field, long value)
    {
        Tag(field, VarintType);
        Varint(unchecked((ulong)value));
    }

    /// <summary>A float field.</summary>
    public void Float(int field, float value)
    {
        Tag(field, Fixed32Type);
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        _stream.Write(bytes);
    }

    /// <summary>A string field (UTF-8).</summary>
    public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    /// <summary>A bytes field.</summary>
    public void Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, LengthDelimitedType);
        Varint((ulong)value.Length);
        _stream.Write(value);
    }

    /// <summary>A repeated int64 field, packed.</summary>
    public void PackedInts(int field, IEnumerable<long> values)
    {
        var packed = new ProtoWriter();
        foreach (long value in values)
        {
            packed.Varint(unchecked((ulong)value));
        }

        Bytes(field, packed.ToArray());
    }

    /// <summary>A nested message, written by <paramref name="write"/>.</summary>
    public void Message(int field, Action<ProtoWriter> write)
    {
        var inner = new ProtoWriter();
        write(inner);
        Tag(field, LengthDelimitedType);
        Varint((ulong)inner._stream.Length);
        inner._stream.Position = 0;
        inner._stream.CopyTo(_stream);
    }

    /// <summary>The message's bytes.</summary>
    public byte[] ToArray() => _stream.ToArray();

    private void Tag(int field, int wireType) => Varint((ulong)((field << 3) | wireType));

    private void Varint(ulong value)
    {
        while (value >= 0x80)
        {
            _stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        _stream.WriteByte((byte)value);
    }
}
