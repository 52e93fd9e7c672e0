using EarlyExit.Tokenization;
using TorchSharp;

namespace EarlyExit.Inference;

/// <summary>Scores inputs in batches of similar length and puts the results back in input order.</summary>
internal static class LengthBatches
{
    /// <summary>
    /// Puts <paramref name="model"/> in eval mode and scores <paramref name="inputs"/> in batches of at most
    /// <paramref name="batchSize"/> rows of similar length with <paramref name="scoreBatch"/>; results in input order.
    /// </summary>
    public static TOut[] Predict<TOut>(torch.nn.Module model, IReadOnlyList<TokenizedInput> inputs, int batchSize, Func<TokenizedInput[], TOut[]> scoreBatch)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        model.eval();
        return Map(inputs, i => i.Length, batchSize, scoreBatch);
    }

    /// <summary>
    /// Sorts <paramref name="inputs"/> by length, hands <paramref name="score"/> batches of at most
    /// <paramref name="batchSize"/>, and returns one result per input, in input order.
    /// </summary>
    public static TOut[] Map<TIn, TOut>(IReadOnlyList<TIn> inputs, Func<TIn, int> length, int batchSize, Func<TIn[], TOut[]> score)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var results = new TOut[inputs.Count];
        int[] order = Enumerable.Range(0, inputs.Count).OrderBy(i => length(inputs[i])).ToArray();
        for (int start = 0; start < order.Length; start += batchSize)
        {
            int[] rows = order.Skip(start).Take(batchSize).ToArray();
            TOut[] scored = score(rows.Select(r => inputs[r]).ToArray());
            for (int i = 0; i < rows.Length; i++)
            {
                results[rows[i]] = scored[i];
            }
        }

        return results;
    }
}
