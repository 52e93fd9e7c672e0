// earlyexit ner train: CoNLL files -> ML.NET pipeline (MapValueToKey -> TokenEarlyExitNer ->
// MapKeyToValue) -> model zip, plus entity metrics on --valid.
//
// Tags: the files' scheme is detected (or --scheme) and the tags are converted to --train-scheme
// (IOB2 by default) before training, so the model's tags are in one scheme whatever the files use;
// evaluate and score convert gold tags to the model's scheme the same way.
//
// Order of work, cheapest checks first: options (parse time) -> trainer options (the library checks
// them all at once) -> output paths -> data files and tags -> backbone and training -> validation
// metrics -> save (temporary file, then rename) -> metrics JSON. Ctrl+C before the rename leaves no
// model file behind.
using System.CommandLine;
using System.Globalization;
using EarlyExit.Cli.Output;
using EarlyExit.MLNet;
using EarlyExit.MLNet.TokenEarlyExitNer;
using EarlyExit.Modeling;
using EarlyExit.Sequence;
using EarlyExit.Training;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EarlyExit.Cli.Ner;

/// <summary>The <c>ner train</c> command.</summary>
internal sealed class NerTrainCommand(CliConsole console)
    : CliCommand(console, "train",
        "Train a token-level early-exit (SENTEE/TOKEE) sequence labeller on CoNLL files and save it as an ML.NET model .zip.")
{
    private static readonly TokenEarlyExitNerTrainer.Options s_defaults = new();

    private readonly TrainingCommandOptions _training = new(s_defaults,
        train: "The training data: a CoNLL file (one word per line with its tag, blank lines between sentences).",
        valid: "Validation data in the same layout: picks the best epoch by entity F1 (and drives --early-stopping); its metrics are printed and go into --metrics-json.",
        epochs: "Epochs of joint training of every layer's classifier (stage 1).",
        batchSize: "Sentences (chunks) per training batch, and the model's labelling batch.",
        maxLength: "Longest chunk in tokens; longer sentences are split into chunks of whole words, never cut.",
        seed: "Seed of weights, dropout, data order, self-sampling and --max-train-sentences.",
        learningRate: "Peak learning rate.",
        validationWatch: "entity F1",
        validationWatched: "validation entity F1");

    private readonly ConllFileOptions _files = new();
    private readonly Option<TagScheme?> _trainScheme = ConllFileOptions.SchemeOption("--train-scheme",
        "The tag scheme the model learns; the files' tags are converted to it: iob2 (bio), iobes (bioes) or bilou. Default: iob2.", allowIob1: false);

    private readonly TokenExitOptions _exit = new($"The exit criterion saved with the model and used on --valid: full, sentee or tokee. Default: {s_defaults.ExitCriterion.Name}.");
    private readonly Option<int?> _selfSamplingEpochs = CommonOptions.Integer("--self-sampling-epochs",
        $"Epochs of self-sampling after them (stage 2: random, full and the model's own TOKEE halting, with copied states). Default: {s_defaults.SelfSamplingEpochs}.", 0);
    private readonly Option<double?> _dropout = new("--dropout") { Description = $"Dropout before the token classifiers, in [0, 1). Default: {CommonOptions.Invariant(s_defaults.Dropout)}.", HelpName = "X" };
    private readonly Option<int?> _maxTrainSentences = CommonOptions.Integer("--max-train-sentences", "Train on at most N sentences drawn at random (seeded by --seed), for quick runs.", 1);
    private readonly Option<NerAuxiliaryTask[]> _auxiliaryTasks = NerAuxiliaryTask.Option();
    private readonly Option<TokenOffRampInput?> _offRampInput = CommonOptions.Choice("--off-ramp-input",
        "What each layer's token classifier reads: layer (that layer's state, the paper's), layer-attention (a learned attention over the token's states after layers 1..i) " +
        "or difference-attention (over what each of those layers added). The attention inputs score on TorchSharp only. Default: layer.",
        new Dictionary<string, TokenOffRampInput>
        {
            ["layer"] = TokenOffRampInput.Layer,
            ["layer-attention"] = TokenOffRampInput.LayerAttention,
            ["difference-attention"] = TokenOffRampInput.DifferenceAttention,
        });

    private readonly Option<double?> _layerAttentionLearningRate = CommonOptions.Positive("--layer-attention-learning-rate",
        "Peak learning rate of the attention pools of --off-ramp-input layer-attention or difference-attention, which start as an average of the layers. Default: --learning-rate.");

    private readonly Option<int?> _wordPoolingLayer = CommonOptions.Integer("--word-pooling-layer",
        "The first layer that runs on words: before it each word's pieces are averaged into one position, so it and the layers after it " +
        "compute over words instead of pieces (faster on long, split words). Scores on TorchSharp only. Default: none (every layer on pieces).", 1, "K");

    protected override void AddOptions(Command command)
    {
        _training.AddInputs(command);
        _files.AddTo(command);
        command.Add(_trainScheme);
        _training.AddBackbone(command);
        _exit.AddTo(command);
        _training.AddTraining(command, _selfSamplingEpochs, _dropout, _maxTrainSentences);
        command.Add(_auxiliaryTasks);
        command.Add(_offRampInput);
        command.Add(_layerAttentionLearningRate);
        command.Add(_wordPoolingLayer);
    }

    protected override int Run(ParseResult parse, CancellationToken cancellationToken)
    {
        string trainPath = parse.GetRequiredValue(_training.Train);
        string? validPath = parse.GetValue(_training.Valid);
        string outPath = parse.GetRequiredValue(_training.Out);
        string? metricsPath = parse.GetValue(_training.MetricsJson);
        int seed = _training.Seed(parse);
        TagScheme scheme = parse.GetValue(_trainScheme) ?? TagScheme.Iob2;

        var ml = new MLContext(seed);
        var progress = new TrainingProgressReporter();
        NerAuxiliaryTask[] tasks = parse.GetValue(_auxiliaryTasks) ?? [];
        TokenEarlyExitNerTrainer.Options options = Options(parse, progress, cancellationToken);
        options.AuxiliaryTasks = tasks.Select(t => t.ToOptions()).ToList();
        TokenEarlyExitNerTrainer trainer = TrainingRun.CreateTrainer(() => ml.MulticlassClassification.Trainers.TokenEarlyExitNer(options));
        TrainingRun.CheckOutputs(outPath, metricsPath, trainPath, validPath);

        NerData train = Read(parse, trainPath, cancellationToken);
        int allSentences = train.Sentences.Count;
        if (parse.GetValue(_maxTrainSentences) is int maxSentences)
        {
            train = train.Subsample(maxSentences, seed);
        }

        string[][] trainTags = train.TagsIn(scheme);
        string[] tags = trainTags.SelectMany(t => t).Distinct().Order(StringComparer.Ordinal).ToArray();
        if (tags.Length < 2)
        {
            throw new CliException($"'{trainPath}': every word has tag '{tags[0]}'; a sequence labeller needs at least two tags.");
        }

        NerData? valid = null;
        string[][]? validTags = null;
        if (validPath is not null)
        {
            valid = Read(parse, validPath, cancellationToken);
            validTags = valid.TagsIn(scheme);
            valid.RequireKnownTags(validTags, tags, $"the training data '{trainPath}'", scheme);
        }

        Terminal.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Training on {train.Sentences.Count:N0} sentences ({train.WordCount:N0} words){(train.Sentences.Count < allSentences ? $" of {allSentences:N0} (--max-train-sentences)" : "")} of '{trainPath}'" +
            $"{(valid is null ? "" : $", validating on {valid.Sentences.Count:N0} sentences of '{validPath}'")}; " +
            $"{TagSchemes.Name(train.Scheme!.Value)} tags{(train.Scheme == scheme ? "" : $" converted to {TagSchemes.Name(scheme)}")}: {string.Join(", ", tags)}."));

        if (tasks.Length > 0)
        {
            Terminal.WriteLine($"Auxiliary tasks: {string.Join(", ", tasks.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Name} (column {t.Column}) after layer {t.Layer}, weight {t.Weight}")))}.");
        }

        (TransformerChain<ITransformer> model, TokenEarlyExitNerTransformer ner, double trainSeconds) = TrainingRun.Fit(ml, Terminal, progress, trainer, "TokenEarlyExitNer",
            NerAuxiliaryTask.Rows(train, trainTags, tasks), valid is null ? null : NerAuxiliaryTask.Rows(valid, validTags!, []),
            [(nameof(ConllSentenceRow.Label), TokenEarlyExitNerTrainer.DefaultColumnNames.PredictedLabel), .. tasks.Select(t => (t.Name, t.PredictedColumn))],
            n => n.TrainingReport!);
        try
        {
            TrainingReport report = ner.TrainingReport!;
            NerEvaluationMetrics? validation = null;
            if (valid is not null)
            {
                LabelledSentences labelled = NerScoring.Label(ner, valid.Words, criterion: null, batchSize: null, Terminal, "validating", cancellationToken);
                validation = NerScoring.Metrics(ner, outPath, scheme, valid, validTags!, labelled);
                Terminal.WriteLine($"Validation ('{validPath}'):");
                Terminal.Output.Write(NerMetricsReport.ToText(validation));
            }

            TrainingRun.Save<ConllSentenceRow>(ml, Terminal, model, outPath,
                $"Saved '{outPath}': {ner.NumLayers} layers, {ner.ClassNames.Count} {TagSchemes.Name(scheme)} tags, exit criterion {ner.ExitCriterion.Name}" +
                $"{(options.OffRampInput == TokenOffRampInput.Layer ? "" : $", off-ramps reading {options.OffRampInput}")}" +
                $"{(options.WordPoolingLayer == 0 ? "" : $", on words from layer {options.WordPoolingLayer}")}" +
                $"{string.Concat(ner.Classifier.AuxiliaryTasks.Select(t => $", task {t.Name} after layer {t.Layer}"))}.",
                metricsPath, () => new NerTrainingMetrics
                {
                    TrainingSentences = train.Sentences.Count,
                    FileScheme = TagSchemes.Name(train.Scheme!.Value),
                    Scheme = TagSchemes.Name(scheme),
                    ValidationSentences = valid?.Sentences.Count,
                    Tags = ner.ClassNames,
                    SelfSamplingEpochs = options.SelfSamplingEpochs,
                    EpochHistory = report.Epochs
                        .Select(e => new NerEpochMetrics(e.Epoch, e.Epoch > options.Epochs, e.MeanLoss, progress.ValidationByEpoch.TryGetValue(e.Epoch, out double f1) ? f1 : null))
                        .ToArray(),
                    Validation = validation,
                }.Of(outPath, options, trainPath, validPath, ner.NumLayers, ner.ExitCriterion.Name, report, trainSeconds), cancellationToken);
        }
        finally
        {
            ner.Dispose();
        }

        return ExitCodes.Success;
    }

    private NerData Read(ParseResult parse, string path, CancellationToken cancellationToken) =>
        NerData.Read(path, _files.Reader(parse), _files.Scheme(parse), tagsRequired: true, _files.TagColumnGiven(parse), cancellationToken);

    private TokenEarlyExitNerTrainer.Options Options(ParseResult parse, TrainingProgressReporter progress, CancellationToken cancellationToken)
    {
        TokenEarlyExitNerTrainer.Options options = _training.Apply(parse, new TokenEarlyExitNerTrainer.Options(), progress, cancellationToken);
        options.ExitCriterion = _exit.Criterion(parse) ?? options.ExitCriterion;
        options.SelfSamplingEpochs = parse.GetValue(_selfSamplingEpochs) ?? options.SelfSamplingEpochs;
        options.Dropout = parse.GetValue(_dropout) ?? options.Dropout;
        options.OffRampInput = parse.GetValue(_offRampInput) ?? options.OffRampInput;
        options.LayerAttentionLearningRate = parse.GetValue(_layerAttentionLearningRate) ?? options.LayerAttentionLearningRate;
        options.WordPoolingLayer = parse.GetValue(_wordPoolingLayer) ?? options.WordPoolingLayer;
        return options;
    }
}
