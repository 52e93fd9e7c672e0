// Exit criteria decide, layer by layer and row by row, whether a row may stop. They see only what
// the exit heads said so far (class probabilities, halting probabilities), so the same criterion
// works live (scoring stops computing a row once it exits) and offline on recorded per-layer
// outputs (threshold sweeps).
//
// A criterion is an immutable description with a canonical text form ("qexit:0.5", "patience:6");
// ExitCriterion.Parse reads it back, so criteria travel through command lines and model files.
// Each scoring pass asks the criterion for a fresh ExitDecider, which holds the per-row state
// (cumulative halting mass, patience counters, ...) of that pass.
using System.Globalization;

namespace EarlyExit.ExitCriteria;

/// <summary>When a row of an early-exit classifier may stop. Create with the static factories or <see cref="Parse"/>.</summary>
public abstract class ExitCriterion : IEquatable<ExitCriterion>
{
    /// <summary>The text forms <see cref="Parse"/> accepts.</summary>
    public const string Syntax = "qexit:Q, sampled[:SEED], expectation, patience:N (regression: patience:N:T), entropy:T, maxprob:T, layer:K, full";

    /// <summary>The canonical text form, e.g. <c>qexit:0.5</c>; <see cref="Parse"/> reads it back.</summary>
    public abstract string Name { get; }

    /// <summary>Whether the criterion reads halting probabilities (the model needs a halting head).</summary>
    public virtual bool RequiresHaltingHead => false;

    /// <summary>Whether the criterion reads class probabilities, which a regression model (one real-valued output) does not have.</summary>
    public virtual bool RequiresClassProbabilities => false;

    /// <summary>Exit at the first layer whose cumulative halting probability exceeds <paramref name="q"/> (PALBERT's Q-exit).</summary>
    /// <param name="q">The threshold on the halting CDF, in (0, 1). PALBERT's default is 0.5.</param>
    public static ExitCriterion QExit(double q = 0.5) => new QExitCriterion(q);

    /// <summary>Exit at layer i with probability λ_i (PonderNet). Draws are a function of <paramref name="seed"/>, the row's tokens and the layer, so they do not depend on batching.</summary>
    public static ExitCriterion Sampled(int seed = 0) => new SampledExitCriterion(seed);

    /// <summary>Run every layer and predict Σ_i p_i · softmax_i (the halting-weighted mixture).</summary>
    public static ExitCriterion Expectation() => new ExpectationExitCriterion();

    /// <summary>Exit once the predicted class has stayed the same for <paramref name="patience"/> consecutive layers (PABEE).</summary>
    public static ExitCriterion Patience(int patience) => new PatienceExitCriterion(patience);

    /// <summary>Regression models: exit once the predicted value has changed by less than <paramref name="tolerance"/> for <paramref name="patience"/> consecutive layers (PABEE).</summary>
    public static ExitCriterion Patience(int patience, double tolerance) => new PatienceExitCriterion(patience, tolerance);

    /// <summary>Exit at the first layer whose normalised entropy H(p) / log C is below <paramref name="threshold"/> (DeeBERT).</summary>
    public static ExitCriterion Entropy(double threshold) => new EntropyExitCriterion(threshold);

    /// <summary>Exit at the first layer whose largest class probability is at least <paramref name="threshold"/>.</summary>
    public static ExitCriterion MaxProbability(double threshold) => new MaxProbabilityExitCriterion(threshold);

    /// <summary>Always exit at layer <paramref name="layer"/> (1-based): a shallower fixed-depth model.</summary>
    public static ExitCriterion FixedLayer(int layer) => new FixedLayerExitCriterion(layer);

    /// <summary>Run every layer and predict from the last (no early exit).</summary>
    public static ExitCriterion Full() => FullDepthExitCriterion.Instance;

