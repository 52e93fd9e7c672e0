// Pieces both training loops (ClassifierTrainer, TokenClassifierTrainer) share: the learning-rate
// schedule, AdamW parameter groups, best-epoch weight snapshots, the epoch loop itself, and scoring in
// batches of similar length.
using System.Diagnostics;
using EarlyExit.Evaluation;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EarlyExit.Training;

/// <summary>Linear warm-up over the first fraction of steps, then linear decay to 0 at the last step.</summary>
internal sealed class LinearWarmupSchedule(long totalSteps, double warmupFraction)
{
    private readonly long _warmup = (long)Math.Round(totalSteps * warmupFraction);

    /// <summary>The multiplier of the peak learning rate at <paramref name="step"/> (0-based).</summary>
    public double Factor(long step)
    {
        if (step < _warmup)
        {
            return (step + 1) / (double)_warmup;
        }

        long decaySteps = Math.Max(1, totalSteps - _warmup);
        return Math.Max(0, (totalSteps - step) / (double)decaySteps);
    }
}

/// <summary>AdamW over parameter groups, each with its own peak rate, whose rates the schedule scales every step.</summary>
internal sealed class ScheduledAdamW : IDisposable
{
    private readonly optim.Optimizer _optimizer;
    private readonly double[] _peakRates;

    /// <summary>
    /// Groups: the module's weights with decay; biases and LayerNorm parameters without; and, when given,
    /// <paramref name="separate"/> parameters with their own rate and no decay.
    /// </summary>
    public ScheduledAdamW(nn.Module module, double learningRate, double weightDecay, IEnumerable<Parameter>? separate = null, double separateRate = 0)
    {
        var excluded = new HashSet<Parameter>(separate ?? [], ReferenceEqualityComparer.Instance);
        var decay = new List<Parameter>();
        var noDecay = new List<Parameter>();
        foreach (var (name, parameter) in module.named_parameters())
        {
            if (excluded.Contains(parameter))
            {
                continue;
            }

            bool exempt = name.EndsWith(".bias", StringComparison.Ordinal) || name.Contains("LayerNorm", StringComparison.Ordinal)
                || name.Contains("layer_norm", StringComparison.Ordinal);
            (exempt ? noDecay : decay).Add(parameter);
        }

        var groups = new List<AdamW.ParamGroup>();
        var rates = new List<double>();
        void Add(List<Parameter> parameters, double rate, double decayRate)
        {
            if (parameters.Count > 0)
            {
                groups.Add(new AdamW.ParamGroup(parameters, new AdamW.Options { LearningRate = rate, weight_decay = decayRate }));
                rates.Add(rate);
            }
        }

        Add(decay, learningRate, weightDecay);
        Add(noDecay, learningRate, 0);
        Add([.. excluded], separateRate, 0);
        _optimizer = optim.AdamW(groups, lr: learningRate, weight_decay: weightDecay);
        _peakRates = [.. rates];
    }

    public void ZeroGrad() => _optimizer.zero_grad();

    /// <summary>Sets every group's rate to its peak times <paramref name="factor"/>, then steps.</summary>
    public void Step(double factor)
    {
        int group = 0;
        foreach (optim.ILearningRateController controller in _optimizer.ParamGroups)
        {
            controller.LearningRate = _peakRates[group++] * factor;
        }

        _optimizer.step();
    }

    public void Dispose() => _optimizer.Dispose();
}

/// <summary>A copy of a module's state (for keeping the best epoch), restorable into the module.</summary>
internal sealed class WeightSnapshot : IDisposable
{
    private readonly Dictionary<string, Tensor> _weights;

    public WeightSnapshot(nn.Module module)
    {
        using var noGrad = no_grad();
        _weights = module.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone().DetachFromDisposeScope(), StringComparer.Ordinal);
    }

    public void RestoreInto(nn.Module module)
    {
        using var noGrad = no_grad();
        foreach (var (name, value) in module.state_dict())
        {
            value.copy_(_weights[name]);
        }
    }

    public void Dispose()
    {
        foreach (Tensor tensor in _weights.Values)
        {
            tensor.Dispose();
        }
    }
}

