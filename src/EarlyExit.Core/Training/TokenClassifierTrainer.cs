// Training of token-level early-exit sequence labellers (Li et al., ACL 2021).
//
// Stage 1, joint training: every off-ramp is trained on every labelled token; the loss is the
// layer-weighted mean Σ_l l · CE_l / Σ_l l (1-based l), so deeper off-ramps weigh more.
// Stage 2, self-sampling (optional): each sentence of a batch gets, with equal probability, random
// halting layers (per word), full depth, or the halting the model itself chooses under TOKEE with a
// random threshold and window. The batch then runs with halt-and-copy (TokenExitNetwork.
// ForwardWithHalting) and each token's loss counts at the off-ramps it reaches, so training sees the
// copied states that inference produces.
//
// Labels are per token: the first piece of each word carries the word's tag, every other token
// (other pieces, special tokens) is ignored (-100). Auxiliary tag tasks (TokenExitNetwork.AuxiliaryTasks)
// add Weight_t * CE_t of their head, on the same first pieces, to the loss of both stages. A network that
// pools words (TokenExitNetwork.WordPoolingLayer) gets each token's word id too, and spreads its word
// positions' logits back onto the tokens, so the same first-piece labels serve every layer. Layer-attention
// pools may train at a rate of their own (TokenTrainingOptions.LayerAttentionLearningRate).
using EarlyExit.Evaluation;
using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.Modeling;
using EarlyExit.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace EarlyExit.Training;

/// <summary>One training sentence (or chunk of one): its word encoding and one 0-based tag per word.</summary>
/// <param name="Input">The words encoded with <see cref="TextTokenizer.EncodeWords"/>.</param>
/// <param name="WordLabels">The tag of every word.</param>
/// <param name="AuxiliaryWordLabels">Per auxiliary task of the model, the task's tag of every word; null without tasks.</param>
internal sealed record TokenExample(TokenizedInput Input, int[] WordLabels, IReadOnlyList<int[]>? AuxiliaryWordLabels = null)
{
    /// <summary>The label id of tokens without a label (not a word's first piece).</summary>
    public const int Ignored = -100;

    /// <summary>The per-token labels: the word's tag on its first piece, <see cref="Ignored"/> elsewhere.</summary>
    public long[] TokenLabels() => TokenLabels(WordLabels);

    /// <summary>Auxiliary task <paramref name="task"/>'s per-token labels, laid out as <see cref="TokenLabels()"/>.</summary>
    public long[] AuxiliaryTokenLabels(int task) =>
        TokenLabels(AuxiliaryWordLabels is { } all && task < all.Count ? all[task] : throw new InvalidOperationException($"The example has no labels for auxiliary task {task}."));

    private long[] TokenLabels(int[] wordLabels)
    {
        int[] wordIds = Input.WordIds ?? throw new InvalidOperationException("The input has no word ids; encode words with TextTokenizer.EncodeWords.");
        var labels = new long[Input.Length];
        int previous = -1;
        for (int t = 0; t < labels.Length; t++)
        {
            int word = wordIds[t];
            labels[t] = word >= 0 && word != previous && word < wordLabels.Length ? wordLabels[word] : Ignored;
            previous = word >= 0 ? word : previous;
        }

        return labels;
    }
}

/// <summary>How <see cref="TokenClassifierTrainer"/> trains. Defaults: <see cref="TokenExitDefaults"/>.</summary>
internal sealed class TokenTrainingOptions : FineTuningOptions
{
    /// <summary>Epochs of self-sampling training (stage 2), after the joint epochs (<see cref="FineTuningOptions.Epochs"/>); 0 skips it.</summary>
    /// <value>The default value is <see cref="TokenExitDefaults.SelfSamplingEpochs"/> (1).</value>
    public int SelfSamplingEpochs { get; set; } = TokenExitDefaults.SelfSamplingEpochs;

    /// <summary>The criterion validation scores with.</summary>
    /// <value>The default value is <c>tokee:0.3:5</c>.</value>
    public TokenExitCriterion ValidationCriterion { get; set; } = TokenExitCriterion.Tokee(TokenExitDefaults.TokeeThreshold);

    /// <summary>
    /// The peak learning rate of the off-ramps' layer-attention pools (TokenOffRampInput.LayerAttention or
    /// DifferenceAttention), which start as a plain average of the layers; null: <see cref="FineTuningOptions.LearningRate"/>,
    /// in the same groups as the other weights.
    /// </summary>
    /// <value>The default value is null.</value>
    public double? LayerAttentionLearningRate { get; set; }

    /// <summary>The tag validation gives words that have no tokens (the index of "O"), or -1 for the nearest tokenised word's tag.</summary>
    /// <value>The default value is -1.</value>
    public int TokenlessWordTag { get; set; } = -1;

