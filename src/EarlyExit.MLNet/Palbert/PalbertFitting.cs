// Fit, as both PALBERT trainers do it. Only the label differs between classification (a key, one
// class per row) and regression (a Single, one target per row); a PalbertLabel<TLabel> says how to
// check, read, name and train on it.
//
// check the schema (before anything expensive) -> read labels and texts into memory as strings ->
// split off validation rows -> load the backbone -> build the heads -> tokenize -> train (Core's
// ClassifierTrainer, reporting progress to mlContext.Log and Options.Progress) -> PalbertTransformer.
// The rows are held as token-id arrays, never as tensors; each batch becomes tensors only for its step.
using System.Diagnostics;
using EarlyExit.MLNet.Interop;
using EarlyExit.MLNet.Logging;
using EarlyExit.MLNet.Persistence;
using EarlyExit.MLNet.Schema;
using EarlyExit.Tokenization;
using EarlyExit.Training;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace EarlyExit.MLNet.Palbert;

/// <summary>What a PALBERT trainer's label is: how to check and read it, what to call the outputs, and how to train on it.</summary>
/// <typeparam name="TLabel">The label of one row in memory: a 0-based class or a target value.</typeparam>
internal abstract class PalbertLabel<TLabel>
    where TLabel : struct
{
    /// <summary>The label column of <paramref name="schema"/>, checked; <paramref name="what"/> is "training data" or "validation data".</summary>
    /// <exception cref="ArgumentOutOfRangeException">Missing or of the wrong type; the message names the fix.</exception>
    public abstract DataViewSchema.Column Require(DataViewSchema schema, string name, string what);

    /// <summary>The label values the transformer carries (a classifier's key values), or null (regression).</summary>
    public abstract LabelKeyValues? KeyValues(DataViewSchema.Column label);

    /// <summary>The names the model's outputs carry: the class names, or the regression target's name.</summary>
    public abstract IReadOnlyList<string> OutputNames(DataViewSchema.Column label, LabelKeyValues? keyValues);

    /// <summary>A reader of the current row's label; null for a missing label (key 0, NaN).</summary>
    public abstract Func<TLabel?> Reader(DataViewRowCursor cursor, DataViewSchema.Column label);

    /// <summary>What a missing label is, for the warning about skipped rows.</summary>
    public abstract string MissingDescription { get; }

    /// <summary>Checks the training labels as a whole (e.g. two classes at least).</summary>
    /// <exception cref="ArgumentException">They cannot train a model.</exception>
    public abstract void CheckTraining(IReadOnlyList<TLabel> labels, IReadOnlyList<string> outputNames, string column);

    /// <summary>Trains <paramref name="classifier"/>'s network on encoded rows.</summary>
    public abstract TrainingReport Train(EarlyExitTextClassifier classifier, IReadOnlyList<(TokenizedInput Input, TLabel Label)> training,
        IReadOnlyList<(TokenizedInput Input, TLabel Label)>? validation, ClassifierTrainingOptions options, IProgress<TrainingProgress> progress, CancellationToken cancellationToken);
}

/// <summary>The fitting steps both PALBERT trainers share (see the file header).</summary>
internal static class PalbertFitting
{
    /// <summary>
    /// The output schema a PALBERT trainer declares: <paramref name="inputSchema"/> with the text columns
    /// checked, plus <paramref name="taskOutputs"/> (PredictedLabel and Score, or Score), ExitLayer and,
    /// with a halting head, HaltingDistribution; an input column of the same name is replaced.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A text column is missing or not text.</exception>
    public static SchemaShape OutputSchema(SchemaShape inputSchema, PalbertOptionsBase options, IEnumerable<SchemaShape.Column> taskOutputs)
    {
        RequireTextShapes(inputSchema, options);
        var outputs = new List<SchemaShape.Column>(taskOutputs) { OutputSchemaShapes.Int32Scalar(options.ExitLayerColumnName) };
        if (options.EffectiveHalting != Modeling.HaltingVariant.None)
        {
            outputs.Add(MLNetInternals.CreateColumn(options.HaltingDistributionColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single));
        }

        var names = outputs.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        return new SchemaShape(inputSchema.Where(c => !names.Contains(c.Name)).Concat(outputs));
    }

