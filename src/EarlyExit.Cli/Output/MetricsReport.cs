// The metrics the classify commands print and write as JSON. Field names are camelCase and stable:
// scripts and benchmarks read them. Add fields; never rename or remove one.
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using EarlyExit.MLNet;
using EarlyExit.Training;

namespace EarlyExit.Cli.Output;

/// <summary>What every evaluation reports, whatever its task; each family's metrics add their own.</summary>
internal abstract record EvaluationSummary
{
    /// <summary>The model file evaluated.</summary>
    public string Model { get; init; } = "";

    /// <summary>The data file evaluated.</summary>
    public string Data { get; init; } = "";

    /// <summary>The exit criterion scored with, e.g. qexit:0.5 or tokee:0.3:5.</summary>
    public string ExitCriterion { get; init; } = "";

    /// <summary>L, the model's layers.</summary>
    public int Layers { get; init; }

    /// <summary>Rows (sentence chunks) scored together.</summary>
    public int BatchSize { get; init; }

    /// <summary>Wall-clock seconds of scoring (reading files and loading the model excluded).</summary>
    public double ScoringSeconds { get; init; }

    /// <summary>This summary with what every evaluation reports filled in.</summary>
    public EvaluationSummary Of(string model, string data, string exitCriterion, int layers, int batchSize, double scoringSeconds) =>
        this with { Model = model, Data = data, ExitCriterion = exitCriterion, Layers = layers, BatchSize = batchSize, ScoringSeconds = scoringSeconds };
}

/// <summary>The metrics of one evaluation (classify evaluate, and the validation part of classify train).</summary>
internal sealed record EvaluationMetrics : EvaluationSummary
{
    /// <summary>Rows evaluated.</summary>
    public required int Rows { get; init; }

    /// <summary>Fraction of rows predicted correctly.</summary>
    public required double Accuracy { get; init; }

    /// <summary>Unweighted mean of the per-class F1 scores.</summary>
    public required double MacroF1 { get; init; }

    /// <summary>F1 of the positive class (<see cref="PositiveClass"/>), as GLUE reports for MRPC.</summary>
    public required double F1 { get; init; }

    /// <summary>The class <see cref="F1"/> is about: --positive-label, else "1", else "true", else the second class in ordinal order.</summary>
    public required string PositiveClass { get; init; }

    /// <summary>Matthews correlation coefficient, as GLUE reports for CoLA.</summary>
    public required double Mcc { get; init; }

    /// <summary>F1 of each class.</summary>
    public required IReadOnlyDictionary<string, double> PerClassF1 { get; init; }

    /// <summary>The mean 1-based exit layer.</summary>
    public required double MeanExitLayer { get; init; }

    /// <summary>L / mean exit layer.</summary>
    public required double LayerSpeedup { get; init; }

    /// <summary>Rows scored per second of scoring wall-clock time (reading files and loading the model excluded).</summary>
    public required double RowsPerSecond { get; init; }

    /// <summary>Rows that exited at each layer: index 0 is layer 1.</summary>
    public required IReadOnlyList<int> ExitLayerHistogram { get; init; }

    /// <summary>The model's classes, in class order.</summary>
    public required IReadOnlyList<string> Classes { get; init; }
}

/// <summary>One epoch of training.</summary>
/// <param name="Epoch">1-based.</param>
/// <param name="MeanLoss">The mean training loss.</param>
/// <param name="ValidationMetric">The validation metric after the epoch, or null without --valid.</param>
internal sealed record EpochMetrics(int Epoch, double MeanLoss, double? ValidationMetric);

/// <summary>What every train command did, whatever its task; each command's summary adds its own.</summary>
internal abstract record TrainingSummary
{
    /// <summary>The model file written.</summary>
    public string Model { get; init; } = "";

    /// <summary>The backbone trained on (hub id, folder or preset).</summary>
    public string Backbone { get; init; } = "";

    /// <summary>Whether the backbone started from random weights.</summary>
    public bool FromScratch { get; init; }

    /// <summary>The training file.</summary>
    public string Train { get; init; } = "";

