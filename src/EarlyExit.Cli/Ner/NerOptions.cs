// Options of the ner commands: how CoNLL files are laid out (--format, columns, separator, the file's
// tag scheme) and the token exit criterion (--mode with --threshold, --window, --pooling, --first-piece,
// or the compact --exit-criterion). Contradictions are usage errors at parse time.
using System.CommandLine;
using System.CommandLine.Parsing;
using EarlyExit.ExitCriteria;
using EarlyExit.Sequence;

namespace EarlyExit.Cli.Ner;

/// <summary>--format, --word-column, --tag-column, --separator and --scheme.</summary>
internal sealed class ConllFileOptions
{
    private static readonly Dictionary<string, ConllColumnSeparator> s_separators = new()
    {
        ["whitespace"] = ConllColumnSeparator.Whitespace,
        ["tab"] = ConllColumnSeparator.Tab,
    };

    private static readonly Dictionary<string, string> s_formats = new() { ["conll"] = "conll" };

    private readonly Option<string?> _format = new("--format")
    {
        Description = "The data format. Only conll: one word per line with its columns, blank lines between sentences, -DOCSTART- lines skipped. Default: conll.",
        HelpName = "conll",
        CustomParser = result =>
        {
            string text = result.Tokens[0].Value;
            if (!s_formats.ContainsKey(text.ToLowerInvariant()))
            {
                result.AddError($"--format '{text}' is not supported; the ner commands read CoNLL files (--format conll).");
            }

            return text;
        },
    };

    private readonly Option<int?> _wordColumn = new("--word-column")
    {
        Description = "The 0-based column of the words; negative counts from the end. Default: 0.",
        HelpName = "N",
    };

    private readonly Option<int?> _tagColumn = new("--tag-column")
    {
        Description = "The 0-based column of the tags; negative counts from the end. Default: -1, the last column (CoNLL-2003's NER tags).",
        HelpName = "N",
    };

    private readonly Option<ConllColumnSeparator?> _separator = CommonOptions.Choice("--separator",
        "How columns are separated: whitespace (any run of spaces and tabs) or tab (words may contain spaces). Default: whitespace.", s_separators);

    private readonly Option<TagScheme?> _scheme = SchemeOption("--scheme",
        "The tag scheme of the files: iob1, iob2 (bio), iobes (bioes), bilou. Default: detected from the tags.", allowIob1: true);

    /// <summary>The scheme the files' tags are in, or null to detect it.</summary>
    public TagScheme? Scheme(ParseResult result) => result.GetValue(_scheme);

    /// <summary>Whether the user named the tag column (so a file without one is an error, not words-only data).</summary>
    public bool TagColumnGiven(ParseResult result) => result.GetValue(_tagColumn) is not null;

    public void AddTo(Command command)
    {
        command.Add(_format);
        command.Add(_wordColumn);
        command.Add(_tagColumn);
        command.Add(_separator);
        command.Add(_scheme);
    }

    /// <summary>The reader options under the parsed options.</summary>
    public ConllReaderOptions Reader(ParseResult result) => new()
    {
        WordColumn = result.GetValue(_wordColumn) ?? 0,
        TagColumn = result.GetValue(_tagColumn) ?? -1,
        Separator = result.GetValue(_separator) ?? ConllColumnSeparator.Whitespace,
    };

    /// <summary>An option naming a tag scheme; without <paramref name="allowIob1"/>, iob1 is refused with the reason.</summary>
    public static Option<TagScheme?> SchemeOption(string name, string description, bool allowIob1)
    {
        var choices = new Dictionary<string, TagScheme>
        {
            ["iob1"] = TagScheme.Iob1,
            ["iob2"] = TagScheme.Iob2,
            ["bio"] = TagScheme.Iob2,
            ["iobes"] = TagScheme.Iobes,
            ["bioes"] = TagScheme.Iobes,
            ["bilou"] = TagScheme.Bilou,
        };
        Option<TagScheme?> option = CommonOptions.Choice(name, description, choices);
        if (!allowIob1)
        {
            option.Validators.Add(result =>
            {
                if (result.GetValueOrDefault<TagScheme?>() == TagScheme.Iob1)
                {
                    result.AddError($"{name} iob1 is not offered: in IOB1 a B- tag marks only an entity that directly follows one of the same type, " +
                        "so most types would have no B- tag to learn. Train on iob2, iobes or bilou; IOB1 files are converted.");
                }
            });
        }

        return option;
    }
}

/// <summary>
/// The token exit criterion: --mode full|sentee|tokee with --threshold, --window (TOKEE),
/// --pooling (SENTEE) and --first-piece, or --exit-criterion in the compact form (e.g. tokee:0.3:5).
/// </summary>
internal sealed class TokenExitOptions
{
    /// <summary>The threshold --mode sentee|tokee uses without --threshold.</summary>
    public const double DefaultThreshold = 0.3;

    private static readonly Dictionary<string, TokenExitMode> s_modes = new()
    {
        ["full"] = TokenExitMode.Full,
        ["sentee"] = TokenExitMode.Sentee,
        ["tokee"] = TokenExitMode.Tokee,
    };

