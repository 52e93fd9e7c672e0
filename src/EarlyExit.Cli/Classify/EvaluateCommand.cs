// earlyexit classify evaluate: a model zip + labelled data -> task metrics (accuracy, macro-F1, F1,
// MCC), cost metrics (mean exit layer, layer speed-up, rows/s) and the exit-layer histogram.
using System.CommandLine;
using EarlyExit.Cli.Output;
using EarlyExit.Devices;
using EarlyExit.Evaluation;
using EarlyExit.ExitCriteria;
using Microsoft.ML;

namespace EarlyExit.Cli.Classify;

/// <summary>The <c>classify evaluate</c> command.</summary>
internal sealed class EvaluateCommand
{
    private readonly Option<string> _model = CommonOptions.File("--model", "The model .zip written by 'earlyexit classify train'.");
    private readonly Option<string> _data = CommonOptions.File("--data", "Labelled data to evaluate on.");
    private readonly ColumnOptions _columns = new(withLabel: true);
    private readonly DataFormatOptions _format = new();
    private readonly Option<ExitCriterion?> _exitCriterion = CommonOptions.ExitCriterion("Score with this exit criterion instead of the model's own (no retraining).");
    private readonly Option<int?> _batchSize = CommonOptions.Integer("--batch-size", "Rows scored together. Default: the model's training batch size.", 1);
    private readonly Option<DeviceOption?> _device = CommonOptions.Device("Where to score");
    private readonly Option<string> _metricsJson = new("--metrics-json") { Description = "Also write the metrics as JSON.", HelpName = "FILE" };
    private readonly CliConsole _console;

    public EvaluateCommand(CliConsole console)
    {
        _console = console;
    }

    public Command Create()
    {
        var command = new Command("evaluate", "Score labelled data with a trained model and report accuracy, F1, MCC, exit layers and speed.");
        command.Add(_model);
        command.Add(_data);
        _columns.AddTo(command);
        command.Add(_exitCriterion);
        command.Add(_batchSize);
        command.Add(_device);
        command.Add(_metricsJson);
        _format.AddTo(command);
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

        ColumnSelection columns = _columns.Selection(parse);
        ClassificationData data = ClassificationData.Read(dataPath, _format.For(parse, dataPath), columns, _console.Warn, cancellationToken);
        ModelFile.CheckBeforeLoading(modelPath, [parse.GetValue(_exitCriterion)], data);
        var ml = new MLContext(seed: 0);
        using ModelFile model = ModelFile.Load(ml, modelPath, parse.GetValue(_device));
        model.CheckPairing(columns.TextPair is not null);
        data.RequireKnownLabels(model.Palbert.ClassNames, $"the model '{modelPath}'");
        string? positiveLabel = _columns.PositiveLabelOf(parse);
        PositiveClass.Resolve(model.Palbert.ClassNames, positiveLabel); // a wrong --positive-label fails before scoring

        ScoredRows scored = Scoring.Score(model.Palbert, data.Rows, data.IsPair, parse.GetValue(_exitCriterion), parse.GetValue(_batchSize), _console, "evaluating", cancellationToken);
        EvaluationMetrics metrics = Scoring.Metrics(model.Palbert, data.Rows, scored, modelPath, dataPath, positiveLabel);
        _console.WriteLine($"Evaluated '{modelPath}' on '{dataPath}':");
        _console.Output.Write(MetricsReport.ToText(metrics));
        if (metricsPath is not null)
        {
            AtomicFile.WriteText(metricsPath, MetricsReport.ToJson(metrics), cancellationToken);
            _console.WriteLine($"Wrote '{metricsPath}'.");
        }

        return ExitCodes.Success;
    }
}
