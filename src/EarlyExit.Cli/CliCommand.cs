// Every subcommand (classify and ner: train, evaluate, score, sweep) has the same shape: a name and a
// description, the options it adds, and what it runs with the parsed command line. Cli.SetAction wires
// the run to the console, Ctrl+C and the exit codes.
using System.CommandLine;
using EarlyExit.Cli.Output;

namespace EarlyExit.Cli;

/// <summary>One subcommand: its name, description and options, and its run.</summary>
/// <param name="terminal">Where the command writes.</param>
/// <param name="name">The subcommand's name, e.g. "train".</param>
/// <param name="description">What it does, for --help.</param>
internal abstract class CliCommand(CliConsole terminal, string name, string description)
{
    /// <summary>Where the command writes: results, warnings, progress.</summary>
    protected CliConsole Terminal { get; } = terminal;

    /// <summary>The System.CommandLine command with the options and the run.</summary>
    public Command Create()
    {
        var command = new Command(name, description);
        AddOptions(command);
        Cli.SetAction(command, Terminal, Run);
        return command;
    }

    /// <summary>Adds the command's options (and validators) in --help order.</summary>
    protected abstract void AddOptions(Command command);

    /// <summary>Runs the command; returns the exit code.</summary>
    protected abstract int Run(ParseResult parse, CancellationToken cancellationToken);
}
