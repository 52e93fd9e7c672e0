// When tokens of a sequence labeller may stop (Li et al., ACL 2021).
//
//   full               every token runs every layer
//   layer:K            every token stops after layer K
//   sentee:T[:max|mean]  the whole sentence stops at the first layer where the pooled (max or mean)
//                        word uncertainty is below T (SENTEE)
//   tokee:T[:K]        a token stops at the first layer where the largest uncertainty in a window of K
//                      tokens centred on it (K odd, default 5) is below T (TOKEE)
//   ...:first          (suffix, sentee and tokee) a word's uncertainty is its first piece's; by default it
//                      is the largest over its pieces. Either way the pieces of a word stop together.
//
// Uncertainty is the normalised entropy H(softmax(logits)) / log C of the token's off-ramp at that layer.
// A stopped token keeps its uncertainty (its state is copied upward, so its logits stay the same).
using System.Globalization;

namespace EarlyExit.ExitCriteria;

/// <summary>The kinds of <see cref="TokenExitCriterion"/>.</summary>
public enum TokenExitMode
{
    /// <summary>No early exit.</summary>
    Full,

    /// <summary>Every token stops after a fixed layer.</summary>
    FixedLayer,

    /// <summary>Sentence-level early exit (SENTEE).</summary>
    Sentee,

    /// <summary>Token-level early exit over a window (TOKEE).</summary>
    Tokee,
}

/// <summary>How SENTEE pools the word uncertainties of a sentence.</summary>
public enum SentencePooling
{
    /// <summary>The largest word uncertainty.</summary>
    Max,

    /// <summary>The mean word uncertainty.</summary>
    Mean,
}

/// <summary>Whose uncertainty a word has when it is split into pieces.</summary>
public enum WordPieceUncertainty
{
    /// <summary>The largest over the word's pieces (all pieces must be certain).</summary>
    AllPieces,

    /// <summary>The first piece's (the one that carries the label).</summary>
    FirstPiece,
}

/// <summary>When the tokens of a sequence labeller may stop. Immutable; <see cref="Parse"/> reads the text form.</summary>
public sealed record TokenExitCriterion
{
    /// <summary>The text forms <see cref="Parse"/> accepts.</summary>
    public const string Syntax = "full, layer:K, sentee:T[:max|mean][:first], tokee:T[:K][:first]";

    /// <summary>TOKEE's default window: 5 tokens centred on the token.</summary>
    public const int DefaultWindow = 5;

    private TokenExitCriterion(TokenExitMode mode, double threshold, int window, SentencePooling pooling, WordPieceUncertainty pieces, int layer)
    {
        Mode = mode;
        Threshold = threshold;
        Window = window;
        Pooling = pooling;
        Pieces = pieces;
        Layer = layer;
    }

    /// <summary>The kind.</summary>
    public TokenExitMode Mode { get; }

    /// <summary>The uncertainty threshold T (SENTEE, TOKEE), in [0, 1].</summary>
    public double Threshold { get; }

    /// <summary>TOKEE's window K (odd, at least 1).</summary>
    public int Window { get; }

    /// <summary>SENTEE's pooling.</summary>
    public SentencePooling Pooling { get; }

    /// <summary>Whose uncertainty a word has.</summary>
    public WordPieceUncertainty Pieces { get; }

    /// <summary>The exit layer of <see cref="TokenExitMode.FixedLayer"/> (1-based).</summary>
    public int Layer { get; }

    /// <summary>The canonical text form.</summary>
    public string Name => Mode switch
    {
        TokenExitMode.Full => "full",
        TokenExitMode.FixedLayer => $"layer:{Layer}",
        TokenExitMode.Sentee => $"sentee:{Format(Threshold)}:{(Pooling == SentencePooling.Max ? "max" : "mean")}{Suffix}",
        _ => $"tokee:{Format(Threshold)}:{Window}{Suffix}",
    };

    private string Suffix => Pieces == WordPieceUncertainty.FirstPiece ? ":first" : string.Empty;

    /// <summary>Every token runs every layer.</summary>
    public static TokenExitCriterion Full() => new(TokenExitMode.Full, 0, 1, SentencePooling.Max, WordPieceUncertainty.AllPieces, 0);

