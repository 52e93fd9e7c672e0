using EarlyExit.Checkpoints;
using EarlyExit.Modeling;
using static TorchSharp.torch;

namespace EarlyExit.Tests.Modeling;

/// <summary>A right-padded batch of token ids for an encoder.</summary>
internal sealed class EncoderInputs : IDisposable
{
    public EncoderInputs(Tensor inputIds, Tensor tokenTypeIds, Tensor attentionMask)
    {
        InputIds = inputIds;
        TokenTypeIds = tokenTypeIds;
        AttentionMask = attentionMask;
    }

    public Tensor InputIds { get; }

    public Tensor TokenTypeIds { get; }

    public Tensor AttentionMask { get; }

    public void Dispose()
    {
        InputIds.Dispose();
        TokenTypeIds.Dispose();
        AttentionMask.Dispose();
    }
}

/// <summary>Tiny encoders and inputs for the behaviour tests.</summary>
internal static class EncoderTestKit
{
    /// <summary>An ALBERT config with real sharing: 4 steps over 2 groups of 2 inner layers each.</summary>
    public const string SharedAlbert = "tiny-albert-2x2";

    /// <summary>Every tiny preset, plus <see cref="SharedAlbert"/>.</summary>
    public static TheoryData<string> TinyEncoders() => new("tiny-albert", "tiny-bert", "tiny-electra", "tiny-roberta", SharedAlbert);

    /// <summary>One tiny preset per family (for per-family tests).</summary>
    public static TheoryData<string> TinyFamilies() => new("tiny-albert", "tiny-bert", "tiny-electra", "tiny-roberta");

    public static EncoderConfig Config(string name) => name == SharedAlbert
        ? EncoderPresets.Get("tiny-albert") with { NumHiddenLayers = 4, NumHiddenGroups = 2, InnerGroupNum = 2 }
        : EncoderPresets.Get(name);

    /// <summary>A freshly initialised encoder in eval mode (no dropout).</summary>
    public static EncoderNetwork Create(string name, long seed = 7)
    {
        EncoderNetwork encoder = EncoderNetwork.Create(Config(name), seed: seed);
        encoder.eval();
        return encoder;
    }

    /// <summary>
    /// Three rows of 9, 6 and 3 real tokens, right-padded with the pad id; the second half of each row
    /// is segment 1 where the family has two segments.
    /// </summary>
    public static EncoderInputs Inputs(EncoderConfig config, long seed = 11)
    {
        int[] lengths = [9, 6, 3];
        int length = lengths.Max();
        var random = new Random((int)seed);
        var ids = new long[lengths.Length * length];
        var types = new long[ids.Length];
        var mask = new long[ids.Length];
        for (int row = 0; row < lengths.Length; row++)
        {
            for (int t = 0; t < length; t++)
            {
                int at = (row * length) + t;
                bool real = t < lengths[row];
                long id;
                do
                {
                    id = random.Next(config.VocabSize);
                }
                while (id == config.PadTokenId);

                ids[at] = real ? id : config.PadTokenId;
                types[at] = real && config.TypeVocabSize > 1 && t >= lengths[row] / 2 ? 1 : 0;
                mask[at] = real ? 1 : 0;
            }
        }

        long[] shape = [lengths.Length, length];
        return new EncoderInputs(tensor(ids, shape), tensor(types, shape), tensor(mask, shape));
    }
}
