// The halting distribution at scoring time, from the halting probabilities of the layers a row ran
// (training computes it on tensors, in log space: Training/Halting.cs):
//
//   p_i = lambda_i * prod_{j<i} (1 - lambda_j)   for i < L
//   p_L = prod_{j<L} (1 - lambda_j)              the last layer takes the remaining mass
namespace EarlyExit.Inference;

/// <summary>One row's halting distribution from its halting probabilities.</summary>
internal static class HaltingDistribution
{
    /// <summary>
    /// The halting distribution of one row from its halting probabilities λ_1..λ_k (k ≤ L, the layers
    /// computed so far). Entry i needs λ_1..λ_i and the last entry (the remaining mass) λ_1..λ_{L-1};
    /// entries that need a layer that was not computed are NaN.
    /// </summary>
    public static float[] FromLambdas(ReadOnlySpan<float> lambdas, int layers)
    {
        if (lambdas.Length > layers)
        {
            throw new ArgumentException($"{lambdas.Length} halting probabilities for a {layers}-layer model.", nameof(lambdas));
        }

        var p = new float[layers];
        double remaining = 1.0;
        for (int i = 0; i < layers; i++)
        {
            if (i == layers - 1)
            {
                // p_L needs λ_1..λ_{L-1} only.
                p[i] = lambdas.Length >= layers - 1 ? (float)remaining : float.NaN;
            }
            else if (i < lambdas.Length)
            {
                p[i] = (float)(remaining * lambdas[i]);
                remaining *= 1 - lambdas[i];
            }
            else
            {
                p[i] = float.NaN;
            }
        }

        return p;
    }
}
