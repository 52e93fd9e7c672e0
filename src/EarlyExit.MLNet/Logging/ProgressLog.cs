using System.Globalization;
using EarlyExit.Training;
using Microsoft.ML.Runtime;

namespace EarlyExit.MLNet.Logging;

/// <summary>
/// Forwards training progress to the user's callback and, about every 5% of the steps and after every
/// validation, to an ML.NET log channel (so it shows in <c>mlContext.Log</c>).
/// </summary>
internal sealed class ProgressLog(IChannel channel, IProgress<TrainingProgress>? user) : IProgress<TrainingProgress>
{
    private long _lastLoggedStep = -1;

    public void Report(TrainingProgress value)
    {
        user?.Report(value);
        long every = Math.Max(1, value.TotalSteps / 20);
        if (value.Phase == "validate" || value.Step - _lastLoggedStep >= every || value.Step == value.TotalSteps)
        {
            _lastLoggedStep = value.Step;
            string validation = value.ValidationMetric is double v ? $", validation {v.ToString("0.0000", CultureInfo.InvariantCulture)}" : "";
            string eta = value.Remaining is TimeSpan r ? $", ETA {r:hh\\:mm\\:ss}" : "";
            channel.Info(MessageSensitivity.None,
                $"{value.Phase} epoch {value.Epoch}/{value.Epochs}, step {value.Step}/{value.TotalSteps}, loss {value.Loss.ToString("0.0000", CultureInfo.InvariantCulture)}{validation}, elapsed {value.Elapsed:hh\\:mm\\:ss}{eta}");
        }
    }
}
