// What both fitted transformers share (PalbertTransformer: a prediction per row; TokenEarlyExitNerTransformer:
// a tag per word): the trained model, shared by the transformers made from one another and released by
// the last; the exit criterion, batch size and scoring backend, changed without retraining; Transform
// through the transformer's batch-scoring mapper; dispose; and the model zip's classifier folder.
//
// The backend: TorchSharp runs the trained model itself; ONNX Runtime runs an OnnxClassifier made from it
// (its graphs exported in memory), shared like the model. The TorchSharp model stays: sweeps record on
// it, and the zip saves it with the backend's name.
//
// A derived transformer says five things: how to make itself over the same model with another
// criterion, batch size or backend (With), how to parse a criterion (ParseCriterion), its ONNX Runtime
// scorer (CreateOnnx), its mapper (CreateMapper), and its save entry point (SaveTo, which forwards to
// Interop's ModelPersistence with its own type).
// Everything about its columns, sweep and save format stays in the derived class.
using System.Text.Json;
using EarlyExit.Devices;
using EarlyExit.MLNet.Interop;
using EarlyExit.MLNet.Persistence;
using EarlyExit.MLNet.Schema;
using EarlyExit.MLNet.Scoring;
using EarlyExit.MLNet.Sweeps;
using EarlyExit.OnnxRuntime;
using EarlyExit.Training;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace EarlyExit.MLNet;

