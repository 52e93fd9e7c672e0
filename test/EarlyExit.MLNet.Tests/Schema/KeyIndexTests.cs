using EarlyExit.MLNet.Schema;

namespace EarlyExit.MLNet.Tests.Schema;

public class KeyIndexTests
{
    [Theory]
    [InlineData(0, 1u)]
    [InlineData(1, 2u)]
    [InlineData(8, 9u)]
    public void ToKey_ThenToIndex_RoundTrips(int index, uint key)
    {
        Assert.Equal(key, KeyIndex.ToKey(index));
        Assert.Equal(index, KeyIndex.ToIndex(key));
    }

    [Fact]
    public void ToIndex_KeyZero_IsMissing()
    {
        Assert.Null(KeyIndex.ToIndex(0));
    }

    [Fact]
    public void ToKey_NegativeIndex_Throws()
    {
        Assert.Throws<OverflowException>(() => KeyIndex.ToKey(-1));
    }
}
