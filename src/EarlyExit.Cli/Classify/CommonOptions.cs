// Options more than one classify command takes: how data files are laid out, which columns to use,
// the exit criterion, the batch size and the device. Values are checked while parsing, so a bad value
// is a usage error (exit code 2) before any file is read.
using System.CommandLine;
using System.CommandLine.Parsing;
using EarlyExit.Cli.Data;
using EarlyExit.Devices;
using EarlyExit.ExitCriteria;

namespace EarlyExit.Cli.Classify;

/// <summary>--separator, --no-header, --quoting and --no-quoting.</summary>
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

    public void AddTo(Command command)
    {
        command.Add(Separator);
        command.Add(NoHeader);
        command.Add(Quoting);
        command.Add(NoQuoting);
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
        return DelimitedFormat.For(path, result.GetValue(Separator), hasHeader: !result.GetValue(NoHeader), quoting);
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

    public void AddTo(Command command)
    {
        command.Add(Text);
        command.Add(TextPair);
        if (Label is not null)
        {
            command.Add(Label);
        }
    }

    public ColumnSelection Selection(ParseResult result) =>
        new(result.GetRequiredValue(Text), result.GetValue(TextPair), _withLabel ? result.GetRequiredValue(Label!) : null);
}

/// <summary>Option factories shared by the classify commands.</summary>
internal static class CommonOptions
{
    /// <summary>--exit-criterion, parsed with <see cref="ExitCriterion.Parse"/>.</summary>
    public static Option<ExitCriterion?> ExitCriterion(string description) => new("--exit-criterion")
    {
        Description = $"{description} Forms: {ExitCriteria.ExitCriterion.Syntax}.",
        HelpName = "CRITERION",
        CustomParser = result =>
        {
            string text = result.Tokens[0].Value;
            try
            {
                return ExitCriteria.ExitCriterion.Parse(text);
            }
            catch (FormatException e)
            {
                result.AddError($"--exit-criterion: {e.Message}");
                return null;
            }
        },
    };

    /// <summary>--device: auto, cpu, cuda or cuda:N.</summary>
    public static Option<DeviceOption?> Device(string what) => new("--device")
    {
        Description = $"{what}: auto (CUDA when usable, else CPU), cpu, cuda or cuda:N. Default: auto.",
        HelpName = "auto|cpu|cuda|cuda:N",
        CustomParser = result =>
        {
            if (DeviceOption.TryParse(result.Tokens[0].Value, out DeviceOption? device))
            {
                return device;
            }

            result.AddError($"--device '{result.Tokens[0].Value}' is not valid; use auto, cpu, cuda or cuda:N.");
            return null;
        },
    };

    /// <summary>An integer option that must be at least <paramref name="minimum"/>.</summary>
    public static Option<int?> Integer(string name, string description, int minimum, string helpName = "N")
    {
        var option = new Option<int?>(name) { Description = description, HelpName = helpName };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is int value && value < minimum)
            {
                result.AddError($"{name} is {value}; it must be at least {minimum}.");
            }
        });
        return option;
    }

    /// <summary>A number option that must be positive.</summary>
    public static Option<double?> Positive(string name, string description, string helpName = "X")
    {
        var option = new Option<double?>(name) { Description = description, HelpName = helpName };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double?>() is double value && !(value > 0))
            {
                result.AddError($"{name} is {value.ToString(System.Globalization.CultureInfo.InvariantCulture)}; it must be positive.");
            }
        });
        return option;
    }

    /// <summary>An option with a fixed set of words, each mapped to a value.</summary>
    public static Option<T?> Choice<T>(string name, string description, IReadOnlyDictionary<string, T> choices)
        where T : struct
    {
        string words = string.Join("|", choices.Keys);
        var option = new Option<T?>(name)
        {
            Description = description,
            HelpName = words,
            CustomParser = result =>
            {
                string text = result.Tokens[0].Value;
                if (choices.TryGetValue(text.ToLowerInvariant(), out T value))
                {
                    return value;
                }

                result.AddError($"{name} '{text}' is not valid; use one of: {string.Join(", ", choices.Keys)}.");
                return null;
            },
        };
        option.CompletionSources.Add(choices.Keys.ToArray());
        return option;
    }

    /// <summary>The value of a required file option that must name an existing file, as given.</summary>
    public static Option<string> File(string name, string description, bool required = true) => new(name)
    {
        Description = description,
        HelpName = "FILE",
        Required = required,
    };
}
