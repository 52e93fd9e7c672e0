// Batched token-level early-exit scoring of a TokenExitNetwork (SENTEE, TOKEE) with halt-and-copy.
//
// One batch runs layer by layer. At each layer only the still-active tokens are computed, packed across
// rows after attention (TokenQueries), and the halted ones keep their states (HaltAndCopy.Layer). The
// off-ramp of the layer gives the active tokens' tag probabilities; the criterion decides on the CPU which
// tokens (or whole sentences) stop (TokenExitState). Rows whose tokens have all stopped leave the batch
// (BatchShrinking).
//
// Off-ramps with layer attention (TokenExitNetwork.ReadsLayerHistory) also read the active tokens'
// earlier states: the batch then keeps every layer's states [R, T, H] (the embeddings' first), shrunk
// with the batch when rows leave, and gathers the active tokens from each.
//
// Networks that pool words (TokenExitNetwork.WordPoolingLayer k) average each running row's word pieces
// before layer k (PoolWords): the batch's states become [R, U, H] with a mask over units, the layer history
// is pooled alike, and the rows' TokenExitStates switch their query positions to units, so the layout,
// shrinking and auxiliary reads below work on units while every decision stays per token.
//
// haltAndCopy = false runs HaltAndCopy.Reference instead: every token through the full layer, then the
// halted tokens' states restored. Both give the same decisions (tested); only the first saves work.
using EarlyExit.ExitCriteria;
using EarlyExit.Modeling;
using EarlyExit.Tokenization;
using static TorchSharp.torch;

namespace EarlyExit.Inference;

/// <summary>The token-level early-exit prediction of one row.</summary>
/// <param name="TokenClasses">The predicted tag of every token (special tokens and word pieces included), 0-based.</param>
/// <param name="TokenExitLayers">The 1-based layer every token stopped at.</param>
/// <param name="WordClasses">The predicted tag of every word: its first piece's.</param>
/// <param name="WordExitLayers">The 1-based layer every word stopped at (its pieces stop together).</param>
/// <param name="AuxiliaryWordClasses">Per auxiliary task of the model, every word's tag (its first piece's, read at the task's layer); null without tasks.</param>
internal sealed record TokenPrediction(int[] TokenClasses, int[] TokenExitLayers, int[] WordClasses, int[] WordExitLayers, IReadOnlyList<int[]>? AuxiliaryWordClasses = null)
{
    /// <summary>The deepest layer any token of the row reached.</summary>
    public int ExitLayer => TokenExitLayers.Length == 0 ? 0 : TokenExitLayers.Max();
}

/// <summary>Scores word-encoded rows with a <see cref="TokenExitNetwork"/> under a <see cref="TokenExitCriterion"/>.</summary>
internal static class TokenExitScoring
{
    /// <summary>
    /// Predictions for <paramref name="inputs"/> (word encodings), in input order, scored in batches of similar length.
    /// <paramref name="packed"/> false gives the feed-forward every padded query slot too (the layout before packing, kept
    /// for bench/BackendSpeed --ner to compare in one run; the padding repeats a real position, so the result is the same).
    /// </summary>
    internal static TokenPrediction[] Predict(TokenExitNetwork model, IReadOnlyList<TokenizedInput> inputs, TokenExitCriterion criterion, int padTokenId, int batchSize, bool packed = true)
        => LengthBatches.Predict(model, inputs, batchSize, batch => ScoreBatch(model, batch, criterion, padTokenId, haltAndCopy: true, recorded: null, packed));

    /// <summary>
    /// Scores <paramref name="inputs"/> (from <see cref="TextTokenizer.EncodeWords"/>, so with word ids)
    /// as one batch. The model should be in eval mode; no gradients are recorded.
    /// </summary>
    /// <param name="model">The classifier.</param>
    /// <param name="inputs">Word-encoded rows (at least one), each within the encoder's length limit.</param>
    /// <param name="criterion">When tokens stop.</param>
    /// <param name="padTokenId">The tokenizer's padding id.</param>
    /// <param name="haltAndCopy">True (default): compute only the active tokens. False: the reference computation (every token, then restore the halted ones).</param>
    /// <returns>One prediction per input, in input order.</returns>
    /// <exception cref="ArgumentException">An input has no word ids, or a fixed layer is past the last layer.</exception>
    public static TokenPrediction[] ScoreBatch(TokenExitNetwork model, IReadOnlyList<TokenizedInput> inputs, TokenExitCriterion criterion, int padTokenId, bool haltAndCopy = true) =>
        ScoreBatch(model, inputs, criterion, padTokenId, haltAndCopy, recorded: null);

