// What every layer's off-ramp of a token-level early-exit labeller says about every token, recorded in
// one full-depth pass: each token's predicted tag and normalised-entropy uncertainty at each layer.
// Token exit criteria are replayed on the record through the same per-row decision code scoring uses
// (TokenExitState), without running the network again.
//
// Exactness: fixed-layer and SENTEE decisions replay exactly (a sentence runs every layer until it stops
// as a whole, so its tokens see exactly the recorded states). TOKEE replays approximately: in a real
// pass a halted token's state is copied upward, so later layers of its still-active neighbours attend
// to the frozen state instead of the one the full-depth pass computed. Sweeps therefore report TOKEE's
// replayed figures as estimates and confirm chosen settings with a real halt-and-copy pass.
using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.Modeling;
using EarlyExit.Tokenization;
using EarlyExit.Training;

namespace EarlyExit.Sweeps;

/// <summary>The per-layer token tags and uncertainties of a <see cref="TokenExitNetwork"/> on a set of word-encoded rows.</summary>
internal sealed class TokenExitRecord
{
    private readonly TokenizedInput[] _inputs;
    private readonly int[][] _classes;        // per row: [layers, tokens]
    private readonly double[][] _uncertainty; // per row: [layers, tokens]

    private TokenExitRecord(TokenizedInput[] inputs, int layers, int labels, int[][] classes, double[][] uncertainty)
    {
        _inputs = inputs;
        Layers = layers;
        Labels = labels;
        _classes = classes;
        _uncertainty = uncertainty;
    }

    /// <summary>How many rows were recorded.</summary>
    public int Rows => _inputs.Length;

    /// <summary>L.</summary>
    public int Layers { get; }

    /// <summary>The number of tags.</summary>
    public int Labels { get; }

    /// <summary>Row <paramref name="row"/>'s predicted tag of every token at layer <paramref name="layer"/> (0-based).</summary>
    public ReadOnlySpan<int> Classes(int row, int layer) => _classes[row].AsSpan(layer * _inputs[row].Length, _inputs[row].Length);

    /// <summary>Row <paramref name="row"/>'s normalised-entropy uncertainty of every token at layer <paramref name="layer"/> (0-based).</summary>
    public ReadOnlySpan<double> Uncertainty(int row, int layer) => _uncertainty[row].AsSpan(layer * _inputs[row].Length, _inputs[row].Length);

    /// <summary>
    /// Runs <paramref name="inputs"/> (from <see cref="TextTokenizer.EncodeWords"/>) through every layer
    /// of <paramref name="model"/> in batches of similar length and records each layer's off-ramp.
    /// </summary>
    /// <param name="model">The labeller.</param>
    /// <param name="inputs">Word-encoded rows.</param>
    /// <param name="padTokenId">The tokenizer's padding id.</param>
    /// <param name="batchSize">Rows run together.</param>
    public static TokenExitRecord Record(TokenExitNetwork model, IReadOnlyList<TokenizedInput> inputs, int padTokenId, int batchSize = TokenExitDefaults.BatchSize)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        model.eval();
        (int[] Classes, double[] Uncertainty)[] recorded = LengthBatches.Map(inputs, i => i.Length, batchSize, batch =>
        {
            var states = new TokenExitState[batch.Length];
            _ = TokenExitScoring.ScoreBatch(model, batch, TokenExitCriterion.Full(), padTokenId, haltAndCopy: true, states);
            return states.Select(state => state.Recorded!.Value).ToArray();
        });
        int[][] classes = recorded.Select(r => r.Classes).ToArray();
        double[][] uncertainty = recorded.Select(r => r.Uncertainty).ToArray();
        return new TokenExitRecord(inputs.ToArray(), model.NumLayers, model.NumLabels, classes, uncertainty);
    }

    /// <summary>The tags and exit layers <paramref name="criterion"/> gives on the recorded rows, without running the network (TOKEE: an estimate; see the file header).</summary>
    /// <exception cref="ArgumentException">A fixed layer past the last.</exception>
    public TokenPrediction[] Replay(TokenExitCriterion criterion)
    {
        ArgumentNullException.ThrowIfNull(criterion);
        if (criterion.Mode == TokenExitMode.FixedLayer && criterion.Layer > Layers)
        {
            throw new ArgumentException($"Token exit criterion '{criterion}' asks for layer {criterion.Layer}, but the model has {Layers} layers.", nameof(criterion));
        }

        var predictions = new TokenPrediction[Rows];
        for (int row = 0; row < Rows; row++)
        {
            var state = new TokenExitState(_inputs[row], row, Labels, Layers);
            for (int layer = 0; layer < Layers && state.ActiveCount > 0; layer++)
            {
                state.Replay(layer, Layers, Classes(row, layer), Uncertainty(row, layer), criterion);
            }

            predictions[row] = state.ToPrediction();
        }

        return predictions;
    }

    /// <summary>
    /// The oracle of every row's words: each word stops at the earliest layer whose tag (its first
    /// piece's) equals the last layer's (<paramref name="wordLabels"/> null) or the gold tag (layer 1 for
    /// a word no layer gets right). It bounds the speed-up of any criterion reading these off-ramps.
    /// </summary>
    /// <param name="wordLabels">Each row's 0-based gold tag per word, or null for agreement with full depth.</param>
    /// <returns>Each row's word exit layers (1-based) and the tags predicted there.</returns>
    public (int[][] WordExitLayers, int[][] WordClasses) Oracle(IReadOnlyList<IReadOnlyList<int>>? wordLabels = null)
    {
        if (wordLabels is not null && wordLabels.Count != Rows)
        {
            throw new ArgumentException($"{wordLabels.Count} label rows for {Rows} recorded rows.", nameof(wordLabels));
        }

        var exits = new int[Rows][];
        var tags = new int[Rows][];
        for (int row = 0; row < Rows; row++)
        {
            int[] firstPieces = FirstPieces(_inputs[row]);
            exits[row] = new int[firstPieces.Length];
            tags[row] = new int[firstPieces.Length];
            for (int w = 0; w < firstPieces.Length; w++)
            {
                int t = firstPieces[w];
                if (t < 0)
                {
                    continue; // a word without tokens; SentenceChunks gives it its tag and layer
                }

                int target = wordLabels?[row][w] ?? Classes(row, Layers - 1)[t];
                int layer = 0;
                while (layer < Layers && Classes(row, layer)[t] != target)
                {
                    layer++;
                }

                layer = layer == Layers ? 0 : layer;
                exits[row][w] = layer + 1;
                tags[row][w] = Classes(row, layer)[t];
            }
        }

        return (exits, tags);
    }

    // The position of each word's first piece.
    private static int[] FirstPieces(TokenizedInput input)
    {
        int[] wordIds = input.WordIds!;
        int words = wordIds.Length == 0 ? 0 : wordIds.Max() + 1;
        var first = Enumerable.Repeat(-1, words).ToArray();
        for (int t = 0; t < wordIds.Length; t++)
        {
            if (wordIds[t] >= 0 && first[wordIds[t]] < 0)
            {
                first[wordIds[t]] = t;
            }
        }

        return first;
    }
}
