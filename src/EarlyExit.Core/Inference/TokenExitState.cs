// The CPU side of token-level early exit: per row, which tokens are still active, each token's latest
// tag and uncertainty, and the SENTEE / TOKEE / fixed-layer decisions. TokenExitScoring feeds it the
// probabilities of each layer; Sweeps/TokenExitRecord replays recorded tags and uncertainties through it.
//
// Decisions are always per token. When the network pools words (TokenExitNetwork.WordPoolingLayer), the
// layers from then on compute one position per unit (a word, or a special token; Modeling/WordPooling):
// PoolWords switches the row's query positions to units, and each layer's probabilities, given per active
// unit, are read by every token of the unit. The pieces of a word always stop together, so a unit is
// active exactly when its tokens are.
using EarlyExit.ExitCriteria;
using EarlyExit.Modeling;
using EarlyExit.Tokenization;

namespace EarlyExit.Inference;

/// <summary>
/// The per-token decision state of one row (CPU): each token's latest class and uncertainty, and the
/// layer it stopped at. Scoring feeds it the active tokens' probabilities layer by layer; a sweep
/// replays recorded classes and uncertainties through the same decisions.
/// </summary>
internal sealed class TokenExitState
{
    private readonly int[] _wordIds;
    private readonly int[] _classes;
    private readonly int[] _exitLayers;
    private readonly double[] _uncertainty;
    private readonly int _labels;
    private readonly int _wordCount;

    // Work buffers of the decisions, reused layer after layer (a state belongs to one row of one pass).
    private readonly bool[] _stop;
    private readonly double[] _wordValues;
    private readonly bool[] _seen;
    private readonly double[] _tokenValues;
    private int[]? _firstPiece; // per word, computed once on first use by TOKEE
    private int[]? _lastPiece;

    private readonly int[]? _recordedClasses;        // [layers, tokens] when recording
    private readonly double[]? _recordedUncertainty; // [layers, tokens] when recording
    private readonly int[][] _auxiliaryClasses;       // [task][tokens], each task's tag of every token
    private int[]? _units;                             // each token's unit once words are pooled, else null
    private int _unitCount;

    public TokenExitState(TokenizedInput input, int index, int labels, int layers, bool record = false, int auxiliaryTasks = 0)
    {
        _wordIds = input.WordIds ?? throw new ArgumentException($"Input {index} has no word ids; encode pre-split words with TextTokenizer.EncodeWords.");
        Length = input.Length;
        _classes = new int[Length];
        _exitLayers = new int[Length];
        _uncertainty = new double[Length];
        _labels = labels;
        _wordCount = _wordIds.Length == 0 ? 0 : _wordIds.Max() + 1;
        ActiveCount = Length;
        _stop = new bool[Length];
        _wordValues = new double[_wordCount];
        _seen = new bool[_wordCount];
        _tokenValues = new double[Length];
        _auxiliaryClasses = Enumerable.Range(0, auxiliaryTasks).Select(_ => new int[Length]).ToArray();
        if (record)
        {
            _recordedClasses = new int[layers * Length];
            _recordedUncertainty = new double[layers * Length];
        }
    }

    /// <summary>Every layer's class and uncertainty of every token, [layers, tokens] row-major, when recorded (and the row ran every layer).</summary>
    public (int[] Classes, double[] Uncertainty)? Recorded => _recordedClasses is null ? null : (_recordedClasses, _recordedUncertainty!);

    public int Length { get; }

    public int ActiveCount { get; private set; }

    /// <summary>The positions the network computes for this row: <see cref="Length"/> tokens, or its units once words are pooled.</summary>
    public int Positions => _units is null ? Length : _unitCount;

    /// <summary>From now on the row's positions are its units (see the file header); returns each token's unit.</summary>
    public int[] PoolWords()
    {
        _units ??= WordPooling.Units(_wordIds, out _unitCount);
        return _units;
    }

    /// <summary>The active positions the network computes, ascending: the active tokens, or once words are pooled their units.</summary>
    public int[] ActiveQueryPositions()
    {
        int[] tokens = ActivePositions();
        if (_units is null)
        {
            return tokens;
        }

        var units = new List<int>(tokens.Length);
        foreach (int t in tokens)
        {
            if (units.Count == 0 || units[^1] != _units[t])
            {
                units.Add(_units[t]);
            }
        }

        return [.. units];
    }

    public int[] ActivePositions()
    {
        var positions = new int[ActiveCount];
        int n = 0;
        for (int t = 0; t < Length; t++)
        {
            if (_exitLayers[t] == 0)
            {
                positions[n++] = t;
            }
        }

        return positions;
    }

    /// <summary>Reads this layer's probabilities of the active query positions (<see cref="ActiveQueryPositions"/>, in order), then decides who stops.</summary>
    public void Observe(int layer, int layers, ReadOnlySpan<float> probabilities, TokenExitCriterion criterion)
    {
        int[] positions = ActivePositions();
        int q = -1;
        int unit = -1;
        foreach (int t in positions)
        {
            // Each token reads its query position's row: its own, or its unit's, shared by the unit's tokens.
            if (_units is null || _units[t] != unit)
            {
                q++;
                unit = _units?[t] ?? t;
            }

            ReadOnlySpan<float> p = probabilities.Slice(q * _labels, _labels);
            _classes[t] = Scores.ArgMax(p);
            _uncertainty[t] = EntropyExitCriterion.NormalizedEntropy(p);
            if (_recordedClasses is not null)
            {
                _recordedClasses[(layer * Length) + t] = _classes[t];
                _recordedUncertainty![(layer * Length) + t] = _uncertainty[t];
            }
        }

        Decide(layer, layers, positions, criterion);
    }

