// Reader of CoNLL-format files (one token per line, columns separated by whitespace, sentences
// separated by blank lines), as CoNLL-2000/2003 and most NER corpora ship them.
//
// - UTF-8; a byte-order mark is dropped. Lines end at LF, CRLF or CR.
// - A line of only spaces and tabs is blank. Any number of blank lines separate sentences; the last
//   sentence needs no blank line after it.
// - A line whose first column is -DOCSTART- starts a document and is not a token; it also ends the
//   sentence before it.
// - Every token line of a sentence must have the same number of columns; sentences may differ.
// - Errors name the file, the 1-based line and the fix.
using System.Text;

namespace EarlyExit.Sequence;

/// <summary>How a CoNLL file's columns are separated.</summary>
public enum ConllColumnSeparator
{
    /// <summary>Any run of spaces and tabs (CoNLL-2003, conlleval output); leading and trailing ones are ignored.</summary>
    Whitespace,

    /// <summary>Single tabs; fields keep their spaces (for words that contain spaces).</summary>
    Tab,
}

/// <summary>Options of <see cref="ConllReader"/>.</summary>
public sealed record ConllReaderOptions
{
    /// <summary>The 0-based column of the words; negative counts from the end.</summary>
    /// <value>The default value is 0, the first column.</value>
    public int WordColumn { get; init; }

    /// <summary>The 0-based column of the tags; negative counts from the end.</summary>
    /// <value>The default value is -1, the last column (CoNLL-2003's NER tags).</value>
    public int TagColumn { get; init; } = -1;

    /// <summary>How columns are separated.</summary>
    /// <value>The default value is <see cref="ConllColumnSeparator.Whitespace"/>.</value>
    public ConllColumnSeparator Separator { get; init; } = ConllColumnSeparator.Whitespace;

    /// <summary>The first column of the lines that start a document.</summary>
    /// <value>The default value is <c>-DOCSTART-</c>.</value>
    public string DocumentStartMarker { get; init; } = "-DOCSTART-";
}

/// <summary>A line of a CoNLL file that cannot be read; the message names the file, the line and the fix.</summary>
public sealed class ConllFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="source">The file.</param>
    /// <param name="lineNumber">The 1-based line.</param>
    /// <param name="problem">What is wrong and how to fix it.</param>
    public ConllFormatException(string source, int lineNumber, string problem)
        : this(source, lineNumber, problem, null)
    {
    }

    internal ConllFormatException(string source, int lineNumber, string problem, Exception? inner)
        : base($"'{source}' line {lineNumber}: {problem}", inner)
    {
        FileName = source;
        LineNumber = lineNumber;
    }

    /// <summary>The file path, or the name given for a reader.</summary>
    public string FileName { get; }

    /// <summary>The 1-based line.</summary>
    public int LineNumber { get; }
}

/// <summary>Reads CoNLL-format files into sentences.</summary>
public static class ConllReader
{
    private static readonly char[] s_whitespace = [' ', '\t'];
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Reads a file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="options">The columns and separator; null for CoNLL-2003's layout (words first, tags last).</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ConllFormatException">A malformed line.</exception>
    public static ConllCorpus Read(string path, ConllReaderOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The CoNLL file '{path}' does not exist.", path);
        }

