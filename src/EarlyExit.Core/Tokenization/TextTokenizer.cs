// The public tokenizer: one class for the four encoder families, reproducing the token ids of the
// Hugging Face *slow* (pure-Python) tokenizers. This file holds what the families share, which is
// transformers' PreTrainedTokenizer flow:
//
//   tokenize(text)      prepare (RoBERTa: prefix space) -> lower-case outside special tokens (if the
//                       family lower-cases) -> cut at added tokens -> family model per piece
//   prepare_for_model   truncate (before special tokens: single text keeps the first
//                       max_length - specials tokens; pairs use longest_first) -> add special tokens
//
// The families (AlbertTextTokenizer, BertTextTokenizer, RobertaTextTokenizer) supply the model step
// and the special-token layout.
namespace EarlyExit.Tokenization;

/// <summary>
/// A Hugging Face-compatible tokenizer for ALBERT (SentencePiece unigram), BERT and ELECTRA
/// (WordPiece) and RoBERTa (byte-level BPE), loaded from a model folder. Token ids, token types and
/// special-token masks are exactly those of the transformers slow tokenizers (checked against the
/// golden files of every shared model folder).
/// </summary>
public abstract class TextTokenizer
{
    /// <summary>The model type of ALBERT tokenizers.</summary>
    public const string AlbertModelType = "albert";

    /// <summary>The model type of BERT tokenizers.</summary>
    public const string BertModelType = "bert";

    /// <summary>The model type of ELECTRA tokenizers (BERT's WordPiece tokenizer).</summary>
    public const string ElectraModelType = "electra";

    /// <summary>The model type of RoBERTa tokenizers.</summary>
    public const string RobertaModelType = "roberta";

    private readonly AddedTokenSplitter _addedTokens;
    private readonly bool _lowerCaseOutsideAddedTokens;

    private protected TextTokenizer(string modelType, TokenizerFolder folder, AddedTokenSetup addedTokens, int vocabularySize, bool lowerCaseOutsideAddedTokens)
    {
        ModelType = modelType;
        _addedTokens = addedTokens.Splitter;
        SpecialTokens = addedTokens.Ids;
        VocabularySize = vocabularySize;
        ModelMaxLength = folder.ModelMaxLength;
        _lowerCaseOutsideAddedTokens = lowerCaseOutsideAddedTokens;
    }

    /// <summary>The model types this class can load: albert, bert, electra, roberta.</summary>
    public static IReadOnlyList<string> SupportedModelTypes { get; } = [AlbertModelType, BertModelType, ElectraModelType, RobertaModelType];

    /// <summary>The settings files a tokenizer reads when present (tokenizer_config.json, special_tokens_map.json).</summary>
    public static IReadOnlyList<string> OptionalFiles { get; } = [TokenizerFolder.TokenizerConfigFile, TokenizerFolder.SpecialTokensMapFile];

    /// <summary>The vocabulary files a family's tokenizer cannot do without.</summary>
    /// <param name="modelType">albert, bert, electra or roberta (case-insensitive).</param>
    /// <returns>spiece.model (albert); vocab.txt (bert, electra); vocab.json and merges.txt (roberta).</returns>
    /// <exception cref="NotSupportedException"><paramref name="modelType"/> is none of those.</exception>
    public static IReadOnlyList<string> RequiredFiles(string modelType)
    {
        ArgumentNullException.ThrowIfNull(modelType);
        return modelType.ToLowerInvariant() switch
        {
            AlbertModelType => [AlbertTextTokenizer.ModelFile],
            BertModelType or ElectraModelType => [BertTextTokenizer.VocabularyFile],
            RobertaModelType => [RobertaTextTokenizer.VocabularyFile, RobertaTextTokenizer.MergesFile],
            _ => throw new NotSupportedException($"Unsupported model type '{modelType}'; TextTokenizer supports {string.Join(", ", SupportedModelTypes)}."),
        };
    }

    /// <summary>The family: <c>albert</c>, <c>bert</c>, <c>electra</c> or <c>roberta</c>.</summary>
    public string ModelType { get; }

