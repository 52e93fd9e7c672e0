// earlyexit classify sweep: a model zip + labelled validation data -> every exit setting of a grid
// replayed from one recorded pass (metrics, mean exit layer, speed-up), the Pareto front timed with real
// passes, the oracle bounds, the setting a rule chooses; optionally that setting on separate --test data,
// a CSV, PNG plots and a copy of the model that uses the setting (--apply).
using System.CommandLine;
using System.Globalization;
using EarlyExit.Cli.Output;
using EarlyExit.Evaluation;
using EarlyExit.ExitCriteria;
using EarlyExit.MLNet.Palbert;
using EarlyExit.MLNet.Sweeps;
using EarlyExit.Sweeps;
using Microsoft.ML;

namespace EarlyExit.Cli.Classify;

/// <summary>The <c>classify sweep</c> command.</summary>
internal sealed class SweepCommand(CliConsole console)
    : CliCommand(console, "sweep",
        "Compare exit settings from one recorded pass, find the Pareto front of metric against speed-up, and choose a setting.")
{
    private static readonly Dictionary<string, ClassificationMetric> s_metrics = new()
    {
        ["accuracy"] = ClassificationMetric.Accuracy,
        ["macro-f1"] = ClassificationMetric.MacroF1,
        ["f1"] = ClassificationMetric.F1,
        ["mcc"] = ClassificationMetric.MatthewsCorrelation,
    };

    private readonly ModelCommandOptions _options = new("classify", data: "Labelled validation data: the settings are compared and the choice is made on it.", batch: "Rows scored", verb: "score");
    private readonly Option<string> _test = CommonOptions.File("--test", "Labelled test data in the same layout: the chosen setting and full depth are reported on it (a choice is never judged on the data it was made on).", required: false);
    private readonly ColumnOptions _columns = new(withLabel: true);
    private readonly DataFormatOptions _format = new();
    private readonly Option<IReadOnlyList<ExitCriterion>?> _grid = CommonOptions.Parsed<IReadOnlyList<ExitCriterion>>("--grid",
        $"The settings to compare: {ExitGrid.Syntax}, e.g. \"qexit:0.1..0.9/0.1 patience:1..6 entropy:0.1,0.3\". Default: every criterion the model serves over its range.",
        "GRID", ExitGrid.Parse);

    private readonly Option<ClassificationMetric?> _metric = CommonOptions.Choice("--metric", "The metric of the front and the choice (all four are reported). Default: accuracy.", s_metrics);
    private readonly SweepOptions _sweep = new();

    protected override void AddOptions(Command command)
    {
        _options.AddModelAndData(command);
        command.Add(_test);
        _columns.AddTo(command);
        command.Add(_grid);
        command.Add(_metric);
        _sweep.AddTo(command);
        _options.AddScoring(command);
        _format.AddTo(command);
    }

    protected override int Run(ParseResult parse, CancellationToken cancellationToken)
    {
        string modelPath = parse.GetRequiredValue(_options.Model);
        string dataPath = parse.GetRequiredValue(_options.Data);
        string? testPath = parse.GetValue(_test);
        _sweep.CheckOutputs(parse, (dataPath, "--data"), (testPath, "--test"), (modelPath, "--model"));
        ClassificationMetric metric = parse.GetValue(_metric) ?? ClassificationMetric.Accuracy;

        ColumnSelection columns = _columns.Selection(parse);
        ClassificationData dataRows = Read(parse, dataPath, columns, cancellationToken);
        ClassificationData? testRows = testPath is null ? null : Read(parse, testPath, columns, cancellationToken);
        ModelFile.CheckBeforeLoading(modelPath, parse.GetValue(_grid), dataRows, testRows);
        var ml = new MLContext(seed: 0);
        using ModelFile model = ModelFile.Load(ml, modelPath, parse.GetValue(_options.Device));
        model.CheckPairing(columns.TextPair is not null);
        string? positiveLabel = _columns.PositiveLabelOf(parse);
        PositiveClass.Resolve(model.Palbert.ClassNames, positiveLabel); // a wrong --positive-label fails before sweeping
        IDataView data = Keyed(ml, model, dataRows);
        IDataView? test = testRows is null ? null : Keyed(ml, model, testRows);
        _sweep.Run(parse, Terminal, ml, model, parse.GetValue(_options.BatchSize), dataPath, "rows",
            palbert => Sweep(palbert, data, parse.GetValue(_grid), metric, _sweep.MeasureSpeed(parse), positiveLabel),
            test is null ? null : (palbert, sweep, chosen) =>
            {
                ExitSweep onTest = Sweep(palbert, test, [ExitCriterion.Full(), ExitCriterion.Parse(chosen.Criterion)], metric, measure: false, positiveLabel);
                SweepSetting result = onTest.Settings.Single(s => s.Criterion == chosen.Criterion);
                Terminal.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"On '{testPath}': {sweep.MetricName} {result.Metric:0.0000} with {chosen.Criterion} against {onTest.FullDepth.Metric:0.0000} at full depth, {result.LayerSpeedup:0.00}x fewer layers."));
            },
            ml.Data.LoadFromEnumerable(Array.Empty<ClassificationRow>()).Schema, cancellationToken);
        return ExitCodes.Success;
    }

    private static ExitSweep Sweep(PalbertTransformer palbert, IDataView data, IReadOnlyList<ExitCriterion>? grid, ClassificationMetric metric, bool measure, string? positiveLabel) =>
        palbert.Sweep(data, grid, metric, ClassificationRow.LabelColumn, measure, positiveLabel);

    private ClassificationData Read(ParseResult parse, string path, ColumnSelection columns, CancellationToken cancellationToken) =>
        ClassificationData.Read(path, _format.For(parse, path), columns, Terminal.Warn, cancellationToken);

    // The rows through the model's own MapValueToKey, so labels are the model's keys (every label must be one).
    private static IDataView Keyed(MLContext ml, ModelFile model, ClassificationData data)
    {
        data.RequireKnownLabels(model.Palbert.ClassNames, $"the model '{model.Path}'");
        return ((IEnumerable<ITransformer>)model.Model).First().Transform(ml.Data.LoadFromEnumerable(data.Rows));
    }
}
