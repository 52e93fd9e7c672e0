using EarlyExit.Inference;

namespace EarlyExit.Tests.Inference;

public sealed class WarmUpInputTests
{
    [Theory]
    [InlineData(32, new[] { 1, 32 })]
    [InlineData(1, new[] { 1 })]
    public void Run_AnyBatchSize_ScoresOneRowThenAWholeBatch(int batchSize, int[] expected)
    {
        var calls = new List<int>();

        WarmUpInput.Run(batchSize, calls.Add);

        Assert.Equal(expected, calls);
    }

    [Fact]
    public void Run_BatchSizeBelowOne_Throws()
    {
        var calls = new List<int>();

        Assert.Throws<ArgumentOutOfRangeException>(() => WarmUpInput.Run(0, calls.Add));
        Assert.Empty(calls);
    }
}