    /// <summary>The ids of the special tokens.</summary>
    public SpecialTokenIds SpecialTokens { get; }

    /// <summary>The size of the base vocabulary (Hugging Face <c>vocab_size</c>; the encoder's embedding rows).</summary>
    public int VocabularySize { get; }

    /// <summary>
    /// The longest input the model accepts: <c>model_max_length</c> (or the legacy <c>max_len</c>) of
    /// tokenizer_config.json; 512 when the folder names none.
    /// </summary>
    public int ModelMaxLength { get; }

    /// <summary>The number of special tokens added to a single text (<paramref name="pair"/> false) or a pair of texts.</summary>
    /// <param name="pair">Whether the input is a pair of texts.</param>
    /// <returns>2 for a single text; 3 for a pair ([CLS] A [SEP] B [SEP]), 4 for RoBERTa (&lt;s&gt; A &lt;/s&gt;&lt;/s&gt; B &lt;/s&gt;).</returns>
    public int SpecialTokenCount(bool pair) => pair ? (DoubleSeparatorBetweenSegments ? 4 : 3) : 2;

    /// <summary>
    /// Loads the tokenizer of a Hugging Face model folder. The family comes from <c>model_type</c> in
    /// config.json; without it, from the tokenizer files present (spiece.model: albert, vocab.txt:
    /// bert, vocab.json + merges.txt: roberta).
    /// </summary>
    /// <param name="folder">The model folder.</param>
    /// <returns>The folder's tokenizer.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">A tokenizer file the family needs is missing, or the folder names no family and holds no tokenizer file.</exception>
    /// <exception cref="NotSupportedException">config.json names a model type other than albert, bert, electra, roberta.</exception>
    public static TextTokenizer FromFolder(string folder)
    {
        TokenizerFolder files = TokenizerFolder.Open(folder);
        string? modelType = files.ReadModelType();
        if (modelType is not null)
        {
            return Create(files, modelType, $"model_type '{modelType}' in {TokenizerFolder.ConfigFile} of '{folder}'");
        }

        modelType = files.HasFile(AlbertTextTokenizer.ModelFile) ? AlbertModelType
            : files.HasFile(BertTextTokenizer.VocabularyFile) ? BertModelType
            : files.HasFile(RobertaTextTokenizer.VocabularyFile) && files.HasFile(RobertaTextTokenizer.MergesFile) ? RobertaModelType
            : null;
        if (modelType is null)
        {
            throw new FileNotFoundException(
                $"Folder '{folder}' has no {TokenizerFolder.ConfigFile} with a model_type and none of the tokenizer files " +
                $"{AlbertTextTokenizer.ModelFile} (albert), {BertTextTokenizer.VocabularyFile} (bert, electra), " +
                $"{RobertaTextTokenizer.VocabularyFile} + {RobertaTextTokenizer.MergesFile} (roberta).", folder);
        }

        return Create(files, modelType, $"the tokenizer files of '{folder}'");
    }

    /// <summary>Loads the tokenizer of a model folder as the given family, whatever config.json says.</summary>
    /// <param name="folder">The model folder.</param>
    /// <param name="modelType">albert, bert, electra or roberta (case-insensitive).</param>
    /// <returns>The folder's tokenizer.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">A tokenizer file the family needs is missing.</exception>
    /// <exception cref="NotSupportedException"><paramref name="modelType"/> is not albert, bert, electra or roberta.</exception>
    public static TextTokenizer FromFolder(string folder, string modelType)
    {
        ArgumentNullException.ThrowIfNull(modelType);
        return Create(TokenizerFolder.Open(folder), modelType, $"model type '{modelType}'");
    }

    /// <summary>Encodes one text: [CLS] text [SEP] (RoBERTa: &lt;s&gt; text &lt;/s&gt;).</summary>
    /// <param name="text">The text; special-token strings written in it ("[MASK]") become those tokens.</param>
    /// <param name="maxLength">The longest result, special tokens included; longer texts lose tokens at the end. Null: no truncation.</param>
    /// <returns>The ids, token types, attention mask and special-tokens mask.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> leaves no room for a text token next to the special tokens.</exception>
    public TokenizedInput Encode(string text, int? maxLength = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        CheckMaxLength(maxLength, pair: false);
        List<int> ids = TokenizeToIds(text, isSplitIntoWords: false);
        if (maxLength is int max)
        {
            TruncateEnd(ids, null, ids.Count + SpecialTokenCount(pair: false) - max);
        }

        return Build(ids, null, null);
    }

