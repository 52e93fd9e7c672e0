using System.Text.Json.Serialization;
using EarlyExit.Evaluation;
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

namespace EarlyExit.MLNet.Palbert;

/// <summary>The column names a <see cref="PalbertTransformer"/> reads and writes, and its scoring batch size.</summary>
/// <param name="Sentence1">The text column.</param>
/// <param name="Sentence2">The second text column of pairs, or null.</param>
/// <param name="PredictedLabel">The predicted-label output (key); null for a regression model, which has none.</param>
/// <param name="Score">The class-probability output (classification) or the predicted value (regression).</param>
/// <param name="ExitLayer">The exit-layer output (Int32, 1-based).</param>
/// <param name="HaltingDistribution">The halting-distribution output (models with a halting head).</param>
/// <param name="BatchSize">Rows scored together.</param>
public sealed record PalbertColumns(string Sentence1, string? Sentence2, string? PredictedLabel, string Score, string ExitLayer, string HaltingDistribution, int BatchSize);

/// <summary>
/// A fitted early-exit text classifier or regressor (PALBERT and its baselines) as an ML.NET
/// transformer. It scores in batches, exiting each row as early as its <see cref="ExitCriterion"/>
/// allows, and adds the columns:
/// <list type="table">
/// <item><term>PredictedLabel</term><description>Classifiers: Key&lt;UInt32&gt; with the label's key values (MapKeyToValue gives the class back).</description></item>
/// <item><term>Score</term><description>Classifiers: Vector&lt;Single&gt; of class probabilities at the exit layer (the mixture for <c>expectation</c>).
/// Regressors: Single, the predicted value (the halting-weighted mean for <c>expectation</c>).</description></item>
/// <item><term>ExitLayer</term><description>Int32, the 1-based layer the row exited at.</description></item>
/// <item><term>HaltingDistribution</term><description>Vector&lt;Single&gt; p_1..p_L, for models with a halting head; NaN for layers a row never reached.</description></item>
/// </list>
/// Change the criterion without retraining with <c>WithExitCriterion</c>, and what runs the network with
/// <c>WithBackend</c> (TorchSharp, or ONNX Runtime on the CPU). Saved and loaded by
/// <c>mlContext.Model.Save</c>/<c>Load</c> with everything inside the zip.
/// </summary>
public sealed class PalbertTransformer : EarlyExitTransformer<PalbertTransformer, EarlyExitTextClassifier, ExitCriterion>, IModelPersistable<PalbertTransformer>
{
    /// <summary>The catalog name of the loader.</summary>
    internal const string LoaderSignature = "EarlyExitPalbert";

    // *** Binary format ***
    // Model.key body: string  settings JSON (SavedSettings: columns, label key values, exit criterion, classifier file
    //                         names, and the scoring backend, which earlier writers left out: TorchSharp)
    // entries:        classifier/<file>  each file of EarlyExitTextClassifier.Save (config.json, model.safetensors,
    //                                    classifier.json, tokenizer files)
    // Version 0x00010001: the first. Version 0x00010002: regression models, whose settings have no
    // label type and values (null). Classifiers are written as before, so version-1 readers still read
    // them; a regression model's classifier.json needs classifier format 2, so an old reader stops there
    // and asks for an update.
    private static readonly ModelFormat s_format = new("EEPALBRT", versionWritten: 0x00010002, versionReadable: 0x00010001,
        minVersionReadable: 0x00010001, LoaderSignature);

    private const string ClassifierFolder = "classifier";

    internal PalbertTransformer(IHostEnvironment env, SharedModel<EarlyExitTextClassifier> classifier, PalbertColumns columns, LabelKeyValues? labels, ExitCriterion criterion, TrainingReport? report,
        SharedModel<OnnxClassifier<ExitCriterion>>? onnx = null)
        : base(env, nameof(PalbertTransformer), classifier, onnx, labels, criterion, columns.BatchSize, report)
    {
        Columns = columns;
    }

    /// <summary>The save format (interop).</summary>
    static ModelFormat IModelPersistable<PalbertTransformer>.Format => s_format;

    /// <summary>The columns read and written.</summary>
    public PalbertColumns Columns { get; }

    /// <summary>Whether the model predicts a value (Score is Single; no PredictedLabel) rather than a class.</summary>
    public bool IsRegression => Classifier.IsRegression;

    /// <summary>Whether the model has a halting head (Q-exit, sampled and expectation criteria need one).</summary>
    public bool HasHaltingHead => Classifier.Model.HasHaltingHead;

