// What every layer of an early-exit classifier says about a set of rows, recorded in one full-depth
// pass: the class probabilities of each layer's exit head and each layer's halting probability λ. Any
// exit criterion can then be replayed on the record without running the network again: the criterion's
// decider sees exactly the per-row, per-layer outputs it would see while scoring (a row's outputs up to
// its exit do not depend on when other rows exit), so a replay gives the predictions and exit layers of
// a real early-exit pass, up to the float rounding of differently shaped batches.
using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.Modeling;
using EarlyExit.Tokenization;
using EarlyExit.Training;

namespace EarlyExit.Sweeps;

/// <summary>The per-layer outputs of an <see cref="EarlyExitNetwork"/> on a set of rows.</summary>
public sealed class ClassificationRecord
{
    private readonly float[] _probabilities; // [rows, layers, classes]
    private readonly float[] _halting;       // [rows, layers]; NaN without a halting head
    private readonly ulong[] _rowKeys;

    private ClassificationRecord(int rows, int layers, int classes, bool hasHaltingHead, float[] probabilities, float[] halting, ulong[] rowKeys)
    {
        Rows = rows;
        Layers = layers;
        Classes = classes;
        HasHaltingHead = hasHaltingHead;
        _probabilities = probabilities;
        _halting = halting;
        _rowKeys = rowKeys;
    }

    /// <summary>How many rows were recorded.</summary>
    public int Rows { get; }

    /// <summary>L.</summary>
    public int Layers { get; }

    /// <summary>C.</summary>
    public int Classes { get; }

    /// <summary>Whether halting probabilities were recorded (the model has a halting head).</summary>
    public bool HasHaltingHead { get; }

    /// <summary>The class probabilities of row <paramref name="row"/>'s exit head at layer <paramref name="layer"/> (0-based).</summary>
    public ReadOnlySpan<float> Probabilities(int row, int layer) => _probabilities.AsSpan(((row * Layers) + layer) * Classes, Classes);

    /// <summary>Row <paramref name="row"/>'s halting probability λ at layer <paramref name="layer"/> (0-based); NaN without a halting head.</summary>
    public float Halting(int row, int layer) => _halting[(row * Layers) + layer];

    /// <summary>
    /// Runs <paramref name="inputs"/> through every layer of <paramref name="model"/> in batches of
    /// similar length and records each layer's outputs. The model should be in eval mode.
    /// </summary>
    /// <param name="model">The classifier.</param>
    /// <param name="inputs">Encoded rows.</param>
    /// <param name="padTokenId">The tokenizer's padding id.</param>
    /// <param name="batchSize">Rows run together.</param>
    public static ClassificationRecord Record(EarlyExitNetwork model, IReadOnlyList<TokenizedInput> inputs, int padTokenId, int batchSize = PalbertDefaults.BatchSize)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        model.eval();
        int rows = inputs.Count;
        int layers = model.NumLayers;
        int classes = model.NumLabels;
        (float[] Probabilities, float[] Halting)[] recorded = LengthBatches.Map(inputs, i => i.Length, batchSize, batch =>
        {
            var recorder = new RecordingDecider(batch.Length, layers, classes);
            _ = EarlyExitScoring.ScoreBatch(model, batch, recorder, padTokenId);
            return Enumerable.Range(0, batch.Length).Select(i => (recorder.Probabilities(i).ToArray(), recorder.Halting(i).ToArray())).ToArray();
        });
        float[] probabilities = recorded.SelectMany(r => r.Probabilities).ToArray(); // [rows, layers, classes]
        float[] halting = recorded.SelectMany(r => r.Halting).ToArray();             // [rows, layers]
        return new ClassificationRecord(rows, layers, classes, model.HasHaltingHead, probabilities, halting, inputs.Select(EarlyExitScoring.RowKey).ToArray());
    }

    /// <summary>The predictions and exit layers <paramref name="criterion"/> gives on the recorded rows, without running the network.</summary>
    /// <exception cref="InvalidOperationException">The criterion needs a halting head the model lacks, or a layer past the last.</exception>
    public ClassificationPrediction[] Replay(ExitCriterion criterion)
    {
        ArgumentNullException.ThrowIfNull(criterion);
        ExitDecider decider = criterion.CreateDecider(Rows, Layers, Classes, HasHaltingHead, _rowKeys);
        var predictions = new ClassificationPrediction[Rows];
        for (int row = 0; row < Rows; row++)
        {
            int layer = 0;
            while (!decider.Observe(row, layer, Probabilities(row, layer), Halting(row, layer)))
            {
                layer++;
            }

            float[]? distribution = HasHaltingHead ? HaltingDistribution.FromLambdas(_halting.AsSpan(row * Layers, layer + 1), Layers) : null;
            predictions[row] = new ClassificationPrediction(decider.Prediction(row).ToArray(), decider.ExitLayer(row), distribution);
        }

        return predictions;
    }

    /// <summary>
    /// The oracle exit of every row: the earliest layer whose prediction equals the last layer's
    /// (<paramref name="labels"/> null), or the earliest whose prediction is correct (layer 1 for a row
    /// no layer gets right). It bounds the speed-up any criterion reading these exit heads can reach.
    /// </summary>
    /// <param name="labels">The 0-based true classes, or null for agreement with full depth.</param>
    /// <returns>Each row's 1-based oracle exit layer and the class predicted there.</returns>
    public (int[] ExitLayers, int[] Predicted) Oracle(IReadOnlyList<int>? labels = null)
    {
        if (labels is not null && labels.Count != Rows)
        {
            throw new ArgumentException($"{labels.Count} labels for {Rows} recorded rows.", nameof(labels));
        }

        var exits = new int[Rows];
        var predicted = new int[Rows];
        for (int row = 0; row < Rows; row++)
        {
            int target = labels?[row] ?? Scores.ArgMax(Probabilities(row, Layers - 1));
            int layer = 0;
            while (layer < Layers && Scores.ArgMax(Probabilities(row, layer)) != target)
            {
                layer++;
            }

            layer = layer == Layers ? 0 : layer; // never right: nothing is gained by going deeper
            exits[row] = layer + 1;
            predicted[row] = Scores.ArgMax(Probabilities(row, layer));
        }

        return (exits, predicted);
    }

    /// <summary>A decider that never lets a row go early and keeps what every layer said.</summary>
    private sealed class RecordingDecider(int rows, int layers, int classes) : ExitDecider(rows, layers, classes)
    {
        private readonly float[] _probabilities = new float[rows * layers * classes];
        private readonly float[] _halting = new float[rows * layers];

        public ReadOnlySpan<float> Probabilities(int row) => _probabilities.AsSpan(row * Layers * Classes, Layers * Classes);

        public ReadOnlySpan<float> Halting(int row) => _halting.AsSpan(row * Layers, Layers);

        protected override bool Decide(int row, int layer, ReadOnlySpan<float> probabilities, float halting)
        {
            probabilities.CopyTo(_probabilities.AsSpan(((row * Layers) + layer) * Classes, Classes));
            _halting[(row * Layers) + layer] = halting;
            return false;
        }
    }
}
