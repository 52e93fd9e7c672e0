using EarlyExit.Sequence;

namespace EarlyExit.Tests.Sequence;

public class ConllWriterTests
{
    [Fact]
    public void WriteSentence_WordsExitLayersGoldPredicted_WritesConllevalsLayout()
    {
        var text = new StringWriter();
        using (var writer = new ConllWriter(text, leaveOpen: true))
        {
            writer.WriteSentence(["EU", "rejects"], ["B-ORG", "O"], ["B-ORG", "B-PER"], ["3", "12"]);
            writer.WriteSentence(["Peter"], ["B-PER"], ["B-PER"], ["1"]);
        }

        Assert.Equal("EU 3 B-ORG B-ORG\nrejects 12 O B-PER\n\nPeter 1 B-PER B-PER\n\n", text.ToString());
    }

    [Fact]
    public void WriteSentence_ReadBack_GivesTheSameColumns()
    {
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "out.conll");
        using (var writer = new ConllWriter(path))
        {
            writer.WriteSentence(["Ölçü", "ve"], ["B-X", "O"], ["I-X", "O"], ["2", "1"]);
            writer.WriteSentence(["x"], ["O"], ["O"], ["4"]);
        }

        ConllCorpus gold = ConllReader.Read(path, new ConllReaderOptions { TagColumn = -2 });
        ConllCorpus predicted = ConllReader.Read(path);

        Assert.Equal([["B-X", "O"], ["O"]], gold.Tags);
        Assert.Equal([["I-X", "O"], ["O"]], predicted.Tags);
        Assert.Equal([["2", "1"], ["4"]], predicted.Column(1));
        Assert.Equal([["Ölçü", "ve"], ["x"]], predicted.Words);
        byte[] bytes = File.ReadAllBytes(path);
        Assert.NotEqual(0xEF, bytes[0]);
        Assert.DoesNotContain((byte)'\r', bytes);
    }

    [Theory]
    [InlineData("New York", "'New York' holds whitespace")]
    [InlineData("", "is empty")]
    [InlineData("-X-", "the word '-X-' would be read as a sentence boundary")]
    [InlineData("-DOCSTART-", "the word '-DOCSTART-' would be read")]
    public void WriteSentence_BadWord_ThrowsNamingSentenceAndToken(string word, string expected)
    {
        using var writer = new ConllWriter(new StringWriter());
        writer.WriteSentence(["a"], ["O"], ["O"]);

        var error = Assert.Throws<ArgumentException>(() => writer.WriteSentence(["b", word], ["O", "O"], ["O", "O"]));

        Assert.StartsWith("Sentence 1, token 1 (0-based), column 0", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void WriteSentence_TagWithSpace_Throws()
    {
        using var writer = new ConllWriter(new StringWriter());

        var error = Assert.Throws<ArgumentException>(() => writer.WriteSentence(["a"], ["B-Person name"], ["O"]));

        Assert.Contains("column 1 'B-Person name' holds whitespace", error.Message);
    }

    [Fact]
    public void WriteSentence_LengthsDiffer_Throws()
    {
        using var writer = new ConllWriter(new StringWriter());

        var error = Assert.Throws<ArgumentException>(() => writer.WriteSentence(["a", "b"], ["O", "O"], ["O"]));

        Assert.StartsWith("Sentence 0 (0-based): column 2 has 1 values but column 0 has 2 words", error.Message);
    }

    [Fact]
    public void WriteSentence_Empty_Throws()
    {
        using var writer = new ConllWriter(new StringWriter());

        var error = Assert.Throws<ArgumentException>(() => writer.WriteSentence([], [], []));

        Assert.Contains("has no tokens; CoNLL format cannot hold an empty sentence", error.Message);
    }
}
