using EarlyExit.ExitCriteria;
using EarlyExit.MLNet.Interop;
using EarlyExit.MLNet.Palbert;
using EarlyExit.Training;
using Microsoft.ML;

namespace EarlyExit.MLNet;

/// <summary>The early-exit trainers in ML.NET's catalogs: <c>mlContext.MulticlassClassification.Trainers.Palbert(...)</c>.</summary>
public static class EarlyExitCatalog
{
    /// <summary>
    /// An early-exit text classifier: PALBERT (halting heads trained with the Ponder objective,
    /// Q-exit at q = 0.5) on a transformer backbone. See <see cref="PalbertTextClassificationTrainer"/>
    /// for the columns; the Options overload reaches every setting (baselines included).
    /// </summary>
    /// <param name="catalog">mlContext.MulticlassClassification.Trainers.</param>
    /// <param name="labelColumnName">The key-typed label column (MapValueToKey before the trainer).</param>
    /// <param name="sentence1ColumnName">The text column.</param>
    /// <param name="sentence2ColumnName">The second text column of sentence pairs, or null.</param>
    /// <param name="predictedLabelColumnName">The predicted-label output column.</param>
    /// <param name="scoreColumnName">The class-probability output column.</param>
    /// <param name="exitLayerColumnName">The exit-layer output column.</param>
    /// <param name="backbone">A hub id (albert-base-v2), a local Hugging Face folder, or a preset with <paramref name="fromScratch"/>.</param>
    /// <param name="fromScratch">Build the backbone with random weights from its config (no pretrained weights).</param>
    /// <param name="maxSequenceLength">Longest input in tokens; longer texts are truncated.</param>
    /// <param name="batchSize">Rows per batch.</param>
    /// <param name="epochs">Passes over the data.</param>
    /// <param name="learningRate">Peak learning rate of the encoder and classifier.</param>
    /// <param name="exitCriterion">The exit criterion of the fitted transformer; null for Q-exit at 0.5.</param>
    /// <param name="seed">Seed of weights, dropout and data order.</param>
    /// <returns>The trainer.</returns>
    public static PalbertTextClassificationTrainer Palbert(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = PalbertTextClassificationTrainer.DefaultColumnNames.Label,
        string sentence1ColumnName = PalbertTextClassificationTrainer.DefaultColumnNames.Sentence1,
        string? sentence2ColumnName = null,
        string predictedLabelColumnName = PalbertTextClassificationTrainer.DefaultColumnNames.PredictedLabel,
        string scoreColumnName = PalbertTextClassificationTrainer.DefaultColumnNames.Score,
        string exitLayerColumnName = PalbertTextClassificationTrainer.DefaultColumnNames.ExitLayer,
        string backbone = PalbertTextClassificationTrainer.Options.DefaultBackbone,
        bool fromScratch = false,
        int maxSequenceLength = PalbertDefaults.MaxSequenceLength,
        int batchSize = PalbertDefaults.BatchSize,
        int epochs = PalbertDefaults.Epochs,
        double learningRate = PalbertDefaults.LearningRate,
        ExitCriterion? exitCriterion = null,
        int seed = PalbertDefaults.Seed)
    {
        return catalog.Palbert(new PalbertTextClassificationTrainer.Options
        {
            LabelColumnName = labelColumnName,
            Sentence1ColumnName = sentence1ColumnName,
            Sentence2ColumnName = sentence2ColumnName,
            PredictedLabelColumnName = predictedLabelColumnName,
            ScoreColumnName = scoreColumnName,
            ExitLayerColumnName = exitLayerColumnName,
            Backbone = backbone,
            FromScratch = fromScratch,
            MaxSequenceLength = maxSequenceLength,
            BatchSize = batchSize,
            Epochs = epochs,
            LearningRate = learningRate,
            ExitCriterion = exitCriterion,
            Seed = seed,
        });
    }

    /// <summary>An early-exit text classifier with every setting in <paramref name="options"/>.</summary>
    /// <param name="catalog">mlContext.MulticlassClassification.Trainers.</param>
    /// <param name="options">The settings; checked now, all problems reported together.</param>
    /// <returns>The trainer.</returns>
    public static PalbertTextClassificationTrainer Palbert(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, PalbertTextClassificationTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return new PalbertTextClassificationTrainer(MLNetInternals.GetEnvironment(catalog), options);
    }
}
