using EarlyExit.Tests.TestSupport;
using EarlyExit.Tokenization;

namespace EarlyExit.Tests.Tokenization;

/// <summary>FromFolder on incomplete or foreign folders: every error names what is wrong and where.</summary>
public sealed class TextTokenizerLoadingTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("tokenizer-tests-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("albert", "spiece.model")]
    [InlineData("bert", "vocab.txt")]
    [InlineData("electra", "vocab.txt")]
    [InlineData("roberta", "vocab.json")]
    public void FromFolder_TokenizerFileMissing_ThrowsNamingFileFolderAndFamily(string modelType, string file)
    {
        WriteConfig(modelType);

        var error = Assert.Throws<FileNotFoundException>(() => TextTokenizer.FromFolder(_folder));

        Assert.Contains($"'{file}'", error.Message);
        Assert.Contains(_folder, error.Message);
        Assert.Contains($"The {modelType} tokenizer", error.Message);
        Assert.Equal(Path.Combine(_folder, file), error.FileName);
    }

    [Fact]
    public void FromFolder_RobertaWithoutMerges_ThrowsNamingMergesFile()
    {
        WriteConfig("roberta");
        File.Copy(Path.Combine(SharedAssets.Model("roberta-base"), "vocab.json"), Path.Combine(_folder, "vocab.json"));

        var error = Assert.Throws<FileNotFoundException>(() => TextTokenizer.FromFolder(_folder));

        Assert.Contains("'merges.txt'", error.Message);
    }

    [Fact]
    public void FromFolder_UnsupportedModelType_ThrowsNamingItAndListingSupportedTypes()
    {
        WriteConfig("gpt2");

        var error = Assert.Throws<NotSupportedException>(() => TextTokenizer.FromFolder(_folder));

        Assert.Contains("'gpt2'", error.Message);
        Assert.Contains("albert, bert, electra, roberta", error.Message);
    }

    [Fact]
    public void FromFolder_ExplicitUnsupportedModelType_Throws()
    {
        var error = Assert.Throws<NotSupportedException>(() => TextTokenizer.FromFolder(SharedAssets.Model("random-bert-tiny"), "xlnet"));

        Assert.Contains("'xlnet'", error.Message);
        Assert.Contains("albert, bert, electra, roberta", error.Message);
    }

    [Fact]
    public void FromFolder_NoConfigAndNoTokenizerFiles_ThrowsListingWhatWasLookedFor()
    {
        var error = Assert.Throws<FileNotFoundException>(() => TextTokenizer.FromFolder(_folder));

        Assert.Contains("spiece.model (albert)", error.Message);
        Assert.Contains("vocab.txt (bert, electra)", error.Message);
        Assert.Contains("vocab.json + merges.txt (roberta)", error.Message);
    }

    [Fact]
    public void FromFolder_MissingFolder_ThrowsDirectoryNotFound()
    {
        Assert.Throws<DirectoryNotFoundException>(() => TextTokenizer.FromFolder(Path.Combine(_folder, "absent")));
    }

    [Theory]
    [InlineData("albert-base-v2", "spiece.model", "albert")]
    [InlineData("random-bert-tiny", "vocab.txt", "bert")]
    public void FromFolder_NoConfig_InfersTheFamilyFromTheFiles(string model, string file, string expected)
    {
        File.Copy(Path.Combine(SharedAssets.Model(model), file), Path.Combine(_folder, file));

        Assert.Equal(expected, TextTokenizer.FromFolder(_folder).ModelType);
    }

    [Fact]
    public void FromFolder_NoConfigWithBpeFiles_InfersRoberta()
    {
        foreach (string file in new[] { "vocab.json", "merges.txt" })
        {
            File.Copy(Path.Combine(SharedAssets.Model("roberta-base"), file), Path.Combine(_folder, file));
        }

        TextTokenizer tokenizer = TextTokenizer.FromFolder(_folder);

        Assert.Equal("roberta", tokenizer.ModelType);
        Assert.Equal([0, 31414, 232, 328, 2], tokenizer.Encode("Hello world!").InputIds);
    }

    [Fact]
    public void FromFolder_TokenizerConfigOptions_AreApplied()
    {
        File.Copy(Path.Combine(SharedAssets.Model("random-bert-tiny"), "vocab.txt"), Path.Combine(_folder, "vocab.txt"));
        WriteConfig("bert");
        File.WriteAllText(Path.Combine(_folder, "tokenizer_config.json"), """{"do_lower_case": false, "model_max_length": 64}""");

        TextTokenizer tokenizer = TextTokenizer.FromFolder(_folder);

        Assert.Equal(64, tokenizer.ModelMaxLength);
        Assert.Equal(["[UNK]", "world"], tokenizer.Tokenize("Hello world")); // the uncased vocabulary has no "Hello"
    }

    [Fact]
    public void FromFolder_RobertaAddPrefixSpace_PrefixesTheFirstWord()
    {
        foreach (string file in new[] { "vocab.json", "merges.txt", "config.json" })
        {
            File.Copy(Path.Combine(SharedAssets.Model("roberta-base"), file), Path.Combine(_folder, file));
        }

        File.WriteAllText(Path.Combine(_folder, "tokenizer_config.json"), """{"add_prefix_space": true}""");

        Assert.Equal(["ĠHello", "Ġworld"], TextTokenizer.FromFolder(_folder).Tokenize("Hello world"));
    }

    private void WriteConfig(string modelType) =>
        File.WriteAllText(Path.Combine(_folder, "config.json"), $$"""{"model_type": "{{modelType}}"}""");
}