    /// <summary>Checks the text columns of <paramref name="schema"/> and returns them (the second is null for single texts).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A text column is missing or not text.</exception>
    public static (DataViewSchema.Column Text1, DataViewSchema.Column? Text2) RequireTexts(DataViewSchema schema, PalbertOptionsBase options, string what)
    {
        DataViewSchema.Column text1 = InputColumns.RequireText(schema, options.Sentence1ColumnName, "Sentence1ColumnName", what);
        DataViewSchema.Column? text2 = options.Sentence2ColumnName is string second ? InputColumns.RequireText(schema, second, "Sentence2ColumnName", what) : null;
        return (text1, text2);
    }

    /// <summary>Checks that the text columns named by the options are scalar text columns of <paramref name="inputSchema"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Missing or not text; the message names the column and the fix.</exception>
    public static void RequireTextShapes(SchemaShape inputSchema, PalbertOptionsBase options)
    {
        var texts = new List<(string Name, string Option)> { (options.Sentence1ColumnName, "Sentence1ColumnName") };
        if (options.Sentence2ColumnName is string second)
        {
            texts.Add((second, "Sentence2ColumnName"));
        }

        foreach (var (name, option) in texts)
        {
            SchemaShape.Column text = InputColumns.RequireShape(inputSchema, name, option);
            if (text.ItemType is not TextDataViewType || text.Kind != SchemaShape.Column.VectorKind.Scalar)
            {
                throw new ArgumentOutOfRangeException(option,
                    $"Column '{name}' ({option}) must be String (text), found {text.ItemType}; load it as text or convert it with Transforms.Conversion.ConvertType.");
            }
        }
    }


    /// <summary>Trains a model on <paramref name="trainData"/> (see the file header) and wraps it in a <see cref="PalbertTransformer"/>.</summary>
    public static PalbertTransformer Fit<TLabel>(IHostEnvironment env, IHost host, PalbertOptionsBase options, PalbertLabel<TLabel> kind, IDataView trainData, IDataView? validationData)
        where TLabel : struct
    {
        ArgumentNullException.ThrowIfNull(trainData);
        DataViewSchema.Column label = kind.Require(trainData.Schema, options.LabelColumnName, "training data");
        var (text1, text2) = RequireTexts(trainData.Schema, options, "training data");
        if (validationData is not null)
        {
            kind.Require(validationData.Schema, options.LabelColumnName, "validation data");
            RequireTexts(validationData.Schema, options, "validation data");
        }

        LabelKeyValues? keyValues = kind.KeyValues(label);
        IReadOnlyList<string> outputNames = kind.OutputNames(label, keyValues);
        TrainerFitting.RequireValidationSource(options, validationData);

        using IChannel ch = host.Start("Training");
        List<Row<TLabel>> rows = ReadRows(trainData, kind, label, text1, text2, ch, "training");
        kind.CheckTraining(rows.Select(r => r.Label).ToArray(), outputNames, options.LabelColumnName);
        ClassifierTrainingOptions trainingOptions = options.ToTrainingOptions();
        trainingOptions.PositiveClass = options.PositiveClassOf(outputNames);
        List<Row<TLabel>>? validationRows = null;
        if (validationData is not null)
        {
            var (validationText1, validationText2) = RequireTexts(validationData.Schema, options, "validation data");
            validationRows = ReadRows(validationData, kind, validationData.Schema[options.LabelColumnName], validationText1, validationText2, ch, "validation");
        }
        else if (options.ValidationFraction > 0)
        {
            (rows, validationRows) = TrainerFitting.Split(rows, options.ValidationFraction, options.Seed, "rows");
        }

        using PretrainedEncoder backbone = TrainerFitting.LoadBackbone(options, ch);
        var classifier = EarlyExitTextClassifier.Create(backbone, outputNames, options.ToHeadsConfig(outputNames.Count), options.MaxSequenceLength, options.EffectiveExitCriterion, options.Seed);
        return TrainerFitting.TrainAndWrap(classifier, ch, () =>
        {
            ch.Info(MessageSensitivity.None, $"Exit heads read {classifier.Model.Config.Pooling} pooling of each layer{(options.Pooling == Modeling.HeadPooling.Auto ? $" (Auto: {(backbone.DeclaredPooling is null ? "the checkpoint declares none" : "as the checkpoint declares")})" : "")}.");
            var clock = Stopwatch.StartNew();
            List<(TokenizedInput, TLabel)> training = Encode(classifier, rows);
            List<(TokenizedInput, TLabel)>? validation = validationRows is null ? null : Encode(classifier, validationRows);
            int truncated = training.Count(e => e.Item1.Length == classifier.MaxSequenceLength);
            ch.Info(MessageSensitivity.None, $"Tokenized {training.Count} training and {validation?.Count ?? 0} validation rows in {clock.Elapsed.TotalSeconds:0.0} s; " +
                $"{truncated} training rows reach MaxSequenceLength {classifier.MaxSequenceLength} (longer texts are truncated).");

            return kind.Train(classifier, training, validation, trainingOptions, new ProgressLog(ch, options.Progress), options.CancellationToken);
        },
        report =>
        {
            var columns = new PalbertColumns(options.Sentence1ColumnName, options.Sentence2ColumnName, options.PredictedLabelOutput,
                options.ScoreColumnName, options.ExitLayerColumnName, options.HaltingDistributionColumnName, options.BatchSize);
            return new PalbertTransformer(env, new SharedModel<EarlyExitTextClassifier>(classifier), columns, keyValues, options.EffectiveExitCriterion, report);
        });
    }

