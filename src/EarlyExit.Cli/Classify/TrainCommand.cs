// earlyexit classify train: data files -> ML.NET pipeline (MapValueToKey -> Palbert -> MapKeyToValue)
// -> model zip, plus metrics on --valid.
//
// Order of work, cheapest checks first: options (parse time) -> trainer options (the library checks
// them all at once) -> output paths -> data files, columns and labels -> backbone and training ->
// validation metrics -> save (temporary file, then rename) -> metrics JSON. Ctrl+C before the
// rename leaves no model file behind (and never a half-written one).
using System.CommandLine;
using System.Globalization;
using EarlyExit.Cli.Output;
using EarlyExit.Evaluation;
using EarlyExit.ExitCriteria;
using EarlyExit.MLNet;
using EarlyExit.MLNet.Palbert;
using EarlyExit.Modeling;
using EarlyExit.Training;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EarlyExit.Cli.Classify;

/// <summary>The <c>classify train</c> command.</summary>
internal sealed class TrainCommand(CliConsole console)
    : CliCommand(console, "train",
        "Fine-tune an early-exit (PALBERT) text classifier and save it as an ML.NET model .zip.")
{
    private static readonly Dictionary<string, TrainingObjective> s_objectives = new()
    {
        ["ponder"] = TrainingObjective.Ponder,
        ["pabee"] = TrainingObjective.Pabee,
        ["joint"] = TrainingObjective.Joint,
        ["last-layer"] = TrainingObjective.LastLayer,
    };

    private static readonly Dictionary<string, HaltingVariant> s_halting = new()
    {
        ["concat"] = HaltingVariant.Concat,
        ["difference"] = HaltingVariant.Difference,
        ["linear"] = HaltingVariant.Linear,
        ["layer-attention"] = HaltingVariant.LayerAttention,
        ["none"] = HaltingVariant.None,
    };

    private static readonly Dictionary<string, ClassifierHeads> s_heads = new()
    {
        ["shared"] = ClassifierHeads.Shared,
        ["per-layer"] = ClassifierHeads.PerLayer,
    };

    private static readonly Dictionary<string, HeadPooling> s_pooling = new()
    {
        ["auto"] = HeadPooling.Auto,
        ["cls"] = HeadPooling.Cls,
        ["mean"] = HeadPooling.Mean,
    };

    private static readonly Dictionary<string, ClassificationMetric> s_metrics = new()
    {
        ["accuracy"] = ClassificationMetric.Accuracy,
        ["macro-f1"] = ClassificationMetric.MacroF1,
        ["f1"] = ClassificationMetric.F1,
        ["mcc"] = ClassificationMetric.MatthewsCorrelation,
    };

    private readonly TrainingCommandOptions _training = new(new PalbertTextClassificationTrainer.Options(),
        train: "The training data (.tsv, .csv or any delimited text; see --separator).",
        valid: "Validation data with the same columns: picks the best epoch (and drives --early-stopping); its metrics go into the output and --metrics-json.",
        epochs: "Passes over the training data.",
        batchSize: "Rows per training batch (and the model's scoring batch).",
        maxLength: "Longest input in tokens; longer texts are truncated.",
        seed: "Seed of weights, dropout, data order and --max-train-rows.",
        learningRate: "Peak learning rate of the encoder and classifier.",
        validationWatch: "--validation-metric",
        validationWatched: "validation metric");

    private readonly ColumnOptions _columns = new(withLabel: true);
    private readonly DataFormatOptions _format = new();
    private readonly Option<double?> _haltingLearningRate = CommonOptions.Positive("--halting-learning-rate", $"Peak learning rate of the halting head. Default: {CommonOptions.Invariant(PalbertDefaults.HaltingLearningRate)}.");
    private readonly Option<TrainingObjective?> _objective = CommonOptions.Choice("--objective", "Training loss: ponder (PALBERT), pabee, joint (DeeBERT-style) or last-layer (plain full-depth fine-tuning). Default: ponder.", s_objectives);
    private readonly Option<HaltingVariant?> _halting = CommonOptions.Choice("--halting", "Halting head: concat (PALBERT), difference, linear (PonderNet), layer-attention (a learned attention over the pooled states of every layer so far; TorchSharp only) or none (PABEE, DeeBERT). Default: concat.", s_halting);
    private readonly Option<ClassifierHeads?> _heads = CommonOptions.Choice("--heads", "One classifier for all layers (shared) or one per layer. Default: shared.", s_heads);
    private readonly Option<HeadPooling?> _pooling = CommonOptions.Choice("--pooling",
        "What the exit heads read of each layer: cls ([CLS] through the pooler), mean (mean of the token states) or auto (what the checkpoint declares, else cls). Default: auto.", s_pooling);
    private readonly Option<ExitCriterion?> _exitCriterion = CommonOptions.ExitCriterion(
        "The exit criterion saved with the model and used on --valid. Default: qexit:0.5 (full with --halting none).");
    private readonly Option<double?> _beta = new("--beta") { Description = $"Weight of the KL term of the Ponder objective. Default: {CommonOptions.Invariant(PalbertDefaults.Beta)}.", HelpName = "X" };
    private readonly Option<double?> _priorLambda = new("--prior-lambda") { Description = $"λ of the geometric prior over exit layers, in (0, 1). Default: scaled to the backbone's depth, 1 - 0.9^(12/L) (0.1 for 12 layers, 0.19 for 6).", HelpName = "X" };
    private readonly Option<ClassificationMetric?> _validationMetric = CommonOptions.Choice("--validation-metric", "The metric best-epoch selection maximises on --valid. Default: accuracy.", s_metrics);

    private readonly Option<int?> _maxTrainRows = CommonOptions.Integer("--max-train-rows", "Train on at most N rows drawn at random (seeded by --seed), for quick runs.", 1);

    protected override void AddOptions(Command command)
    {
        _training.AddInputs(command);
        _columns.AddTo(command);
        _training.AddBackbone(command);
        _training.AddTraining(command, _haltingLearningRate, _objective, _halting, _heads, _pooling, _exitCriterion, _beta, _priorLambda, _validationMetric, _maxTrainRows);
        _format.AddTo(command);
        command.Validators.Add(result =>
        {
            if (result.GetValue(_validationMetric) is not null && result.GetValue(_training.Valid) is null)
            {
                result.AddError("--validation-metric needs --valid.");
            }
        });
    }

    protected override int Run(ParseResult parse, CancellationToken cancellationToken)
    {
        string trainPath = parse.GetRequiredValue(_training.Train);
        string? validPath = parse.GetValue(_training.Valid);
        string outPath = parse.GetRequiredValue(_training.Out);
        string? metricsPath = parse.GetValue(_training.MetricsJson);
        ColumnSelection columns = _columns.Selection(parse);
        int seed = _training.Seed(parse);

        var ml = new MLContext(seed);
        var progress = new TrainingProgressReporter();
        PalbertTextClassificationTrainer.Options options = Options(parse, columns, progress, cancellationToken);
        PalbertTextClassificationTrainer trainer = TrainingRun.CreateTrainer(() => ml.MulticlassClassification.Trainers.Palbert(options));
        TrainingRun.CheckOutputs(outPath, metricsPath, trainPath, validPath);

        ClassificationData train = ClassificationData.Read(trainPath, _format.For(parse, trainPath), columns, Terminal.Warn, cancellationToken);
        int allTrainingRows = train.Rows.Count;
        if (parse.GetValue(_maxTrainRows) is int maxRows)
        {
            train = train.Subsample(maxRows, seed);
        }

        IReadOnlyList<string> classes = train.Labels();
        if (classes.Count < 2)
        {
            throw new CliException($"'{trainPath}': every training row has label '{classes[0]}' (column '{columns.Label}'); a classifier needs at least two classes.");
        }

        ClassificationData? valid = null;
        if (validPath is not null)
        {
            valid = ClassificationData.Read(validPath, _format.For(parse, validPath), columns, Terminal.Warn, cancellationToken);
            valid.RequireKnownLabels(classes, $"the training data '{trainPath}'");
        }

        Terminal.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Training on {train.Rows.Count:N0} rows{(train.Rows.Count < allTrainingRows ? $" (of {allTrainingRows:N0}, --max-train-rows)" : "")} of '{trainPath}'" +
            $"{(valid is null ? "" : $", validating on {valid.Rows.Count:N0} rows of '{validPath}'")}; classes: {string.Join(", ", classes)}."));

        (TransformerChain<ITransformer> model, PalbertTransformer palbert, double trainSeconds) = TrainingRun.Fit(ml, Terminal, progress, trainer, "Palbert", train.Rows, valid?.Rows,
            ClassificationRow.LabelColumn, PalbertTextClassificationTrainer.DefaultColumnNames.PredictedLabel, p => p.TrainingReport!);
        try
        {
            TrainingReport report = palbert.TrainingReport!;
            EvaluationMetrics? validation = null;
            if (valid is not null)
            {
                ScoredRows scored = Scoring.Score(palbert, valid.Rows, valid.IsPair, criterion: null, batchSize: null, Terminal, "validating", cancellationToken);
                validation = Scoring.Metrics(palbert, valid.Rows, scored, outPath, validPath!, options.PositiveLabel);
                Terminal.WriteLine($"Validation ('{validPath}'):");
                Terminal.Output.Write(MetricsReport.ToText(validation));
            }

            TrainingRun.Save<ClassificationRow>(ml, Terminal, model, outPath,
                $"Saved '{outPath}': {palbert.NumLayers} layers, classes {string.Join(", ", palbert.ClassNames)}, exit criterion {palbert.ExitCriterion.Name}.",
                metricsPath, () => new TrainingMetrics
                {
                    TrainingRows = train.Rows.Count,
                    ValidationRows = valid?.Rows.Count,
                    Classes = palbert.ClassNames,
                    ValidationMetric = valid is null ? null : s_metrics.First(m => m.Value == options.ValidationMetric).Key,
                    EpochHistory = report.Epochs.Select(e => new EpochMetrics(e.Epoch, e.MeanLoss, e.Validation?.Get(options.ValidationMetric))).ToArray(),
                    Validation = validation,
                }.Of(outPath, options, trainPath, validPath, palbert.NumLayers, palbert.ExitCriterion.Name, report, trainSeconds), cancellationToken);
        }
        finally
        {
            palbert.Dispose();
        }

        return ExitCodes.Success;
    }

    private PalbertTextClassificationTrainer.Options Options(ParseResult parse, ColumnSelection columns, TrainingProgressReporter progress, CancellationToken cancellationToken)
    {
        PalbertTextClassificationTrainer.Options options = _training.Apply(parse, new PalbertTextClassificationTrainer.Options
        {
            LabelColumnName = ClassificationRow.LabelColumn,
            Sentence1ColumnName = ClassificationRow.Sentence1Column,
            Sentence2ColumnName = columns.TextPair is null ? null : ClassificationRow.Sentence2Column,
            ExitCriterion = parse.GetValue(_exitCriterion),
        }, progress, cancellationToken);
        options.HaltingLearningRate = parse.GetValue(_haltingLearningRate) ?? options.HaltingLearningRate;
        options.Objective = parse.GetValue(_objective) ?? options.Objective;
        options.Halting = parse.GetValue(_halting) ?? options.Halting;
        options.Heads = parse.GetValue(_heads) ?? options.Heads;
        options.Pooling = parse.GetValue(_pooling) ?? options.Pooling;
        options.Beta = parse.GetValue(_beta) ?? options.Beta;
        options.PriorLambda = parse.GetValue(_priorLambda) ?? options.PriorLambda;
        options.ValidationMetric = parse.GetValue(_validationMetric) ?? options.ValidationMetric;
        options.PositiveLabel = _columns.PositiveLabelOf(parse);
        return options;
    }
}
