using EarlyExit.Tests.TestSupport;
using EarlyExit.Tokenization;

namespace EarlyExit.Tests.Tokenization;

public class TextTokenizerTests
{
    private static readonly Lazy<TextTokenizer> s_albert = new(() => TextTokenizer.FromFolder(SharedAssets.Model("albert-base-v2")));
    private static readonly Lazy<TextTokenizer> s_bert = new(() => TextTokenizer.FromFolder(SharedAssets.Model("random-bert-tiny")));
    private static readonly Lazy<TextTokenizer> s_roberta = new(() => TextTokenizer.FromFolder(SharedAssets.Model("roberta-base")));

    private static TextTokenizer Albert => s_albert.Value;

    private static TextTokenizer Bert => s_bert.Value;

    private static TextTokenizer Roberta => s_roberta.Value;

    // ---- Check values of shared/models/README.md ----

    [Fact]
    public void Encode_AlbertHelloMyDogIsCute_GivesReadmeCheckValue()
    {
        TokenizedInput encoded = Albert.Encode("hello, my dog is cute");

        Assert.Equal([2, 10975, 15, 51, 1952, 25, 10901, 3], encoded.InputIds);
        Assert.Equal(["▁hello", ",", "▁my", "▁dog", "▁is", "▁cute"], Albert.Tokenize("hello, my dog is cute"));
        Assert.Equal([1, 0, 0, 0, 0, 0, 0, 1], encoded.SpecialTokensMask);
        Assert.All(encoded.TokenTypeIds, t => Assert.Equal(0, t));
        Assert.All(encoded.AttentionMask, m => Assert.Equal(1, m));
        Assert.Null(encoded.WordIds!);
    }

    [Fact]
    public void Encode_RobertaHelloWorld_GivesReadmeCheckValue()
    {
        Assert.Equal([0, 31414, 232, 328, 2], Roberta.Encode("Hello world!").InputIds);
        Assert.Equal(["Hello", "Ġworld", "!"], Roberta.Tokenize("Hello world!"));
    }

    [Fact]
    public void Encode_RobertaPair_GivesReadmeCheckValueWithAllTokenTypesZero()
    {
        TokenizedInput encoded = Roberta.Encode("Hello world!", "How are you?");

        Assert.Equal([0, 31414, 232, 328, 2, 2, 6179, 32, 47, 116, 2], encoded.InputIds);
        Assert.Equal(new int[11], encoded.TokenTypeIds);
        Assert.Equal([1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1], encoded.SpecialTokensMask);
    }

    [Fact]
    public void Encode_BertPair_GivesTypeOneToSecondSegmentAndItsSeparator()
    {
        TokenizedInput encoded = Bert.Encode("Hello world!", "How are you?");

        Assert.Equal([101, 7592, 2088, 999, 102, 2129, 2024, 2017, 1029, 102], encoded.InputIds);
        Assert.Equal([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], encoded.TokenTypeIds);
        Assert.Equal([1, 0, 0, 0, 1, 0, 0, 0, 0, 1], encoded.SpecialTokensMask);
    }

    // ---- Loading and settings ----

    [Fact]
    public void FromFolder_EachSharedFolder_ReportsFamilyVocabularyAndSpecialIds()
    {
        Assert.Equal(("albert", 30000, new SpecialTokenIds(2, 3, 0, 1, 4)), (Albert.ModelType, Albert.VocabularySize, Albert.SpecialTokens));
        Assert.Equal(("bert", 30522, new SpecialTokenIds(101, 102, 0, 100, 103)), (Bert.ModelType, Bert.VocabularySize, Bert.SpecialTokens));
        Assert.Equal(("roberta", 50265, new SpecialTokenIds(0, 2, 1, 3, 50264)), (Roberta.ModelType, Roberta.VocabularySize, Roberta.SpecialTokens));
    }

    [Fact]
    public void FromFolder_ElectraWithoutTokenizerConfig_LowerCasesAndDefaultsTo512()
    {
        TextTokenizer electra = TextTokenizer.FromFolder(SharedAssets.Model("google-electra-small-discriminator"));

        Assert.Equal("electra", electra.ModelType);
        Assert.Equal(512, electra.ModelMaxLength);
        Assert.Equal(["hello", "world"], electra.Tokenize("HELLO World"));
    }

    [Fact]
    public void ModelMaxLength_LegacyMaxLenOrModelMaxLength_IsRead()
    {
        Assert.Equal(512, Albert.ModelMaxLength); // tokenizer_config.json: {"max_len": 512}
        Assert.Equal(128, TextTokenizer.FromFolder(SharedAssets.Model("random-roberta-tiny")).ModelMaxLength);
    }

