// Training progress for the train commands: the trainer's IProgress reports become the progress
// display, and the trainer's ML.NET log lines (backbone, data, best epoch) are printed above it.
using System.Globalization;
using System.Text.RegularExpressions;
using EarlyExit.Training;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace EarlyExit.Cli.Output;

/// <summary>Turns a trainer's progress into reports to the display of the running Fit, and remembers each epoch's validation score.</summary>
internal sealed class TrainingProgressReporter : IProgress<TrainingProgress>
{
    // The trainers also log their progress ("train epoch 1/3, step 40/120, ..."); the display shows it already.
    private static readonly Regex s_progressLine = new(@"^(\S+ )?epoch \d+/\d+, step ", RegexOptions.CultureInvariant);

    private readonly Dictionary<int, double> _validation = [];
    private CliConsole.ProgressSink? _sink;

    /// <summary>The validation score reported after each epoch (1-based), for the epochs that were validated.</summary>
    public IReadOnlyDictionary<int, double> ValidationByEpoch => _validation;

    /// <summary>
    /// Runs <paramref name="fit"/> under a progress display titled "training", printing the Info and
    /// Warning messages of ML.NET log sources that start with <paramref name="logSource"/>.
    /// </summary>
    public T Run<T>(CliConsole console, MLContext ml, string logSource, Func<T> fit) => console.RunWithProgress("training", sink =>
    {
        _sink = sink;
        void Log(object? sender, LoggingEventArgs e)
        {
            if (e.Kind is ChannelMessageKind.Info or ChannelMessageKind.Warning
                && e.Source.StartsWith(logSource, StringComparison.Ordinal)
                && !s_progressLine.IsMatch(e.RawMessage))
            {
                sink.WriteLine(e.RawMessage);
            }
        }

        ml.Log += Log;
        try
        {
            return fit();
        }
        finally
        {
            ml.Log -= Log;
            _sink = null;
        }
    });

    public void Report(TrainingProgress value)
    {
        bool validated = value.Phase == "validate";
        if (validated && value.ValidationMetric is double score)
        {
            _validation[value.Epoch] = score;
        }

        if (_sink is not CliConsole.ProgressSink sink)
        {
            return;
        }

        string loss = value.Loss.ToString("0.0000", CultureInfo.InvariantCulture);
        string validation = value.ValidationMetric is double v ? $", validation {v.ToString("0.0000", CultureInfo.InvariantCulture)}" : "";
        string phase = value.Phase is "train" or "validate" ? "" : $" ({value.Phase})";
        string status = validated
            ? $"epoch {value.Epoch}/{value.Epochs} done, loss {loss}{validation}"
            : $"epoch {value.Epoch}/{value.Epochs}{phase}, step {value.Step}/{value.TotalSteps}, loss {loss}{validation}";
        string eta = value.Remaining is TimeSpan r && !validated ? $", ETA {r:hh\\:mm\\:ss}" : "";
        string detail = $", elapsed {value.Elapsed:hh\\:mm\\:ss}{eta}";
        sink.Report(value.Step, value.TotalSteps, status, detail, important: validated);
    }
}