    /// <summary>
    /// Sweeps exit criteria on labelled data: one full-depth pass records every layer's outputs, then each
    /// setting of <paramref name="grid"/> (default: <see cref="EarlyExit.Sweeps.ExitGrid.Default"/>) is
    /// replayed on the record, without running the network again. Full depth and the settings on the
    /// Pareto front are then timed with real early-exit passes.
    /// </summary>
    /// <param name="data">Rows with this transformer's text column(s) and the label as keys (the training pipeline's MapValueToKey output).</param>
    /// <param name="grid">The settings, e.g. <c>ExitGrid.Parse("qexit:0.1..0.9/0.1 patience:1..6")</c>; null for the default grid.</param>
    /// <param name="metric">The metric of the Pareto front and of selection (all four are reported).</param>
    /// <param name="labelColumnName">The label column (Key&lt;UInt32&gt; with this model's classes).</param>
    /// <param name="measureSpeed">Whether to time real passes for full depth and the front (rows/s).</param>
    /// <param name="positiveLabel">The class F1 is computed for, by value; null for "1", else "true", else the second class in ordinal order (<see cref="PositiveClass.Resolve"/>).</param>
    /// <exception cref="ArgumentException">An empty grid, a setting the model cannot serve, no rows, a missing label (the row is named), or a positive label that is not a class.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or of the wrong type.</exception>
    public ExitSweep Sweep(IDataView data, IEnumerable<ExitCriterion>? grid = null, ClassificationMetric metric = ClassificationMetric.Accuracy, string labelColumnName = "Label",
        bool measureSpeed = true, string? positiveLabel = null)
    {
        ThrowIfDisposed();
        if (IsRegression)
        {
            throw new NotSupportedException(
                "Sweep compares classification metrics; this is a regression model. Record its layers with Classifier.Record(...) and replay criteria on the record (ClassificationRecord.Replay), then score with EarlyExitRegressionMetrics.Compute.");
        }

        return PalbertSweep.Run(this, data, grid?.ToList(), metric, labelColumnName, measureSpeed, positiveLabel);
    }

    /// <summary>Writes the transformer (see the binary format above).</summary>
    void IModelPersistable<PalbertTransformer>.SaveModel(ModelWriter writer)
    {
        WriteModel(writer, ClassifierFolder, files => new SavedSettings(Columns, Labels?.TypeName, Labels?.Values.ToArray(), Labels?.HasAnnotation ?? false, ExitCriterion.Name, files, Backend));
    }

    /// <summary>
    /// Reads a transformer written by SaveModel. The model runs on <c>$EARLYEXIT_DEVICE</c> (auto, cpu,
    /// cuda, cuda:N; default auto: CUDA when usable); move it later with <c>Classifier.MoveTo</c>.
    /// </summary>
    static PalbertTransformer IModelPersistable<PalbertTransformer>.LoadModel(IHostEnvironment env, ModelReader reader) =>
        ReadModel<SavedSettings>(reader, ClassifierFolder, "Palbert transformer", settings => settings.Files, settings => settings.Backend, EarlyExitTextClassifier.Load,
            (settings, classifier) => new PalbertTransformer(env, classifier, settings.Columns,
                classifier.Model.IsRegression ? null : LabelKeyValues.FromSaved(
                    settings.LabelType ?? throw new InvalidDataException("The Palbert transformer's settings lack the label type of a classifier."),
                    settings.Labels ?? throw new InvalidDataException("The Palbert transformer's settings lack the class names of a classifier."), settings.LabelsAnnotated),
                ExitCriterion.Parse(settings.ExitCriterion), report: null));

    /// <summary>Early-exit predictions of the texts (and pairs) on this transformer's backend.</summary>
    internal ClassificationPrediction[] Predict(IReadOnlyList<string?> texts, IReadOnlyList<string?>? pairs, ExitCriterion criterion, int batchSize) =>
        Onnx is OnnxTextClassifier onnx ? onnx.Predict(texts, pairs, criterion, batchSize) : Classifier.Predict(texts, pairs, criterion, batchSize);

    private protected override PalbertTransformer With(SharedModel<EarlyExitTextClassifier> classifier, SharedModel<OnnxClassifier<ExitCriterion>>? onnx, ExitCriterion criterion, int batchSize) =>
        new(Host, classifier, Columns with { BatchSize = batchSize }, Labels, criterion, TrainingReport, onnx);

    private protected override OnnxClassifier<ExitCriterion> CreateOnnx(EarlyExitTextClassifier classifier, OnnxRuntimeOptions? options) => OnnxTextClassifier.FromClassifier(classifier, options);

    private protected override ExitCriterion ParseCriterion(string text) => ExitCriterion.Parse(text);

    private protected override IBatchScoringMapper CreateMapper(DataViewSchema inputSchema) => new PalbertMapper(this, inputSchema);

    private protected override void SaveTo(ModelSaveContext ctx) => ModelPersistence.Save(this, ctx);

    private sealed record SavedSettings(PalbertColumns Columns, string? LabelType, string[]? Labels, bool LabelsAnnotated, string ExitCriterion, string[] Files,
        [property: JsonConverter(typeof(JsonStringEnumConverter<ScoringBackend>))] ScoringBackend Backend = ScoringBackend.TorchSharp);
}
