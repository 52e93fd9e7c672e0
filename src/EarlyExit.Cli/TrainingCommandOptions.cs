// What both train commands (classify train, ner train) take and do the same way.
//
// TrainingCommandOptions  --train, --valid, the backbone options, --epochs, --batch-size, --max-length,
//                         --seed, --learning-rate, --early-stopping, --device, --out and --metrics-json,
//                         each described with the line's own words and defaults, and applied to the
//                         trainer's options (EarlyExitTrainerOptions, the library's shared base).
// TrainingRun             the steps of a train command's Run that do not depend on the task: creating
//                         the trainer (a refused option is a usage error), checking the output paths,
//                         fitting MapValueToKey -> trainer -> MapKeyToValue with the validation data,
//                         saving the chain atomically and writing the metrics JSON.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using EarlyExit.Cli.Output;
using EarlyExit.Devices;
using EarlyExit.MLNet;
using EarlyExit.Training;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace EarlyExit.Cli;

/// <summary>The options both train commands take (see the file header).</summary>
internal sealed class TrainingCommandOptions
{
    private readonly BackboneOptions _backbone = new();
    private readonly Option<int?> _epochs;
    private readonly Option<int?> _batchSize;
    private readonly Option<int?> _maxLength;
    private readonly Option<int?> _seed;
    private readonly Option<double?> _learningRate;
    private readonly Option<int?> _earlyStopping;
    private readonly Option<DeviceOption?> _device = CommonOptions.Device("Where to train");
    private readonly string _validationWatched;
    private readonly int _defaultSeed;

    /// <summary>Creates the options; each description is the line's sentence, and the default is appended from <paramref name="defaults"/>.</summary>
    /// <param name="defaults">The trainer's default options.</param>
    /// <param name="train">What --train reads.</param>
    /// <param name="valid">What --valid reads and does.</param>
    /// <param name="epochs">What an epoch is.</param>
    /// <param name="batchSize">What a batch holds.</param>
    /// <param name="maxLength">What --max-length limits.</param>
    /// <param name="seed">What the seed seeds.</param>
    /// <param name="learningRate">What the learning rate applies to.</param>
    /// <param name="validationWatch">What early stopping watches on --valid, in --early-stopping's description (e.g. "--validation-metric").</param>
    /// <param name="validationWatched">The same, in the error when --valid is missing (e.g. "validation metric").</param>
    public TrainingCommandOptions(EarlyExitTrainerOptions defaults, string train, string valid, string epochs, string batchSize, string maxLength, string seed,
        string learningRate, string validationWatch, string validationWatched)
    {
        Train = CommonOptions.File("--train", train);
        Valid = CommonOptions.File("--valid", valid, required: false);
        _epochs = CommonOptions.Integer("--epochs", $"{epochs} Default: {defaults.Epochs}.", 1);
        _batchSize = CommonOptions.Integer("--batch-size", $"{batchSize} Default: {defaults.BatchSize}.", 1);
        _maxLength = CommonOptions.Integer("--max-length", $"{maxLength} Default: {defaults.MaxSequenceLength}.", 8);
        _seed = CommonOptions.Integer("--seed", $"{seed} Default: {defaults.Seed}.", 0);
        _learningRate = CommonOptions.Positive("--learning-rate", $"{learningRate} Default: {CommonOptions.Invariant(defaults.LearningRate)}.");
        _earlyStopping = CommonOptions.Integer("--early-stopping", $"Stop after N epochs without a better {validationWatch} on --valid (needs --valid). Default: off.", 1);
        _validationWatched = validationWatched;
        _defaultSeed = defaults.Seed;
    }

    /// <summary>--train.</summary>
    public Option<string> Train { get; }

    /// <summary>--valid.</summary>
    public Option<string> Valid { get; }

    /// <summary>--out, the model .zip to write.</summary>
    public Option<string> Out { get; } = new("--out") { Description = "The model .zip to write.", HelpName = "FILE", Required = true };

    /// <summary>--metrics-json.</summary>
    public Option<string> MetricsJson { get; } = new("--metrics-json") { Description = "Also write the training summary and validation metrics as JSON.", HelpName = "FILE" };

