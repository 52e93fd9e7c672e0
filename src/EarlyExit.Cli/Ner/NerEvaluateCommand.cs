// earlyexit ner evaluate: a model zip + a tagged CoNLL file -> entity precision, recall and F1 per type
// and micro-averaged (conlleval's rules, and conlleval's own report), token accuracy, mean word exit
// layer, token-layer speed-up, sentences/s and the word exit-layer histogram.
using System.CommandLine;
using EarlyExit.Cli.Output;
using EarlyExit.Devices;
using Microsoft.ML;

namespace EarlyExit.Cli.Ner;

/// <summary>The <c>ner evaluate</c> command.</summary>
internal sealed class NerEvaluateCommand
{
    private readonly Option<string> _model = CommonOptions.File("--model", "The model .zip written by 'earlyexit ner train'.");
    private readonly Option<string> _data = CommonOptions.File("--data", "A tagged CoNLL file to evaluate on.");
    private readonly ConllFileOptions _files = new();
    private readonly TokenExitOptions _exit = new("Label with this criterion instead of the model's own (no retraining): full, sentee or tokee.");
    private readonly Option<int?> _batchSize = CommonOptions.Integer("--batch-size", "Sentence chunks labelled together. Default: the model's training batch size.", 1);
    private readonly Option<DeviceOption?> _device = CommonOptions.Device("Where to label");
    private readonly Option<string> _metricsJson = new("--metrics-json") { Description = "Also write the metrics as JSON.", HelpName = "FILE" };
    private readonly CliConsole _console;

    public NerEvaluateCommand(CliConsole console)
    {
        _console = console;
    }

    public Command Create()
    {
        var command = new Command("evaluate", "Label a tagged CoNLL file with a trained model and report entity F1 (as conlleval), exit layers and speed.");
        command.Add(_model);
        command.Add(_data);
        _files.AddTo(command);
        _exit.AddTo(command);
        command.Add(_batchSize);
        command.Add(_device);
        command.Add(_metricsJson);
        Cli.SetAction(command, _console, Run);
        return command;
    }

    private int Run(ParseResult parse, CancellationToken cancellationToken)
    {
        string modelPath = parse.GetRequiredValue(_model);
        string dataPath = parse.GetRequiredValue(_data);
        string? metricsPath = parse.GetValue(_metricsJson);
        if (metricsPath is not null)
        {
            AtomicFile.CheckWritable(metricsPath, "--metrics-json", (dataPath, "--data"), (modelPath, "--model"));
        }

        NerData data = NerData.Read(dataPath, _files.Reader(parse), _files.Scheme(parse), tagsRequired: true, _files.TagColumnGiven(parse), cancellationToken);
        NerModelFile.CheckBeforeLoading(modelPath, [_exit.Criterion(parse)], data);
        var ml = new MLContext(seed: 0);
        using NerModelFile model = NerModelFile.Load(ml, modelPath, parse.GetValue(_device));
        string[][] gold = data.TagsIn(model.Scheme);
        data.RequireKnownTags(gold, model.Ner.ClassNames, $"the model '{modelPath}'", model.Scheme);

        LabelledSentences labelled = NerScoring.Label(model.Ner, data.Words, _exit.Criterion(parse), parse.GetValue(_batchSize), _console, "evaluating", cancellationToken);
        NerEvaluationMetrics metrics = NerScoring.Metrics(model.Ner, modelPath, model.Scheme, data, gold, labelled);
        _console.WriteLine($"Evaluated '{modelPath}' on '{dataPath}':");
        _console.Output.Write(NerMetricsReport.ToText(metrics));
        if (metricsPath is not null)
        {
            AtomicFile.WriteText(metricsPath, MetricsReport.ToJson(metrics), cancellationToken);
            _console.WriteLine($"Wrote '{metricsPath}'.");
        }

        return ExitCodes.Success;
    }
}
