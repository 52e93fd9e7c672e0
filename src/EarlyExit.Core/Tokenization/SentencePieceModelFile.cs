// The fields of a SentencePiece model file (sentencepiece_model.proto, protobuf) that the ALBERT
// tokenizer needs:
//
//   ModelProto       1: repeated SentencePiece pieces   2: TrainerSpec   3: NormalizerSpec
//   SentencePiece    1: piece (string)   2: score (float)   3: type (1 normal, 2 unknown, 3 control, 4 user defined, 5 unused, 6 byte)
//   TrainerSpec      3: model_type (1 unigram)   24: treat_whitespace_as_suffix   35: byte_fallback   40: unk_id
//   NormalizerSpec   2: precompiled_charsmap (bytes)   3: add_dummy_prefix   4: remove_extra_whitespaces   5: escape_whitespaces
//
// Protobuf merges repeated occurrences of an embedded message and keeps the last value of a scalar;
// the reader does the same.
using System.Buffers.Binary;
using System.Text;

namespace EarlyExit.Tokenization;

/// <summary>The pieces and normaliser settings of a SentencePiece model file.</summary>
internal sealed class SentencePieceModelFile
{
    /// <summary>SentencePiece's piece type for user-defined symbols (never split, never normalised).</summary>
    public const int UserDefinedType = 4;

    /// <summary>SentencePiece's piece type for normal pieces.</summary>
    public const int NormalType = 1;

    /// <summary>SentencePiece's piece type for reserved-but-unused pieces (never produced).</summary>
    public const int UnusedType = 5;

    /// <summary>Every piece, by id.</summary>
    public List<string> Pieces { get; } = [];

    /// <summary>Every piece's score (log probability), by id.</summary>
    public List<float> Scores { get; } = [];

    /// <summary>Every piece's type, by id (1 normal, 2 unknown, 3 control, 4 user defined, 5 unused, 6 byte).</summary>
    public List<int> Types { get; } = [];

    /// <summary>The unknown piece's id (TrainerSpec.unk_id, default 0).</summary>
    public int UnknownId { get; private set; }

    /// <summary>TrainerSpec.model_type (1 unigram, 2 BPE, 3 word, 4 char).</summary>
    public int ModelType { get; private set; } = 1;

    /// <summary>TrainerSpec.byte_fallback (default false).</summary>
    public bool ByteFallback { get; private set; }

    /// <summary>TrainerSpec.treat_whitespace_as_suffix (default false).</summary>
    public bool TreatWhitespaceAsSuffix { get; private set; }

    /// <summary>NormalizerSpec.precompiled_charsmap (empty when the model has no normalisation rules).</summary>
    public byte[] PrecompiledCharsMap { get; private set; } = [];

    /// <summary>NormalizerSpec.add_dummy_prefix (default true).</summary>
    public bool AddDummyPrefix { get; private set; } = true;

    /// <summary>NormalizerSpec.remove_extra_whitespaces (default true).</summary>
    public bool RemoveExtraWhitespaces { get; private set; } = true;

    /// <summary>NormalizerSpec.escape_whitespaces (default true).</summary>
    public bool EscapeWhitespaces { get; private set; } = true;

    /// <summary>Reads a model file; throws <see cref="InvalidDataException"/> naming the file when it is not a SentencePiece model.</summary>
    public static SentencePieceModelFile Read(string path)
    {
        var model = new SentencePieceModelFile();
        try
        {
            model.Parse(File.ReadAllBytes(path));
        }
        catch (Exception e) when (e is IndexOutOfRangeException or ArgumentException or InvalidDataException or OverflowException)
        {
            throw new InvalidDataException($"'{path}' is not a readable SentencePiece model: {e.Message}", e);
        }

        if (model.Pieces.Count == 0 || model.UnknownId < 0 || model.UnknownId >= model.Pieces.Count)
        {
            throw new InvalidDataException($"'{path}' is not a readable SentencePiece model: it holds {model.Pieces.Count} pieces and unknown id {model.UnknownId}.");
        }

        return model;
    }

    private void Parse(byte[] bytes)
    {
        foreach ((int field, int wire, _, ReadOnlyMemory<byte> data) in Fields(bytes))
        {
            if (field == 1 && wire == 2)
            {
                string piece = string.Empty;
                float score = 0;
                int type = NormalType;
                foreach ((int f, int w, ulong v, ReadOnlyMemory<byte> d) in Fields(data))
                {
                    if (f == 1 && w == 2)
                    {
                        piece = Encoding.UTF8.GetString(d.Span);
                    }
                    else if (f == 2 && w == 5)
                    {
                        score = BinaryPrimitives.ReadSingleLittleEndian(d.Span);
                    }
                    else if (f == 3 && w == 0)
                    {
                        type = (int)v;
                    }
                }

                Pieces.Add(piece);
                Scores.Add(score);
                Types.Add(type);
            }
            else if (field == 2 && wire == 2)
            {
                foreach ((int f, int w, ulong v, _) in Fields(data))
                {
                    if (w != 0)
                    {
                        continue;
                    }

                    switch (f)
                    {
                        case 3: ModelType = (int)v; break;
                        case 24: TreatWhitespaceAsSuffix = v != 0; break;
                        case 35: ByteFallback = v != 0; break;
                        case 40: UnknownId = (int)(long)v; break;
                    }
                }
            }
            else if (field == 3 && wire == 2)
            {
                foreach ((int f, int w, ulong v, ReadOnlyMemory<byte> d) in Fields(data))
                {
                    switch (f)
                    {
                        case 2 when w == 2: PrecompiledCharsMap = d.ToArray(); break;
                        case 3 when w == 0: AddDummyPrefix = v != 0; break;
                        case 4 when w == 0: RemoveExtraWhitespaces = v != 0; break;
                        case 5 when w == 0: EscapeWhitespaces = v != 0; break;
                    }
                }
            }
        }
    }

    // Protobuf wire format: key = (field << 3) | wire type; 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.
    private static IEnumerable<(int Field, int Wire, ulong Value, ReadOnlyMemory<byte> Data)> Fields(ReadOnlyMemory<byte> message)
    {
        int position = 0;
        while (position < message.Length)
        {
            ulong key = ReadVarint(message.Span, ref position);
            int field = (int)(key >> 3);
            int wire = (int)(key & 7);
            switch (wire)
            {
                case 0:
                    yield return (field, wire, ReadVarint(message.Span, ref position), default);
                    break;
                case 1:
                    yield return (field, wire, 0, message.Slice(position, 8));
                    position += 8;
                    break;
                case 2:
                    int length = checked((int)ReadVarint(message.Span, ref position));
                    if (length < 0 || position + length > message.Length)
                    {
                        throw new InvalidDataException($"a field {field} of {length} bytes runs past the end of its message");
                    }

                    yield return (field, wire, 0, message.Slice(position, length));
                    position += length;
                    break;
                case 5:
                    yield return (field, wire, 0, message.Slice(position, 4));
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"unknown protobuf wire type {wire} (field {field})");
            }
        }
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> data, ref int position)
    {
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            byte b = data[position++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        throw new InvalidDataException("a varint is longer than 10 bytes");
    }
}
