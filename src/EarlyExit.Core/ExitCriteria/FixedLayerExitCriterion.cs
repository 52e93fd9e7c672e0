namespace EarlyExit.ExitCriteria;

/// <summary>Every row exits at the same layer: the model used as a shallower fixed-depth model.</summary>
public sealed class FixedLayerExitCriterion : ExitCriterion
{
    /// <summary>Creates the criterion.</summary>
    /// <param name="layer">The 1-based exit layer, at least 1 (and at most the model's layer count, checked when scoring).</param>
    public FixedLayerExitCriterion(int layer)
    {
        if (layer < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"the exit layer is 1-based and must be at least 1, got {layer}.");
        }

        Layer = layer;
    }

    /// <summary>The 1-based exit layer.</summary>
    public int Layer { get; }

    /// <inheritdoc />
    public override string Name => $"layer:{Layer}";

    /// <inheritdoc />
    private protected override ExitDecider CreateDeciderCore(int rows, int layers, int classes, ReadOnlySpan<ulong> rowKeys)
    {
        if (Layer > layers)
        {
            throw new InvalidOperationException($"Exit criterion '{Name}' asks for layer {Layer}, but the model has {layers} layers; use layer:1 to layer:{layers}.");
        }

        return new Decider(Layer, rows, layers, classes);
    }

    private sealed class Decider(int exitLayer, int rows, int layers, int classes) : ExitDecider(rows, layers, classes)
    {
        protected override bool Decide(int row, int layer, ReadOnlySpan<float> probabilities, float halting) => layer + 1 >= exitLayer;
    }
}
