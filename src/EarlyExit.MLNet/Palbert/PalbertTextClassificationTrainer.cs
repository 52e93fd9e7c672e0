// The ML.NET trainer of early-exit text classifiers (PALBERT and its baselines).
//
// Fit: check the schema (before anything expensive) -> read label keys and texts into memory as
// strings -> load the backbone -> build the heads -> tokenize -> train (Core's ClassifierTrainer,
// reporting progress to mlContext.Log and Options.Progress) -> PalbertTransformer.
// The rows are held as token-id arrays, never as tensors; each batch becomes tensors only for its step.
using System.Diagnostics;
using EarlyExit.Training;
using EarlyExit.MLNet.Interop;
using EarlyExit.MLNet.Logging;
using EarlyExit.MLNet.Persistence;
using EarlyExit.MLNet.Schema;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace EarlyExit.MLNet.Palbert;

/// <summary>
/// Trains an early-exit text classifier on a transformer backbone (ALBERT, BERT, ELECTRA, RoBERTa):
/// PALBERT (halting heads, Q-exit) by default, or PonderNet, PABEE, DeeBERT-style and fixed-depth
/// baselines through <see cref="Options"/>. Create it with
/// <c>mlContext.MulticlassClassification.Trainers.Palbert(...)</c>.
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>Column</term><description>Type and role</description></listheader>
/// <item><term>Label (input)</term><description>Key&lt;UInt32&gt;: put <c>Transforms.Conversion.MapValueToKey</c> before the trainer.</description></item>
/// <item><term>Sentence1, Sentence2 (input)</term><description>String; the second only for sentence-pair tasks.</description></item>
/// <item><term>PredictedLabel (output)</term><description>Key&lt;UInt32&gt; with the label's key values.</description></item>
/// <item><term>Score (output)</term><description>Vector&lt;Single&gt; of class probabilities at the exit layer.</description></item>
/// <item><term>ExitLayer (output)</term><description>Int32, the 1-based layer each row exited at.</description></item>
/// <item><term>HaltingDistribution (output)</term><description>Vector&lt;Single&gt; of L halting probabilities (models with a halting head).</description></item>
/// </list>
/// </remarks>
public sealed partial class PalbertTextClassificationTrainer : IEstimator<PalbertTransformer>
{
    private readonly IHost _host;
    private readonly IHostEnvironment _env;
    private readonly Options _options;

