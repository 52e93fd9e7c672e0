using EarlyExit.Tokenization;
using TorchSharp;

namespace EarlyExit.Tests.Tokenization;

public class TokenBatchTests
{
    private static TokenizedInput Input(int[] ids, int[] types) => new(ids, types, Enumerable.Repeat(1, ids.Length).ToArray(), new int[ids.Length], null);

    [Fact]
    public void Collate_DifferentLengths_RightPadsWithPadIdTypeZeroAndMaskZero()
    {
        using TokenBatch batch = TokenBatch.Collate([Input([2, 7, 3], [0, 0, 0]), Input([2, 8, 3, 9, 3], [0, 0, 0, 1, 1])], padTokenId: 1);

        Assert.Equal((2, 5), (batch.Count, batch.Length));
        Assert.Equal(torch.ScalarType.Int64, batch.InputIds.dtype);
        Assert.Equal([2L, 5L], batch.InputIds.shape);
        Assert.Equal([2L, 7, 3, 1, 1, 2, 8, 3, 9, 3], batch.InputIds.data<long>().ToArray());
        Assert.Equal([0L, 0, 0, 0, 0, 0, 0, 0, 1, 1], batch.TokenTypeIds.data<long>().ToArray());
        Assert.Equal([1L, 1, 1, 0, 0, 1, 1, 1, 1, 1], batch.AttentionMask.data<long>().ToArray());
    }

    [Fact]
    public void Collate_TokenizerOutput_PadsWithTheTokenizersPadId()
    {
        TextTokenizer tokenizer = TextTokenizer.FromFolder(TestSupport.SharedAssets.Model("roberta-base"));
        TokenizedInput[] inputs = [tokenizer.Encode("Hello world!"), tokenizer.Encode("Hi")];

        using TokenBatch batch = TokenBatch.Collate(inputs, tokenizer.SpecialTokens.Pad);

        Assert.Equal([0L, 31414, 232, 328, 2, 0, 30086, 2, 1, 1], batch.InputIds.data<long>().ToArray());
    }

    [Fact]
    public void Collate_EmptyList_Throws()
    {
        Assert.Throws<ArgumentException>(() => TokenBatch.Collate([], padTokenId: 0));
        Assert.Throws<ArgumentNullException>(() => TokenBatch.Collate(null!, padTokenId: 0));
    }

    [Fact]
    public void Collate_MismatchedArrays_ThrowsNamingTheInput()
    {
        var bad = new TokenizedInput([1, 2], [0], [1, 1], [0, 0], null);

        var error = Assert.Throws<ArgumentException>(() => TokenBatch.Collate([Input([1], [0]), bad], padTokenId: 0));
        Assert.Contains("Input 1", error.Message);
    }
}
