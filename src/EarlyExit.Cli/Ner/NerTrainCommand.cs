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
using System.Diagnostics;
using System.Globalization;
using EarlyExit.Cli.Output;
using EarlyExit.Devices;
using EarlyExit.MLNet;
using EarlyExit.MLNet.TokenEarlyExitNer;
using EarlyExit.Sequence;
using EarlyExit.Training;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace EarlyExit.Cli.Ner;

/// <summary>The <c>ner train</c> command.</summary>
internal sealed class NerTrainCommand
{
    private static readonly TokenEarlyExitNerTrainer.Options s_defaults = new();

    private readonly Option<string> _train = CommonOptions.File("--train", "The training data: a CoNLL file (one word per line with its tag, blank lines between sentences).");
    private readonly Option<string> _valid = CommonOptions.File("--valid",
        "Validation data in the same layout: picks the best epoch by entity F1 (and drives --early-stopping); its metrics are printed and go into --metrics-json.", required: false);
    private readonly ConllFileOptions _files = new();
    private readonly Option<TagScheme?> _trainScheme = ConllFileOptions.SchemeOption("--train-scheme",
        "The tag scheme the model learns; the files' tags are converted to it: iob2 (bio), iobes (bioes) or bilou. Default: iob2.", allowIob1: false);

    private readonly BackboneOptions _backbone = new();
    private readonly TokenExitOptions _exit = new($"The exit criterion saved with the model and used on --valid: full, sentee or tokee. Default: {s_defaults.ExitCriterion.Name}.");
    private readonly Option<int?> _epochs = CommonOptions.Integer("--epochs", $"Epochs of joint training of every layer's classifier (stage 1). Default: {s_defaults.Epochs}.", 1);
    private readonly Option<int?> _selfSamplingEpochs = CommonOptions.Integer("--self-sampling-epochs",
        $"Epochs of self-sampling after them (stage 2: random, full and the model's own TOKEE halting, with copied states). Default: {s_defaults.SelfSamplingEpochs}.", 0);
    private readonly Option<int?> _batchSize = CommonOptions.Integer("--batch-size", $"Sentences (chunks) per training batch, and the model's labelling batch. Default: {s_defaults.BatchSize}.", 1);
    private readonly Option<int?> _maxLength = CommonOptions.Integer("--max-length",
        $"Longest chunk in tokens; longer sentences are split into chunks of whole words, never cut. Default: {s_defaults.MaxSequenceLength}.", 8);
    private readonly Option<double?> _learningRate = CommonOptions.Positive("--learning-rate", $"Peak learning rate. Default: {CommonOptions.Invariant(s_defaults.LearningRate)}.");
    private readonly Option<double?> _dropout = new("--dropout") { Description = $"Dropout before the token classifiers, in [0, 1). Default: {CommonOptions.Invariant(s_defaults.Dropout)}.", HelpName = "X" };
    private readonly Option<int?> _seed = CommonOptions.Integer("--seed", $"Seed of weights, dropout, data order, self-sampling and --max-train-sentences. Default: {s_defaults.Seed}.", 0);
    private readonly Option<int?> _earlyStopping = CommonOptions.Integer("--early-stopping", "Stop after N epochs without a better entity F1 on --valid (needs --valid). Default: off.", 1);
    private readonly Option<int?> _maxTrainSentences = CommonOptions.Integer("--max-train-sentences", "Train on at most N sentences drawn at random (seeded by --seed), for quick runs.", 1);
    private readonly Option<DeviceOption?> _device = CommonOptions.Device("Where to train");
    private readonly Option<string> _out = new("--out") { Description = "The model .zip to write.", HelpName = "FILE", Required = true };
    private readonly Option<string> _metricsJson = new("--metrics-json") { Description = "Also write the training summary and validation metrics as JSON.", HelpName = "FILE" };
    private readonly CliConsole _console;

    public NerTrainCommand(CliConsole console)
    {
        _console = console;
    }

    public Command Create()
    {
        var command = new Command("train", "Train a token-level early-exit (SENTEE/TOKEE) sequence labeller on CoNLL files and save it as an ML.NET model .zip.");
        command.Add(_train);
        command.Add(_valid);
        _files.AddTo(command);
        command.Add(_trainScheme);
        _backbone.AddTo(command);
        _exit.AddTo(command);
        foreach (Option option in new Option[]
        {
            _epochs, _selfSamplingEpochs, _batchSize, _maxLength, _learningRate, _dropout, _seed, _earlyStopping, _maxTrainSentences, _device, _out, _metricsJson,
        })
        {
            command.Add(option);
        }

        command.Validators.Add(result =>
        {
            if (result.GetValue(_earlyStopping) is not null && result.GetValue(_valid) is null)
            {
                result.AddError("--early-stopping needs --valid: early stopping watches the validation entity F1.");
            }
        });
        Cli.SetAction(command, _console, Run);
        return command;
    }

