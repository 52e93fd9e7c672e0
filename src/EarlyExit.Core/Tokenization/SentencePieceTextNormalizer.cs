// SentencePiece's text normaliser (normalizer.cc), driven by the rules compiled into the model file
// (ALBERT: "nmt_nfkc" = NFKC plus dropping control characters and folding odd spaces).
//
// Why this is not Microsoft.ML.Tokenizers' SentencePieceNormalizer: it leaves rules of ALBERT's map
// unapplied. A rule whose replacement is the empty string counts as "no rule", so the control
// characters nmt_nfkc deletes (U+0007, U+001B, U+007F) stay and become <unk> pieces (golden text37:
// "Bell\x07 escape\x1b[0m" must give ▁bell ▁escape [ ...). Still so in 3.0.0 (checked 2026-12-03).
// 2.0.1 also kept U+200D and U+FEFF, which the map turns into spaces (golden text33), and did not
// compose Hangul jamo sequences; 3.0.0 handles both.
//
// *** precompiled_charsmap layout ***
//   u32 little-endian   T, the byte size of the trie
//   T bytes             a darts-clone double-array trie over UTF-8 input; each match's value is an offset into the pool
//   rest                pool of NUL-terminated UTF-8 replacement strings
using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace EarlyExit.Tokenization;

/// <summary>Normalises text as SentencePiece does before its segmentation (the result is what the pieces cover).</summary>
internal sealed class SentencePieceTextNormalizer
{
    private const string SpaceSymbol = "\u2581";
    private static readonly byte[] s_spaceSymbolUtf8 = Encoding.UTF8.GetBytes(SpaceSymbol);
    private static readonly byte[] s_replacementUtf8 = Encoding.UTF8.GetBytes("\uFFFD");

    private readonly uint[] _trie;
    private readonly byte[] _pool;
    private readonly byte[][] _userDefinedSymbols;
    private readonly bool _addDummyPrefix;
    private readonly bool _removeExtraWhitespaces;
    private readonly bool _escapeWhitespaces;
    private readonly bool _treatWhitespaceAsSuffix;

    public SentencePieceTextNormalizer(SentencePieceModelFile model)
    {
        _addDummyPrefix = model.AddDummyPrefix;
        _removeExtraWhitespaces = model.RemoveExtraWhitespaces;
        _escapeWhitespaces = model.EscapeWhitespaces;
        _treatWhitespaceAsSuffix = model.TreatWhitespaceAsSuffix;
        _userDefinedSymbols = model.Pieces.Where((_, id) => model.Types[id] == SentencePieceModelFile.UserDefinedType)
            .Select(p => Encoding.UTF8.GetBytes(p)).Where(b => b.Length > 0).ToArray();

        byte[] blob = model.PrecompiledCharsMap;
        if (blob.Length == 0)
        {
            _trie = [];
            _pool = [];
            return;
        }

        uint trieSize = BinaryPrimitives.ReadUInt32LittleEndian(blob);
        if (trieSize % 4 != 0 || 4 + trieSize > blob.Length)
        {
            throw new InvalidDataException($"The SentencePiece precompiled_charsmap declares a {trieSize}-byte trie in a {blob.Length}-byte blob.");
        }

        _trie = new uint[trieSize / 4];
        for (int i = 0; i < _trie.Length; i++)
        {
            _trie[i] = BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(4 + (4 * i)));
        }

