// Prediction over a whole data file for evaluate, score and validation: the items go to the model in
// chunks of many batches, so the cancellation token is checked and progress reported between chunks,
// and the stopwatch runs around the model only, so items/s measures prediction, not file reading.
using System.Diagnostics;
using System.Globalization;
using EarlyExit.Cli.Output;

namespace EarlyExit.Cli;

/// <summary>Runs a model over many items in chunks, with progress, cancellation and timing.</summary>
internal static class ChunkedPrediction
{
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
