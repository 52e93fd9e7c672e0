// Batched token-level early-exit scoring of a TokenExitClassifier (SENTEE, TOKEE) with halt-and-copy.
//
// One batch runs layer by layer. At each layer only the still-active tokens are computed: their
// positions go to TransformerEncoder.ForwardLayer as a queryIndex (queries, residuals and the
// feed-forward run for them alone, keys and values span every token of the row), the results are
// scattered back, and halted tokens keep their hidden state (copied upward). The off-ramp of the layer
// gives the active tokens' tag probabilities; the criterion decides on the CPU which tokens (or whole
// sentences) stop. Rows whose tokens have all stopped leave the batch.
//
// HaltAndCopy = false runs the reference computation instead: every token through the full layer,
// then the halted tokens' states restored. Both give the same decisions (tested); only the first
// saves work.
using EarlyExit.ExitCriteria;
using EarlyExit.Modeling;
using EarlyExit.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace EarlyExit.Inference;

/// <summary>The token-level early-exit prediction of one row.</summary>
/// <param name="TokenClasses">The predicted tag of every token (special tokens and word pieces included), 0-based.</param>
/// <param name="TokenExitLayers">The 1-based layer every token stopped at.</param>
/// <param name="WordClasses">The predicted tag of every word: its first piece's.</param>
/// <param name="WordExitLayers">The 1-based layer every word stopped at (its pieces stop together).</param>
public sealed record TokenPrediction(int[] TokenClasses, int[] TokenExitLayers, int[] WordClasses, int[] WordExitLayers)
{
    /// <summary>The deepest layer any token of the row reached.</summary>
    public int ExitLayer => TokenExitLayers.Length == 0 ? 0 : TokenExitLayers.Max();
}

/// <summary>Scores word-encoded rows with a <see cref="TokenExitClassifier"/> under a <see cref="TokenExitCriterion"/>.</summary>
public static class TokenExitScoring
{
    /// <summary>
    /// Scores <paramref name="inputs"/> (from <see cref="TextTokenizer.EncodeWords"/>, so with word ids)
    /// as one batch. The model should be in eval mode; no gradients are recorded.
    /// </summary>
    /// <param name="model">The classifier.</param>
    /// <param name="inputs">Word-encoded rows (at least one), each within the encoder's length limit.</param>
    /// <param name="criterion">When tokens stop.</param>
    /// <param name="padTokenId">The tokenizer's padding id.</param>
    /// <param name="haltAndCopy">True (default): compute only the active tokens. False: the reference computation (every token, then restore the halted ones).</param>
    /// <returns>One prediction per input, in input order.</returns>
    /// <exception cref="ArgumentException">An input has no word ids, or a fixed layer is past the last layer.</exception>
    public static TokenPrediction[] ScoreBatch(TokenExitClassifier model, IReadOnlyList<TokenizedInput> inputs, TokenExitCriterion criterion, int padTokenId, bool haltAndCopy = true) =>
        ScoreBatch(model, inputs, criterion, padTokenId, haltAndCopy, recorded: null);

    /// <summary>
    /// As the public overload; with <paramref name="recorded"/>, each row's state also keeps every
    /// layer's token classes and uncertainties (<see cref="TokenExitState.Recorded"/>).
    /// </summary>
    internal static TokenPrediction[] ScoreBatch(TokenExitClassifier model, IReadOnlyList<TokenizedInput> inputs, TokenExitCriterion criterion, int padTokenId, bool haltAndCopy,
        TokenExitState[]? recorded)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(criterion);
        if (criterion.Mode == TokenExitMode.FixedLayer && criterion.Layer > model.NumLayers)
        {
            throw new ArgumentException($"Token exit criterion '{criterion}' asks for layer {criterion.Layer}, but the model has {model.NumLayers} layers.", nameof(criterion));
        }

        if (inputs.Count == 0)
        {
            return [];
        }