        _pool = blob[(int)(4 + trieSize)..];
    }

    /// <summary>
    /// The normalised text: rules applied, whitespace runs collapsed and trimmed (remove_extra_whitespaces),
    /// spaces escaped as ▁ and one ▁ added in front (add_dummy_prefix). Empty when nothing but whitespace remains.
    /// </summary>
    public string Normalize(string text)
    {
        byte[] input = Encoding.UTF8.GetBytes(text);
        var output = new List<byte>(input.Length + 8);
        int position = 0;

        if (_removeExtraWhitespaces)
        {
            while (position < input.Length)
            {
                int consumed = NormalizePrefix(input, position, out ReadOnlySpan<byte> replacement);
                if (replacement.Length != 1 || replacement[0] != (byte)' ')
                {
                    break;
                }

                position += consumed;
            }
        }

        if (position == input.Length)
        {
            return string.Empty;
        }

        if (!_treatWhitespaceAsSuffix && _addDummyPrefix)
        {
            AppendSpace(output);
        }

        bool previousWasSpace = _removeExtraWhitespaces;
        while (position < input.Length)
        {
            int consumed = NormalizePrefix(input, position, out ReadOnlySpan<byte> piece);
            while (previousWasSpace && piece.Length > 0 && piece[0] == (byte)' ')
            {
                piece = piece[1..];
            }

            if (piece.Length > 0)
            {
                foreach (byte b in piece)
                {
                    if (b == (byte)' ')
                    {
                        AppendSpace(output);
                    }
                    else
                    {
                        output.Add(b);
                    }
                }

                previousWasSpace = piece[^1] == (byte)' ';
            }

            position += consumed;
            if (!_removeExtraWhitespaces)
            {
                previousWasSpace = false;
            }
        }

        if (_removeExtraWhitespaces)
        {
            byte[] space = _escapeWhitespaces ? s_spaceSymbolUtf8 : [(byte)' '];
            while (output.Count >= space.Length && output.Skip(output.Count - space.Length).SequenceEqual(space))
            {
                output.RemoveRange(output.Count - space.Length, space.Length);
            }
        }

        if (_treatWhitespaceAsSuffix && _addDummyPrefix)
        {
            AppendSpace(output);
        }

        return Encoding.UTF8.GetString(output.ToArray());
    }

    private void AppendSpace(List<byte> output)
    {
        if (_escapeWhitespaces)
        {
            output.AddRange(s_spaceSymbolUtf8);
        }
        else
        {
            output.Add((byte)' ');
        }
    }

    // One step of the normaliser: how many input bytes at `position` are consumed and what replaces them.
    // User-defined symbols pass through untouched; otherwise the longest rule of the trie applies;
    // otherwise one UTF-8 character is copied (a malformed byte becomes U+FFFD).
    private int NormalizePrefix(byte[] input, int position, out ReadOnlySpan<byte> replacement)
    {
        ReadOnlySpan<byte> rest = input.AsSpan(position);
        int userDefined = 0;
        foreach (byte[] symbol in _userDefinedSymbols)
        {
            if (symbol.Length > userDefined && rest.StartsWith(symbol))
            {
                userDefined = symbol.Length;
            }
        }

        if (userDefined > 0)
        {
            replacement = rest[..userDefined];
            return userDefined;
        }

        if (LongestRule(rest, out int length, out int value))
        {
            int end = value;
            while (end < _pool.Length && _pool[end] != 0)
            {
                end++;
            }

            replacement = _pool.AsSpan(value, end - value);
            return length;
        }

        int charLength = Utf8CharLength(rest);
        if (charLength == 0)
        {
            replacement = s_replacementUtf8;
            return 1;
        }

        replacement = rest[..charLength];
        return charLength;
    }

    // darts-clone common-prefix search, keeping the longest match. A unit packs: bit 8 has_leaf,
    // bits 10.. the offset (shifted by 8 more when bit 9 is set), the low byte (and bit 31) the label;
    // a leaf unit's low 31 bits are the value.
    private bool LongestRule(ReadOnlySpan<byte> key, out int length, out int value)
    {
        length = 0;
        value = 0;
        if (_trie.Length == 0)
        {
            return false;
        }

        uint nodePos = Offset(_trie[0]);
        for (int i = 0; i < key.Length; i++)
        {
            nodePos ^= key[i];
            if (nodePos >= _trie.Length)
            {
                break;
            }

            uint unit = _trie[nodePos];
            if ((unit & ((1u << 31) | 0xFF)) != key[i])
            {
                break;
            }

            nodePos ^= Offset(unit);
            if (((unit >> 8) & 1) == 1 && nodePos < _trie.Length)
            {
                length = i + 1;
                value = (int)(_trie[nodePos] & ((1u << 31) - 1));
            }
        }

        return length > 0;
    }

    private static uint Offset(uint unit) => (unit >> 10) << (int)((unit & (1u << 9)) >> 6);

    // The byte length of the well-formed UTF-8 character at the start of `bytes`, or 0 when malformed.
    private static int Utf8CharLength(ReadOnlySpan<byte> bytes) =>
        Rune.DecodeFromUtf8(bytes, out _, out int consumed) == OperationStatus.Done ? consumed : 0;
}
