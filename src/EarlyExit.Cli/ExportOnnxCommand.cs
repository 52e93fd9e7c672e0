// earlyexit classify export-onnx and ner export-onnx: a model zip -> a folder of ONNX graphs that ONNX
// Runtime scores with early exit (EarlyExit.OnnxRuntime's OnnxTextClassifier or OnnxTokenClassifier, no
// libtorch), plus model.onnx, the whole model at full depth for plain ONNX Runtime. The folder is written beside the target and moved into place
// when complete; an earlier export there is moved aside and deleted only once the new one is in place,
// so a failed export leaves the earlier one as it was.
using System.CommandLine;
using System.Globalization;
using EarlyExit.Checkpoints;
using EarlyExit.Cli.Classify;
using EarlyExit.Cli.Ner;
using EarlyExit.Cli.Output;
using EarlyExit.Devices;
using EarlyExit.ExitCriteria;
using EarlyExit.MLNet;
using EarlyExit.MLNet.Palbert;
using EarlyExit.MLNet.TokenEarlyExitNer;
using Microsoft.ML;

namespace EarlyExit.Cli;

/// <summary>The export-onnx command of each family.</summary>
internal static class ExportOnnxCommands
{
    /// <summary><c>classify export-onnx</c>.</summary>
    public static CliCommand Classify(CliConsole console) =>
        new ExportOnnxCommand<PalbertTransformer, EarlyExitTextClassifier, ExitCriterion>(console, "classify", path => ModelFile.CheckBeforeLoading(path, criteria: null),
            (ml, path) => ModelFile.Load(ml, path, DeviceOption.Cpu), "OnnxTextClassifier", "the class probabilities [batch, classes]");

    /// <summary><c>ner export-onnx</c>.</summary>
    public static CliCommand Ner(CliConsole console) =>
        new ExportOnnxCommand<TokenEarlyExitNerTransformer, EarlyExitTokenClassifier, TokenExitCriterion>(console, "ner", path => NerModelFile.CheckBeforeLoading(path, criteria: null),
            (ml, path) => NerModelFile.Load(ml, path, DeviceOption.Cpu), "OnnxTokenClassifier", "the tag probabilities [batch, tokens, tags]");
}

/// <summary>The <c>export-onnx</c> command of a family.</summary>
/// <param name="console">The console.</param>
/// <param name="family">classify or ner.</param>
/// <param name="check">Checks the model file before loading it (names the family's errors).</param>
/// <param name="load">Loads the family's model zip on the CPU.</param>
/// <param name="scorer">What scores the export (the EarlyExit.OnnxRuntime class).</param>
/// <param name="scores">What model.onnx's output holds.</param>
internal sealed class ExportOnnxCommand<TTransformer, TClassifier, TCriterion>(CliConsole console, string family, Action<string> check,
    Func<MLContext, string, ModelZipFile<TTransformer, TClassifier, TCriterion>> load, string scorer, string scores)
    : CliCommand(console, "export-onnx",
        "Export a trained model as ONNX graphs: per-layer graphs for early exit on ONNX Runtime, and model.onnx at full depth.")
    where TTransformer : EarlyExitTransformer<TTransformer, TClassifier, TCriterion>
    where TClassifier : EarlyExitClassifier<TCriterion>
    where TCriterion : class
{
    private readonly Option<string> _model = CommonOptions.File("--model", $"The model .zip written by '{Cli.ToolName} {family} train'.");
    private readonly Option<string> _out = new("--out")
    {
        Description = "The folder to write (created); a folder holding an earlier export is replaced as a whole.",
        HelpName = "FOLDER",
        Required = true,
    };

    protected override void AddOptions(Command command)
    {
        command.Add(_model);
        command.Add(_out);
    }

    protected override int Run(ParseResult parse, CancellationToken cancellationToken)
    {
        string modelPath = parse.GetRequiredValue(_model);
        string outPath = Path.TrimEndingDirectorySeparator(Path.GetFullPath(parse.GetRequiredValue(_out)));
        string manifest = OnnxFolder.Format.SettingsFile;
        if (File.Exists(outPath))
        {
            throw new CliException($"--out '{outPath}' is a file; name a folder.");
        }

        if (Directory.Exists(outPath) && Directory.EnumerateFileSystemEntries(outPath).Any() && !File.Exists(Path.Combine(outPath, manifest)))
        {
            throw new CliException($"--out '{outPath}' is a folder with other files in it; name a new folder or an earlier export.");
        }

        string parent = Path.GetDirectoryName(outPath) ?? throw new CliException($"--out '{outPath}' is not a folder path.");
        check(modelPath);
        var ml = new MLContext(seed: 0);
        using ModelZipFile<TTransformer, TClassifier, TCriterion> model = load(ml, modelPath);
        Directory.CreateDirectory(parent);

        // The new export is written beside the target; an earlier one is moved aside, not deleted, until the new one is in place.
        string name = Path.GetFileName(outPath);
        string fresh = Path.Combine(parent, $".{name}.{Guid.NewGuid():N}.tmp");
        string earlier = Path.Combine(parent, $".{name}.{Guid.NewGuid():N}.old");
        try
        {
            model.Transformer.Classifier.ExportOnnx(fresh);
            cancellationToken.ThrowIfCancellationRequested();
            if (Directory.Exists(outPath))
            {
                Directory.Move(outPath, earlier);
            }

            Directory.Move(fresh, outPath);
        }
        catch
        {
            if (Directory.Exists(earlier) && !Directory.Exists(outPath))
            {
                Directory.Move(earlier, outPath);
            }

            throw;
        }
        finally
        {
            foreach (string leftover in new[] { fresh, earlier }.Where(Directory.Exists))
            {
                Directory.Delete(leftover, recursive: true);
            }
        }

        long bytes = Directory.EnumerateFiles(outPath).Sum(f => new FileInfo(f).Length);
        Terminal.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Exported '{modelPath}' to '{outPath}' ({bytes / 1e6:0.0} MB): per-layer graphs for early exit (score them with EarlyExit.OnnxRuntime's {scorer}) " +
            $"and model.onnx, the whole model at full depth (inputs input_ids, attention_mask, token_type_ids; output scores, {scores})."));
        return ExitCodes.Success;
    }
}
