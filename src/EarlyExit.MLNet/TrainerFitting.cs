// The steps of Fit that every trainer here takes the same way, whatever its task (PalbertFitting for the
// PALBERT trainers, TokenEarlyExitNerTrainer for token classification):
//
// check the options when the trainer is created -> refuse early stopping without validation rows ->
// [the trainer reads its rows] -> split off validation rows (seeded) -> load the backbone and check
// MaxSequenceLength against it -> [the trainer builds its model, encodes and trains] -> log the outcome,
// and dispose the model if anything fails before the transformer owns it.
using EarlyExit.Training;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace EarlyExit.MLNet;

/// <summary>The fitting steps both product lines share (see the file header).</summary>
internal static class TrainerFitting
{
    /// <summary>Checks <paramref name="options"/> as a trainer is created; every problem is reported together.</summary>
    /// <exception cref="ArgumentException">Some options are invalid; the message lists each.</exception>
    public static void CheckOptions(EarlyExitTrainerOptions options, string what)
    {
        ArgumentNullException.ThrowIfNull(options);
        IReadOnlyList<string> problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException($"Invalid {what} options: " + string.Join(" ", problems), nameof(options));
        }
    }

    /// <summary>Refuses early stopping when there will be no validation rows.</summary>
    /// <exception cref="ArgumentException">EarlyStoppingPatience is set, with neither validation data nor ValidationFraction.</exception>
    public static void RequireValidationSource(EarlyExitTrainerOptions options, IDataView? validationData)
    {
        if (options.EarlyStoppingPatience > 0 && validationData is null && options.ValidationFraction == 0)
        {
            throw new ArgumentException(
                $"EarlyStoppingPatience is {options.EarlyStoppingPatience} but there is no validation data: set ValidationFraction (e.g. 0.1) or pass validation data to Fit.");
        }
    }

    /// <summary>Holds out <paramref name="fraction"/> of <paramref name="rows"/> (at least one), chosen with <paramref name="seed"/>; both parts keep the input order.</summary>
    /// <param name="rows">The training rows.</param>
    /// <param name="fraction">ValidationFraction.</param>
    /// <param name="seed">The options' seed.</param>
    /// <param name="unit">What a row is, plural ("rows", "sentences"), for the error.</param>
    /// <exception cref="ArgumentException">No training rows would be left.</exception>
    public static (List<T> Training, List<T> Validation) Split<T>(List<T> rows, double fraction, int seed, string unit)
    {
        int[] order = Enumerable.Range(0, rows.Count).ToArray();
        new Random(seed).Shuffle(order);
        int validationCount = Math.Max(1, (int)Math.Round(rows.Count * fraction));
        if (validationCount >= rows.Count)
        {
            throw new ArgumentException($"ValidationFraction {fraction} of {rows.Count} {unit} leaves no training {unit}.");
        }

        return (order.Skip(validationCount).Order().Select(i => rows[i]).ToList(), order.Take(validationCount).Order().Select(i => rows[i]).ToList());
    }

    /// <summary>Loads the backbone the options name, logs what it is, and checks MaxSequenceLength against its limit.</summary>
    /// <exception cref="ArgumentException">MaxSequenceLength is longer than the backbone takes.</exception>
    public static PretrainedEncoder LoadBackbone(EarlyExitTrainerOptions options, IChannel ch)
    {
        PretrainedEncoder backbone = PretrainedEncoder.LoadBackbone(options.Backbone, options.BackboneOptions());
        try
        {
            ch.Info(MessageSensitivity.None, $"Backbone {backbone.Source}{(backbone.HasRandomWeights ? " with random weights" : "")}: {backbone.Config.ModelType}, {backbone.Config.NumHiddenLayers} layers, hidden {backbone.Config.HiddenSize}, on {backbone.Device}.");
            if (options.MaxSequenceLength > backbone.MaxSequenceLength)
            {
                throw new ArgumentException($"MaxSequenceLength is {options.MaxSequenceLength} but backbone '{options.Backbone}' takes at most {backbone.MaxSequenceLength} tokens.");
            }

            return backbone;
        }
        catch
        {
            backbone.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Trains <paramref name="classifier"/> with <paramref name="train"/>, logs the outcome and hands the
    /// classifier to the transformer <paramref name="wrap"/> makes; the classifier is disposed if any step fails.
    /// </summary>
    public static TTransformer TrainAndWrap<TClassifier, TTransformer>(TClassifier classifier, IChannel ch, Func<TrainingReport> train, Func<TrainingReport, TTransformer> wrap)
        where TClassifier : IDisposable
    {
        try
        {
            TrainingReport report = train();
            ch.Info(MessageSensitivity.None, $"Training done: {report.Epochs.Count} epoch(s), keeping epoch {report.BestEpoch}{(report.StoppedEarly ? " (stopped early)" : "")}.");
            return wrap(report);
        }
        catch
        {
            classifier.Dispose();
            throw;
        }
    }
}
