using System.Diagnostics;

namespace EarlyExit.MLNet.Tests.TestSupport;

/// <summary>Runs test/EarlyExit.MLNet.Tests.LoadProbe, a fresh process that loads model zips, and returns what it printed.</summary>
internal static class LoadProbe
{
    public static string Run(params string[] arguments)
    {
        string probe = TestPaths.LoadProbe;
        Assert.True(File.Exists(probe), $"The load probe is not built at '{probe}'; build test/EarlyExit.MLNet.Tests (it builds the probe first).");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(probe);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("The load probe did not finish within 3 minutes.");
        }

        string output = stdout.Result;
        Assert.True(process.ExitCode == 0, $"The load probe exited with {process.ExitCode}.\nstdout:\n{output}\nstderr:\n{stderr.Result}");
        return output;
    }
}
