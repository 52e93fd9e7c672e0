using EarlyExit.Cli.Data;
using EarlyExit.Cli.Tests.TestSupport;
using EarlyExit.Tests.TestSupport;

namespace EarlyExit.Cli.Tests.Data;

public sealed class DelimitedFileReaderTests : IDisposable
{
    private static readonly DelimitedFormat s_tsv = new('\t', HasHeader: true, Quoting: false);
    private static readonly DelimitedFormat s_csv = new(',', HasHeader: true, Quoting: true);
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Read_TsvWithHeader_GivesNamesFieldsAndLineNumbers()
    {
        DelimitedTable table = Read("a\tb\n1\tx\n2\ty\n", s_tsv);

        Assert.Equal(["a", "b"], table.ColumnNames);
        Assert.Equal([["1", "x"], ["2", "y"]], table.Records.Select(r => r.Fields));
        Assert.Equal([2, 3], table.Records.Select(r => r.LineNumber));
    }

    [Fact]
    public void Read_Utf8ByteOrderMark_IsNotPartOfTheFirstName()
    {
        string path = _folder.File("bom.tsv");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. "Quality\t#1 String\n1\tx\n"u8]);

        DelimitedTable table = DelimitedFileReader.Read(path, s_tsv);

        Assert.Equal(["Quality", "#1 String"], table.ColumnNames);
        Assert.Equal(1, table.ColumnIndex("#1 String", "--text-column"));
    }

    [Fact]
    public void Read_QuotingOff_QuotesAreLiteral()
    {
        DelimitedTable table = Read("t\tl\n\"a quote\tx\n\"\"\"\ty\n", s_tsv);

        Assert.Equal(["\"a quote", "\"\"\""], table.Records.Select(r => r.Fields[0]));
    }

    [Fact]
    public void Read_QuotingOn_QuotedFieldsHoldSeparatorsQuotesAndLineBreaks()
    {
        DelimitedTable table = Read("text,label\n\"a, b\",1\n\"say \"\"hi\"\"\",0\n\"two\nlines\",1\nplain \"inner\" quote,0\n", s_csv);

        Assert.Equal(["a, b", "say \"hi\"", "two\nlines", "plain \"inner\" quote"], table.Records.Select(r => r.Fields[0]));
        Assert.Equal([2, 3, 4, 6], table.Records.Select(r => r.LineNumber));
    }

    [Fact]
    public void Read_CrLfBlankLinesAndNoFinalNewline_AreHandled()
    {
        DelimitedTable table = Read("a,b\r\n1,\"x\"\r\n\r\n\n2,y", s_csv);

        Assert.Equal([["1", "x"], ["2", "y"]], table.Records.Select(r => r.Fields));
        Assert.Equal([2, 5], table.Records.Select(r => r.LineNumber));
    }

    [Fact]
    public void Read_NoHeader_ColumnsAreZeroBasedIndices()
    {
        DelimitedTable table = Read("src\t1\t\tFirst sentence.\nsrc\t0\t*\tSecond.\n", s_tsv with { HasHeader = false });

        Assert.Equal(["0", "1", "2", "3"], table.ColumnNames);
        Assert.Equal(2, table.Records.Count);
        Assert.Equal(3, table.ColumnIndex("3", "--text-column"));
        var error = Assert.Throws<CliException>(() => table.ColumnIndex("sentence", "--text-column"));
        Assert.Contains("0-based indices, here 0 to 3", error.Message);
    }

    [Fact]
    public void Read_TooFewFields_ThrowsWithFileAndLineNumber()
    {
        var error = Assert.Throws<CliException>(() => Read("a\tb\n1\tx\n2\n3\tz\n", s_tsv));

        Assert.Contains("line 3", error.Message);
        Assert.Contains("too few fields: 1", error.Message);
        Assert.Contains("t.tsv", error.Message);
    }

    [Fact]
    public void Read_TooManyFields_ThrowsWithLineNumberAndQuotingHint()
    {
        var error = Assert.Throws<CliException>(() => Read("a,b\n1,x\n2,\"y, z\",w\n", s_csv with { Quoting = false }));

        Assert.Contains("line 3", error.Message);
        Assert.Contains("too many fields", error.Message);
        Assert.Contains("--quoting", error.Message);
    }

    [Fact]
    public void Read_UnterminatedQuote_ThrowsWithTheLineWhereItOpened()
    {
        var error = Assert.Throws<CliException>(() => Read("a,b\n1,x\n\"open,y\n3,z\n", s_csv));

        Assert.Contains("line 3", error.Message);
        Assert.Contains("never closed", error.Message);
        Assert.Contains("--no-quoting", error.Message);
    }

    [Fact]
    public void Read_TextAfterClosingQuote_Throws()
    {
        var error = Assert.Throws<CliException>(() => Read("a,b\n\"x\"y,1\n", s_csv));

        Assert.Contains("line 2", error.Message);
        Assert.Contains("after the closing quote", error.Message);
    }

    [Fact]
    public void Read_EmptyFile_Throws()
    {
        var error = Assert.Throws<CliException>(() => Read("", s_tsv));

        Assert.Contains("is empty", error.Message);
    }

    [Fact]
    public void Read_HeaderOnly_Throws()
    {
        var error = Assert.Throws<CliException>(() => Read("a\tb\n", s_tsv));

        Assert.Contains("no data rows", error.Message);
    }

    [Fact]
    public void Read_MissingFile_ThrowsNamingIt()
    {
        var error = Assert.Throws<CliException>(() => DelimitedFileReader.Read(_folder.File("nope.tsv"), s_tsv));

        Assert.Contains("nope.tsv' does not exist", error.Message);
    }

    [Fact]
    public void ColumnIndex_UnknownName_ListsTheColumns()
    {
        DelimitedTable table = Read("sentence\tlabel\nx\t1\n", s_tsv);

        var error = Assert.Throws<CliException>(() => table.ColumnIndex("text", "--text-column"));

        Assert.Contains("--text-column 'text'", error.Message);
        Assert.Contains("'sentence', 'label'", error.Message);
    }

    [Fact]
    public void ColumnIndex_OtherCase_IsNotMatchedButSuggested()
    {
        DelimitedTable table = Read("sentence\tlabel\nx\t1\n", s_tsv);

        var error = Assert.Throws<CliException>(() => table.ColumnIndex("Sentence", "--text-column"));

        Assert.Contains("did you mean 'sentence'", error.Message);
    }

    [Theory]
    [InlineData("x.tsv", '\t', false)]
    [InlineData("x.TSV", '\t', false)]
    [InlineData("x.csv", ',', true)]
    public void For_Extension_PicksSeparatorAndQuoting(string path, char separator, bool quoting)
    {
        DelimitedFormat format = DelimitedFormat.For(path, separator: null, hasHeader: true, quoting: null);

        Assert.Equal((separator, quoting), (format.Separator, format.Quoting));
    }

    [Fact]
    public void For_UnknownExtensionWithoutSeparator_ThrowsNamingTheOption()
    {
        var error = Assert.Throws<CliException>(() => DelimitedFormat.For("data.txt", separator: null, hasHeader: true, quoting: null));

        Assert.Contains("--separator", error.Message);
        Assert.Equal(';', DelimitedFormat.For("data.txt", ';', hasHeader: true, quoting: null).Separator);
    }

    [Theory]
    [InlineData("tab", '\t')]
    [InlineData("comma", ',')]
    [InlineData("semicolon", ';')]
    [InlineData("|", '|')]
    public void ParseSeparator_KnownForms_GiveTheCharacter(string text, char expected)
    {
        Assert.Equal(expected, DelimitedFormat.ParseSeparator(text, out string? problem));
        Assert.Null(problem);
    }

    [Theory]
    [InlineData("tabs")]
    [InlineData("\"")]
    public void ParseSeparator_InvalidForms_GiveAProblem(string text)
    {
        Assert.Null(DelimitedFormat.ParseSeparator(text, out string? problem));
        Assert.NotNull(problem);
    }

    // The shared GLUE files, read whole: every row parses with the documented field count (README's counts).
    [Theory]
    [InlineData("SST-2/train.tsv", true, 67349, 2, "sentence")]
    [InlineData("MRPC/train.tsv", true, 3668, 5, "Quality")]
    [InlineData("RTE/train.tsv", true, 2490, 4, "index")]
    [InlineData("CoLA/train.tsv", false, 8551, 4, "0")]
    [InlineData("CoLA/dev.tsv", false, 1043, 4, "0")]
    public void Read_SharedGlueFile_HasTheDocumentedRowsAndColumns(string file, bool header, int rows, int columns, string firstColumn)
    {
        DelimitedTable table = DelimitedFileReader.Read(SharedAssets.Data(file), s_tsv with { HasHeader = header });

        Assert.Equal(rows, table.Records.Count);
        Assert.Equal(columns, table.ColumnNames.Count);
        Assert.Equal(firstColumn, table.ColumnNames[0]);
    }

    private DelimitedTable Read(string text, DelimitedFormat format)
    {
        string path = _folder.Write(format.Separator == ',' ? "t.csv" : "t.tsv", text);
        return DelimitedFileReader.Read(path, format);
    }
}
