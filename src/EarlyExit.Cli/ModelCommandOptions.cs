// What the commands that use a trained model (evaluate, score, sweep of both families) take the same way:
// --model, --data, --batch-size and --device, described in the family's words, --backend (evaluate and
// score), and --metrics-json, checked before any work and written at the end.
//
// --backend onnx scores on ONNX Runtime: the transformer's WithBackend exports the network to ONNX graphs
// in memory (a few seconds, before the clock starts) and the chunks go there. `export-onnx` writes the export as files, for a deployment of its own.
using System.CommandLine;
using EarlyExit.Cli.Output;
using EarlyExit.Devices;
using EarlyExit.MLNet;

namespace EarlyExit.Cli;

/// <summary>--model, --data, --batch-size and --device of a command that uses a trained model.</summary>
/// <param name="family">The command family that trains such models: classify or ner.</param>
/// <param name="data">What --data holds for this command.</param>
/// <param name="batch">What a batch is and what is done to it, e.g. "Rows scored".</param>
/// <param name="verb">What the command does with the model, e.g. "score".</param>
internal sealed class ModelCommandOptions(string family, string data, string batch, string verb)
{
    /// <summary>--model.</summary>
    public Option<string> Model { get; } = CommonOptions.File("--model", $"The model .zip written by '{Cli.ToolName} {family} train'.");

    /// <summary>--data.</summary>
    public Option<string> Data { get; } = CommonOptions.File("--data", data);

    /// <summary>--batch-size: null for the model's training batch size.</summary>
    public Option<int?> BatchSize { get; } = CommonOptions.Integer("--batch-size", $"{batch} together. Default: the model's training batch size.", 1);

    /// <summary>--device: null for $EARLYEXIT_DEVICE (default auto).</summary>
    public Option<DeviceOption?> Device { get; } = CommonOptions.Device($"Where to {verb}");

    /// <summary>--backend torch|onnx: null for torch.</summary>
    public Option<ScoringBackend?> Backend { get; } = CommonOptions.Choice("--backend",
        "What runs the model: torch (TorchSharp, on --device) or onnx (ONNX Runtime on the CPU, on the model's ONNX graphs, exported in memory first). Default: torch.",
        new Dictionary<string, ScoringBackend> { ["torch"] = ScoringBackend.TorchSharp, ["onnx"] = ScoringBackend.OnnxRuntime });

    /// <summary>Adds --model and --data.</summary>
    public void AddModelAndData(Command command)
    {
        command.Add(Model);
        command.Add(Data);
    }

    /// <summary>Adds --batch-size and --device, and --backend when <paramref name="withBackend"/>.</summary>
    public void AddScoring(Command command, bool withBackend = false)
    {
        command.Add(BatchSize);
        command.Add(Device);
        if (withBackend)
        {
            command.Add(Backend);
        }
    }

    /// <summary>The --backend given, TorchSharp by default.</summary>
    public ScoringBackend BackendOf(ParseResult parse) => parse.GetValue(Backend) ?? ScoringBackend.TorchSharp;
}

/// <summary>--metrics-json of the evaluate commands: checked before any work, written at the end.</summary>
internal sealed class MetricsJsonOption
{
    private readonly Option<string> _option = new("--metrics-json") { Description = "Also write the metrics as JSON.", HelpName = "FILE" };

    /// <summary>Adds the option.</summary>
    public void AddTo(Command command) => command.Add(_option);

    /// <summary>The path, checked to be writable and none of <paramref name="inputs"/>; null when not given.</summary>
    /// <exception cref="CliException">Not writable, or an input file.</exception>
    public string? Checked(ParseResult parse, params (string? Path, string Option)[] inputs)
    {
        string? path = parse.GetValue(_option);
        if (path is not null)
        {
            AtomicFile.CheckWritable(path, "--metrics-json", inputs);
        }

        return path;
    }

    /// <summary>Writes <paramref name="metrics"/> as JSON to <paramref name="path"/> when given, and says so.</summary>
    public static void Write<T>(string? path, T metrics, CliConsole console, CancellationToken cancellationToken)
    {
        if (path is not null)
        {
            AtomicFile.WriteText(path, MetricsReport.ToJson(metrics), cancellationToken);
            console.WriteLine($"Wrote '{path}'.");
        }
    }
}
