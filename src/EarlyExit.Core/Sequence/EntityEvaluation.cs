// Entity-level evaluation of sequence labelling, the CoNLL way: an entity counts as found when a
// predicted entity has exactly its tokens and its type. The entities of gold and prediction are read
// by conlleval's chunk rules (EntityExtraction), so the counts equal conlleval.pl's on IOB1/IOB2 tags
// and seqeval's default mode on all tags; ChunkRules.Conlleval2004 reproduces the script on IOBES too.
namespace EarlyExit.Sequence;

/// <summary>Entity-level evaluation of predicted tag sequences against gold ones.</summary>
public static class EntityEvaluation
{
    /// <summary>Evaluates predicted tags against gold tags, sentence by sentence.</summary>
    /// <param name="gold">Each sentence's gold tags.</param>
    /// <param name="predicted">Each sentence's predicted tags: as many sentences, each as long as its gold one.</param>
    /// <param name="rules">The chunk rules; <see cref="ChunkRules.Standard"/> unless reproducing conlleval.pl on IOBES.</param>
    /// <exception cref="ArgumentException">The sentence counts differ.</exception>
    /// <exception cref="TagSequenceException">A sentence's lengths differ, or a tag is malformed; the message names the sentence.</exception>
    public static EntityEvaluationResult Evaluate(
        IReadOnlyList<IReadOnlyList<string>> gold,
        IReadOnlyList<IReadOnlyList<string>> predicted,
        ChunkRules rules = ChunkRules.Standard)
    {
        ArgumentNullException.ThrowIfNull(gold);
        ArgumentNullException.ThrowIfNull(predicted);
        if (gold.Count != predicted.Count)
        {
            throw new ArgumentException(
                $"Gold has {gold.Count} sentences but the predictions have {predicted.Count}; pass one predicted tag sequence per gold sentence, in the same order.",
                nameof(predicted));
        }

        var evaluator = new EntityEvaluator(rules);
        for (int s = 0; s < gold.Count; s++)
        {
            evaluator.Add(gold[s], predicted[s]);
        }

        return evaluator.Result();
    }
}

/// <summary>
/// Accumulates an entity-level evaluation one sentence at a time (e.g. batch by batch during
/// validation); <see cref="Result"/> gives the numbers so far.
/// </summary>
public sealed class EntityEvaluator
{
    private readonly SortedDictionary<string, Counts> _perType = new(StringComparer.Ordinal);
    private readonly List<EntitySpan> _goldSpans = [];
    private readonly List<EntitySpan> _predictedSpans = [];
    private long _tokens;
    private long _correctTokens;

    /// <summary>Creates an empty evaluation.</summary>
    /// <param name="rules">The chunk rules; <see cref="ChunkRules.Standard"/> unless reproducing conlleval.pl on IOBES.</param>
    public EntityEvaluator(ChunkRules rules = ChunkRules.Standard)
    {
        if (rules is not (ChunkRules.Standard or ChunkRules.Conlleval2004))
        {
            throw new ArgumentOutOfRangeException(nameof(rules), rules, "Unknown chunk rules; use Standard or Conlleval2004.");
        }

        Rules = rules;
    }

    /// <summary>The chunk rules.</summary>
    public ChunkRules Rules { get; }

    /// <summary>The number of sentences added so far.</summary>
    public int SentenceCount { get; private set; }

    /// <summary>Adds one sentence.</summary>
    /// <param name="gold">Its gold tags.</param>
    /// <param name="predicted">Its predicted tags, one per gold tag.</param>
    /// <exception cref="TagSequenceException">The lengths differ or a tag is malformed; the message names the sentence (0-based, counting the sentences added).</exception>
    public void Add(IReadOnlyList<string> gold, IReadOnlyList<string> predicted)
    {
        ArgumentNullException.ThrowIfNull(gold);
        ArgumentNullException.ThrowIfNull(predicted);
        int sentence = SentenceCount;
        if (gold.Count != predicted.Count)
        {
            throw new TagSequenceException(
                $"Sentence {sentence} (0-based) has {gold.Count} gold tags but {predicted.Count} predicted tags; predict exactly one tag per token.",
                sentence, -1, null);
        }

        Tag[] goldTags = EntityExtraction.ParseAll(gold, sentence, "gold tags");
        Tag[] predictedTags = EntityExtraction.ParseAll(predicted, sentence, "predicted tags");

        for (int i = 0; i < gold.Count; i++)
        {
            if (string.Equals(gold[i], predicted[i], StringComparison.Ordinal))
            {
                _correctTokens++;
            }
        }

        _tokens += gold.Count;

        _goldSpans.Clear();
        _predictedSpans.Clear();
        EntityExtraction.Extract(goldTags, Rules, _goldSpans);
        EntityExtraction.Extract(predictedTags, Rules, _predictedSpans);
        foreach (EntitySpan span in _goldSpans)
        {
            CountsOf(span.Type).Gold++;
        }

        foreach (EntitySpan span in _predictedSpans)
        {
            CountsOf(span.Type).Predicted++;
        }

        // Spans are disjoint and in order, so each start holds at most one span on either side.
        int g = 0;
        int p = 0;
        while (g < _goldSpans.Count && p < _predictedSpans.Count)
        {
            EntitySpan goldSpan = _goldSpans[g];
            EntitySpan predictedSpan = _predictedSpans[p];
            if (goldSpan.Start == predictedSpan.Start)
            {
                if (goldSpan.End == predictedSpan.End && string.Equals(goldSpan.Type, predictedSpan.Type, StringComparison.Ordinal))
                {
                    CountsOf(goldSpan.Type).Correct++;
                }

                g++;
                p++;
            }
            else if (goldSpan.Start < predictedSpan.Start)
            {
                g++;
            }
            else
            {
                p++;
            }
        }

        SentenceCount++;
    }

    /// <summary>The evaluation of the sentences added so far.</summary>
    public EntityEvaluationResult Result()
    {
        var perType = new SortedDictionary<string, EntityScores>(StringComparer.Ordinal);
        long gold = 0;
        long predicted = 0;
        long correct = 0;
        foreach ((string type, Counts counts) in _perType)
        {
            perType.Add(type, new EntityScores(counts.Gold, counts.Predicted, counts.Correct));
            gold += counts.Gold;
            predicted += counts.Predicted;
            correct += counts.Correct;
        }

        return new EntityEvaluationResult
        {
            Rules = Rules,
            SentenceCount = SentenceCount,
            TokenCount = _tokens,
            CorrectTokenCount = _correctTokens,
            Overall = new EntityScores(gold, predicted, correct),
            PerType = perType,
        };
    }

    private Counts CountsOf(string type)
    {
        if (!_perType.TryGetValue(type, out Counts? counts))
        {
            counts = new Counts();
            _perType.Add(type, counts);
        }

        return counts;
    }

    private sealed class Counts
    {
        public long Gold;
        public long Predicted;
        public long Correct;
    }
}
