// earlyexit classify evaluate: a model zip + labelled data -> task metrics (accuracy, macro-F1, F1,
// MCC), cost metrics (mean exit layer, layer speed-up, rows/s) and the exit-layer histogram.
using System.CommandLine;
using EarlyExit.Cli.Output;
using EarlyExit.Evaluation;
using EarlyExit.ExitCriteria;
using Microsoft.ML;

namespace EarlyExit.Cli.Classify;

/// <summary>The <c>classify evaluate</c> command.</summary>
internal sealed class EvaluateCommand(CliConsole console)
    : CliCommand(console, "evaluate",
        "Score labelled data with a trained model and report accuracy, F1, MCC, exit layers and speed.")
{
    private readonly ModelCommandOptions _options = new("classify", data: "Labelled data to evaluate on.", batch: "Rows scored", verb: "score");
    private readonly ColumnOptions _columns = new(withLabel: true);
    private readonly DataFormatOptions _format = new();
    private readonly Option<ExitCriterion?> _exitCriterion = CommonOptions.ExitCriterion("Score with this exit criterion instead of the model's own (no retraining).");
    private readonly MetricsJsonOption _metricsJson = new();

    protected override void AddOptions(Command command)
    {
        _options.AddModelAndData(command);
        _columns.AddTo(command);
        command.Add(_exitCriterion);
        _options.AddScoring(command, withBackend: true);
        _metricsJson.AddTo(command);
        _format.AddTo(command);
    }

    protected override int Run(ParseResult parse, CancellationToken cancellationToken)
    {
        string modelPath = parse.GetRequiredValue(_options.Model);
        string dataPath = parse.GetRequiredValue(_options.Data);
        string? metricsPath = _metricsJson.Checked(parse, (dataPath, "--data"), (modelPath, "--model"));

        ColumnSelection columns = _columns.Selection(parse);
        ClassificationData data = ClassificationData.Read(dataPath, _format.For(parse, dataPath), columns, Terminal.Warn, cancellationToken);
        ModelFile.CheckBeforeLoading(modelPath, [parse.GetValue(_exitCriterion)], data);
        var ml = new MLContext(seed: 0);
        using ModelFile model = ModelFile.Load(ml, modelPath, parse.GetValue(_options.Device));
        model.CheckPairing(columns.TextPair is not null);
        data.RequireKnownLabels(model.Palbert.ClassNames, $"the model '{modelPath}'");
        string? positiveLabel = _columns.PositiveLabelOf(parse);
        PositiveClass.Resolve(model.Palbert.ClassNames, positiveLabel); // a wrong --positive-label fails before scoring

        ScoredRows scored = Scoring.Score(model.Palbert, data.Rows, data.IsPair, parse.GetValue(_exitCriterion), parse.GetValue(_options.BatchSize), Terminal, "evaluating", cancellationToken,
            _options.BackendOf(parse));
        EvaluationMetrics metrics = Scoring.Metrics(model.Palbert, data.Rows, scored, modelPath, dataPath, positiveLabel);
        Terminal.WriteLine($"Evaluated '{modelPath}' on '{dataPath}':");
        Terminal.Output.Write(MetricsReport.ToText(metrics));
        MetricsJsonOption.Write(metricsPath, metrics, Terminal, cancellationToken);

        return ExitCodes.Success;
    }
}
