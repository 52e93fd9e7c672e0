// The GPT-2 / RoBERTa pre-tokenizer, i.e. the Python `regex` pattern
//
//     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// matched with findall. It is written out by hand instead of as a .NET Regex because .NET's regex
// engine classifies UTF-16 units, not code points: a letter or digit outside the BMP (𝐀, 𠀀, 𝟏) is two
// surrogates there, which \p{L} does not match, while Python's regex sees one letter. \s is the
// Unicode White_Space property (what the regex module uses; it excludes U+001C..U+001F). \p{L} and
// \p{N} use .NET's current Unicode data: the regex module ships its own Unicode tables, whose version
// the goldens do not record, so there is no better-known version to pin.
using System.Globalization;
using Microsoft.ML.Tokenizers;

namespace EarlyExit.Tokenization;

/// <summary>Splits text into GPT-2 pre-tokens (words with their leading space, numbers, symbol runs, whitespace runs).</summary>
internal sealed class Gpt2PreTokenizer : PreTokenizer
{
    /// <summary>The shared instance (the pre-tokenizer has no state).</summary>
    public static readonly Gpt2PreTokenizer Instance = new();

    private static readonly string[] s_contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

    private enum Kind
    {
        Letter,
        Number,
        Space,
        Other,
    }

    /// <inheritdoc />
    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => Split(text);

    /// <inheritdoc />
    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => Split(text.ToString());

    /// <summary>The pre-tokens of <paramref name="text"/> as (UTF-16 offset, UTF-16 length), in order, covering the whole text.</summary>
    public static List<(int Offset, int Length)> Split(string text)
    {
        var result = new List<(int, int)>();
        int i = 0;
        while (i < text.Length)
        {
            int end = MatchAt(text, i);
            result.Add((i, end - i));
            i = end;
        }

        return result;
    }

    // The end of the leftmost alternative that matches at `start` (every position matches one).
    private static int MatchAt(string text, int start)
    {
        foreach (string contraction in s_contractions)
        {
            if (text.AsSpan(start).StartsWith(contraction, StringComparison.Ordinal))
            {
                return start + contraction.Length;
            }
        }

        Kind first = KindAt(text, start, out int firstLength);

        // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional ASCII space, then a run of one kind.
        int runStart = start;
        Kind runKind = first;
        if (text[start] == ' ' && start + 1 < text.Length)
        {
            Kind next = KindAt(text, start + 1, out _);
            if (next != Kind.Space)
            {
                runStart = start + 1;
                runKind = next;
            }
        }

        if (runKind != Kind.Space)
        {
            return RunEnd(text, runStart, runKind);
        }

        // `\s+(?!\S)`: the whitespace run, minus its last character when a non-space follows.
        int spaceEnd = RunEnd(text, start, Kind.Space);
        if (spaceEnd == text.Length)
        {
            return spaceEnd;
        }

        int lastStart = spaceEnd - 1;
        if (lastStart > start)
        {
            return lastStart;
        }

        // `\s+`: a single whitespace character followed by a non-space.
        return start + firstLength;
    }

    private static int RunEnd(string text, int start, Kind kind)
    {
        int i = start;
        while (i < text.Length && KindAt(text, i, out int length) == kind)
        {
            i += length;
        }

        return i;
    }

    private static Kind KindAt(string text, int index, out int length)
    {
        int cp = PythonText.CodePointAt(text, index, out length);
        if (PythonText.IsUnicodeWhiteSpace(cp))
        {
            return Kind.Space;
        }

        return CharUnicodeInfo.GetUnicodeCategory(cp) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => Kind.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Kind.Number,
            _ => Kind.Other,
        };
    }
}
