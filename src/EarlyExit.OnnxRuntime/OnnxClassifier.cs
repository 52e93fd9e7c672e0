// What the two ONNX Runtime scorers share (OnnxTextClassifier: one prediction per text or pair;
// OnnxTokenClassifier: one tag per word), as EarlyExitClassifier<TCriterion> does for the TorchSharp
// classifiers: the manifest, the sessions, the tokenizer, the exit criterion and opening an export, from
// a folder (Load) or from a classifier in this process (FromClassifier, graphs in memory).
using EarlyExit.Checkpoints;
using EarlyExit.Inference;
using EarlyExit.Tokenization;
using EarlyExit.Training;

namespace EarlyExit.OnnxRuntime;

/// <summary>
/// An exported early-exit model scored by ONNX Runtime: <see cref="OnnxTextClassifier"/> or <see cref="OnnxTokenClassifier"/>.
/// </summary>
/// <typeparam name="TCriterion">The kind of exit criterion.</typeparam>
public abstract class OnnxClassifier<TCriterion> : IDisposable
    where TCriterion : class
{
    /// <summary>Only the two scorers of this library derive from this class.</summary>
    private protected OnnxClassifier(Export export)
    {
        Manifest = export.Manifest;
        Graphs = export.Graphs;
        Tokenizer = export.Tokenizer;
        ExitCriterion = export.Criterion;
    }

    /// <summary>The tokenizer of the backbone.</summary>
    public TextTokenizer Tokenizer { get; }

    /// <summary>The label names: the classes of a classifier, the tags of a token classifier, the predicted value's name of a regressor.</summary>
    public IReadOnlyList<string> Labels => Manifest.Labels;

    /// <summary>The longest input in tokens, special tokens included; longer inputs are truncated (texts) or chunked (sentences).</summary>
    public int MaxSequenceLength => Manifest.MaxSequenceLength;

    /// <summary>L, the number of layers (and exits).</summary>
    public int NumLayers => Manifest.NumLayers;

    /// <summary>The exit criterion Predict uses when given none; the export's criterion until set.</summary>
    /// <exception cref="InvalidOperationException">Set to a criterion the model cannot score with.</exception>
    public TCriterion ExitCriterion
    {
        get;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            EnsureSupported(value);
            field = value;
        }
    }

    /// <summary>The manifest.</summary>
    private protected OnnxManifest Manifest { get; }

    /// <summary>The ONNX Runtime sessions.</summary>
    private protected OnnxGraphs Graphs { get; }

    /// <summary>
    /// Scores made-up input at full depth, one row and then <paramref name="batchSize"/> rows, so that the
    /// first real calls do not pay the process's one-time costs (compiling the scoring code, the first
    /// kernels and buffers): call it once after loading, before serving single rows (e.g. a prediction engine).
    /// </summary>
    /// <param name="batchSize">The batch size the real calls will use.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is less than 1.</exception>
    public void WarmUp(int batchSize = FineTuningDefaults.BatchSize) => WarmUpInput.Run(batchSize, rows => PredictWarmUp(rows, batchSize));

    /// <summary>Predicts <paramref name="rows"/> copies of the warm-up input (Inference/WarmUpInput.cs) at full depth.</summary>
    private protected abstract void PredictWarmUp(int rows, int batchSize);

    /// <summary>Throws when <paramref name="criterion"/> needs something this model lacks.</summary>
    /// <exception cref="InvalidOperationException">The criterion cannot score this model; the message names the alternatives.</exception>
    public abstract void EnsureSupported(TCriterion criterion);

    /// <summary>Closes the ONNX Runtime sessions.</summary>
    public void Dispose()
    {
        Graphs.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Opens the export in <paramref name="folder"/> of <paramref name="format"/>; <paramref name="parse"/> reads its criterion.</summary>
    private protected static Export Open(string folder, SavedFolderFormat format, OnnxRuntimeOptions? options, Func<string, TCriterion> parse)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        OnnxManifest manifest = OnnxFolder.ReadManifest(folder, format);
        var (_, tokenizer) = ModelFolder.ReadTokenizer(folder); // the tokenizer files' bytes are not needed: an export is not saved again
        TCriterion criterion;
        try
        {
            criterion = parse(manifest.ExitCriterion ?? string.Empty);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"'{Path.Combine(folder, format.SettingsFile)}' holds an exit criterion this version cannot read: {e.Message}", e);
        }

        return new Export(manifest, OnnxGraphs.Open(folder, manifest, options ?? new OnnxRuntimeOptions()), tokenizer, criterion);
    }

    /// <summary>Exports <paramref name="classifier"/>'s graphs in memory and opens them, with its tokenizer and criterion.</summary>
    private protected static Export Open(EarlyExitClassifier<TCriterion> classifier, OnnxRuntimeOptions? options)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        var models = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        OnnxManifest manifest = classifier.ExportOnnxGraphs((file, model) => models[file] = model);
        return new Export(manifest, OnnxGraphs.Open(models, manifest, options ?? new OnnxRuntimeOptions()), classifier.Tokenizer, classifier.ExitCriterion);
    }

    /// <summary>An opened export, before a scorer owns it.</summary>
    private protected sealed record Export(OnnxManifest Manifest, OnnxGraphs Graphs, TextTokenizer Tokenizer, TCriterion Criterion)
    {
        /// <summary>The scorer <paramref name="create"/> makes of this export; the sessions are closed if it fails.</summary>
        public TScorer Into<TScorer>(Func<Export, TScorer> create)
        {
            try
            {
                return create(this);
            }
            catch
            {
                Graphs.Dispose();
                throw;
            }
        }
    }
}
