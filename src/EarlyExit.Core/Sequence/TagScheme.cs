// Tag schemes and conversions between them. Every conversion goes through one canonical form, the
// sentence's entity spans: decode in the source scheme, encode in the target scheme. So converting
// IOB1 -> IOB2 -> IOBES -> IOB1 keeps exactly the same entities, and a scheme's own canonical tags
// come back unchanged.
//
// Reading is strict about letters (a prefix the scheme does not use, such as E- in IOB2, is an
// error) and, unless asked to be strict, lenient about transitions: a sequence the scheme forbids
// but whose entities are unambiguous (I- after O in IOB2, B- after O in IOB1, B- without E- in IOBES)
// is read the way conlleval reads it. Real data needs this: the CoNLL-2003 training file has two B-MISC
// tags right after O, which strict IOB1 forbids. Validate and strict decoding report every forbidden
// transition instead.
namespace EarlyExit.Sequence;

/// <summary>A tagging scheme for entities.</summary>
public enum TagScheme
{
    /// <summary>
    /// IOB1 (the original CoNLL-2003 scheme): tokens of an entity are I-; B- marks the first token
    /// only where an entity directly follows another entity of the same type.
    /// </summary>
    Iob1,

    /// <summary>IOB2, also called BIO: the first token of every entity is B-, the rest I-.</summary>
    Iob2,

    /// <summary>IOBES, also called BIOES: B- first, I- inside, E- last, S- for one-token entities.</summary>
    Iobes,

    /// <summary>BILOU: IOBES with L- (last) for E- and U- (unit) for S-.</summary>
    Bilou,
}

/// <summary>What <see cref="TagSchemes.Detect"/> found: the scheme and how well the tags fit it.</summary>
/// <param name="Scheme">The scheme whose prefixes the tags use and whose transitions they break least often.</param>
/// <param name="IrregularTags">How many tags break the scheme's transition rules (0 for a clean file).</param>
/// <param name="FirstIrregularity">The first such break, as an error message, or null.</param>
public sealed record TagSchemeDetection(TagScheme Scheme, int IrregularTags, string? FirstIrregularity);

/// <summary>Parsing, validating, detecting and converting tag schemes.</summary>
public static class TagSchemes
{
    private static readonly TagPrefix[] s_iob = [TagPrefix.Outside, TagPrefix.Begin, TagPrefix.Inside];
    private static readonly TagPrefix[] s_iobes = [TagPrefix.Outside, TagPrefix.Begin, TagPrefix.Inside, TagPrefix.End, TagPrefix.Single];
    private static readonly TagPrefix[] s_bilou = [TagPrefix.Outside, TagPrefix.Begin, TagPrefix.Inside, TagPrefix.Last, TagPrefix.Unit];

    /// <summary>The usual name of a scheme: IOB1, IOB2, IOBES or BILOU.</summary>
    /// <param name="scheme">The scheme.</param>
    public static string Name(TagScheme scheme) => scheme switch
    {
        TagScheme.Iob1 => "IOB1",
        TagScheme.Iob2 => "IOB2",
        TagScheme.Iobes => "IOBES",
        TagScheme.Bilou => "BILOU",
        _ => throw UnknownScheme(scheme),
    };

