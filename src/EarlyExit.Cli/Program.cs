// earlyexit: see Cli.cs. This file only connects the process (console writers, Ctrl+C) to Cli.RunAsync.
using EarlyExit.Cli;

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl+C cancels cleanly (the command stops at the next step and writes nothing);
    // a second one ends the process at once.
    if (!cancellation.IsCancellationRequested)
    {
        e.Cancel = true;
        Console.Error.WriteLine("cancelling... (Ctrl+C again to stop at once)");
        cancellation.Cancel();
    }
};

return await Cli.RunAsync(args, Console.Out, Console.Error, cancellation.Token);
