// The training loop of early-exit classifiers (PALBERT's Ponder objective, PABEE, joint training).
//
// - Data stays as token-id arrays; each step collates one batch into tensors inside its own
//   DisposeScope, so the dataset is never held as tensors.
// - Batches are length-bucketed: every epoch shuffles the rows (seeded), sorts pools of 50 batches
//   by length, cuts them into batches padded only to their own longest row, and shuffles the batches.
// - AdamW with three parameter groups: weights with decay, biases/LayerNorm without, and the halting
//   head with its own learning rate and no decay. Linear warm-up, then linear decay to 0.
// - After every epoch, optional validation scores with the deployment exit criterion; the best
//   epoch's weights are kept and restored at the end; early stopping after `patience` epochs
//   without improvement.
using EarlyExit.Evaluation;
using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.Modeling;
using EarlyExit.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace EarlyExit.Training;

/// <summary>One training row: its encoded text(s) and its 0-based class.</summary>
/// <param name="Input">The encoded text or text pair.</param>
/// <param name="Label">The 0-based class.</param>
internal sealed record ClassificationExample(TokenizedInput Input, int Label);

/// <summary>One training row of a regression model: its encoded text(s) and its target value.</summary>
/// <param name="Input">The encoded text or text pair.</param>
/// <param name="Target">The value to predict (e.g. an STS-B similarity from 0 to 5).</param>
internal sealed record RegressionExample(TokenizedInput Input, float Target);

/// <summary>Where training is.</summary>
/// <param name="Phase">"train" after a step, "validate" after a validation pass.</param>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Epochs">Planned epochs.</param>
/// <param name="Step">Optimiser steps done so far, over all epochs.</param>
/// <param name="TotalSteps">Planned optimiser steps.</param>
/// <param name="Loss">The mean training loss of the epoch so far.</param>
/// <param name="ValidationMetric">The last validation metric, or null before the first validation (or without validation data).</param>
/// <param name="Elapsed">Time since training started.</param>
/// <param name="Remaining">Estimated time left, or null before the first step.</param>
public sealed record TrainingProgress(string Phase, int Epoch, int Epochs, long Step, long TotalSteps, double Loss, double? ValidationMetric, TimeSpan Elapsed, TimeSpan? Remaining);

/// <summary>One epoch's outcome.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="MeanLoss">Mean training loss over the epoch's steps.</param>
/// <param name="Validation">A classifier's validation metrics, or null without validation data (and for regression models).</param>
/// <param name="ValidationScore">The validation score best-epoch selection maximised (the chosen metric; Pearson and Spearman's mean for regression), or null without validation data.</param>
public sealed record EpochSummary(int Epoch, double MeanLoss, ClassificationMetrics? Validation, double? ValidationScore = null);

/// <summary>What training did.</summary>
/// <param name="Epochs">Every epoch run.</param>
/// <param name="BestEpoch">The epoch whose weights the model holds (the last one without validation data).</param>
/// <param name="StoppedEarly">Whether early stopping ended training before the planned epochs.</param>
public sealed record TrainingReport(IReadOnlyList<EpochSummary> Epochs, int BestEpoch, bool StoppedEarly);

/// <summary>Trains and applies early-exit classifiers on encoded examples.</summary>
internal static class ClassifierTrainer
{
    private const int BatchesPerLengthPool = 50;