    [Fact]
    public void FromFolder_ExplicitModelType_OverridesConfig()
    {
        TextTokenizer tokenizer = TextTokenizer.FromFolder(SharedAssets.Model("random-bert-tiny"), "ELECTRA");

        Assert.Equal("electra", tokenizer.ModelType);
        Assert.Equal(Bert.Encode("Hello world!").InputIds, tokenizer.Encode("Hello world!").InputIds);
    }

    // ---- Special-token strings in text ----

    [Fact]
    public void Encode_RobertaLiteralMask_SwallowsTheSpaceOnItsLeft()
    {
        Assert.Equal(["Hello", "<mask>", "!"], Roberta.Tokenize("Hello <mask>!"));
        Assert.Equal(["Hello", "Ġ", "</s>"], Roberta.Tokenize("Hello </s>"));
    }

    [Fact]
    public void Encode_AlbertUpperCaseUnk_IsLowerCasedIntoTheSpecialToken()
    {
        // transformers lower-cases before it looks for special tokens: <UNK> becomes the special <unk>.
        Assert.Equal(["▁a", "<unk>", "▁b"], Albert.Tokenize("a <UNK> b"));
        Assert.Equal(1, Albert.Encode("<UNK>").InputIds[1]);
    }

    [Fact]
    public void Encode_LiteralSpecialToken_IsNotMarkedAsAdded()
    {
        TokenizedInput encoded = Bert.Encode("[MASK]");

        Assert.Equal([101, 103, 102], encoded.InputIds);
        Assert.Equal([1, 0, 1], encoded.SpecialTokensMask);
    }

    [Fact]
    public void Encode_BertCharacterNewerThanUnicode14_IsDeletedAsPython311Does()
    {
        // BERT's clean-up deletes unassigned characters; U+1FAE8 (Unicode 15) is unassigned for Python 3.11.
        Assert.Equal(["ab"], Bert.Tokenize("a\U0001FAE8b"));
        Assert.Equal(["a", "[UNK]", "b"], Bert.Tokenize("a \U0001F600 b"));
    }

    // ---- Word lists ----

    [Fact]
    public void EncodeWords_Roberta_GivesEveryWordALeadingSpaceAndMapsTokensToWords()
    {
        TokenizedInput encoded = Roberta.EncodeWords(["Hello", "world", "!"]);

        Assert.Equal([0, 20920, 232, 27785, 2], encoded.InputIds);
        Assert.Equal([-1, 0, 1, 2, -1], encoded.WordIds!);
    }

    [Fact]
    public void EncodeWords_WordOfSeveralTokens_RepeatsItsIndex()
    {
        TokenizedInput encoded = Bert.EncodeWords(["short-lived", "x"]);

        Assert.Equal([-1, 0, 0, 0, 1, -1], encoded.WordIds!);
    }

    // ---- Truncation ----

    [Fact]
    public void Encode_MaxLengthFitsExactly_KeepsEverything()
    {
        int[] full = Bert.Encode("a a a").InputIds;

        Assert.Equal(full, Bert.Encode("a a a", maxLength: full.Length).InputIds);
    }

    [Fact]
    public void Encode_SingleTextTooLong_KeepsTheFirstTokensAndTheSeparator()
    {
        Assert.Equal([101, 1037, 1038, 102], Bert.Encode("a b c d e", maxLength: 4).InputIds);
        Assert.Equal([0, 31414, 2], Roberta.Encode("Hello world!", maxLength: 3).InputIds);
    }

    [Fact]
    public void Encode_PairWithLongerFirstSegment_TruncatesOnlyTheFirst()
    {
        // 6 + 2 tokens + 3 specials = 11; max 9 removes 2 tokens, both from the longer first segment.
        TokenizedInput encoded = Bert.Encode("a a a a a a", "b b", maxLength: 9);

        Assert.Equal([101, 1037, 1037, 1037, 1037, 102, 1038, 1038, 102], encoded.InputIds);
        Assert.Equal([0, 0, 0, 0, 0, 0, 1, 1, 1], encoded.TokenTypeIds);
    }

    [Fact]
    public void Encode_PairOfEqualSegments_TruncatesTheSecondFirst()
    {
        // 3 + 3 + 3 = 9; max 8 removes one token: on a tie it comes from the second segment.
        Assert.Equal([101, 1037, 1037, 1037, 102, 1038, 1038, 102], Bert.Encode("a a a", "b b b", maxLength: 8).InputIds);
    }

