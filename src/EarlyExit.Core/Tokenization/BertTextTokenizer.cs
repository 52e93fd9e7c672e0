// BERT and ELECTRA: transformers' BertTokenizer / ElectraTokenizer (identical algorithms) over
// vocab.txt.
//
// Per piece of text between added tokens (the base class has already lower-cased it per character
// when do_lower_case): BasicTokenizer (clean-up, CJK spacing, NFC, Python whitespace split,
// lower-case + accent stripping, punctuation split; see BertBasicTokenizer), then WordPiece on every
// word, computed by Microsoft.ML.Tokenizers' WordPieceTokenizer.
//
// Why not Microsoft.ML.Tokenizers' BertTokenizer: its normaliser differs from transformers' in ways
// the goldens exercise. It removes only Cc controls (transformers removes every C* character, so
// "zero\u200bwidth" joins into one word), lower-cases only Lu letters with .NET's simple mapping,
// normalises to NFC after stripping accents instead of before, and splits words on .NET whitespace
// rather than Python's str.split() (U+001C..U+001F, U+0085, U+2028 separate words in Python).
//
// WordPieceTokenizer is given one word at a time through a pre-tokenizer that keeps the input whole.
// Its 100-character limit counts UTF-16 units where transformers counts code points, so the limit is
// checked here on code points and the library's own limit is set out of the way.
using Microsoft.ML.Tokenizers;

namespace EarlyExit.Tokenization;

/// <summary>The BERT / ELECTRA tokenizer (BasicTokenizer + WordPiece).</summary>
internal sealed class BertTextTokenizer : TextTokenizer
{
    /// <summary>The WordPiece vocabulary file of a Hugging Face BERT or ELECTRA folder.</summary>
    public const string VocabularyFile = "vocab.txt";

    /// <summary>Transformers' WordpieceTokenizer.max_input_chars_per_word: longer words are one [UNK].</summary>
    private const int MaxInputCharsPerWord = 100;

    private static readonly Dictionary<string, (string Content, bool LStrip)> s_defaults = new()
    {
        ["unk_token"] = ("[UNK]", false),
        ["sep_token"] = ("[SEP]", false),
        ["pad_token"] = ("[PAD]", false),
        ["cls_token"] = ("[CLS]", false),
        ["mask_token"] = ("[MASK]", false),
    };

    private readonly WordPieceTokenizer _wordPiece;
    private readonly BertBasicTokenizer? _basic;
    private readonly HashSet<string> _neverSplit;
    private readonly int _unknownId;
    private readonly Dictionary<string, int> _vocabulary;
    private readonly Dictionary<int, string> _tokens;

    private BertTextTokenizer(string modelType, TokenizerFolder folder, WordPieceTokenizer wordPiece, Dictionary<string, int> vocabulary,
        AddedTokenSetup addedTokens, bool doLowerCase, BertBasicTokenizer? basic)
        : base(modelType, folder, addedTokens, vocabulary.Count, doLowerCase)
    {
        _wordPiece = wordPiece;
        _vocabulary = vocabulary;
        _basic = basic;
        _neverSplit = new HashSet<string>(addedTokens.Splitter.Tokens.Where(t => t.Special).Select(t => t.Content), StringComparer.Ordinal);
        _unknownId = wordPiece.UnknownTokenId;
        _tokens = vocabulary.ToDictionary(e => e.Value, e => e.Key);
    }

    /// <summary>Loads vocab.txt and the BertTokenizer options (do_lower_case, do_basic_tokenize, never_split, tokenize_chinese_chars, strip_accents) of a folder.</summary>
    public static BertTextTokenizer Load(TokenizerFolder folder, string modelType)
    {
        string path = folder.RequireFile(VocabularyFile, modelType);
        string unknown = folder.SpecialToken("unk_token", "[UNK]")!.Content;
        WordPieceTokenizer wordPiece = WordPieceTokenizer.Create(path, new WordPieceOptions
        {
            PreTokenizer = WholeTextPreTokenizer.Instance,
            UnknownToken = unknown,
            ContinuingSubwordPrefix = "##",
            // Checked on code points in EncodePiece; a word of 100 code points is at most 200 UTF-16 units.
            MaxInputCharsPerWord = 2 * MaxInputCharsPerWord,
        });

        // WordPieceTokenizer does not expose its vocabulary; transformers' load_vocab: one token per
        // line, the line number is the id (a repeated token keeps its last line).
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            vocabulary[line] = lineNumber++;
        }

        AddedTokenSetup addedTokens = ResolveAddedTokens(folder, s_defaults, t => vocabulary.TryGetValue(t, out int id) ? id : null, vocabulary.Count);
        bool doLowerCase = folder.GetBool("do_lower_case", true);
        BertBasicTokenizer? basic = folder.GetBool("do_basic_tokenize", true)
            ? new BertBasicTokenizer(doLowerCase, folder.GetBool("tokenize_chinese_chars", true), folder.GetOptionalBool("strip_accents"), folder.NeverSplit())
            : null;

        // BertTokenizer.do_lower_case is a property of its BasicTokenizer: without basic tokenization
        // the tokenizer has no do_lower_case, and transformers skips the lower-casing pass.
        return new BertTextTokenizer(modelType, folder, wordPiece, vocabulary, addedTokens, doLowerCase && basic is not null, basic);
    }

    private protected override void EncodePiece(string piece, List<int> ids)
    {
        IEnumerable<string> words = _basic is null ? PythonText.Split(piece) : _basic.Tokenize(piece, _neverSplit);
        foreach (string word in words)
        {
            // BertTokenizer passes basic-tokenizer words in its own never_split set (tokenizer_config
            // "never_split") through unchanged; everything else, special-token strings included, goes to WordPiece.
            if (_basic is not null && _basic.IsConfiguredNeverSplit(word))
            {
                ids.Add(_vocabulary.TryGetValue(word, out int id) ? id : _unknownId);
                continue;
            }

            foreach (string token in PythonText.Split(word))
            {
                if (PythonText.Length(token) > MaxInputCharsPerWord)
                {
                    ids.Add(_unknownId);
                }
                else
                {
                    ids.AddRange(_wordPiece.EncodeToIds(token));
                }
            }
        }
    }

    private protected override string IdToToken(int id) => _tokens.TryGetValue(id, out string? token) ? token : _tokens[_unknownId];

    /// <summary>A pre-tokenizer that hands the whole input to the model as one word.</summary>
    private sealed class WholeTextPreTokenizer : PreTokenizer
    {
        public static readonly WholeTextPreTokenizer Instance = new();

        public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => text.Length == 0 ? [] : [(0, text.Length)];

        public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => text.Length == 0 ? [] : [(0, text.Length)];
    }
}
