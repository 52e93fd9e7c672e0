namespace EarlyExit.Cli.Data;

/// <summary>How a delimited text file is laid out.</summary>
/// <param name="Separator">The field separator, e.g. tab or comma.</param>
/// <param name="HasHeader">Whether the first record names the columns; without one, columns are 0-based indices.</param>
/// <param name="Quoting">Whether RFC 4180 quoting applies: a field that starts with <c>"</c> runs to the next lone <c>"</c>,
/// may hold separators and line breaks, and writes a quote as <c>""</c>. Without quoting every <c>"</c> is literal.</param>
/// <param name="StrictEncoding">Whether bytes that are not UTF-8 are an error (else a warning).</param>
internal sealed record DelimitedFormat(char Separator, bool HasHeader, bool Quoting, bool StrictEncoding = false)
{
    /// <summary>
    /// The format of <paramref name="path"/>: the separator given, else the one its extension implies
    /// (.tsv tab, .csv comma); quoting as given, else on for comma-separated files and off otherwise.
    /// </summary>
    /// <exception cref="CliException">No separator was given and the extension implies none (a usage error).</exception>
    public static DelimitedFormat For(string path, char? separator, bool hasHeader, bool? quoting, bool strictEncoding = false)
    {
        char chosen = separator ?? Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".tsv" or ".tab" => '\t',
            ".csv" => ',',
            _ => throw new CliException(
                $"Cannot tell the separator of '{path}' from its extension (.tsv is tab, .csv is comma); pass --separator tab, comma or a single character.",
                isUsage: true),
        };
        return new DelimitedFormat(chosen, hasHeader, quoting ?? chosen == ',', strictEncoding);
    }

    /// <summary>The separator as a word for messages: "tab", "comma" or the character in quotes.</summary>
    public string SeparatorName => Separator switch
    {
        '\t' => "tab",
        ',' => "comma",
        ' ' => "space",
        _ => $"'{Separator}'",
    };

    /// <summary>Reads a <c>--separator</c> value: tab, comma, semicolon, pipe, space, <c>\t</c> or one character.</summary>
    /// <returns>The separator, or null with <paramref name="problem"/> set.</returns>
    public static char? ParseSeparator(string text, out string? problem)
    {
        problem = null;
        char? separator = text.ToLowerInvariant() switch
        {
            "tab" or "\\t" => '\t',
            "comma" => ',',
            "semicolon" => ';',
            "pipe" => '|',
            "space" => ' ',
            _ when text.Length == 1 => text[0],
            _ => null,
        };
        if (separator is '"' or '\r' or '\n')
        {
            problem = "The separator cannot be a quote or a line break.";
            return null;
        }

        if (separator is null)
        {
            problem = $"--separator '{text}' is not valid; use tab, comma, semicolon, pipe, space or a single character.";
        }

        return separator;
    }
}
