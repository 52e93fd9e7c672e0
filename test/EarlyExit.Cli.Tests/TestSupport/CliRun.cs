namespace EarlyExit.Cli.Tests.TestSupport;

/// <summary>The outcome of one in-process run of the command line.</summary>
/// <param name="ExitCode">What the process would exit with.</param>
/// <param name="Output">Everything written to the output writer.</param>
/// <param name="Error">Everything written to the error writer.</param>
public sealed record CliResult(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit code {ExitCode}\n--- output ---\n{Output}\n--- error ---\n{Error}";
}

/// <summary>Runs <see cref="Cli.RunAsync"/> in-process with string writers.</summary>
public static class CliRun
{
    public static async Task<CliResult> RunAsync(params string[] args) => await RunAsync(args, CancellationToken.None);

    public static async Task<CliResult> RunAsync(string[] args, CancellationToken cancellationToken, TextWriter? output = null)
    {
        var error = new StringWriter();
        output ??= new StringWriter();
        int code = await Cli.RunAsync(args, output, error, cancellationToken);
        return new CliResult(code, output.ToString() ?? "", error.ToString());
    }

    /// <summary>The flags every training run in the tests shares: a tiny BERT from random weights, offline, one short epoch.</summary>
    public static string[] FastTraining(string sharedRoot) =>
    [
        "--backbone", "tiny-bert", "--from-scratch", "--assets", sharedRoot, "--offline",
        "--epochs", "1", "--max-length", "32", "--batch-size", "16", "--learning-rate", "1e-3", "--device", "cpu",
    ];
}
