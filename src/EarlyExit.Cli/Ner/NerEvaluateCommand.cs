// earlyexit ner evaluate: a model zip + a tagged CoNLL file -> entity precision, recall and F1 per type
// and micro-averaged (conlleval's rules, and conlleval's own report), token accuracy, mean word exit
// layer, token-layer speed-up, sentences/s and the word exit-layer histogram.
using System.CommandLine;
using EarlyExit.Cli.Output;
using Microsoft.ML;

namespace EarlyExit.Cli.Ner;

/// <summary>The <c>ner evaluate</c> command.</summary>
internal sealed class NerEvaluateCommand(CliConsole console)
    : CliCommand(console, "evaluate",
        "Label a tagged CoNLL file with a trained model and report entity F1 (as conlleval), exit layers and speed.")
{
    private readonly ModelCommandOptions _options = new("ner", data: "A tagged CoNLL file to evaluate on.", batch: "Sentence chunks labelled", verb: "label");
    private readonly ConllFileOptions _files = new();
    private readonly TokenExitOptions _exit = new("Label with this criterion instead of the model's own (no retraining): full, sentee or tokee.");
    private readonly MetricsJsonOption _metricsJson = new();

    protected override void AddOptions(Command command)
    {
        _options.AddModelAndData(command);
        _files.AddTo(command);
        _exit.AddTo(command);
        _options.AddScoring(command, withBackend: true);
        _metricsJson.AddTo(command);
    }

    protected override int Run(ParseResult parse, CancellationToken cancellationToken)
    {
        string modelPath = parse.GetRequiredValue(_options.Model);
        string dataPath = parse.GetRequiredValue(_options.Data);
        string? metricsPath = _metricsJson.Checked(parse, (dataPath, "--data"), (modelPath, "--model"));

        NerData data = NerData.Read(dataPath, _files.Reader(parse), _files.Scheme(parse), tagsRequired: true, _files.TagColumnGiven(parse), cancellationToken);
        NerModelFile.CheckBeforeLoading(modelPath, [_exit.Criterion(parse)], data);
        var ml = new MLContext(seed: 0);
        using NerModelFile model = NerModelFile.Load(ml, modelPath, parse.GetValue(_options.Device));
        string[][] gold = data.TagsIn(model.Scheme);
        data.RequireKnownTags(gold, model.Ner.ClassNames, $"the model '{modelPath}'", model.Scheme);

        LabelledSentences labelled = NerScoring.Label(model.Ner, data.Words, _exit.Criterion(parse), parse.GetValue(_options.BatchSize), Terminal, "evaluating", cancellationToken,
            _options.BackendOf(parse));
        NerEvaluationMetrics metrics = NerScoring.Metrics(model.Ner, modelPath, model.Scheme, data, gold, labelled);
        Terminal.WriteLine($"Evaluated '{modelPath}' on '{dataPath}':");
        Terminal.Output.Write(NerMetricsReport.ToText(metrics));
        MetricsJsonOption.Write(metricsPath, metrics, Terminal, cancellationToken);

        return ExitCodes.Success;
    }
}
