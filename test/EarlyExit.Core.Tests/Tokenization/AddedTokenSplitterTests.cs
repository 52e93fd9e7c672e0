using EarlyExit.Tokenization;

namespace EarlyExit.Tests.Tokenization;

public class AddedTokenSplitterTests
{
    private static AddedToken Token(string content, int id, bool lstrip = false, bool rstrip = false, bool singleWord = false) =>
        new(content, id, lstrip, rstrip, singleWord, Special: true, Normalized: false);

    private static string[] Pieces(AddedTokenSplitter splitter, string text) =>
        splitter.Split(text).Select(p => p.Token is null ? p.Text : $"<{p.Token.Id}>").ToArray();

    [Fact]
    public void Split_OverlappingTokens_TakesTheEarliestThenTheLongest()
    {
        var splitter = new AddedTokenSplitter([Token("<s>", 0), Token("</s>", 2), Token("ab", 5), Token("abc", 6)]);

        Assert.Equal(["x", "<0>", " ", "<2>", "<6>", "d"], Pieces(splitter, "x<s> </s>abcd"));
    }

    [Fact]
    public void Split_LStripToken_EatsPythonWhitespaceOnItsLeft()
    {
        var splitter = new AddedTokenSplitter([Token("<mask>", 9, lstrip: true)]);

        Assert.Equal(["a", "<9>", " b"], Pieces(splitter, "a \u3000<mask> b"));
        Assert.Equal(["<9>"], Pieces(splitter, "  <mask>"));
    }

    [Fact]
    public void Split_RStripToken_EatsWhitespaceOnItsRight()
    {
        var splitter = new AddedTokenSplitter([Token("[X]", 1, rstrip: true)]);

        Assert.Equal(["a ", "<1>", "b"], Pieces(splitter, "a [X] \tb"));
    }

    [Fact]
    public void Split_SingleWordTokenInsideAWord_StaysText()
    {
        var splitter = new AddedTokenSplitter([Token("[X]", 1, singleWord: true)]);

        Assert.Equal(["a[X]", " b"], Pieces(splitter, "a[X] b"));
        Assert.Equal(["a ", "<1>", " b"], Pieces(splitter, "a [X] b"));
    }

    [Fact]
    public void LowerCaseOutsideTokens_ProtectedTokens_KeepTheirCase()
    {
        var splitter = new AddedTokenSplitter([Token("[CLS]", 1)]);

        Assert.Equal("a [CLS] [cls] i\u0307", splitter.LowerCaseOutsideTokens("A [CLS] [Cls] \u0130"));
    }

    [Fact]
    public void Split_EmptyText_GivesNoPieces()
    {
        Assert.Empty(new AddedTokenSplitter([Token("<s>", 0)]).Split(string.Empty));
    }
}
