using EarlyExit.Tests.TestSupport;
using EarlyExit.Tokenization;

namespace EarlyExit.Tests.Tokenization;

public class SentencePieceTests
{
    private static readonly Lazy<SentencePieceModelFile> s_model =
        new(() => SentencePieceModelFile.Read(Path.Combine(SharedAssets.Model("albert-base-v2"), "spiece.model")));

    [Fact]
    public void Read_AlbertModel_HasItsPiecesAndNormalizerSettings()
    {
        SentencePieceModelFile model = s_model.Value;

        Assert.Equal(30000, model.Pieces.Count);
        Assert.Equal(["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"], model.Pieces.Take(5));
        Assert.Equal(1, model.UnknownId);
        Assert.Equal(1, model.ModelType);
        Assert.True(model.AddDummyPrefix && model.RemoveExtraWhitespaces && model.EscapeWhitespaces);
        Assert.NotEmpty(model.PrecompiledCharsMap);
    }

    [Theory]
    [InlineData("hello world", "▁hello▁world")]
    [InlineData("  a \t  b  ", "▁a▁b")]
    [InlineData("bell\u0007 escape\u007f", "▁bell▁escape")] // nmt_nfkc deletes control characters
    [InlineData("ｆｕｌｌ ﬁ", "▁full▁fi")] // and applies NFKC
    [InlineData("zero\u200bwidth", "▁zero▁width")] // and turns the zero-width space into a space
    [InlineData("family\u200djoined", "▁family▁joined")] // U+200D becomes a space (golden text33)
    [InlineData("\u1112\u1161\u11ab", "▁\ud55c")] // Hangul jamo compose (NFKC)
    [InlineData(" \u0007 ", "")]
    public void Normalize_AlbertRules_MatchSentencePiece(string text, string expected)
    {
        Assert.Equal(expected, new SentencePieceTextNormalizer(s_model.Value).Normalize(text));
    }

    [Fact]
    public void Encode_NearTie_IsBrokenAsSentencePieceDoes()
    {
        // sentencepiece adds piece scores in double and stores path scores in float (golden text43).
        var unigram = new SentencePieceUnigram(s_model.Value);

        Assert.Equal(["▁so", "oooo", "o"], unigram.Encode("▁soooooo").Select(p => p.Piece));
    }

    [Fact]
    public void Encode_RunOfUnknownCharacters_IsOneUnknownPiece()
    {
        var unigram = new SentencePieceUnigram(s_model.Value);

        Assert.Equal([("▁", 13), ("我爱自然", 1)], unigram.Encode("▁我爱自然"));
    }

    [Fact]
    public void Read_NotAModel_ThrowsNamingTheFile()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, [0xFF, 0xFF, 0xFF]);
            var error = Assert.Throws<InvalidDataException>(() => SentencePieceModelFile.Read(path));
            Assert.Contains(path, error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
