namespace EarlyExit.Sequence;

/// <summary>One sentence of a CoNLL-format file: its token lines split into columns.</summary>
public sealed class ConllSentence
{
    private readonly string[][] _rows;

    internal ConllSentence(string[][] rows, int wordColumn, int tagColumn, int firstLine, int documentIndex)
    {
        _rows = rows;
        ColumnCount = rows[0].Length;
        Words = Array.AsReadOnly(rows.Select(r => r[wordColumn]).ToArray());
        Tags = Array.AsReadOnly(rows.Select(r => r[tagColumn]).ToArray());
        FirstLine = firstLine;
        DocumentIndex = documentIndex;
    }

    /// <summary>The number of tokens.</summary>
    public int Count => _rows.Length;

    /// <summary>The words (the reader's word column).</summary>
    public IReadOnlyList<string> Words { get; }

    /// <summary>The tags (the reader's tag column).</summary>
    public IReadOnlyList<string> Tags { get; }

    /// <summary>The number of columns of every token line of the sentence.</summary>
    public int ColumnCount { get; }

    /// <summary>The columns of each token line, in file order.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Rows => _rows;

    /// <summary>The 1-based line number of the sentence's first token.</summary>
    public int FirstLine { get; }

    /// <summary>
    /// The 0-based document the sentence belongs to: documents are separated by <c>-DOCSTART-</c>
    /// lines; a file without them is one document.
    /// </summary>
    public int DocumentIndex { get; }

    /// <summary>One column of every token, e.g. <c>Column(1)</c> for CoNLL-2003's part-of-speech tags.</summary>
    /// <param name="index">The 0-based column; negative counts from the end (-1 is the last).</param>
    /// <exception cref="ArgumentOutOfRangeException">The sentence has no such column.</exception>
    public IReadOnlyList<string> Column(int index)
    {
        int resolved = index < 0 ? ColumnCount + index : index;
        if (resolved < 0 || resolved >= ColumnCount)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index,
                $"The sentence at line {FirstLine} has {ColumnCount} columns: use 0 to {ColumnCount - 1}, or -1 to -{ColumnCount} from the end.");
        }

        return Array.AsReadOnly(_rows.Select(r => r[resolved]).ToArray());
    }
}

/// <summary>The sentences of a CoNLL-format file.</summary>
public sealed class ConllCorpus
{
    internal ConllCorpus(string source, IReadOnlyList<ConllSentence> sentences, int documentCount)
    {
        Source = source;
        Sentences = sentences;
        DocumentCount = documentCount;
        TokenCount = sentences.Sum(s => s.Count);
        Words = Array.AsReadOnly(sentences.Select(s => s.Words).ToArray());
        Tags = Array.AsReadOnly(sentences.Select(s => s.Tags).ToArray());
    }

    /// <summary>The file path, or the name given for a reader.</summary>
    public string Source { get; }

    /// <summary>The sentences in file order (document-start lines excluded).</summary>
    public IReadOnlyList<ConllSentence> Sentences { get; }

    /// <summary>The number of documents that hold sentences (see <see cref="ConllSentence.DocumentIndex"/>).</summary>
    public int DocumentCount { get; }

    /// <summary>The number of tokens in all sentences.</summary>
    public int TokenCount { get; }

    /// <summary>Each sentence's words.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Words { get; }

    /// <summary>Each sentence's tags.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Tags { get; }

    /// <summary>One column of each sentence (0-based; negative counts from the end).</summary>
    /// <param name="index">The column.</param>
    /// <exception cref="ArgumentOutOfRangeException">A sentence has no such column.</exception>
    public IReadOnlyList<IReadOnlyList<string>> Column(int index) => Sentences.Select(s => s.Column(index)).ToArray();
}
