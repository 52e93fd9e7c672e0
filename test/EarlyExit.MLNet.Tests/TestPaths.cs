using System.Reflection;

namespace EarlyExit.MLNet.Tests;

/// <summary>Paths the build writes into the test assembly (AssemblyMetadata).</summary>
internal static class TestPaths
{
    public static string LoadProbe => Get("LoadProbePath");

    public static string InternalsList => Get("InternalsListPath");

    private static string Get(string key) =>
        typeof(TestPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"The test assembly has no '{key}' metadata.");
}
