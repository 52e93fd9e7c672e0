using EarlyExit.ExitCriteria;

namespace EarlyExit.Tests.ExitCriteria;

public class TokenExitCriterionTests
{
    [Theory]
    [InlineData("full", "full")]
    [InlineData("layer:3", "layer:3")]
    [InlineData("sentee:0.3", "sentee:0.3:max")]
    [InlineData("SENTEE:0.3:mean", "sentee:0.3:mean")]
    [InlineData("sentee:0.3:mean:first", "sentee:0.3:mean:first")]
    [InlineData("tokee:0.2", "tokee:0.2:5")]
    [InlineData("tokee:0.2:3", "tokee:0.2:3")]
    [InlineData("tokee:0.2:3:first", "tokee:0.2:3:first")]
    public void Parse_ValidText_GivesCanonicalName(string text, string name)
    {
        TokenExitCriterion criterion = TokenExitCriterion.Parse(text);

        Assert.Equal(name, criterion.Name);
        Assert.Equal(criterion, TokenExitCriterion.Parse(criterion.Name));
    }

    [Theory]
    [InlineData("tokee:0.2:4", "odd")]
    [InlineData("tokee:1.5", "[0, 1]")]
    [InlineData("sentee:0.3:median", "max or mean")]
    [InlineData("layer:0", "Forms")]
    [InlineData("qexit:0.5", "not known")]
    [InlineData("tokee:x", "needs a number")]
    public void Parse_InvalidText_ThrowsNamingTheProblem(string text, string problem)
    {
        var error = Assert.Throws<FormatException>(() => TokenExitCriterion.Parse(text));

        Assert.Contains(problem, error.Message);
    }
}
