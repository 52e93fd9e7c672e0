namespace EarlyExit.ExitCriteria;

/// <summary>Helpers over per-class scores (probabilities or logits).</summary>
internal static class Scores
{
    /// <summary>The index of the largest value, the first on ties (0 for an empty span).</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }
}
