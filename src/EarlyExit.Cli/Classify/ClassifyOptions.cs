// Options of the classify commands only: how delimited data files are laid out and which columns to
// use. Values are checked while parsing, so a bad value is a usage error (exit code 2) before any file is read.
using System.CommandLine;
using EarlyExit.Cli.Data;

namespace EarlyExit.Cli.Classify;

/// <summary>--separator, --no-header, --quoting, --no-quoting and --strict-encoding.</summary>
internal sealed class DataFormatOptions
{
    public Option<char?> Separator { get; } = new("--separator")
    {
        Description = "Field separator: tab, comma, semicolon, pipe, space or one character. Default: from each file's extension (.tsv tab, .csv comma).",
        HelpName = "tab|comma|C",
        CustomParser = result =>
        {
            char? separator = DelimitedFormat.ParseSeparator(result.Tokens[0].Value, out string? problem);
            if (problem is not null)
            {
                result.AddError(problem);
            }

            return separator;
        },
    };

    public Option<bool> NoHeader { get; } = new("--no-header")
    {
        Description = "The files have no header line; name columns by 0-based index (e.g. --text-column 3).",
    };

    public Option<bool> Quoting { get; } = new("--quoting")
    {
        Description = "Read RFC 4180 quoted fields (\"a, b\" and \"\" for a quote). Default: on for comma-separated files, off otherwise.",
    };

    public Option<bool> NoQuoting { get; } = new("--no-quoting")
    {
        Description = "Every \" is literal text (GLUE TSVs). The default for files that are not comma-separated.",
    };

    public Option<bool> StrictEncoding { get; } = new("--strict-encoding")
    {
        Description = "Bytes that are not UTF-8 are an error. Default: a warning (with the first such line and the count), and the bytes read as U+FFFD.",
    };

    public void AddTo(Command command)
    {
        command.Add(Separator);
        command.Add(NoHeader);
        command.Add(Quoting);
        command.Add(NoQuoting);
        command.Add(StrictEncoding);
        command.Validators.Add(result =>
        {
            if (result.GetValue(Quoting) && result.GetValue(NoQuoting))
            {
                result.AddError("--quoting and --no-quoting contradict each other; give one.");
            }
        });
    }

    /// <summary>The format of <paramref name="path"/> under the parsed options.</summary>
    public DelimitedFormat For(ParseResult result, string path)
    {
        bool? quoting = result.GetValue(Quoting) ? true : result.GetValue(NoQuoting) ? false : null;
        return DelimitedFormat.For(path, result.GetValue(Separator), hasHeader: !result.GetValue(NoHeader), quoting, result.GetValue(StrictEncoding));
    }
}

/// <summary>--text-column, --text-pair-column and (optionally) --label-column.</summary>
internal sealed class ColumnOptions
{
    private readonly bool _withLabel;

    public ColumnOptions(bool withLabel)
    {
        _withLabel = withLabel;
        Label = withLabel
            ? new Option<string>("--label-column") { Description = "The column of class labels (any text values).", HelpName = "C", Required = true }
            : null;
        PositiveLabel = withLabel
            ? new Option<string>("--positive-label")
            {
                Description = "The label value whose F1 is reported (and maximised by --validation-metric f1 / --metric f1). Default: 1, else true, else the second label in ordinal order.",
                HelpName = "V",
            }
            : null;
    }

    public Option<string> Text { get; } = new("--text-column")
    {
        Description = "The text column: a header name (exact, case-sensitive), or a 0-based index with --no-header.",
        HelpName = "C",
        Required = true,
    };

    public Option<string> TextPair { get; } = new("--text-pair-column")
    {
        Description = "The second text of sentence-pair tasks (e.g. RTE, MRPC).",
        HelpName = "C",
    };

    public Option<string>? Label { get; }

    public Option<string>? PositiveLabel { get; }

    public void AddTo(Command command)
    {
        command.Add(Text);
        command.Add(TextPair);
        if (Label is not null)
        {
            command.Add(Label);
            command.Add(PositiveLabel!);
        }
    }

    /// <summary>The --positive-label value, or null for the default rule.</summary>
    public string? PositiveLabelOf(ParseResult result) => PositiveLabel is null ? null : result.GetValue(PositiveLabel);

    public ColumnSelection Selection(ParseResult result) =>
        new(result.GetRequiredValue(Text), result.GetValue(TextPair), _withLabel ? result.GetRequiredValue(Label!) : null);
}