        try
        {
            using var reader = new StreamReader(path, s_strictUtf8, detectEncodingFromByteOrderMarks: true);
            return Read(reader, path, options);
        }
        catch (ConllFormatException e) when (e.InnerException is DecoderFallbackException)
        {
            // The reader decodes a buffer ahead of the lines it returns; find the exact line.
            throw new ConllFormatException(path, FirstInvalidUtf8Line(path), "the text is not valid UTF-8; save the file as UTF-8.", e.InnerException);
        }
    }

    /// <summary>Reads CoNLL text.</summary>
    /// <param name="reader">The text.</param>
    /// <param name="sourceName">The name errors give for it, e.g. the file name.</param>
    /// <param name="options">The columns and separator; null for CoNLL-2003's layout.</param>
    /// <exception cref="ConllFormatException">A malformed line.</exception>
    public static ConllCorpus Read(TextReader reader, string sourceName, ConllReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(sourceName);
        options ??= new ConllReaderOptions();
        if (string.IsNullOrEmpty(options.DocumentStartMarker))
        {
            throw new ArgumentException("ConllReaderOptions.DocumentStartMarker must not be empty; the default is -DOCSTART-.", nameof(options));
        }

        var sentences = new List<ConllSentence>();
        var rows = new List<string[]>();
        int firstLine = 0;
        int lineNumber = 0;
        int documentIndex = 0;
        bool documentHasSentences = false;

        void EndSentence()
        {
            if (rows.Count == 0)
            {
                return;
            }

            (int word, int tag) = ResolveColumns(rows[0].Length, options, sourceName, firstLine);
            sentences.Add(new ConllSentence(rows.ToArray(), word, tag, firstLine, documentIndex));
            documentHasSentences = true;
            rows.Clear();
        }

        while (ReadLine(reader, sourceName, lineNumber + 1) is string line)
        {
            lineNumber++;
            if (lineNumber == 1 && line.Length > 0 && line[0] == '\uFEFF')
            {
                line = line.Substring(1);
            }

            if (line.AsSpan().Trim(s_whitespace).IsEmpty)
            {
                EndSentence();
                continue;
            }

            string[] fields = Split(line, options.Separator);
            int empty = Array.IndexOf(fields, string.Empty);
            if (empty >= 0)
            {
                throw new ConllFormatException(sourceName, lineNumber,
                    $"column {empty} is empty (two tabs in a row, or a tab at the start or end of the line); with tab-separated columns every field needs text.");
            }

            if (string.Equals(fields[0], options.DocumentStartMarker, StringComparison.Ordinal))
            {
                EndSentence();
                if (documentHasSentences)
                {
                    documentIndex++;
                    documentHasSentences = false;
                }

                continue;
            }

            if (rows.Count == 0)
            {
                firstLine = lineNumber;
                _ = ResolveColumns(fields.Length, options, sourceName, lineNumber);
            }
            else if (fields.Length != rows[0].Length)
            {
                throw new ConllFormatException(sourceName, lineNumber,
                    $"the line has {fields.Length} columns but the sentence that starts at line {firstLine} has {rows[0].Length}; " +
                    "every token line of a sentence needs the same columns (is a blank line missing between two sentences, or a column empty?).");
            }

            rows.Add(fields);
        }

        EndSentence();
        return new ConllCorpus(sourceName, sentences, documentHasSentences ? documentIndex + 1 : documentIndex);
    }

    private static string? ReadLine(TextReader reader, string sourceName, int lineNumber)
    {
        try
        {
            return reader.ReadLine();
        }
        catch (DecoderFallbackException e)
        {
            throw new ConllFormatException(sourceName, lineNumber,
                "the text is not valid UTF-8 (the decoder reads ahead, so the bad bytes are on this line or a later one); save the file as UTF-8.", e);
        }
    }

    private static int FirstInvalidUtf8Line(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        int line = 1;
        int start = 0;
        for (int i = 0; i <= bytes.Length; i++)
        {
            if (i == bytes.Length || bytes[i] == (byte)'\n')
            {
                try
                {
                    _ = s_strictUtf8.GetCharCount(bytes, start, i - start);
                }
                catch (DecoderFallbackException)
                {
                    return line;
                }

                line++;
                start = i + 1;
            }
        }

        return 1;
    }

    private static string[] Split(string line, ConllColumnSeparator separator) => separator switch
    {
        ConllColumnSeparator.Whitespace => line.Split(s_whitespace, StringSplitOptions.RemoveEmptyEntries),
        ConllColumnSeparator.Tab => line.Split('\t'),
        _ => throw new ArgumentOutOfRangeException(nameof(separator), separator, "Unknown column separator."),
    };

    private static (int Word, int Tag) ResolveColumns(int columns, ConllReaderOptions options, string sourceName, int lineNumber)
    {
        int word = Resolve(options.WordColumn, columns, "word", nameof(ConllReaderOptions.WordColumn), sourceName, lineNumber);
        int tag = Resolve(options.TagColumn, columns, "tag", nameof(ConllReaderOptions.TagColumn), sourceName, lineNumber);
        if (word == tag)
        {
            throw new ConllFormatException(sourceName, lineNumber,
                $"the line has {columns} column{(columns == 1 ? string.Empty : "s")}, so the word column ({options.WordColumn}) and the tag column ({options.TagColumn}) are the same; " +
                "a token line needs at least a word and a tag (is the tag missing?).");
        }

        return (word, tag);
    }

    private static int Resolve(int column, int columns, string what, string option, string sourceName, int lineNumber)
    {
        int resolved = column < 0 ? columns + column : column;
        if (resolved < 0 || resolved >= columns)
        {
            int needed = column < 0 ? -column : column + 1;
            throw new ConllFormatException(sourceName, lineNumber,
                $"the line has {columns} column{(columns == 1 ? string.Empty : "s")} but the {what} column {column} ({option}) needs at least {needed}; " +
                "check the line, or set the column to one the file has.");
        }

        return resolved;
    }
}