    /// <summary>The validation file, or null.</summary>
    public string? Valid { get; init; }

    /// <summary>L, the model's layers.</summary>
    public int Layers { get; init; }

    /// <summary>The exit criterion saved with the model.</summary>
    public string ExitCriterion { get; init; } = "";

    /// <summary>Epochs planned (--epochs).</summary>
    public int Epochs { get; init; }

    /// <summary>Epochs run (fewer when early stopping ended training).</summary>
    public int EpochsRun { get; init; }

    /// <summary>The epoch whose weights were saved.</summary>
    public int BestEpoch { get; init; }

    /// <summary>Whether early stopping ended training.</summary>
    public bool StoppedEarly { get; init; }

    /// <summary>Wall-clock seconds of training (from the data in memory to the trained model; saving excluded).</summary>
    public double TrainSeconds { get; init; }

    /// <summary>This summary with what every train command reports filled in.</summary>
    public TrainingSummary Of(string model, EarlyExitTrainerOptions options, string train, string? valid, int layers, string exitCriterion, TrainingReport report, double trainSeconds) =>
        this with
        {
            Model = model,
            Backbone = options.Backbone,
            FromScratch = options.FromScratch,
            Train = train,
            Valid = valid,
            Layers = layers,
            ExitCriterion = exitCriterion,
            Epochs = options.Epochs,
            EpochsRun = report.Epochs.Count,
            BestEpoch = report.BestEpoch,
            StoppedEarly = report.StoppedEarly,
            TrainSeconds = trainSeconds,
        };
}

/// <summary>What classify train did.</summary>
internal sealed record TrainingMetrics : TrainingSummary
{
    /// <summary>Training rows used (after --max-train-rows).</summary>
    public required int TrainingRows { get; init; }

    /// <summary>Validation rows, or null.</summary>
    public required int? ValidationRows { get; init; }

    /// <summary>The model's classes, in class order.</summary>
    public required IReadOnlyList<string> Classes { get; init; }

    /// <summary>The metric best-epoch selection maximised on --valid, or null without it.</summary>
    public required string? ValidationMetric { get; init; }

    /// <summary>Every epoch run.</summary>
    public required IReadOnlyList<EpochMetrics> EpochHistory { get; init; }

    /// <summary>The saved model's metrics on --valid, or null without it.</summary>
    public required EvaluationMetrics? Validation { get; init; }
}

/// <summary>JSON and text forms of the metrics.</summary>
internal static class MetricsReport
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The JSON text of <paramref name="metrics"/>.</summary>
    public static string ToJson<T>(T metrics) => JsonSerializer.Serialize(metrics, s_json) + "\n";

    /// <summary>The evaluation as aligned lines of text.</summary>
    public static string ToText(EvaluationMetrics m)
    {
        var text = new StringBuilder();
        void Line(string name, string value) => text.Append(CultureInfo.InvariantCulture, $"  {name,-17}{value}\n");
        Line("rows", m.Rows.ToString("N0", CultureInfo.InvariantCulture));
        Line("classes", string.Join(", ", m.Classes));
        Line("exit criterion", m.ExitCriterion);
        Line("accuracy", F(m.Accuracy));
        Line("macro-F1", F(m.MacroF1));
        Line($"F1 ({m.PositiveClass})", F(m.F1));
        Line("MCC", F(m.Mcc));
        Line("mean exit layer", $"{m.MeanExitLayer.ToString("0.00", CultureInfo.InvariantCulture)} of {m.Layers}");
        Line("layer speed-up", $"{m.LayerSpeedup.ToString("0.00", CultureInfo.InvariantCulture)}x");
        Line("rows/s", $"{m.RowsPerSecond.ToString("0.0", CultureInfo.InvariantCulture)} ({m.ScoringSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s of scoring, batch {m.BatchSize})");
        Line("exit layers", string.Join("  ", m.ExitLayerHistogram.Select((count, i) =>
            $"{i + 1}: {count} ({(100.0 * count / Math.Max(1, m.Rows)).ToString("0.0", CultureInfo.InvariantCulture)}%)")));
        return text.ToString();
    }

    private static string F(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);
}