    /// <summary>Adds --train and --valid.</summary>
    public void AddInputs(Command command)
    {
        command.Add(Train);
        command.Add(Valid);
    }

    /// <summary>Adds the backbone options.</summary>
    public void AddBackbone(Command command) => _backbone.AddTo(command);

    /// <summary>Adds the training options, with <paramref name="lineOptions"/> after the shared schedule, and the rule that --early-stopping needs --valid.</summary>
    public void AddTraining(Command command, params Option[] lineOptions)
    {
        foreach (Option option in new Option[] { _epochs, _batchSize, _maxLength, _learningRate, _seed, _earlyStopping }.Concat(lineOptions).Concat([_device, Out, MetricsJson]))
        {
            command.Add(option);
        }

        command.Validators.Add(result =>
        {
            if (result.GetValue(_earlyStopping) is not null && result.GetValue(Valid) is null)
            {
                result.AddError($"--early-stopping needs --valid: early stopping watches the {_validationWatched}.");
            }
        });
    }

    /// <summary>The seed: --seed, else the trainer's default.</summary>
    public int Seed(ParseResult parse) => parse.GetValue(_seed) ?? _defaultSeed;

    /// <summary>Sets what the shared options say on <paramref name="options"/> (the trainer's defaults stay where an option is not given) and returns it.</summary>
    /// <exception cref="CliException">--assets is not a folder.</exception>
    public T Apply<T>(ParseResult parse, T options, IProgress<TrainingProgress> progress, CancellationToken cancellationToken)
        where T : EarlyExitTrainerOptions
    {
        options.Backbone = _backbone.Backbone(parse);
        options.FromScratch = _backbone.FromScratch(parse);
        options.Hub = _backbone.Hub(parse);
        options.Seed = Seed(parse);
        options.Progress = progress;
        options.CancellationToken = cancellationToken;
        options.Epochs = parse.GetValue(_epochs) ?? options.Epochs;
        options.BatchSize = parse.GetValue(_batchSize) ?? options.BatchSize;
        options.MaxSequenceLength = parse.GetValue(_maxLength) ?? options.MaxSequenceLength;
        options.LearningRate = parse.GetValue(_learningRate) ?? options.LearningRate;
        options.EarlyStoppingPatience = parse.GetValue(_earlyStopping) ?? options.EarlyStoppingPatience;
        options.Device = parse.GetValue(_device) ?? options.Device;
        return options;
    }
}

/// <summary>The task-independent steps of a train command (see the file header).</summary>
internal static class TrainingRun
{
    /// <summary>Creates the trainer; options the library refuses are a usage error naming each problem.</summary>
    /// <exception cref="CliException">The library refused the options.</exception>
    public static T CreateTrainer<T>(Func<T> create)
    {
        try
        {
            return create();
        }
        catch (ArgumentException e)
        {
            throw new CliException(Cli.Describe(e), isUsage: true);
        }
    }

    /// <summary>Checks, before any data is read, that --out and --metrics-json can be written and are none of the inputs.</summary>
    /// <exception cref="CliException">An output is not writable or is an input.</exception>
    public static void CheckOutputs(string outPath, string? metricsPath, string trainPath, string? validPath)
    {
        AtomicFile.CheckWritable(outPath, "--out", (trainPath, "--train"), (validPath, "--valid"));
        if (metricsPath is not null)
        {
            AtomicFile.CheckWritable(metricsPath, "--metrics-json", (trainPath, "--train"), (validPath, "--valid"), (outPath, "--out"));
        }
    }

