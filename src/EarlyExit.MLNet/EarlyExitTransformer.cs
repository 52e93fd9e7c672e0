// What both fitted transformers share (PalbertTransformer: a prediction per row; TokenEarlyExitNerTransformer:
// a tag per word): the trained model, shared by the transformers made from one another and released by
// the last; the exit criterion and batch size, changed without retraining; Transform through the
// transformer's batch-scoring mapper; dispose; and the model zip's classifier folder.
//
// A derived transformer says four things: how to make itself over the same model with another
// criterion or batch size (With), how to parse a criterion (ParseCriterion), its mapper (CreateMapper),
// and its save entry point (SaveTo, which forwards to Interop's ModelPersistence with its own type).
// Everything about its columns, sweep and save format stays in the derived class.
using System.Text.Json;
using EarlyExit.Devices;
using EarlyExit.MLNet.Interop;
using EarlyExit.MLNet.Persistence;
using EarlyExit.MLNet.Schema;
using EarlyExit.MLNet.Scoring;
using EarlyExit.MLNet.Sweeps;
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
    private bool _disposed;

    /// <summary>Only the two transformers of this library derive from this class.</summary>
    private protected EarlyExitTransformer(IHostEnvironment env, string name, SharedModel<TClassifier> classifier, LabelKeyValues? labels, TCriterion criterion, int batchSize, TrainingReport? report)
    {
        Host = env.Register(name);
        _classifier = classifier;
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

    /// <inheritdoc />
    public bool IsRowToRowMapper => true;

    /// <summary>The label's key values, or null (regression).</summary>
    internal LabelKeyValues? Labels { get; }

    /// <summary>Rows (for token classification: sentence chunks) scored together; change it with <see cref="WithBatchSize"/>.</summary>
    public int BatchSize { get; }

    /// <summary>The host registered under the transformer's name.</summary>
    private protected IHost Host { get; }

    /// <summary>
    /// A transformer over the same trained model that scores with <paramref name="criterion"/> instead. No retraining.
    /// </summary>
    /// <exception cref="InvalidOperationException">The criterion needs something the model lacks (a halting head, more layers).</exception>
    public TSelf WithExitCriterion(TCriterion criterion)
    {
        ArgumentNullException.ThrowIfNull(criterion);
        ObjectDisposedException.ThrowIf(_disposed, this);
        _classifier.Model.EnsureSupported(criterion);
        return With(_classifier.Acquire(), criterion, BatchSize);
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
        return With(_classifier.Acquire(), ExitCriterion, batchSize);
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
            ReleaseBackend();
        }

        GC.SuppressFinalize(this);
    }

    void ICanSaveModel.Save(ModelSaveContext ctx) => SaveTo(ctx);

    /// <summary>This transformer over <paramref name="classifier"/> (already acquired), with <paramref name="criterion"/> and <paramref name="batchSize"/>.</summary>
    private protected abstract TSelf With(SharedModel<TClassifier> classifier, TCriterion criterion, int batchSize);

    /// <summary>Parses a criterion's name (a sweep setting's, a saved one's).</summary>
    private protected abstract TCriterion ParseCriterion(string text);

    /// <summary>The mapper from <paramref name="inputSchema"/> to the output columns.</summary>
    private protected abstract IBatchScoringMapper CreateMapper(DataViewSchema inputSchema);

    /// <summary>Releases what a derived transformer scores with besides the shared model (called once, on dispose).</summary>
    private protected virtual void ReleaseBackend()
    {
    }

    /// <summary>The shared model, acquired once more, for another transformer over it.</summary>
    private protected SharedModel<TClassifier> AcquireModel()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _classifier.Acquire();
    }

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
    /// <paramref name="files"/> names (with <paramref name="load"/>, on <c>$EARLYEXIT_DEVICE</c>), wrapped
    /// by <paramref name="wrap"/>; the classifier is disposed if wrapping fails.
    /// </summary>
    /// <exception cref="InvalidDataException">The settings are empty, or the classifier's files are not readable.</exception>
    private protected static TSelf ReadModel<TSettings>(ModelReader reader, string folder, string what, Func<TSettings, IEnumerable<string>> files,
        Func<string, DeviceOption, TClassifier> load, Func<TSettings, SharedModel<TClassifier>, TSelf> wrap)
    {
        TSettings settings = JsonSerializer.Deserialize<TSettings>(reader.Reader.ReadString())
            ?? throw new InvalidDataException($"The {what}'s settings are empty.");
        return FolderPayload.Read(reader, folder, files(settings), path => load(path, DeviceOption.FromEnvironment()),
            classifier => wrap(settings, new SharedModel<TClassifier>(classifier)));
    }

    /// <summary>Throws when the transformer was disposed (its mapper checks before every chunk it scores).</summary>
    /// <exception cref="ObjectDisposedException">The transformer was disposed.</exception>
    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