    /// <summary>
    /// As the public overload; with <paramref name="recorded"/>, each row's state also keeps every
    /// layer's token classes and uncertainties (<see cref="TokenExitState.Recorded"/>).
    /// </summary>
    internal static TokenPrediction[] ScoreBatch(TokenExitNetwork model, IReadOnlyList<TokenizedInput> inputs, TokenExitCriterion criterion, int padTokenId, bool haltAndCopy,
        TokenExitState[]? recorded, bool packed = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(criterion);
        if (criterion.Mode == TokenExitMode.FixedLayer && criterion.Layer > model.NumLayers)
        {
            throw new ArgumentException($"Token exit criterion '{criterion}' asks for layer {criterion.Layer}, but the model has {model.NumLayers} layers.", nameof(criterion));
        }

        if (inputs.Count == 0)
        {
            return [];
        }

        var rows = inputs.Select((input, i) => new TokenExitState(input, i, model.NumLabels, model.NumLayers, record: recorded is not null, auxiliaryTasks: model.AuxiliaryTasks.Count)).ToArray();
        if (recorded is not null)
        {
            rows.CopyTo(recorded, 0);
        }

        Device device = model.parameters().First().device;
        EncoderNetwork encoder = model.Encoder;
        using var noGrad = no_grad();
        using var batchScope = NewDisposeScope();
        using TokenBatch batch = TokenBatch.Collate(inputs, padTokenId, device);
        Tensor hidden = encoder.Embed(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask);
        Tensor attention = batch.AttentionMask;
        AttentionMask mask = encoder.PrepareMask(attention);
        TokenExitState[] active = rows;
        List<Tensor>? history = model.ReadsLayerHistory ? [hidden] : null; // the states after the embeddings and each layer so far
        try
        {
            for (int layer = 0; layer < model.NumLayers && active.Length > 0; layer++)
            {
                if (layer + 1 == model.WordPoolingLayer)
                {
                    PoolWords(encoder, active, ref hidden, ref attention, ref mask, history, batch.AttentionMask);
                }

                Tensor nextHidden;
                Tensor? nextAttention = null;
                TokenExitState[] remaining;
                using (var layerScope = NewDisposeScope())
                {
                    // The active positions of each row (padded by repeating its last), and the real ones packed.
                    TokenQueries layout = TokenQueries.Of(active, (int)hidden.shape[1], packed);
                    Tensor queryIndex = tensor(layout.Index, [active.Length, layout.Queries], ScalarType.Int64, device); // [R, Q]
                    Tensor packIndex = tensor(layout.Pack, ScalarType.Int64, device); // [N]
                    Tensor tokenIndex = tensor(layout.Tokens, ScalarType.Int64, device); // [N], flat positions in [R * T]
                    (nextHidden, Tensor activeStates) = haltAndCopy
                        ? HaltAndCopy.Layer(encoder, layer, hidden, mask, queryIndex, packIndex, tokenIndex)
                        : HaltAndCopy.Reference(encoder, layer, hidden, mask, queryIndex, packIndex);

                    int tags = model.NumLabels;
                    Tensor logits = history is null ? model.TokenLogits(layer, activeStates)
                        : model.OffRampLogits(layer, [.. history.Select(h => h.reshape(-1, h.shape[2]).index_select(0, tokenIndex)), activeStates]); // each [N, H]
                    history?.Add(nextHidden);
                    float[] probabilities = logits.softmax(-1).cpu().data<float>().ToArray(); // [N, C]
                    for (int b = 0; b < active.Length; b++)
                    {
                        active[b].Observe(layer, model.NumLayers, probabilities.AsSpan(layout.Row(b, tags)), criterion);
                    }

                    // Auxiliary heads read the tasks of this layer from every row still running, and the tasks of
                    // later layers from the rows that leave now: their states stay as they are from here on.
                    if (model.AuxiliaryTasks.Count > 0)
                    {
                        int reached = layer + 1;
                        ReadAuxiliary(model, active, nextHidden, Enumerable.Range(0, active.Length), task => task.Layer == reached);
                        ReadAuxiliary(model, active, nextHidden, Enumerable.Range(0, active.Length).Where(b => active[b].ActiveCount == 0), task => task.Layer > reached);
                    }
                    remaining = active.Where(r => r.ActiveCount > 0).ToArray();
                    if (remaining.Length == 0)
                    {
                        break;
                    }

                    if (remaining.Length < active.Length)
                    {
                        // Finished rows leave the batch; the rest keep only their longest length.
                        long[] keep = active.Select((r, b) => (r, b)).Where(p => p.r.ActiveCount > 0).Select(p => (long)p.b).ToArray();
                        long longest = remaining.Max(r => r.Positions);
                        (Tensor keepIndex, nextAttention) = BatchShrinking.Keep(attention, keep, longest);
                        nextHidden = BatchShrinking.Rows(nextHidden, keepIndex, longest);
                        if (history is not null)
                        {
                            history.RemoveAt(history.Count - 1); // this layer's uncut states, freed with the layer's scope
                            BatchShrinking.CutEach(history, states => BatchShrinking.Rows(states, keepIndex, longest));
                            history.Add(nextHidden);
                        }
                    }

                    nextHidden.MoveToOuterDisposeScope();
                }

                if (nextAttention is not null)
                {
                    BatchShrinking.Swap(encoder, ref attention, ref mask, nextAttention, batch.AttentionMask);
                }

                if (history is null)
                {
                    hidden.Dispose(); // else kept in the history
                }

                hidden = nextHidden;
                active = remaining;
            }
        }
        finally
        {
            mask.Dispose();
        }

        return rows.Select(r => r.ToPrediction()).ToArray();
    }

