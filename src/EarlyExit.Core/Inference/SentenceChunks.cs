// Sentences as a token-exit labeller sees them: each sentence is one or more chunks of whole words
// (WordChunker), and a sentence's word tags and exit layers are its chunks' put side by side.
// SentenceChunks does that bookkeeping for scoring and for sweep records.
//
// A word the tokenizer turns into no tokens at all gets the tag of TokenlessWords' rule and exit layer 1.
using EarlyExit.ExitCriteria;
using EarlyExit.Tokenization;

namespace EarlyExit.Inference;

/// <summary>The labels of one sentence: a tag and an exit layer per word.</summary>
/// <param name="Tags">The 0-based tag of every word.</param>
/// <param name="ExitLayers">The 1-based layer every word stopped at.</param>
/// <param name="AuxiliaryTags">Per auxiliary task of the labeller, the 0-based tag of every word; null without tasks, and in a sweep's replayed predictions (which record the off-ramps only).</param>
public sealed record SentencePrediction(int[] Tags, int[] ExitLayers, IReadOnlyList<int[]>? AuxiliaryTags = null)
{
    /// <summary>The deepest layer any word of the sentence reached (0 for an empty sentence).</summary>
    public int ExitLayer => ExitLayers.Length == 0 ? 0 : ExitLayers.Max();
}

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

    /// <summary>The index of the outside tag "O" in <paramref name="tags"/> (what words without tokens get), or -1.</summary>
    public static int OutsideTag(IReadOnlyList<string> tags) => tags.ToList().IndexOf("O");

    /// <summary>
    /// <paramref name="sentences"/> (lists of words) as a labeller scores them: chunks of whole words that fit
    /// <paramref name="maxLength"/> tokens; words without tokens get <paramref name="tokenlessWordTag"/> (or -1: TokenlessWords' rule).
    /// </summary>
    /// <exception cref="ArgumentNullException">A word is null.</exception>
    public static SentenceChunks Of(TextTokenizer tokenizer, IReadOnlyList<IReadOnlyList<string>> sentences, int maxLength, int tokenlessWordTag)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        var chunks = new List<(int Sentence, WordChunk Chunk)>();
        for (int s = 0; s < sentences.Count; s++)
        {
            chunks.AddRange(WordChunker.Encode(tokenizer, sentences[s], maxLength).Select(c => (s, c)));
        }

        return new SentenceChunks(sentences.Select(s => s.Count).ToArray(), chunks, tokenlessWordTag);
    }

    /// <summary>How many sentences.</summary>
    public int SentenceCount => _sentenceLengths.Length;

    /// <summary>
    /// Each sentence's word tags and exit layers (and auxiliary tags), from each chunk's (whose arrays end at the
    /// chunk's last word with tokens); words without tokens get TokenlessWords' tag and exit layer 1, and for an
    /// auxiliary task the nearest tokenised word's tag.
    /// </summary>
    /// <param name="chunkWordTags">Each chunk's word tags.</param>
    /// <param name="chunkWordExits">Each chunk's word exit layers.</param>
    /// <param name="chunkAuxiliary">Each chunk's word tags per auxiliary task, or null without tasks.</param>
    public SentencePrediction[] Predictions(IReadOnlyList<int[]> chunkWordTags, IReadOnlyList<int[]> chunkWordExits, IReadOnlyList<IReadOnlyList<int[]>>? chunkAuxiliary = null)
    {
        var tokenless = _sentenceLengths.Select(n => new bool[n]).ToArray();
        foreach (var (sentence, chunk) in _chunks)
        {
            Array.Copy(TokenlessWords.Find(chunk.Input, chunk.Count), 0, tokenless[sentence], chunk.Start, chunk.Count);
        }

        int[][] tags = Stitch(chunkWordTags);
        int[][] exits = Stitch(chunkWordExits);
        int tasks = chunkAuxiliary is { Count: > 0 } ? chunkAuxiliary[0].Count : 0;
        int[][][] auxiliary = Enumerable.Range(0, tasks).Select(t => Stitch(chunkAuxiliary!.Select(c => c[t]).ToArray())).ToArray();
        for (int s = 0; s < tags.Length; s++)
        {
            TokenlessWords.FillTags(tags[s], tokenless[s], _tokenlessWordTag);
            foreach (int[][] task in auxiliary)
            {
                TokenlessWords.FillTags(task[s], tokenless[s], outsideTag: -1); // a task has no outside tag: the nearest tokenised word's
            }

            for (int w = 0; w < exits[s].Length; w++)
            {
                exits[s][w] = tokenless[s][w] ? 1 : exits[s][w];
            }
        }

        return tags.Select((t, s) => new SentencePrediction(t, exits[s], chunkAuxiliary is null ? null : auxiliary.Select(a => a[s]).ToArray())).ToArray();
    }

    // Each sentence's words' values, side by side from its chunks'.
    private int[][] Stitch(IReadOnlyList<int[]> chunkValues)
    {
        var values = _sentenceLengths.Select(n => new int[n]).ToArray();
        for (int i = 0; i < _chunks.Length; i++)
        {
            var (sentence, chunk) = _chunks[i];
            Array.Copy(chunkValues[i], 0, values[sentence], chunk.Start, Math.Min(chunk.Count, chunkValues[i].Length));
        }

        return values;
    }

    /// <summary>Each chunk's words' values, from each sentence's.</summary>
    public IReadOnlyList<int>[] Split(IReadOnlyList<IReadOnlyList<int>> sentenceWordValues) =>
        _chunks.Select(c => (IReadOnlyList<int>)sentenceWordValues[c.Sentence].Skip(c.Chunk.Start).Take(c.Chunk.Count).ToArray()).ToArray();

    /// <summary>Each sentence's prediction from its chunks' predictions.</summary>
    public SentencePrediction[] Assemble(IReadOnlyList<TokenPrediction> scored) =>
        Predictions(scored.Select(p => p.WordClasses).ToArray(), scored.Select(p => p.WordExitLayers).ToArray(),
            scored.Count > 0 && scored[0].AuxiliaryWordClasses is not null ? scored.Select(p => p.AuxiliaryWordClasses!).ToArray() : null);
}