        var rows = inputs.Select((input, i) => new TokenExitState(input, i, model.NumLabels, model.NumLayers, record: recorded is not null)).ToArray();
        if (recorded is not null)
        {
            rows.CopyTo(recorded, 0);
        }
        Device device = model.parameters().First().device;
        TransformerEncoder encoder = model.Encoder;
        using var noGrad = no_grad();
        using var batchScope = NewDisposeScope();
        using TokenBatch batch = TokenBatch.Collate(inputs, padTokenId, device);
        Tensor hidden = encoder.Embed(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask);
        Tensor attention = batch.AttentionMask;
        AttentionMask mask = encoder.PrepareMask(attention);
        TokenExitState[] active = rows;
        try
        {
            for (int layer = 0; layer < model.NumLayers && active.Length > 0; layer++)
            {
                Tensor nextHidden;
                Tensor? nextAttention = null;
                TokenExitState[] remaining;
                using (var layerScope = NewDisposeScope())
                {
                    // The active positions of each row; padding slots repeat a real active position, so a
                    // scatter writes the same value twice and nothing else.
                    int queries = active.Max(r => r.ActiveCount);
                    long[] index = new long[active.Length * queries];
                    for (int b = 0; b < active.Length; b++)
                    {
                        int[] positions = active[b].ActivePositions();
                        for (int q = 0; q < queries; q++)
                        {
                            index[(b * queries) + q] = positions[Math.Min(q, positions.Length - 1)];
                        }
                    }

                    Tensor queryIndex = tensor(index, [active.Length, queries], ScalarType.Int64, device); // [R, Q]
                    Tensor gatherIndex = queryIndex.unsqueeze(-1).expand(active.Length, queries, hidden.shape[2]); // [R, Q] -> [R, Q, H]
                    Tensor activeStates;
                    if (haltAndCopy)
                    {
                        activeStates = encoder.ForwardLayer(layer, hidden, mask, queryIndex); // [R, Q, H]
                        nextHidden = hidden.scatter(1, gatherIndex, activeStates);
                    }
                    else
                    {
                        Tensor full = encoder.ForwardLayer(layer, hidden, mask); // [R, T, H]
                        Tensor isActive = zeros(hidden.shape[0], hidden.shape[1], ScalarType.Bool, device)
                            .scatter(1, queryIndex, ones(active.Length, queries, ScalarType.Bool, device)); // [R, T]
                        nextHidden = where(isActive.unsqueeze(-1), full, hidden);
                        activeStates = nextHidden.gather(1, gatherIndex); // [R, T, H] -> [R, Q, H]
                    }

                    float[] probabilities = model.TokenLogits(layer, activeStates).softmax(-1).cpu().data<float>().ToArray(); // [R, Q, C]
                    for (int b = 0; b < active.Length; b++)
                    {
                        active[b].Observe(layer, model.NumLayers, probabilities.AsSpan(b * queries * model.NumLabels, queries * model.NumLabels), criterion);
                    }

                    remaining = active.Where(r => r.ActiveCount > 0).ToArray();
                    if (remaining.Length == 0)
                    {
                        break;
                    }

                    if (remaining.Length < active.Length)
                    {
                        // Finished rows leave the batch; the rest keep only their longest length.
                        long[] keep = active.Select((r, b) => (r, b)).Where(p => p.r.ActiveCount > 0).Select(p => (long)p.b).ToArray();
                        Tensor keepIndex = tensor(keep, ScalarType.Int64, device);
                        long longest = remaining.Max(r => r.Length);
                        nextHidden = nextHidden.index_select(0, keepIndex).narrow(1, 0, longest); // [R, T, H] -> [R', T', H]
                        nextAttention = attention.index_select(0, keepIndex).narrow(1, 0, longest); // [R, T] -> [R', T']
                        nextAttention.MoveToOuterDisposeScope();
                    }

                    nextHidden.MoveToOuterDisposeScope();
                }

                if (nextAttention is not null)
                {
                    mask.Dispose();
                    mask = encoder.PrepareMask(nextAttention);
                    if (!ReferenceEquals(attention, batch.AttentionMask))
                    {
                        attention.Dispose();
                    }

                    attention = nextAttention;
                }

                hidden.Dispose();
                hidden = nextHidden;
                active = remaining;
            }
        }
        finally
        {
            mask.Dispose();
        }

        return rows.Select(r => r.ToPrediction()).ToArray();
    }
}

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

    private readonly int[]? _recordedClasses;        // [layers, tokens] when recording
    private readonly double[]? _recordedUncertainty; // [layers, tokens] when recording

    public TokenExitState(TokenizedInput input, int index, int labels, int layers, bool record = false)
    {
        _wordIds = input.WordIds ?? throw new ArgumentException($"Input {index} has no word ids; encode pre-split words with TextTokenizer.EncodeWords.");
        Length = input.Length;
        _classes = new int[Length];
        _exitLayers = new int[Length];
        _uncertainty = new double[Length];
        _labels = labels;
        _wordCount = _wordIds.Length == 0 ? 0 : _wordIds.Max() + 1;
        ActiveCount = Length;
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

    /// <summary>Reads this layer's probabilities of the active tokens (in position order), then decides who stops.</summary>
    public void Observe(int layer, int layers, ReadOnlySpan<float> probabilities, TokenExitCriterion criterion)
    {
        int[] positions = ActivePositions();
        for (int q = 0; q < positions.Length; q++)
        {
            ReadOnlySpan<float> p = probabilities.Slice(q * _labels, _labels);
            int t = positions[q];
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
        bool[] stop = new bool[Length];
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

    public TokenPrediction ToPrediction()
    {
        var wordClasses = new int[_wordCount];
        var wordExits = new int[_wordCount];
        for (int t = Length - 1; t >= 0; t--)
        {
            // Walking backwards leaves each word's first piece as the one written last.
            if (_wordIds[t] >= 0)
            {
                wordClasses[_wordIds[t]] = _classes[t];
                wordExits[_wordIds[t]] = _exitLayers[t];
            }
        }

        return new TokenPrediction(_classes, _exitLayers, wordClasses, wordExits);
    }

    // Each word's uncertainty: the largest over its pieces, or its first piece's.
    private double[] WordUncertainty(WordPieceUncertainty pieces)
    {
        var words = new double[_wordCount];
        var seen = new bool[_wordCount];
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
        var value = new double[Length];
        for (int t = 0; t < Length; t++)
        {
            value[t] = _wordIds[t] >= 0 ? words[_wordIds[t]] : 0;
        }

        int half = criterion.Window / 2;
        var first = Enumerable.Repeat(-1, _wordCount).ToArray();
        var last = new int[_wordCount];
        for (int t = 0; t < Length; t++)
        {
            int w = _wordIds[t];
            if (w >= 0)
            {
                first[w] = first[w] < 0 ? t : first[w];
                last[w] = t;
            }
        }

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
