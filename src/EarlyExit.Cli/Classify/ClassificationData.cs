using EarlyExit.Cli.Data;

namespace EarlyExit.Cli.Classify;

/// <summary>Which of the user's columns hold the text, the second text of pairs and the label.</summary>
/// <param name="Text">--text-column: a header name, or a 0-based index with --no-header.</param>
/// <param name="TextPair">--text-pair-column, or null for single texts.</param>
/// <param name="Label">--label-column, or null when the command needs no labels (score).</param>
internal sealed record ColumnSelection(string Text, string? TextPair, string? Label);

/// <summary>
/// A data file mapped onto <see cref="ClassificationRow"/>s: the user's columns become the fixed
/// internal names, and every row remembers its file line for messages.
/// </summary>
internal sealed class ClassificationData
{
    private readonly int[] _recordIndices;

    private ClassificationData(DelimitedTable table, ColumnSelection columns, int[] recordIndices, IReadOnlyList<ClassificationRow> rows)
    {
        Table = table;
        Columns = columns;
        _recordIndices = recordIndices;
        Rows = rows;
    }

    /// <summary>The file as read.</summary>
    public DelimitedTable Table { get; }

    /// <summary>The columns used.</summary>
    public ColumnSelection Columns { get; }

    /// <summary>The rows, in file order.</summary>
    public IReadOnlyList<ClassificationRow> Rows { get; }

    /// <summary>Whether the rows are sentence pairs.</summary>
    public bool IsPair => Columns.TextPair is not null;

    /// <summary>The file record of row <paramref name="row"/>.</summary>
    public DelimitedRecord Record(int row) => Table.Records[_recordIndices[row]];

    /// <summary>Reads <paramref name="path"/> and maps <paramref name="columns"/> onto internal rows.</summary>
    /// <exception cref="CliException">The file is missing or malformed, a column is missing, or a label is empty.</exception>
    public static ClassificationData Read(string path, DelimitedFormat format, ColumnSelection columns, Action<string> warn, CancellationToken cancellationToken)
    {
        DelimitedTable table = DelimitedFileReader.Read(path, format, cancellationToken);
        if (table.Warning is string warning)
        {
            warn(warning);
        }

        int text = table.ColumnIndex(columns.Text, "--text-column");
        int? pair = columns.TextPair is null ? null : table.ColumnIndex(columns.TextPair, "--text-pair-column");
        int? label = columns.Label is null ? null : table.ColumnIndex(columns.Label, "--label-column");
        if (pair == text)
        {
            throw new CliException($"--text-pair-column '{columns.TextPair}' is the same column as --text-column '{columns.Text}'.", isUsage: true);
        }

        var rows = new ClassificationRow[table.Records.Count];
        for (int i = 0; i < rows.Length; i++)
        {
            string[] fields = table.Records[i].Fields;
            string labelValue = label is int l ? fields[l] : "";
            if (label is not null && labelValue.Length == 0)
            {
                throw new CliException($"'{path}', line {table.Records[i].LineNumber}: the label (column '{columns.Label}') is empty; every row needs a class.");
            }

            rows[i] = new ClassificationRow
            {
                Sentence1 = fields[text],
                Sentence2 = pair is int p ? fields[p] : "",
                Label = labelValue,
            };
        }

        return new ClassificationData(table, columns, Enumerable.Range(0, rows.Length).ToArray(), rows);
    }

    /// <summary>
    /// At most <paramref name="count"/> rows drawn at random with <paramref name="seed"/> (the same
    /// seed gives the same rows), kept in file order.
    /// </summary>
    public ClassificationData Subsample(int count, int seed)
    {
        if (count >= Rows.Count)
        {
            return this;
        }

        int[] order = Enumerable.Range(0, Rows.Count).ToArray();
        new Random(seed).Shuffle(order);
        int[] kept = order.Take(count).Order().ToArray();
        return new ClassificationData(Table, Columns, kept.Select(i => _recordIndices[i]).ToArray(), kept.Select(i => Rows[i]).ToArray());
    }

    /// <summary>The distinct labels, sorted ordinally (the order of the model's classes).</summary>
    public IReadOnlyList<string> Labels() => Rows.Select(r => r.Label).Distinct().Order(StringComparer.Ordinal).ToArray();

    /// <summary>Fails on the first label that is not one of <paramref name="classes"/>.</summary>
    /// <param name="classes">The classes the model knows.</param>
    /// <param name="modelDescription">What the classes come from, e.g. "the model" or "the training data".</param>
    /// <exception cref="CliException">A label is not a known class; the message names it, its first line and the classes.</exception>
    public void RequireKnownLabels(IReadOnlyList<string> classes, string modelDescription)
    {
        var known = new HashSet<string>(classes, StringComparer.Ordinal);
        for (int i = 0; i < Rows.Count; i++)
        {
            string label = Rows[i].Label;
            if (!known.Contains(label))
            {
                int others = Rows.Skip(i + 1).Count(r => r.Label == label);
                throw new CliException(
                    $"'{Table.Path}', line {Record(i).LineNumber}: label '{label}' (column '{Columns.Label}') is not a class of {modelDescription}" +
                    $"{(others > 0 ? $" ({others} more row(s) have it)" : "")}; the known classes are: {string.Join(", ", classes.Select(c => $"'{c}'"))}.");
            }
        }
    }
}
