using EarlyExit.Tokenization;

namespace EarlyExit.Tests.Tokenization;

public class PythonTextTests
{
    [Fact]
    public void Split_PythonWhitespace_SeparatesOnUnitSeparatorNelNbspAndLineSeparator()
    {
        Assert.Equal(["a", "b", "c", "d", "e", "f"], PythonText.Split(" a\u001fb\u0085c\u00a0d\u2028e\u3000f\t"));
    }

    [Fact]
    public void Split_ZeroWidthSpace_IsNotWhitespace()
    {
        Assert.Equal(["a\u200bb"], PythonText.Split("a\u200bb"));
    }

    [Fact]
    public void IsUnicodeWhiteSpace_InformationSeparators_AreNotRegexWhitespace()
    {
        Assert.True(PythonText.IsSpace(0x1F));
        Assert.False(PythonText.IsUnicodeWhiteSpace(0x1F));
        Assert.True(PythonText.IsUnicodeWhiteSpace(0x2028));
    }

    [Fact]
    public void Strip_BothEnds_RemovesPythonWhitespaceOnly()
    {
        Assert.Equal("x\u200b", PythonText.Strip("\u3000 x\u200b\u001c "));
        Assert.Equal(" x", PythonText.RStrip(" x\n"));
        Assert.Equal("x ", PythonText.LStrip("\tx "));
    }

    [Fact]
    public void Lower_CapitalIWithDotAbove_BecomesTwoCodePoints()
    {
        Assert.Equal("i\u0307stanbul", PythonText.Lower("\u0130STANBUL"));
    }

    [Fact]
    public void Lower_CapitalSigma_IsFinalOnlyAtTheEndOfAWord()
    {
        Assert.Equal("οδυσσευς και σ", PythonText.Lower("ΟΔΥΣΣΕΥΣ ΚΑΙ Σ"));
    }

    [Fact]
    public void AppendLowerCodePoint_CapitalSigma_HasNoFinalForm()
    {
        var builder = new System.Text.StringBuilder();
        PythonText.AppendLowerCodePoint(builder, 0x03A3);

        Assert.Equal("σ", builder.ToString());
    }

    [Theory]
    [InlineData(0x0301, true)] // combining acute, class 230
    [InlineData(0x094D, true)] // Devanagari virama, class 9
    [InlineData(0x0941, false)] // Devanagari vowel sign U: a non-spacing mark with class 0
    [InlineData(0x0061, false)]
    [InlineData(0x1E94A, true)]
    public void IsCombining_CodePoint_MatchesUnicodedataCombining(int codePoint, bool expected)
    {
        Assert.Equal(expected, PythonText.IsCombining(codePoint));
    }

    [Theory]
    [InlineData('7', true)]
    [InlineData(0x00B2, true)] // superscript two
    [InlineData(0x0663, true)] // Arabic-Indic three
    [InlineData(0x00BD, false)] // one half is numeric, not a digit
    [InlineData('a', false)]
    public void IsDigit_CodePoint_MatchesPythonIsdigit(int codePoint, bool expected)
    {
        Assert.Equal(expected, PythonText.IsDigit(codePoint));
    }

    [Fact]
    public void Normalize_NoncharacterFFFE_IsKeptAndTheRestNormalized()
    {
        Assert.Equal("e\u0301\ufffee\u0301", PythonText.Normalize("\u00e9\ufffe\u00e9", System.Text.NormalizationForm.FormD));
        Assert.Equal("\u00e9\ufffe\u00e9", PythonText.Normalize("e\u0301\ufffee\u0301", System.Text.NormalizationForm.FormC));
    }

    [Fact]
    public void Category_CharacterAddedAfterUnicode14_IsUnassignedAsInPython311()
    {
        // U+1FAE8 SHAKING FACE is an emoji of Unicode 15.0; Python 3.11 does not know it.
        Assert.Equal(System.Globalization.UnicodeCategory.OtherNotAssigned, PythonText.Category(0x1FAE8));
        Assert.Equal(System.Globalization.UnicodeCategory.OtherSymbol, PythonText.Category(0x1F600));
        Assert.False(PythonText.IsDigit(0x10D40)); // a Unicode 16 digit
    }

    [Fact]
    public void Normalize_CharacterAddedAfterUnicode14_IsLeftAlone()
    {
        // U+1E030 (Unicode 15) has a compatibility decomposition that Python 3.11 does not apply.
        Assert.Equal("\U0001E030\u00e9", PythonText.Normalize("\U0001E030e\u0301", System.Text.NormalizationForm.FormKC));
    }

    [Fact]
    public void Length_SurrogatePair_CountsOneCodePoint()
    {
        Assert.Equal(3, PythonText.Length("a😀b"));
    }
}
