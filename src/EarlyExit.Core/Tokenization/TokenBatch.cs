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

        long[] shape = [inputs.Count, length];
        return new TokenBatch(
            Make(ids, shape, device),
            Make(types, shape, device),
            Make(mask, shape, device),
            inputs.Count,
            length);
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
