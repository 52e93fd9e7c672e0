// ALBERT: transformers' AlbertTokenizer over a SentencePiece unigram model (spiece.model).
//
// Per piece of text between added tokens (the base class has already lower-cased it per character):
//   1. preprocess_text: remove_space (Python " ".join(text.split())), `` and '' become ", NFKD with
//      combining marks dropped unless keep_accents, lower-case (whole-string Python lower) if do_lower_case;
//   2. SentencePiece: the model's normaliser (SentencePieceTextNormalizer), then the unigram best
//      path with runs of unknown characters merged into one <unk> (SentencePieceUnigram). Both are
//      ours: Microsoft.ML.Tokenizers' SentencePieceTokenizer (2.0.1 and 3.0.0) cannot load this model and, once
//      patched to load, gives different ids (SentencePieceUnigram lists why);
//   3. the digit-comma rule: a piece ending in a digit and "," ("▁1,") is encoded again without the
//      comma, and the comma becomes its own piece; a "▁" the re-encoding adds in front of a piece
//      that had none is removed again, and pieces are turned into ids by vocabulary lookup (<unk> when
//      the shortened piece is not in the vocabulary), as AlbertTokenizer does.
using System.Text;

namespace EarlyExit.Tokenization;

/// <summary>The ALBERT tokenizer (SentencePiece unigram with AlbertTokenizer's pre- and post-processing).</summary>
internal sealed class AlbertTextTokenizer : TextTokenizer
{
    /// <summary>The SentencePiece model file of a Hugging Face ALBERT folder.</summary>
    public const string ModelFile = "spiece.model";

    private const char SpaceSymbol = '\u2581';

    private static readonly Dictionary<string, (string Content, bool LStrip)> s_defaults = new()
    {
        ["bos_token"] = ("[CLS]", false),
        ["eos_token"] = ("[SEP]", false),
        ["unk_token"] = ("<unk>", false),
        ["sep_token"] = ("[SEP]", false),
        ["pad_token"] = ("<pad>", false),
        ["cls_token"] = ("[CLS]", false),
        ["mask_token"] = ("[MASK]", true),
    };

    private readonly SentencePieceUnigram _model;
    private readonly SentencePieceTextNormalizer _normalizer;
    private readonly IReadOnlyList<string> _pieces;
    private readonly Dictionary<string, int> _pieceIds;
    private readonly int _unknownId;
    private readonly bool _doLowerCase;
    private readonly bool _removeSpace;
    private readonly bool _keepAccents;

    private AlbertTextTokenizer(TokenizerFolder folder, SentencePieceModelFile file, Dictionary<string, int> pieceIds,
        AddedTokenSetup addedTokens, bool doLowerCase, bool removeSpace, bool keepAccents)
        : base(AlbertModelType, folder, addedTokens, file.Pieces.Count, doLowerCase)
    {
        _model = new SentencePieceUnigram(file);
        _normalizer = new SentencePieceTextNormalizer(file);
        _pieces = file.Pieces;
        _pieceIds = pieceIds;
        _unknownId = file.UnknownId;
        _doLowerCase = doLowerCase;
        _removeSpace = removeSpace;
        _keepAccents = keepAccents;
    }

    /// <summary>Loads spiece.model and the AlbertTokenizer options (do_lower_case, remove_space, keep_accents) of a folder.</summary>
    public static AlbertTextTokenizer Load(TokenizerFolder folder)
    {
        string path = folder.RequireFile(ModelFile, AlbertModelType);
        SentencePieceModelFile file = SentencePieceModelFile.Read(path);
        var pieceIds = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 0; id < file.Pieces.Count; id++)
        {
            pieceIds.TryAdd(file.Pieces[id], id);
        }

        AddedTokenSetup addedTokens = ResolveAddedTokens(folder, s_defaults, p => pieceIds.TryGetValue(p, out int id) ? id : null, file.Pieces.Count);
        return new AlbertTextTokenizer(folder, file, pieceIds, addedTokens,
            folder.GetBool("do_lower_case", true), folder.GetBool("remove_space", true), folder.GetBool("keep_accents", false));
    }

    private protected override void EncodePiece(string piece, List<int> ids)
    {
        foreach ((string text, int id) in EncodeAsPieces(Preprocess(piece)))
        {
            if (PythonText.Length(text) > 1 && text[^1] == ',' && PythonText.IsDigit(PythonText.CodePoints(text[..^1])[^1]))
            {
                List<(string Text, int Id)> again = EncodeAsPieces(text[..^1].Replace(SpaceSymbol.ToString(), string.Empty, StringComparison.Ordinal));
                if (text[0] != SpaceSymbol && again.Count > 0 && again[0].Text[0] == SpaceSymbol)
                {
                    if (again[0].Text.Length == 1)
                    {
                        again.RemoveAt(0);
                    }
                    else
                    {
                        string shortened = again[0].Text[1..];
                        again[0] = (shortened, PieceToId(shortened));
                    }
                }

                ids.AddRange(again.Select(p => p.Id));
                ids.Add(PieceToId(","));
            }
            else
            {
                ids.Add(id);
            }
        }
    }

    private protected override string IdToToken(int id) => id >= 0 && id < _pieces.Count ? _pieces[id] : _pieces[_unknownId];

    // AlbertTokenizer.preprocess_text.
    private string Preprocess(string text)
    {
        if (_removeSpace)
        {
            text = string.Join(' ', PythonText.Split(text));
        }

        text = text.Replace("``", "\"", StringComparison.Ordinal).Replace("''", "\"", StringComparison.Ordinal);
        if (!_keepAccents)
        {
            string decomposed = PythonText.Normalize(text, NormalizationForm.FormKD);
            var builder = new StringBuilder(decomposed.Length);
            for (int i = 0; i < decomposed.Length;)
            {
                int cp = PythonText.CodePointAt(decomposed, i, out int length);
                if (!PythonText.IsCombining(cp))
                {
                    builder.Append(decomposed, i, length);
                }

                i += length;
            }

            text = builder.ToString();
        }

        return _doLowerCase ? PythonText.Lower(text) : text;
    }

    // SentencePieceProcessor.EncodeAsPieces: normalise, then segment.
    private List<(string Text, int Id)> EncodeAsPieces(string text) => _model.Encode(_normalizer.Normalize(text));

    private int PieceToId(string piece) => _pieceIds.TryGetValue(piece, out int id) ? id : _unknownId;
}