    /// <summary>Trains <paramref name="model"/> in place; on return it holds the best (or last) epoch's weights and is in eval mode.</summary>
    /// <param name="model">The classifier (its parameters' device is used).</param>
    /// <param name="training">Training rows (at least one).</param>
    /// <param name="validation">Validation rows for model selection and early stopping, or null.</param>
    /// <param name="options">Hyper-parameters.</param>
    /// <param name="padTokenId">The tokenizer's padding id.</param>
    /// <param name="progress">Receives progress after every step and validation, or null.</param>
    /// <param name="cancellationToken">Checked before every step.</param>
    /// <exception cref="ArgumentException">Invalid options, empty data, labels outside the model's classes, a regression model, or an objective or criterion the model cannot serve.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the model keeps the weights of the last finished step.</exception>
    /// <exception cref="InvalidOperationException">The loss became NaN or infinite (training diverged).</exception>
    public static TrainingReport Train(
        EarlyExitNetwork model,
        IReadOnlyList<ClassificationExample> training,
        IReadOnlyList<ClassificationExample>? validation,
        ClassifierTrainingOptions options,
        int padTokenId,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(options);
        List<string> problems = Check(model, training.Count, validation is { Count: > 0 }, options);
        if (model.IsRegression)
        {
            problems.Add("The model has one output (regression); train it on RegressionExample rows.");
        }

        CheckLabels(training, model.NumLabels, "training", problems);
        if (options.PositiveClass >= model.NumLabels)
        {
            problems.Add($"PositiveClass is {options.PositiveClass}, but the model has classes 0..{model.NumLabels - 1}.");
        }

        if (validation is not null)
        {
            CheckLabels(validation, model.NumLabels, "validation", problems);
        }

        ThrowIfAny(problems);
        Func<(double, ClassificationMetrics?)>? validate = validation is { Count: > 0 }
            ? () =>
            {
                ClassificationMetrics metrics = Evaluate(model, validation, options.ValidationCriterion, padTokenId, options.BatchSize, options.PositiveClass);
                return (metrics.Get(options.ValidationMetric), metrics);
            }
            : null;
        return Run(model, training.Select(e => e.Input).ToArray(), (rows, device) => tensor(rows.Select(r => (long)training[r].Label).ToArray(), ScalarType.Int64, device),
            validate, options, padTokenId, progress, cancellationToken);
    }

    /// <summary>
    /// Trains a regression model (<see cref="EarlyExitNetwork.IsRegression"/>) in place on squared
    /// errors of standardised targets (the model's target statistics are set from <paramref name="training"/>
    /// first; see <see cref="EarlyExitNetwork.SetTargetStatistics"/>); validation maximises the mean of Pearson's and Spearman's correlation
    /// (<see cref="EarlyExitRegressionMetrics.PearsonSpearman"/>). On return the model holds the best (or last)
    /// epoch's weights and is in eval mode.
    /// </summary>
    /// <param name="model">The regression model (one output).</param>
    /// <param name="training">Training rows (at least one).</param>
    /// <param name="validation">Validation rows for model selection and early stopping, or null.</param>
    /// <param name="options">Hyper-parameters (ValidationMetric does not apply).</param>
    /// <param name="padTokenId">The tokenizer's padding id.</param>
    /// <param name="progress">Receives progress after every step and validation, or null.</param>
    /// <param name="cancellationToken">Checked before every step.</param>
    /// <exception cref="ArgumentException">Invalid options, empty data, a target that is not a finite number, a classifier, or a criterion the model cannot serve.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the model keeps the weights of the last finished step.</exception>
    /// <exception cref="InvalidOperationException">The loss became NaN or infinite (training diverged).</exception>
    public static TrainingReport Train(
        EarlyExitNetwork model,
        IReadOnlyList<RegressionExample> training,
        IReadOnlyList<RegressionExample>? validation,
        ClassifierTrainingOptions options,
        int padTokenId,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(options);
        List<string> problems = Check(model, training.Count, validation is { Count: > 0 }, options);
        if (!model.IsRegression)
        {
            problems.Add($"The model has {model.NumLabels} classes; regression rows train a model with one output (NumLabels = 1).");
        }

        CheckTargets(training, "training", problems);
        if (validation is not null)
        {
            CheckTargets(validation, "validation", problems);
            if (validation.Count > 0 && validation.Select(e => e.Target).Distinct().Count() < 2)
            {
                problems.Add($"All {validation.Count} validation row(s) have the target {validation[0].Target}: their correlation with any prediction is undefined, " +
                    "so validation could not choose an epoch; validate on more rows (a larger ValidationFraction) or on none.");
            }
        }

        ThrowIfAny(problems);
        double mean = training.Average(e => (double)e.Target);
        double deviation = Math.Sqrt(training.Average(e => (e.Target - mean) * (e.Target - mean)));
        model.SetTargetStatistics(mean, deviation > 0 ? deviation : 1);
        Func<(double, ClassificationMetrics?)>? validate = validation is { Count: > 0 }
            ? () => (EvaluateRegression(model, validation, options.ValidationCriterion, padTokenId, options.BatchSize).PearsonSpearman, null)
            : null;
        return Run(model, training.Select(e => e.Input).ToArray(), (rows, device) => tensor(rows.Select(r => training[r].Target).ToArray(), ScalarType.Float32, device),
            validate, options, padTokenId, progress, cancellationToken);
    }

