namespace EarlyExit.MLNet.Schema;

/// <summary>
/// ML.NET key values against the 0-based class and tag indexes of the models: key k (1-based) is index
/// k - 1, and key 0 is a missing value. The only place that shift is written.
/// </summary>
internal static class KeyIndex
{
    /// <summary>The key of 0-based index <paramref name="index"/>.</summary>
    public static uint ToKey(int index) => checked((uint)index + 1);

    /// <summary>The 0-based index of <paramref name="key"/>, or null for key 0 (missing).</summary>
    public static int? ToIndex(uint key) => key == 0 ? null : (int)key - 1;
}