    /// <summary>Takes this layer's recorded class and uncertainty for the active tokens (all tokens' values given, in position order), then decides who stops.</summary>
    public void Replay(int layer, int layers, ReadOnlySpan<int> classes, ReadOnlySpan<double> uncertainty, TokenExitCriterion criterion)
    {
        int[] positions = ActivePositions();
        foreach (int t in positions)
        {
            _classes[t] = classes[t];
            _uncertainty[t] = uncertainty[t];
        }

        Decide(layer, layers, positions, criterion);
    }

    private void Decide(int layer, int layers, int[] positions, TokenExitCriterion criterion)
    {
        bool last = layer == layers - 1;
        bool[] stop = _stop;
        Array.Clear(stop);
        switch (criterion.Mode)
        {
            case TokenExitMode.FixedLayer:
                Array.Fill(stop, layer + 1 >= criterion.Layer);
                break;
            case TokenExitMode.Sentee:
                Array.Fill(stop, SentenceUncertainty(criterion) < criterion.Threshold);
                break;
            case TokenExitMode.Tokee:
                DecideTokee(criterion, stop);
                break;
        }

        foreach (int t in positions)
        {
            if (stop[t] || last)
            {
                _exitLayers[t] = layer + 1;
                ActiveCount--;
            }
        }
    }

    /// <summary>Auxiliary task <paramref name="task"/>'s tag of every position of the row (its first <see cref="Positions"/> entries), read by each token.</summary>
    public void SetAuxiliary(int task, ReadOnlySpan<long> classes)
    {
        int[] target = _auxiliaryClasses[task];
        for (int t = 0; t < target.Length; t++)
        {
            target[t] = (int)classes[_units?[t] ?? t];
        }
    }

    public TokenPrediction ToPrediction()
    {
        int[][]? auxiliary = _auxiliaryClasses.Length == 0 ? null : _auxiliaryClasses.Select(FirstPieces).ToArray();
        return new TokenPrediction(_classes, _exitLayers, FirstPieces(_classes), FirstPieces(_exitLayers), auxiliary);
    }

    // Each word's value: its first piece's.
    private int[] FirstPieces(int[] tokenValues)
    {
        var words = new int[_wordCount];
        for (int t = Length - 1; t >= 0; t--)
        {
            // Walking backwards leaves each word's first piece as the one written last.
            if (_wordIds[t] >= 0)
            {
                words[_wordIds[t]] = tokenValues[t];
            }
        }

        return words;
    }

    // Each word's uncertainty: the largest over its pieces, or its first piece's (a reused buffer).
    private double[] WordUncertainty(WordPieceUncertainty pieces)
    {
        double[] words = _wordValues;
        bool[] seen = _seen;
        Array.Clear(seen);
        for (int t = 0; t < Length; t++)
        {
            int w = _wordIds[t];
            if (w < 0)
            {
                continue;
            }

            words[w] = !seen[w] ? _uncertainty[t] : pieces == WordPieceUncertainty.AllPieces ? Math.Max(words[w], _uncertainty[t]) : words[w];
            seen[w] = true;
        }

        return words;
    }

    private double SentenceUncertainty(TokenExitCriterion criterion)
    {
        double[] words = WordUncertainty(criterion.Pieces);
        if (words.Length == 0)
        {
            return 0;
        }

        return criterion.Pooling == SentencePooling.Max ? words.Max() : words.Average();
    }

    // A word (all its pieces) stops when the largest uncertainty within half a window before its first
    // piece and after its last piece is below the threshold; a token outside any word (a special
    // token) by its own window. Tokens outside words count with uncertainty 0.
    private void DecideTokee(TokenExitCriterion criterion, bool[] stop)
    {
        double[] words = WordUncertainty(criterion.Pieces);
        double[] value = _tokenValues;
        for (int t = 0; t < Length; t++)
        {
            value[t] = _wordIds[t] >= 0 ? words[_wordIds[t]] : 0;
        }

        int half = criterion.Window / 2;
        if (_firstPiece is null)
        {
            _firstPiece = Enumerable.Repeat(-1, _wordCount).ToArray();
            _lastPiece = new int[_wordCount];
            for (int t = 0; t < Length; t++)
            {
                int w = _wordIds[t];
                if (w >= 0)
                {
                    _firstPiece[w] = _firstPiece[w] < 0 ? t : _firstPiece[w];
                    _lastPiece[w] = t;
                }
            }
        }

        int[] first = _firstPiece;
        int[] last = _lastPiece!;
        for (int t = 0; t < Length; t++)
        {
            int w = _wordIds[t];
            int from = Math.Max(0, (w >= 0 ? first[w] : t) - half);
            int to = Math.Min(Length - 1, (w >= 0 ? last[w] : t) + half);
            double max = 0;
            for (int s = from; s <= to; s++)
            {
                max = Math.Max(max, value[s]);
            }

            stop[t] = max < criterion.Threshold;
        }
    }

}
