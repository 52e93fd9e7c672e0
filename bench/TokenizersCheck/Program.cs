// Why EarlyExit.Core keeps its own SentencePiece unigram (src/EarlyExit.Core/Tokenization/SentencePieceUnigram.cs):
// this program runs the referenced Microsoft.ML.Tokenizers' SentencePieceTokenizer on albert-base-v2's
// spiece.model and compares its ids with the golden ids of transformers' AlbertTokenizer.
//
// 1. Loading the model as it is (bos_id = eos_id = -1): the exception, if any.
// 2. Loaded from a copy whose trainer_spec names bos/eos ids 2 and 3 ([CLS], [SEP]; only the load needs
//    them, no text contains them): the golden single texts that are not truncated, after AlbertTokenizer's
//    own preprocessing (spaces collapsed, `` and '' to ", NFKD without combining marks, lower case).
//    AlbertTokenizer's digit-comma rule and its added-token splitting are not applied, so texts that
//    exercise them differ for that reason alone; they are listed as such.
// Output: one line per differing text, then the count.
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;

string folder = args.Length > 0 ? args[0] : Path.Combine("..", "shared", "models", "albert-base-v2");
byte[] model = File.ReadAllBytes(Path.Combine(folder, "spiece.model"));
string version = typeof(SentencePieceTokenizer).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
    .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion.Split('+')[0] ?? "?";
Console.WriteLine($"Microsoft.ML.Tokenizers {version}, {Path.GetFullPath(folder)}");

try
{
    SentencePieceTokenizer.Create(new MemoryStream(model), addBeginningOfSentence: false, addEndOfSentence: false);
    Console.WriteLine("load as is: loads");
}
catch (Exception e)
{
    Console.WriteLine($"load as is: {e.GetType().Name}: {e.Message}");
}

SentencePieceTokenizer tokenizer = SentencePieceTokenizer.Create(new MemoryStream(Protobuf.WithBosEos(model, 2, 3)), addBeginningOfSentence: false, addEndOfSentence: false);
var pieceOf = tokenizer.Vocabulary.ToDictionary(kv => kv.Value, kv => kv.Key);
using JsonDocument manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "golden", "manifest.json")));
int same = 0, compared = 0;
foreach (JsonElement text in manifest.RootElement.GetProperty("texts").EnumerateArray())
{
    if (text.GetProperty("truncated").GetBoolean())
    {
        continue;
    }

    string raw = text.GetProperty("text").GetString()!;
    string[] golden = text.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!).ToArray()[1..^1];   // without [CLS] ... [SEP]
    string[] ours = tokenizer.EncodeToIds(Preprocess(raw)).Select(id => pieceOf[id]).ToArray();
    compared++;
    if (golden.SequenceEqual(ours))
    {
        same++;
        continue;
    }

    string why = golden.Any(p => p is "[CLS]" or "[SEP]" or "[MASK]" or "<pad>") ? " (added tokens: AlbertTokenizer splits them off first)"
        : golden.Any(p => p.Length > 1 && char.IsDigit(p[^1]) && ours.Contains(p + ",")) || ours.Any(p => p.Length > 2 && p[^1] == ',' && char.IsDigit(p[^2])) ? " (AlbertTokenizer's digit-comma rule)"
        : ours.Count(p => p == "<unk>") > golden.Count(p => p == "<unk>")
            ? golden.Contains("<unk>") ? " (one <unk> per unknown character, not per run)" : " (a normaliser rule left unapplied)"
        : golden.Length == ours.Length ? " (a near tie between segmentations decided the other way)" : " (another segmentation)";
    Console.WriteLine($"{text.GetProperty("key").GetString()}{why}: {JsonSerializer.Serialize(raw)}");
    Console.WriteLine($"  golden     {string.Join(' ', golden)}");
    Console.WriteLine($"  Tokenizers {string.Join(' ', ours)}");
}

Console.WriteLine($"{same} of {compared} untruncated golden texts identical");

// transformers' AlbertTokenizer.preprocess_text with its defaults (remove_space, keep_accents false, do_lower_case).
static string Preprocess(string text)
{
    string spaced = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).Replace("``", "\"").Replace("''", "\"");
    var kept = new StringBuilder();
    foreach (char c in spaced.Normalize(NormalizationForm.FormKD))
    {
        if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark)
        {
            kept.Append(c);
        }
    }

    return kept.ToString().ToLowerInvariant();
}

/// <summary>Just enough protobuf to rewrite two varint fields of a SentencePiece ModelProto's trainer_spec.</summary>
internal static class Protobuf
{
    private const int TrainerSpec = 2, BosId = 41, EosId = 42;

    /// <summary>The model with trainer_spec.bos_id and eos_id set; every other field byte for byte as it was.</summary>
    public static byte[] WithBosEos(byte[] model, int bos, int eos)
    {
        var output = new MemoryStream();
        foreach ((int field, int wire, byte[] bytes) in Fields(model))
        {
            if (field == TrainerSpec && wire == 2)
            {
                var spec = new MemoryStream();
                foreach ((int f, int w, byte[] b) in Fields(ReadLengthDelimited(bytes)))
                {
                    if (f is not (BosId or EosId))
                    {
                        spec.Write(b);
                    }
                }

                WriteVarint(spec, (ulong)(BosId << 3));
                WriteVarint(spec, (ulong)bos);
                WriteVarint(spec, (ulong)(EosId << 3));
                WriteVarint(spec, (ulong)eos);
                WriteVarint(output, (ulong)(TrainerSpec << 3 | 2));
                WriteVarint(output, (ulong)spec.Length);
                output.Write(spec.ToArray());
            }
            else
            {
                output.Write(bytes);
            }
        }

        return output.ToArray();
    }

    // Each field with its raw bytes (tag included); for length-delimited fields the payload follows its length.
    private static IEnumerable<(int Field, int Wire, byte[] Bytes)> Fields(byte[] message)
    {
        int position = 0;
        while (position < message.Length)
        {
            int start = position;
            ulong tag = ReadVarint(message, ref position);
            int wire = (int)(tag & 7);
            switch (wire)
            {
                case 0: ReadVarint(message, ref position); break;
                case 1: position += 8; break;
                case 2:
                    int length = (int)ReadVarint(message, ref position);   // before the +=, which would read position first
                    position += length;
                    break;
                case 5: position += 4; break;
                default: throw new InvalidDataException($"spiece.model: wire type {wire} at byte {start} is not supported.");
            }

            yield return ((int)(tag >> 3), wire, message[start..position]);
        }
    }

    private static byte[] ReadLengthDelimited(byte[] field)
    {
        int position = 0;
        ReadVarint(field, ref position);   // the tag
        int length = (int)ReadVarint(field, ref position);
        return field[position..(position + length)];
    }

    private static ulong ReadVarint(byte[] bytes, ref int position)
    {
        ulong value = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = bytes[position++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }

    private static void WriteVarint(Stream stream, ulong value)
    {
        while (value >= 0x80)
        {
            stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        stream.WriteByte((byte)value);
    }
}
