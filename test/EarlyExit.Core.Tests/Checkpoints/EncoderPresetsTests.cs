using EarlyExit.Checkpoints;
using EarlyExit.Modeling;
using EarlyExit.Tests.Modeling;
using EarlyExit.Tests.TestSupport;

namespace EarlyExit.Tests.Checkpoints;

[Collection("Torch")]
public class EncoderPresetsTests
{
    public static TheoryData<string> TinyFamilies() => EncoderTestKit.TinyFamilies();

    [Fact]
    public void Names_ListsRealAndTinyPresets()
    {
        Assert.Equal(
            ["albert-base-v2", "bert-base-uncased", "electra-small", "roberta-base", "small-albert", "tiny-albert", "tiny-bert", "tiny-electra", "tiny-roberta"],
            EncoderPresets.Names);
    }

    [Fact]
    public void Get_UnknownName_ListsTheNames()
    {
        var error = Assert.Throws<ArgumentException>(() => EncoderPresets.Get("bert-large"));

        Assert.Contains("'bert-large'", error.Message);
        Assert.Contains("albert-base-v2, bert-base-uncased, electra-small, roberta-base, small-albert, tiny-albert, tiny-bert, tiny-electra, tiny-roberta", error.Message);
    }

    [Theory]
    [InlineData("albert-base-v2", "albert-base-v2")]
    [InlineData("electra-small", "google-electra-small-discriminator")]
    [InlineData("roberta-base", "roberta-base")]
    public void Get_RealPreset_EqualsTheHubConfig(string preset, string folder)
    {
        EncoderConfig hub = EncoderConfig.FromFile(Path.Combine(SharedAssets.Model(folder), "config.json"));

        // The shared albert-base-v2 file is a transformers 2.x save with bos_token_id 0; the current
        // hub file (and AlbertConfig) say 2 and 3. Special ids come from the tokenizer either way.
        Assert.Equal(hub with { BosTokenId = null, EosTokenId = null }, EncoderPresets.Get(preset) with { BosTokenId = null, EosTokenId = null });
    }

    [Fact]
    public void Get_BertBaseUncased_HasTheHubArchitecture()
    {
        EncoderConfig config = EncoderPresets.Get("bert-base-uncased");

        Assert.Equal((30522, 768, 12, 12, 3072, 512, 2), (config.VocabSize, config.HiddenSize, config.NumHiddenLayers, config.NumAttentionHeads, config.IntermediateSize, config.MaxPositionEmbeddings, config.TypeVocabSize));
    }

    [Theory]
    [InlineData("tiny-albert", 30000)]
    [InlineData("tiny-bert", 30522)]
    [InlineData("tiny-electra", 30522)]
    [InlineData("tiny-roberta", 50265)]
    public void Create_TinyPreset_BuildsAndRunsWithTheFamilyVocabulary(string name, int vocabulary)
    {
        using EncoderNetwork encoder = EncoderPresets.Create(name, seed: 3);
        using EncoderInputs inputs = EncoderTestKit.Inputs(encoder.Config);

        using EncoderOutput output = encoder.Forward(inputs.InputIds, inputs.TokenTypeIds, inputs.AttentionMask);

        Assert.Equal(vocabulary, encoder.Config.VocabSize);
        Assert.Equal((2, 32, 2, 64), (encoder.NumLayers, encoder.HiddenSize, encoder.Config.NumAttentionHeads, encoder.Config.IntermediateSize));
        Assert.Equal(new long[] { 3, 9, 32 }, output.LastHiddenState.shape);
        Assert.Equal(3, output.HiddenStates.Count);
    }
}
