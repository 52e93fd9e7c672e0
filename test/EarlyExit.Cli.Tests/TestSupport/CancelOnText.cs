namespace EarlyExit.Cli.Tests.TestSupport;

/// <summary>An output writer that cancels when a line containing <c>text</c> is written (like Ctrl+C during training).</summary>
public sealed class CancelOnText(string text, CancellationTokenSource cancellation) : StringWriter
{
    public override void WriteLine(string? value)
    {
        base.WriteLine(value);
        if (value?.Contains(text, StringComparison.Ordinal) == true)
        {
            cancellation.Cancel();
        }
    }
}
