// Sentences as a token-exit labeller sees them: each sentence is one or more chunks of whole words
// (WordChunker), and a sentence's word tags and exit layers are its chunks' put side by side.
// SentenceChunks does that bookkeeping for scoring and for records; SentenceExitRecord is a
// TokenExitRecord of the chunks that answers per sentence.
//
// A word the tokenizer turns into no tokens at all gets the tag of TokenlessWords' rule and exit layer 1.
using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.Tokenization;

namespace EarlyExit.Sweeps;

/// <summary>The chunks of a list of sentences and how to put chunk results back together.</summary>
internal sealed class SentenceChunks
{
    private readonly int[] _sentenceLengths;
    private readonly (int Sentence, WordChunk Chunk)[] _chunks;
    private readonly int _tokenlessWordTag;

    /// <param name="sentenceLengths">Each sentence's word count.</param>
    /// <param name="chunks">The chunks, in sentence order.</param>
    /// <param name="tokenlessWordTag">The tag of words without tokens (the index of "O"), or -1 for the nearest tokenised word's tag.</param>
    public SentenceChunks(int[] sentenceLengths, IReadOnlyList<(int Sentence, WordChunk Chunk)> chunks, int tokenlessWordTag)
    {
        _sentenceLengths = sentenceLengths;
        _chunks = chunks.ToArray();
        _tokenlessWordTag = tokenlessWordTag;
        Inputs = _chunks.Select(c => c.Chunk.Input).ToArray();
    }

    /// <summary>The encoded chunks, in sentence order.</summary>
    public TokenizedInput[] Inputs { get; }

    /// <summary>How many sentences.</summary>
    public int SentenceCount => _sentenceLengths.Length;

    /// <summary>
    /// Each sentence's word tags and exit layers, from each chunk's (whose arrays end at the chunk's last
    /// word with tokens); words without tokens get TokenlessWords' tag and exit layer 1.
    /// </summary>
    public SentencePrediction[] Predictions(IReadOnlyList<int[]> chunkWordTags, IReadOnlyList<int[]> chunkWordExits)
    {
        var tags = _sentenceLengths.Select(n => new int[n]).ToArray();
        var exits = _sentenceLengths.Select(n => new int[n]).ToArray();
        var tokenless = _sentenceLengths.Select(n => new bool[n]).ToArray();
        for (int i = 0; i < _chunks.Length; i++)
        {
            var (sentence, chunk) = _chunks[i];
            int tokenised = Math.Min(chunk.Count, chunkWordTags[i].Length);
            Array.Copy(chunkWordTags[i], 0, tags[sentence], chunk.Start, tokenised);
            Array.Copy(chunkWordExits[i], 0, exits[sentence], chunk.Start, tokenised);
            Array.Copy(TokenlessWords.Find(chunk.Input, chunk.Count), 0, tokenless[sentence], chunk.Start, chunk.Count);
        }

        for (int s = 0; s < tags.Length; s++)
        {
            TokenlessWords.FillTags(tags[s], tokenless[s], _tokenlessWordTag);
            for (int w = 0; w < tags[s].Length; w++)
            {
                exits[s][w] = tokenless[s][w] ? 1 : exits[s][w];
            }
        }

        return tags.Select((t, s) => new SentencePrediction(t, exits[s])).ToArray();
    }

    /// <summary>Each chunk's words' values, from each sentence's.</summary>
    public IReadOnlyList<int>[] Split(IReadOnlyList<IReadOnlyList<int>> sentenceWordValues) =>
        _chunks.Select(c => (IReadOnlyList<int>)sentenceWordValues[c.Sentence].Skip(c.Chunk.Start).Take(c.Chunk.Count).ToArray()).ToArray();

    /// <summary>Each sentence's prediction from its chunks' predictions.</summary>
    public SentencePrediction[] Assemble(IReadOnlyList<TokenPrediction> scored) =>
        Predictions(scored.Select(p => p.WordClasses).ToArray(), scored.Select(p => p.WordExitLayers).ToArray());
}

/// <summary>What every layer of a token-exit labeller says about a list of sentences; see <see cref="TokenExitRecord"/>.</summary>
internal sealed class SentenceExitRecord
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
        return _chunks.Predictions(tags, exits);
    }
}
