// Prediction over a whole data file for evaluate, score and validation: the items go to the model in
// chunks of many batches, so the cancellation token is checked and progress reported between chunks,
// and the stopwatch runs around the model only, so items/s measures prediction, not file reading.
// Score does it with a fitted transformer on its backend (TorchSharp, or ONNX Runtime after WithBackend,
// which it says), under the command line's exit criterion and batch size (or the model's own), for both lines.
using System.Diagnostics;
using System.Globalization;
using EarlyExit.Cli.Output;
using EarlyExit.MLNet;

namespace EarlyExit.Cli;

/// <summary>Runs a model over many items in chunks, with progress, cancellation and timing.</summary>
internal static class ChunkedPrediction
{
    /// <summary>What scoring on ONNX Runtime prints first.</summary>
    public const string OnnxBackendLine = "Scoring on ONNX Runtime: the model's graphs are exported in memory and run there.";

    /// <summary>
    /// Predicts <paramref name="items"/> with <paramref name="transformer"/> under <paramref name="criterion"/> (null: the
    /// model's own) in batches of <paramref name="batchSize"/> (null: the model's), <paramref name="batchesPerChunk"/> batches per chunk.
    /// </summary>
    /// <param name="transformer">The fitted transformer, on the backend to score with.</param>
    /// <param name="items">The inputs.</param>
    /// <param name="criterion">The command line's exit criterion, or null.</param>
    /// <param name="batchSize">The command line's batch size, or null.</param>
    /// <param name="batchesPerChunk">Batches per call of <paramref name="predict"/>.</param>
    /// <param name="refusal">The start of the error when the model cannot serve the criterion, e.g. "--exit-criterion qexit:0.5 cannot score this model".</param>
    /// <param name="predict">The transformer's prediction of a chunk under a criterion and batch size.</param>
    /// <param name="console">Where progress goes.</param>
    /// <param name="title">The progress title.</param>
    /// <param name="unit">What the items are called in progress.</param>
    /// <param name="cancellationToken">Checked before every chunk.</param>
    /// <returns>The results in item order, the time spent predicting, the batch size and the criterion used.</returns>
    /// <exception cref="CliException">The criterion needs something the model lacks (a halting head, more layers).</exception>
    public static (TOut[] Results, TimeSpan Elapsed, int BatchSize, TCriterion Criterion) Score<TSelf, TClassifier, TCriterion, TIn, TOut>(
        EarlyExitTransformer<TSelf, TClassifier, TCriterion> transformer, IReadOnlyList<TIn> items, TCriterion? criterion, int? batchSize, int batchesPerChunk, Func<TCriterion, string> refusal,
        Func<TSelf, IReadOnlyList<TIn>, TCriterion, int, TOut[]> predict, CliConsole console, string title, string unit, CancellationToken cancellationToken)
        where TSelf : EarlyExitTransformer<TSelf, TClassifier, TCriterion>
        where TClassifier : EarlyExitClassifier<TCriterion>
        where TCriterion : class
    {
        TCriterion chosen = criterion ?? transformer.ExitCriterion;
        try
        {
            transformer.Classifier.EnsureSupported(chosen);
        }
        catch (InvalidOperationException e)
        {
            throw new CliException($"{refusal(chosen)}: {e.Message}");
        }

        int batch = batchSize ?? transformer.BatchSize;
        if (transformer.Backend == ScoringBackend.OnnxRuntime)
        {
            console.WriteLine(OnnxBackendLine);
        }

        (TOut[] results, TimeSpan elapsed) = Run(items, batch * batchesPerChunk, chunk => predict((TSelf)transformer, chunk, chosen, batch), console, title, unit, cancellationToken);
        return (results, elapsed, batch, chosen);
    }

    /// <summary>
    /// Predicts every item of <paramref name="items"/> with <paramref name="predict"/> (one result per
    /// item, in order), <paramref name="chunkSize"/> at a time, under a progress display.
    /// </summary>
    /// <param name="items">The inputs.</param>
    /// <param name="chunkSize">Items per call of <paramref name="predict"/>.</param>
    /// <param name="predict">The model: one result per input, in input order.</param>
    /// <param name="console">Where progress goes.</param>
    /// <param name="title">The progress title, e.g. "evaluating".</param>
    /// <param name="unit">What the items are called in progress, e.g. "rows".</param>
    /// <param name="cancellationToken">Checked before every chunk.</param>
    /// <returns>The results in item order and the time spent in <paramref name="predict"/>.</returns>
    public static (TOut[] Results, TimeSpan Elapsed) Run<TIn, TOut>(IReadOnlyList<TIn> items, int chunkSize, Func<IReadOnlyList<TIn>, TOut[]> predict,
        CliConsole console, string title, string unit, CancellationToken cancellationToken)
    {
        var results = new TOut[items.Count];
        var clock = new Stopwatch();
        string total = items.Count.ToString("N0", CultureInfo.InvariantCulture);
        console.RunWithProgress(title, sink =>
        {
            for (int start = 0; start < items.Count; start += chunkSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int count = Math.Min(chunkSize, items.Count - start);
                var chunk = new TIn[count];
                for (int i = 0; i < count; i++)
                {
                    chunk[i] = items[start + i];
                }

                clock.Start();
                TOut[] predicted = predict(chunk);
                clock.Stop();
                predicted.CopyTo(results, start);
                int done = start + count;
                sink.Report(done, items.Count, $"{done.ToString("N0", CultureInfo.InvariantCulture)}/{total} {unit}");
            }

            return 0;
        });
        return (results, clock.Elapsed);
    }
}
