// Pieces both training loops (ClassifierTrainer, TokenClassifierTrainer) share: the learning-rate
// schedule, AdamW parameter groups, and best-epoch weight snapshots.
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
