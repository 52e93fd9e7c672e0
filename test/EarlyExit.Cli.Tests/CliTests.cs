using EarlyExit.Cli.Tests.TestSupport;

namespace EarlyExit.Cli.Tests;

public sealed class CliTests
{
    [Fact]
    public async Task RunAsync_Help_ListsTheCommandsAndExitsZero()
    {
        CliResult root = await CliRun.RunAsync("--help");
        CliResult train = await CliRun.RunAsync("classify", "train", "--help");

        Assert.Equal(ExitCodes.Success, root.ExitCode);
        Assert.Contains("classify", root.Output);
        Assert.Equal(ExitCodes.Success, train.ExitCode);
        foreach (string option in new[] { "--train", "--valid", "--text-pair-column", "--backbone", "--exit-criterion", "--max-train-rows", "--separator", "--no-header", "--quoting", "--assets", "--offline" })
        {
            Assert.Contains(option, train.Output);
        }
    }

    [Fact]
    public async Task RunAsync_NoCommand_IsAUsageError()
    {
        CliResult result = await CliRun.RunAsync();

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("earlyexit --help", result.Error);
    }

    [Fact]
    public async Task RunAsync_MissingRequiredOptions_ListsEachAsAUsageError()
    {
        CliResult result = await CliRun.RunAsync("classify", "evaluate", "--data", "x.tsv");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("'--model' is required", result.Error);
        Assert.Contains("'--text-column' is required", result.Error);
        Assert.Contains("'--label-column' is required", result.Error);
    }

    [Theory]
    [InlineData("--separator", "tabs", "--separator 'tabs' is not valid")]
    [InlineData("--batch-size", "0", "--batch-size is 0; it must be at least 1")]
    public async Task RunAsync_BadOptionValue_IsAUsageError(string option, string value, string message)
    {
        CliResult result = await CliRun.RunAsync("classify", "score", "--model", "m.zip", "--data", "d.tsv", "--text-column", "t", "--out", "o.tsv", option, value);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains(message, result.Error);
    }

    [Fact]
    public async Task RunAsync_QuotingAndNoQuoting_IsAUsageError()
    {
        CliResult result = await CliRun.RunAsync("classify", "score", "--model", "m.zip", "--data", "d.tsv", "--text-column", "t", "--out", "o.tsv", "--quoting", "--no-quoting");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("contradict", result.Error);
    }
}
