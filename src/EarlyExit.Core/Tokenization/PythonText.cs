// Python 3 `str` semantics that the Hugging Face slow tokenizers rely on and .NET does not share:
// what counts as whitespace for str.split()/strip(), full lower-casing (U+0130 becomes two code
// points, a capital sigma at the end of a word becomes ς), str.isdigit(), unicodedata.combining(),
// and the Unicode version: Python 3.11 (which made the goldens) has Unicode 14.0, .NET 10 a newer
// one, so characters added since are treated as unassigned here, as Python treats them (UnicodeTables).
// The tokenizers work on code points, as Python does; .NET strings are UTF-16, so every loop here
// walks code points and keeps unpaired surrogates as they are.
using System.Globalization;
using System.Text;

namespace EarlyExit.Tokenization;

/// <summary>Python string helpers, implemented on Unicode code points.</summary>
internal static class PythonText
{
    /// <summary>Python's <c>str.isspace()</c>: bidirectional class WS/B/S or category Zs (includes U+001C..U+001F, unlike Unicode White_Space).</summary>
    public static bool IsSpace(int codePoint) => codePoint switch
    {
        >= 0x09 and <= 0x0D => true,
        >= 0x1C and <= 0x20 => true,
        0x85 or 0xA0 or 0x1680 or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        >= 0x2000 and <= 0x200A => true,
        _ => false,
    };

    /// <summary>The Unicode White_Space property: what <c>\s</c> matches in the Python <c>regex</c> module (no U+001C..U+001F).</summary>
    public static bool IsUnicodeWhiteSpace(int codePoint) => codePoint is not (>= 0x1C and <= 0x1F) && IsSpace(codePoint);

    /// <summary>Python's <c>str.isdigit()</c>: numeric type Decimal or Digit (ASCII digits, other scripts' digits, superscripts, circled digits).</summary>
    public static bool IsDigit(int codePoint) =>
        !IsSurrogate(codePoint) && !UnicodeTables.IsUnassigned(codePoint) && CharUnicodeInfo.GetDigitValue(char.ConvertFromUtf32(codePoint), 0) >= 0;

    /// <summary><c>unicodedata.combining(c) != 0</c>: the code point has a non-zero canonical combining class.</summary>
    public static bool IsCombining(int codePoint) => UnicodeTables.HasNonZeroCombiningClass(codePoint);

    /// <summary>
    /// <c>unicodedata.category</c>: the general category as of Unicode 14.0 (characters added later are
    /// <see cref="UnicodeCategory.OtherNotAssigned"/>; unpaired surrogates are <see cref="UnicodeCategory.Surrogate"/>).
    /// </summary>
    public static UnicodeCategory Category(int codePoint) =>
        UnicodeTables.IsUnassigned(codePoint) ? UnicodeCategory.OtherNotAssigned : CharUnicodeInfo.GetUnicodeCategory(codePoint);

