using EarlyExit.Tokenization;

namespace EarlyExit.Tests.Tokenization;

public class Gpt2PreTokenizerTests
{
    private static string[] Split(string text) => Gpt2PreTokenizer.Split(text).Select(p => text.Substring(p.Offset, p.Length)).ToArray();

    [Fact]
    public void Split_WordsNumbersAndSymbols_KeepTheirLeadingSpace()
    {
        Assert.Equal(["Hello", " world", "!", " 42", " ?!"], Split("Hello world! 42 ?!"));
    }

    [Fact]
    public void Split_WhitespaceRuns_LeaveTheLastSpaceToTheNextWord()
    {
        Assert.Equal([" ", " x", "  "], Split("  x  "));
        Assert.Equal(["a", "\n", "b"], Split("a\nb"));
        Assert.Equal(["a", "\n\n", " b"], Split("a\n\n b"));
    }

    [Fact]
    public void Split_Contractions_AreSeparateLowerCaseOnly()
    {
        Assert.Equal(["I", "'m", " can", "'t", " I", "'", "M"], Split("I'm can't I'M"));
    }

    [Fact]
    public void Split_LettersOutsideTheBmp_AreLetters()
    {
        // .NET's Regex sees surrogates here; Python's regex module sees letters and digits.
        Assert.Equal(["a𝐀b", " 𝟏𝟐"], Split("a𝐀b 𝟏𝟐"));
    }

    [Fact]
    public void Split_InformationSeparator_IsASymbolNotWhitespace()
    {
        Assert.Equal(["unit", "\u001f", "separator", " \u001f"], Split("unit\u001fseparator \u001f"));
    }

    [Fact]
    public void Split_AnyText_CoversEveryCharacterOnce()
    {
        string text = "  Mixed \t\n text, with 123 numbers\u3000and 😀 emoji \r\n";

        Assert.Equal(text, string.Concat(Split(text)));
    }
}
