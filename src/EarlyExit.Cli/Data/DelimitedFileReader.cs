// A small reader of delimited text files (TSV, CSV) for the command line.
//
// - UTF-8 (a byte-order mark is dropped); bytes that are not UTF-8 read as U+FFFD with a warning that
//   names the first such line and counts them, or are an error with StrictEncoding. Records end at LF
//   or CRLF; a lone CR is data.
// - With quoting (RFC 4180): a field that starts with '"' runs to the next lone '"' and may hold
//   separators and line breaks; '""' inside it is one quote. A '"' anywhere else is literal, as in
//   most readers. Without quoting every '"' is literal (the GLUE TSVs need this).
// - Lines with nothing on them are skipped. Every other record must have as many fields as the
//   header (or, without a header, as the first record).
// - Errors name the file, the 1-based line and the problem.
using System.Text;

namespace EarlyExit.Cli.Data;

/// <summary>One record of a delimited file.</summary>
/// <param name="LineNumber">The 1-based line the record starts on.</param>
/// <param name="Fields">The record's fields.</param>
internal sealed record DelimitedRecord(int LineNumber, string[] Fields);

/// <summary>The records of a delimited file, and its column names.</summary>
internal sealed class DelimitedTable
{
    public DelimitedTable(string path, DelimitedFormat format, IReadOnlyList<string> columnNames, IReadOnlyList<DelimitedRecord> records)
    {
        Path = path;
        Format = format;
        ColumnNames = columnNames;
        Records = records;
    }

    /// <summary>The file as named on the command line.</summary>
    public string Path { get; }

    /// <summary>How the file was read.</summary>
    public DelimitedFormat Format { get; }

    /// <summary>The header's names, or "0", "1", ... without a header.</summary>
    public IReadOnlyList<string> ColumnNames { get; }

    /// <summary>The data records (the header excluded), in file order.</summary>
    public IReadOnlyList<DelimitedRecord> Records { get; }

    /// <summary>What the user should know about how the file was read (bytes that are not UTF-8), or null.</summary>
    public string? Warning { get; init; }

    /// <summary>
    /// The 0-based index of column <paramref name="column"/>: an exact (case-sensitive) header name, or
    /// without a header a 0-based index.
    /// </summary>
    /// <param name="column">The name or index the user gave.</param>
    /// <param name="option">The option that named it, for the message (e.g. --text-column).</param>
    /// <exception cref="CliException">No such column; the message lists the available ones.</exception>
    public int ColumnIndex(string column, string option)
    {
        if (!Format.HasHeader)
        {
            if (int.TryParse(column, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int index) && index < ColumnNames.Count)
            {
                return index;
            }

            throw new CliException(
                $"{option} '{column}' is not a column of '{Path}': with --no-header, columns are 0-based indices, here 0 to {ColumnNames.Count - 1}.");
        }

        int[] matches = Enumerable.Range(0, ColumnNames.Count).Where(i => string.Equals(ColumnNames[i], column, StringComparison.Ordinal)).ToArray();
        if (matches.Length == 1)
        {
            return matches[0];
        }

        if (matches.Length > 1)
        {
            throw new CliException($"{option} '{column}' is ambiguous: '{Path}' has {matches.Length} columns of that name (columns {string.Join(", ", matches)}).");
        }

        string hint = int.TryParse(column, out _) ? " Columns are named by the header; for a file without a header pass --no-header and 0-based indices." : "";
        string caseHint = ColumnNames.FirstOrDefault(n => string.Equals(n, column, StringComparison.OrdinalIgnoreCase)) is string other
            ? $" Names are case-sensitive: did you mean '{other}'?"
            : "";
        throw new CliException(
            $"{option} '{column}' is not a column of '{Path}'; its columns are: {string.Join(", ", ColumnNames.Select(n => $"'{n}'"))}.{caseHint}{hint}");
    }
}

