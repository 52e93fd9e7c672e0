// Word pooling (issue 14, idea 3): from layer k on, a token classifier runs on words instead of word pieces.
//
// Before layer k (1-based) the states of each word's pieces are averaged into one position, a "unit"; a
// special token ([CLS], [SEP]) is a unit of its own. Units keep the order of their tokens, so position
// information already added by the embeddings stays in the states. Layers k..L then compute attention and
// feed-forward over U units instead of T tokens (U < T whenever a word has several pieces), with a new
// attention mask over the units.
//
// The layout lives in one place, here, for the tensor forward (TokenExitNetwork.Run: training) and for
// batched scoring (Inference/TokenExitScoring, which keeps its per-row state on tokens, TokenExitState.PoolWords):
//   Units(wordIds)      each token's unit, on the CPU: a new unit at every special token and every word start
//   Plan(units, T)      [B, U, T] averaging matrix, the units' mask [B, U], each token's unit [B, T] and each
//                       unit's first token [B, U], as tensors of the current dispose scope
//   Pool(states)        [B, T, H] -> [B, U, H]
//   Spread(perUnit)     [B, U, C] -> [B, T, C]: every token reads its unit's value, so the outputs and the
//                       labels stay laid out on tokens, and a word's tag sits on its first piece as before
using static TorchSharp.torch;

namespace EarlyExit.Modeling;

/// <summary>How a batch's word pieces are averaged into word positions (see the file header).</summary>
internal sealed class WordPooling
{
    private WordPooling(Tensor matrix, Tensor mask, Tensor units, Tensor firstTokens)
    {
        Matrix = matrix;
        Mask = mask;
        TokenUnits = units;
        FirstTokens = firstTokens;
    }

    /// <summary>[B, U, T]: 1 / (pieces of unit u) where token t belongs to unit u, else 0.</summary>
    public Tensor Matrix { get; }

    /// <summary>[B, U] int64: 1 for a real unit, 0 for padding.</summary>
    public Tensor Mask { get; }

    /// <summary>[B, T] int64: each token's unit (0 for padding tokens).</summary>
    public Tensor TokenUnits { get; }

    /// <summary>[B, U] int64: each unit's first token (0 for padding units).</summary>
    public Tensor FirstTokens { get; }

    /// <summary>Each token's unit: a new one at every special token (word id below 0) and at every word's first piece.</summary>
    /// <param name="wordIds">The word id of each real token, in order.</param>
    /// <param name="count">The number of units.</param>
    public static int[] Units(ReadOnlySpan<int> wordIds, out int count)
    {
        var units = new int[wordIds.Length];
        count = 0;
        for (int t = 0; t < wordIds.Length; t++)
        {
            bool continues = t > 0 && wordIds[t] >= 0 && wordIds[t] == wordIds[t - 1];
            count += continues ? 0 : 1;
            units[t] = count - 1;
        }

        return units;
    }

    /// <summary>The pooling of a batch whose rows have the token units <paramref name="rowUnits"/> (from <see cref="Units"/>), padded to <paramref name="tokens"/> positions.</summary>
    public static WordPooling Plan(IReadOnlyList<int[]> rowUnits, long tokens, ScalarType dtype, Device device)
    {
        int rows = rowUnits.Count;
        int width = Math.Max(1, rowUnits.Max(u => u.Length == 0 ? 0 : u[^1] + 1));
        var matrix = new float[rows * width * tokens];
        var mask = new long[rows * width];
        var units = new long[rows * tokens];
        var first = new long[rows * width];
        for (int b = 0; b < rows; b++)
        {
            int[] row = rowUnits[b];
            if (row.Length > tokens)
            {
                throw new ArgumentException($"Row {b} has {row.Length} tokens, more than the batch's {tokens}.", nameof(rowUnits));
            }

            var pieces = new int[width];
            foreach (int u in row)
            {
                pieces[u]++;
            }

            for (int t = row.Length - 1; t >= 0; t--)
            {
                int u = row[t];
                matrix[(((long)b * width) + u) * tokens + t] = 1f / pieces[u];
                mask[(b * width) + u] = 1;
                units[(b * tokens) + t] = u;
                first[(b * width) + u] = t; // walking backwards leaves the first token
            }
        }

        return new WordPooling(
            tensor(matrix, [rows, width, tokens], ScalarType.Float32, device).to_type(dtype),
            tensor(mask, [rows, width], ScalarType.Int64, device),
            tensor(units, [rows, tokens], ScalarType.Int64, device),
            tensor(first, [rows, width], ScalarType.Int64, device));
    }

    /// <summary>The pooling of a tensor batch: word ids [B, T] (below 0 for special tokens) and its attention mask [B, T] (right-padded).</summary>
    public static WordPooling Plan(Tensor wordIds, Tensor attentionMask, ScalarType dtype)
    {
        long tokens = wordIds.shape[1];
        long[] ids = wordIds.to_type(ScalarType.Int64).cpu().data<long>().ToArray();
        long[] lengths = attentionMask.sum(dim: 1).to_type(ScalarType.Int64).cpu().data<long>().ToArray();
        var units = new int[lengths.Length][];
        for (int b = 0; b < units.Length; b++)
        {
            var row = new int[lengths[b]];
            for (int t = 0; t < row.Length; t++)
            {
                row[t] = (int)Math.Max(-1, ids[(b * tokens) + t]);
            }

            units[b] = Units(row, out _);
        }

        return Plan(units, tokens, dtype, wordIds.device);
    }

    /// <summary>[B, T, H] -> [B, U, H]: each unit's mean state.</summary>
    public Tensor Pool(Tensor states) => Matrix.bmm(states);

    /// <summary>[B, U, C] -> [B, T, C]: each token gets its unit's value.</summary>
    public Tensor Spread(Tensor perUnit)
    {
        Tensor index = TokenUnits.unsqueeze(-1).expand(TokenUnits.shape[0], TokenUnits.shape[1], perUnit.shape[2]); // [B, T] -> [B, T, C]
        return perUnit.gather(1, index);
    }
}
