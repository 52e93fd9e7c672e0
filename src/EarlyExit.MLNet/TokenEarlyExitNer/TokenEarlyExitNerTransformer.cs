using System.Text.Json.Serialization;
using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.MLNet.Interop;
using EarlyExit.MLNet.Persistence;
using EarlyExit.MLNet.Schema;
using EarlyExit.MLNet.Scoring;
using EarlyExit.MLNet.Sweeps;
using EarlyExit.OnnxRuntime;
using EarlyExit.Training;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace EarlyExit.MLNet.TokenEarlyExitNer;

/// <summary>The column names a <see cref="TokenEarlyExitNerTransformer"/> reads and writes, and its scoring batch size.</summary>
/// <param name="Tokens">The words: a vector of strings, or one string split on whitespace.</param>
/// <param name="PredictedLabel">The predicted tags (vector of keys).</param>
/// <param name="TokenExitLayers">Each word's exit layer (vector of Int32).</param>
/// <param name="ExitLayer">The deepest exit layer of the row (Int32).</param>
/// <param name="BatchSize">Sentences (chunks) scored together.</param>
/// <param name="AuxiliaryPredictedLabels">The predicted tags of each auxiliary task (vector of keys), in the order of the labeller's tasks; null for none.</param>
public sealed record TokenEarlyExitNerColumns(string Tokens, string PredictedLabel, string TokenExitLayers, string ExitLayer, int BatchSize, IReadOnlyList<string>? AuxiliaryPredictedLabels = null);