    /// <summary>Reads a criterion from its text form (case-insensitive): <c>qexit:0.5</c>, <c>sampled:42</c>, <c>expectation</c>, <c>patience:6</c>, <c>entropy:0.3</c>, <c>maxprob:0.9</c>, <c>layer:4</c>, <c>full</c>.</summary>
    /// <exception cref="FormatException">The text is none of those, or its value is out of range; the message says which and lists the forms.</exception>
    public static ExitCriterion Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string trimmed = text.Trim();
        int colon = trimmed.IndexOf(':', StringComparison.Ordinal);
        string kind = (colon < 0 ? trimmed : trimmed[..colon]).ToLowerInvariant();
        string? value = colon < 0 ? null : trimmed[(colon + 1)..].Trim();
        try
        {
            return kind switch
            {
                "qexit" or "q" => QExit(Number(value, kind, text)),
                "sampled" or "sample" or "pondernet" => Sampled(value is null ? 0 : Integer(value, kind, text)),
                "expectation" when value is null => Expectation(),
                "patience" or "pabee" => PatienceWithTolerance(value, kind, text),
                "entropy" or "deebert" => Entropy(Number(value, kind, text)),
                "maxprob" or "max-probability" or "maxprobability" => MaxProbability(Number(value, kind, text)),
                "layer" or "fixed" => FixedLayer(Integer(value, kind, text)),
                "full" when value is null => Full(),
                _ => throw new FormatException($"Exit criterion '{text}' is not known; use one of: {Syntax}."),
            };
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new FormatException($"Exit criterion '{text}': {e.Message.Split(Environment.NewLine)[0]} Forms: {Syntax}.", e);
        }
    }

    /// <summary>
    /// A fresh per-pass state for <paramref name="rows"/> rows of a model with <paramref name="layers"/>
    /// layers and <paramref name="classes"/> classes.
    /// </summary>
    /// <param name="rows">How many rows the pass scores.</param>
    /// <param name="layers">L.</param>
    /// <param name="classes">C; 1 for a regression model (its one output is then the predicted value).</param>
    /// <param name="hasHaltingHead">Whether halting probabilities will be given.</param>
    /// <param name="rowKeys">A stable key per row (e.g. a hash of its tokens), used by <see cref="Sampled"/>; null for 0.</param>
    /// <exception cref="InvalidOperationException">The criterion needs something the model lacks (a halting head, enough layers).</exception>
    internal ExitDecider CreateDecider(int rows, int layers, int classes, bool hasHaltingHead, ReadOnlySpan<ulong> rowKeys = default)
    {
        if (Incompatibility(classes, hasHaltingHead) is string problem)
        {
            throw new InvalidOperationException(problem);
        }

        return CreateDeciderCore(rows, layers, classes, rowKeys);
    }

    /// <summary>
    /// Why the criterion cannot score a model with <paramref name="classes"/> outputs (1 for regression)
    /// and with or without a halting head, as a message naming the alternatives; null when it can. Trainers
    /// call it before training so that a wrong criterion fails before any work is done.
    /// </summary>
    /// <param name="classes">C; 1 for a regression model.</param>
    /// <param name="hasHaltingHead">Whether the model has a halting head.</param>
    public virtual string? Incompatibility(int classes, bool hasHaltingHead)
    {
        if (RequiresHaltingHead && !hasHaltingHead)
        {
            return $"Exit criterion '{Name}' needs halting probabilities, but this model was trained without a halting (lambda) head. " +
                "Use patience:N, entropy:T, maxprob:T, layer:K or full, or train with a halting head (the Ponder objective).";
        }

        if (RequiresClassProbabilities && classes == 1)
        {
            return $"Exit criterion '{Name}' reads class probabilities, but this is a regression model (one real-valued output). " +
                "Use qexit:Q, sampled, expectation, patience:N:T, layer:K or full.";
        }

        return null;
    }

    /// <summary>Creates the per-pass state; the requirements are already checked.</summary>
    private protected abstract ExitDecider CreateDeciderCore(int rows, int layers, int classes, ReadOnlySpan<ulong> rowKeys);

    /// <inheritdoc />
    public override string ToString() => Name;

    /// <inheritdoc />
    public bool Equals(ExitCriterion? other) => other is not null && other.Name == Name;

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as ExitCriterion);

    /// <inheritdoc />
    public override int GetHashCode() => Name.GetHashCode(StringComparison.Ordinal);

    /// <summary>A number in the invariant culture's shortest round-trip form, for names.</summary>
    protected static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static double Number(string? value, string kind, string text)
    {
        if (value is null || !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double number))
        {
            throw new FormatException($"Exit criterion '{text}' needs a number after '{kind}:', e.g. {kind}:0.5. Forms: {Syntax}.");
        }

        return number;
    }

    // patience:N, or patience:N:T for regression models.
    private static ExitCriterion PatienceWithTolerance(string? value, string kind, string text)
    {
        int colon = value?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        return colon < 0
            ? Patience(Integer(value, kind, text))
            : Patience(Integer(value![..colon], kind, text), Number(value[(colon + 1)..], kind, text));
    }

    private static int Integer(string? value, string kind, string text)
    {
        if (value is null || !int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int number))
        {
            throw new FormatException($"Exit criterion '{text}' needs a whole number after '{kind}:', e.g. {kind}:3. Forms: {Syntax}.");
        }

        return number;
    }
}

