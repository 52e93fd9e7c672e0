using EarlyExit.Sequence;

namespace EarlyExit.Tests.Sequence;

public class TagSchemesTests
{
    // One sentence in every scheme: a 3-token PER, two adjacent LOCs, an ORG right after a LOC, two
    // adjacent ORGs (the second of 2 tokens) and a 1-token MISC at the end.
    private static readonly Dictionary<TagScheme, string[]> s_sentence = new()
    {
        [TagScheme.Iob1] = ["I-PER", "I-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-ORG", "B-ORG", "I-ORG", "O", "I-MISC"],
        [TagScheme.Iob2] = ["B-PER", "I-PER", "I-PER", "O", "B-LOC", "B-LOC", "B-ORG", "B-ORG", "I-ORG", "O", "B-MISC"],
        [TagScheme.Iobes] = ["B-PER", "I-PER", "E-PER", "O", "S-LOC", "S-LOC", "S-ORG", "B-ORG", "E-ORG", "O", "S-MISC"],
        [TagScheme.Bilou] = ["B-PER", "I-PER", "L-PER", "O", "U-LOC", "U-LOC", "U-ORG", "B-ORG", "L-ORG", "O", "U-MISC"],
    };

    private static readonly EntitySpan[] s_entities =
    [
        new("PER", 0, 3), new("LOC", 4, 5), new("LOC", 5, 6), new("ORG", 6, 7), new("ORG", 7, 9), new("MISC", 10, 11),
    ];

    public static TheoryData<TagScheme, TagScheme> SchemePairs()
    {
        var pairs = new TheoryData<TagScheme, TagScheme>();
        foreach (TagScheme from in Enum.GetValues<TagScheme>())
        {
            foreach (TagScheme to in Enum.GetValues<TagScheme>())
            {
                pairs.Add(from, to);
            }
        }

        return pairs;
    }

    [Theory]
    [MemberData(nameof(SchemePairs))]
    public void Convert_CanonicalSentence_GivesTheTargetSchemesTags(TagScheme from, TagScheme to)
    {
        string[] converted = TagSchemes.Convert(s_sentence[from], from, to, strict: true);

        Assert.Equal(s_sentence[to], converted);
    }

    [Theory]
    [InlineData(TagScheme.Iob1)]
    [InlineData(TagScheme.Iob2)]
    [InlineData(TagScheme.Iobes)]
    [InlineData(TagScheme.Bilou)]
    public void DecodeEncode_CanonicalSentence_GivesTheSameEntitiesAndTags(TagScheme scheme)
    {
        IReadOnlyList<EntitySpan> entities = TagSchemes.Decode(s_sentence[scheme], scheme, strict: true);

        Assert.Equal(s_entities, entities);
        Assert.Equal(s_sentence[scheme], TagSchemes.Encode(entities, 11, scheme));
        Assert.True(TagSchemes.IsValid(s_sentence[scheme], scheme));
    }

    [Theory]
    [InlineData("IOB1", TagScheme.Iob1)]
    [InlineData("iob2", TagScheme.Iob2)]
    [InlineData("BIO", TagScheme.Iob2)]
    [InlineData("IOBES", TagScheme.Iobes)]
    [InlineData(" bioes ", TagScheme.Iobes)]
    [InlineData("BILOU", TagScheme.Bilou)]
    public void ParseName_KnownNames_GiveTheScheme(string name, TagScheme expected)
    {
        Assert.Equal(expected, TagSchemes.ParseName(name));
        Assert.Equal(expected, TagSchemes.ParseName(TagSchemes.Name(expected)));
    }

    [Fact]
    public void ParseName_Unknown_ThrowsListingTheNames()
    {
        var error = Assert.Throws<FormatException>(() => TagSchemes.ParseName("IO"));

        Assert.Contains("'IO' is not a tag scheme; use IOB1, IOB2 (or BIO), IOBES (or BIOES) or BILOU", error.Message);
    }

    [Fact]
    public void Decode_Iob2WithIAfterO_LenientStartsAnEntity_StrictThrowsAtThatToken()
    {
        string[] tags = ["O", "I-PER", "I-PER", "O"];

        Assert.Equal([new EntitySpan("PER", 1, 3)], TagSchemes.Decode(tags, TagScheme.Iob2));
        var error = Assert.Throws<TagSequenceException>(() => TagSchemes.Decode(tags, TagScheme.Iob2, strict: true));
        Assert.Equal(1, error.Position);
        Assert.Equal("I-PER", error.Tag);
        Assert.Null(error.SentenceIndex);
        Assert.StartsWith("Token 1 (0-based) 'I-PER' in 'O [I-PER] I-PER O': in IOB2 an I- tag continues a B-PER or I-PER, but it comes after 'O'", error.Message);
    }

