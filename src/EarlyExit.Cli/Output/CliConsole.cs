// Where a command writes: results and progress to the output writer, problems to the error writer.
//
// Progress has two faces. On an interactive terminal a Spectre.Console progress bar is redrawn in
// place; anywhere else (a pipe, a log file, CI, the tests' StringWriter) progress is plain lines,
// written about every 5% of the work and at least every 30 seconds, so logs stay short and readable.
using System.Diagnostics;
using Spectre.Console;

namespace EarlyExit.Cli.Output;

/// <summary>The output and error writers of one command run, and its progress display.</summary>
internal sealed class CliConsole
{
    private const double PlainLineFraction = 0.05;
    private static readonly TimeSpan s_plainLineInterval = TimeSpan.FromSeconds(30);

    public CliConsole(TextWriter output, TextWriter error, bool interactive)
    {
        Output = output;
        Error = error;
        Interactive = interactive;
    }

    /// <summary>Results and progress.</summary>
    public TextWriter Output { get; }

    /// <summary>Problems.</summary>
    public TextWriter Error { get; }

    /// <summary>Whether the output is a terminal that can redraw a progress bar.</summary>
    public bool Interactive { get; }

    /// <summary>Whether <paramref name="output"/> is this process's console on an interactive terminal.</summary>
    public static bool IsInteractiveTerminal(TextWriter output) =>
        ReferenceEquals(output, Console.Out)
        && !Console.IsOutputRedirected
        && !string.Equals(Environment.GetEnvironmentVariable("TERM"), "dumb", StringComparison.Ordinal);

    /// <summary>Writes one line of output.</summary>
    public void WriteLine(string line = "") => Output.WriteLine(line);

    /// <summary>Writes <paramref name="message"/> to standard error as a warning.</summary>
    public void Warn(string message) => Error.WriteLine($"warning: {message}");

    /// <summary>
    /// Runs <paramref name="work"/> with a progress display titled <paramref name="title"/>: a live bar on
    /// an interactive terminal, periodic lines otherwise.
    /// </summary>
    public T RunWithProgress<T>(string title, Func<ProgressSink, T> work)
    {
        if (!Interactive)
        {
            return work(new PlainProgressSink(Output, title));
        }

        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Output),
            Interactive = InteractionSupport.Yes,
        });
        return console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context => work(new LiveProgressSink(console, context.AddTask(Markup.Escape(title), autoStart: true, maxValue: 1), title)));
    }

    /// <summary>Receives progress from long work.</summary>
    public abstract class ProgressSink
    {
        /// <summary>Reports that <paramref name="done"/> of <paramref name="total"/> units are done, with a short status.</summary>
        /// <param name="done">Units done.</param>
        /// <param name="total">Units planned.</param>
        /// <param name="status">What is happening, short, e.g. "epoch 1/3, loss 0.6931".</param>
        /// <param name="detail">More for plain lines (a live bar shows elapsed and remaining time itself), e.g. ", elapsed 00:01:02, ETA 00:03:00".</param>
        /// <param name="important">Always show this one (plain lines skip most reports).</param>
        public abstract void Report(long done, long total, string status, string detail = "", bool important = false);

        /// <summary>Writes a line of text above the progress display.</summary>
        public abstract void WriteLine(string line);
    }

    private sealed class PlainProgressSink(TextWriter output, string title) : ProgressSink
    {
        private readonly Stopwatch _sinceLastLine = Stopwatch.StartNew();
        private double _lastFraction = double.NegativeInfinity;

        public override void Report(long done, long total, string status, string detail = "", bool important = false)
        {
            double fraction = total > 0 ? (double)done / total : 0;
            bool due = important || done == total || fraction - _lastFraction >= PlainLineFraction || _sinceLastLine.Elapsed >= s_plainLineInterval;
            if (!due)
            {
                return;
            }

            _lastFraction = fraction;
            _sinceLastLine.Restart();
            output.WriteLine($"{title}: {status}{detail}");
            output.Flush();
        }

        public override void WriteLine(string line)
        {
            output.WriteLine(line);
            output.Flush();
        }
    }

    private sealed class LiveProgressSink(IAnsiConsole console, ProgressTask task, string title) : ProgressSink
    {
        public override void Report(long done, long total, string status, string detail = "", bool important = false)
        {
            task.MaxValue = Math.Max(1, total);
            task.Value = done;
            task.Description = Markup.Escape($"{title}: {status}");
        }

        public override void WriteLine(string line) => console.WriteLine(line);
    }
}
