using System.Text;
using EarlyExit.Sequence;

namespace EarlyExit.Tests.Sequence;

public class ConllReaderTests
{
    [Fact]
    public void Read_BomCrlfSeveralBlankLinesAndNoFinalNewline_GivesEverySentence()
    {
        using var folder = new TempFolder();
        string path = folder.Write("a.txt",
            "EU NNP B-NP I-ORG\r\nrejects VBZ B-VP O\r\n\r\n\r\n \t \r\nPeter NNP B-NP I-PER\r\nBlackburn NNP I-NP I-PER\r\n\r\nBRUSSELS NNP I-NP I-LOC",
            byteOrderMark: true);

        ConllCorpus corpus = ConllReader.Read(path);

        Assert.Equal(3, corpus.Sentences.Count);
        Assert.Equal(5, corpus.TokenCount);
        Assert.Equal(["EU", "rejects"], corpus.Sentences[0].Words);
        Assert.Equal(["I-ORG", "O"], corpus.Sentences[0].Tags);
        Assert.Equal(["I-PER", "I-PER"], corpus.Sentences[1].Tags);
        Assert.Equal(["BRUSSELS"], corpus.Sentences[2].Words);
        Assert.Equal([1, 6, 9], corpus.Sentences.Select(s => s.FirstLine));
        Assert.Equal(1, corpus.DocumentCount);
        Assert.Equal(path, corpus.Source);
    }

    [Fact]
    public void Read_DocstartLines_AreSkippedEndSentencesAndNumberDocuments()
    {
        using var folder = new TempFolder();
        string path = folder.Write("docs.txt",
            "-DOCSTART- -X- O O\n\nA NN O B-PER\n\nB NN O O\n-DOCSTART- -X- O O\nC NN O O\n\n-DOCSTART- -X- O O\n\n-DOCSTART- -X- O O\n\nD NN O I-LOC\n\n");

        ConllCorpus corpus = ConllReader.Read(path);

        Assert.Equal(["A", "B", "C", "D"], corpus.Sentences.Select(s => s.Words.Single()));
        Assert.Equal([0, 0, 1, 2], corpus.Sentences.Select(s => s.DocumentIndex));
        Assert.Equal(3, corpus.DocumentCount);
    }

    [Fact]
    public void Read_EmptyFile_GivesNoSentencesAndNoDocuments()
    {
        ConllCorpus corpus = ConllReader.Read(new StringReader(""), "empty");

        Assert.Empty(corpus.Sentences);
        Assert.Equal(0, corpus.DocumentCount);
        Assert.Equal(0, corpus.TokenCount);
    }

    [Theory]
    [InlineData(2, 0, "B-NP", "EU")]
    [InlineData(-2, 0, "B-NP", "EU")]
    [InlineData(-1, 1, "I-ORG", "NNP")]
    [InlineData(3, -3, "I-ORG", "NNP")]
    public void Read_ColumnOptions_PickTheColumns(int tagColumn, int wordColumn, string tag, string word)
    {
        var options = new ConllReaderOptions { TagColumn = tagColumn, WordColumn = wordColumn };

        ConllCorpus corpus = ConllReader.Read(new StringReader("EU NNP B-NP I-ORG\n"), "x", options);

        Assert.Equal(tag, corpus.Sentences[0].Tags[0]);
        Assert.Equal(word, corpus.Sentences[0].Words[0]);
    }