    private static readonly Dictionary<string, SentencePooling> s_pooling = new()
    {
        ["max"] = SentencePooling.Max,
        ["mean"] = SentencePooling.Mean,
    };

    private readonly Option<TokenExitMode?> _mode;
    private readonly Option<double?> _threshold = new("--threshold")
    {
        Description = $"SENTEE/TOKEE: stop when the normalised entropy (0 certain, 1 uniform) is below this, in [0, 1]. Default: {DefaultThreshold.ToString(System.Globalization.CultureInfo.InvariantCulture)}.",
        HelpName = "T",
    };

    private readonly Option<int?> _window = new("--window")
    {
        Description = $"TOKEE: a word stops when every token in a window of K tokens centred on it is certain; K odd. Default: {TokenExitCriterion.DefaultWindow}.",
        HelpName = "K",
    };

    private readonly Option<SentencePooling?> _pooling = CommonOptions.Choice("--pooling", "SENTEE: pool the words' uncertainties with max or mean. Default: max.", s_pooling);
    private readonly Option<bool> _firstPiece = new("--first-piece") { Description = "A word's uncertainty is its first piece's only (default: its most uncertain piece)." };
    private readonly Option<TokenExitCriterion?> _exitCriterion;

    public TokenExitOptions(string modeDescription)
    {
        _mode = CommonOptions.Choice("--mode", modeDescription, s_modes);
        _exitCriterion = CommonOptions.Parsed("--exit-criterion",
            $"The criterion in one word, instead of --mode and its options: {TokenExitCriterion.Syntax} (e.g. tokee:0.3:5, sentee:0.2:mean, layer:6).", "CRITERION",
            TokenExitCriterion.Parse);
    }

    public void AddTo(Command command)
    {
        command.Add(_mode);
        command.Add(_threshold);
        command.Add(_window);
        command.Add(_pooling);
        command.Add(_firstPiece);
        command.Add(_exitCriterion);
        command.Validators.Add(Validate);
    }

    /// <summary>The criterion the options describe, or null when none was given.</summary>
    public TokenExitCriterion? Criterion(ParseResult result)
    {
        if (result.GetValue(_exitCriterion) is TokenExitCriterion criterion)
        {
            return criterion;
        }

        WordPieceUncertainty pieces = result.GetValue(_firstPiece) ? WordPieceUncertainty.FirstPiece : WordPieceUncertainty.AllPieces;
        double threshold = result.GetValue(_threshold) ?? DefaultThreshold;
        return result.GetValue(_mode) switch
        {
            TokenExitMode.Full => TokenExitCriterion.Full(),
            TokenExitMode.Sentee => TokenExitCriterion.Sentee(threshold, result.GetValue(_pooling) ?? SentencePooling.Max, pieces),
            TokenExitMode.Tokee => TokenExitCriterion.Tokee(threshold, result.GetValue(_window) ?? TokenExitCriterion.DefaultWindow, pieces),
            _ => null,
        };
    }

    private void Validate(CommandResult result)
    {
        // An option whose own parser failed has reported its error already, and reading it throws.
        T? Value<T>(Option<T> option)
        {
            try
            {
                return result.GetValue(option);
            }
            catch (InvalidOperationException)
            {
                return default;
            }
        }

        bool compact = result.GetResult(_exitCriterion) is not null;
        TokenExitMode? mode = Value(_mode);
        bool threshold = result.GetResult(_threshold) is not null;
        bool window = result.GetResult(_window) is not null;
        bool pooling = result.GetResult(_pooling) is not null;
        bool firstPiece = Value(_firstPiece);
        if (compact && (mode is not null || threshold || window || pooling || firstPiece))
        {
            result.AddError("--exit-criterion says everything; drop --mode, --threshold, --window, --pooling and --first-piece, or drop --exit-criterion.");
            return;
        }

        if (mode is null && (threshold || window || pooling || firstPiece))
        {
            result.AddError("--threshold, --window, --pooling and --first-piece need --mode sentee or --mode tokee.");
            return;
        }

        if (window && mode != TokenExitMode.Tokee)
        {
            result.AddError($"--window is TOKEE's; it does not apply to --mode {Name(mode)}.");
        }

        if (pooling && mode != TokenExitMode.Sentee)
        {
            result.AddError($"--pooling is SENTEE's; it does not apply to --mode {Name(mode)}.");
        }

        if ((threshold || firstPiece) && mode == TokenExitMode.Full)
        {
            result.AddError("--mode full runs every layer; --threshold and --first-piece do not apply.");
        }

        if (Value(_threshold) is double t && t is not (>= 0 and <= 1))
        {
            result.AddError($"--threshold is {t.ToString(System.Globalization.CultureInfo.InvariantCulture)}; it must be in [0, 1] (normalised entropy).");
        }

        if (Value(_window) is int k && (k < 1 || k % 2 == 0))
        {
            result.AddError($"--window is {k}; it must be odd and at least 1 (the word and as many tokens on each side).");
        }
    }

    private static string Name(TokenExitMode? mode) => s_modes.First(m => m.Value == mode).Key;
}
