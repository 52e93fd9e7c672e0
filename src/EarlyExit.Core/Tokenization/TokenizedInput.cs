namespace EarlyExit.Tokenization;

/// <summary>
/// One encoded example, exactly as a Hugging Face slow tokenizer returns it (special tokens added,
/// no padding). All arrays have the same length.
/// </summary>
/// <param name="InputIds">Token ids, special tokens included.</param>
/// <param name="TokenTypeIds">Segment ids: 0 for the first text, 1 for the second text of a pair (all 0 for RoBERTa).</param>
/// <param name="AttentionMask">All 1: every position is a real token.</param>
/// <param name="SpecialTokensMask">1 where the tokenizer added a special token ([CLS], [SEP], &lt;s&gt;, ...), 0 for text tokens (including special-token strings written in the text).</param>
/// <param name="WordIds">For <see cref="TextTokenizer.EncodeWords"/>: the index of the word each token comes from, -1 for added special tokens; null otherwise.</param>
public sealed record TokenizedInput(int[] InputIds, int[] TokenTypeIds, int[] AttentionMask, int[] SpecialTokensMask, int[]? WordIds)
{
    /// <summary>The number of tokens.</summary>
    public int Length => InputIds.Length;
}
