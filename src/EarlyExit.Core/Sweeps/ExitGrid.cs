// Grids of exit criteria for sweeps, written the way criteria are written, with lists and ranges in
// place of values: "qexit:0.1..0.9/0.1 patience:1..6 entropy:0.1,0.3 full" or, for token-level exit,
// "sentee:0.05..0.5/0.05:max,mean tokee:0.1..0.5/0.1:3,5". Each entry expands to the cross product of
// its parts; every expanded text is parsed by the criterion's own parser, so a bad value is reported
// with the entry it came from and the criterion's own explanation.
using System.Globalization;
using EarlyExit.ExitCriteria;

namespace EarlyExit.Sweeps;

/// <summary>Parses and builds grids of exit criteria.</summary>
public static class ExitGrid
{
    /// <summary>The grid syntax, for help texts.</summary>
    public const string Syntax = "entries separated by spaces or ';', each a criterion whose values may be lists (a,b,c) or ranges (from..to/step; integers: from..to)";

    private const int MaxSettingsPerEntry = 10_000;

    /// <summary>Expands <paramref name="grid"/> into distinct classifier exit criteria, in the order written.</summary>
    /// <exception cref="FormatException">An entry is malformed or a value is out of range; the message names the entry and the value.</exception>
    public static IReadOnlyList<ExitCriterion> Parse(string grid) => Expand(grid, ExitCriterion.Parse, c => c.Name);

    /// <summary>Expands <paramref name="grid"/> into distinct token exit criteria, in the order written.</summary>
    /// <exception cref="FormatException">An entry is malformed or a value is out of range; the message names the entry and the value.</exception>
    public static IReadOnlyList<TokenExitCriterion> ParseTokens(string grid) => Expand(grid, TokenExitCriterion.Parse, c => c.Name);

    /// <summary>
    /// The grid a sweep uses when none is given, for a classifier of <paramref name="layers"/> layers:
    /// every criterion the model can serve over its useful range.
    /// </summary>
    public static IReadOnlyList<ExitCriterion> Default(int layers, bool hasHaltingHead)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(layers, 1);
        string halting = hasHaltingHead ? "qexit:0.05..0.95/0.05 sampled:0 expectation " : "";
        string patience = layers > 1 ? $"patience:1..{layers - 1} " : "";
        return Parse($"full layer:1..{layers} {halting}{patience}entropy:0.05..0.95/0.05 maxprob:0.5..0.95/0.05");
    }

    /// <summary>The grid a token-level sweep uses when none is given, for a labeller of <paramref name="layers"/> layers.</summary>
    public static IReadOnlyList<TokenExitCriterion> DefaultTokens(int layers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(layers, 1);
        return ParseTokens($"full layer:1..{layers} sentee:0.05..0.6/0.05:max,mean tokee:0.05..0.6/0.05:1,3,5");
    }

    private static IReadOnlyList<T> Expand<T>(string grid, Func<string, T> parse, Func<T, string> name)
    {
        ArgumentNullException.ThrowIfNull(grid);
        string[] entries = grid.Split([' ', '\t', '\n', '\r', ';'], StringSplitOptions.RemoveEmptyEntries);
        if (entries.Length == 0)
        {
            throw new FormatException($"The exit grid is empty; write {Syntax}, e.g. 'qexit:0.1..0.9/0.1 patience:1..6'.");
        }

        var settings = new List<T>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string entry in entries)
        {
            foreach (string text in ExpandEntry(entry))
            {
                T criterion;
                try
                {
                    criterion = parse(text);
                }
                catch (FormatException e)
                {
                    throw new FormatException($"Exit grid entry '{entry}': {e.Message}", e);
                }

                if (seen.Add(name(criterion)))
                {
                    settings.Add(criterion);
                }
            }
        }

        return settings;
    }

    // "tokee:0.1..0.3/0.1:3,5" -> tokee:0.1:3, tokee:0.1:5, tokee:0.2:3, ...
    private static IEnumerable<string> ExpandEntry(string entry)
    {
        string[] parts = entry.Split(':');
        IEnumerable<string> texts = [parts[0]];
        long count = 1;
        for (int i = 1; i < parts.Length; i++)
        {
            string[] values = Values(parts[i], entry);
            count *= values.Length;
            if (count > MaxSettingsPerEntry)
            {
                throw new FormatException($"Exit grid entry '{entry}' expands to more than {MaxSettingsPerEntry:N0} settings; use coarser steps.");
            }

            texts = texts.SelectMany(prefix => values.Select(v => $"{prefix}:{v}")).ToArray();
        }

        return texts;
    }

    // One part: a value, a list a,b,c, or a range from..to/step (integers: from..to, step 1).
    private static string[] Values(string part, string entry)
    {
        if (part.Length == 0)
        {
            throw new FormatException($"Exit grid entry '{entry}' has an empty value (two ':' in a row or a ':' at the end).");
        }

        return part.Split(',').SelectMany(item => item.Contains("..", StringComparison.Ordinal) ? Range(item, entry) : [Check(item, entry)]).ToArray();
    }

    private static string Check(string value, string entry) =>
        value.Length > 0 ? value : throw new FormatException($"Exit grid entry '{entry}' has an empty item in a list (',,' or a ',' at an end).");

    private static IEnumerable<string> Range(string item, string entry)
    {
        string[] bounds = item.Split("..");
        string[] end = bounds.Length == 2 ? bounds[1].Split('/') : [];
        if (bounds.Length != 2 || end.Length > 2)
        {
            throw new FormatException($"Exit grid entry '{entry}': '{item}' is not a range; write from..to/step (e.g. 0.1..0.9/0.1) or from..to for whole numbers.");
        }

        if (end.Length == 1)
        {
            if (!int.TryParse(bounds[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int from) || !int.TryParse(end[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int to))
            {
                throw new FormatException($"Exit grid entry '{entry}': the range '{item}' has no step, so its ends must be whole numbers; add a step (e.g. {item}/0.1).");
            }

            if (to < from)
            {
                throw new FormatException($"Exit grid entry '{entry}': the range '{item}' ends before it starts.");
            }

            return Enumerable.Range(from, to - from + 1).Select(v => v.ToString(CultureInfo.InvariantCulture));
        }

        if (!decimal.TryParse(bounds[0], NumberStyles.Float, CultureInfo.InvariantCulture, out decimal start)
            || !decimal.TryParse(end[0], NumberStyles.Float, CultureInfo.InvariantCulture, out decimal stop)
            || !decimal.TryParse(end[1], NumberStyles.Float, CultureInfo.InvariantCulture, out decimal step))
        {
            throw new FormatException($"Exit grid entry '{entry}': the range '{item}' needs numbers: from..to/step, e.g. 0.1..0.9/0.1.");
        }

        if (stop < start)
        {
            throw new FormatException($"Exit grid entry '{entry}': the range '{item}' ends before it starts.");
        }

        if (step <= 0)
        {
            throw new FormatException($"Exit grid entry '{entry}': the range '{item}' needs a positive step.");
        }

        // Decimal steps, so 0.1..0.9/0.1 gives exactly 0.1, 0.2, ..., 0.9 (no 0.30000000000000004).
        var values = new List<string>();
        for (decimal value = start; value <= stop; value += step)
        {
            values.Add(value.ToString(CultureInfo.InvariantCulture));
            if (values.Count > MaxSettingsPerEntry)
            {
                throw new FormatException($"Exit grid entry '{entry}': the range '{item}' has more than {MaxSettingsPerEntry:N0} values; use a coarser step.");
            }
        }

        return values;
    }
}
