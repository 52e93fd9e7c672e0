// transformers' BasicTokenizer (models/bert/tokenization_bert.py), step by step on code points:
//   1. clean-up: drop U+0000, U+FFFD and every character of a C* category except \t \n \r; turn
//      \t \n \r, space and Zs characters into a space;
//   2. put spaces around CJK ideographs (tokenize_chinese_chars);
//   3. NFC;
//   4. Python str.split();
//   5. per word not in never_split: with do_lower_case, Python lower() and (unless strip_accents is
//      false) NFD with Mn characters dropped; without it, only the accent stripping if strip_accents is true;
//   6. split every punctuation character (ASCII 33-47, 58-64, 91-96, 123-126, or a P* category) into
//      its own word, except in never_split words;
//   7. join with spaces and str.split() again (drops words that became empty).
using System.Globalization;
using System.Text;

namespace EarlyExit.Tokenization;

/// <summary>BERT's rule-based pre-tokenizer (clean-up, CJK spacing, casing, accents, punctuation).</summary>
internal sealed class BertBasicTokenizer
{
    private readonly bool _doLowerCase;
    private readonly bool _tokenizeChineseChars;
    private readonly bool? _stripAccents;
    private readonly HashSet<string> _neverSplit;

    public BertBasicTokenizer(bool doLowerCase, bool tokenizeChineseChars, bool? stripAccents, IEnumerable<string> neverSplit)
    {
        _doLowerCase = doLowerCase;
        _tokenizeChineseChars = tokenizeChineseChars;
        _stripAccents = stripAccents;
        _neverSplit = new HashSet<string>(neverSplit, StringComparer.Ordinal);
    }

    /// <summary>Whether <paramref name="word"/> is in the never_split list of the tokenizer settings.</summary>
    public bool IsConfiguredNeverSplit(string word) => _neverSplit.Contains(word);

    /// <summary>Splits <paramref name="text"/> into words; words in <paramref name="neverSplit"/> (or the configured list) are kept as they are.</summary>
    public List<string> Tokenize(string text, IReadOnlySet<string> neverSplit)
    {
        bool NeverSplit(string word) => neverSplit.Contains(word) || _neverSplit.Contains(word);

        text = CleanText(text);
        if (_tokenizeChineseChars)
        {
            text = SpaceChineseCharacters(text);
        }

        text = PythonText.Normalize(text, NormalizationForm.FormC);
        var words = new List<string>();
        foreach (string original in PythonText.Split(text))
        {
            string word = original;
            if (!NeverSplit(word))
            {
                if (_doLowerCase)
                {
                    word = PythonText.Lower(word);
                    if (_stripAccents != false)
                    {
                        word = StripAccents(word);
                    }
                }
                else if (_stripAccents == true)
                {
                    word = StripAccents(word);
                }
            }

            if (NeverSplit(word))
            {
                words.Add(word);
            }
            else
            {
                SplitOnPunctuation(word, words);
            }
        }

        return PythonText.Split(string.Join(' ', words));
    }

    private static string CleanText(string text)
    {
        var builder = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length;)
        {
            int cp = PythonText.CodePointAt(text, i, out int length);
            if (cp == 0 || cp == 0xFFFD || IsControl(cp))
            {
                // dropped
            }
            else if (IsWhitespace(cp))
            {
                builder.Append(' ');
            }
            else
            {
                builder.Append(text, i, length);
            }

            i += length;
        }

        return builder.ToString();
    }

    private static string SpaceChineseCharacters(string text)
    {
        var builder = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length;)
        {
            int cp = PythonText.CodePointAt(text, i, out int length);
            if (IsChineseCharacter(cp))
            {
                builder.Append(' ').Append(text, i, length).Append(' ');
            }
            else
            {
                builder.Append(text, i, length);
            }

            i += length;
        }

        return builder.ToString();
    }

    private static string StripAccents(string word)
    {
        string decomposed = PythonText.Normalize(word, NormalizationForm.FormD);
        var builder = new StringBuilder(decomposed.Length);
        for (int i = 0; i < decomposed.Length;)
        {
            int cp = PythonText.CodePointAt(decomposed, i, out int length);
            if (PythonText.Category(cp) != UnicodeCategory.NonSpacingMark)
            {
                builder.Append(decomposed, i, length);
            }

            i += length;
        }

        return builder.ToString();
    }

    private static void SplitOnPunctuation(string word, List<string> output)
    {
        int start = 0;
        for (int i = 0; i < word.Length;)
        {
            int cp = PythonText.CodePointAt(word, i, out int length);
            if (IsPunctuation(cp))
            {
                if (i > start)
                {
                    output.Add(word[start..i]);
                }

                output.Add(word.Substring(i, length));
                start = i + length;
            }

            i += length;
        }

        if (start < word.Length)
        {
            output.Add(word[start..]);
        }
    }

    private static bool IsWhitespace(int cp) => cp is ' ' or '\t' or '\n' or '\r' || PythonText.Category(cp) == UnicodeCategory.SpaceSeparator;

    private static bool IsControl(int cp)
    {
        if (cp is '\t' or '\n' or '\r')
        {
            return false;
        }

        return PythonText.Category(cp) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.OtherNotAssigned
            or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate;
    }

    private static bool IsPunctuation(int cp)
    {
        if (cp is (>= 33 and <= 47) or (>= 58 and <= 64) or (>= 91 and <= 96) or (>= 123 and <= 126))
        {
            return true;
        }

        return PythonText.Category(cp) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }

    // The "CJK Unified Ideographs" blocks BERT spaces out (not Kana, Hangul or full-width Latin).
    private static bool IsChineseCharacter(int cp) =>
        cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF) or (>= 0x2A700 and <= 0x2B73F)
            or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B820 and <= 0x2CEAF) or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);
}