/// <summary>Reads delimited text files; see the file header for the rules.</summary>
internal static class DelimitedFileReader
{
    /// <summary>Reads all of <paramref name="path"/>.</summary>
    /// <exception cref="CliException">The file is missing, empty or malformed; the message names the file and line.</exception>
    public static DelimitedTable Read(string path, DelimitedFormat format, CancellationToken cancellationToken = default)
    {
        if (Directory.Exists(path))
        {
            throw new CliException($"'{path}' is a folder, not a data file.");
        }

        if (!File.Exists(path))
        {
            throw new CliException($"Data file '{path}' does not exist.");
        }

        string? warning = null;
        if (InvalidUtf8Lines(path) is (int count, int first))
        {
            string problem = $"'{path}' is not valid UTF-8 on {count} line(s), the first at line {first}";
            if (format.StrictEncoding)
            {
                throw new CliException($"{problem}. Convert the file to UTF-8 (e.g. iconv -f latin1 -t utf-8), or drop --strict-encoding to read those bytes as U+FFFD.");
            }

            warning = $"{problem}; those bytes read as U+FFFD. Convert the file to UTF-8, or pass --strict-encoding to make this an error.";
        }

        using var reader = new StreamReader(path, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), detectEncodingFromByteOrderMarks: true);
        DelimitedTable table = Read(reader, path, format, cancellationToken);
        return warning is null ? table : new DelimitedTable(table.Path, table.Format, table.ColumnNames, table.Records) { Warning = warning };
    }

    // How many lines (split at LF) are not valid UTF-8, and the 1-based number of the first; null when all are,
    // or when a UTF-16/32 byte-order mark says the file is not UTF-8 at all (the reader decodes those). The file
    // is read in blocks; an LF byte never occurs inside a multi-byte UTF-8 sequence, so lines split cleanly.
    private static (int Count, int First)? InvalidUtf8Lines(string path)
    {
        using FileStream stream = File.OpenRead(path);
        var head = new byte[4];
        int headLength = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (headLength >= 2 && ((head[0] == 0xFF && head[1] == 0xFE) || (head[0] == 0xFE && head[1] == 0xFF))
            || (headLength == 4 && head[0] == 0 && head[1] == 0 && head[2] == 0xFE && head[3] == 0xFF))
        {
            return null;
        }

        stream.Position = 0;
        var buffer = new byte[1 << 20];
        var pending = new List<byte>(); // a line that runs past the end of a block
        int line = 0;
        int count = 0;
        int first = 0;
        void Check(ReadOnlySpan<byte> text)
        {
            line++;
            if (!System.Text.Unicode.Utf8.IsValid(text))
            {
                count++;
                first = first == 0 ? line : first;
            }
        }

        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            ReadOnlySpan<byte> block = buffer.AsSpan(0, read);
            int end;
            while ((end = block.IndexOf((byte)'\n')) >= 0)
            {
                if (pending.Count > 0)
                {
                    pending.AddRange(block[..end]);
                    Check(pending.ToArray());
                    pending.Clear();
                }
                else
                {
                    Check(block[..end]);
                }

                block = block[(end + 1)..];
            }

            pending.AddRange(block);
        }

        if (pending.Count > 0)
        {
            Check(pending.ToArray());
        }

        return count == 0 ? null : (count, first);
    }

    /// <summary>Reads all records from <paramref name="reader"/>; <paramref name="path"/> names it in messages.</summary>
    public static DelimitedTable Read(TextReader reader, string path, DelimitedFormat format, CancellationToken cancellationToken = default)
    {
        var parser = new RecordParser(reader, path, format);
        DelimitedRecord? first = parser.Next();
        if (first is null)
        {
            throw new CliException($"Data file '{path}' is empty.");
        }

        if (first.Fields.Length > 0 && first.Fields[0].StartsWith('\uFEFF'))
        {
            first.Fields[0] = first.Fields[0][1..];
        }

        IReadOnlyList<string> names = format.HasHeader
            ? first.Fields
            : Enumerable.Range(0, first.Fields.Length).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var records = new List<DelimitedRecord>();
        if (!format.HasHeader)
        {
            records.Add(first);
        }

        string expected = format.HasHeader ? $"the header (line {first.LineNumber}) has {names.Count}" : $"the first line has {names.Count}";
        while (parser.Next() is DelimitedRecord record)
        {
            if ((records.Count & 0xFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            if (record.Fields.Length != names.Count)
            {
                string fix = record.Fields.Length > names.Count && !format.Quoting && format.Separator == ','
                    ? " If values contain commas inside quotes, pass --quoting."
                    : record.Fields.Length < names.Count ? " Is the separator right (--separator)?" : "";
                throw new CliException(
                    $"'{path}', line {record.LineNumber}: {(record.Fields.Length < names.Count ? "too few" : "too many")} fields: {record.Fields.Length}, but {expected} " +
                    $"({format.SeparatorName}-separated, quoting {(format.Quoting ? "on" : "off")}).{fix}");
            }

            records.Add(record);
        }

        if (records.Count == 0)
        {
            throw new CliException($"Data file '{path}' has a header but no data rows.");
        }

        return new DelimitedTable(path, format, names, records);
    }

    /// <summary>Splits a character stream into records.</summary>
    private sealed class RecordParser(TextReader reader, string path, DelimitedFormat format)
    {
        private const char Quote = '"';
        private readonly char[] _buffer = new char[64 * 1024];
        private readonly StringBuilder _field = new();
        private int _position;
        private int _length;
        private int _line = 1;

        /// <summary>The next non-blank record, or null at the end of the file.</summary>
        public DelimitedRecord? Next()
        {
            while (true)
            {
                if (Peek() < 0)
                {
                    return null;
                }

                int startLine = _line;
                List<string> fields = ReadRecord();
                if (fields.Count == 1 && fields[0].Length == 0)
                {
                    continue; // a blank line
                }

                return new DelimitedRecord(startLine, fields.ToArray());
            }
        }

        private List<string> ReadRecord()
        {
            var fields = new List<string>();
            _field.Clear();
            bool fieldStart = true;
            while (true)
            {
                int c = Read();
                if (c < 0)
                {
                    fields.Add(_field.ToString());
                    return fields;
                }

                if (fieldStart && format.Quoting && c == Quote)
                {
                    ReadQuoted(fields.Count + 1);
                    int next = Peek();
                    if (next == format.Separator)
                    {
                        Read();
                        fields.Add(_field.ToString());
                        _field.Clear();
                        continue;
                    }

                    if (next == '\r' && PeekAt(1) == '\n')
                    {
                        Read();
                    }

                    if (next < 0 || Peek() == '\n')
                    {
                        if (Read() == '\n')
                        {
                            _line++;
                        }

                        fields.Add(_field.ToString());
                        return fields;
                    }

                    throw new CliException(
                        $"'{path}', line {_line}: unexpected '{(char)next}' after the closing quote of field {fields.Count + 1}; " +
                        "inside a quoted field a quote is written as two quotes (\"\"). If quotes in this file are literal text, pass --no-quoting.");
                }

                fieldStart = false;
                if (c == format.Separator)
                {
                    fields.Add(_field.ToString());
                    _field.Clear();
                    fieldStart = true;
                    continue;
                }

                if (c == '\n')
                {
                    _line++;
                    if (_field.Length > 0 && _field[^1] == '\r')
                    {
                        _field.Length--;
                    }

                    fields.Add(_field.ToString());
                    return fields;
                }

                _field.Append((char)c);
            }
        }

        // Reads a quoted field's content (the opening quote is consumed) into _field.
        private void ReadQuoted(int fieldNumber)
        {
            int startLine = _line;
            while (true)
            {
                int c = Read();
                if (c < 0)
                {
                    throw new CliException(
                        $"'{path}', line {startLine}: field {fieldNumber} opens a quote that is never closed (the file ends inside it). " +
                        "If quotes in this file are literal text, pass --no-quoting.");
                }

                if (c == Quote)
                {
                    if (Peek() == Quote)
                    {
                        Read();
                        _field.Append(Quote);
                        continue;
                    }

                    return;
                }

                if (c == '\n')
                {
                    _line++;
                }

                _field.Append((char)c);
            }
        }

        private int Read()
        {
            if (!Fill(1))
            {
                return -1;
            }

            return _buffer[_position++];
        }

        private int Peek() => PeekAt(0);

        private int PeekAt(int offset) => Fill(offset + 1) ? _buffer[_position + offset] : -1;

        // Makes sure `count` characters are buffered, when the file has them.
        private bool Fill(int count)
        {
            if (_length - _position >= count)
            {
                return true;
            }

            if (_position > 0)
            {
                Array.Copy(_buffer, _position, _buffer, 0, _length - _position);
                _length -= _position;
                _position = 0;
            }

            while (_length < count)
            {
                int read = reader.Read(_buffer, _length, _buffer.Length - _length);
                if (read == 0)
                {
                    return false;
                }

                _length += read;
            }

            return true;
        }
    }
}
