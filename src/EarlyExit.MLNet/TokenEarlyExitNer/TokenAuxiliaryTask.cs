// One auxiliary tag task of TokenEarlyExitNer (hierarchical multi-task learning, issue 14): a second
// tag column of the same words (part of speech, chunks), learnt by its own head after a low layer so
// the network settles lower-level decisions there. The trainer reads the column like the label (a
// vector of keys, one per word), adds Weight x its cross-entropy to the loss, and the transformer
// writes the task's tags into PredictedLabelColumnName. Core's AuxiliaryTagTask is the network's view.
using System.Globalization;

namespace EarlyExit.MLNet.TokenEarlyExitNer;

/// <summary>
/// An auxiliary tag task for <see cref="TokenEarlyExitNerTrainer.Options.AuxiliaryTasks"/>: another
/// per-word tag column (e.g. CoNLL-2003's part of speech), learnt by a head after <see cref="Layer"/>.
/// </summary>
public sealed class TokenAuxiliaryTask
{
    /// <summary>Creates a task with the default settings; set <see cref="LabelColumnName"/>.</summary>
    public TokenAuxiliaryTask()
    {
    }

    /// <summary>Creates a task.</summary>
    /// <param name="labelColumnName">The task's tags: a vector of keys, one per word (<c>MapValueToKey</c> over a vector of tag strings).</param>
    /// <param name="layer">The 1-based layer whose states the task's head reads.</param>
    /// <param name="weight">The task loss's weight.</param>
    /// <param name="predictedLabelColumnName">The output column of the task's predicted tags; null for "Predicted" + <paramref name="labelColumnName"/>.</param>
    public TokenAuxiliaryTask(string labelColumnName, int layer, double weight = DefaultWeight, string? predictedLabelColumnName = null)
    {
        LabelColumnName = labelColumnName;
        Layer = layer;
        Weight = weight;
        PredictedLabelColumnName = predictedLabelColumnName;
    }

    /// <summary>The default loss weight.</summary>
    public const double DefaultWeight = 1.0;

    /// <summary>The task's tags: a vector of Key&lt;UInt32&gt;, one per word. It also names the task in the saved model.</summary>
    /// <value>The default value is "" (must be set).</value>
    public string LabelColumnName { get; set; } = "";

    /// <summary>The 1-based layer after which the task's head reads each token (at most the backbone's layer count).</summary>
    /// <value>The default value is 1.</value>
    public int Layer { get; set; } = 1;

    /// <summary>The weight of the task's cross-entropy in the training loss (positive).</summary>
    /// <value>The default value is <see cref="DefaultWeight"/> (1).</value>
    public double Weight { get; set; } = DefaultWeight;

    /// <summary>The output column of the task's predicted tags (vector of keys with the task label's key values); null for "Predicted" + <see cref="LabelColumnName"/>.</summary>
    /// <value>The default value is null.</value>
    public string? PredictedLabelColumnName { get; set; }

    /// <summary>The output column actually written.</summary>
    internal string OutputColumnName => PredictedLabelColumnName ?? "Predicted" + LabelColumnName;

    /// <summary>The problems with this task (the <paramref name="index"/>-th of the options), each naming it.</summary>
    internal IEnumerable<string> Problems(int index, string labelColumnName)
    {
        string name = $"AuxiliaryTasks[{index}]";
        if (string.IsNullOrWhiteSpace(LabelColumnName))
        {
            yield return $"{name}.LabelColumnName is empty; name the column of the task's tags.";
        }
        else if (LabelColumnName == labelColumnName)
        {
            yield return $"{name}.LabelColumnName is '{LabelColumnName}', the main label; an auxiliary task needs its own tag column.";
        }

        if (Layer < 1)
        {
            yield return $"{name} ('{LabelColumnName}') has Layer {Layer}; layers are 1-based (1 is the first layer's output).";
        }

        if (!(Weight > 0) || double.IsInfinity(Weight))
        {
            yield return $"{name} ('{LabelColumnName}') has Weight {Weight.ToString(CultureInfo.InvariantCulture)}; it must be positive and finite.";
        }

        if (PredictedLabelColumnName is not null && string.IsNullOrWhiteSpace(PredictedLabelColumnName))
        {
            yield return $"{name}.PredictedLabelColumnName is empty; leave it null for 'Predicted{LabelColumnName}'.";
        }
    }
}
