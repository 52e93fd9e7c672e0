// An exported early-exit text classifier scored by ONNX Runtime: the deployable of a text classifier's
// ExportOnnx folder (Load), or of its graphs exported in memory (FromClassifier). It tokenizes as the TorchSharp classifier does, scores
// in batches of rows of similar length with per-row exit (OnnxEarlyExitScoring), and takes any exit
// criterion the model supports, changed without retraining. No TorchSharp code runs, so a deployment
// needs ONNX Runtime's native library and not libtorch.
using EarlyExit.Checkpoints;
using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.Tokenization;
using EarlyExit.Training;

namespace EarlyExit.OnnxRuntime;

/// <summary>Scores an ONNX export of an <see cref="EarlyExitTextClassifier"/> with early exit on ONNX Runtime.</summary>
public sealed class OnnxTextClassifier : OnnxClassifier<ExitCriterion>
{
    private OnnxTextClassifier(Export export)
        : base(export)
    {
    }

    /// <summary>Whether the exits predict a real value rather than class probabilities.</summary>
    public bool IsRegression => Manifest.IsRegression;

    /// <summary>Whether the model has a halting (lambda) head, which Q-exit, sampled and expectation read.</summary>
    public bool HasHaltingHead => Manifest.HasHaltingHead;

    /// <summary>Opens the ONNX export in <paramref name="folder"/> (written by <see cref="EarlyExitClassifier{TCriterion}.ExportOnnx"/>).</summary>
    /// <param name="folder">The export folder.</param>
    /// <param name="options">Threads and graph optimisation; null for the defaults.</param>
    /// <exception cref="FileNotFoundException">The folder lacks the manifest or a file it names.</exception>
    /// <exception cref="InvalidDataException">The manifest is invalid, newer than this reader or of a token classifier, or ONNX Runtime cannot load a graph.</exception>
    public static OnnxTextClassifier Load(string folder, OnnxRuntimeOptions? options = null) =>
        Open(folder, OnnxFolder.Format, options, ExitCriterion.Parse).Into(e => new OnnxTextClassifier(e));

    /// <summary>
    /// The ONNX Runtime backend of a classifier in this process, without files: its graphs are exported in memory
    /// (a few seconds for a small encoder) and opened. It scores the weights as they are now, with the classifier's
    /// tokenizer, labels and exit criterion; the classifier stays usable and can be disposed independently.
    /// </summary>
    /// <param name="classifier">The trained classifier (on any device; its weights are copied).</param>
    /// <param name="options">Threads and graph optimisation; null for the defaults.</param>
    public static OnnxTextClassifier FromClassifier(EarlyExitTextClassifier classifier, OnnxRuntimeOptions? options = null) =>
        Open(classifier, options).Into(e => new OnnxTextClassifier(e));

    /// <summary>Tokenizes one text (or pair) as the model's inputs, truncated to <see cref="OnnxClassifier{TCriterion}.MaxSequenceLength"/>.</summary>
    public TokenizedInput Encode(string? text, string? textPair = null) => Tokenizer.Encode(text ?? string.Empty, textPair, MaxSequenceLength);

    /// <summary>
    /// Early-exit predictions for <paramref name="texts"/> (and pairs), in input order: rows are scored
    /// in batches of similar length, and each row stops at the first layer the criterion lets it.
    /// Gives the predictions and exit layers of <see cref="EarlyExitTextClassifier.Predict"/> on the
    /// model it was exported from, up to float rounding.
    /// </summary>
    /// <param name="texts">The first texts.</param>
    /// <param name="textPairs">The second texts, or null for single texts.</param>
    /// <param name="criterion">The exit criterion; null for <see cref="OnnxClassifier{TCriterion}.ExitCriterion"/>.</param>
    /// <param name="batchSize">Rows scored together.</param>
    /// <exception cref="InvalidOperationException">The criterion needs something the model lacks.</exception>
    public ClassificationPrediction[] Predict(IReadOnlyList<string?> texts, IReadOnlyList<string?>? textPairs = null, ExitCriterion? criterion = null, int batchSize = PalbertDefaults.BatchSize)
    {
        criterion ??= ExitCriterion;
        EnsureSupported(criterion);
        return Predict(Tokenizer.EncodeAll(texts, textPairs, MaxSequenceLength), criterion, batchSize);
    }

    /// <summary>
    /// Early-exit predictions for inputs already tokenized (by <see cref="Encode"/>), the criterion already checked.
    /// <paramref name="batchesPerChunk"/> batches go through the layers together, the rows still running regrouped
    /// after each layer (OnnxEarlyExitScoring); 1, the default, gave the same speed or better (bench/BackendSpeed --regroup).
    /// </summary>
    internal ClassificationPrediction[] Predict(IReadOnlyList<TokenizedInput> inputs, ExitCriterion criterion, int batchSize, int batchesPerChunk = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (inputs.FirstOrDefault(i => i.Length > MaxSequenceLength) is TokenizedInput tooLong)
        {
            throw new ArgumentException($"An input has {tooLong.Length} tokens but the model takes at most {MaxSequenceLength}; encode it with Encode, which truncates.", nameof(inputs));
        }

        int chunk = (int)Math.Min((long)batchSize * batchesPerChunk, int.MaxValue);
        return LengthBatches.Map(inputs, i => i.Length, chunk, rows => OnnxEarlyExitScoring.ScoreChunk(Graphs, Manifest, rows, criterion, batchSize));
    }

    private protected override void PredictWarmUp(int rows, int batchSize) =>
        Predict(Enumerable.Repeat<string?>(WarmUpInput.Text, rows).ToArray(), textPairs: null, ExitCriterion.Full(), batchSize);

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The criterion needs a halting head, class probabilities or more layers than the model has.</exception>
    public override void EnsureSupported(ExitCriterion criterion)
    {
        ArgumentNullException.ThrowIfNull(criterion);
        criterion.CreateDecider(0, NumLayers, Labels.Count, HasHaltingHead);
    }
}