    [Fact]
    public void Sentence_Columns_ExposeEveryColumn()
    {
        ConllCorpus corpus = ConllReader.Read(new StringReader("EU NNP B-NP I-ORG\nrejects VBZ B-VP O\n"), "x");
        ConllSentence sentence = corpus.Sentences[0];

        Assert.Equal(4, sentence.ColumnCount);
        Assert.Equal(["NNP", "VBZ"], sentence.Column(1));
        Assert.Equal(["B-NP", "B-VP"], sentence.Column(-2));
        Assert.Equal(["rejects", "VBZ", "B-VP", "O"], sentence.Rows[1]);
        Assert.Equal(["NNP", "VBZ"], corpus.Column(1)[0]);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => sentence.Column(4));
        Assert.Contains("has 4 columns: use 0 to 3, or -1 to -4 from the end", error.Message);
    }

    [Fact]
    public void Read_TabsAndSpacesMixed_AreOneSeparator()
    {
        ConllCorpus corpus = ConllReader.Read(new StringReader("  EU\tNNP  \t B-NP I-ORG  \n"), "x");

        Assert.Equal(["EU", "NNP", "B-NP", "I-ORG"], corpus.Sentences[0].Rows[0]);
    }

    [Fact]
    public void Read_TabSeparator_KeepsSpacesInsideFields()
    {
        var options = new ConllReaderOptions { Separator = ConllColumnSeparator.Tab };

        ConllCorpus corpus = ConllReader.Read(new StringReader("New York\tB-LOC\nis\tO\n"), "x", options);

        Assert.Equal(["New York", "is"], corpus.Sentences[0].Words);
        Assert.Equal(["B-LOC", "O"], corpus.Sentences[0].Tags);
    }

    [Fact]
    public void Read_TabSeparatorEmptyField_ThrowsWithLine()
    {
        var options = new ConllReaderOptions { Separator = ConllColumnSeparator.Tab };

        var error = Assert.Throws<ConllFormatException>(() => ConllReader.Read(new StringReader("a\tO\nb\t\tO\n"), "tabs.tsv", options));

        Assert.Equal(2, error.LineNumber);
        Assert.StartsWith("'tabs.tsv' line 2: column 1 is empty", error.Message);
    }

    [Fact]
    public void Read_ColumnCountChangesInsideASentence_ThrowsWithFileAndLine()
    {
        using var folder = new TempFolder();
        string path = folder.Write("bad.txt", "\nEU NNP B-NP I-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP\n\n");

        var error = Assert.Throws<ConllFormatException>(() => ConllReader.Read(path));

        Assert.Equal(path, error.FileName);
        Assert.Equal(4, error.LineNumber);
        Assert.StartsWith($"'{path}' line 4: the line has 3 columns but the sentence that starts at line 2 has 4; every token line of a sentence needs the same columns", error.Message);
    }

    [Fact]
    public void Read_ColumnCountDiffersBetweenSentences_IsAccepted()
    {
        ConllCorpus corpus = ConllReader.Read(new StringReader("a X O\n\nb O\n"), "x");

        Assert.Equal([3, 2], corpus.Sentences.Select(s => s.ColumnCount));
    }

    [Theory]
    [InlineData(3, "the line has 3 columns but the tag column 3 (TagColumn) needs at least 4")]
    [InlineData(-4, "the line has 3 columns but the tag column -4 (TagColumn) needs at least 4")]
    public void Read_TagColumnBeyondTheLine_ThrowsWithLine(int tagColumn, string expected)
    {
        var options = new ConllReaderOptions { TagColumn = tagColumn };

        var error = Assert.Throws<ConllFormatException>(() => ConllReader.Read(new StringReader("\n\nEU NNP I-ORG\n"), "short.txt", options));

        Assert.Equal(3, error.LineNumber);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Read_LineWithOneColumn_ThrowsBecauseTheTagIsMissing()
    {
        var error = Assert.Throws<ConllFormatException>(() => ConllReader.Read(new StringReader("EU I-ORG\nrejects\n"), "one.txt"));

        // The first line fixes the sentence's column count; the second breaks it.
        Assert.Equal(2, error.LineNumber);

        error = Assert.Throws<ConllFormatException>(() => ConllReader.Read(new StringReader("EU\n"), "one.txt"));
        Assert.Equal(1, error.LineNumber);
        Assert.Contains("the word column (0) and the tag column (-1) are the same; a token line needs at least a word and a tag", error.Message);
    }

    [Fact]
    public void Read_InvalidUtf8_ThrowsWithLine()
    {
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "latin1.txt");
        File.WriteAllBytes(path, [.. Encoding.ASCII.GetBytes("a O\n\nM"), 0xFC, .. Encoding.ASCII.GetBytes("nchen I-LOC\n")]);

        var error = Assert.Throws<ConllFormatException>(() => ConllReader.Read(path));

        Assert.Equal(3, error.LineNumber);
        Assert.Contains("is not valid UTF-8", error.Message);
    }

    [Fact]
    public void Read_MissingFile_ThrowsNamingIt()
    {
        var error = Assert.Throws<FileNotFoundException>(() => ConllReader.Read("/no/such/file.conll"));

        Assert.Contains("/no/such/file.conll", error.Message);
    }
}