    /// <summary>Parses a scheme name, ignoring case: IOB1, IOB2 or BIO, IOBES or BIOES, BILOU.</summary>
    /// <param name="name">The name.</param>
    /// <exception cref="FormatException">Not a scheme name; the message lists the accepted names.</exception>
    public static TagScheme ParseName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToUpperInvariant() switch
        {
            "IOB1" => TagScheme.Iob1,
            "IOB2" or "BIO" => TagScheme.Iob2,
            "IOBES" or "BIOES" => TagScheme.Iobes,
            "BILOU" => TagScheme.Bilou,
            _ => throw new FormatException($"'{name}' is not a tag scheme; use IOB1, IOB2 (or BIO), IOBES (or BIOES) or BILOU."),
        };
    }

    /// <summary>The prefixes a scheme uses, <see cref="TagPrefix.Outside"/> first.</summary>
    /// <param name="scheme">The scheme.</param>
    public static IReadOnlyList<TagPrefix> Prefixes(TagScheme scheme) => scheme switch
    {
        TagScheme.Iob1 or TagScheme.Iob2 => s_iob,
        TagScheme.Iobes => s_iobes,
        TagScheme.Bilou => s_bilou,
        _ => throw UnknownScheme(scheme),
    };

    /// <summary>Whether a scheme uses a prefix.</summary>
    /// <param name="scheme">The scheme.</param>
    /// <param name="prefix">The prefix.</param>
    public static bool Allows(TagScheme scheme, TagPrefix prefix) => Prefixes(scheme).Contains(prefix);

    /// <summary>
    /// The entities of one sentence in <paramref name="scheme"/>. Every tag must be well formed and use
    /// a prefix of the scheme. Transitions the scheme forbids are read as conlleval reads them unless
    /// <paramref name="strict"/> is true, when they are errors.
    /// </summary>
    /// <param name="tags">The sentence's tags.</param>
    /// <param name="scheme">The scheme they are in.</param>
    /// <param name="strict">Whether forbidden transitions (e.g. I- after O in IOB2) are errors.</param>
    /// <exception cref="TagSequenceException">A malformed tag, a prefix outside the scheme, or (strict) a forbidden transition.</exception>
    public static IReadOnlyList<EntitySpan> Decode(IReadOnlyList<string> tags, TagScheme scheme, bool strict = false)
    {
        ArgumentNullException.ThrowIfNull(tags);
        return Decode(tags, scheme, strict, sentenceIndex: null);
    }

    /// <summary>
    /// The tags of a sentence of <paramref name="length"/> tokens holding <paramref name="entities"/>,
    /// in <paramref name="scheme"/>'s canonical form.
    /// </summary>
    /// <param name="entities">Disjoint spans in order, inside the sentence.</param>
    /// <param name="length">The number of tokens.</param>
    /// <param name="scheme">The scheme to write.</param>
    /// <exception cref="ArgumentException">Spans overlap, are out of order or outside the sentence.</exception>
    public static string[] Encode(IReadOnlyList<EntitySpan> entities, int length, TagScheme scheme)
    {
        ArgumentNullException.ThrowIfNull(entities);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _ = Prefixes(scheme);
        var tags = new string[length];
        Array.Fill(tags, "O");
        int previousEnd = 0;
        string? previousType = null;
        for (int k = 0; k < entities.Count; k++)
        {
            EntitySpan span = entities[k];
            if (span.Type is null)
            {
                throw new ArgumentException($"Entity {k} is default(EntitySpan); create spans with a type.", nameof(entities));
            }

            if (span.Start < previousEnd || span.End > length)
            {
                throw new ArgumentException(
                    $"Entity {k} {span} overlaps the one before it or lies outside the sentence of {length} tokens; spans must be disjoint, in order and inside [0, {length}).",
                    nameof(entities));
            }

            bool followsSameType = k > 0 && span.Start == previousEnd && string.Equals(previousType, span.Type, StringComparison.Ordinal);
            WriteSpan(tags, span, scheme, followsSameType);
            previousEnd = span.End;
            previousType = span.Type;
        }

        return tags;
    }

    /// <summary>Converts one sentence's tags from one scheme to another through their entities.</summary>
    /// <param name="tags">The tags in <paramref name="from"/>.</param>
    /// <param name="from">Their scheme.</param>
    /// <param name="to">The scheme to write.</param>
    /// <param name="strict">Whether transitions <paramref name="from"/> forbids are errors (see <see cref="Decode(IReadOnlyList{string}, TagScheme, bool)"/>).</param>
    /// <exception cref="TagSequenceException">The tags do not fit <paramref name="from"/>.</exception>
    public static string[] Convert(IReadOnlyList<string> tags, TagScheme from, TagScheme to, bool strict = false)
    {
        ArgumentNullException.ThrowIfNull(tags);
        return Encode(Decode(tags, from, strict, sentenceIndex: null), tags.Count, to);
    }

    /// <summary>Converts many sentences; an error names the sentence (0-based) and the token.</summary>
    /// <param name="sentences">Each sentence's tags in <paramref name="from"/>.</param>
    /// <param name="from">Their scheme.</param>
    /// <param name="to">The scheme to write.</param>
    /// <param name="strict">Whether transitions <paramref name="from"/> forbids are errors.</param>
    /// <exception cref="TagSequenceException">A sentence does not fit <paramref name="from"/>.</exception>
    public static string[][] Convert(IReadOnlyList<IReadOnlyList<string>> sentences, TagScheme from, TagScheme to, bool strict = false)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        var converted = new string[sentences.Count][];
        for (int s = 0; s < converted.Length; s++)
        {
            IReadOnlyList<string> tags = sentences[s] ?? throw new ArgumentException($"Sentence {s} is null.", nameof(sentences));
            converted[s] = Encode(Decode(tags, from, strict, s), tags.Count, to);
        }

        return converted;
    }

    /// <summary>
    /// Rewrites tags of any scheme, or of none (a model's raw output, with any mix of B-, I-, E-, S-,
    /// L-, U- and O), as valid tags of <paramref name="to"/>, keeping the entities conlleval reads in
    /// them (<see cref="ChunkRules.Standard"/>).
    /// </summary>
    /// <param name="tags">The tags.</param>
    /// <param name="to">The scheme to write.</param>
    /// <exception cref="TagSequenceException">A tag is malformed.</exception>
    public static string[] Repair(IReadOnlyList<string> tags, TagScheme to)
    {
        ArgumentNullException.ThrowIfNull(tags);
        var spans = new List<EntitySpan>();
        EntityExtraction.Extract(EntityExtraction.ParseAll(tags, sentenceIndex: null), ChunkRules.Standard, spans);
        return Encode(spans, tags.Count, to);
    }

    /// <summary>Checks that one sentence's tags are valid <paramref name="scheme"/>, transitions included.</summary>
    /// <param name="tags">The tags.</param>
    /// <param name="scheme">The scheme.</param>
    /// <exception cref="TagSequenceException">The first problem, naming the token, the tag and the rule.</exception>
    public static void Validate(IReadOnlyList<string> tags, TagScheme scheme)
    {
        ArgumentNullException.ThrowIfNull(tags);
        _ = Decode(tags, scheme, strict: true, sentenceIndex: null);
    }

    /// <summary>Checks that every sentence is valid <paramref name="scheme"/>, transitions included.</summary>
    /// <param name="sentences">Each sentence's tags.</param>
    /// <param name="scheme">The scheme.</param>
    /// <exception cref="TagSequenceException">The first problem, naming the sentence (0-based), the token, the tag and the rule.</exception>
    public static void Validate(IReadOnlyList<IReadOnlyList<string>> sentences, TagScheme scheme)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        for (int s = 0; s < sentences.Count; s++)
        {
            _ = Decode(sentences[s] ?? throw new ArgumentException($"Sentence {s} is null.", nameof(sentences)), scheme, strict: true, s);
        }
    }

    /// <summary>Whether one sentence's tags are valid <paramref name="scheme"/>, transitions included.</summary>
    /// <param name="tags">The tags.</param>
    /// <param name="scheme">The scheme.</param>
    public static bool IsValid(IReadOnlyList<string> tags, TagScheme scheme)
    {
        ArgumentNullException.ThrowIfNull(tags);
        var parsed = new Tag[tags.Count];
        for (int i = 0; i < parsed.Length; i++)
        {
            if (!Tag.TryParse(tags[i], out parsed[i]) || !Allows(scheme, parsed[i].Prefix))
            {
                return false;
            }
        }

        return FirstBreak(parsed, scheme, 0) < 0;
    }

    /// <summary>
    /// Detects the scheme of a file's tags. The prefixes used decide between the IOB family (O, B-, I-),
    /// IOBES (E-, S-) and BILOU (L-, U-); between IOB1 and IOB2 the one whose transition rules the tags
    /// break least often wins, IOB2 on a tie (tags with no entity at all fit every scheme). The result
    /// says how many tags break the rules, so a file with a few irregular tags (CoNLL-2003's training
    /// file has two) is still recognised, and the caller can decide.
    /// </summary>
    /// <param name="sentences">Each sentence's tags.</param>
    /// <exception cref="TagSequenceException">A malformed tag, or IOBES and BILOU letters mixed.</exception>
    public static TagSchemeDetection Detect(IEnumerable<IReadOnlyList<string>> sentences)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        var parsedSentences = new List<(Tag[] Tags, IReadOnlyList<string> Text)>();
        (int Sentence, int Position)? firstIobes = null;
        (int Sentence, int Position)? firstBilou = null;
        int index = 0;
        foreach (IReadOnlyList<string> tags in sentences)
        {
            Tag[] parsed = EntityExtraction.ParseAll(tags ?? throw new ArgumentException($"Sentence {index} is null.", nameof(sentences)), index);
            for (int i = 0; i < parsed.Length; i++)
            {
                if (parsed[i].Prefix is TagPrefix.End or TagPrefix.Single)
                {
                    firstIobes ??= (index, i);
                }
                else if (parsed[i].Prefix is TagPrefix.Last or TagPrefix.Unit)
                {
                    firstBilou ??= (index, i);
                }
            }

            parsedSentences.Add((parsed, tags));
            index++;
        }

        if (firstIobes is { } e && firstBilou is { } l)
        {
            IReadOnlyList<string> lTags = parsedSentences[l.Sentence].Text;
            throw TagSequenceException.At(l.Sentence, lTags, l.Position,
                $"the tags mix BILOU letters (L-, U-) with IOBES letters (E-, S-; first at sentence {e.Sentence}, token {e.Position} '{parsedSentences[e.Sentence].Text[e.Position]}'), so they fit no scheme.");
        }

        TagScheme[] candidates = firstIobes is not null ? [TagScheme.Iobes] : firstBilou is not null ? [TagScheme.Bilou] : [TagScheme.Iob2, TagScheme.Iob1];
        TagSchemeDetection? best = null;
        foreach (TagScheme scheme in candidates)
        {
            int breaks = 0;
            string? first = null;
            for (int s = 0; s < parsedSentences.Count; s++)
            {
                (Tag[] parsed, IReadOnlyList<string> text) = parsedSentences[s];
                for (int at = FirstBreak(parsed, scheme, 0); at >= 0; at = FirstBreak(parsed, scheme, at + 1))
                {
                    breaks++;
                    first ??= TagSequenceException.At(s, text, at, BreakReason(parsed, scheme, at)).Message;
                }
            }

            if (best is null || breaks < best.IrregularTags)
            {
                best = new TagSchemeDetection(scheme, breaks, first);
            }
        }

        return best!;
    }

    private static IReadOnlyList<EntitySpan> Decode(IReadOnlyList<string> tags, TagScheme scheme, bool strict, int? sentenceIndex)
    {
        _ = Prefixes(scheme);
        Tag[] parsed = EntityExtraction.ParseAll(tags, sentenceIndex);
        for (int i = 0; i < parsed.Length; i++)
        {
            if (!Allows(scheme, parsed[i].Prefix))
            {
                throw TagSequenceException.At(sentenceIndex, tags, i,
                    $"{Name(scheme)} has no {parsed[i].Letter}- tags (it uses {string.Join(", ", Prefixes(scheme).Select(p => p == TagPrefix.Outside ? "O" : $"{Tag.LetterOf(p)}-"))}); " +
                    $"read the tags with the scheme they are in ({SchemesUsing(parsed[i].Prefix)}), or use TagSchemes.Repair for a model's raw output.");
            }
        }

        if (strict)
        {
            int at = FirstBreak(parsed, scheme, 0);
            if (at >= 0)
            {
                throw TagSequenceException.At(sentenceIndex, tags, at, BreakReason(parsed, scheme, at) + " Decode without strict to read it as conlleval does.");
            }
        }

        var spans = new List<EntitySpan>();
        EntityExtraction.Extract(parsed, ChunkRules.Standard, spans);
        return spans;
    }

    // The first position at or after 'from' whose tag breaks the scheme's transition rules, or -1.
    // For IOBES/BILOU an entity left open at the end of the sentence is a break at the last token.
    // Assumes every prefix is allowed by the scheme.
    private static int FirstBreak(Tag[] tags, TagScheme scheme, int from)
    {
        for (int i = from; i < tags.Length; i++)
        {
            if (BreaksAt(tags, scheme, i))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool BreaksAt(Tag[] tags, TagScheme scheme, int i)
    {
        Tag previous = i > 0 ? tags[i - 1] : Tag.Outside;
        Tag current = tags[i];
        bool sameType = string.Equals(previous.Type, current.Type, StringComparison.Ordinal);
        bool previousInside = previous.Prefix is TagPrefix.Begin or TagPrefix.Inside;
        switch (scheme)
        {
            case TagScheme.Iob1:
                return current.Prefix == TagPrefix.Begin && !(previousInside && sameType);
            case TagScheme.Iob2:
                return current.Prefix == TagPrefix.Inside && !(previousInside && sameType);
            default:
                // IOBES / BILOU: after B- or I- the entity must go on (I-) or close (E-/L-) with the same type;
                // anywhere else only O, B- or S-/U- may come; the sentence must not end inside an entity.
                bool continues = current.Prefix is TagPrefix.Inside or TagPrefix.End or TagPrefix.Last;
                bool brokenHere = previousInside ? !(continues && sameType) : continues;
                bool leftOpen = i == tags.Length - 1 && current.Prefix is TagPrefix.Begin or TagPrefix.Inside;
                return brokenHere || leftOpen;
        }
    }

    private static string BreakReason(Tag[] tags, TagScheme scheme, int i)
    {
        Tag previous = i > 0 ? tags[i - 1] : Tag.Outside;
        Tag current = tags[i];
        string after = i > 0 ? $"after '{previous}'" : "at the start of the sentence";
        string name = Name(scheme);
        switch (scheme)
        {
            case TagScheme.Iob1:
                return $"in {name} a B- tag only starts an entity right after one of the same type (B-{current.Type} or I-{current.Type}), but it comes {after}.";
            case TagScheme.Iob2:
                return $"in {name} an I- tag continues a B-{current.Type} or I-{current.Type}, but it comes {after}; an entity starts with B-.";
            default:
                string end = scheme == TagScheme.Iobes ? "E" : "L";
                string single = scheme == TagScheme.Iobes ? "S" : "U";
                bool previousInside = previous.Prefix is TagPrefix.Begin or TagPrefix.Inside;
                if (previousInside && !(current.Prefix is TagPrefix.Inside or TagPrefix.End or TagPrefix.Last && previous.Type == current.Type))
                {
                    return $"in {name} '{previous}' must be followed by I-{previous.Type} or {end}-{previous.Type}, not '{current}'.";
                }

                if (current.Prefix is TagPrefix.Inside or TagPrefix.End or TagPrefix.Last && !previousInside)
                {
                    return $"in {name} '{current}' continues an entity, but it comes {after}; an entity starts with B- (or is a single {single}- token).";
                }

                return $"in {name} the sentence ends inside an entity; its last token must be {end}-{current.Type} (or {single}-{current.Type} for one token).";
        }
    }

    private static void WriteSpan(string[] tags, EntitySpan span, TagScheme scheme, bool followsSameType)
    {
        string type = span.Type;
        for (int i = span.Start; i < span.End; i++)
        {
            tags[i] = "I-" + type;
        }

        switch (scheme)
        {
            case TagScheme.Iob1:
                if (followsSameType)
                {
                    tags[span.Start] = "B-" + type;
                }

                break;
            case TagScheme.Iob2:
                tags[span.Start] = "B-" + type;
                break;
            case TagScheme.Iobes:
            case TagScheme.Bilou:
                bool iobes = scheme == TagScheme.Iobes;
                if (span.Length == 1)
                {
                    tags[span.Start] = (iobes ? "S-" : "U-") + type;
                }
                else
                {
                    tags[span.Start] = "B-" + type;
                    tags[span.End - 1] = (iobes ? "E-" : "L-") + type;
                }

                break;
            default:
                throw UnknownScheme(scheme);
        }
    }

    private static string SchemesUsing(TagPrefix prefix) => prefix switch
    {
        TagPrefix.End or TagPrefix.Single => "E- and S- are IOBES",
        TagPrefix.Last or TagPrefix.Unit => "L- and U- are BILOU",
        _ => "O, B- and I- fit every scheme",
    };

    private static ArgumentOutOfRangeException UnknownScheme(TagScheme scheme) =>
        new(nameof(scheme), scheme, "Unknown tag scheme; use Iob1, Iob2, Iobes or Bilou.");
}
