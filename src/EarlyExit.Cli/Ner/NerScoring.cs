// Labelling and metrics for ner evaluate, score and train's validation.
//
// Sentences are labelled by the model's transformer on the chosen backend (TokenEarlyExitNerTransformer
// .WithBackend, then its Predict: halt-and-copy on TorchSharp or on ONNX Runtime) in chunks of many
// batches (ChunkedPrediction), with the criterion and batch size of the command line.
// Metrics follow conlleval's rules (EntityEvaluator), so they equal conlleval's on `ner score` output.
using EarlyExit.Cli.Output;
using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.MLNet;
using EarlyExit.MLNet.TokenEarlyExitNer;
using EarlyExit.Sequence;

namespace EarlyExit.Cli.Ner;

/// <summary>Labelled sentences and the wall-clock time labelling took.</summary>
/// <param name="Predictions">One per sentence, in order; tags are indices into the model's tag names.</param>
/// <param name="Elapsed">Labelling time.</param>
/// <param name="BatchSize">Sentence chunks labelled together.</param>
/// <param name="Criterion">The exit criterion used.</param>
internal sealed record LabelledSentences(SentencePrediction[] Predictions, TimeSpan Elapsed, int BatchSize, TokenExitCriterion Criterion);

/// <summary>Labels sentences with a trained model and measures the result.</summary>
internal static class NerScoring
{
    private const int BatchesPerChunk = 8;

    /// <summary>Labels <paramref name="sentences"/> with <paramref name="criterion"/> (null: the model's own) in batches of <paramref name="batchSize"/> (null: the model's).</summary>
    /// <exception cref="CliException">The criterion needs more layers than the model has.</exception>
    public static LabelledSentences Label(TokenEarlyExitNerTransformer ner, IReadOnlyList<string[]> sentences, TokenExitCriterion? criterion, int? batchSize,
        CliConsole console, string title, CancellationToken cancellationToken, ScoringBackend backend = ScoringBackend.TorchSharp)
    {
        // On ONNX Runtime the model's graphs are exported here, before the clock starts.
        using TokenEarlyExitNerTransformer scorer = ner.WithBackend(backend);
        (SentencePrediction[] predictions, TimeSpan elapsed, int batch, TokenExitCriterion chosen) = ChunkedPrediction.Score(scorer, sentences, criterion, batchSize, BatchesPerChunk, c => $"Exit criterion {c.Name} cannot label with this model",
            (transformer, chunk, c, b) => transformer.Predict(chunk, c, b), console, title, "sentences", cancellationToken);
        return new LabelledSentences(predictions, elapsed, batch, chosen);
    }

    /// <summary>The predicted tag names of every sentence.</summary>
    public static string[][] TagNames(TokenEarlyExitNerTransformer ner, LabelledSentences labelled) =>
        labelled.Predictions.Select(p => p.Tags.Select(t => ner.ClassNames[t]).ToArray()).ToArray();

    /// <summary>The metrics of <paramref name="labelled"/> against <paramref name="gold"/> (tags in the model's scheme, every one known to the model).</summary>
    public static NerEvaluationMetrics Metrics(TokenEarlyExitNerTransformer ner, string modelPath, TagScheme modelScheme, NerData data, string[][] gold, LabelledSentences labelled)
    {
        string[][] predicted = TagNames(ner, labelled);
        var evaluator = new EntityEvaluator();
        for (int s = 0; s < gold.Length; s++)
        {
            evaluator.Add(gold[s], predicted[s]);
        }

        EntityEvaluationResult entities = evaluator.Result();
        int layers = ner.NumLayers;
        var histogram = new long[layers];
        long words = 0;
        long layerSum = 0;
        foreach (SentencePrediction prediction in labelled.Predictions)
        {
            foreach (int layer in prediction.ExitLayers)
            {
                histogram[Math.Clamp(layer, 1, layers) - 1]++;
                layerSum += layer;
                words++;
            }
        }

        double seconds = labelled.Elapsed.TotalSeconds;
        return (NerEvaluationMetrics)new NerEvaluationMetrics
        {
            Sentences = data.Sentences.Count,
            Words = words,
            Scheme = TagSchemes.Name(modelScheme),
            FileScheme = TagSchemes.Name(data.Scheme!.Value),
            Precision = entities.Overall.Precision,
            Recall = entities.Overall.Recall,
            F1 = entities.Overall.F1,
            MacroF1 = entities.MacroF1,
            TokenAccuracy = entities.TokenAccuracy,
            GoldEntities = entities.Overall.Gold,
            PredictedEntities = entities.Overall.Predicted,
            CorrectEntities = entities.Overall.Correct,
            PerType = entities.PerType.ToDictionary(
                t => t.Key, t => new EntityTypeMetrics(t.Value.Precision, t.Value.Recall, t.Value.F1, t.Value.Gold, t.Value.Predicted, t.Value.Correct), StringComparer.Ordinal),
            MeanTokenExitLayer = words == 0 ? 0 : (double)layerSum / words,
            TokenLayerSpeedup = layerSum == 0 ? 1 : (double)layers * words / layerSum,
            SentencesPerSecond = seconds > 0 ? data.Sentences.Count / seconds : 0,
            WordsPerSecond = seconds > 0 ? words / seconds : 0,
            ExitLayerHistogram = histogram,
            Tags = ner.ClassNames,
            ConllevalReport = entities.ToConllevalReport(),
        }.Of(modelPath, data.Path, labelled.Criterion.Name, layers, labelled.BatchSize, seconds);
    }
}
