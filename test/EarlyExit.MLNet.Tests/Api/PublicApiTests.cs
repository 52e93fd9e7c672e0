using System.Reflection;
using System.Text;
using EarlyExit.Tests.TestSupport;

namespace EarlyExit.MLNet.Tests.Api;

/// <summary>
/// The public surface of the packed libraries (EarlyExit.Core, EarlyExit.MLNet, EarlyExit.OnnxRuntime) is tracked in
/// src/&lt;project&gt;/PublicAPI.txt: one line per public or protected type and member, sorted. A change to the
/// surface fails here with the lines added and removed; when the change is meant, regenerate the files with
/// <c>EARLYEXIT_UPDATE_PUBLIC_API=1 dotnet test --filter FullyQualifiedName~PublicApiTests</c> and review their diff.
/// </summary>
public sealed class PublicApiTests
{
    public static TheoryData<string> Libraries => new() { "EarlyExit.Core", "EarlyExit.MLNet", "EarlyExit.OnnxRuntime" };

    [Theory]
    [MemberData(nameof(Libraries))]
    public void PublicSurface_MatchesTheTrackedFile(string assemblyName)
    {
        Assembly assembly = AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => a.GetName().Name == assemblyName)
            ?? Assembly.Load(assemblyName);
        string file = Path.Combine(SharedAssets.RepoRoot, "src", assemblyName, "PublicAPI.txt");
        string[] actual = PublicApiListing.Of(assembly);

        if (Environment.GetEnvironmentVariable("EARLYEXIT_UPDATE_PUBLIC_API") == "1")
        {
            File.WriteAllText(file, string.Join("\n", actual) + "\n", new UTF8Encoding(false));
        }

        Assert.True(File.Exists(file), $"'{file}' is missing; create it with EARLYEXIT_UPDATE_PUBLIC_API=1.");
        string[] tracked = File.ReadAllLines(file).Where(l => l.Length > 0).ToArray();
        string[] added = actual.Except(tracked, StringComparer.Ordinal).ToArray();
        string[] removed = tracked.Except(actual, StringComparer.Ordinal).ToArray();
        Assert.True(added.Length == 0 && removed.Length == 0,
            $"The public API of {assemblyName} differs from {file}.\n" +
            $"Added ({added.Length}):\n  {string.Join("\n  ", added)}\nRemoved ({removed.Length}):\n  {string.Join("\n  ", removed)}\n" +
            "If this is meant, run with EARLYEXIT_UPDATE_PUBLIC_API=1 and commit the file.");
    }

    [Fact]
    public void Listing_NamesMembersWithTheirSignatures()
    {
        string[] lines = PublicApiListing.Of(typeof(EarlyExitCatalog).Assembly);

        Assert.Contains(lines, l => l.StartsWith("M:EarlyExit.MLNet.EarlyExitCatalog.Palbert(", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("EarlyExit.MLNet.Interop.", StringComparison.Ordinal));
        Assert.Equal(lines.Order(StringComparer.Ordinal), lines);
    }
}