/// <summary>
/// A fitted token-level early-exit sequence labeller (SENTEE / TOKEE with halt-and-copy) as an ML.NET
/// transformer. It labels rows in batches, computing only the tokens that have not stopped, and adds:
/// <list type="table">
/// <item><term>PredictedLabel</term><description>Vector of Key&lt;UInt32&gt;, one tag per word, with the label's key values.</description></item>
/// <item><term>TokenExitLayers</term><description>Vector of Int32: the 1-based layer each word stopped at.</description></item>
/// <item><term>ExitLayer</term><description>Int32: the deepest layer any word of the row reached.</description></item>
/// <item><term>Each auxiliary task's output</term><description>Vector of Key&lt;UInt32&gt;: the task's tag of each word, read at the task's layer, with the task label's key values.</description></item>
/// </list>
/// A sentence longer than the model's maximum length is labelled in chunks of whole words. Change the
/// criterion (mode, threshold, window) with <c>WithExitCriterion</c>, without retraining.
/// </summary>
public sealed class TokenEarlyExitNerTransformer : EarlyExitTransformer<TokenEarlyExitNerTransformer, EarlyExitTokenClassifier, TokenExitCriterion>,
    IModelPersistable<TokenEarlyExitNerTransformer>
{
    /// <summary>The catalog name of the loader.</summary>
    internal const string LoaderSignature = "EarlyExitTokenNer";

    // *** Binary format ***
    // Model.key body: string  settings JSON (SavedSettings: columns, tag key values, exit criterion, classifier file
    //                         names, the scoring backend, which earlier writers left out: TorchSharp, and the
    //                         auxiliary tasks' key values, absent without tasks)
    // entries:        labeller/<file>  each file of EarlyExitTokenClassifier.Save
    // Version 0x00010001: the first.
    // Version 0x00010002: auxiliary tasks (Columns.AuxiliaryPredictedLabels and AuxiliaryTags). Version-1
    //                     readers would ignore those fields and load a model with tasks without its task
    //                     columns, so they are refused (versionReadable); this reader reads both versions.
    private static readonly ModelFormat s_format = new("EETOKNER", versionWritten: 0x00010002, versionReadable: 0x00010002,
        minVersionReadable: 0x00010001, LoaderSignature);

    private const string ClassifierFolder = "labeller";

    internal TokenEarlyExitNerTransformer(IHostEnvironment env, SharedModel<EarlyExitTokenClassifier> classifier, TokenEarlyExitNerColumns columns, LabelKeyValues tags, TokenExitCriterion criterion, TrainingReport? report,
        IReadOnlyList<LabelKeyValues> taskTags, SharedModel<OnnxClassifier<TokenExitCriterion>>? onnx = null)
        : base(env, nameof(TokenEarlyExitNerTransformer), CheckTasks(classifier, columns, taskTags), onnx, tags, criterion, columns.BatchSize, report)
    {
        Columns = columns;
        Tags = tags;
        TaskTags = taskTags;
    }

    static ModelFormat IModelPersistable<TokenEarlyExitNerTransformer>.Format => s_format;

    /// <summary>The columns read and written.</summary>
    public TokenEarlyExitNerColumns Columns { get; }

    /// <summary>The tags' key values.</summary>
    internal LabelKeyValues Tags { get; }

    /// <summary>Each auxiliary task's key values, in the order of the labeller's tasks (empty for none).</summary>
    internal IReadOnlyList<LabelKeyValues> TaskTags { get; }

    /// <summary>
    /// Sweeps token exit criteria on labelled sentences: one full-depth pass records every layer's
    /// off-ramps, then each setting of <paramref name="grid"/> (default:
    /// <see cref="EarlyExit.Sweeps.ExitGrid.DefaultTokens"/>) is replayed on the record with entity-level
    /// metrics. SENTEE and fixed layers replay exactly; TOKEE's replay is an estimate (halted tokens are
    /// copied upward in a real pass), so the settings on the Pareto front, and full depth, are also run
    /// for real with halt-and-copy, which gives their measured F1 and sentences/s.
    /// </summary>
    /// <param name="data">Rows with this transformer's words column and the gold tags (keys with tag names, or strings).</param>
    /// <param name="grid">The settings, e.g. <c>ExitGrid.ParseTokens("sentee:0.1..0.5/0.1 tokee:0.1..0.5/0.1:3,5")</c>; null for the default grid.</param>
    /// <param name="labelColumnName">The gold tags column.</param>
    /// <param name="measureSpeed">Whether to run and time real passes for full depth and the front.</param>
    /// <exception cref="ArgumentException">An empty grid, a setting past the last layer, no rows, or a gold tag the model does not know (the row is named).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or of the wrong type.</exception>
    public ExitSweep Sweep(IDataView data, IEnumerable<TokenExitCriterion>? grid = null, string labelColumnName = "Label", bool measureSpeed = true)
    {
        ThrowIfDisposed();
        return TokenEarlyExitNerSweep.Run(this, data, grid?.ToList(), labelColumnName, measureSpeed);
    }

    void IModelPersistable<TokenEarlyExitNerTransformer>.SaveModel(ModelWriter writer)
    {
        WriteModel(writer, ClassifierFolder, files => new SavedSettings(Columns, Tags.TypeName, Tags.Values.ToArray(), Tags.HasAnnotation, ExitCriterion.Name, files, Backend,
            TaskTags.Count == 0 ? null : TaskTags.Select(t => new SavedKeyValues(t.TypeName, t.Values.ToArray(), t.HasAnnotation)).ToArray()));
    }

    /// <summary>Reads a transformer written by SaveModel; the model runs on <c>$EARLYEXIT_DEVICE</c> (default auto).</summary>
    static TokenEarlyExitNerTransformer IModelPersistable<TokenEarlyExitNerTransformer>.LoadModel(IHostEnvironment env, ModelReader reader) =>
        ReadModel<SavedSettings>(reader, ClassifierFolder, "token-exit NER transformer", settings => settings.Files, settings => settings.Backend, EarlyExitTokenClassifier.Load,
            (settings, classifier) => new TokenEarlyExitNerTransformer(env, classifier, settings.Columns,
                LabelKeyValues.FromSaved(settings.TagType, settings.Tags, settings.TagsAnnotated), TokenExitCriterion.Parse(settings.ExitCriterion), report: null,
                (settings.AuxiliaryTags ?? []).Select(t => LabelKeyValues.FromSaved(t.TagType, t.Tags, t.TagsAnnotated)).ToArray()));

    /// <summary>Labels sentences on this transformer's backend.</summary>
    internal SentencePrediction[] Predict(IReadOnlyList<IReadOnlyList<string>> sentences, TokenExitCriterion criterion, int batchSize) =>
        Onnx is OnnxTokenClassifier onnx ? onnx.Predict(sentences, criterion, batchSize) : Classifier.Predict(sentences, criterion, batchSize);

    /// <summary>Returns <paramref name="classifier"/> when the columns and key values match its auxiliary tasks (checked before the base takes it).</summary>
    private static SharedModel<EarlyExitTokenClassifier> CheckTasks(SharedModel<EarlyExitTokenClassifier> classifier, TokenEarlyExitNerColumns columns, IReadOnlyList<LabelKeyValues> taskTags)
    {
        int tasks = classifier.Model.AuxiliaryTasks.Count;
        int outputs = columns.AuxiliaryPredictedLabels?.Count ?? 0;
        return outputs == tasks && taskTags.Count == tasks ? classifier : throw new InvalidDataException(
            $"The labeller has {tasks} auxiliary task(s) but the transformer names {outputs} output column(s) and {taskTags.Count} tag set(s) for them; the model file is inconsistent, train it again.");
    }

    private protected override TokenEarlyExitNerTransformer With(SharedModel<EarlyExitTokenClassifier> classifier, SharedModel<OnnxClassifier<TokenExitCriterion>>? onnx, TokenExitCriterion criterion, int batchSize) =>
        new(Host, classifier, Columns with { BatchSize = batchSize }, Tags, criterion, TrainingReport, TaskTags, onnx);

    private protected override OnnxClassifier<TokenExitCriterion> CreateOnnx(EarlyExitTokenClassifier classifier, OnnxRuntimeOptions? options) => OnnxTokenClassifier.FromClassifier(classifier, options);

    private protected override TokenExitCriterion ParseCriterion(string text) => TokenExitCriterion.Parse(text);

    private protected override IBatchScoringMapper CreateMapper(DataViewSchema inputSchema) => new TokenEarlyExitNerMapper(this, inputSchema);

    private protected override void SaveTo(ModelSaveContext ctx) => ModelPersistence.Save(this, ctx);

    private sealed record SavedSettings(TokenEarlyExitNerColumns Columns, string TagType, string[] Tags, bool TagsAnnotated, string ExitCriterion, string[] Files,
        [property: JsonConverter(typeof(JsonStringEnumConverter<ScoringBackend>))] ScoringBackend Backend = ScoringBackend.TorchSharp,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] SavedKeyValues[]? AuxiliaryTags = null);

    private sealed record SavedKeyValues(string TagType, string[] Tags, bool TagsAnnotated);
}