/// <summary>
/// The state of one scoring pass under an <see cref="ExitCriterion"/>: it is shown each active row's
/// exit-head outputs layer by layer and says when the row exits; afterwards it gives the row's
/// prediction. Rows are numbered 0..rows-1 within the pass.
/// </summary>
internal abstract class ExitDecider
{
    private readonly float[] _predictions;
    private readonly int[] _exitLayers;

    /// <summary>Creates the state.</summary>
    protected ExitDecider(int rows, int layers, int classes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(layers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        Rows = rows;
        Layers = layers;
        Classes = classes;
        _predictions = new float[rows * classes];
        _exitLayers = new int[rows];
    }

    /// <summary>The number of rows of the pass.</summary>
    public int Rows { get; }

    /// <summary>L.</summary>
    public int Layers { get; }

    /// <summary>C.</summary>
    public int Classes { get; }

    /// <summary>
    /// Shows row <paramref name="row"/>'s outputs at layer <paramref name="layer"/> (0-based):
    /// its class probabilities and its halting probability λ (NaN without a halting head).
    /// Returns true when the row exits here; it always exits at the last layer.
    /// </summary>
    public bool Observe(int row, int layer, ReadOnlySpan<float> probabilities, float halting)
    {
        if (probabilities.Length != Classes)
        {
            throw new ArgumentException($"Expected {Classes} class probabilities, got {probabilities.Length}.", nameof(probabilities));
        }

        if (_exitLayers[row] != 0)
        {
            throw new InvalidOperationException($"Row {row} already exited at layer {_exitLayers[row]}.");
        }

        bool exits = Decide(row, layer, probabilities, halting) || layer == Layers - 1;
        if (exits)
        {
            _exitLayers[row] = layer + 1;
            WritePrediction(row, layer, probabilities, _predictions.AsSpan(row * Classes, Classes));
        }

        return exits;
    }

    /// <summary>The 1-based layer row <paramref name="row"/> exited at, or 0 while it has not.</summary>
    public int ExitLayer(int row) => _exitLayers[row];

    /// <summary>The class probabilities predicted for row <paramref name="row"/> (valid once it exited).</summary>
    public ReadOnlySpan<float> Prediction(int row) => _predictions.AsSpan(row * Classes, Classes);

    /// <summary>Whether row <paramref name="row"/> exits at layer <paramref name="layer"/> (0-based; the last layer is forced anyway).</summary>
    protected abstract bool Decide(int row, int layer, ReadOnlySpan<float> probabilities, float halting);

    /// <summary>The prediction of a row exiting at <paramref name="layer"/>; by default that layer's probabilities.</summary>
    protected virtual void WritePrediction(int row, int layer, ReadOnlySpan<float> probabilities, Span<float> destination) =>
        probabilities.CopyTo(destination);
}