    /// <summary>
    /// Encodes a pair of texts: [CLS] text [SEP] textPair [SEP] with token types 0 then 1 (RoBERTa:
    /// &lt;s&gt; text &lt;/s&gt;&lt;/s&gt; textPair &lt;/s&gt;, all token types 0). With <paramref name="textPair"/> null this is <see cref="Encode(string, int?)"/>.
    /// </summary>
    /// <param name="text">The first text.</param>
    /// <param name="textPair">The second text (may be empty), or null for a single text.</param>
    /// <param name="maxLength">
    /// The longest result, special tokens included. A pair is cut longest-first: one token at a time is
    /// removed from the end of the longer segment (the second one when both are equally long). Null: no truncation.
    /// </param>
    /// <returns>The ids, token types, attention mask and special-tokens mask.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> leaves no room for a text token next to the special tokens.</exception>
    public TokenizedInput Encode(string text, string? textPair, int? maxLength = null)
    {
        if (textPair is null)
        {
            return Encode(text, maxLength);
        }

        ArgumentNullException.ThrowIfNull(text);
        CheckMaxLength(maxLength, pair: true);
        List<int> first = TokenizeToIds(text, isSplitIntoWords: false);
        List<int> second = TokenizeToIds(textPair, isSplitIntoWords: false);
        if (maxLength is int max)
        {
            int remove = first.Count + second.Count + SpecialTokenCount(pair: true) - max;
            for (int i = 0; i < remove; i++)
            {
                List<int> longer = first.Count > second.Count ? first : second;
                longer.RemoveAt(longer.Count - 1);
            }
        }

        return Build(first, second, null);
    }

    /// <summary>
    /// Encodes every text (null as empty), each with its pair when <paramref name="textPairs"/> is given,
    /// truncated to <paramref name="maxLength"/>: the inputs of a text classifier's Predict.
    /// </summary>
    /// <exception cref="ArgumentException">The two lists differ in length.</exception>
    internal TokenizedInput[] EncodeAll(IReadOnlyList<string?> texts, IReadOnlyList<string?>? textPairs, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (textPairs is not null && textPairs.Count != texts.Count)
        {
            throw new ArgumentException($"textPairs has {textPairs.Count} entries but texts has {texts.Count}.", nameof(textPairs));
        }

        return texts.Select((t, i) => Encode(t ?? string.Empty, textPairs?[i], maxLength)).ToArray();
    }

    /// <summary>
    /// Encodes a pre-split sentence (Hugging Face <c>is_split_into_words=True</c>): every word is
    /// tokenized on its own (RoBERTa: with a leading space) and <see cref="TokenizedInput.WordIds"/>
    /// maps each token to its word. Truncation is that of a single text.
    /// </summary>
    /// <param name="words">The words, e.g. one CoNLL sentence.</param>
    /// <param name="maxLength">The longest result, special tokens included. Null: no truncation.</param>
    /// <returns>The encoding, with word ids (-1 for the added special tokens).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="words"/> or one of its words is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> leaves no room for a text token next to the special tokens.</exception>
    public TokenizedInput EncodeWords(IReadOnlyList<string> words, int? maxLength = null)
    {
        ArgumentNullException.ThrowIfNull(words);
        CheckMaxLength(maxLength, pair: false);
        var ids = new List<int>();
        var wordIds = new List<int>();
        for (int w = 0; w < words.Count; w++)
        {
            string word = words[w] ?? throw new ArgumentNullException(nameof(words), $"Word {w} of the list is null.");
            List<int> wordTokens = TokenizeToIds(word, isSplitIntoWords: true);
            ids.AddRange(wordTokens);
            wordIds.AddRange(Enumerable.Repeat(w, wordTokens.Count));
        }

        if (maxLength is int max)
        {
            TruncateEnd(ids, wordIds, ids.Count + SpecialTokenCount(pair: false) - max);
        }

        return Build(ids, null, wordIds);
    }