    /// <summary>Creates the trainer; every option is checked now and all problems are reported together.</summary>
    /// <exception cref="ArgumentException">Some options are invalid; the message lists each.</exception>
    internal PalbertTextClassificationTrainer(IHostEnvironment env, Options options)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(options);
        IReadOnlyList<string> problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid Palbert options: " + string.Join(" ", problems), nameof(options));
        }

        _env = env;
        _host = env.Register("Palbert");
        _options = options;
    }

    /// <summary>Trains on <paramref name="input"/> (holding out <see cref="Options.ValidationFraction"/> of it for validation, if set).</summary>
    public PalbertTransformer Fit(IDataView input) => Fit(input, validationData: null);

    /// <summary>Trains on <paramref name="trainData"/>, selecting the best epoch (and stopping early, if set) on <paramref name="validationData"/>.</summary>
    /// <param name="trainData">The training rows.</param>
    /// <param name="validationData">Validation rows with the same columns, or null (then <see cref="Options.ValidationFraction"/> applies).</param>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or of the wrong type; the message names it and the fix.</exception>
    /// <exception cref="ArgumentException">The data has fewer than two classes, or early stopping has no validation data.</exception>
    public PalbertTransformer Fit(IDataView trainData, IDataView? validationData)
    {
        ArgumentNullException.ThrowIfNull(trainData);
        var (label, text1, text2) = CheckColumns(trainData.Schema, "training data");
        if (validationData is not null)
        {
            CheckColumns(validationData.Schema, "validation data");
        }

        int classes = (int)((KeyDataViewType)label.Type).Count;
        LabelKeyValues labels = LabelKeyValues.FromColumn(label, classes);
        if (classes < 2)
        {
            throw OneClass(labels.Values.FirstOrDefault() ?? "?", "its key has a single value");
        }
        if (_options.EarlyStoppingPatience > 0 && validationData is null && _options.ValidationFraction == 0)
        {
            throw new ArgumentException(
                $"EarlyStoppingPatience is {_options.EarlyStoppingPatience} but there is no validation data: set ValidationFraction (e.g. 0.1) or pass validation data to Fit.");
        }

        using IChannel ch = _host.Start("Training");
        List<Row> rows = ReadRows(trainData, label, text1, text2, ch, "training");
        CheckClasses(rows, labels);
        List<Row>? validationRows = validationData is null ? null : ReadRows(validationData, validationData.Schema[_options.LabelColumnName], validationData.Schema[_options.Sentence1ColumnName],
            _options.Sentence2ColumnName is null ? null : validationData.Schema[_options.Sentence2ColumnName], ch, "validation");
        if (validationRows is null && _options.ValidationFraction > 0)
        {
            (rows, validationRows) = Split(rows, _options.ValidationFraction, _options.Seed);
        }

        var backboneOptions = new PretrainedEncoderOptions { FromScratch = _options.FromScratch, Seed = _options.Seed, Device = _options.Device, Hub = _options.Hub };
        using PretrainedEncoder backbone = PretrainedEncoder.LoadBackbone(_options.Backbone, backboneOptions);
        ch.Info(MessageSensitivity.None, $"Backbone {backbone.Source}{(backbone.HasRandomWeights ? " with random weights" : "")}: {backbone.Config.ModelType}, {backbone.Config.NumHiddenLayers} layers, hidden {backbone.Config.HiddenSize}, on {backbone.Device}.");
        if (_options.MaxSequenceLength > backbone.MaxSequenceLength)
        {
            throw new ArgumentException($"MaxSequenceLength is {_options.MaxSequenceLength} but backbone '{_options.Backbone}' takes at most {backbone.MaxSequenceLength} tokens.");
        }

        var classifier = EarlyExitTextClassifier.Create(backbone, labels.Values, _options.ToHeadsConfig(classes), _options.MaxSequenceLength, _options.EffectiveExitCriterion, _options.Seed);
        try
        {
            var clock = Stopwatch.StartNew();
            List<ClassificationExample> training = Encode(classifier, rows);
            List<ClassificationExample>? validation = validationRows is null ? null : Encode(classifier, validationRows);
            int truncated = training.Count(e => e.Input.Length == classifier.MaxSequenceLength);
            ch.Info(MessageSensitivity.None, $"Tokenized {training.Count} training and {validation?.Count ?? 0} validation rows in {clock.Elapsed.TotalSeconds:0.0} s; " +
                $"{truncated} training rows reach MaxSequenceLength {classifier.MaxSequenceLength} (longer texts are truncated).");

            TrainingReport report = ClassifierTrainer.Train(classifier.Model, training, validation, _options.ToTrainingOptions(), classifier.PadTokenId,
                new ProgressLog(ch, _options.Progress), _options.CancellationToken);
            ch.Info(MessageSensitivity.None, $"Training done: {report.Epochs.Count} epoch(s), keeping epoch {report.BestEpoch}{(report.StoppedEarly ? " (stopped early)" : "")}.");
            var columns = new PalbertColumns(_options.Sentence1ColumnName, _options.Sentence2ColumnName, _options.PredictedLabelColumnName, _options.ScoreColumnName,
                _options.ExitLayerColumnName, _options.HaltingDistributionColumnName, _options.BatchSize);
            return new PalbertTransformer(_env, new SharedModel<EarlyExitTextClassifier>(classifier), columns, labels, _options.EffectiveExitCriterion, report);
        }
        catch
        {
            classifier.Dispose();
            throw;
        }
    }

    /// <summary>The input schema plus PredictedLabel, Score, ExitLayer and (with a halting head) HaltingDistribution.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or of the wrong type; the message names it and the fix.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaShape.Column label = FindShapeColumn(inputSchema, _options.LabelColumnName, "LabelColumnName");
        if (!label.IsKey || label.Kind != SchemaShape.Column.VectorKind.Scalar)
        {
            throw LabelNotKey(_options.LabelColumnName, label.ItemType.ToString());
        }

        foreach (var (name, option) in TextColumns())
        {
            SchemaShape.Column text = FindShapeColumn(inputSchema, name, option);
            if (text.ItemType is not TextDataViewType || text.Kind != SchemaShape.Column.VectorKind.Scalar)
            {
                throw TextNotString(name, option, text.ItemType.ToString());
            }
        }

        var outputs = new List<SchemaShape.Column>
        {
            OutputSchemaShapes.PredictedLabel(label, _options.PredictedLabelColumnName),
            OutputSchemaShapes.Score(label, _options.ScoreColumnName),
            OutputSchemaShapes.Int32Scalar(_options.ExitLayerColumnName),
        };
        if (_options.Halting != Modeling.HaltingVariant.None)
        {
            outputs.Add(MLNetInternals.CreateColumn(_options.HaltingDistributionColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single));
        }

        var names = outputs.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        return new SchemaShape(inputSchema.Where(c => !names.Contains(c.Name)).Concat(outputs));
    }

    private (DataViewSchema.Column Label, DataViewSchema.Column Text1, DataViewSchema.Column? Text2) CheckColumns(DataViewSchema schema, string what)
    {
        DataViewSchema.Column label = InputColumns.Require(schema, _options.LabelColumnName, "LabelColumnName", what);
        if (label.Type is not KeyDataViewType key || key.RawType != typeof(uint))
        {
            throw LabelNotKey(_options.LabelColumnName, label.Type.ToString());
        }

        DataViewSchema.Column? text2 = null;
        DataViewSchema.Column text1 = default;
        foreach (var (name, option) in TextColumns())
        {
            DataViewSchema.Column text = InputColumns.RequireText(schema, name, option, what);
            if (option == "Sentence1ColumnName")
            {
                text1 = text;
            }
            else
            {
                text2 = text;
            }
        }

        return (label, text1, text2);
    }

    private IEnumerable<(string Name, string Option)> TextColumns()
    {
        yield return (_options.Sentence1ColumnName, "Sentence1ColumnName");
        if (_options.Sentence2ColumnName is not null)
        {
            yield return (_options.Sentence2ColumnName, "Sentence2ColumnName");
        }
    }

    private static SchemaShape.Column FindShapeColumn(SchemaShape schema, string name, string option) =>
        schema.FirstOrDefault(c => c.Name == name) is { Name: not null } column
            ? column
            : throw new ArgumentOutOfRangeException(option, $"Column '{name}' ({option}) is not in the input; its columns are: {string.Join(", ", schema.Select(c => c.Name))}.");

    private static ArgumentOutOfRangeException LabelNotKey(string name, string? found) => new(
        "LabelColumnName",
        $"Column '{name}' must be Key<UInt32>, found {found}; add mlContext.Transforms.Conversion.MapValueToKey(\"{name}\") before Palbert (and MapKeyToValue(\"PredictedLabel\") after it).");

    private static ArgumentOutOfRangeException TextNotString(string name, string option, string? found) => new(
        option, $"Column '{name}' ({option}) must be String (text), found {found}; load it as text or convert it with Transforms.Conversion.ConvertType.");

    private static List<Row> ReadRows(IDataView data, DataViewSchema.Column label, DataViewSchema.Column text1, DataViewSchema.Column? text2, IChannel ch, string what)
    {
        var columns = new List<DataViewSchema.Column> { label, text1 };
        if (text2 is DataViewSchema.Column second)
        {
            columns.Add(second);
        }

        var rows = new List<Row>();
        long missingLabels = 0;
        using DataViewRowCursor cursor = data.GetRowCursor(columns);
        ValueGetter<uint> getLabel = cursor.GetGetter<uint>(label);
        ValueGetter<ReadOnlyMemory<char>> getText1 = cursor.GetGetter<ReadOnlyMemory<char>>(text1);
        ValueGetter<ReadOnlyMemory<char>>? getText2 = text2 is DataViewSchema.Column c ? cursor.GetGetter<ReadOnlyMemory<char>>(c) : null;
        uint key = 0;
        ReadOnlyMemory<char> a = default;
        ReadOnlyMemory<char> b = default;
        while (cursor.MoveNext())
        {
            getLabel(ref key);
            if (key == 0)
            {
                // Key 0 is a missing label (e.g. a value MapValueToKey never saw).
                missingLabels++;
                continue;
            }

            getText1(ref a);
            getText2?.Invoke(ref b);
            rows.Add(new Row((int)key - 1, a.ToString(), getText2 is null ? null : b.ToString()));
        }

        if (missingLabels > 0)
        {
            ch.Warning(MessageSensitivity.None, $"Skipped {missingLabels} {what} row(s) with a missing label (key 0).");
        }

        if (rows.Count == 0)
        {
            throw new ArgumentException($"The {what} has no rows with a label.");
        }

        return rows;
    }

    private void CheckClasses(List<Row> rows, LabelKeyValues labels)
    {
        int[] seen = rows.Select(r => r.Label).Distinct().Order().ToArray();
        if (seen.Length < 2)
        {
            throw OneClass(labels.Values[seen[0]], $"all {rows.Count} rows");
        }
    }

    private ArgumentException OneClass(string value, string detail) => new(
        $"Column '{_options.LabelColumnName}' has only one class in the training data ('{value}': {detail}); a classifier needs rows of at least two classes.");

    private static (List<Row> Training, List<Row> Validation) Split(List<Row> rows, double fraction, int seed)
    {
        int[] order = Enumerable.Range(0, rows.Count).ToArray();
        new Random(seed).Shuffle(order);
        int validationCount = Math.Max(1, (int)Math.Round(rows.Count * fraction));
        if (validationCount >= rows.Count)
        {
            throw new ArgumentException($"ValidationFraction {fraction} of {rows.Count} rows leaves no training rows.");
        }

        var validation = order.Take(validationCount).Order().Select(i => rows[i]).ToList();
        var training = order.Skip(validationCount).Order().Select(i => rows[i]).ToList();
        return (training, validation);
    }

    private static List<ClassificationExample> Encode(EarlyExitTextClassifier classifier, List<Row> rows) =>
        rows.Select(r => new ClassificationExample(classifier.Encode(r.Text, r.Pair), r.Label)).ToList();

    private sealed record Row(int Label, string Text, string? Pair);
}
