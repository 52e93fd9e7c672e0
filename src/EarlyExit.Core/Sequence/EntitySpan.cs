namespace EarlyExit.Sequence;

/// <summary>
/// An entity in a sentence: its type and its tokens <c>[Start, End)</c>. This is the scheme-free
/// form that every tag scheme decodes to and encodes from, and that entity-level evaluation compares.
/// </summary>
public readonly record struct EntitySpan
{
    /// <summary>Creates a span.</summary>
    /// <param name="type">The entity type, e.g. <c>PER</c>: not empty.</param>
    /// <param name="start">The first token, 0-based.</param>
    /// <param name="end">One past the last token: greater than <paramref name="start"/>.</param>
    /// <exception cref="ArgumentException">The type is empty or the range is empty or negative.</exception>
    public EntitySpan(string type, int start, int end)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (type.Length == 0)
        {
            throw new ArgumentException("An entity span needs a type, e.g. 'PER'.", nameof(type));
        }

        if (start < 0 || end <= start)
        {
            throw new ArgumentOutOfRangeException(nameof(end), $"An entity span covers tokens [start, end) with 0 <= start < end; got [{start}, {end}).");
        }

        Type = type;
        Start = start;
        End = end;
    }

    /// <summary>The entity type, e.g. <c>PER</c>.</summary>
    public string Type { get; }

    /// <summary>The first token, 0-based.</summary>
    public int Start { get; }

    /// <summary>One past the last token.</summary>
    public int End { get; }

    /// <summary>The number of tokens.</summary>
    public int Length => End - Start;

    /// <summary>The span as text, e.g. <c>PER[3,5)</c>.</summary>
    public override string ToString() => $"{Type}[{Start},{End})";
}
