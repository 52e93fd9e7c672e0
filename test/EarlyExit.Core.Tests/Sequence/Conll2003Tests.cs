using EarlyExit.Sequence;
using EarlyExit.Tests.TestSupport;

namespace EarlyExit.Tests.Sequence;

/// <summary>The reader, the schemes and the evaluation on the shared CoNLL-2003 files (../shared/data/README.md).</summary>
public class Conll2003Tests
{
    private static readonly Dictionary<string, Lazy<ConllCorpus>> s_files = new[] { "train", "valid", "test" }
        .ToDictionary(name => name, name => new Lazy<ConllCorpus>(() => ConllReader.Read(SharedAssets.Data($"conll2003/{name}.txt"))));

    public static TheoryData<string> Files() => new("train", "valid", "test");

    [Theory]
    [InlineData("train", 14_041, 203_621, 946)]
    [InlineData("valid", 3_250, 51_362, 216)]
    [InlineData("test", 3_453, 46_435, 231)]
    public void Read_Conll2003_CountsMatchTheDataReadme(string file, int sentences, int tokens, int documents)
    {
        ConllCorpus corpus = Corpus(file);

        Assert.Equal(sentences, corpus.Sentences.Count);
        Assert.Equal(tokens, corpus.TokenCount);
        Assert.Equal(documents, corpus.DocumentCount);
        Assert.All(corpus.Sentences, s => Assert.Equal(4, s.ColumnCount));
    }

    [Theory]
    [InlineData("train", "B-LOC 11, B-MISC 37, B-ORG 24")]
    [InlineData("valid", "B-MISC 4")]
    [InlineData("test", "B-LOC 6, B-MISC 9, B-ORG 5")]
    public void Read_Conll2003_BTagCountsMatchTheDataReadme(string file, string expected)
    {
        var counts = Corpus(file).Tags.SelectMany(t => t).Where(t => t.StartsWith("B-", StringComparison.Ordinal))
            .GroupBy(t => t).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}");

        Assert.Equal(expected, string.Join(", ", counts));
    }

    [Theory]
    [InlineData("valid")]
    [InlineData("test")]
    public void Convert_Iob1ToIob2AndBack_ReproducesTheFilesTags(string file)
    {
        IReadOnlyList<IReadOnlyList<string>> iob1 = Corpus(file).Tags;

        string[][] iob2 = TagSchemes.Convert(iob1, TagScheme.Iob1, TagScheme.Iob2, strict: true);
        string[][] back = TagSchemes.Convert(iob2, TagScheme.Iob2, TagScheme.Iob1, strict: true);

        Assert.Equal(iob1, back);
        TagSchemes.Validate(iob2, TagScheme.Iob2);
    }

    [Fact]
    public void Convert_TrainIob1ToIob2AndBack_ChangesOnlyItsTwoIrregularBTags()
    {
        // train.txt has two B-MISC right after O (lines 152428 and 175436), which IOB1 writes as I-MISC;
        // every other tag comes back unchanged.
        ConllCorpus corpus = Corpus("train");

        string[][] iob2 = TagSchemes.Convert(corpus.Tags, TagScheme.Iob1, TagScheme.Iob2);
        string[][] back = TagSchemes.Convert(iob2, TagScheme.Iob2, TagScheme.Iob1, strict: true);

        var changed = new List<string>();
        for (int s = 0; s < back.Length; s++)
        {
            for (int i = 0; i < back[s].Length; i++)
            {
                if (back[s][i] != corpus.Sentences[s].Tags[i])
                {
                    changed.Add($"line {corpus.Sentences[s].FirstLine + i}: {corpus.Sentences[s].Words[i]} {corpus.Sentences[s].Tags[i]} -> {back[s][i]}");
                }
            }
        }

        Assert.Equal(["line 152428: Atlanta B-MISC -> I-MISC", "line 175436: Urdu-speaking B-MISC -> I-MISC"], changed);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Convert_ThroughEveryScheme_KeepsTheSameEntities(string file)
    {
        IReadOnlyList<IReadOnlyList<string>> iob1 = Corpus(file).Tags;
        string[][] iob2 = TagSchemes.Convert(iob1, TagScheme.Iob1, TagScheme.Iob2);
        string[][] iobes = TagSchemes.Convert(iob2, TagScheme.Iob2, TagScheme.Iobes, strict: true);
        string[][] bilou = TagSchemes.Convert(iobes, TagScheme.Iobes, TagScheme.Bilou, strict: true);
        string[][] iob1Again = TagSchemes.Convert(bilou, TagScheme.Bilou, TagScheme.Iob1, strict: true);

        int entities = 0;
        for (int s = 0; s < iob1.Count; s++)
        {
            IReadOnlyList<EntitySpan> expected = TagSchemes.Decode(iob1[s], TagScheme.Iob1);
            Assert.Equal(expected, TagSchemes.Decode(iob2[s], TagScheme.Iob2, strict: true));
            Assert.Equal(expected, TagSchemes.Decode(iobes[s], TagScheme.Iobes, strict: true));
            Assert.Equal(expected, TagSchemes.Decode(bilou[s], TagScheme.Bilou, strict: true));
            Assert.Equal(expected, TagSchemes.Decode(iob1Again[s], TagScheme.Iob1, strict: true));
            Assert.Equal(expected, EntityExtraction.Extract(iob1[s], ChunkRules.Conlleval2004));
            entities += expected.Count;
        }

        EntityEvaluationResult sameEntities = EntityEvaluation.Evaluate(iob1, iobes);
        Assert.Equal(new EntityScores(entities, entities, entities), sameEntities.Overall);
    }

    [Fact]
    public void Convert_ChunkColumn_RoundTripsToo()
    {
        // The chunk column is IOB1 as well, with more types (NP, VP, PP, SBAR, ...).
        IReadOnlyList<IReadOnlyList<string>> chunks = Corpus("valid").Column(2);

        string[][] iobes = TagSchemes.Convert(chunks, TagScheme.Iob1, TagScheme.Iobes, strict: true);

        Assert.Equal(chunks, TagSchemes.Convert(iobes, TagScheme.Iobes, TagScheme.Iob1, strict: true));
    }

    [Theory]
    [InlineData("train", 2)]
    [InlineData("valid", 0)]
    [InlineData("test", 0)]
    public void Detect_Conll2003_SaysIob1(string file, int irregular)
    {
        TagSchemeDetection detection = TagSchemes.Detect(Corpus(file).Tags);

        Assert.Equal(TagScheme.Iob1, detection.Scheme);
        Assert.Equal(irregular, detection.IrregularTags);
    }

    private static ConllCorpus Corpus(string file) => s_files[file].Value;
}
