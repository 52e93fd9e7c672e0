// Sentences as a token-exit labeller sees them: each sentence is one or more chunks of whole words
// (WordChunker), and a sentence's word tags and exit layers are its chunks' put side by side.
// SentenceChunks does that bookkeeping for scoring and for records; SentenceExitRecord is a
// TokenExitRecord of the chunks that answers per sentence.
using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.Tokenization;

namespace EarlyExit.Sweeps;

/// <summary>The chunks of a list of sentences and how to put chunk results back together.</summary>
internal sealed class SentenceChunks
{
    private readonly int[] _sentenceLengths;
    private readonly (int Sentence, WordChunk Chunk)[] _chunks;

    public SentenceChunks(int[] sentenceLengths, IReadOnlyList<(int Sentence, WordChunk Chunk)> chunks)
    {
        _sentenceLengths = sentenceLengths;
        _chunks = chunks.ToArray();
        Inputs = _chunks.Select(c => c.Chunk.Input).ToArray();
    }

    /// <summary>The encoded chunks, in sentence order.</summary>
    public TokenizedInput[] Inputs { get; }

    /// <summary>How many sentences.</summary>
    public int SentenceCount => _sentenceLengths.Length;

    /// <summary>Each sentence's words' values, from each chunk's words' values.</summary>
    public int[][] Words(IReadOnlyList<int[]> chunkWordValues)
    {
        var words = _sentenceLengths.Select(n => new int[n]).ToArray();
        for (int i = 0; i < _chunks.Length; i++)
        {
            var (sentence, chunk) = _chunks[i];
            Array.Copy(chunkWordValues[i], 0, words[sentence], chunk.Start, chunk.Count);
        }

        return words;
    }

    /// <summary>Each chunk's words' values, from each sentence's.</summary>
    public IReadOnlyList<int>[] Split(IReadOnlyList<IReadOnlyList<int>> sentenceWordValues) =>
        _chunks.Select(c => (IReadOnlyList<int>)sentenceWordValues[c.Sentence].Skip(c.Chunk.Start).Take(c.Chunk.Count).ToArray()).ToArray();

    /// <summary>Each sentence's prediction from its chunks' predictions.</summary>
    public SentencePrediction[] Assemble(IReadOnlyList<TokenPrediction> scored)
    {
        int[][] tags = Words(scored.Select(p => p.WordClasses).ToArray());
        int[][] exits = Words(scored.Select(p => p.WordExitLayers).ToArray());
        return tags.Select((t, s) => new SentencePrediction(t, exits[s])).ToArray();
    }
}

/// <summary>What every layer of a token-exit labeller says about a list of sentences; see <see cref="TokenExitRecord"/>.</summary>
public sealed class SentenceExitRecord
{
    private readonly SentenceChunks _chunks;

    internal SentenceExitRecord(SentenceChunks chunks, TokenExitRecord record)
    {
        _chunks = chunks;
        Chunks = record;
    }

    /// <summary>The record of the chunks the sentences were labelled in.</summary>
    public TokenExitRecord Chunks { get; }

    /// <summary>How many sentences.</summary>
    public int Sentences => _chunks.SentenceCount;

    /// <summary>L.</summary>
    public int Layers => Chunks.Layers;

    /// <summary>Each sentence's word tags and exit layers under <paramref name="criterion"/>, without running the network (TOKEE: an estimate).</summary>
    public SentencePrediction[] Replay(TokenExitCriterion criterion) => _chunks.Assemble(Chunks.Replay(criterion));

    /// <summary>Each sentence's oracle word exits and tags (see <see cref="TokenExitRecord.Oracle"/>).</summary>
    /// <param name="wordLabels">Each sentence's 0-based gold tag per word, or null for agreement with full depth.</param>
    public SentencePrediction[] Oracle(IReadOnlyList<IReadOnlyList<int>>? wordLabels = null)
    {
        IReadOnlyList<IReadOnlyList<int>>? chunkLabels = null;
        if (wordLabels is not null)
        {
            if (wordLabels.Count != Sentences)
            {
                throw new ArgumentException($"{wordLabels.Count} label rows for {Sentences} sentences.", nameof(wordLabels));
            }

            chunkLabels = _chunks.Split(wordLabels);
        }

        (int[][] exits, int[][] tags) = Chunks.Oracle(chunkLabels);
        int[][] sentenceTags = _chunks.Words(tags);
        int[][] sentenceExits = _chunks.Words(exits);
        return sentenceTags.Select((t, s) => new SentencePrediction(t, sentenceExits[s])).ToArray();
    }
}
