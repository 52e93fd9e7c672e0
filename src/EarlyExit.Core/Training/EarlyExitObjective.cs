// Training objectives of an early-exit classifier. CE_i is the cross-entropy of layer i's logits
// against the labels, per row; for a regression model (one output) it is the squared error
// (y_i - target)^2 instead, as PABEE and PALBERT train STS-B.
//
//   Ponder  (PALBERT, PonderNet)  mean_B Σ_i p_i CE_i + β · KL(prior, p)     needs a halting head
//   Pabee   (PABEE)               Σ_i i · mean_B CE_i / Σ_i i                (layer i weighted by its index, 1-based)
//   Joint   (DeeBERT / ElasticBERT-style joint training)   mean_i mean_B CE_i
//   LastLayer (fixed depth: standard fine-tuning)          mean_B CE_L; the earlier exits are not trained
using static TorchSharp.torch;

namespace EarlyExit.Training;

/// <summary>What the early-exit classifier is trained to minimise.</summary>
public enum TrainingObjective
{
    /// <summary>Halting-weighted cross-entropy plus β · KL to a geometric prior (PALBERT, PonderNet). Needs a halting head.</summary>
    Ponder,

    /// <summary>Per-layer cross-entropy weighted by the layer index (PABEE).</summary>
    Pabee,

    /// <summary>Plain average of the per-layer cross-entropies (DeeBERT / ElasticBERT-style joint training).</summary>
    Joint,

    /// <summary>The last layer's cross-entropy only: standard full-depth fine-tuning, the baseline early exit is measured against (earlier exits stay untrained).</summary>
    LastLayer,
}

/// <summary>The loss of one batch under a <see cref="TrainingObjective"/>.</summary>
internal sealed class EarlyExitObjective
{
    private readonly double[] _prior;

    /// <summary>Creates the objective for an <paramref name="layers"/>-layer model.</summary>
    /// <param name="objective">Which loss.</param>
    /// <param name="layers">L.</param>
    /// <param name="lambdaP">The geometric prior's parameter (Ponder only).</param>
    /// <param name="beta">The weight of the KL term (Ponder only).</param>
    /// <param name="direction">Which KL divergence (Ponder only).</param>
    /// <param name="targetScale">Regression only: squared errors are divided by its square, i.e. taken on standardised targets.</param>
    public EarlyExitObjective(TrainingObjective objective, int layers, double lambdaP, double beta, KlDirection direction, double targetScale = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(targetScale);
        TargetScale = targetScale;
        Objective = objective;
        Layers = layers;
        Beta = beta;
        Direction = direction;
        _prior = objective == TrainingObjective.Ponder ? Halting.GeometricPrior(lambdaP, layers) : [];
    }

    /// <summary>Which loss.</summary>
    public TrainingObjective Objective { get; }

    /// <summary>L.</summary>
    public int Layers { get; }

    /// <summary>The weight of the KL term.</summary>
    public double Beta { get; }

    /// <summary>Which KL divergence.</summary>
    public KlDirection Direction { get; }

    /// <summary>Regression: the scale squared errors are measured in (the training targets' standard deviation).</summary>
    public double TargetScale { get; }

    /// <summary>
    /// The loss (a scalar) for per-layer logits [L, B, C], halting logits [L, B] (Ponder) and labels [B]
    /// (int64, 0-based classes); for a regression model, outputs [L, B, 1] and float32 targets [B].
    /// </summary>
    /// <exception cref="ArgumentException">Ponder without halting logits, or shapes that do not fit.</exception>
    public Tensor Loss(Tensor logits, Tensor? haltingLogits, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(labels);
        if (logits.ndim != 3 || logits.shape[0] != Layers || logits.shape[1] != labels.shape[0])
        {
            throw new ArgumentException($"logits must be [L={Layers}, B={labels.shape[0]}, C], found [{string.Join(", ", logits.shape)}].", nameof(logits));
        }

        using var scope = NewDisposeScope();
        long layers = logits.shape[0];
        long rows = logits.shape[1];
        long classes = logits.shape[2];
        Tensor ce = classes == 1
            ? ((logits.squeeze(-1) - labels.to_type(logits.dtype).unsqueeze(0)) / TargetScale).square() // [L, B, 1] -> [L, B]: standardised squared error
            : nn.functional.cross_entropy(
                logits.reshape(layers * rows, classes), // [L, B, C] -> [L*B, C]
                labels.unsqueeze(0).expand(layers, rows).reshape(layers * rows), // [B] -> [L*B]
                reduction: nn.Reduction.None).view(layers, rows); // [L*B] -> [L, B]
        Tensor loss;
        switch (Objective)
        {
            case TrainingObjective.Ponder:
                if (haltingLogits is null)
                {
                    throw new ArgumentException("The Ponder objective needs halting logits; the model has no halting head.", nameof(haltingLogits));
                }

                Tensor logP = Halting.LogDistribution(haltingLogits); // [L, B]
                Tensor task = (logP.exp() * ce).sum(dim: 0).mean(); // Σ_i p_i CE_i per row, then the batch mean
                Tensor prior = tensor(_prior.Select(v => (float)v).ToArray(), ScalarType.Float32, logits.device);
                loss = task + (Beta * Halting.KlDivergence(logP, prior, Direction));
                break;
            case TrainingObjective.Pabee:
                Tensor weights = arange(1, layers + 1, ScalarType.Float32, logits.device); // [L]: 1..L
                loss = (ce.mean(dimensions: [1]) * weights).sum() / weights.sum();
                break;
            case TrainingObjective.LastLayer:
                loss = ce[layers - 1].mean();
                break;
            default:
                loss = ce.mean();
                break;
        }

        return loss.MoveToOuterDisposeScope();
    }
}