    /// <summary>Reads the code point at <paramref name="index"/>; an unpaired surrogate is returned as its own value.</summary>
    public static int CodePointAt(string text, int index, out int length)
    {
        char c = text[index];
        if (char.IsHighSurrogate(c) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]))
        {
            length = 2;
            return char.ConvertToUtf32(c, text[index + 1]);
        }

        length = 1;
        return c;
    }

    /// <summary>The code points of <paramref name="text"/>, in order.</summary>
    public static List<int> CodePoints(string text)
    {
        var result = new List<int>(text.Length);
        for (int i = 0; i < text.Length;)
        {
            result.Add(CodePointAt(text, i, out int length));
            i += length;
        }

        return result;
    }

    /// <summary>The number of code points (Python's <c>len</c>).</summary>
    public static int Length(string text)
    {
        int count = 0;
        for (int i = 0; i < text.Length; count++)
        {
            CodePointAt(text, i, out int length);
            i += length;
        }

        return count;
    }

    /// <summary>Appends one code point (an unpaired surrogate is appended as that single UTF-16 unit).</summary>
    public static StringBuilder AppendCodePoint(this StringBuilder builder, int codePoint) =>
        IsSurrogate(codePoint) || codePoint < 0x10000 ? builder.Append((char)codePoint) : builder.Append(char.ConvertFromUtf32(codePoint));

    /// <summary>Python's <c>str.split()</c> with no argument: runs of <see cref="IsSpace"/> separate words; no empty words.</summary>
    public static List<string> Split(string text)
    {
        var words = new List<string>();
        int start = -1;
        for (int i = 0; i < text.Length;)
        {
            int cp = CodePointAt(text, i, out int length);
            if (IsSpace(cp))
            {
                if (start >= 0)
                {
                    words.Add(text[start..i]);
                    start = -1;
                }
            }
            else if (start < 0)
            {
                start = i;
            }

            i += length;
        }

        if (start >= 0)
        {
            words.Add(text[start..]);
        }

        return words;
    }

    /// <summary>Python's <c>str.strip()</c> with no argument.</summary>
    public static string Strip(string text) => RStrip(LStrip(text));

    /// <summary>Python's <c>str.lstrip()</c> with no argument.</summary>
    public static string LStrip(string text)
    {
        int i = 0;
        while (i < text.Length)
        {
            int cp = CodePointAt(text, i, out int length);
            if (!IsSpace(cp))
            {
                break;
            }

            i += length;
        }

        return text[i..];
    }

    /// <summary>Python's <c>str.rstrip()</c> with no argument.</summary>
    public static string RStrip(string text)
    {
        int end = text.Length;
        while (end > 0)
        {
            // Every Python space is in the BMP, so one UTF-16 unit is one code point here.
            if (!IsSpace(text[end - 1]))
            {
                break;
            }

            end--;
        }

        return text[..end];
    }

    /// <summary>
    /// Lower-cases one code point at a time, as transformers' <c>tokenize()</c> does with
    /// <c>re.sub(..., m.groups()[1].lower())</c> over single characters: no context, so no final-sigma
    /// rule. Python applies the full lower-case mapping, which differs from .NET's simple mapping
    /// only for U+0130 (İ becomes i + U+0307).
    /// </summary>
    public static void AppendLowerCodePoint(StringBuilder builder, int codePoint)
    {
        if (codePoint == CapitalIWithDotAbove)
        {
            builder.Append('i').Append('\u0307');
        }
        else if (IsSurrogate(codePoint) || UnicodeTables.IsUnassigned(codePoint))
        {
            builder.AppendCodePoint(codePoint);
        }
        else
        {
            builder.AppendCodePoint(Rune.ToLowerInvariant(new Rune(codePoint)).Value);
        }
    }

    /// <summary>
    /// Python's <c>str.lower()</c> on a whole string: the per-code-point mapping of
    /// <see cref="AppendLowerCodePoint"/> plus the Final_Sigma rule (Σ becomes ς after a cased letter
    /// and not before one, skipping case-ignorable characters).
    /// </summary>
    public static string Lower(string text)
    {
        List<int> cps = CodePoints(text);
        var builder = new StringBuilder(text.Length);
        for (int i = 0; i < cps.Count; i++)
        {
            if (cps[i] == CapitalSigma && IsFinalSigma(cps, i))
            {
                builder.Append('\u03C2');
            }
            else
            {
                AppendLowerCodePoint(builder, cps[i]);
            }
        }

        return builder.ToString();
    }

    /// <summary>
    /// <c>unicodedata.normalize(form, text)</c>. Python leaves code points it does not know (unassigned
    /// in Unicode 14.0, U+FFFE) and unpaired surrogates as they are, and as starters they separate what
    /// comes before from what comes after; so they are kept here and the runs between them are
    /// normalised on their own (.NET would decompose newer characters, and throws on U+FFFE).
    /// </summary>
    public static string Normalize(string text, NormalizationForm form)
    {
        var builder = new StringBuilder(text.Length);
        int runStart = 0;
        for (int i = 0; i < text.Length;)
        {
            int cp = CodePointAt(text, i, out int length);
            if (IsSurrogate(cp) || UnicodeTables.IsUnassigned(cp))
            {
                builder.Append(NormalizeRun(text[runStart..i], form)).Append(text, i, length);
                runStart = i + length;
            }

            i += length;
        }

        return runStart == 0 ? NormalizeRun(text, form) : builder.Append(NormalizeRun(text[runStart..], form)).ToString();
    }

    private const int CapitalIWithDotAbove = 0x0130;
    private const int CapitalSigma = 0x03A3;

    private static bool IsSurrogate(int codePoint) => codePoint is >= 0xD800 and <= 0xDFFF;

    private static string NormalizeRun(string run, NormalizationForm form)
    {
        try
        {
            return run.IsNormalized(form) ? run : run.Normalize(form);
        }
        catch (ArgumentException)
        {
            return run; // not expected once unassigned code points are split off
        }
    }

    private static bool IsFinalSigma(List<int> cps, int index)
    {
        int before = index - 1;
        while (before >= 0 && IsCaseIgnorable(cps[before]))
        {
            before--;
        }

        if (before < 0 || !IsCased(cps[before]))
        {
            return false;
        }

        int after = index + 1;
        while (after < cps.Count && IsCaseIgnorable(cps[after]))
        {
            after++;
        }

        return after == cps.Count || !IsCased(cps[after]);
    }

    // Cased: has a case (Lu, Ll, Lt) or changes under case mapping (roman numerals, circled letters).
    private static bool IsCased(int codePoint)
    {
        if (IsSurrogate(codePoint))
        {
            return false;
        }

        UnicodeCategory category = Category(codePoint);
        if (category is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter)
        {
            return true;
        }

        var rune = new Rune(codePoint);
        return Rune.ToLowerInvariant(rune) != rune || Rune.ToUpperInvariant(rune) != rune;
    }

    // Case_Ignorable: Mn, Me, Cf, Lm, Sk, and the word-break MidLetter/MidNumLet/Single_Quote characters.
    private static bool IsCaseIgnorable(int codePoint)
    {
        if (codePoint is '\'' or '.' or ':' or 0x00B7 or 0x0387 or 0x05F4 or 0x2018 or 0x2019 or 0x2024 or 0x2027
            or 0xFE13 or 0xFE52 or 0xFE55 or 0xFF07 or 0xFF0E or 0xFF1A)
        {
            return true;
        }

        return Category(codePoint) is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format
            or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol;
    }
}
