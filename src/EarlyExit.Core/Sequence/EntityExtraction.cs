// Where entities ("chunks") start and end in a tag sequence, by the rules of the CoNLL evaluation
// script conlleval.pl. Those rules look only at the previous and the current tag (prefix letter and
// type) and read IOB1, IOB2 and IOBES the same way, so one extractor serves every scheme and every
// odd sequence a model can emit:
//
//   - a new entity starts at B- (and S-); at I- or E- after O, after a finished entity, or after a
//     tag of another type; so "O I-PER" starts a PER, "B-PER I-LOC" is PER then LOC, and
//     "I-PER B-PER" is two PERs;
//   - an entity ends before O, before B- (and S-), before any tag of another type, and after E-/S-.
//
// Between the previous and the current tag, "start" and "end" always agree: whenever an entity
// starts at a token that follows a tag inside an entity, the earlier entity ends there, and an
// entity that ends at a token other than O is followed by one that starts there. So the entities
// are disjoint spans, and conlleval's count of correct chunks (it walks gold and prediction in step
// and counts chunks that start and end together with the same type) equals the number of spans that
// are identical in gold and prediction. EntityEvaluation relies on that.
namespace EarlyExit.Sequence;

/// <summary>Which chunk boundary rules entity extraction and evaluation use.</summary>
public enum ChunkRules
{
    /// <summary>
    /// conlleval.pl's rules with the IOBES letters completed: an entity also ends after every E- and
    /// S- and starts at every S-. Identical to conlleval.pl on O/B-/I- tags (IOB1, IOB2) and to seqeval's
    /// default (non-strict) mode on every tag; L- and U- (BILOU) are read as E- and S-.
    /// </summary>
    Standard,

    /// <summary>
    /// conlleval.pl (version 2004-01-26) verbatim. The script knows B-, I-, E- and O only, so in IOBES
    /// it joins adjacent entities of the same type ("E-PER B-PER", "S-PER S-PER" are one entity) and
    /// reads S-, L- and U- like tags it does not know (they start an entity only where the type changes).
    /// Use it to reproduce numbers printed by the script on IOBES output.
    /// </summary>
    Conlleval2004,
}

/// <summary>Extracts the entities of tag sequences by conlleval's chunk rules.</summary>
internal static class EntityExtraction
{
    // The letter classes the rules distinguish. Other: a letter the rule set has no rule for.
    private enum Kind
    {
        O,
        B,
        I,
        E,
        S,
        Other,
    }

    /// <summary>The entities of one sentence's tags, in order.</summary>
    /// <param name="tags">The tags, e.g. <c>["B-PER", "I-PER", "O"]</c>.</param>
    /// <param name="rules">The chunk rules; <see cref="ChunkRules.Standard"/> unless reproducing conlleval.pl on IOBES.</param>
    /// <exception cref="TagSequenceException">A tag is malformed; the message names its position.</exception>
    public static IReadOnlyList<EntitySpan> Extract(IReadOnlyList<string> tags, ChunkRules rules = ChunkRules.Standard)
    {
        ArgumentNullException.ThrowIfNull(tags);
        var spans = new List<EntitySpan>();
        Extract(ParseAll(tags, sentenceIndex: null), rules, spans);
        return spans;
    }

    /// <summary>The entities of one sentence's parsed tags, in order.</summary>
    /// <param name="tags">The tags.</param>
    /// <param name="rules">The chunk rules.</param>
    public static IReadOnlyList<EntitySpan> Extract(IReadOnlyList<Tag> tags, ChunkRules rules = ChunkRules.Standard)
    {
        ArgumentNullException.ThrowIfNull(tags);
        var spans = new List<EntitySpan>();
        Extract(tags, rules, spans);
        return spans;
    }

