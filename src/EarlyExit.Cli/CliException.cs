namespace EarlyExit.Cli;

/// <summary>
/// A problem the user can fix (a missing file or column, a malformed line, an unseen label). The
/// command prints its message as one paragraph, without a stack trace, and exits with
/// <see cref="ExitCodes.Error"/>, or <see cref="ExitCodes.Usage"/> when <see cref="IsUsage"/>.
/// </summary>
internal sealed class CliException : Exception
{
    public CliException(string message, bool isUsage = false)
        : base(message)
    {
        IsUsage = isUsage;
    }

    public CliException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>Whether the command line itself is wrong (exit code 2) rather than the data or the files (exit code 1).</summary>
    public bool IsUsage { get; }
}