    // Averages each active row's word pieces into one position (see the file header): the states [R, T, H]
    // (or, when off-ramps read the layer history, every state of it) become [R, U, H], the attention [R, U].
    private static void PoolWords(EncoderNetwork encoder, TokenExitState[] active, ref Tensor hidden, ref Tensor attention, ref AttentionMask mask, List<Tensor>? history, Tensor batchAttention)
    {
        Tensor unitAttention;
        using (NewDisposeScope())
        {
            WordPooling words = WordPooling.Plan(active.Select(r => r.PoolWords()).ToArray(), hidden.shape[1], hidden.dtype, hidden.device);
            unitAttention = words.Mask.MoveToOuterDisposeScope();
            if (history is null)
            {
                Tensor pooled = words.Pool(hidden).MoveToOuterDisposeScope();
                hidden.Dispose();
                hidden = pooled;
            }
            else
            {
                BatchShrinking.CutEach(history, words.Pool); // hidden is the history's last state
                hidden = history[^1];
            }
        }

        BatchShrinking.Swap(encoder, ref attention, ref mask, unitAttention, batchAttention);
    }

    // The auxiliary tasks chosen by `which`, read from the states [R, T, H] of the rows at `positions` of `active`.
    private static void ReadAuxiliary(TokenExitNetwork model, TokenExitState[] active, Tensor states, IEnumerable<int> positions, Func<AuxiliaryTagTask, bool> which)
    {
        long[] rows = positions.Select(p => (long)p).ToArray();
        int[] tasks = Enumerable.Range(0, model.AuxiliaryTasks.Count).Where(t => which(model.AuxiliaryTasks[t])).ToArray();
        if (rows.Length == 0 || tasks.Length == 0)
        {
            return;
        }

        using var scope = NewDisposeScope();
        Tensor selected = rows.Length == active.Length ? states : states.index_select(0, tensor(rows, ScalarType.Int64, states.device)); // [R, T, H] -> [r, T, H]
        int length = (int)states.shape[1];
        foreach (int task in tasks)
        {
            long[] classes = model.AuxiliaryLogits(task, selected).argmax(-1).cpu().data<long>().ToArray(); // [r, T]
            for (int i = 0; i < rows.Length; i++)
            {
                TokenExitState row = active[rows[i]];
                row.SetAuxiliary(task, classes.AsSpan(i * length, row.Positions));
            }
        }
    }
}
