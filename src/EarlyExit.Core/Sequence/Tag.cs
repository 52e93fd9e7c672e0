// One sequence-labelling tag such as "B-PER": a prefix letter, '-', and an entity type, or "O".
// The type is everything after the first '-', so types may hold hyphens ("I-B-ORG" has type "B-ORG").
namespace EarlyExit.Sequence;

/// <summary>The position a tag marks inside an entity. Which prefixes a scheme uses is fixed by <see cref="TagScheme"/>.</summary>
public enum TagPrefix
{
    /// <summary><c>O</c>: outside every entity.</summary>
    Outside,

    /// <summary><c>B-</c>: begins an entity (IOB2, IOBES, BILOU), or in IOB1 begins one right after an entity of the same type.</summary>
    Begin,

    /// <summary><c>I-</c>: inside an entity.</summary>
    Inside,

    /// <summary><c>E-</c>: the last token of an entity of two or more tokens (IOBES).</summary>
    End,

    /// <summary><c>S-</c>: a one-token entity (IOBES).</summary>
    Single,

    /// <summary><c>L-</c>: the last token of an entity of two or more tokens (BILOU; the <see cref="End"/> of IOBES).</summary>
    Last,

    /// <summary><c>U-</c>: a one-token ("unit") entity (BILOU; the <see cref="Single"/> of IOBES).</summary>
    Unit,
}

/// <summary>A parsed tag: <c>O</c>, or a prefix letter, '-', and a non-empty entity type.</summary>
/// <remarks>
/// Parsing is exact: the letter is upper case, the separator is '-', and the type is the rest of the
/// text after the first '-' (it may hold more hyphens). "O" carries no type.
/// </remarks>
public readonly record struct Tag
{
    // Null for "O", so that default(Tag) is "O" and equal to Tag.Outside.
    private readonly string? _type;

    private Tag(TagPrefix prefix, string? type)
    {
        Prefix = prefix;
        _type = prefix == TagPrefix.Outside ? null : type;
    }

    /// <summary>The tag <c>O</c> (also <c>default(Tag)</c>).</summary>
    public static Tag Outside => default;

    /// <summary>The prefix.</summary>
    public TagPrefix Prefix { get; }

    /// <summary>The entity type, e.g. <c>PER</c>; the empty string for <c>O</c>.</summary>
    public string Type => _type ?? string.Empty;

    /// <summary>The prefix letter: O, B, I, E, S, L or U.</summary>
    public char Letter => LetterOf(Prefix);

    /// <summary>Whether this is <c>O</c>.</summary>
    public bool IsOutside => Prefix == TagPrefix.Outside;

    /// <summary>Creates a tag with an entity type.</summary>
    /// <param name="prefix">Any prefix but <see cref="TagPrefix.Outside"/> (use <see cref="Outside"/>).</param>
    /// <param name="type">The entity type: not empty.</param>
    /// <exception cref="ArgumentException">The prefix is Outside or the type is empty.</exception>
    public static Tag Create(TagPrefix prefix, string type)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (prefix == TagPrefix.Outside)
        {
            throw new ArgumentException("Tag.Create makes tags with a type; use Tag.Outside for 'O'.", nameof(prefix));
        }

        if (!Enum.IsDefined(prefix))
        {
            throw new ArgumentOutOfRangeException(nameof(prefix), prefix, "Unknown tag prefix.");
        }

        if (type.Length == 0)
        {
            throw new ArgumentException($"A '{LetterOf(prefix)}-' tag needs an entity type after the '-', e.g. '{LetterOf(prefix)}-PER'.", nameof(type));
        }

        return new Tag(prefix, type);
    }

    /// <summary>Parses a tag such as <c>O</c>, <c>B-PER</c> or <c>I-MISC</c>.</summary>
    /// <param name="text">The tag text.</param>
    /// <exception cref="FormatException">The text is not a tag; the message names it and shows the expected form.</exception>
    public static Tag Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (TryParse(text, out Tag tag))
        {
            return tag;
        }

        throw new FormatException(DescribeMalformed(text));
    }

    /// <summary>Parses a tag; false when <paramref name="text"/> is not one.</summary>
    /// <param name="text">The tag text.</param>
    /// <param name="tag">The tag, or <see cref="Outside"/> when parsing failed.</param>
    public static bool TryParse(string? text, out Tag tag)
    {
        tag = Outside;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        if (text.Length == 1)
        {
            return text[0] == 'O';
        }

        if (text.Length < 3 || text[1] != '-' || !TryPrefix(text[0], out TagPrefix prefix) || prefix == TagPrefix.Outside)
        {
            return false;
        }

        string type = text.Substring(2);
        tag = new Tag(prefix, type);
        return true;
    }

    /// <summary>The prefix of a letter (O, B, I, E, S, L, U); false for any other character.</summary>
    /// <param name="letter">The letter, upper case.</param>
    /// <param name="prefix">The prefix.</param>
    public static bool TryPrefix(char letter, out TagPrefix prefix)
    {
        prefix = letter switch
        {
            'O' => TagPrefix.Outside,
            'B' => TagPrefix.Begin,
            'I' => TagPrefix.Inside,
            'E' => TagPrefix.End,
            'S' => TagPrefix.Single,
            'L' => TagPrefix.Last,
            'U' => TagPrefix.Unit,
            _ => (TagPrefix)(-1),
        };
        return prefix != (TagPrefix)(-1);
    }

    /// <summary>The letter of a prefix: O, B, I, E, S, L or U.</summary>
    /// <param name="prefix">The prefix.</param>
    public static char LetterOf(TagPrefix prefix) => prefix switch
    {
        TagPrefix.Outside => 'O',
        TagPrefix.Begin => 'B',
        TagPrefix.Inside => 'I',
        TagPrefix.End => 'E',
        TagPrefix.Single => 'S',
        TagPrefix.Last => 'L',
        TagPrefix.Unit => 'U',
        _ => throw new ArgumentOutOfRangeException(nameof(prefix), prefix, "Unknown tag prefix."),
    };

    /// <summary>The tag as text: <c>O</c> or e.g. <c>B-PER</c>.</summary>
    public override string ToString() => IsOutside ? "O" : $"{Letter}-{Type}";

    /// <summary>Why <paramref name="text"/> is not a tag, for error messages.</summary>
    internal static string DescribeMalformed(string? text)
    {
        const string Form = "a tag is 'O' or a prefix letter (B, I, E, S, L, U), '-', and an entity type, e.g. 'B-PER'";
        if (string.IsNullOrEmpty(text))
        {
            return $"An empty tag was found: {Form}.";
        }

        if (text.Length >= 2 && text[1] == '-' && text[0] == 'O')
        {
            return $"'{text}' is not a tag: 'O' takes no entity type; {Form}.";
        }

        if (text.Length == 2 && text[1] == '-')
        {
            return $"'{text}' is not a tag: the entity type after '-' is missing; {Form}.";
        }

        if (text.Length >= 2 && text[1] == '-' && char.IsLower(text[0]))
        {
            return $"'{text}' is not a tag: prefix letters are upper case ('{char.ToUpperInvariant(text[0])}{text.Substring(1)}'); {Form}.";
        }

        return $"'{text}' is not a tag: {Form}.";
    }
}
