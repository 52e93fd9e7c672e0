// ner train --auxiliary-task NAME:COLUMN:LAYER[:WEIGHT] (issue 14): another tag column of the training
// file (CoNLL-2003: part of speech in column 1, chunks in column 2) learnt by a head after LAYER. The
// training rows then carry one more vector-of-strings column per task, named NAME (the library's
// ConllDataView, since the row type cannot hold columns chosen at run time); the model predicts it as
// PredictedNAME, and `ner score` writes it as a column of its output.
using System.CommandLine;
using System.Globalization;
using EarlyExit.MLNet.TokenEarlyExitNer;
using Microsoft.ML;

namespace EarlyExit.Cli.Ner;

/// <summary>One <c>--auxiliary-task</c>: the task's name (its column in the rows), the file column, the layer and the loss weight.</summary>
internal sealed record NerAuxiliaryTask(string Name, int Column, int Layer, double Weight)
{
    private static readonly string[] s_reserved = ["Tokens", "Label", "Line"];

    /// <summary>The option's syntax.</summary>
    public const string Syntax = "NAME:COLUMN:LAYER[:WEIGHT]";

    /// <summary>The repeatable <c>--auxiliary-task</c> option; a malformed value is a usage error naming it.</summary>
    public static Option<NerAuxiliaryTask[]> Option() => new("--auxiliary-task")
    {
        Description = "An auxiliary tag task (repeatable): learn the file's 0-based COLUMN (e.g. 1 for CoNLL-2003's part of speech, 2 for its chunks) " +
            "with a head after LAYER (1-based), its loss weighted by WEIGHT (default 1). The model then also predicts it; `ner score` writes it after the exit layer. " +
            "Validation (--valid) does not use it.",
        HelpName = Syntax,
        Arity = ArgumentArity.OneOrMore,
        AllowMultipleArgumentsPerToken = false,
        DefaultValueFactory = _ => [],
        CustomParser = result =>
        {
            var tasks = new List<NerAuxiliaryTask>();
            foreach (string text in result.Tokens.Select(t => t.Value))
            {
                try
                {
                    NerAuxiliaryTask task = Parse(text);
                    if (tasks.Any(t => string.Equals(t.Name, task.Name, StringComparison.OrdinalIgnoreCase)))
                    {
                        throw new FormatException($"task '{task.Name}' is given twice (names ignore case); give each task its own name.");
                    }

                    tasks.Add(task);
                }
                catch (FormatException e)
                {
                    result.AddError($"--auxiliary-task '{text}': {e.Message}");
                }
            }

            return [.. tasks];
        },
    };

    /// <summary>Parses <c>NAME:COLUMN:LAYER[:WEIGHT]</c>.</summary>
    /// <exception cref="FormatException">The value does not fit the syntax; the message says which part and why.</exception>
    public static NerAuxiliaryTask Parse(string text)
    {
        string[] parts = text.Split(':');
        if (parts.Length is < 3 or > 4)
        {
            throw new FormatException($"expected {Syntax}, e.g. pos:1:1 or chunk:2:2:0.5.");
        }

        string name = parts[0];
        if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') || s_reserved.Contains(name, StringComparer.OrdinalIgnoreCase))
        {
            throw new FormatException($"NAME '{name}' must be letters, digits or '_', and not {string.Join(", ", s_reserved)}.");
        }

        if (!int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int column) || column < 0)
        {
            throw new FormatException($"COLUMN '{parts[1]}' must be a 0-based column number (0 is usually the word).");
        }

        if (!int.TryParse(parts[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out int layer) || layer < 1)
        {
            throw new FormatException($"LAYER '{parts[2]}' must be a layer number, 1 or more.");
        }

        double weight = TokenAuxiliaryTask.DefaultWeight;
        if (parts.Length == 4 && (!double.TryParse(parts[3], NumberStyles.Float, CultureInfo.InvariantCulture, out weight) || !(weight > 0) || double.IsInfinity(weight)))
        {
            throw new FormatException($"WEIGHT '{parts[3]}' must be a positive number.");
        }

        return new NerAuxiliaryTask(name, column, layer, weight);
    }

    /// <summary>The library's option for this task: label column NAME, output column PredictedNAME.</summary>
    public TokenAuxiliaryTask ToOptions() => new(Name, Layer, Weight);

    /// <summary>The output column of the task's predictions.</summary>
    public string PredictedColumn => ToOptions().OutputColumnName;

    /// <summary>
    /// The rows of <paramref name="data"/> for training: Tokens, Label (<paramref name="tags"/>), Line and one column
    /// per task read from the file.
    /// </summary>
    /// <exception cref="CliException">A sentence's lines have no such column; the message names the file, the line and the task.</exception>
    public static IDataView Rows(NerData data, string[][] tags, IReadOnlyList<NerAuxiliaryTask> tasks)
    {
        var columns = new List<(string Name, string[][] Values)> { ("Tokens", [.. data.Words]), ("Label", tags) };
        foreach (NerAuxiliaryTask task in tasks)
        {
            columns.Add((task.Name, data.Sentences.Select(s => s.ColumnCount > task.Column ? s.Column(task.Column).ToArray()
                : throw new CliException($"'{data.Path}' line {s.FirstLine}: --auxiliary-task {task.Name} reads column {task.Column}, but the sentence's lines have {s.ColumnCount} columns (0 to {s.ColumnCount - 1}).")).ToArray()));
        }

        return new ConllDataView(columns, "Line", data.Sentences.Select(s => s.FirstLine).ToArray());
    }
}