    /// <summary>Scores <paramref name="examples"/> with <paramref name="criterion"/> and computes the task and cost metrics (F1 of class <paramref name="positiveClass"/>).</summary>
    public static ClassificationMetrics Evaluate(EarlyExitNetwork model, IReadOnlyList<ClassificationExample> examples, ExitCriterion criterion, int padTokenId, int batchSize, int positiveClass = 1)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ClassificationPrediction[] predictions = EarlyExitScoring.Predict(model, examples.Select(e => e.Input).ToArray(), criterion, padTokenId, batchSize);
        return ClassificationMetrics.Compute(
            predictions.Select(p => p.PredictedClass).ToArray(),
            examples.Select(e => e.Label).ToArray(),
            predictions.Select(p => p.ExitLayer).ToArray(),
            model.NumLabels,
            model.NumLayers,
            positiveClass);
    }

    /// <summary>Scores regression rows with <paramref name="criterion"/> and computes the correlation, error and cost metrics.</summary>
    public static EarlyExitRegressionMetrics EvaluateRegression(EarlyExitNetwork model, IReadOnlyList<RegressionExample> examples, ExitCriterion criterion, int padTokenId, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ClassificationPrediction[] predictions = EarlyExitScoring.Predict(model, examples.Select(e => e.Input).ToArray(), criterion, padTokenId, batchSize);
        return EarlyExitRegressionMetrics.Compute(predictions.Select(p => p.Value).ToArray(), examples.Select(e => e.Target).ToArray(), predictions.Select(p => p.ExitLayer).ToArray(), model.NumLayers);
    }

    /// <summary>
    /// Length-bucketed batches of row indices for one epoch: shuffle, sort pools of
    /// <see cref="BatchesPerLengthPool"/> batches by length, cut into batches, shuffle the batches.
    /// </summary>
    public static IEnumerable<int[]> LengthBucketedBatches(IReadOnlyList<int> lengths, int batchSize, Random random)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        int[] order = Enumerable.Range(0, lengths.Count).ToArray();
        random.Shuffle(order);
        var batches = new List<int[]>();
        int pool = batchSize * BatchesPerLengthPool;
        for (int start = 0; start < order.Length; start += pool)
        {
            int[] sorted = order.Skip(start).Take(pool).OrderBy(i => lengths[i]).ToArray();
            for (int b = 0; b < sorted.Length; b += batchSize)
            {
                batches.Add(sorted.Skip(b).Take(batchSize).ToArray());
            }
        }

        int[][] shuffled = batches.ToArray();
        random.Shuffle(shuffled);
        return shuffled;
    }

    // The loop both kinds of rows share; labels(rows, device) makes a batch's targets.
    private static TrainingReport Run(
        EarlyExitNetwork model,
        TokenizedInput[] inputs,
        Func<int[], Device, Tensor> labels,
        Func<(double, ClassificationMetrics?)>? validate,
        ClassifierTrainingOptions options,
        int padTokenId,
        IProgress<TrainingProgress>? progress,
        CancellationToken cancellationToken)
    {
        torch.manual_seed(options.Seed);
        var random = new Random(options.Seed);
        Device device = model.parameters().First().device;
        var objective = new EarlyExitObjective(options.Objective, model.NumLayers, options.PriorLambda ?? PalbertDefaults.PriorLambdaFor(model.NumLayers), options.Beta, options.KlDirection,
            model.TargetScale);
        long totalSteps = (long)((inputs.Length + options.BatchSize - 1) / options.BatchSize) * options.Epochs;
        using var optimizer = new ScheduledAdamW(model, options.LearningRate, options.WeightDecay, model.HaltingParameters(), options.HaltingLearningRate);
        var schedule = new LinearWarmupSchedule(totalSteps, options.WarmupFraction);
        int[] lengths = inputs.Select(i => i.Length).ToArray();
        return EpochLoop.Run(model, options.Epochs, lengths, options.BatchSize, random, options.EarlyStoppingPatience, _ => "train",
            (_, rows, step) => TrainStep(model, objective, optimizer, schedule.Factor(step), inputs, labels, rows, padTokenId, options.MaxGradientNorm, device),
            validate, progress, cancellationToken);
    }

    private static double TrainStep(
        EarlyExitNetwork model,
        EarlyExitObjective objective,
        ScheduledAdamW optimizer,
        double rateFactor,
        TokenizedInput[] inputs,
        Func<int[], Device, Tensor> labelsOf,
        int[] rows,
        int padTokenId,
        double maxGradientNorm,
        Device device)
    {
        using var scope = NewDisposeScope();
        using TokenBatch batch = TokenBatch.Collate(rows.Select(r => inputs[r]).ToArray(), padTokenId, device);
        Tensor labels = labelsOf(rows, device);
        using LayerwiseOutput output = model.Forward(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask);
        Tensor loss = objective.Loss(output.Logits, output.HaltingLogits, labels);
        double value = loss.item<float>();
        if (!double.IsFinite(value))
        {
            throw new InvalidOperationException(
                $"The training loss became {value}: training diverged. Lower the learning rate or keep gradient clipping (MaxGradientNorm) on.");
        }

        optimizer.ZeroGrad();
        loss.backward();
        if (maxGradientNorm > 0)
        {
            nn.utils.clip_grad_norm_(model.parameters(), maxGradientNorm);
        }

        optimizer.Step(rateFactor);
        return value;
    }

    // The problems both kinds of rows share.
    private static List<string> Check(EarlyExitNetwork model, int trainingRows, bool validates, ClassifierTrainingOptions options)
    {
        var problems = new List<string>(options.Validate());
        if (trainingRows == 0)
        {
            problems.Add("The training data has no rows.");
        }

        if (options.Objective == TrainingObjective.Ponder && !model.HasHaltingHead)
        {
            problems.Add("The Ponder objective needs a halting head: build the model with a halting variant (Linear, Concat, Difference), or use the Pabee or Joint objective.");
        }

        if (options.ValidationCriterion is { } criterion && validates)
        {
            if (criterion.Incompatibility(model.NumLabels, model.HasHaltingHead) is string problem)
            {
                problems.Add($"The validation criterion cannot be used: {problem}");
            }
            else if (criterion.RequiresHaltingHead && options.Objective != TrainingObjective.Ponder)
            {
                problems.Add($"The validation criterion '{criterion}' reads the halting head, which only the Ponder objective trains (the objective is {options.Objective}); validate with patience, a fixed layer or full.");
            }
        }

        return problems;
    }

    private static void ThrowIfAny(List<string> problems)
    {
        if (problems.Count > 0)
        {
            throw new ArgumentException("Cannot train: " + string.Join(" ", problems));
        }
    }

    private static void CheckTargets(IReadOnlyList<RegressionExample> examples, string what, List<string> problems)
    {
        for (int i = 0; i < examples.Count; i++)
        {
            if (!float.IsFinite(examples[i].Target))
            {
                problems.Add($"The {what} row {i} has target {examples[i].Target}; targets must be finite numbers.");
                return;
            }
        }
    }

    private static void CheckLabels(IReadOnlyList<ClassificationExample> examples, int classes, string what, List<string> problems)
    {
        for (int i = 0; i < examples.Count; i++)
        {
            if ((uint)examples[i].Label >= (uint)classes)
            {
                problems.Add($"The {what} row {i} has class {examples[i].Label}, outside 0..{classes - 1}.");
                return;
            }
        }
    }
}
