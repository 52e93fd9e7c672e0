namespace EarlyExit.ExitCriteria;

/// <summary>
/// PonderNet's exit: at layer i the row halts with probability λ_i. Each draw is a deterministic
/// function of the seed, the row's key (a hash of its tokens) and the layer, so a row gets the
/// same exit whether it is scored alone or in a batch, and the same run can be repeated.
/// </summary>
public sealed class SampledExitCriterion : ExitCriterion
{
    /// <summary>Creates the criterion.</summary>
    /// <param name="seed">Seed of the draws.</param>
    public SampledExitCriterion(int seed)
    {
        Seed = seed;
    }

    /// <summary>Seed of the draws.</summary>
    public int Seed { get; }

    /// <inheritdoc />
    public override string Name => $"sampled:{Seed}";

    /// <inheritdoc />
    public override bool RequiresHaltingHead => true;

    /// <summary>The uniform draw in [0, 1) for a row key and a layer (SplitMix64 of the combined bits).</summary>
    public static double Draw(int seed, ulong rowKey, int layer)
    {
        ulong z = unchecked(rowKey ^ ((ulong)(uint)seed << 32) ^ ((ulong)(uint)layer * 0x9E3779B97F4A7C15UL));
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (z >> 11) * (1.0 / (1UL << 53));
    }

    /// <inheritdoc />
    private protected override ExitDecider CreateDeciderCore(int rows, int layers, int classes, ReadOnlySpan<ulong> rowKeys) =>
        new Decider(Seed, rowKeys.IsEmpty ? new ulong[rows] : rowKeys.ToArray(), rows, layers, classes);

    private sealed class Decider(int seed, ulong[] keys, int rows, int layers, int classes) : ExitDecider(rows, layers, classes)
    {
        protected override bool Decide(int row, int layer, ReadOnlySpan<float> probabilities, float halting) =>
            Draw(seed, keys[row], layer) < halting;
    }
}
