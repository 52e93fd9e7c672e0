namespace EarlyExit.Evaluation;

/// <summary>
/// Which class is "positive" for <see cref="ClassificationMetrics.F1"/>, chosen by the class's value and
/// never by its position: ML.NET numbers keys in order of first occurrence, so the same labels can
/// come in any order (MRPC's train.tsv starts with "1", which makes class "0" key 2).
/// </summary>
public static class PositiveClass
{
    /// <summary>
    /// The 0-based index in <paramref name="classNames"/> of the positive class: <paramref name="positiveLabel"/>
    /// when given; else "1", else "true" (any case), else the second name in ordinal order (of two
    /// classes the later one: "positive" over "negative", "yes" over "no"; a single class is its own).
    /// </summary>
    /// <param name="classNames">The model's class names in class-index order.</param>
    /// <param name="positiveLabel">The positive class's name, or null for the rule above.</param>
    /// <exception cref="ArgumentException">No classes, or <paramref name="positiveLabel"/> is not one of them (the message lists them).</exception>
    public static int Resolve(IReadOnlyList<string> classNames, string? positiveLabel = null)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        if (classNames.Count == 0)
        {
            throw new ArgumentException("There are no classes to choose the positive class from.", nameof(classNames));
        }

        if (positiveLabel is not null)
        {
            int named = IndexOf(classNames, positiveLabel, StringComparison.Ordinal);
            return named >= 0 ? named : throw new ArgumentException(
                $"The positive label '{positiveLabel}' is not a class of the model; its classes are {string.Join(", ", classNames.Select(c => $"'{c}'"))}.", nameof(positiveLabel));
        }

        int one = IndexOf(classNames, "1", StringComparison.Ordinal);
        if (one >= 0)
        {
            return one;
        }

        int truth = IndexOf(classNames, "true", StringComparison.OrdinalIgnoreCase);
        if (truth >= 0)
        {
            return truth;
        }

        string second = classNames.Order(StringComparer.Ordinal).ElementAt(Math.Min(1, classNames.Count - 1));
        return IndexOf(classNames, second, StringComparison.Ordinal);
    }

    private static int IndexOf(IReadOnlyList<string> names, string name, StringComparison comparison)
    {
        for (int i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], name, comparison))
            {
                return i;
            }
        }

        return -1;
    }
}