    /// <summary>Every token stops after layer <paramref name="layer"/> (1-based).</summary>
    public static TokenExitCriterion FixedLayer(int layer)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(layer, 1);
        return new(TokenExitMode.FixedLayer, 0, 1, SentencePooling.Max, WordPieceUncertainty.AllPieces, layer);
    }

    /// <summary>SENTEE: the sentence stops when its pooled word uncertainty is below <paramref name="threshold"/>.</summary>
    public static TokenExitCriterion Sentee(double threshold, SentencePooling pooling = SentencePooling.Max, WordPieceUncertainty pieces = WordPieceUncertainty.AllPieces) =>
        new(TokenExitMode.Sentee, CheckThreshold(threshold), 1, pooling, pieces, 0);

    /// <summary>TOKEE: a token stops when the largest uncertainty in a window of <paramref name="window"/> tokens around it is below <paramref name="threshold"/>.</summary>
    public static TokenExitCriterion Tokee(double threshold, int window = DefaultWindow, WordPieceUncertainty pieces = WordPieceUncertainty.AllPieces)
    {
        if (window < 1 || window % 2 == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(window), window, $"The TOKEE window must be odd and at least 1, got {window}.");
        }

        return new(TokenExitMode.Tokee, CheckThreshold(threshold), window, SentencePooling.Max, pieces, 0);
    }

    /// <summary>Reads the text form (case-insensitive): <c>full</c>, <c>layer:4</c>, <c>sentee:0.3</c>, <c>sentee:0.3:mean</c>, <c>tokee:0.3</c>, <c>tokee:0.3:3:first</c>.</summary>
    /// <exception cref="FormatException">Not one of those, or a value out of range; the message says which.</exception>
    public static TokenExitCriterion Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Trim().ToLowerInvariant().Split(':');
        try
        {
            WordPieceUncertainty pieces = WordPieceUncertainty.AllPieces;
            if (parts.Length > 2 && parts[^1] == "first")
            {
                pieces = WordPieceUncertainty.FirstPiece;
                parts = parts[..^1];
            }

            switch (parts[0])
            {
                case "full" when parts.Length == 1:
                    return Full();
                case "layer" when parts.Length == 2:
                    return FixedLayer(Integer(parts[1], text));
                case "sentee" when parts.Length is 2 or 3:
                    SentencePooling pooling = parts.Length == 2 || parts[2] == "max" ? SentencePooling.Max
                        : parts[2] == "mean" ? SentencePooling.Mean
                        : throw new FormatException($"Token exit criterion '{text}': SENTEE pools with max or mean, not '{parts[2]}'. Forms: {Syntax}.");
                    return Sentee(Number(parts[1], text), pooling, pieces);
                case "tokee" when parts.Length is 2 or 3:
                    return Tokee(Number(parts[1], text), parts.Length == 3 ? Integer(parts[2], text) : DefaultWindow, pieces);
                default:
                    throw new FormatException($"Token exit criterion '{text}' is not known; use one of: {Syntax}.");
            }
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new FormatException($"Token exit criterion '{text}': {e.Message.Split(Environment.NewLine)[0]} Forms: {Syntax}.", e);
        }
    }

    /// <inheritdoc />
    public override string ToString() => Name;

    /// <summary>Throws when this criterion cannot score a model of <paramref name="layers"/> layers (a fixed layer past the last).</summary>
    /// <exception cref="InvalidOperationException">The message names the layers to use.</exception>
    internal void EnsureServes(int layers)
    {
        if (Mode == TokenExitMode.FixedLayer && Layer > layers)
        {
            throw new InvalidOperationException($"Token exit criterion '{this}' asks for layer {Layer}, but the model has {layers} layers; use layer:1 to layer:{layers}.");
        }
    }

    private static double CheckThreshold(double threshold) =>
        threshold is >= 0 and <= 1 ? threshold : throw new ArgumentOutOfRangeException(nameof(threshold), threshold, $"The uncertainty threshold must be in [0, 1], got {threshold}.");

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static double Number(string value, string text) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double number)
            ? number
            : throw new FormatException($"Token exit criterion '{text}' needs a number where it has '{value}'. Forms: {Syntax}.");

    private static int Integer(string value, string text) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int number)
            ? number
            : throw new FormatException($"Token exit criterion '{text}' needs a whole number where it has '{value}'. Forms: {Syntax}.");
}
