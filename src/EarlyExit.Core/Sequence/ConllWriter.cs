// Writer of CoNLL-format output that conlleval.pl reads as it is: one token per line, fields separated
// by single spaces, a blank line after every sentence, the gold and predicted tags as the last two
// fields. conlleval splits on single spaces and treats a line starting with -X- as a sentence
// boundary, so fields must be non-empty and free of whitespace, and no word may be -X-; the writer
// checks that rather than let the evaluation go silently wrong. Lines end with '\n', text is UTF-8
// without a byte-order mark.
using System.Text;

namespace EarlyExit.Sequence;

/// <summary>Writes sentences in CoNLL format, e.g. words with gold and predicted tags for conlleval.pl.</summary>
public sealed class ConllWriter : IDisposable
{
    /// <summary>The first field conlleval.pl reads as a sentence boundary.</summary>
    public const string ConllevalBoundary = "-X-";

    private readonly TextWriter _writer;
    private readonly bool _leaveOpen;
    private int _sentences;

    /// <summary>Writes to a file (created or overwritten), UTF-8 without a byte-order mark.</summary>
    /// <param name="path">The file.</param>
    public ConllWriter(string path)
        : this(new StreamWriter(path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)), leaveOpen: false)
    {
    }

    /// <summary>Writes to a text writer.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="leaveOpen">Whether disposing this writer leaves <paramref name="writer"/> open.</param>
    public ConllWriter(TextWriter writer, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(writer);
        _writer = writer;
        _leaveOpen = leaveOpen;
    }

    /// <summary>
    /// Writes one sentence for conlleval.pl: each line is the word, the extra columns, the gold tag and
    /// the predicted tag. conlleval reads the last two fields as gold and prediction, so extra
    /// columns (e.g. each token's exit layer) go between the word and the tags.
    /// </summary>
    /// <param name="words">The words.</param>
    /// <param name="gold">The gold tags, one per word.</param>
    /// <param name="predicted">The predicted tags, one per word.</param>
    /// <param name="extraColumns">More columns, one value per word each, written after the word.</param>
    /// <exception cref="ArgumentException">Lengths differ, the sentence is empty, or a field is empty, holds whitespace, or a word is -X- or -DOCSTART-.</exception>
    public void WriteSentence(IReadOnlyList<string> words, IReadOnlyList<string> gold, IReadOnlyList<string> predicted, params IReadOnlyList<string>[] extraColumns)
    {
        ArgumentNullException.ThrowIfNull(words);
        ArgumentNullException.ThrowIfNull(gold);
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(extraColumns);
        var columns = new List<IReadOnlyList<string>>(extraColumns.Length + 3) { words };
        columns.AddRange(extraColumns);
        columns.Add(gold);
        columns.Add(predicted);
        WriteSentence(columns);
    }

    /// <summary>Writes one sentence given column by column (each list one column, all as long as the sentence).</summary>
    /// <param name="columns">The columns; the first holds the words.</param>
    /// <exception cref="ArgumentException">No columns, lengths differ, the sentence is empty, or a field is empty, holds whitespace, or a word is -X- or -DOCSTART-.</exception>
    public void WriteSentence(IReadOnlyList<IReadOnlyList<string>> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        int sentence = _sentences;
        if (columns.Count == 0)
        {
            throw new ArgumentException($"Sentence {sentence} (0-based) has no columns; pass at least the words.", nameof(columns));
        }

        int length = columns[0]?.Count ?? throw new ArgumentException($"Sentence {sentence}: column 0 is null.", nameof(columns));
        if (length == 0)
        {
            throw new ArgumentException($"Sentence {sentence} (0-based) has no tokens; CoNLL format cannot hold an empty sentence (a blank line only separates sentences), so leave it out.", nameof(columns));
        }

        for (int c = 0; c < columns.Count; c++)
        {
            IReadOnlyList<string> column = columns[c] ?? throw new ArgumentException($"Sentence {sentence}: column {c} is null.", nameof(columns));
            if (column.Count != length)
            {
                throw new ArgumentException($"Sentence {sentence} (0-based): column {c} has {column.Count} values but column 0 has {length} words; every column needs one value per word.", nameof(columns));
            }

            for (int i = 0; i < length; i++)
            {
                CheckField(column[i], sentence, i, c);
            }
        }

        var line = new StringBuilder();
        for (int i = 0; i < length; i++)
        {
            line.Clear();
            for (int c = 0; c < columns.Count; c++)
            {
                if (c > 0)
                {
                    line.Append(' ');
                }

                line.Append(columns[c][i]);
            }

            line.Append('\n');
            _writer.Write(line);
        }

        _writer.Write('\n');
        _sentences++;
    }

    /// <summary>Flushes the underlying writer.</summary>
    public void Flush() => _writer.Flush();

    /// <summary>Flushes, and closes the underlying writer unless it was to be left open.</summary>
    public void Dispose()
    {
        _writer.Flush();
        if (!_leaveOpen)
        {
            _writer.Dispose();
        }
    }

    private static void CheckField(string? field, int sentence, int token, int column)
    {
        string where = $"Sentence {sentence}, token {token} (0-based), column {column}";
        if (string.IsNullOrEmpty(field))
        {
            throw new ArgumentException($"{where} is empty; CoNLL fields are separated by spaces, so an empty field would shift the columns.", "columns");
        }

        foreach (char ch in field)
        {
            if (char.IsWhiteSpace(ch))
            {
                throw new ArgumentException($"{where} '{field}' holds whitespace, which CoNLL format and conlleval.pl read as a column separator; replace it (e.g. with '_').", "columns");
            }
        }

        if (column == 0 && (field == ConllevalBoundary || field == "-DOCSTART-"))
        {
            throw new ArgumentException(
                $"{where}: the word '{field}' would be read as a sentence boundary (conlleval.pl's -X-) or a document start (-DOCSTART-), not as a token; replace it.", "columns");
        }
    }
}
