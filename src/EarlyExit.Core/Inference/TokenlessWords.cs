// Words a tokenizer turns into no tokens at all (an empty string, a zero-width space, a lone soft hyphen)
// run through no layer, yet every word needs a tag: the outside tag "O", or without one in the tag set,
// the tag of the nearest word that has tokens (left first). Scoring, replays, oracles and validation
// during training all apply this one rule.
using EarlyExit.Tokenization;

namespace EarlyExit.Inference;

/// <summary>Finding words without tokens and giving them their tag.</summary>
internal static class TokenlessWords
{
    /// <summary>Which of the first <paramref name="wordCount"/> words of <paramref name="input"/> have no token.</summary>
    public static bool[] Find(TokenizedInput input, int wordCount)
    {
        var tokenless = Enumerable.Repeat(true, wordCount).ToArray();
        foreach (int word in input.WordIds!)
        {
            if (word >= 0 && word < wordCount)
            {
                tokenless[word] = false;
            }
        }

        return tokenless;
    }

    /// <summary>Sets the tag of every tokenless word: <paramref name="outsideTag"/>, or when it is negative the nearest tokenised word's.</summary>
    public static void FillTags(int[] tags, bool[] tokenless, int outsideTag)
    {
        for (int w = 0; w < tags.Length; w++)
        {
            if (tokenless[w])
            {
                tags[w] = outsideTag >= 0 ? outsideTag : NearestTokenised(tags, tokenless, w);
            }
        }
    }

    /// <summary>Each word's tags from a prediction that ends at its last tokenised word, completed to <paramref name="wordCount"/> words.</summary>
    public static int[] Complete(int[] wordTags, TokenizedInput input, int wordCount, int outsideTag)
    {
        var tags = new int[wordCount];
        Array.Copy(wordTags, tags, Math.Min(wordTags.Length, wordCount));
        FillTags(tags, Find(input, wordCount), outsideTag);
        return tags;
    }

    private static int NearestTokenised(int[] tags, bool[] tokenless, int word)
    {
        for (int distance = 1; distance < tags.Length; distance++)
        {
            if (word - distance >= 0 && !tokenless[word - distance])
            {
                return tags[word - distance];
            }

            if (word + distance < tags.Length && !tokenless[word + distance])
            {
                return tags[word + distance];
            }
        }

        return 0;
    }
}
