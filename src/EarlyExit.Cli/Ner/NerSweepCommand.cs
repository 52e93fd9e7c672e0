// earlyexit ner sweep: a model zip + a tagged CoNLL file -> every token exit setting of a grid replayed
// from one recorded pass (entity F1, mean word exit layer, token-layer speed-up), the Pareto front run
// for real with halt-and-copy (which also confirms TOKEE's estimates), the oracle bounds, the setting a
// rule chooses; optionally that setting on separate --test data, a CSV, PNG plots and a copy of the
// model that uses the setting (--apply).
using System.CommandLine;
using System.Globalization;
using EarlyExit.Cli.Output;
using EarlyExit.ExitCriteria;
using EarlyExit.MLNet.TokenEarlyExitNer;
using EarlyExit.Sweeps;
using Microsoft.ML;

namespace EarlyExit.Cli.Ner;

/// <summary>The <c>ner sweep</c> command.</summary>
internal sealed class NerSweepCommand(CliConsole console)
    : CliCommand(console, "sweep",
        "Compare token exit settings from one recorded pass, find the Pareto front of entity F1 against speed-up, and choose a setting.")
{
    private readonly ModelCommandOptions _options = new("ner", data: "A tagged CoNLL file (validation data): the settings are compared and the choice is made on it.",
        batch: "Sentence chunks labelled", verb: "label");
    private readonly Option<string> _test = CommonOptions.File("--test", "A tagged CoNLL test file: the chosen setting and full depth are labelled on it for real and reported.", required: false);
    private readonly ConllFileOptions _files = new();
    private readonly Option<IReadOnlyList<TokenExitCriterion>?> _grid = CommonOptions.Parsed<IReadOnlyList<TokenExitCriterion>>("--grid",
        $"The settings to compare: {ExitGrid.Syntax}, e.g. \"sentee:0.1..0.5/0.1:max,mean tokee:0.1..0.5/0.1:1,3,5\". Default: full, every fixed layer, SENTEE and TOKEE over 0.05..0.6.",
        "GRID", ExitGrid.ParseTokens);

    private readonly SweepOptions _sweep = new();

    protected override void AddOptions(Command command)
    {
        _options.AddModelAndData(command);
        command.Add(_test);
        _files.AddTo(command);
        command.Add(_grid);
        _sweep.AddTo(command);
        _options.AddScoring(command);
    }

    protected override int Run(ParseResult parse, CancellationToken cancellationToken)
    {
        string modelPath = parse.GetRequiredValue(_options.Model);
        string dataPath = parse.GetRequiredValue(_options.Data);
        string? testPath = parse.GetValue(_test);
        _sweep.CheckOutputs(parse, (dataPath, "--data"), (testPath, "--test"), (modelPath, "--model"));

        NerData dataRows = Read(parse, dataPath, cancellationToken);
        NerData? testRows = testPath is null ? null : Read(parse, testPath, cancellationToken);
        NerModelFile.CheckBeforeLoading(modelPath, parse.GetValue(_grid), dataRows, testRows);
        var ml = new MLContext(seed: 0);
        using NerModelFile model = NerModelFile.Load(ml, modelPath, parse.GetValue(_options.Device));
        IDataView data = Keyed(ml, model, dataRows);
        IDataView? test = testRows is null ? null : Keyed(ml, model, testRows);
        _sweep.Run(parse, Terminal, ml, model, parse.GetValue(_options.BatchSize), dataPath, "sentences",
            ner => ner.Sweep(data, parse.GetValue(_grid), nameof(ConllSentenceRow.Label), _sweep.MeasureSpeed(parse)),
            test is null ? null : (ner, _, chosen) =>
            {
                // Real passes: TOKEE's replay would only estimate.
                using TokenEarlyExitNerTransformer labeller = ner.WithExitCriterion(chosen);
                using TokenEarlyExitNerTransformer full = ner.WithExitCriterion(TokenExitCriterion.Full());
                NerMetrics result = NerEvaluation.Evaluate(labeller.Transform(test), ner.NumLayers);
                NerMetrics reference = NerEvaluation.Evaluate(full.Transform(test), ner.NumLayers);
                Terminal.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"On '{testPath}': entity F1 {result.Entities.Overall.F1:0.0000} with {chosen.Criterion} against {reference.Entities.Overall.F1:0.0000} at full depth, " +
                    $"{result.TokenLayerSpeedup:0.00}x fewer token-layers."));
            },
            ml.Data.LoadFromEnumerable(Array.Empty<ConllSentenceRow>()).Schema, cancellationToken);
        return ExitCodes.Success;
    }

    private NerData Read(ParseResult parse, string path, CancellationToken cancellationToken) =>
        NerData.Read(path, _files.Reader(parse), _files.Scheme(parse), tagsRequired: true, _files.TagColumnGiven(parse), cancellationToken);

    // The sentences with gold tags in the model's scheme (every tag one the model knows), through the
    // model's own MapValueToKey, so tags are the model's keys.
    private static IDataView Keyed(MLContext ml, NerModelFile model, NerData data)
    {
        string[][] gold = data.TagsIn(model.Scheme);
        data.RequireKnownTags(gold, model.Ner.ClassNames, $"the model '{model.Path}'", model.Scheme);
        ConllSentenceRow[] rows = data.Sentences.Select((s, i) => new ConllSentenceRow { Tokens = data.Words[i], Label = gold[i], Line = s.FirstLine }).ToArray();
        return ((IEnumerable<ITransformer>)model.Model).First().Transform(ml.Data.LoadFromEnumerable(rows));
    }
}
