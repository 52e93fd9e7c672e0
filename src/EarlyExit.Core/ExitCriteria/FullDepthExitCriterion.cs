namespace EarlyExit.ExitCriteria;

/// <summary>No early exit: every row runs every layer and is predicted from the last.</summary>
public sealed class FullDepthExitCriterion : ExitCriterion
{
    private FullDepthExitCriterion()
    {
    }

    /// <summary>The only instance.</summary>
    public static FullDepthExitCriterion Instance { get; } = new();

    /// <inheritdoc />
    public override string Name => "full";

    /// <inheritdoc />
    private protected override ExitDecider CreateDeciderCore(int rows, int layers, int classes, ReadOnlySpan<ulong> rowKeys) => new Decider(rows, layers, classes);

    private sealed class Decider(int rows, int layers, int classes) : ExitDecider(rows, layers, classes)
    {
        protected override bool Decide(int row, int layer, ReadOnlySpan<float> probabilities, float halting) => false;
    }
}
