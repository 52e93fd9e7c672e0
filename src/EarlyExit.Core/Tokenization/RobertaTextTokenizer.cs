// RoBERTa: transformers' RobertaTokenizer, byte-level BPE over vocab.json + merges.txt (GPT-2's
// scheme). No normalisation, no lower-casing.
//
//   prepare_for_tokenization: with add_prefix_space, or for every word of a pre-split sentence, a
//   space is put in front of a text that does not start with whitespace (Python str.isspace);
//   per piece between added tokens: GPT-2 pre-tokens (Gpt2PreTokenizer, ours; see there why), then
//   bytes -> printable characters and BPE merges by rank, computed by Microsoft.ML.Tokenizers'
//   BpeTokenizer (ByteLevel).
//
// Microsoft.ML.Tokenizers' CodeGenTokenizer.Create is not used: it adds CodeGen's own special tokens
// (<|endoftext|> and runs of spaces and tabs, ids 50256+), which RoBERTa's vocabulary does not have
// ("  " would become id 50286 instead of two "Ġ").
using Microsoft.ML.Tokenizers;

namespace EarlyExit.Tokenization;

/// <summary>The RoBERTa tokenizer (byte-level BPE).</summary>
internal sealed class RobertaTextTokenizer : TextTokenizer
{
    /// <summary>The token-to-id map of a Hugging Face RoBERTa folder.</summary>
    public const string VocabularyFile = "vocab.json";

    /// <summary>The BPE merge rules of a Hugging Face RoBERTa folder.</summary>
    public const string MergesFile = "merges.txt";

    private static readonly Dictionary<string, (string Content, bool LStrip)> s_defaults = new()
    {
        ["bos_token"] = ("<s>", false),
        ["eos_token"] = ("</s>", false),
        ["unk_token"] = ("<unk>", false),
        ["sep_token"] = ("</s>", false),
        ["pad_token"] = ("<pad>", false),
        ["cls_token"] = ("<s>", false),
        ["mask_token"] = ("<mask>", true),
    };

    private readonly BpeTokenizer _bpe;
    private readonly bool _addPrefixSpace;
    private readonly Dictionary<int, string> _tokens;

    private RobertaTextTokenizer(TokenizerFolder folder, BpeTokenizer bpe, AddedTokenSetup addedTokens, bool addPrefixSpace)
        : base(RobertaModelType, folder, addedTokens, bpe.Vocabulary.Count, lowerCaseOutsideAddedTokens: false)
    {
        _bpe = bpe;
        _addPrefixSpace = addPrefixSpace;
        _tokens = bpe.Vocabulary.ToDictionary(e => e.Value, e => e.Key);
    }

    /// <summary>Loads vocab.json, merges.txt and the RobertaTokenizer option add_prefix_space of a folder.</summary>
    public static RobertaTextTokenizer Load(TokenizerFolder folder)
    {
        string vocabulary = folder.RequireFile(VocabularyFile, RobertaModelType);
        string merges = folder.RequireFile(MergesFile, RobertaModelType);
        string unknown = folder.SpecialToken("unk_token", "<unk>")!.Content;
        BpeTokenizer bpe = BpeTokenizer.Create(new BpeOptions(vocabulary, merges)
        {
            ByteLevel = true,
            PreTokenizer = Gpt2PreTokenizer.Instance,
            UnknownToken = unknown,
        });

        IReadOnlyDictionary<string, int> tokens = bpe.Vocabulary;
        AddedTokenSetup addedTokens = ResolveAddedTokens(folder, s_defaults, t => tokens.TryGetValue(t, out int id) ? id : null, tokens.Count);
        return new RobertaTextTokenizer(folder, bpe, addedTokens, folder.GetBool("add_prefix_space", false));
    }

    private protected override bool DoubleSeparatorBetweenSegments => true;

    private protected override int SecondSegmentTypeId => 0;

    private protected override string PrepareForTokenization(string text, bool isSplitIntoWords) =>
        (isSplitIntoWords || _addPrefixSpace) && text.Length > 0 && !PythonText.IsSpace(PythonText.CodePointAt(text, 0, out _))
            ? " " + text
            : text;

    private protected override void EncodePiece(string piece, List<int> ids) => ids.AddRange(_bpe.EncodeToIds(piece));

    private protected override string IdToToken(int id) => _tokens.TryGetValue(id, out string? token) ? token : string.Empty;
}