/// <summary>
/// The epoch loop both trainers share: length-bucketed batches, a step per batch with progress and
/// cancellation, validation after each epoch, the best epoch's weights kept and restored, early stopping.
/// </summary>
internal static class EpochLoop
{
    /// <summary>Runs <paramref name="epochs"/> epochs over rows of the given lengths; on return the model holds the best (or last) epoch's weights and is in eval mode.</summary>
    /// <param name="model">The network trained.</param>
    /// <param name="epochs">Planned epochs.</param>
    /// <param name="lengths">Each training row's length (for the batches).</param>
    /// <param name="batchSize">Rows per batch.</param>
    /// <param name="random">The seeded source of batch order.</param>
    /// <param name="earlyStoppingPatience">Epochs without a better validation score before stopping; 0 for never.</param>
    /// <param name="phase">The progress phase of an epoch (1-based), e.g. "train" or "self-sampling".</param>
    /// <param name="step">One optimiser step on the rows of a batch, given the epoch and the 0-based step; returns the loss.</param>
    /// <param name="validate">After an epoch: the validation score (higher is better) and, for classifiers, its metrics; null without validation data.</param>
    /// <param name="progress">Receives progress, or null.</param>
    /// <param name="cancellationToken">Checked before every step.</param>
    public static TrainingReport Run(
        nn.Module model,
        int epochs,
        IReadOnlyList<int> lengths,
        int batchSize,
        Random random,
        int earlyStoppingPatience,
        Func<int, string> phase,
        Func<int, int[], long, double> step,
        Func<(double Score, ClassificationMetrics? Metrics)>? validate,
        IProgress<TrainingProgress>? progress,
        CancellationToken cancellationToken)
    {
        long totalSteps = (long)((lengths.Count + batchSize - 1) / batchSize) * epochs;
        var clock = Stopwatch.StartNew();
        var summaries = new List<EpochSummary>();
        WeightSnapshot? best = null;
        double bestScore = double.NegativeInfinity;
        int bestEpoch = epochs;
        int stale = 0;
        bool stoppedEarly = false;
        long steps = 0;
        double? lastValidation = null;
        TimeSpan Remaining() => TimeSpan.FromTicks((long)(clock.Elapsed.Ticks / (double)steps * (totalSteps - steps)));
        try
        {
            for (int epoch = 1; epoch <= epochs; epoch++)
            {
                model.train();
                double lossSum = 0;
                int lossCount = 0;
                foreach (int[] rows in ClassifierTrainer.LengthBucketedBatches(lengths, batchSize, random))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    lossSum += step(epoch, rows, steps);
                    lossCount++;
                    steps++;
                    progress?.Report(new TrainingProgress(phase(epoch), epoch, epochs, steps, totalSteps, lossSum / lossCount, lastValidation, clock.Elapsed, Remaining()));
                }

                double meanLoss = lossSum / Math.Max(1, lossCount);
                ClassificationMetrics? metrics = null;
                if (validate is not null)
                {
                    (double score, metrics) = validate();
                    lastValidation = score;
                    progress?.Report(new TrainingProgress("validate", epoch, epochs, steps, totalSteps, meanLoss, score, clock.Elapsed, Remaining()));
                    if (score > bestScore)
                    {
                        bestScore = score;
                        bestEpoch = epoch;
                        stale = 0;
                        best?.Dispose();
                        best = new WeightSnapshot(model);
                    }
                    else
                    {
                        stale++;
                    }
                }

                summaries.Add(new EpochSummary(epoch, meanLoss, metrics, lastValidation));
                if (earlyStoppingPatience > 0 && stale >= earlyStoppingPatience && epoch < epochs)
                {
                    stoppedEarly = true;
                    break;
                }
            }

            if (best is not null)
            {
                best.RestoreInto(model);
            }
            else
            {
                bestEpoch = summaries.Count;
            }
        }
        finally
        {
            best?.Dispose();
            model.eval();
        }

        return new TrainingReport(summaries, bestEpoch, stoppedEarly);
    }
}