    /// <summary>
    /// MapValueToKey of <paramref name="labelColumn"/> (values sorted, so "0" &lt; "1") -> the trainer, fitted with the
    /// validation rows -> MapKeyToValue of <paramref name="predictedLabelColumn"/>; fitted stage by stage because
    /// EstimatorChain.Fit takes no validation data. Reports training progress, then how long training took and which epoch the model keeps (<paramref name="report"/>).
    /// </summary>
    /// <returns>The chain, its early-exit transformer, and the training time in seconds.</returns>
    public static (TransformerChain<ITransformer> Model, TTransformer Transformer, double Seconds) Fit<TRow, TOptions, TTransformer>(
        MLContext ml, CliConsole console, TrainingProgressReporter progress, EarlyExitTrainer<TOptions, TTransformer> trainer, string logSource,
        IEnumerable<TRow> train, IEnumerable<TRow>? valid, string labelColumn, string predictedLabelColumn, Func<TTransformer, TrainingReport> report)
        where TRow : class
        where TOptions : EarlyExitTrainerOptions
        where TTransformer : class, ITransformer, IDisposable =>
        Fit(ml, console, progress, trainer, logSource, ml.Data.LoadFromEnumerable(train), valid is null ? null : ml.Data.LoadFromEnumerable(valid),
            [(labelColumn, predictedLabelColumn)], report);

    /// <summary>
    /// As the row overload, over views with several tag columns: the first of <paramref name="labels"/> is the label,
    /// the others are auxiliary tag columns (input and predicted column), keyed on the training view alone: the
    /// validation view holds the label only.
    /// </summary>
    public static (TransformerChain<ITransformer> Model, TTransformer Transformer, double Seconds) Fit<TOptions, TTransformer>(
        MLContext ml, CliConsole console, TrainingProgressReporter progress, EarlyExitTrainer<TOptions, TTransformer> trainer, string logSource,
        IDataView trainView, IDataView? validView, IReadOnlyList<(string Input, string Predicted)> labels, Func<TTransformer, TrainingReport> report)
        where TOptions : EarlyExitTrainerOptions
        where TTransformer : class, ITransformer, IDisposable
    {
        var clock = Stopwatch.StartNew();
        var toKey = ml.Transforms.Conversion.MapValueToKey(labels[0].Input, keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue).Fit(trainView);
        IDataView trainKeyed = toKey.Transform(trainView);
        IDataView? validKeyed = validView is null ? null : toKey.Transform(validView);
        var stages = new List<ITransformer> { toKey };
        if (labels.Count > 1)
        {
            var taskKeys = ml.Transforms.Conversion.MapValueToKey(labels.Skip(1).Select(l => new InputOutputColumnPair(l.Input)).ToArray(), keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
                .Fit(trainKeyed);
            trainKeyed = taskKeys.Transform(trainKeyed);
            stages.Add(taskKeys);
        }

        TTransformer transformer = progress.Run(console, ml, logSource, () => trainer.Fit(trainKeyed, validKeyed));
        try
        {
            var toValue = ml.Transforms.Conversion.MapKeyToValue(labels.Select(l => new InputOutputColumnPair(l.Predicted)).ToArray()).Fit(transformer.Transform(trainKeyed));
            var model = new TransformerChain<ITransformer>([.. stages, transformer, toValue]);
            double seconds = clock.Elapsed.TotalSeconds;
            TrainingReport trained = report(transformer);
            console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Trained {trained.Epochs.Count} epoch(s) in {seconds:0.0} s; keeping the weights of epoch {trained.BestEpoch}{(trained.StoppedEarly ? " (stopped early)" : "")}."));
            return (model, transformer, seconds);
        }
        catch
        {
            transformer.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Saves the chain to <paramref name="outPath"/> (a temporary file, then a rename: the last point where Ctrl+C
    /// leaves nothing behind), then writes <paramref name="metrics"/> to <paramref name="metricsPath"/> if given,
    /// regardless of Ctrl+C (the model is in place by then).
    /// </summary>
    public static void Save<TRow>(MLContext ml, CliConsole console, TransformerChain<ITransformer> model, string outPath, string savedMessage,
        string? metricsPath, Func<TrainingSummary> metrics, CancellationToken cancellationToken)
        where TRow : class
    {
        IDataView schemaSource = ml.Data.LoadFromEnumerable(Array.Empty<TRow>());
        AtomicFile.Write(outPath, temporary => ml.Model.Save(model, schemaSource.Schema, temporary), cancellationToken);
        console.WriteLine(savedMessage);
        if (metricsPath is not null)
        {
            MetricsJsonOption.Write<object>(metricsPath, metrics(), console, CancellationToken.None);
        }
    }
}
