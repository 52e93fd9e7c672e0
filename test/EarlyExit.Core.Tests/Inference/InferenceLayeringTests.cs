using System.Text.RegularExpressions;
using EarlyExit.Tests.TestSupport;

namespace EarlyExit.Tests.Inference;

/// <summary>The one-way seam of issue 12: training may call inference; inference never calls training.</summary>
public class InferenceLayeringTests
{
    [Fact]
    public void InferenceSources_NeverReferenceTheTrainingNamespace()
    {
        string folder = Path.Combine(SharedAssets.RepoRoot, "src", "EarlyExit.Core", "Inference");
        string[] files = Directory.GetFiles(folder, "*.cs");

        Assert.NotEmpty(files);
        var offenders = files
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (File: Path.GetFileName(f), Line: i + 1, Text: line)))
            .Where(l => !l.Text.TrimStart().StartsWith("//", StringComparison.Ordinal) && Regex.IsMatch(l.Text, @"(?<![\w.])(EarlyExit\.)?Training\s*[.;]"))
            .Select(l => $"{l.File}:{l.Line}: {l.Text.Trim()}")
            .ToList();
        Assert.True(offenders.Count == 0, "Inference/ refers to Training/:\n" + string.Join("\n", offenders));
    }
}
