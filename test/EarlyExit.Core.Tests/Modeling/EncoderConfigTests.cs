using EarlyExit.Modeling;
using EarlyExit.Tests.TestSupport;

namespace EarlyExit.Tests.Modeling;

public class EncoderConfigTests
{
    private const string MinimalBert = """{"model_type": "bert", "hidden_size": 64, "num_attention_heads": 4}""";

    [Fact]
    public void FromFile_LegacyAlbertBaseV2_ReadsArchitectureAndIgnoresLegacyKeys()
    {
        // transformers 2.x file: generation keys, eos_token_ids, integer 0 dropouts, no position_embedding_type.
        EncoderConfig config = EncoderConfig.FromFile(Path.Combine(SharedAssets.Model("albert-base-v2"), "config.json"));

        Assert.Equal(EncoderFamily.Albert, config.Family);
        Assert.Equal(30000, config.VocabSize);
        Assert.Equal(128, config.EmbeddingSize);
        Assert.Equal(128, config.EmbeddingWidth);
        Assert.Equal(768, config.HiddenSize);
        Assert.Equal(12, config.NumHiddenLayers);
        Assert.Equal(12, config.NumAttentionHeads);
        Assert.Equal(3072, config.IntermediateSize);
        Assert.Equal("gelu_new", config.HiddenAct);
        Assert.Equal(0.0, config.HiddenDropoutProb);
        Assert.Equal(0.0, config.AttentionProbsDropoutProb);
        Assert.Equal(1, config.NumHiddenGroups);
        Assert.Equal(1, config.InnerGroupNum);
        Assert.Equal(1e-12, config.LayerNormEps);
        Assert.Equal(0, config.PadTokenId);
        Assert.Equal("absolute", config.PositionEmbeddingType);
        Assert.Equal(0, config.BosTokenId);
    }

    [Theory]
    [InlineData("random-albert-tiny", EncoderFamily.Albert, 32, 64)]
    [InlineData("random-bert-tiny", EncoderFamily.Bert, 64, 64)]
    [InlineData("random-electra-tiny", EncoderFamily.Electra, 32, 64)]
    [InlineData("random-roberta-tiny", EncoderFamily.Roberta, 64, 64)]
    [InlineData("google-electra-small-discriminator", EncoderFamily.Electra, 128, 256)]
    [InlineData("roberta-base", EncoderFamily.Roberta, 768, 768)]
    public void FromFile_SharedConfigs_ReadFamilyAndWidths(string folder, EncoderFamily family, int embeddingWidth, int hiddenSize)
    {
        EncoderConfig config = EncoderConfig.FromFile(Path.Combine(SharedAssets.Model(folder), "config.json"));

        Assert.Equal(family, config.Family);
        Assert.Equal(embeddingWidth, config.EmbeddingWidth);
        Assert.Equal(hiddenSize, config.HiddenSize);
    }

    [Fact]
    public void FromJson_MissingKeys_TakeFamilyDefaults()
    {
        EncoderConfig roberta = EncoderConfig.FromJson("""{"model_type": "roberta"}""");
        EncoderConfig electra = EncoderConfig.FromJson("""{"model_type": "electra"}""");
        EncoderConfig albert = EncoderConfig.FromJson("""{"model_type": "albert"}""");

        Assert.Equal(EncoderConfig.ForFamily(EncoderFamily.Roberta), roberta);
        Assert.Equal(1, roberta.PadTokenId);
        Assert.Equal(50265, roberta.VocabSize);
        Assert.Equal(128, electra.EmbeddingWidth);
        Assert.Equal(256, electra.HiddenSize);
        Assert.Equal("gelu_new", albert.HiddenAct);
        Assert.Equal(0.0, albert.HiddenDropoutProb);
    }

    [Fact]
    public void FromJson_BertWithEmbeddingSizeKey_IgnoresIt()
    {
        // transformers' BertConfig does not know embedding_size; BERT always embeds at hidden_size.
        EncoderConfig config = EncoderConfig.FromJson("""{"model_type": "bert", "hidden_size": 64, "num_attention_heads": 4, "embedding_size": 16}""");

        Assert.Null(config.EmbeddingSize);
        Assert.Equal(64, config.EmbeddingWidth);
    }

    [Fact]
    public void FromJson_UnsupportedModelType_NamesItAndListsSupported()
    {
        var error = Assert.Throws<InvalidDataException>(() => EncoderConfig.FromJson("""{"model_type": "gpt2"}"""));

        Assert.Contains("'gpt2'", error.Message);
        Assert.Contains("albert, bert, electra, roberta", error.Message);
    }

    [Fact]
    public void FromJson_NoModelType_ListsSupported()
    {
        var error = Assert.Throws<InvalidDataException>(() => EncoderConfig.FromJson("""{"hidden_size": 64}"""));

        Assert.Contains("model_type", error.Message);
        Assert.Contains("albert, bert, electra, roberta", error.Message);
    }

    [Fact]
    public void FromJson_UnsupportedActivation_NamesItAndListsSupported()
    {
        var error = Assert.Throws<InvalidDataException>(() => EncoderConfig.FromJson("""{"model_type": "bert", "hidden_act": "swish"}"""));

        Assert.Contains("'swish'", error.Message);
        Assert.Contains("gelu, gelu_new, relu", error.Message);
    }

