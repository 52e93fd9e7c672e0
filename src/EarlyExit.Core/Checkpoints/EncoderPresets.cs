// Named encoder architectures. The real ones repeat the hub configs (albert-base-v2,
// google/electra-small-discriminator, bert-base-uncased, roberta-base) so an encoder can be built
// before its weights are downloaded; small-albert (12 shared layers, hidden 128) is for training from scratch on
// a CPU (the examples and bench/); the tiny ones are for tests and quick experiments: 2 layers,
// hidden 32, 2 heads, intermediate 64, with the vocabulary size of the family's real tokenizer so they
// train with real tokenizers.
//
// A preset is an architecture, not weights: it pairs the config with the hub model whose tokenizer
// files it uses (looked up through the mirror, the cache or the hub like any other model). The tiny
// BERT and ELECTRA presets take google/electra-small-discriminator's vocabulary, which is byte for
// byte bert-base-uncased's, so they work offline with the shared mirror.
using EarlyExit.Modeling;

namespace EarlyExit.Checkpoints;

/// <summary>Encoder configs by name: real architectures and tiny ones for tests.</summary>
public static class EncoderPresets
{
    private static readonly IReadOnlyDictionary<string, EncoderConfig> s_presets = new Dictionary<string, EncoderConfig>(StringComparer.Ordinal)
    {
        // config.json of albert-base-v2 (all 12 layers share one parameter set).
        ["albert-base-v2"] = EncoderConfig.ForFamily(EncoderFamily.Albert) with
        {
            EmbeddingSize = 128,
            HiddenSize = 768,
            NumHiddenLayers = 12,
            NumAttentionHeads = 12,
            IntermediateSize = 3072,
            HiddenAct = "gelu_new",
            HiddenDropoutProb = 0.0,
            AttentionProbsDropoutProb = 0.0,
        },
        // config.json of google/electra-small-discriminator.
        ["electra-small"] = EncoderConfig.ForFamily(EncoderFamily.Electra) with
        {
            EmbeddingSize = 128,
            HiddenSize = 256,
            NumHiddenLayers = 12,
            NumAttentionHeads = 4,
            IntermediateSize = 1024,
        },
        // config.json of bert-base-uncased.
        ["bert-base-uncased"] = EncoderConfig.ForFamily(EncoderFamily.Bert),
        // config.json of roberta-base (514 positions: ids start at pad_token_id + 1 = 2).
        ["roberta-base"] = EncoderConfig.ForFamily(EncoderFamily.Roberta) with
        {
            MaxPositionEmbeddings = 514,
            TypeVocabSize = 1,
            LayerNormEps = 1e-5,
        },
        // A small ALBERT for training from scratch on a CPU: like albert-base-v2, 12 steps of one shared
        // layer, but hidden 128.
        ["small-albert"] = EncoderConfig.ForFamily(EncoderFamily.Albert) with
        {
            EmbeddingSize = 64,
            HiddenSize = 128,
            NumHiddenLayers = 12,
            NumAttentionHeads = 4,
            IntermediateSize = 512,
            HiddenDropoutProb = 0.1,
            AttentionProbsDropoutProb = 0.1,
        },
        ["tiny-albert"] = Tiny(EncoderFamily.Albert) with { EmbeddingSize = 16 },
        ["tiny-bert"] = Tiny(EncoderFamily.Bert),
        ["tiny-electra"] = Tiny(EncoderFamily.Electra) with { EmbeddingSize = 16 },
        ["tiny-roberta"] = Tiny(EncoderFamily.Roberta) with { MaxPositionEmbeddings = 514, TypeVocabSize = 1, LayerNormEps = 1e-5 },
    };

    private static readonly IReadOnlyDictionary<string, string> s_tokenizerSources = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["albert-base-v2"] = "albert-base-v2",
        ["electra-small"] = "google/electra-small-discriminator",
        ["bert-base-uncased"] = "bert-base-uncased",
        ["roberta-base"] = "roberta-base",
        ["small-albert"] = "albert-base-v2",
        ["tiny-albert"] = "albert-base-v2",
        ["tiny-bert"] = "google/electra-small-discriminator",
        ["tiny-electra"] = "google/electra-small-discriminator",
        ["tiny-roberta"] = "roberta-base",
    };

    /// <summary>Every preset name, sorted.</summary>
    public static IReadOnlyList<string> Names { get; } = s_presets.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>The config called <paramref name="name"/> (case-sensitive).</summary>
    /// <exception cref="ArgumentException">No preset has that name; the message lists the names.</exception>
    public static EncoderConfig Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return s_presets.TryGetValue(name, out EncoderConfig? config)
            ? config
            : throw new ArgumentException($"Unknown encoder preset '{name}'; known presets: {string.Join(", ", Names)}.", nameof(name));
    }

    /// <summary>The hub id whose tokenizer files preset <paramref name="name"/> uses.</summary>
    /// <exception cref="ArgumentException">No preset has that name; the message lists the names.</exception>
    public static string TokenizerSource(string name)
    {
        Get(name);
        return s_tokenizerSources[name];
    }

    /// <summary>A freshly initialised encoder of preset <paramref name="name"/> (see <see cref="EncoderNetwork.Create"/>).</summary>
    public static EncoderNetwork Create(string name, long seed = EncoderNetwork.DefaultSeed) => EncoderNetwork.Create(Get(name), seed: seed);

    // The family's vocabulary, positions and special ids; 2 layers, hidden 32, 2 heads, intermediate 64.
    private static EncoderConfig Tiny(EncoderFamily family) => EncoderConfig.ForFamily(family) with
    {
        HiddenSize = 32,
        NumHiddenLayers = 2,
        NumAttentionHeads = 2,
        IntermediateSize = 64,
    };
}
