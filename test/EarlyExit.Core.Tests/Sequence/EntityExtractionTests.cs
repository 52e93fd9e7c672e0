using EarlyExit.Sequence;

namespace EarlyExit.Tests.Sequence;

public class EntityExtractionTests
{
    public static TheoryData<string[], string[]> OddSequences() => new()
    {
        // tags, entities as "TYPE start end" (end exclusive); the same under both rule sets
        { ["O", "I-PER"], ["PER 1 2"] },
        { ["B-PER", "I-LOC"], ["PER 0 1", "LOC 1 2"] },
        { ["I-PER", "B-PER"], ["PER 0 1", "PER 1 2"] },
        { ["I-PER", "I-PER", "B-PER", "I-PER"], ["PER 0 2", "PER 2 4"] },
        { ["B-PER", "I-PER", "I-PER", "O"], ["PER 0 3"] },
        { ["B-PER", "B-PER", "O", "B-LOC"], ["PER 0 1", "PER 1 2", "LOC 3 4"] },
        { ["I-LOC", "I-PER", "I-LOC"], ["LOC 0 1", "PER 1 2", "LOC 2 3"] },
        { ["O", "E-PER", "O"], ["PER 1 2"] },
        { ["B-PER", "E-PER", "E-PER"], ["PER 0 2", "PER 2 3"] },
        { ["E-PER", "I-PER"], ["PER 0 1", "PER 1 2"] },
        { ["B-PER", "E-LOC"], ["PER 0 1", "LOC 1 2"] },
        { ["O", "S-PER", "O", "S-LOC"], ["PER 1 2", "LOC 3 4"] },
        { ["I-B-ORG", "I-B-ORG", "I-ORG"], ["B-ORG 0 2", "ORG 2 3"] },
        { ["O", "O"], [] },
        { [], [] },
    };

    [Theory]
    [MemberData(nameof(OddSequences))]
    public void Extract_OddSequences_GiveConllevalsEntities(string[] tags, string[] expected)
    {
        Assert.Equal(expected, Format(EntityExtraction.Extract(tags)));
        Assert.Equal(expected, Format(EntityExtraction.Extract(tags, ChunkRules.Conlleval2004)));
    }

    public static TheoryData<string[], string[], string[]> IobesDifferences() => new()
    {
        // tags, Standard (seqeval), Conlleval2004 (the script, which has no rules for S- and E- before B-)
        { ["B-PER", "E-PER", "B-PER", "E-PER"], ["PER 0 2", "PER 2 4"], ["PER 0 4"] },
        { ["S-PER", "S-PER"], ["PER 0 1", "PER 1 2"], ["PER 0 2"] },
        { ["S-PER", "B-PER", "E-PER"], ["PER 0 1", "PER 1 3"], ["PER 0 3"] },
        { ["B-PER", "S-PER"], ["PER 0 1", "PER 1 2"], ["PER 0 2"] },
        { ["S-PER", "I-PER"], ["PER 0 1", "PER 1 2"], ["PER 0 2"] },
        { ["E-PER", "S-PER"], ["PER 0 1", "PER 1 2"], ["PER 0 2"] },
        { ["U-PER", "L-PER"], ["PER 0 1", "PER 1 2"], ["PER 0 2"] },
    };

    [Theory]
    [MemberData(nameof(IobesDifferences))]
    public void Extract_AdjacentIobesEntities_StandardSeparatesThem_Conlleval2004JoinsThem(string[] tags, string[] standard, string[] conlleval)
    {
        Assert.Equal(standard, Format(EntityExtraction.Extract(tags, ChunkRules.Standard)));
        Assert.Equal(conlleval, Format(EntityExtraction.Extract(tags, ChunkRules.Conlleval2004)));
    }

    [Fact]
    public void Extract_MalformedTag_ThrowsAtItsPosition()
    {
        var error = Assert.Throws<TagSequenceException>(() => EntityExtraction.Extract(["O", "O", "B-PER", "I_PER"]));

        Assert.Equal(3, error.Position);
        Assert.Equal("I_PER", error.Tag);
    }

    private static string[] Format(IReadOnlyList<EntitySpan> spans) => spans.Select(s => $"{s.Type} {s.Start} {s.End}").ToArray();
}
