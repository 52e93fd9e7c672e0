// Splits a pre-split sentence into runs of whole words whose encoding fits a maximum length, so that a
// sentence longer than the encoder takes is labelled in full, chunk by chunk, and never silently cut.
namespace EarlyExit.Tokenization;

/// <summary>A run of consecutive words of a sentence and its encoding.</summary>
/// <param name="Start">The index of the run's first word in the sentence.</param>
/// <param name="Count">The number of words in the run.</param>
/// <param name="Input">The run encoded with <see cref="TextTokenizer.EncodeWords"/> (word ids relative to <paramref name="Start"/>).</param>
internal sealed record WordChunk(int Start, int Count, TokenizedInput Input);

/// <summary>Encodes sentences of pre-split words in chunks that each fit a maximum length.</summary>
internal static class WordChunker
{
    /// <summary>
    /// Encodes <paramref name="words"/> as one chunk when it fits <paramref name="maxLength"/> tokens (special
    /// tokens included), else as consecutive chunks of whole words that each fit. A single word whose
    /// pieces alone exceed the limit is truncated to the limit (and that is the only loss).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> leaves no room for a word.</exception>
    /// <exception cref="ArgumentNullException">A word is null (the message names it).</exception>
    public static IReadOnlyList<WordChunk> Encode(TextTokenizer tokenizer, IReadOnlyList<string> words, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(words);
        for (int i = 0; i < words.Count; i++)
        {
            if (words[i] is null)
            {
                throw new ArgumentNullException(nameof(words), $"Word {i} is null.");
            }
        }

        int specials = tokenizer.SpecialTokenCount(pair: false);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, specials + 1);
        TokenizedInput whole = tokenizer.EncodeWords(words);
        if (whole.Length <= maxLength)
        {
            return [new WordChunk(0, words.Count, whole)];
        }

        // Pieces per word, from the untruncated encoding.
        var pieces = new int[words.Count];
        foreach (int word in whole.WordIds!)
        {
            if (word >= 0)
            {
                pieces[word]++;
            }
        }

        var chunks = new List<WordChunk>();
        int budget = maxLength - specials;
        int start = 0;
        while (start < words.Count)
        {
            int count = 0;
            int used = 0;
            while (start + count < words.Count && (count == 0 || used + pieces[start + count] <= budget))
            {
                used += pieces[start + count];
                count++;
            }

            IReadOnlyList<string> run = words.Skip(start).Take(count).ToArray();
            chunks.Add(new WordChunk(start, count, tokenizer.EncodeWords(run, maxLength)));
            start += count;
        }

        return chunks;
    }
}
