using EarlyExit.Sequence;

namespace EarlyExit.Tests.Sequence;

public class TagTests
{
    [Theory]
    [InlineData("O", TagPrefix.Outside, "")]
    [InlineData("B-PER", TagPrefix.Begin, "PER")]
    [InlineData("I-MISC", TagPrefix.Inside, "MISC")]
    [InlineData("E-LOC", TagPrefix.End, "LOC")]
    [InlineData("S-ORG", TagPrefix.Single, "ORG")]
    [InlineData("L-X", TagPrefix.Last, "X")]
    [InlineData("U-X", TagPrefix.Unit, "X")]
    [InlineData("I-B-ORG", TagPrefix.Inside, "B-ORG")]
    [InlineData("B-Person name", TagPrefix.Begin, "Person name")]
    public void Parse_WellFormed_GivesPrefixAndTypeAndRoundTrips(string text, TagPrefix prefix, string type)
    {
        Tag tag = Tag.Parse(text);

        Assert.Equal(prefix, tag.Prefix);
        Assert.Equal(type, tag.Type);
        Assert.Equal(text, tag.ToString());
    }

    [Theory]
    [InlineData("B_PER", "'B_PER' is not a tag")]
    [InlineData("b-PER", "prefix letters are upper case ('B-PER')")]
    [InlineData("B-", "the entity type after '-' is missing")]
    [InlineData("O-PER", "'O' takes no entity type")]
    [InlineData("X-PER", "'X-PER' is not a tag")]
    [InlineData("PER", "'PER' is not a tag")]
    [InlineData("", "An empty tag")]
    public void Parse_Malformed_ThrowsNamingTheTagAndTheForm(string text, string expected)
    {
        var error = Assert.Throws<FormatException>(() => Tag.Parse(text));

        Assert.Contains(expected, error.Message);
        Assert.Contains("e.g. 'B-PER'", error.Message);
        Assert.False(Tag.TryParse(text, out _));
    }

    [Fact]
    public void Outside_EqualsDefaultAndParsedO()
    {
        Assert.Equal(default, Tag.Outside);
        Assert.Equal(Tag.Outside, Tag.Parse("O"));
        Assert.Equal(string.Empty, default(Tag).Type);
        Assert.Equal("O", default(Tag).ToString());
    }

    [Fact]
    public void Create_OutsideOrEmptyType_Throws()
    {
        Assert.Throws<ArgumentException>(() => Tag.Create(TagPrefix.Outside, "PER"));
        Assert.Throws<ArgumentException>(() => Tag.Create(TagPrefix.Begin, ""));
        Assert.Equal(Tag.Parse("E-LOC"), Tag.Create(TagPrefix.End, "LOC"));
    }
}
