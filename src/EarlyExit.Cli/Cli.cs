// The earlyexit command line: the command tree, parsing and the mapping of outcomes to exit codes.
// Program.cs only wires the process's console and Ctrl+C to RunAsync, so tests run every command
// in-process with their own writers and cancellation.
using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using EarlyExit.Cli.Classify;
using EarlyExit.Cli.Ner;
using EarlyExit.Cli.Output;

namespace EarlyExit.Cli;

/// <summary>The exit codes of <c>earlyexit</c>.</summary>
public static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Success = 0;

    /// <summary>The command could not be carried out (a file, column, label or model problem); the message says why.</summary>
    public const int Error = 1;

    /// <summary>The command line is wrong (an unknown or missing option, a bad value).</summary>
    public const int Usage = 2;

    /// <summary>Cancelled (Ctrl+C): 128 + SIGINT, as shells report it. Nothing was written.</summary>
    public const int Cancelled = 130;
}

/// <summary>The <c>earlyexit</c> command-line tool.</summary>
public static class Cli
{
    /// <summary>The name of the tool in help and messages.</summary>
    public const string ToolName = "earlyexit";

    /// <summary>
    /// Runs the command line <paramref name="args"/>: results and progress go to <paramref name="output"/>,
    /// problems to <paramref name="error"/> as one paragraph without a stack trace.
    /// </summary>
    /// <param name="args">The arguments, without the program name.</param>
    /// <param name="output">Results and progress. A progress bar is drawn only when this is the console's own writer on a terminal.</param>
    /// <param name="error">Problems.</param>
    /// <param name="cancellationToken">Cancels the command (Ctrl+C); nothing half-written is left behind.</param>
    /// <returns>The exit code: see <see cref="ExitCodes"/>.</returns>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var console = new CliConsole(output, error, CliConsole.IsInteractiveTerminal(output));
        RootCommand root = CreateRootCommand(console);
        ParseResult parse = root.Parse(args);
        var invocation = new InvocationConfiguration
        {
            Output = output,
            Error = error,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null, // the caller owns Ctrl+C (Program.cs) and passes cancellationToken
        };

        if (parse.Errors.Count > 0 && parse.Action is not HelpAction)
        {
            foreach (ParseError parseError in parse.Errors)
            {
                error.WriteLine($"error: {parseError.Message}");
            }

            string command = string.Join(' ', CommandPath(parse.CommandResult));
            error.WriteLine($"Run '{command} --help' for usage.");
            return ExitCodes.Usage;
        }

        return await parse.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The command tree: <c>earlyexit classify train|evaluate|score|sweep|export-onnx</c> and <c>earlyexit ner train|evaluate|score|sweep</c>.</summary>
    internal static RootCommand CreateRootCommand(CliConsole console)
    {
        var classify = new Command("classify", "Early-exit text classification (PALBERT and its baselines): train, evaluate, score, sweep exit settings, export to ONNX.")
        {
            new TrainCommand(console).Create(),
            new EvaluateCommand(console).Create(),
            new ScoreCommand(console).Create(),
            new SweepCommand(console).Create(),
            ExportOnnxCommands.Classify(console).Create(),
        };
        var ner = new Command("ner", "Token-level early-exit sequence labelling (SENTEE, TOKEE with halt-and-copy) on CoNLL files: train, evaluate, score, sweep exit settings, export to ONNX.")
        {
            new NerTrainCommand(console).Create(),
            new NerEvaluateCommand(console).Create(),
            new NerScoreCommand(console).Create(),
            new NerSweepCommand(console).Create(),
            ExportOnnxCommands.Ner(console).Create(),
        };
        return new RootCommand("Early-exit transformers for ML.NET: text classifiers from TSV/CSV files, named-entity taggers from CoNLL files.")
        {
            HelpName = ToolName,
            Subcommands = { classify, ner },
        };
    }

    /// <summary>
    /// Makes <paramref name="run"/> the action of <paramref name="command"/>, turning its outcome into an
    /// exit code: problems become one paragraph on the error writer, never a stack trace.
    /// </summary>
    internal static void SetAction(Command command, CliConsole console, Func<ParseResult, CancellationToken, int> run)
    {
        command.SetAction((parse, cancellationToken) =>
        {
            try
            {
                return Task.FromResult(run(parse, cancellationToken));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                console.Output.Flush();
                console.Error.WriteLine("cancelled; nothing written.");
                return Task.FromResult(ExitCodes.Cancelled);
            }
            catch (CliException e)
            {
                console.Error.WriteLine($"error: {OneParagraph(e.Message)}");
                return Task.FromResult(e.IsUsage ? ExitCodes.Usage : ExitCodes.Error);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or IOException or UnauthorizedAccessException
                or InvalidDataException or NotSupportedException or System.Text.Json.JsonException or HttpRequestException)
            {
                console.Error.WriteLine($"error: {OneParagraph(Describe(e))}");
                return Task.FromResult(ExitCodes.Error);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                console.Error.WriteLine($"error: unexpected {e.GetType().Name}: {OneParagraph(Describe(e))}");
                return Task.FromResult(ExitCodes.Error);
            }
        });
    }

    /// <summary>The message of <paramref name="e"/> (without ArgumentException's parameter suffix) and of inner exceptions that add something.</summary>
    internal static string Describe(Exception e)
    {
        string message = e is ArgumentException argument && argument.ParamName is not null
            ? e.Message.Replace($" (Parameter '{argument.ParamName}')", "", StringComparison.Ordinal)
            : e.Message;
        for (Exception? inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (!message.Contains(inner.Message, StringComparison.Ordinal))
            {
                message += $" ({inner.Message})";
            }
        }

        return message;
    }

    private static string OneParagraph(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static IEnumerable<string> CommandPath(CommandResult? result)
    {
        var names = new Stack<string>();
        for (SymbolResult? current = result; current is not null; current = current.Parent)
        {
            if (current is CommandResult command)
            {
                names.Push(command.Command is RootCommand ? ToolName : command.Command.Name);
            }
        }

        return names;
    }
}
