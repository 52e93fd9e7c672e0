// Batched early-exit scoring of an EarlyExitNetwork.
//
// One batch runs layer by layer. After each layer the exit heads speak for the rows still in the
// batch, the criterion's decider says which rows exit, and those rows leave: the hidden states,
// attention mask and pooled states are cut to the remaining rows (and to their longest remaining
// length), so deeper layers only compute what is still needed. Results come back in input order.
// A layer-attention halting head (HaltingVariant.LayerAttention) reads every earlier layer's pooled
// states too: the batch then keeps them, cut with the rows.
//
// The per-row decisions depend only on that row's own outputs, so a row gets the same prediction
// and exit layer whether it is scored alone or in a batch (up to float rounding of batched matmuls).
using EarlyExit.ExitCriteria;
using EarlyExit.Modeling;
using EarlyExit.Tokenization;
using static TorchSharp.torch;

namespace EarlyExit.Inference;

/// <summary>The early-exit prediction of one row.</summary>
/// <param name="Probabilities">Class probabilities at the exit (the mixture for the expectation criterion), length C; for a regression model the one predicted value (see <see cref="Value"/>).</param>
/// <param name="ExitLayer">The 1-based layer the row exited at.</param>
/// <param name="HaltingDistribution">p_1..p_L for models with a halting head (NaN for entries that need layers not computed), else null.</param>
public sealed record ClassificationPrediction(float[] Probabilities, int ExitLayer, float[]? HaltingDistribution)
{
    /// <summary>The 0-based class with the largest probability (the first on ties).</summary>
    public int PredictedClass => Scores.ArgMax(Probabilities);

    /// <summary>The predicted value of a regression model (its single output).</summary>
    /// <exception cref="InvalidOperationException">The prediction is a classifier's (more than one output).</exception>
    public float Value => Probabilities.Length == 1
        ? Probabilities[0]
        : throw new InvalidOperationException($"This prediction has {Probabilities.Length} class probabilities; Value is the output of a regression model. Use PredictedClass.");
}

/// <summary>Scores token inputs with an early-exit classifier under an exit criterion.</summary>
internal static class EarlyExitScoring
{
    /// <summary>
    /// Early-exit predictions for <paramref name="inputs"/>, in input order, scored in batches of rows
    /// of similar length. Puts the model in eval mode.
    /// </summary>
    internal static ClassificationPrediction[] Predict(EarlyExitNetwork model, IReadOnlyList<TokenizedInput> inputs, ExitCriterion criterion, int padTokenId, int batchSize)
        => LengthBatches.Predict(model, inputs, batchSize, batch => ScoreBatch(model, batch, criterion, padTokenId));

    /// <summary>
    /// Scores <paramref name="inputs"/> as one batch: each row stops when <paramref name="criterion"/>
    /// lets it, and leaves the batch. The model should be in eval mode; no gradients are recorded.
    /// </summary>
    /// <param name="model">The classifier (on any device; inputs go where its parameters are).</param>
    /// <param name="inputs">Encoded rows (at least one), truncated to what the encoder accepts.</param>
    /// <param name="criterion">When rows may exit.</param>
    /// <param name="padTokenId">The tokenizer's padding id.</param>
    /// <returns>One prediction per input, in input order.</returns>
    /// <exception cref="InvalidOperationException">The criterion needs something the model lacks (e.g. Q-exit without a halting head).</exception>
    public static ClassificationPrediction[] ScoreBatch(EarlyExitNetwork model, IReadOnlyList<TokenizedInput> inputs, ExitCriterion criterion, int padTokenId)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(criterion);
        int rows = inputs.Count;
        if (rows == 0)
        {
            return [];
        }

