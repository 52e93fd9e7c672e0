// The halting distribution and its prior (PonderNet, PALBERT).
//
//   p_i = lambda_i * prod_{j<i} (1 - lambda_j)   for i < L
//   p_L = prod_{j<L} (1 - lambda_j)              the last layer takes the remaining mass
//
// In log space, from the halting logits z (lambda = sigmoid(z)): log lambda = logsigmoid(z) and
// log(1 - lambda) = logsigmoid(-z), so the distribution stays finite even when lambda saturates.
//
// The prior is a geometric distribution with parameter lambda_p, truncated at L layers with the last
// layer taking the remainder: prior_i = lambda_p (1 - lambda_p)^(i-1) for i < L, prior_L = (1 - lambda_p)^(L-1).
using static TorchSharp.torch;

namespace EarlyExit.Training;

/// <summary>Which Kullback-Leibler divergence regularises the halting distribution p towards the prior.</summary>
public enum KlDirection
{
    /// <summary>KL(prior ‖ p) = Σ prior · (log prior − log p), as PALBERT's reference code computes it (PyTorch's kl_div(log p, prior)). The default.</summary>
    PriorToHalting,

    /// <summary>KL(p ‖ prior) = Σ p · (log p − log prior), as the PonderNet paper writes it.</summary>
    HaltingToPrior,
}

/// <summary>The halting distribution and the geometric prior for training (scoring: Inference/HaltingDistribution.cs).</summary>
internal static class Halting
{
    /// <summary>log p, [L, B], from halting logits [L, B] (see the file header).</summary>
    public static Tensor LogDistribution(Tensor haltingLogits)
    {
        ArgumentNullException.ThrowIfNull(haltingLogits);
        using var scope = NewDisposeScope();
        long layers = haltingLogits.shape[0];
        Tensor logHalt = nn.functional.logsigmoid(haltingLogits); // log lambda_i
        Tensor logContinue = nn.functional.logsigmoid(-haltingLogits); // log (1 - lambda_i)
        // log prod_{j<i} (1 - lambda_j): an exclusive cumulative sum, 0 for the first layer.
        Tensor survived = logContinue.cumsum(0) - logContinue; // [L, B]
        Tensor logP = logHalt + survived;
        // The last layer takes everything not halted before it.
        Tensor last = survived[layers - 1];
        Tensor result = cat([logP.narrow(0, 0, layers - 1), last.unsqueeze(0)], 0);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>The truncated geometric prior over <paramref name="layers"/> layers with parameter <paramref name="lambdaP"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lambdaP"/> is not in (0, 1) or <paramref name="layers"/> is below 1.</exception>
    public static double[] GeometricPrior(double lambdaP, int layers)
    {
        if (!(lambdaP > 0 && lambdaP < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(lambdaP), lambdaP, "The geometric prior's parameter lambda_p must be in (0, 1).");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(layers, 1);
        var prior = new double[layers];
        double remaining = 1.0;
        for (int i = 0; i < layers - 1; i++)
        {
            prior[i] = remaining * lambdaP;
            remaining *= 1 - lambdaP;
        }

        prior[layers - 1] = remaining;
        return prior;
    }

    /// <summary>
    /// The KL divergence between the halting distribution (log p, [L, B]) and the prior ([L]),
    /// summed over layers and averaged over the batch (PyTorch's "batchmean").
    /// </summary>
    public static Tensor KlDivergence(Tensor logP, Tensor prior, KlDirection direction)
    {
        using var scope = NewDisposeScope();
        Tensor logPrior = prior.log().unsqueeze(1); // [L] -> [L, 1]
        Tensor priorColumn = prior.unsqueeze(1); // [L] -> [L, 1]
        Tensor perLayer = direction == KlDirection.PriorToHalting
            ? priorColumn * (logPrior - logP)
            : logP.exp() * (logP - logPrior);
        return (perLayer.sum() / logP.shape[1]).MoveToOuterDisposeScope();
    }
}