    [Fact]
    public void Encode_PairNeedingSeveralRemovals_AlternatesLongestFirst()
    {
        // 4 + 4: remove 3 -> (4,3) tie goes to the second, (3,3) first is longer, (3,2) tie again.
        Assert.Equal([101, 1037, 1037, 1037, 102, 1038, 1038, 102], Bert.Encode("a a a a", "b b b b", maxLength: 8).InputIds);
    }

    [Fact]
    public void Encode_PairWithEmptyFirstSegment_TruncatesTheSecond()
    {
        Assert.Equal([101, 102, 1038, 1038, 102], Bert.Encode(string.Empty, "b b b b", maxLength: 5).InputIds);
    }

    [Fact]
    public void Encode_NullMaxLength_DoesNotTruncate()
    {
        string text = string.Join(' ', Enumerable.Repeat("token", 600));

        Assert.Equal(602, Bert.Encode(text).InputIds.Length);
        Assert.Equal(Bert.ModelMaxLength, Bert.Encode(text, maxLength: Bert.ModelMaxLength).InputIds.Length);
    }

    [Fact]
    public void EncodeWords_Truncated_CutsWordIdsInStep()
    {
        TokenizedInput encoded = Bert.EncodeWords(["short-lived", "x"], maxLength: 4);

        Assert.Equal([101, 2460, 1011, 102], encoded.InputIds);
        Assert.Equal([-1, 0, 0, -1], encoded.WordIds!);
    }

    [Fact]
    public void Encode_PairWithNullSecondText_IsASingleText()
    {
        Assert.Equal(Bert.Encode("a b").InputIds, Bert.Encode("a b", textPair: null).InputIds);
    }

    // ---- Bad input ----

    [Fact]
    public void Encode_NullText_ThrowsArgumentNull()
    {
        Assert.Throws<ArgumentNullException>(() => Bert.Encode(null!));
        Assert.Throws<ArgumentNullException>(() => Bert.Encode(null!, "b"));
        Assert.Throws<ArgumentNullException>(() => Bert.Tokenize(null!));
        Assert.Throws<ArgumentNullException>(() => Bert.EncodeWords(null!));
    }

    [Fact]
    public void EncodeWords_NullWord_ThrowsNamingItsIndex()
    {
        var error = Assert.Throws<ArgumentNullException>(() => Bert.EncodeWords(["a", null!]));

        Assert.Contains("Word 1", error.Message);
    }

    [Theory]
    [InlineData(2, false, 3)]
    [InlineData(0, false, 3)]
    [InlineData(3, true, 4)]
    public void Encode_MaxLengthTooSmallForSpecialTokens_ThrowsNamingValueAndMinimum(int maxLength, bool pair, int minimum)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => pair ? Bert.Encode("a", "b", maxLength) : Bert.Encode("a", maxLength));

        Assert.Equal("maxLength", error.ParamName);
        Assert.Equal(maxLength, error.ActualValue);
        Assert.Contains($"maxLength {maxLength} is too small", error.Message);
        Assert.Contains($"at least {minimum}", error.Message);
    }

    [Fact]
    public void Encode_RobertaPairMaxLengthTooSmall_CountsFourSpecialTokens()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Roberta.Encode("a", "b", maxLength: 4));

        Assert.Contains("at least 5", error.Message);
        Assert.Equal(5, Roberta.Encode("a", "b", maxLength: 5).InputIds.Length);
    }

    [Fact]
    public void EncodeWords_MaxLengthTooSmall_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Albert.EncodeWords(["a"], maxLength: 2));
    }

    [Fact]
    public void Encode_UnusualUnicode_NeverThrows()
    {
        string[] texts =
        [
            "lone \ud800 high and \udc00 low surrogate", "noncharacter \ufffe\uffff", "nul \0 and replacement \ufffd",
            "astral 𝐀𝟏𠀀 and emoji 👩‍👩‍👧", "combining only \u0301\u0302", "\u0130\u03a3 ΣΑΣ 𝚺", new string('x', 5000),
        ];

        foreach (TextTokenizer tokenizer in new[] { Albert, Bert, Roberta })
        {
            foreach (string text in texts)
            {
                TokenizedInput encoded = tokenizer.Encode(text, text, maxLength: 64);
                Assert.True(encoded.InputIds.Length <= 64);
                Assert.All(encoded.InputIds, id => Assert.InRange(id, 0, tokenizer.VocabularySize - 1));
            }
        }
    }
}