    [Fact]
    public void FromJson_HiddenNotMultipleOfHeads_NamesBothValues()
    {
        var error = Assert.Throws<InvalidDataException>(() => EncoderConfig.FromJson("""{"model_type": "bert", "hidden_size": 30, "num_attention_heads": 4}"""));

        Assert.Contains("hidden_size (30) is not a multiple of num_attention_heads (4)", error.Message);
    }

    [Fact]
    public void FromJson_RelativePositions_NamesTheType()
    {
        var error = Assert.Throws<InvalidDataException>(() => EncoderConfig.FromJson("""{"model_type": "bert", "position_embedding_type": "relative_key"}"""));

        Assert.Contains("'relative_key'", error.Message);
        Assert.Contains("absolute", error.Message);
    }

    [Fact]
    public void FromJson_AlbertGroupsNotDividingLayers_NamesBothValues()
    {
        var error = Assert.Throws<InvalidDataException>(() => EncoderConfig.FromJson("""{"model_type": "albert", "num_hidden_layers": 6, "num_hidden_groups": 4}"""));

        Assert.Contains("num_hidden_groups (4)", error.Message);
        Assert.Contains("num_hidden_layers (6)", error.Message);
    }

    [Fact]
    public void FromJson_SeveralProblems_ListsEveryOneInOneMessage()
    {
        var error = Assert.Throws<InvalidDataException>(() => EncoderConfig.FromJson(
            """{"model_type": "bert", "hidden_act": "tanh", "hidden_size": 30, "num_attention_heads": 4, "hidden_dropout_prob": 1.5}"""));

        Assert.Contains("'tanh'", error.Message);
        Assert.Contains("hidden_size (30)", error.Message);
        Assert.Contains("hidden_dropout_prob must be in [0, 1), found 1.5", error.Message);
    }

    [Fact]
    public void FromJson_WrongValueKind_NamesKeyAndValue()
    {
        var error = Assert.Throws<InvalidDataException>(() => EncoderConfig.FromJson("""{"model_type": "bert", "hidden_size": "large"}"""));

        Assert.Contains("hidden_size must be an integer, found \"large\"", error.Message);
    }

    [Fact]
    public void FromJson_InvalidJson_SaysSo()
    {
        var error = Assert.Throws<InvalidDataException>(() => EncoderConfig.FromJson("{"));

        Assert.Contains("not valid JSON", error.Message);
    }

    [Fact]
    public void FromFile_InvalidConfig_NamesTheFile()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("config-tests-").FullName, "config.json");
        File.WriteAllText(path, """{"model_type": "t5"}""");

        var error = Assert.Throws<InvalidDataException>(() => EncoderConfig.FromFile(path));

        Assert.Contains(path, error.Message);
        Assert.Contains("'t5'", error.Message);
    }

    [Fact]
    public void EnsureValid_WithExpressionBreaksHeads_ThrowsArgumentException()
    {
        EncoderConfig config = EncoderConfig.FromJson(MinimalBert) with { NumAttentionHeads = 5 };

        var error = Assert.Throws<ArgumentException>(() => config.EnsureValid());

        Assert.Contains("hidden_size (64) is not a multiple of num_attention_heads (5)", error.Message);
    }

    [Theory]
    [InlineData("albert-base-v2")]
    [InlineData("google-electra-small-discriminator")]
    [InlineData("roberta-base")]
    [InlineData("random-albert-tiny")]
    [InlineData("random-bert-tiny")]
    [InlineData("random-electra-tiny")]
    [InlineData("random-roberta-tiny")]
    public void ToJson_ThenFromJson_RoundTripsEveryField(string folder)
    {
        EncoderConfig config = EncoderConfig.FromFile(Path.Combine(SharedAssets.Model(folder), "config.json"));

        EncoderConfig back = EncoderConfig.FromJson(config.ToJson());

        Assert.Equal(config, back);
    }

    [Fact]
    public void ToJson_Albert_WritesHuggingFaceKeysSorted()
    {
        EncoderConfig config = EncoderConfig.ForFamily(EncoderFamily.Albert);

        string json = config.ToJson();

        using var document = System.Text.Json.JsonDocument.Parse(json);
        string[] keys = document.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(keys.Order(StringComparer.Ordinal), keys);
        Assert.Contains("embedding_size", keys);
        Assert.Contains("num_hidden_groups", keys);
        Assert.Contains("inner_group_num", keys);
        Assert.Equal("albert", document.RootElement.GetProperty("model_type").GetString());
        Assert.Equal("AlbertModel", document.RootElement.GetProperty("architectures")[0].GetString());
    }

    [Fact]
    public void ToJson_Bert_OmitsAlbertOnlyKeys()
    {
        string json = EncoderConfig.FromJson(MinimalBert).ToJson();

        Assert.DoesNotContain("embedding_size", json);
        Assert.DoesNotContain("num_hidden_groups", json);
        Assert.DoesNotContain("inner_group_num", json);
    }
}