        return ScoreBatch(model, inputs, CreateDecider(criterion, inputs, model.NumLayers, model.NumLabels, model.HasHaltingHead), padTokenId);
    }

    /// <summary>Scores <paramref name="inputs"/> as one batch with a decider made for them (rows numbered in input order).</summary>
    internal static ClassificationPrediction[] ScoreBatch(EarlyExitNetwork model, IReadOnlyList<TokenizedInput> inputs, ExitDecider decider, int padTokenId)
    {
        int rows = inputs.Count;
        int layers = model.NumLayers;
        int classes = model.NumLabels;
        List<float>[]? lambdas = HaltingLog(model.HasHaltingHead, rows, layers);
        Device device = model.parameters().First().device;
        EncoderNetwork encoder = model.Encoder;

        using var noGrad = no_grad();
        using var batchScope = NewDisposeScope();
        using TokenBatch batch = TokenBatch.Collate(inputs, padTokenId, device);
        int[] lengths = inputs.Select(i => i.Length).ToArray();
        int[] active = Enumerable.Range(0, rows).ToArray(); // original row of each batch position
        Tensor hidden = encoder.Embed(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask);
        Tensor attention = batch.AttentionMask; // owned by the batch until rows leave
        AttentionMask mask = encoder.PrepareMask(attention);
        Tensor previous = model.InitialPooled(rows, device);
        List<Tensor>? earlier = model.ReadsPooledHistory ? [] : null; // every earlier layer's pooled states [R, H], for a layer-attention halting head
        try
        {
            for (int layer = 0; layer < layers && active.Length > 0; layer++)
            {
                Tensor nextHidden;
                Tensor nextPrevious;
                Tensor? nextAttention = null;
                using (var layerScope = NewDisposeScope())
                {
                    Tensor output = encoder.ForwardLayer(layer, hidden, mask);
                    LayerHeadsOutput heads = model.Step(layer, output, previous, attention, earlier);
                    // [R, C] row-major: class probabilities, or a regression model's values as they are.
                    float[] probabilities = (model.IsRegression ? heads.Logits : heads.Logits.softmax(-1)).cpu().data<float>().ToArray();
                    float[] halting = heads.HaltingLogit?.sigmoid().cpu().data<float>().ToArray() ?? []; // [R]
                    List<long> keep = Observe(decider, active, layer, probabilities, classes, halting, lambdas);

                    if (keep.Count == 0)
                    {
                        break;
                    }

                    nextHidden = output;
                    nextPrevious = heads.Pooled;
                    if (keep.Count < active.Length)
                    {
                        // Rows that exited leave the batch; the rest keep only their longest remaining length.
                        active = keep.Select(k => active[(int)k]).ToArray();
                        long longest = active.Max(r => lengths[r]);
                        (Tensor index, nextAttention) = BatchShrinking.Keep(attention, keep.ToArray(), longest);
                        nextHidden = BatchShrinking.Rows(output, index, longest);
                        nextPrevious = heads.Pooled.index_select(0, index); // [R, H] -> [R', H]
                        if (earlier is not null)
                        {
                            BatchShrinking.CutEach(earlier, pooled => pooled.index_select(0, index)); // [R, H] -> [R', H]
                        }
                    }

                    layerScope.MoveToOuter(nextHidden, nextPrevious);
                    if (earlier is not null)
                    {
                        earlier.Add(nextPrevious.clone().MoveToOuterDisposeScope()); // its own copy: `previous` is disposed after the next layer
                    }
                }

                if (nextAttention is not null)
                {
                    BatchShrinking.Swap(encoder, ref attention, ref mask, nextAttention, batch.AttentionMask);
                }

                hidden.Dispose();
                previous.Dispose();
                hidden = nextHidden;
                previous = nextPrevious;
            }
        }
        finally
        {
            mask.Dispose();
        }

        return Predictions(decider, lambdas, layers);
    }

    /// <summary>A decider of <paramref name="criterion"/> for one batch of <paramref name="inputs"/>, keyed by their tokens (<see cref="RowKey"/>).</summary>
    internal static ExitDecider CreateDecider(ExitCriterion criterion, IReadOnlyList<TokenizedInput> inputs, int layers, int classes, bool hasHaltingHead) =>
        criterion.CreateDecider(inputs.Count, layers, classes, hasHaltingHead, inputs.Select(RowKey).ToArray());

    /// <summary>An empty list of halting probabilities per row, for a model with a halting head; else null.</summary>
    internal static List<float>[]? HaltingLog(bool hasHaltingHead, int rows, int layers) =>
        hasHaltingHead ? Enumerable.Range(0, rows).Select(_ => new List<float>(layers)).ToArray() : null;

    /// <summary>
    /// Shows <paramref name="decider"/> one layer's outputs for the rows still in the batch (batch position p
    /// holds row <c>active[p]</c>) and returns the positions of the rows that go on to the next layer.
    /// </summary>
    /// <param name="decider">The pass's state.</param>
    /// <param name="active">The row at each batch position.</param>
    /// <param name="layer">The 0-based layer.</param>
    /// <param name="scores">[R, C] row-major: class probabilities, or a regression model's values.</param>
    /// <param name="classes">C.</param>
    /// <param name="halting">The halting probabilities [R]; empty for a model without a halting head.</param>
    /// <param name="lambdas">Each row's halting probabilities so far, appended to; null without a halting head.</param>
    internal static List<long> Observe(ExitDecider decider, int[] active, int layer, ReadOnlySpan<float> scores, int classes, ReadOnlySpan<float> halting, List<float>[]? lambdas)
    {
        var keep = new List<long>(active.Length);
        for (int position = 0; position < active.Length; position++)
        {
            int row = active[position];
            float lambda = halting.IsEmpty ? float.NaN : halting[position];
            lambdas?[row].Add(lambda);
            if (!decider.Observe(row, layer, scores.Slice(position * classes, classes), lambda))
            {
                keep.Add(position);
            }
        }

        return keep;
    }

    /// <summary>Each row's prediction, exit layer and (with <paramref name="lambdas"/>) halting distribution, once the pass is over.</summary>
    internal static ClassificationPrediction[] Predictions(ExitDecider decider, List<float>[]? lambdas, int layers)
    {
        var predictions = new ClassificationPrediction[decider.Rows];
        for (int row = 0; row < predictions.Length; row++)
        {
            float[]? distribution = lambdas is null ? null : HaltingDistribution.FromLambdas(lambdas[row].ToArray(), layers);
            predictions[row] = new ClassificationPrediction(decider.Prediction(row).ToArray(), decider.ExitLayer(row), distribution);
        }

        return predictions;
    }

    /// <summary>A stable 64-bit key of a row's tokens (FNV-1a over ids and token types), used by sampled exits.</summary>
    public static ulong RowKey(TokenizedInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ulong hash = 14695981039346656037UL;
        for (int i = 0; i < input.Length; i++)
        {
            hash = unchecked((hash ^ (uint)input.InputIds[i]) * 1099511628211UL);
            hash = unchecked((hash ^ (uint)input.TokenTypeIds[i]) * 1099511628211UL);
        }

        return hash;
    }
}
