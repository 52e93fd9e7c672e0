namespace EarlyExit.Cli.Classify;

/// <summary>
/// The fixed row every classify command hands to ML.NET, whatever the user's file calls its columns.
/// A model saved by <c>earlyexit classify train</c> therefore always reads these names, so C# code can
/// load it with this shape:
/// <code>
/// class Row { public string Sentence1 { get; set; } public string Sentence2 { get; set; } public string Label { get; set; } }
/// </code>
/// </summary>
public sealed class ClassificationRow
{
    /// <summary>The internal name of the text column.</summary>
    public const string Sentence1Column = nameof(Sentence1);

    /// <summary>The internal name of the second text of pairs (empty for single texts).</summary>
    public const string Sentence2Column = nameof(Sentence2);

    /// <summary>The internal name of the label column (empty when scoring).</summary>
    public const string LabelColumn = nameof(Label);

    /// <summary>The text, or the first text of a pair.</summary>
    public string Sentence1 { get; set; } = "";

    /// <summary>The second text of a pair; empty for single-text tasks.</summary>
    public string Sentence2 { get; set; } = "";

    /// <summary>The class, as text; empty when unknown (scoring).</summary>
    public string Label { get; set; } = "";
}