    /// <summary>
    /// The tokens of <paramref name="text"/> as vocabulary strings, without added special tokens
    /// (Hugging Face <c>convert_ids_to_tokens(encode(text, add_special_tokens=False))</c>). For debugging.
    /// </summary>
    /// <param name="text">The text.</param>
    /// <returns>One string per token, e.g. <c>▁hello</c>, <c>##s</c>, <c>Ġworld</c>, <c>&lt;unk&gt;</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    public IReadOnlyList<string> Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TokenizeToIds(text, isSplitIntoWords: false).Select(TokenText).ToList();
    }

    /// <inheritdoc />
    public override string ToString() => $"{GetType().Name}({ModelType}, vocabulary {VocabularySize})";

    /// <summary>Encodes one piece of text that holds no added token (transformers' <c>_tokenize</c> plus the id lookup).</summary>
    private protected abstract void EncodePiece(string piece, List<int> ids);

    /// <summary>The vocabulary string of an id.</summary>
    private protected abstract string IdToToken(int id);

    /// <summary>Transformers' <c>prepare_for_tokenization</c>: family-specific edits before anything else.</summary>
    private protected virtual string PrepareForTokenization(string text, bool isSplitIntoWords) => text;

    /// <summary>Whether a pair is joined with two separators (RoBERTa: &lt;/s&gt;&lt;/s&gt;) instead of one.</summary>
    private protected virtual bool DoubleSeparatorBetweenSegments => false;

    /// <summary>The token type of the second segment (1; RoBERTa: 0).</summary>
    private protected virtual int SecondSegmentTypeId => 1;

    /// <summary>
    /// Resolves the added tokens of a folder the way transformers does: every special token (content
    /// from the settings files or the family default) and every added_tokens_decoder entry is matched
    /// in the text; ids come from added_tokens_decoder, else from the vocabulary, else new ids after it.
    /// </summary>
    private protected static AddedTokenSetup ResolveAddedTokens(
        TokenizerFolder folder, IReadOnlyDictionary<string, (string Content, bool LStrip)> defaults, Func<string, int?> vocabularyId, int vocabularySize)
    {
        var byContent = new Dictionary<string, AddedToken>(StringComparer.Ordinal);
        int nextId = vocabularySize;
        foreach ((int id, TokenSpec spec, bool special) in folder.AddedTokensDecoder())
        {
            byContent[spec.Content] = new AddedToken(spec.Content, id, spec.LStrip, spec.RStrip, spec.SingleWord, special, spec.Normalized);
            nextId = Math.Max(nextId, id + 1);
        }

        AddedToken AddSpecial(TokenSpec spec)
        {
            if (byContent.TryGetValue(spec.Content, out AddedToken? known))
            {
                return byContent[spec.Content] = known with { Special = true };
            }

            int id = vocabularyId(spec.Content) ?? nextId++;
            return byContent[spec.Content] = new AddedToken(spec.Content, id, spec.LStrip, spec.RStrip, spec.SingleWord, Special: true, spec.Normalized);
        }

        var specials = new Dictionary<string, AddedToken>(StringComparer.Ordinal);
        foreach (string key in TokenizerFolder.SpecialTokenKeys)
        {
            bool hasDefault = defaults.TryGetValue(key, out (string Content, bool LStrip) fallback);
            if (folder.SpecialToken(key, hasDefault ? fallback.Content : null, fallback.LStrip) is { } spec)
            {
                specials[key] = AddSpecial(spec);
            }
        }

        foreach (TokenSpec spec in folder.AdditionalSpecialTokens())
        {
            AddSpecial(spec);
        }

        int Id(string key, bool required)
        {
            if (specials.TryGetValue(key, out AddedToken? token))
            {
                return token.Id;
            }

            return required
                ? throw new InvalidDataException($"The tokenizer in '{folder.Directory}' defines no {key}, which every encoding needs.")
                : -1;
        }

        var ids = new SpecialTokenIds(Id("cls_token", true), Id("sep_token", true), Id("pad_token", false), Id("unk_token", false), Id("mask_token", false));
        return new AddedTokenSetup(new AddedTokenSplitter(byContent.Values), ids);
    }

    private static TextTokenizer Create(TokenizerFolder files, string modelType, string source) =>
        modelType.ToLowerInvariant() switch
        {
            AlbertModelType => AlbertTextTokenizer.Load(files),
            BertModelType => BertTextTokenizer.Load(files, BertModelType),
            ElectraModelType => BertTextTokenizer.Load(files, ElectraModelType),
            RobertaModelType => RobertaTextTokenizer.Load(files),
            _ => throw new NotSupportedException(
                $"Unsupported model type '{modelType}' (from {source}); TextTokenizer supports {string.Join(", ", SupportedModelTypes)}."),
        };

    private List<int> TokenizeToIds(string text, bool isSplitIntoWords)
    {
        text = PrepareForTokenization(text, isSplitIntoWords);
        if (_lowerCaseOutsideAddedTokens)
        {
            text = _addedTokens.LowerCaseOutsideTokens(text);
        }

        var ids = new List<int>();
        foreach (TextPiece piece in _addedTokens.Split(text))
        {
            if (piece.Token is not null)
            {
                ids.Add(piece.Token.Id);
            }
            else
            {
                EncodePiece(piece.Text, ids);
            }
        }

        return ids;
    }

    private string TokenText(int id) => _addedTokens.Tokens.FirstOrDefault(t => t.Id == id)?.Content ?? IdToToken(id);

    private void CheckMaxLength(int? maxLength, bool pair)
    {
        int minimum = SpecialTokenCount(pair) + 1;
        if (maxLength is int max && max < minimum)
        {
            throw new ArgumentOutOfRangeException(nameof(maxLength), max,
                $"maxLength {max} is too small: the {ModelType} tokenizer adds {SpecialTokenCount(pair)} special tokens to " +
                $"{(pair ? "a pair of texts" : "a text")}, so maxLength must be at least {minimum}.");
        }
    }

    private static void TruncateEnd(List<int> ids, List<int>? wordIds, int remove)
    {
        if (remove > 0)
        {
            ids.RemoveRange(ids.Count - remove, remove);
            wordIds?.RemoveRange(wordIds.Count - remove, remove);
        }
    }

    private TokenizedInput Build(List<int> first, List<int>? second, List<int>? firstWordIds)
    {
        int cls = SpecialTokens.Cls;
        int sep = SpecialTokens.Sep;
        var ids = new List<int>(first.Count + (second?.Count ?? 0) + 4) { cls };
        var types = new List<int> { 0 };
        var special = new List<int> { 1 };
        ids.AddRange(first);
        ids.Add(sep);
        types.AddRange(Enumerable.Repeat(0, first.Count + 1));
        special.AddRange(Enumerable.Repeat(0, first.Count));
        special.Add(1);
        if (second is not null)
        {
            int type = SecondSegmentTypeId;
            if (DoubleSeparatorBetweenSegments)
            {
                ids.Add(sep);
                types.Add(type);
                special.Add(1);
            }

            ids.AddRange(second);
            ids.Add(sep);
            types.AddRange(Enumerable.Repeat(type, second.Count + 1));
            special.AddRange(Enumerable.Repeat(0, second.Count));
            special.Add(1);
        }

        int[]? wordIds = null;
        if (firstWordIds is not null)
        {
            wordIds = [-1, .. firstWordIds, -1];
        }

        return new TokenizedInput(ids.ToArray(), types.ToArray(), Enumerable.Repeat(1, ids.Count).ToArray(), special.ToArray(), wordIds);
    }
}

/// <summary>The added tokens of a tokenizer and the ids of its special tokens.</summary>
/// <param name="Splitter">Cuts text at the added tokens.</param>
/// <param name="Ids">The special-token ids.</param>
internal sealed record AddedTokenSetup(AddedTokenSplitter Splitter, SpecialTokenIds Ids);