    private protected override IEnumerable<string> EpochProblems()
    {
        if (Epochs < 0 || Epochs + SelfSamplingEpochs < 1)
        {
            yield return $"Epochs is {Epochs} and SelfSamplingEpochs is {SelfSamplingEpochs}; train for at least one epoch.";
        }

        if (SelfSamplingEpochs < 0)
        {
            yield return $"SelfSamplingEpochs is {SelfSamplingEpochs}; it must be 0 or more.";
        }
    }

    private protected override IEnumerable<string> LineProblems()
    {
        if (ValidationCriterion is null)
        {
            yield return "ValidationCriterion is null.";
        }

        if (LayerAttentionLearningRate is double rate && !(rate > 0 && double.IsFinite(rate)))
        {
            yield return $"LayerAttentionLearningRate is {rate}; it must be a positive number, or null for LearningRate.";
        }
    }
}

/// <summary>Trains and applies token-level early-exit sequence labellers.</summary>
internal static class TokenClassifierTrainer
{
    /// <summary>
    /// Trains <paramref name="model"/> in place: joint epochs, then self-sampling epochs. With validation
    /// data, the epoch with the best <paramref name="validationScore"/> is kept. On return the model is in eval mode.
    /// </summary>
    /// <param name="model">The labeller.</param>
    /// <param name="training">Training sentences (at least one).</param>
    /// <param name="validation">Validation sentences, or null.</param>
    /// <param name="options">Hyper-parameters.</param>
    /// <param name="padTokenId">The tokenizer's padding id.</param>
    /// <param name="validationScore">Scores validation predictions against the gold word tags (higher is better), e.g. entity F1; null for word accuracy.</param>
    /// <param name="progress">Receives progress, or null.</param>
    /// <param name="cancellationToken">Checked before every step.</param>
    /// <exception cref="ArgumentException">Invalid options, empty data, or tags outside the model's range.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static TrainingReport Train(
        TokenExitNetwork model,
        IReadOnlyList<TokenExample> training,
        IReadOnlyList<TokenExample>? validation,
        TokenTrainingOptions options,
        int padTokenId,
        Func<IReadOnlyList<int[]>, IReadOnlyList<int[]>, double>? validationScore = null,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(options);
        Check(model, training, validation, options);
        validationScore ??= WordAccuracy;