    private static List<Row<TLabel>> ReadRows<TLabel>(IDataView data, PalbertLabel<TLabel> kind, DataViewSchema.Column label, DataViewSchema.Column text1, DataViewSchema.Column? text2, IChannel ch, string what)
        where TLabel : struct
    {
        var columns = new List<DataViewSchema.Column> { label, text1 };
        if (text2 is DataViewSchema.Column second)
        {
            columns.Add(second);
        }

        var rows = new List<Row<TLabel>>();
        long missingLabels = 0;
        using DataViewRowCursor cursor = data.GetRowCursor(columns);
        Func<TLabel?> getLabel = kind.Reader(cursor, label);
        ValueGetter<ReadOnlyMemory<char>> getText1 = cursor.GetGetter<ReadOnlyMemory<char>>(text1);
        ValueGetter<ReadOnlyMemory<char>>? getText2 = text2 is DataViewSchema.Column c ? cursor.GetGetter<ReadOnlyMemory<char>>(c) : null;
        ReadOnlyMemory<char> a = default;
        ReadOnlyMemory<char> b = default;
        while (cursor.MoveNext())
        {
            if (getLabel() is not TLabel value)
            {
                missingLabels++;
                continue;
            }

            getText1(ref a);
            getText2?.Invoke(ref b);
            rows.Add(new Row<TLabel>(value, a.ToString(), getText2 is null ? null : b.ToString()));
        }

        if (missingLabels > 0)
        {
            ch.Warning(MessageSensitivity.None, $"Skipped {missingLabels} {what} row(s) with a missing label ({kind.MissingDescription}).");
        }

        if (rows.Count == 0)
        {
            throw new ArgumentException($"The {what} data has no rows with a label.");
        }

        return rows;
    }

    private static List<(TokenizedInput, TLabel)> Encode<TLabel>(EarlyExitTextClassifier classifier, List<Row<TLabel>> rows)
        where TLabel : struct =>
        rows.Select(r => (classifier.Encode(r.Text, r.Pair), r.Label)).ToList();

    private sealed record Row<TLabel>(TLabel Label, string Text, string? Pair)
        where TLabel : struct;
}
