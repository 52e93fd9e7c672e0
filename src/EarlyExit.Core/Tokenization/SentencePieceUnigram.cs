// SentencePiece's unigram segmentation (sentencepiece 0.1.9x, unigram_model.cc EncodeOptimized plus
// the unknown-run merging of sentencepiece_processor.cc): the best-scoring split of normalised text
// into vocabulary pieces, found left to right.
//
// Why this is not Microsoft.ML.Tokenizers' SentencePieceTokenizer, which implements the same search.
// Found in 2.0.1 and checked again in 3.0.0 (2026-12-03, bench/tokenizers-check.sh, on the golden
// texts of albert-base-v2); each point changes ids on real input:
//   - it cannot load ALBERT's spiece.model: models without <s>/</s> (bos_id = eos_id = -1) make its
//     constructor index an array with -1 (IndexOutOfRangeException, still in 3.0.0). With the model's
//     bos/eos ids patched so that it loads, 3.0.0 and AlbertTokenizer's preprocessing reproduce 43 of
//     the 57 untruncated golden texts; the differences are the points below;
//   - its normaliser leaves some of the model's rules unapplied (see SentencePieceTextNormalizer);
//   - it adds path scores in float. sentencepiece adds a piece's score in double (the user-defined
//     bonus `length * max_score - 0.1` makes the expression double) and stores the best score of a
//     position as float, so exact or near ties are decided differently: "Soooooo" must give
//     ▁so oooo o (golden text43), the float search gives ▁so o oooo (3.0.0 too);
//   - it returns one <unk> per unknown character; sentencepiece merges each run into one piece
//     (我爱自然语言处理 is ▁ + one <unk>; 3.0.0 gives eight);
//   - its user-defined-symbol bonus uses the largest score of all pieces, sentencepiece the largest
//     score of normal pieces floored at FLT_MIN (so the bonus is about -0.1). Read in 2.0.1's source;
//     no golden text exercises it.
namespace EarlyExit.Tokenization;

/// <summary>Unigram best-path segmentation over a SentencePiece vocabulary.</summary>
internal sealed class SentencePieceUnigram
{
    // sentencepiece: constexpr float kUnkPenalty = 10.0.
    private const float UnknownPenalty = 10.0f;

    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _pieces;
    private readonly IReadOnlyList<float> _scores;
    private readonly IReadOnlyList<int> _types;
    private readonly int _maxPieceLength;
    private readonly float _maxScore;
    private readonly float _unknownScore;

    public SentencePieceUnigram(SentencePieceModelFile model)
    {
        if (model.ModelType != 1)
        {
            throw new NotSupportedException($"Only SentencePiece unigram models are supported; this spiece.model has model_type {model.ModelType}.");
        }

        if (model.ByteFallback)
        {
            throw new NotSupportedException("SentencePiece models with byte_fallback are not supported (ALBERT models do not use it).");
        }

        // The search looks up normal, user-defined and unused pieces (unused ones are then skipped),
        // as sentencepiece's trie does; control, unknown and byte pieces are never matched in text.
        var pieces = new Dictionary<string, int>(StringComparer.Ordinal);
        float minScore = float.MaxValue;
        float maxScore = BitConverter.Int32BitsToSingle(0x00800000); // FLT_MIN (smallest normal positive float): sentencepiece's start value.
        for (int id = 0; id < model.Pieces.Count; id++)
        {
            int type = model.Types[id];
            if (type is SentencePieceModelFile.NormalType or SentencePieceModelFile.UserDefinedType or SentencePieceModelFile.UnusedType)
            {
                pieces.TryAdd(model.Pieces[id], id);
                _maxPieceLength = Math.Max(_maxPieceLength, model.Pieces[id].Length);
            }

            if (type == SentencePieceModelFile.NormalType)
            {
                minScore = Math.Min(minScore, model.Scores[id]);
                maxScore = Math.Max(maxScore, model.Scores[id]);
            }
        }

        _pieces = pieces.GetAlternateLookup<ReadOnlySpan<char>>();
        _scores = model.Scores;
        _types = model.Types;
        _maxScore = maxScore;
        _unknownScore = minScore - UnknownPenalty;
        UnknownId = model.UnknownId;
    }

    /// <summary>The id of the unknown piece.</summary>
    public int UnknownId { get; }

    /// <summary>
    /// The pieces of <paramref name="normalized"/> (the output of <see cref="SentencePieceTextNormalizer"/>),
    /// in order, each with its id; a run of unknown characters is one piece with <see cref="UnknownId"/>.
    /// </summary>
    public List<(string Piece, int Id)> Encode(string normalized)
    {
        int size = normalized.Length;
        var pieces = new List<(string, int)>();
        if (size == 0)
        {
            return pieces;
        }

        // Best path ending at each UTF-16 position: its score (stored as float), where its last piece starts, that piece's id.
        var bestScore = new float[size + 1];
        var startsAt = new int[size + 1];
        var ids = new int[size + 1];
        Array.Fill(startsAt, -1);

        int start = 0;
        while (start < size)
        {
            float tillHere = bestScore[start];
            bool hasSingleCharacterPiece = false;
            int charLength = char.IsHighSurrogate(normalized[start]) && start + 1 < size && char.IsLowSurrogate(normalized[start + 1]) ? 2 : 1;
            int utf8Length = 0;
            int maxEnd = Math.Min(size, start + _maxPieceLength);
            for (int end = start + 1; end <= maxEnd; end++)
            {
                char last = normalized[end - 1];
                utf8Length += last < 0x80 ? 1 : last < 0x800 ? 2 : char.IsSurrogate(last) ? 2 : 3;
                if (char.IsHighSurrogate(last) || !_pieces.TryGetValue(normalized.AsSpan(start, end - start), out int id)
                    || _types[id] == SentencePieceModelFile.UnusedType)
                {
                    continue;
                }

                // User-defined symbols get a bonus so they always win; note the double arithmetic.
                double score = _types[id] == SentencePieceModelFile.UserDefinedType ? ((float)utf8Length * _maxScore) - 0.1 : _scores[id];
                double candidate = score + tillHere;
                if (startsAt[end] == -1 || candidate > bestScore[end])
                {
                    bestScore[end] = (float)candidate;
                    startsAt[end] = start;
                    ids[end] = id;
                }

                if (end - start == charLength)
                {
                    hasSingleCharacterPiece = true;
                }
            }

            if (!hasSingleCharacterPiece)
            {
                int end = start + charLength;
                float candidate = _unknownScore + tillHere;
                if (startsAt[end] == -1 || candidate > bestScore[end])
                {
                    bestScore[end] = candidate;
                    startsAt[end] = start;
                    ids[end] = UnknownId;
                }
            }

            start += charLength;
        }

        for (int end = size; end > 0; end = startsAt[end])
        {
            pieces.Add((normalized[startsAt[end]..end], ids[end]));
        }

        pieces.Reverse();
        return MergeUnknownRuns(pieces);
    }

    private List<(string Piece, int Id)> MergeUnknownRuns(List<(string Piece, int Id)> pieces)
    {
        var merged = new List<(string Piece, int Id)>(pieces.Count);
        foreach ((string piece, int id) in pieces)
        {
            if (id == UnknownId && merged.Count > 0 && merged[^1].Id == UnknownId)
            {
                merged[^1] = (merged[^1].Piece + piece, id);
            }
            else
            {
                merged.Add((piece, id));
            }
        }

        return merged;
    }
}
