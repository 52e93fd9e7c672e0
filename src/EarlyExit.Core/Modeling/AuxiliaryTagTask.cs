namespace EarlyExit.Modeling;

/// <summary>
/// A lower-level tagging task trained beside a token classifier's own tags, with its head after one
/// layer (hierarchical multi-task learning): for example part of speech after layer 1 and chunks after
/// layer 2, so that a network that exits early has already settled those decisions.
/// </summary>
/// <param name="Name">The task's name (for columns, settings and messages), for example "pos".</param>
/// <param name="NumLabels">Its number of tags (at least 2).</param>
/// <param name="Layer">The 1-based layer its head reads.</param>
/// <param name="Weight">The weight of its loss against the off-ramps' loss (more than 0).</param>
public sealed record AuxiliaryTagTask(string Name, int NumLabels, int Layer, double Weight)
{
    /// <summary>What is wrong with this task for a network of <paramref name="layers"/> layers, or nothing.</summary>
    internal IEnumerable<string> Problems(int layers)
    {
        if (string.IsNullOrWhiteSpace(Name))
        {
            yield return "An auxiliary task has no name; give it one, for example \"pos\".";
            yield break;
        }

        if (NumLabels < 2)
        {
            yield return $"Auxiliary task '{Name}' has {NumLabels} tags; it needs at least 2.";
        }

        if (Layer < 1 || Layer > layers)
        {
            yield return $"Auxiliary task '{Name}' reads layer {Layer}; choose a layer in 1..{layers}.";
        }

        if (!(Weight > 0) || double.IsInfinity(Weight))
        {
            yield return $"Auxiliary task '{Name}' has weight {Weight}; the weight must be a finite number above 0.";
        }
    }
}
