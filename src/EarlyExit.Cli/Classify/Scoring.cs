// Scoring for evaluate, score and train's validation.
//
// Rows are scored by the model's transformer on the chosen backend (PalbertTransformer.WithBackend, then
// its Predict: the classifier's on TorchSharp, or its graphs' on ONNX Runtime) in chunks of many batches
// (ChunkedPrediction): Predict sorts each chunk by length so batches pad little, and it takes the exit
// criterion and batch size per call, so evaluate and score need no other transformer.
using EarlyExit.Cli.Output;
using EarlyExit.Evaluation;
using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.MLNet;
using EarlyExit.MLNet.Palbert;

namespace EarlyExit.Cli.Classify;

/// <summary>Predictions of a set of rows and the wall-clock time they took.</summary>
/// <param name="Predictions">One per row, in row order.</param>
/// <param name="Elapsed">Scoring time.</param>
/// <param name="BatchSize">Rows scored together.</param>
/// <param name="Criterion">The exit criterion used.</param>
internal sealed record ScoredRows(ClassificationPrediction[] Predictions, TimeSpan Elapsed, int BatchSize, ExitCriterion Criterion);

/// <summary>Scores rows with a trained Palbert model.</summary>
internal static class Scoring
{
    private const int BatchesPerChunk = 16;

    /// <summary>Scores <paramref name="rows"/> with <paramref name="criterion"/> (null: the model's own) in batches of <paramref name="batchSize"/> (null: the model's).</summary>
    /// <exception cref="CliException">The criterion needs something the model lacks (a halting head, more layers).</exception>
    public static ScoredRows Score(PalbertTransformer palbert, IReadOnlyList<ClassificationRow> rows, bool pairs, ExitCriterion? criterion, int? batchSize,
        CliConsole console, string title, CancellationToken cancellationToken, ScoringBackend backend = ScoringBackend.TorchSharp)
    {
        // On ONNX Runtime the model's graphs are exported here, before the clock starts.
        using PalbertTransformer scorer = palbert.WithBackend(backend);
        (ClassificationPrediction[] predictions, TimeSpan elapsed, int batch, ExitCriterion chosen) = ChunkedPrediction.Score(scorer, rows, criterion, batchSize, BatchesPerChunk, c => $"--exit-criterion {c.Name} cannot score this model",
            (transformer, chunk, c, b) => transformer.Predict(chunk.Select(r => r.Sentence1).ToArray(), pairs ? chunk.Select(r => r.Sentence2).ToArray() : null, c, b),
            console, title, "rows", cancellationToken);
        return new ScoredRows(predictions, elapsed, batch, chosen);
    }

    /// <summary>
    /// The metrics of <paramref name="scored"/> against the labels of <paramref name="rows"/> (every label must be a class of the
    /// model), with F1 of <paramref name="positiveLabel"/> (null: <see cref="PositiveClass.Resolve"/>'s rule).
    /// </summary>
    /// <exception cref="ArgumentException">The positive label is not a class of the model.</exception>
    public static EvaluationMetrics Metrics(PalbertTransformer palbert, IReadOnlyList<ClassificationRow> rows, ScoredRows scored, string modelPath, string dataPath, string? positiveLabel)
    {
        IReadOnlyList<string> classes = palbert.ClassNames;
        int positive = PositiveClass.Resolve(classes, positiveLabel);
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int c = 0; c < classes.Count; c++)
        {
            index[classes[c]] = c;
        }

        int[] actual = rows.Select(r => index[r.Label]).ToArray();
        int[] predicted = scored.Predictions.Select(p => p.PredictedClass).ToArray();
        int[] exits = scored.Predictions.Select(p => p.ExitLayer).ToArray();
        ClassificationMetrics m = ClassificationMetrics.Compute(predicted, actual, exits, classes.Count, palbert.NumLayers, positive);
        double seconds = scored.Elapsed.TotalSeconds;
        return (EvaluationMetrics)new EvaluationMetrics
        {
            Rows = m.Count,
            Accuracy = m.Accuracy,
            MacroF1 = m.MacroF1,
            F1 = m.F1,
            PositiveClass = classes[positive],
            Mcc = m.MatthewsCorrelation,
            PerClassF1 = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => m.PerClassF1[x.i], StringComparer.Ordinal),
            MeanExitLayer = m.MeanExitLayer,
            LayerSpeedup = m.LayerSpeedup,
            RowsPerSecond = seconds > 0 ? m.Count / seconds : 0,
            ExitLayerHistogram = m.ExitLayerHistogram,
            Classes = classes,
        }.Of(modelPath, dataPath, scored.Criterion.Name, palbert.NumLayers, scored.BatchSize, seconds);
    }
}