    [Fact]
    public void Convert_Iob1WithBAfterO_LenientReadsAnEntityStart_StrictThrows()
    {
        // As in CoNLL-2003's train.txt: "Atlanta/B-MISC Games/I-MISC" right after O.
        string[] tags = ["O", "B-MISC", "I-MISC", "O"];

        Assert.Equal(["O", "B-MISC", "I-MISC", "O"], TagSchemes.Convert(tags, TagScheme.Iob1, TagScheme.Iob2));
        Assert.Equal(["O", "I-MISC", "I-MISC", "O"], TagSchemes.Convert(tags, TagScheme.Iob1, TagScheme.Iob1));
        var error = Assert.Throws<TagSequenceException>(() => TagSchemes.Convert(tags, TagScheme.Iob1, TagScheme.Iob2, strict: true));
        Assert.Contains("in IOB1 a B- tag only starts an entity right after one of the same type (B-MISC or I-MISC), but it comes after 'O'", error.Message);
    }

    [Theory]
    [InlineData(new[] { "B-PER", "O" }, 1, "in IOBES 'B-PER' must be followed by I-PER or E-PER, not 'O'")]
    [InlineData(new[] { "B-PER", "E-LOC" }, 1, "in IOBES 'B-PER' must be followed by I-PER or E-PER, not 'E-LOC'")]
    [InlineData(new[] { "O", "I-PER", "E-PER" }, 1, "in IOBES 'I-PER' continues an entity, but it comes after 'O'")]
    [InlineData(new[] { "S-PER", "E-PER" }, 1, "in IOBES 'E-PER' continues an entity, but it comes after 'S-PER'")]
    [InlineData(new[] { "O", "B-PER", "I-PER" }, 2, "in IOBES the sentence ends inside an entity; its last token must be E-PER")]
    public void Validate_IobesBrokenTransitions_ThrowsAtTheToken(string[] tags, int position, string expected)
    {
        var error = Assert.Throws<TagSequenceException>(() => TagSchemes.Validate(tags, TagScheme.Iobes));

        Assert.Equal(position, error.Position);
        Assert.Contains(expected, error.Message);
        Assert.False(TagSchemes.IsValid(tags, TagScheme.Iobes));
    }

    [Fact]
    public void Decode_IobesBrokenTransitions_LenientReadsThemAsConllevalDoes()
    {
        string[] tags = ["B-PER", "O", "I-LOC", "E-LOC", "E-ORG", "B-MISC"];

        IReadOnlyList<EntitySpan> entities = TagSchemes.Decode(tags, TagScheme.Iobes);

        Assert.Equal([new EntitySpan("PER", 0, 1), new EntitySpan("LOC", 2, 4), new EntitySpan("ORG", 4, 5), new EntitySpan("MISC", 5, 6)], entities);
    }

    [Fact]
    public void Decode_PrefixOutsideTheScheme_ThrowsEvenWhenLenient()
    {
        var error = Assert.Throws<TagSequenceException>(() => TagSchemes.Decode(["B-PER", "E-PER"], TagScheme.Iob2));

        Assert.Equal(1, error.Position);
        Assert.Equal("E-PER", error.Tag);
        Assert.Contains("IOB2 has no E- tags (it uses O, B-, I-)", error.Message);
        Assert.Contains("E- and S- are IOBES", error.Message);
    }

    [Fact]
    public void Decode_MalformedTag_ThrowsNamingTheTagAndPosition()
    {
        var error = Assert.Throws<TagSequenceException>(() => TagSchemes.Decode(["O", "B_PER"], TagScheme.Iob2));

        Assert.Equal(1, error.Position);
        Assert.StartsWith("Token 1 (0-based) 'B_PER' in 'O [B_PER]': 'B_PER' is not a tag", error.Message);
    }

    [Fact]
    public void Convert_ManySentences_ErrorNamesTheSentence()
    {
        IReadOnlyList<IReadOnlyList<string>> sentences = [["O", "B-X"], ["B-X", "S-X", "O"]];

        var error = Assert.Throws<TagSequenceException>(() => TagSchemes.Convert(sentences, TagScheme.Iob2, TagScheme.Iobes));

        Assert.Equal(1, error.SentenceIndex);
        Assert.Equal(1, error.Position);
        Assert.StartsWith("Sentence 1, token 1 (0-based) 'S-X' in 'B-X [S-X] O'", error.Message);
    }

    [Fact]
    public void Validate_ManySentences_ErrorNamesTheSentence()
    {
        IReadOnlyList<IReadOnlyList<string>> sentences = [["B-X"], ["O"], ["O", "I-X"]];

        var error = Assert.Throws<TagSequenceException>(() => TagSchemes.Validate(sentences, TagScheme.Iob2));

        Assert.Equal(2, error.SentenceIndex);
        Assert.Equal(1, error.Position);
    }

