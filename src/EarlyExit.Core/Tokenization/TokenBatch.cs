using TorchSharp;
using static TorchSharp.torch;

namespace EarlyExit.Tokenization;

/// <summary>
/// Encoded examples stacked into right-padded <c>[B, T]</c> int64 tensors, the input of the encoders.
/// Padding positions hold the pad id, token type 0 and attention mask 0. The batch owns its tensors.
/// </summary>
public sealed class TokenBatch : IDisposable
{
    private TokenBatch(Tensor inputIds, Tensor tokenTypeIds, Tensor attentionMask, int count, int length)
    {
        InputIds = inputIds;
        TokenTypeIds = tokenTypeIds;
        AttentionMask = attentionMask;
        Count = count;
        Length = length;
    }

    /// <summary>Token ids, <c>[B, T]</c> int64.</summary>
    public Tensor InputIds { get; }

    /// <summary>Segment ids, <c>[B, T]</c> int64.</summary>
    public Tensor TokenTypeIds { get; }

    /// <summary>1 for real tokens, 0 for padding, <c>[B, T]</c> int64.</summary>
    public Tensor AttentionMask { get; }

    /// <summary>The number of examples, B.</summary>
    public int Count { get; }

    /// <summary>The padded length, T: the longest example.</summary>
    public int Length { get; }

    /// <summary>Stacks <paramref name="inputs"/> into right-padded tensors.</summary>
    /// <param name="inputs">The encoded examples (at least one).</param>
    /// <param name="padTokenId">The id written into padding positions (<see cref="SpecialTokenIds.Pad"/>).</param>
    /// <param name="device">Where the tensors live; null: the CPU.</param>
    /// <returns>The batch; dispose it to free the tensors.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="inputs"/> or one of its items is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="inputs"/> is empty, or an item's arrays differ in length.</exception>
    public static TokenBatch Collate(IReadOnlyList<TokenizedInput> inputs, int padTokenId, Device? device = null)
    {
        PaddedTokens padded = PaddedTokens.Of(inputs, padTokenId);
        long[] shape = [padded.Count, padded.Length];
        return new TokenBatch(
            Make(padded.InputIds, shape, device),
            Make(padded.TokenTypeIds, shape, device),
            Make(padded.AttentionMask, shape, device),
            padded.Count,
            padded.Length);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        InputIds.Dispose();
        TokenTypeIds.Dispose();
        AttentionMask.Dispose();
    }

    private static Tensor Make(long[] values, long[] shape, Device? device)
    {
        Tensor cpu = torch.tensor(values, shape, dtype: ScalarType.Int64);
        if (device is null || device.type == DeviceType.CPU)
        {
            return cpu;
        }

        using (cpu)
        {
            return cpu.to(device);
        }
    }
}

/// <summary>
/// A batch of inputs padded to its longest row, as row-major host arrays [Count, Length]: what
/// <see cref="TokenBatch"/> puts in tensors, and what a scorer without TorchSharp feeds its runtime.
/// </summary>
internal sealed record PaddedTokens(long[] InputIds, long[] TokenTypeIds, long[] AttentionMask, int Count, int Length)
{
    /// <summary>Pads <paramref name="inputs"/> (at least one) with <paramref name="padTokenId"/>, token type 0 and mask 0.</summary>
    /// <exception cref="ArgumentException">The list is empty, or an input's arrays differ in length.</exception>
    public static PaddedTokens Of(IReadOnlyList<TokenizedInput> inputs, int padTokenId)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0)
        {
            throw new ArgumentException("Cannot collate an empty list of inputs.", nameof(inputs));
        }

        int length = 0;
        for (int b = 0; b < inputs.Count; b++)
        {
            TokenizedInput input = inputs[b] ?? throw new ArgumentNullException(nameof(inputs), $"Input {b} is null.");
            if (input.TokenTypeIds.Length != input.InputIds.Length || input.AttentionMask.Length != input.InputIds.Length)
            {
                throw new ArgumentException(
                    $"Input {b} has {input.InputIds.Length} ids but {input.TokenTypeIds.Length} token types and {input.AttentionMask.Length} mask values.",
                    nameof(inputs));
            }

            length = Math.Max(length, input.InputIds.Length);
        }

        var ids = new long[inputs.Count * length];
        var types = new long[inputs.Count * length];
        var mask = new long[inputs.Count * length];
        Array.Fill(ids, padTokenId);
        for (int b = 0; b < inputs.Count; b++)
        {
            TokenizedInput input = inputs[b];
            int row = b * length;
            for (int t = 0; t < input.InputIds.Length; t++)
            {
                ids[row + t] = input.InputIds[t];
                types[row + t] = input.TokenTypeIds[t];
                mask[row + t] = input.AttentionMask[t];
            }
        }

        return new PaddedTokens(ids, types, mask, inputs.Count, length);
    }
}