    /// <summary>Appends the entities of <paramref name="tags"/> to <paramref name="spans"/>.</summary>
    internal static void Extract(IReadOnlyList<Tag> tags, ChunkRules rules, List<EntitySpan> spans)
    {
        if (rules is not (ChunkRules.Standard or ChunkRules.Conlleval2004))
        {
            throw new ArgumentOutOfRangeException(nameof(rules), rules, "Unknown chunk rules.");
        }

        Kind previous = Kind.O;
        string previousType = string.Empty;
        int openStart = -1;
        string openType = string.Empty;

        // One step past the end: the sentence boundary reads as O, which closes an open entity.
        for (int i = 0; i <= tags.Count; i++)
        {
            Tag tag = i < tags.Count ? tags[i] : Tag.Outside;
            Kind current = Classify(tag.Prefix, rules);
            string type = tag.Type;
            bool typeChanges = !string.Equals(previousType, type, StringComparison.Ordinal);

            bool starts = i < tags.Count && (rules == ChunkRules.Standard ? StartsStandard(previous, current, typeChanges) : StartsConlleval(previous, current, typeChanges));
            bool ends = rules == ChunkRules.Standard ? EndsStandard(previous, current, typeChanges) : EndsConlleval(previous, current, typeChanges);

            // Both rule sets close the open entity whenever a new one starts (see the header); the
            // "|| starts" only keeps spans disjoint should that ever not hold.
            if (openStart >= 0 && (ends || starts))
            {
                spans.Add(new EntitySpan(openType, openStart, i));
                openStart = -1;
            }

            if (starts)
            {
                openStart = i;
                openType = type;
            }

            previous = current;
            previousType = type;
        }
    }

    /// <summary>Parses every tag, naming the sentence and position of a malformed one (and the source, e.g. "predicted tags").</summary>
    internal static Tag[] ParseAll(IReadOnlyList<string> tags, int? sentenceIndex, string? source = null)
    {
        var parsed = new Tag[tags.Count];
        for (int i = 0; i < parsed.Length; i++)
        {
            string? text = tags[i];
            if (text is null)
            {
                throw new TagSequenceException($"{TagSequenceException.Where(sentenceIndex, i)}{(source is null ? string.Empty : $" of the {source}")}: the tag is null.", sentenceIndex, i, null);
            }

            if (!Tag.TryParse(text, out parsed[i]))
            {
                throw TagSequenceException.At(sentenceIndex, tags, i, Tag.DescribeMalformed(text), source);
            }
        }

        return parsed;
    }

    private static Kind Classify(TagPrefix prefix, ChunkRules rules) => prefix switch
    {
        TagPrefix.Outside => Kind.O,
        TagPrefix.Begin => Kind.B,
        TagPrefix.Inside => Kind.I,
        TagPrefix.End => Kind.E,
        TagPrefix.Last => rules == ChunkRules.Standard ? Kind.E : Kind.Other,
        TagPrefix.Single or TagPrefix.Unit => rules == ChunkRules.Standard ? Kind.S : Kind.Other,
        _ => throw new ArgumentOutOfRangeException(nameof(prefix), prefix, "Unknown tag prefix."),
    };

    // Standard: an entity ends after E/S always; after B/I before B, S, O or another type.
    private static bool EndsStandard(Kind previous, Kind current, bool typeChanges) => previous switch
    {
        Kind.O => false,
        Kind.E or Kind.S => true,
        _ => current is Kind.B or Kind.S or Kind.O || typeChanges,
    };

    // Standard: an entity starts at B and S always; at I and E unless they continue a B/I of the same type.
    private static bool StartsStandard(Kind previous, Kind current, bool typeChanges) => current switch
    {
        Kind.O => false,
        Kind.B or Kind.S => true,
        _ => previous is Kind.O or Kind.E or Kind.S || typeChanges,
    };

    // conlleval.pl 2004: the script's letter pairs, else a change of type after a tag other than O.
    private static bool EndsConlleval(Kind previous, Kind current, bool typeChanges) => previous switch
    {
        Kind.O => false,
        Kind.B or Kind.I when current is Kind.B or Kind.O => true,
        Kind.E when current is Kind.E or Kind.I or Kind.O => true,
        _ => typeChanges,
    };

    // conlleval.pl 2004: the script's letter pairs, else a change of type at a tag other than O.
    private static bool StartsConlleval(Kind previous, Kind current, bool typeChanges) => current switch
    {
        Kind.O => false,
        Kind.B when previous is Kind.B or Kind.I or Kind.O => true,
        Kind.I when previous is Kind.O or Kind.E => true,
        Kind.E when previous is Kind.E or Kind.O => true,
        _ => typeChanges,
    };
}