    [Fact]
    public void Encode_Iob1_UsesBOnlyBetweenAdjacentEntitiesOfTheSameType()
    {
        EntitySpan[] entities = [new("A", 0, 2), new("A", 2, 3), new("B", 3, 4), new("A", 5, 6), new("A", 6, 7)];

        Assert.Equal(["I-A", "I-A", "B-A", "I-B", "O", "I-A", "B-A"], TagSchemes.Encode(entities, 7, TagScheme.Iob1));
    }

    [Theory]
    [InlineData(0, 2, 1, 3)]
    [InlineData(2, 3, 0, 1)]
    [InlineData(0, 1, 4, 6)]
    public void Encode_OverlappingUnorderedOrOutside_Throws(int start1, int end1, int start2, int end2)
    {
        EntitySpan[] entities = [new("A", start1, end1), new("A", start2, end2)];

        var error = Assert.Throws<ArgumentException>(() => TagSchemes.Encode(entities, 5, TagScheme.Iob2));

        Assert.Contains("spans must be disjoint, in order and inside [0, 5)", error.Message);
    }

    [Fact]
    public void Repair_RawModelOutput_GivesValidTagsWithConllevalsEntities()
    {
        string[] raw = ["I-PER", "I-LOC", "E-LOC", "O", "E-PER", "U-ORG", "B-ORG"];

        string[] iob2 = TagSchemes.Repair(raw, TagScheme.Iob2);
        string[] iobes = TagSchemes.Repair(raw, TagScheme.Iobes);

        Assert.Equal(["B-PER", "B-LOC", "I-LOC", "O", "B-PER", "B-ORG", "B-ORG"], iob2);
        Assert.Equal(["S-PER", "B-LOC", "E-LOC", "O", "S-PER", "S-ORG", "S-ORG"], iobes);
        Assert.True(TagSchemes.IsValid(iob2, TagScheme.Iob2));
        Assert.True(TagSchemes.IsValid(iobes, TagScheme.Iobes));
    }

    [Theory]
    [InlineData(TagScheme.Iob1)]
    [InlineData(TagScheme.Iob2)]
    [InlineData(TagScheme.Iobes)]
    [InlineData(TagScheme.Bilou)]
    public void Detect_CleanTags_FindsTheirScheme(TagScheme scheme)
    {
        TagSchemeDetection detection = TagSchemes.Detect([s_sentence[scheme], ["O", "O"]]);

        Assert.Equal(new TagSchemeDetection(scheme, 0, null), detection);
    }

    [Fact]
    public void Detect_OnlyOutside_SaysIob2()
    {
        Assert.Equal(TagScheme.Iob2, TagSchemes.Detect([["O"], ["O", "O"]]).Scheme);
        Assert.Equal(TagScheme.Iob2, TagSchemes.Detect([]).Scheme);
    }

    [Fact]
    public void Detect_Iob1WithAnIrregularB_SaysIob1AndCountsIt()
    {
        IReadOnlyList<string>[] sentences = [["I-A", "O", "I-B", "I-B"], ["O", "B-A", "I-A"], ["I-A", "B-A"]];

        TagSchemeDetection detection = TagSchemes.Detect(sentences);

        Assert.Equal(TagScheme.Iob1, detection.Scheme);
        Assert.Equal(1, detection.IrregularTags);
        Assert.StartsWith("Sentence 1, token 1 (0-based) 'B-A'", detection.FirstIrregularity);
    }

    [Fact]
    public void Detect_IobesAndBilouLettersMixed_Throws()
    {
        var error = Assert.Throws<TagSequenceException>(() => TagSchemes.Detect([["S-A"], ["O", "U-A"]]));

        Assert.Equal(1, error.SentenceIndex);
        Assert.Contains("mix BILOU letters (L-, U-) with IOBES letters (E-, S-; first at sentence 0, token 0 'S-A')", error.Message);
    }

    [Fact]
    public void Prefixes_EachScheme_ListsItsLetters()
    {
        Assert.Equal([TagPrefix.Outside, TagPrefix.Begin, TagPrefix.Inside], TagSchemes.Prefixes(TagScheme.Iob1));
        Assert.True(TagSchemes.Allows(TagScheme.Iobes, TagPrefix.Single));
        Assert.False(TagSchemes.Allows(TagScheme.Iob2, TagPrefix.End));
        Assert.True(TagSchemes.Allows(TagScheme.Bilou, TagPrefix.Unit));
        Assert.False(TagSchemes.Allows(TagScheme.Bilou, TagPrefix.Single));
    }
}