/// <summary>
/// A fitted early-exit model as an ML.NET transformer: it scores in batches, each row (or word) leaving
/// the network at the layer its exit criterion allows. The two kinds are
/// <see cref="Palbert.PalbertTransformer"/> and <see cref="TokenEarlyExitNer.TokenEarlyExitNerTransformer"/>.
/// </summary>
/// <typeparam name="TSelf">The transformer type, which <see cref="WithExitCriterion(TCriterion)"/> and <see cref="WithBatchSize"/> return.</typeparam>
/// <typeparam name="TClassifier">The deployable model inside (network, tokenizer, labels).</typeparam>
/// <typeparam name="TCriterion">The kind of exit criterion.</typeparam>
public abstract class EarlyExitTransformer<TSelf, TClassifier, TCriterion> : ITransformer, IDisposable
    where TSelf : EarlyExitTransformer<TSelf, TClassifier, TCriterion>
    where TClassifier : EarlyExitClassifier<TCriterion>
    where TCriterion : class
{
    private readonly SharedModel<TClassifier> _classifier;
    private readonly SharedModel<OnnxClassifier<TCriterion>>? _onnx;
    private bool _disposed;

    /// <summary>Only the two transformers of this library derive from this class.</summary>
    private protected EarlyExitTransformer(IHostEnvironment env, string name, SharedModel<TClassifier> classifier, SharedModel<OnnxClassifier<TCriterion>>? onnx,
        LabelKeyValues? labels, TCriterion criterion, int batchSize, TrainingReport? report)
    {
        Host = env.Register(name);
        _classifier = classifier;
        _onnx = onnx;
        classifier.Model.EnsureSupported(criterion);
        Labels = labels;
        ExitCriterion = criterion;
        BatchSize = batchSize;
        TrainingReport = report;
    }

    /// <summary>The exit criterion this transformer scores with.</summary>
    public TCriterion ExitCriterion { get; }

    /// <summary>The label names, index = 0-based label (key value - 1): the classes, or the tags; empty for a regression model.</summary>
    public IReadOnlyList<string> ClassNames => Labels?.Values ?? [];

    /// <summary>L, the number of layers (and exits).</summary>
    public int NumLayers => _classifier.Model.NumLayers;

    /// <summary>What training did (epochs, losses, validation metrics); null for a loaded model.</summary>
    public TrainingReport? TrainingReport { get; }

    /// <summary>The underlying network, tokenizer and labels, for use outside ML.NET. Owned by the transformer: do not dispose it.</summary>
    public TClassifier Classifier => _classifier.Model;

    /// <summary>What runs the network when this transformer scores; change it with <see cref="WithBackend"/>.</summary>
    public ScoringBackend Backend => _onnx is null ? ScoringBackend.TorchSharp : ScoringBackend.OnnxRuntime;

    /// <inheritdoc />
    public bool IsRowToRowMapper => true;

    /// <summary>The label's key values, or null (regression).</summary>
    internal LabelKeyValues? Labels { get; }

    /// <summary>Rows (for token classification: sentence chunks) scored together; change it with <see cref="WithBatchSize"/>.</summary>
    public int BatchSize { get; }

    /// <summary>The host registered under the transformer's name.</summary>
    private protected IHost Host { get; }

    /// <summary>The ONNX Runtime scorer when the backend is ONNX Runtime, else null.</summary>
    private protected OnnxClassifier<TCriterion>? Onnx => _onnx?.Model;

    /// <summary>
    /// A transformer over the same trained model that scores with <paramref name="criterion"/> instead. No retraining.
    /// </summary>
    /// <exception cref="InvalidOperationException">The criterion needs something the model lacks (a halting head, more layers).</exception>
    public TSelf WithExitCriterion(TCriterion criterion)
    {
        ArgumentNullException.ThrowIfNull(criterion);
        ObjectDisposedException.ThrowIf(_disposed, this);
        _classifier.Model.EnsureSupported(criterion);
        return With(_classifier.Acquire(), _onnx?.Acquire(), criterion, BatchSize);
    }

    /// <summary>A transformer over the same trained model that scores with a setting chosen from a sweep.</summary>
    /// <exception cref="ArgumentException">The setting is an oracle bound, not a criterion.</exception>
    public TSelf WithExitCriterion(SweepSetting setting)
    {
        ArgumentNullException.ThrowIfNull(setting);
        return setting.IsOracle
            ? throw new ArgumentException($"'{setting.Criterion}' is an oracle bound (it needs the answers); choose a setting with FastestWithin or MostAccurateAt.", nameof(setting))
            : WithExitCriterion(ParseCriterion(setting.Criterion));
    }

    /// <summary>A transformer over the same trained model that scores <paramref name="batchSize"/> rows together.</summary>
    public TSelf WithBatchSize(int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return With(_classifier.Acquire(), _onnx?.Acquire(), ExitCriterion, batchSize);
    }

    /// <summary>
    /// A transformer over the same trained model whose network runs on <paramref name="backend"/>. For
    /// <see cref="ScoringBackend.OnnxRuntime"/> the network is exported to ONNX graphs in memory (no files; a few
    /// seconds for a small encoder) and scored by ONNX Runtime on the CPU, with every exit criterion, the same
    /// predictions and exit layers, and probabilities within float rounding. The backend is saved with the model.
    /// </summary>
    /// <param name="backend">TorchSharp (the default) or OnnxRuntime.</param>
    /// <param name="options">ONNX Runtime's threads and graph optimisation; null for the defaults. Not saved with the model.</param>
    /// <exception cref="ArgumentException">Options given for the TorchSharp backend.</exception>
    public TSelf WithBackend(ScoringBackend backend, OnnxRuntimeOptions? options = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        SharedModel<OnnxClassifier<TCriterion>>? onnx = backend switch
        {
            ScoringBackend.TorchSharp when options is not null =>
                throw new ArgumentException("OnnxRuntimeOptions configure the OnnxRuntime backend; pass null for the TorchSharp backend.", nameof(options)),
            ScoringBackend.TorchSharp => null,
            ScoringBackend.OnnxRuntime when options is null && _onnx is not null => _onnx.Acquire(), // already on ONNX Runtime: no new export
            ScoringBackend.OnnxRuntime => new(CreateOnnx(Classifier, options)),
            _ => throw new ArgumentOutOfRangeException(nameof(backend), backend, "Choose ScoringBackend.TorchSharp or ScoringBackend.OnnxRuntime."),
        };
        SharedModel<TClassifier> classifier = _classifier.Acquire();
        try
        {
            return With(classifier, onnx, ExitCriterion, BatchSize);
        }
        catch
        {
            classifier.Release();
            onnx?.Release();
            throw;
        }
    }

    /// <summary>
    /// Scores made-up input at full depth on this transformer's backend, one row and then a batch of
    /// <see cref="BatchSize"/> rows, so that the first real rows do not pay the process's one-time costs
    /// (compiling the scoring code, the first kernels and buffers: 41-101 ms for the first row of
    /// all-MiniLM-L6-v2 cold, 10-22 ms after a warm-up). Call it once after Fit or Load, before serving rows
    /// one at a time with a prediction engine.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The transformer was disposed.</exception>
    public void WarmUp()
    {
        ThrowIfDisposed();
        if (Onnx is { } onnx)
        {
            onnx.WarmUp(BatchSize);
        }
        else
        {
            Classifier.WarmUp(BatchSize);
        }
    }

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => CreateMapper(inputSchema).OutputSchema;

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => CreateMapper(inputSchema);

    /// <summary>Scores <paramref name="input"/> lazily, in batches, as rows are read; output rows keep the input order.</summary>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return CreateMapper(input.Schema).Transform(input);
    }

    /// <summary>Releases the model when no other transformer made from this one still uses it.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _classifier.Release();
            _onnx?.Release();
        }

        GC.SuppressFinalize(this);
    }

    void ICanSaveModel.Save(ModelSaveContext ctx) => SaveTo(ctx);

    /// <summary>
    /// This transformer over <paramref name="classifier"/> (already acquired) and, for the ONNX Runtime backend,
    /// <paramref name="onnx"/> (acquired; null for TorchSharp), with <paramref name="criterion"/> and <paramref name="batchSize"/>.
    /// </summary>
    private protected abstract TSelf With(SharedModel<TClassifier> classifier, SharedModel<OnnxClassifier<TCriterion>>? onnx, TCriterion criterion, int batchSize);

    /// <summary>The ONNX Runtime scorer of <paramref name="classifier"/> (OnnxTextClassifier.FromClassifier, OnnxTokenClassifier.FromClassifier).</summary>
    private protected abstract OnnxClassifier<TCriterion> CreateOnnx(TClassifier classifier, OnnxRuntimeOptions? options);

    /// <summary>Parses a criterion's name (a sweep setting's, a saved one's).</summary>
    private protected abstract TCriterion ParseCriterion(string text);

    /// <summary>The mapper from <paramref name="inputSchema"/> to the output columns.</summary>
    private protected abstract IBatchScoringMapper CreateMapper(DataViewSchema inputSchema);

    /// <summary>Saves through <c>ModelPersistence.Save(this, ctx)</c>, which needs the derived type.</summary>
    private protected abstract void SaveTo(ModelSaveContext ctx);

    /// <summary>
    /// Writes the classifier's saved files as the zip entries <c>folder/file</c>, then the settings JSON
    /// that <paramref name="settings"/> makes from the files' names.
    /// </summary>
    private protected void WriteModel<TSettings>(ModelWriter writer, string folder, Func<string[], TSettings> settings)
    {
        ThrowIfDisposed();
        string[] files = FolderPayload.Write(writer, folder, _classifier.Model.Save);
        writer.Writer.Write(JsonSerializer.Serialize(settings(files)));
    }

    /// <summary>
    /// Reads what <see cref="WriteModel"/> wrote: the settings JSON, then the classifier from the entries
    /// <paramref name="files"/> names (with <paramref name="load"/>, on <c>$EARLYEXIT_DEVICE</c>), wrapped by
    /// <paramref name="wrap"/> (the classifier is disposed if wrapping fails), and moved onto ONNX Runtime
    /// (<see cref="WithBackend"/>) when the settings' <paramref name="backend"/> says so.
    /// </summary>
    /// <exception cref="InvalidDataException">The settings are empty, or the classifier's files are not readable.</exception>
    private protected static TSelf ReadModel<TSettings>(ModelReader reader, string folder, string what, Func<TSettings, IEnumerable<string>> files,
        Func<TSettings, ScoringBackend> backend, Func<string, DeviceOption, TClassifier> load, Func<TSettings, SharedModel<TClassifier>, TSelf> wrap)
    {
        TSettings settings;
        try
        {
            settings = JsonSerializer.Deserialize<TSettings>(reader.Reader.ReadString())
                ?? throw new InvalidDataException($"The {what}'s settings are empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The {what}'s settings are not readable by this version ({e.Message}); it may need a newer EarlyExit.MLNet.", e);
        }

        TSelf loaded = FolderPayload.Read(reader, folder, files(settings), path => load(path, DeviceOption.FromEnvironment()),
            classifier => wrap(settings, new SharedModel<TClassifier>(classifier)));
        if (backend(settings) != ScoringBackend.OnnxRuntime)
        {
            return loaded;
        }

        try
        {
            return loaded.WithBackend(ScoringBackend.OnnxRuntime);
        }
        finally
        {
            loaded.Dispose(); // the transformer on ONNX Runtime holds the model now, or nothing does
        }
    }

    /// <summary>Throws when the transformer was disposed (its mapper checks before every chunk it scores).</summary>
    /// <exception cref="ObjectDisposedException">The transformer was disposed.</exception>
    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