        torch.manual_seed(options.Seed);
        var random = new Random(options.Seed);
        Device device = model.parameters().First().device;
        int epochs = options.Epochs + options.SelfSamplingEpochs;
        long totalSteps = (long)((training.Count + options.BatchSize - 1) / options.BatchSize) * epochs;
        using var optimizer = options.LayerAttentionLearningRate is double poolRate
            ? new ScheduledAdamW(model, options.LearningRate, options.WeightDecay, model.LayerAttentionParameters(), poolRate)
            : new ScheduledAdamW(model, options.LearningRate, options.WeightDecay);
        var schedule = new LinearWarmupSchedule(totalSteps, options.WarmupFraction);
        int[] lengths = training.Select(e => e.Input.Length).ToArray();
        Func<(double, ClassificationMetrics?)>? validate = validation is { Count: > 0 }
            ? () =>
            {
                TokenPrediction[] predicted = TokenExitScoring.Predict(model, validation.Select(v => v.Input).ToArray(), options.ValidationCriterion, padTokenId, options.BatchSize);
                int[][] words = predicted.Select((p, i) => TokenlessWords.Complete(p.WordClasses, validation[i].Input, validation[i].WordLabels.Length, options.TokenlessWordTag)).ToArray();
                return (validationScore(validation.Select(v => v.WordLabels).ToArray(), words), null);
            }
            : null;
        return EpochLoop.Run(model, epochs, lengths, options.BatchSize, random, options.EarlyStoppingPatience, epoch => epoch > options.Epochs ? "self-sampling" : "train",
            (epoch, rows, step) => Step(model, optimizer, schedule.Factor(step), training, rows, padTokenId, options.MaxGradientNorm, device, epoch > options.Epochs ? random : null),
            validate, progress, cancellationToken);
    }

    /// <summary>The layer-weighted loss of logits [L, B, T, C] against token labels [B, T] (ignored: -100), counting each token at the layers below its halting layer ([B, T], 1-based) when given.</summary>
    public static Tensor Loss(Tensor logits, Tensor labels, Tensor? haltLayers = null)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(labels);
        using var scope = NewDisposeScope();
        long layers = logits.shape[0];
        long rows = logits.shape[1];
        long tokens = logits.shape[2];
        long classes = logits.shape[3];
        Tensor flat = logits.reshape(layers * rows * tokens, classes); // [L, B, T, C] -> [L*B*T, C]
        Tensor target = labels.unsqueeze(0).expand(layers, rows, tokens).reshape(layers * rows * tokens); // [B, T] -> [L*B*T]
        Tensor ce = nn.functional.cross_entropy(flat, target, ignore_index: TokenExample.Ignored, reduction: nn.Reduction.None).view(layers, rows, tokens); // [L, B, T]
        Tensor counted = labels.ne(TokenExample.Ignored).unsqueeze(0).expand(layers, rows, tokens).to_type(ScalarType.Float32); // [L, B, T]
        if (haltLayers is not null)
        {
            Tensor layerNumbers = arange(1, layers + 1, ScalarType.Int64, logits.device).view(layers, 1, 1); // [L, 1, 1]: 1..L
            counted = counted * layerNumbers.le(haltLayers.unsqueeze(0)).to_type(ScalarType.Float32);
        }

        Tensor weights = arange(1, layers + 1, ScalarType.Float32, logits.device).view(layers, 1, 1); // 1..L
        Tensor weighted = (ce * counted * weights).sum();
        Tensor normaliser = (counted * weights).sum().clamp_min(1e-6);
        return (weighted / normaliser).MoveToOuterDisposeScope();
    }

    /// <summary>The mean cross-entropy of one auxiliary head's logits [B, T, C_t] against token labels [B, T] (ignored: -100); 0 when no token is labelled.</summary>
    public static Tensor AuxiliaryLoss(Tensor logits, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(labels);
        using var scope = NewDisposeScope();
        Tensor ce = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[2]), labels.reshape(-1), ignore_index: TokenExample.Ignored, reduction: nn.Reduction.Sum); // [B*T, C_t] -> sum
        Tensor counted = labels.ne(TokenExample.Ignored).sum().to_type(ScalarType.Float32).clamp_min(1);
        return (ce / counted).MoveToOuterDisposeScope();
    }

    private static double Step(TokenExitNetwork model, ScheduledAdamW optimizer, double factor, IReadOnlyList<TokenExample> training,
        int[] rows, int padTokenId, double maxGradientNorm, Device device, Random? selfSampling)
    {
        using var scope = NewDisposeScope();
        TokenExample[] examples = rows.Select(r => training[r]).ToArray();
        using TokenBatch batch = TokenBatch.Collate(examples.Select(e => e.Input).ToArray(), padTokenId, device);
        Tensor target = TokenTargets(examples, batch, device, e => e.TokenLabels());
        Tensor? haltLayers = selfSampling is null ? null : SampleHalting(model, examples, batch.Length, padTokenId, selfSampling, device);
        Tensor? wordIds = model.PoolsWords ? TokenTargets(examples, batch, device, e => e.Input.WordIds!.Select(w => (long)w).ToArray()) : null; // padding: Ignored, below 0
        model.train();
        using TokenLayerwiseOutput output = haltLayers is null
            ? model.Forward(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask, wordIds)
            : model.ForwardWithHalting(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask, haltLayers, wordIds);
        Tensor loss = Loss(output.Logits, target, haltLayers);
        for (int task = 0; task < model.AuxiliaryTasks.Count; task++)
        {
            int t = task;
            Tensor auxiliaryTarget = TokenTargets(examples, batch, device, e => e.AuxiliaryTokenLabels(t));
            loss = loss + (model.AuxiliaryTasks[task].Weight * AuxiliaryLoss(output.Auxiliary[task], auxiliaryTarget));
        }

        double value = loss.item<float>();
        if (!double.IsFinite(value))
        {
            throw new InvalidOperationException($"The training loss became {value}: training diverged. Lower the learning rate or keep gradient clipping on.");
        }

        optimizer.ZeroGrad();
        loss.backward();
        if (maxGradientNorm > 0)
        {
            nn.utils.clip_grad_norm_(model.parameters(), maxGradientNorm);
        }

        optimizer.Step(factor);
        return value;
    }

    // The per-token labels (or other per-token values) of a batch's rows, padded with Ignored: [B, T].
    private static Tensor TokenTargets(TokenExample[] examples, TokenBatch batch, Device device, Func<TokenExample, long[]> labelsOf)
    {
        long[] labels = new long[batch.Count * batch.Length];
        Array.Fill(labels, TokenExample.Ignored);
        for (int b = 0; b < examples.Length; b++)
        {
            labelsOf(examples[b]).CopyTo(labels, b * batch.Length);
        }

        return tensor(labels, [batch.Count, batch.Length], ScalarType.Int64, device);
    }

    // Self-sampling: per sentence, random per-word halting layers, full depth, or the model's own TOKEE
    // halting with a random threshold and window, each with probability 1/3. Returns [B, T] 1-based layers.
    private static Tensor SampleHalting(TokenExitNetwork model, TokenExample[] examples, int length, int padTokenId, Random random, Device device)
    {
        model.eval(); // the model's own halting is decided without dropout; Step switches back to training
        int layers = model.NumLayers;
        var halt = new long[examples.Length * length];
        Array.Fill(halt, layers);
        var own = new List<int>();
        var ownCriteria = new List<TokenExitCriterion>();
        for (int b = 0; b < examples.Length; b++)
        {
            int choice = random.Next(3);
            if (choice == 0)
            {
                int[] wordIds = examples[b].Input.WordIds!;
                int words = wordIds.Length == 0 ? 0 : wordIds.Max() + 1;
                int[] wordLayers = Enumerable.Range(0, words).Select(_ => random.Next(1, layers + 1)).ToArray();
                for (int t = 0; t < wordIds.Length; t++)
                {
                    halt[(b * length) + t] = wordIds[t] >= 0 ? wordLayers[wordIds[t]] : layers;
                }
            }
            else if (choice == 2)
            {
                own.Add(b);
                ownCriteria.Add(TokenExitCriterion.Tokee(random.NextDouble(), (2 * random.Next(4)) + 1));
            }
        }

        // The model's own halting, one criterion per sentence (scored one by one: criteria differ).
        for (int i = 0; i < own.Count; i++)
        {
            TokenPrediction prediction = TokenExitScoring.ScoreBatch(model, [examples[own[i]].Input], ownCriteria[i], padTokenId)[0];
            prediction.TokenExitLayers.Select(l => (long)l).ToArray().CopyTo(halt, own[i] * length);
        }

        return tensor(halt, [examples.Length, length], ScalarType.Int64, device);
    }

    private static void Check(TokenExitNetwork model, IReadOnlyList<TokenExample> training, IReadOnlyList<TokenExample>? validation, TokenTrainingOptions options)
    {
        var problems = new List<string>(options.Validate());
        if (training.Count == 0)
        {
            problems.Add("The training data has no sentences.");
        }

        // Validation scores the model's own tags only, so its sentences may come without auxiliary labels.
        foreach (var (examples, what, auxiliaryRequired) in new[] { (training, "training", true), (validation ?? [], "validation", false) })
        {
            for (int i = 0; i < examples.Count; i++)
            {
                int bad = examples[i].WordLabels.FirstOrDefault(l => (uint)l >= (uint)model.NumLabels, -1);
                if (bad >= 0 || examples[i].WordLabels.Any(l => l < 0))
                {
                    problems.Add($"The {what} sentence {i} has a tag outside 0..{model.NumLabels - 1}.");
                    break;
                }

                string? auxiliary = auxiliaryRequired || examples[i].AuxiliaryWordLabels is not null ? AuxiliaryProblem(model, examples[i], what, i) : null;
                if (auxiliary is not null)
                {
                    problems.Add(auxiliary);
                    break;
                }
            }
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("Cannot train: " + string.Join(" ", problems));
        }
    }

    private static string? AuxiliaryProblem(TokenExitNetwork model, TokenExample example, string what, int index)
    {
        IReadOnlyList<AuxiliaryTagTask> tasks = model.AuxiliaryTasks;
        int given = example.AuxiliaryWordLabels?.Count ?? 0;
        if (given != tasks.Count)
        {
            return $"The {what} sentence {index} has labels for {given} auxiliary tasks, but the model has {tasks.Count} ({string.Join(", ", tasks.Select(t => t.Name))}).";
        }

        for (int task = 0; task < tasks.Count; task++)
        {
            int[] labels = example.AuxiliaryWordLabels![task];
            if (labels is null || labels.Length != example.WordLabels.Length)
            {
                return $"The {what} sentence {index} has {labels?.Length ?? 0} '{tasks[task].Name}' tags for {example.WordLabels.Length} words; give every word one.";
            }

            if (labels.Any(l => (uint)l >= (uint)tasks[task].NumLabels))
            {
                return $"The {what} sentence {index} has a '{tasks[task].Name}' tag outside 0..{tasks[task].NumLabels - 1}.";
            }
        }

        return null;
    }

    private static double WordAccuracy(IReadOnlyList<int[]> gold, IReadOnlyList<int[]> predicted)
    {
        long correct = 0;
        long total = 0;
        for (int i = 0; i < gold.Count; i++)
        {
            for (int w = 0; w < gold[i].Length && w < predicted[i].Length; w++)
            {
                correct += gold[i][w] == predicted[i][w] ? 1 : 0;
                total++;
            }
        }

        return total == 0 ? 0 : (double)correct / total;
    }
}