    private int Run(ParseResult parse, CancellationToken cancellationToken)
    {
        string trainPath = parse.GetRequiredValue(_train);
        string? validPath = parse.GetValue(_valid);
        string outPath = parse.GetRequiredValue(_out);
        string? metricsPath = parse.GetValue(_metricsJson);
        int seed = parse.GetValue(_seed) ?? s_defaults.Seed;
        TagScheme scheme = parse.GetValue(_trainScheme) ?? TagScheme.Iob2;

        var ml = new MLContext(seed);
        var progress = new TrainingProgressReporter();
        TokenEarlyExitNerTrainer.Options options = Options(parse, seed, progress, cancellationToken);
        TokenEarlyExitNerTrainer trainer;
        try
        {
            trainer = ml.MulticlassClassification.Trainers.TokenEarlyExitNer(options);
        }
        catch (ArgumentException e)
        {
            throw new CliException(Cli.Describe(e), isUsage: true);
        }

        AtomicFile.CheckWritable(outPath, "--out", (trainPath, "--train"), (validPath, "--valid"));
        if (metricsPath is not null)
        {
            AtomicFile.CheckWritable(metricsPath, "--metrics-json", (trainPath, "--train"), (validPath, "--valid"), (outPath, "--out"));
        }

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

        _console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Training on {train.Sentences.Count:N0} sentences ({train.WordCount:N0} words){(train.Sentences.Count < allSentences ? $" of {allSentences:N0} (--max-train-sentences)" : "")} of '{trainPath}'" +
            $"{(valid is null ? "" : $", validating on {valid.Sentences.Count:N0} sentences of '{validPath}'")}; " +
            $"{TagSchemes.Name(train.Scheme!.Value)} tags{(train.Scheme == scheme ? "" : $" converted to {TagSchemes.Name(scheme)}")}: {string.Join(", ", tags)}."));

        var clock = Stopwatch.StartNew();
        TransformerChain<ITransformer> model = Fit(ml, trainer, Rows(train, trainTags), valid is null ? null : Rows(valid, validTags!), progress);
        double trainSeconds = clock.Elapsed.TotalSeconds;
        TokenEarlyExitNerTransformer ner = model.OfType<TokenEarlyExitNerTransformer>().Single();
        try
        {
            TrainingReport report = ner.TrainingReport!;
            _console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Trained {report.Epochs.Count} epoch(s) in {trainSeconds:0.0} s; keeping the weights of epoch {report.BestEpoch}{(report.StoppedEarly ? " (stopped early)" : "")}."));
            NerEvaluationMetrics? validation = null;
            if (valid is not null)
            {
                LabelledSentences labelled = NerScoring.Label(ner, valid.Words, criterion: null, batchSize: null, _console, "validating", cancellationToken);
                validation = NerScoring.Metrics(ner, outPath, scheme, valid, validTags!, labelled);
                _console.WriteLine($"Validation ('{validPath}'):");
                _console.Output.Write(NerMetricsReport.ToText(validation));
            }

            // The last point where Ctrl+C leaves nothing behind; once the model is in place, the
            // (quick) metrics file is written regardless.
            IDataView schemaSource = ml.Data.LoadFromEnumerable(Array.Empty<ConllSentenceRow>());
            AtomicFile.Write(outPath, temporary => ml.Model.Save(model, schemaSource.Schema, temporary), cancellationToken);
            _console.WriteLine($"Saved '{outPath}': {ner.NumLayers} layers, {ner.ClassNames.Count} {TagSchemes.Name(scheme)} tags, exit criterion {ner.ExitCriterion.Name}.");
            if (metricsPath is not null)
            {
                var summary = new NerTrainingMetrics
                {
                    Model = outPath,
                    Backbone = options.Backbone,
                    FromScratch = options.FromScratch,
                    Train = trainPath,
                    TrainingSentences = train.Sentences.Count,
                    FileScheme = TagSchemes.Name(train.Scheme!.Value),
                    Scheme = TagSchemes.Name(scheme),
                    Valid = validPath,
                    ValidationSentences = valid?.Sentences.Count,
                    Tags = ner.ClassNames,
                    Layers = ner.NumLayers,
                    ExitCriterion = ner.ExitCriterion.Name,
                    Epochs = options.Epochs,
                    SelfSamplingEpochs = options.SelfSamplingEpochs,
                    EpochsRun = report.Epochs.Count,
                    BestEpoch = report.BestEpoch,
                    StoppedEarly = report.StoppedEarly,
                    TrainSeconds = trainSeconds,
                    EpochHistory = report.Epochs
                        .Select(e => new NerEpochMetrics(e.Epoch, e.Epoch > options.Epochs, e.MeanLoss, progress.ValidationByEpoch.TryGetValue(e.Epoch, out double f1) ? f1 : null))
                        .ToArray(),
                    Validation = validation,
                };
                AtomicFile.WriteText(metricsPath, MetricsReport.ToJson(summary), CancellationToken.None);
                _console.WriteLine($"Wrote '{metricsPath}'.");
            }
        }
        finally
        {
            ner.Dispose();
        }

        return ExitCodes.Success;
    }

    private NerData Read(ParseResult parse, string path, CancellationToken cancellationToken) =>
        NerData.Read(path, _files.Reader(parse), _files.Scheme(parse), tagsRequired: true, _files.TagColumnGiven(parse), cancellationToken);

    private static ConllSentenceRow[] Rows(NerData data, string[][] tags) =>
        data.Sentences.Select((s, i) => new ConllSentenceRow { Tokens = data.Words[i], Label = tags[i], Line = s.FirstLine }).ToArray();

    private TokenEarlyExitNerTrainer.Options Options(ParseResult parse, int seed, TrainingProgressReporter progress, CancellationToken cancellationToken)
    {
        var options = new TokenEarlyExitNerTrainer.Options
        {
            Backbone = _backbone.Backbone(parse),
            FromScratch = _backbone.FromScratch(parse),
            Hub = _backbone.Hub(parse),
            Seed = seed,
            Progress = progress,
            CancellationToken = cancellationToken,
        };
        options.ExitCriterion = _exit.Criterion(parse) ?? options.ExitCriterion;
        options.Epochs = parse.GetValue(_epochs) ?? options.Epochs;
        options.SelfSamplingEpochs = parse.GetValue(_selfSamplingEpochs) ?? options.SelfSamplingEpochs;
        options.BatchSize = parse.GetValue(_batchSize) ?? options.BatchSize;
        options.MaxSequenceLength = parse.GetValue(_maxLength) ?? options.MaxSequenceLength;
        options.LearningRate = parse.GetValue(_learningRate) ?? options.LearningRate;
        options.Dropout = parse.GetValue(_dropout) ?? options.Dropout;
        options.EarlyStoppingPatience = parse.GetValue(_earlyStopping) ?? options.EarlyStoppingPatience;
        options.Device = parse.GetValue(_device) ?? options.Device;
        return options;
    }

    // MapValueToKey (tags sorted by value) -> TokenEarlyExitNer, fitted with the validation data ->
    // MapKeyToValue; fitted stage by stage because EstimatorChain.Fit takes no validation data.
    private TransformerChain<ITransformer> Fit(MLContext ml, TokenEarlyExitNerTrainer trainer, ConllSentenceRow[] train, ConllSentenceRow[]? valid,
        TrainingProgressReporter progress)
    {
        IDataView trainView = ml.Data.LoadFromEnumerable(train);
        var toKey = ml.Transforms.Conversion.MapValueToKey(nameof(ConllSentenceRow.Label), keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue).Fit(trainView);
        IDataView trainKeyed = toKey.Transform(trainView);
        IDataView? validKeyed = valid is null ? null : toKey.Transform(ml.Data.LoadFromEnumerable(valid));

        TokenEarlyExitNerTransformer ner = progress.Run(_console, ml, "TokenEarlyExitNer", () => trainer.Fit(trainKeyed, validKeyed));
        try
        {
            var toValue = ml.Transforms.Conversion.MapKeyToValue(TokenEarlyExitNerTrainer.DefaultColumnNames.PredictedLabel).Fit(ner.Transform(trainKeyed));
            return new TransformerChain<ITransformer>(toKey, ner, toValue);
        }
        catch
        {
            ner.Dispose();
            throw;
        }
    }
}
