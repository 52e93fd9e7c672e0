namespace EarlyExit.Tokenization;

/// <summary>The ids of a tokenizer's special tokens (-1 for a token the tokenizer does not define; Cls and Sep always exist).</summary>
/// <param name="Cls">The classification token that starts every sequence ([CLS], or &lt;s&gt; for RoBERTa).</param>
/// <param name="Sep">The separator that ends every segment ([SEP], or &lt;/s&gt; for RoBERTa).</param>
/// <param name="Pad">The padding token.</param>
/// <param name="Unk">The unknown token.</param>
/// <param name="Mask">The mask token of masked language modelling.</param>
public sealed record SpecialTokenIds(int Cls, int Sep, int Pad, int Unk, int Mask);
