// An exported early-exit text classifier scored by ONNX Runtime: the deployable of
// EarlyExitTextClassifier.ExportOnnx's folder. It tokenizes as the TorchSharp classifier does, scores
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
public sealed class OnnxTextClassifier : IDisposable
{
    private readonly OnnxManifest _manifest;
    private readonly OnnxGraphs _graphs;

    private OnnxTextClassifier(OnnxManifest manifest, OnnxGraphs graphs, TextTokenizer tokenizer, ExitCriterion criterion)
    {
        _manifest = manifest;
        _graphs = graphs;
        Tokenizer = tokenizer;
        ExitCriterion = criterion;
    }

    /// <summary>The tokenizer of the backbone.</summary>
    public TextTokenizer Tokenizer { get; }

    /// <summary>The class names (for a regression model, the one name of its value).</summary>
    public IReadOnlyList<string> Labels => _manifest.Labels;

    /// <summary>The longest input in tokens, special tokens included; longer inputs are truncated.</summary>
    public int MaxSequenceLength => _manifest.MaxSequenceLength;

    /// <summary>L, the number of layers (and exits).</summary>
    public int NumLayers => _manifest.NumLayers;

    /// <summary>Whether the exits predict a real value rather than class probabilities.</summary>
    public bool IsRegression => _manifest.IsRegression;

    /// <summary>Whether the model has a halting (lambda) head, which Q-exit, sampled and expectation read.</summary>
    public bool HasHaltingHead => _manifest.HasHaltingHead;

    /// <summary>The exit criterion <see cref="Predict"/> uses when given none; the export's criterion until set.</summary>
    /// <exception cref="InvalidOperationException">Set to a criterion the model cannot score with.</exception>
    public ExitCriterion ExitCriterion
    {
        get;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            EnsureSupported(value);
            field = value;
        }
    }

    /// <summary>Opens the ONNX export in <paramref name="folder"/> (written by <see cref="EarlyExitTextClassifier.ExportOnnx"/>).</summary>
    /// <param name="folder">The export folder.</param>
    /// <param name="options">Threads and graph optimisation; null for the defaults.</param>
    /// <exception cref="FileNotFoundException">The folder lacks the manifest or a file it names.</exception>
    /// <exception cref="InvalidDataException">The manifest is invalid or newer than this reader, or ONNX Runtime cannot load a graph.</exception>
    public static OnnxTextClassifier Load(string folder, OnnxRuntimeOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        OnnxManifest manifest = OnnxFolder.ReadManifest(folder);
        var (_, tokenizer) = ModelFolder.ReadTokenizer(folder); // the tokenizer files' bytes are not needed: an export is not saved again
        ExitCriterion criterion;
        try
        {
            criterion = ExitCriterion.Parse(manifest.ExitCriterion ?? string.Empty);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"'{Path.Combine(folder, OnnxFolder.Format.SettingsFile)}' holds an exit criterion this version cannot read: {e.Message}", e);
        }

        OnnxGraphs graphs = OnnxGraphs.Open(folder, manifest, options ?? new OnnxRuntimeOptions());
        try
        {
            return new OnnxTextClassifier(manifest, graphs, tokenizer, criterion);
        }
        catch
        {
            graphs.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The ONNX Runtime backend of a classifier in this process, without files: its graphs are exported in memory
    /// (a few seconds for a small encoder) and opened. It scores the weights as they are now, with the classifier's
    /// tokenizer, labels and exit criterion; the classifier stays usable and can be disposed independently.
    /// </summary>
    /// <param name="classifier">The trained classifier (on any device; its weights are copied).</param>
    /// <param name="options">Threads and graph optimisation; null for the defaults.</param>
    public static OnnxTextClassifier FromClassifier(EarlyExitTextClassifier classifier, OnnxRuntimeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        var models = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        OnnxManifest manifest = classifier.ExportOnnxGraphs((file, model) => models[file] = model);
        OnnxGraphs graphs = OnnxGraphs.Open(models, manifest, options ?? new OnnxRuntimeOptions());
        return new OnnxTextClassifier(manifest, graphs, classifier.Tokenizer, classifier.ExitCriterion);
    }

    /// <summary>Tokenizes one text (or pair) as the model's inputs, truncated to <see cref="MaxSequenceLength"/>.</summary>
    public TokenizedInput Encode(string? text, string? textPair = null) => Tokenizer.Encode(text ?? string.Empty, textPair, MaxSequenceLength);

    /// <summary>
    /// Early-exit predictions for <paramref name="texts"/> (and pairs), in input order: rows are scored
    /// in batches of similar length, and each row stops at the first layer the criterion lets it.
    /// Gives the predictions and exit layers of <see cref="EarlyExitTextClassifier.Predict"/> on the
    /// model it was exported from, up to float rounding.
    /// </summary>
    /// <param name="texts">The first texts.</param>
    /// <param name="textPairs">The second texts, or null for single texts.</param>
    /// <param name="criterion">The exit criterion; null for <see cref="ExitCriterion"/>.</param>
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
        return LengthBatches.Map(inputs, i => i.Length, chunk, rows => OnnxEarlyExitScoring.ScoreChunk(_graphs, _manifest, rows, criterion, batchSize));
    }

    /// <summary>Throws when <paramref name="criterion"/> needs something this model lacks (a halting head, class probabilities, enough layers).</summary>
    /// <exception cref="InvalidOperationException">The criterion cannot score this model; the message names the alternatives.</exception>
    public void EnsureSupported(ExitCriterion criterion)
    {
        ArgumentNullException.ThrowIfNull(criterion);
        criterion.CreateDecider(0, NumLayers, Labels.Count, HasHaltingHead);
    }

    /// <summary>Closes the ONNX Runtime sessions.</summary>
    public void Dispose() => _graphs.Dispose();
}
