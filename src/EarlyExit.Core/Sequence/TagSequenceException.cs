using System.Text;

namespace EarlyExit.Sequence;

/// <summary>
/// A tag sequence that cannot be read: a malformed tag, a prefix the scheme does not use, a
/// transition the scheme forbids, or gold and predicted sequences of different lengths. The message
/// names the sentence, the 0-based token position, the tag and the fix.
/// </summary>
public sealed class TagSequenceException : FormatException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The full message.</param>
    /// <param name="sentenceIndex">The 0-based sentence, when known.</param>
    /// <param name="position">The 0-based token, or -1 when the problem is the whole sentence.</param>
    /// <param name="tag">The offending tag, when there is one.</param>
    public TagSequenceException(string message, int? sentenceIndex, int position, string? tag)
        : base(message)
    {
        SentenceIndex = sentenceIndex;
        Position = position;
        Tag = tag;
    }

    /// <summary>The 0-based sentence, or null when the sentence was given on its own.</summary>
    public int? SentenceIndex { get; }

    /// <summary>The 0-based token position, or -1 when the problem concerns the whole sentence.</summary>
    public int Position { get; }

    /// <summary>The offending tag, or null.</summary>
    public string? Tag { get; }

    /// <summary>Builds the exception for a problem at one token: "Sentence 4, token 2 (0-based) 'E-PER' in 'O [E-PER] O': ...".</summary>
    internal static TagSequenceException At(int? sentenceIndex, IReadOnlyList<string> tags, int position, string problem, string? source = null)
    {
        string tag = tags[position];
        string of = source is null ? string.Empty : $" of the {source}";
        return new TagSequenceException($"{Where(sentenceIndex, position)}{of} '{tag}' in '{Context(tags, position)}': {problem}", sentenceIndex, position, tag);
    }

    /// <summary>"Sentence 4, token 2 (0-based)" or "Token 2 (0-based)".</summary>
    internal static string Where(int? sentenceIndex, int position) =>
        sentenceIndex is int s ? $"Sentence {s}, token {position} (0-based)" : $"Token {position} (0-based)";

    /// <summary>Up to three tags either side of <paramref name="position"/>, the tag itself in brackets.</summary>
    internal static string Context(IReadOnlyList<string> tags, int position)
    {
        const int Radius = 3;
        var text = new StringBuilder();
        int first = Math.Max(0, position - Radius);
        int last = Math.Min(tags.Count - 1, position + Radius);
        if (first > 0)
        {
            text.Append("... ");
        }

        for (int i = first; i <= last; i++)
        {
            if (i > first)
            {
                text.Append(' ');
            }

            text.Append(i == position ? $"[{tags[i]}]" : tags[i]);
        }

        if (last < tags.Count - 1)
        {
            text.Append(" ...");
        }

        return text.ToString();
    }
}
