using EarlyExit.ExitCriteria;
using EarlyExit.Sweeps;

namespace EarlyExit.Tests.Sweeps;

public sealed class ExitGridTests
{
    [Fact]
    public void Parse_ListsRangesAndPlainEntries_ExpandInOrderWithoutDuplicates()
    {
        IReadOnlyList<ExitCriterion> grid = ExitGrid.Parse("qexit:0.1..0.3/0.1 patience:1..3; entropy:0.5,0.25 full qexit:0.2");

        Assert.Equal(["qexit:0.1", "qexit:0.2", "qexit:0.3", "patience:1", "patience:2", "patience:3", "entropy:0.5", "entropy:0.25", "full"], grid.Select(c => c.Name));
    }

    [Fact]
    public void ParseTokens_CrossesEveryPart()
    {
        IReadOnlyList<TokenExitCriterion> grid = ExitGrid.ParseTokens("tokee:0.1,0.2:3,5 sentee:0.05..0.1/0.05:max,mean layer:2");

        Assert.Equal(
            ["tokee:0.1:3", "tokee:0.1:5", "tokee:0.2:3", "tokee:0.2:5", "sentee:0.05:max", "sentee:0.05:mean", "sentee:0.1:max", "sentee:0.1:mean", "layer:2"],
            grid.Select(c => c.Name));
    }

    [Theory]
    [InlineData("qexit:0.5..1.5/0.5", "qexit:0.5..1.5/0.5", "q must be in (0, 1)")]
    [InlineData("patience:0..2", "patience:0..2", "patience must be at least 1")]
    [InlineData("full entropy:abc", "entropy:abc", "needs a number")]
    [InlineData("speedy:1", "speedy:1", "is not known")]
    [InlineData("qexit:0.9..0.1/0.1", "qexit:0.9..0.1/0.1", "ends before it starts")]
    [InlineData("qexit:0.1..0.9", "qexit:0.1..0.9", "add a step")]
    [InlineData("qexit:0.1..0.9/0", "qexit:0.1..0.9/0", "positive step")]
    [InlineData("entropy:0.1,,0.2", "entropy:0.1,,0.2", "empty item")]
    [InlineData("   ", null, "empty")]
    public void Parse_InvalidValue_IsRejectedNamingTheEntry(string grid, string? entry, string reason)
    {
        var error = Assert.Throws<FormatException>(() => ExitGrid.Parse(grid));

        if (entry is not null)
        {
            Assert.Contains($"'{entry}'", error.Message);
        }

        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void ParseTokens_EvenWindow_IsRejectedNamingTheEntry()
    {
        var error = Assert.Throws<FormatException>(() => ExitGrid.ParseTokens("tokee:0.2:3,4"));

        Assert.Contains("'tokee:0.2:3,4'", error.Message);
        Assert.Contains("odd", error.Message);
    }

    [Fact]
    public void Defaults_CoverWhatTheModelCanServe()
    {
        IReadOnlyList<ExitCriterion> withHalting = ExitGrid.Default(12, hasHaltingHead: true);
        IReadOnlyList<ExitCriterion> without = ExitGrid.Default(12, hasHaltingHead: false);
        IReadOnlyList<TokenExitCriterion> tokens = ExitGrid.DefaultTokens(4);

        Assert.Contains(withHalting, c => c.Name == "qexit:0.5");
        Assert.DoesNotContain(without, c => c.RequiresHaltingHead);
        Assert.Contains(without, c => c.Name == "patience:11");
        Assert.Contains(without, c => c.Name == "layer:12");
        Assert.Contains(tokens, c => c.Name == "tokee:0.3:3");
        Assert.Contains(tokens, c => c.Name == "sentee:0.6:mean");
        Assert.InRange(withHalting.Count, 50, 100);
    }
}
