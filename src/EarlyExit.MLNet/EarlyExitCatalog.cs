using EarlyExit.ExitCriteria;
using EarlyExit.MLNet.Interop;
using EarlyExit.MLNet.Palbert;
using EarlyExit.MLNet.TokenEarlyExitNer;
using EarlyExit.Training;
using Microsoft.ML;

namespace EarlyExit.MLNet;

/// <summary>
/// The early-exit trainers in ML.NET's catalogs: <c>mlContext.MulticlassClassification.Trainers.Palbert(...)</c>,
/// <c>mlContext.Regression.Trainers.Palbert(...)</c> and <c>mlContext.MulticlassClassification.Trainers.TokenEarlyExitNer(...)</c>.
/// </summary>
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
        string backbone = PalbertOptionsBase.DefaultBackbone,
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

    /// <summary>
    /// An early-exit text regressor (e.g. GLUE STS-B similarity): PALBERT's network with one output per
    /// exit, trained on squared errors, Q-exit at q = 0.5. See <see cref="PalbertRegressionTrainer"/> for
    /// the columns; the Options overload reaches every setting (baselines included).
    /// </summary>
    /// <param name="catalog">mlContext.Regression.Trainers.</param>
    /// <param name="labelColumnName">The Single label column: the value to predict.</param>
    /// <param name="sentence1ColumnName">The text column.</param>
    /// <param name="sentence2ColumnName">The second text column of sentence pairs, or null.</param>
    /// <param name="scoreColumnName">The predicted-value output column.</param>
    /// <param name="exitLayerColumnName">The exit-layer output column.</param>
    /// <param name="backbone">A hub id (sentence-transformers/all-MiniLM-L6-v2, albert-base-v2), a local Hugging Face folder, or a preset with <paramref name="fromScratch"/>.</param>
    /// <param name="fromScratch">Build the backbone with random weights from its config (no pretrained weights).</param>
    /// <param name="maxSequenceLength">Longest input in tokens; longer texts are truncated.</param>
    /// <param name="batchSize">Rows per batch.</param>
    /// <param name="epochs">Passes over the data.</param>
    /// <param name="learningRate">Peak learning rate of the encoder and regression heads.</param>
    /// <param name="exitCriterion">The exit criterion of the fitted transformer; null for Q-exit at 0.5.</param>
    /// <param name="seed">Seed of weights, dropout and data order.</param>
    /// <returns>The trainer.</returns>
    public static PalbertRegressionTrainer Palbert(
        this RegressionCatalog.RegressionTrainers catalog,
        string labelColumnName = PalbertTextClassificationTrainer.DefaultColumnNames.Label,
        string sentence1ColumnName = PalbertTextClassificationTrainer.DefaultColumnNames.Sentence1,
        string? sentence2ColumnName = null,
        string scoreColumnName = PalbertTextClassificationTrainer.DefaultColumnNames.Score,
        string exitLayerColumnName = PalbertTextClassificationTrainer.DefaultColumnNames.ExitLayer,
        string backbone = PalbertOptionsBase.DefaultBackbone,
        bool fromScratch = false,
        int maxSequenceLength = PalbertDefaults.MaxSequenceLength,
        int batchSize = PalbertDefaults.BatchSize,
        int epochs = PalbertDefaults.Epochs,
        double learningRate = PalbertDefaults.LearningRate,
        ExitCriterion? exitCriterion = null,
        int seed = PalbertDefaults.Seed)
    {
        return catalog.Palbert(new PalbertRegressionTrainer.Options
        {
            LabelColumnName = labelColumnName,
            Sentence1ColumnName = sentence1ColumnName,
            Sentence2ColumnName = sentence2ColumnName,
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

    /// <summary>An early-exit text regressor with every setting in <paramref name="options"/>.</summary>
    /// <param name="catalog">mlContext.Regression.Trainers.</param>
    /// <param name="options">The settings; checked now, all problems reported together.</param>
    /// <returns>The trainer.</returns>
    public static PalbertRegressionTrainer Palbert(this RegressionCatalog.RegressionTrainers catalog, PalbertRegressionTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return new PalbertRegressionTrainer(MLNetInternals.GetEnvironment(catalog), options);
    }

    /// <summary>
    /// A token-level early-exit sequence labeller (named entities, chunks, POS): an off-ramp after every
    /// layer, tokens that are certain stop and are copied upward (TOKEE, window 5, threshold 0.3 by
    /// default). See <see cref="TokenEarlyExitNerTrainer"/> for the columns.
    /// </summary>
    /// <param name="catalog">mlContext.MulticlassClassification.Trainers.</param>
    /// <param name="labelColumnName">The tags: a vector of keys, one per word (MapValueToKey over a vector of tag strings).</param>
    /// <param name="tokensColumnName">The words: a vector of strings, or one string split on whitespace.</param>
    /// <param name="predictedLabelColumnName">The predicted-tags output column.</param>
    /// <param name="tokenExitLayersColumnName">The output column of each word's exit layer.</param>
    /// <param name="exitLayerColumnName">The output column of the deepest layer any word of the row reached.</param>
    /// <param name="backbone">A hub id, a local Hugging Face folder, or a preset with <paramref name="fromScratch"/>.</param>
    /// <param name="fromScratch">Build the backbone with random weights from its config.</param>
    /// <param name="maxSequenceLength">Longest chunk in tokens; longer sentences are labelled in chunks of whole words.</param>
    /// <param name="batchSize">Sentences (chunks) per batch.</param>
    /// <param name="epochs">Joint-training epochs (one self-sampling epoch follows).</param>
    /// <param name="learningRate">Peak learning rate.</param>
    /// <param name="exitCriterion">full, layer:K, sentee:T[:max|mean], tokee:T[:K]; null for tokee:0.3:5.</param>
    /// <param name="seed">Seed of weights, dropout and data order.</param>
    /// <returns>The trainer.</returns>
    public static TokenEarlyExitNerTrainer TokenEarlyExitNer(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = TokenEarlyExitNerTrainer.DefaultColumnNames.Label,
        string tokensColumnName = TokenEarlyExitNerTrainer.DefaultColumnNames.Tokens,
        string predictedLabelColumnName = TokenEarlyExitNerTrainer.DefaultColumnNames.PredictedLabel,
        string tokenExitLayersColumnName = TokenEarlyExitNerTrainer.DefaultColumnNames.TokenExitLayers,
        string exitLayerColumnName = TokenEarlyExitNerTrainer.DefaultColumnNames.ExitLayer,
        string backbone = TokenExitDefaults.Backbone,
        bool fromScratch = false,
        int maxSequenceLength = TokenExitDefaults.MaxSequenceLength,
        int batchSize = TokenExitDefaults.BatchSize,
        int epochs = TokenExitDefaults.Epochs,
        double learningRate = TokenExitDefaults.LearningRate,
        TokenExitCriterion? exitCriterion = null,
        int seed = TokenExitDefaults.Seed)
    {
        return catalog.TokenEarlyExitNer(new TokenEarlyExitNerTrainer.Options
        {
            LabelColumnName = labelColumnName,
            TokensColumnName = tokensColumnName,
            PredictedLabelColumnName = predictedLabelColumnName,
            TokenExitLayersColumnName = tokenExitLayersColumnName,
            ExitLayerColumnName = exitLayerColumnName,
            Backbone = backbone,
            FromScratch = fromScratch,
            MaxSequenceLength = maxSequenceLength,
            BatchSize = batchSize,
            Epochs = epochs,
            LearningRate = learningRate,
            ExitCriterion = exitCriterion ?? TokenExitCriterion.Tokee(TokenExitDefaults.TokeeThreshold),
            Seed = seed,
        });
    }

    /// <summary>A token-level early-exit sequence labeller with every setting in <paramref name="options"/>.</summary>
    /// <param name="catalog">mlContext.MulticlassClassification.Trainers.</param>
    /// <param name="options">The settings; checked now, all problems reported together.</param>
    /// <returns>The trainer.</returns>
    public static TokenEarlyExitNerTrainer TokenEarlyExitNer(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, TokenEarlyExitNerTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return new TokenEarlyExitNerTrainer(MLNetInternals.GetEnvironment(catalog), options);
    }
}
