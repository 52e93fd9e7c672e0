// What every bench program needs: ../shared (datasets and the tokenizer mirror) and a one-line
// description of the machine the figures were measured on. Linked into each bench project.
internal static class BenchSupport
{
    /// <summary>../shared beside the repository (searched upward from the working folder), holding <paramref name="needed"/>.</summary>
    /// <param name="needed">A folder inside it the bench reads, e.g. data/conll2003.</param>
    public static string FindShared(string needed)
    {
        for (var directory = new DirectoryInfo(Environment.CurrentDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "..", "shared");
            if (Directory.Exists(Path.Combine(candidate, needed)))
            {
                return Path.GetFullPath(candidate);
            }
        }

        throw new DirectoryNotFoundException($"../shared with {needed} was not found beside the repository; run the bench from the repository.");
    }

    /// <summary>The CPU, core count, OS and .NET version.</summary>
    public static string Machine()
    {
        string cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU"
            : "unknown CPU";
        return $"{cpu}, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}";
    }

    /// <summary>The median of <paramref name="values"/> (the mean of the middle two for an even count).</summary>
    public static double Median(IEnumerable<double> values)
    {
        double[] sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
