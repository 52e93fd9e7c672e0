using EarlyExit.Checkpoints;
using EarlyExit.Modeling;
using EarlyExit.Tests.Sequence;
using EarlyExit.Tests.TestSupport;

namespace EarlyExit.Tests.Checkpoints;

public sealed class PoolingDeclarationTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Read_SentenceTransformersMiniLm_DeclaresMean()
    {
        Assert.Equal(HeadPooling.Mean, PoolingDeclaration.Read(SharedAssets.Model("sentence-transformers-all-MiniLM-L6-v2")));
    }

    [Fact]
    public void Read_PlainHuggingFaceFolder_DeclaresNothing()
    {
        Assert.Null(PoolingDeclaration.Read(SharedAssets.Model("random-bert-tiny")));
    }

    [Theory]
    [InlineData("\"pooling_mode_cls_token\": true, \"pooling_mode_mean_tokens\": false", HeadPooling.Cls)]
    [InlineData("\"pooling_mode_cls_token\": false, \"pooling_mode_mean_tokens\": true", HeadPooling.Mean)]
    [InlineData("\"pooling_mode_mean_tokens\": true, \"pooling_mode_max_tokens\": true", null)]
    [InlineData("\"pooling_mode_max_tokens\": true", null)]
    [InlineData("\"pooling_mode_cls_token\": true, \"pooling_mode_mean_tokens\": true", null)]
    public void Read_PoolingModes_MapToHeadsWeHave(string modes, HeadPooling? expected)
    {
        WriteModules("2_Pool");
        Directory.CreateDirectory(Path.Combine(_folder.Path, "2_Pool"));
        _folder.Write("2_Pool/config.json", "{\"word_embedding_dimension\": 8, " + modes + "}");

        Assert.Equal(expected, PoolingDeclaration.Read(_folder.Path));
    }

    [Fact]
    public void Read_ModulesWithoutPooling_DeclaresNothing()
    {
        _folder.Write("modules.json", "[{\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": \"sentence_transformers.models.Transformer\"}]");

        Assert.Null(PoolingDeclaration.Read(_folder.Path));
    }

    [Fact]
    public void Read_BrokenModulesFile_ThrowsNamingTheFile()
    {
        _folder.Write("modules.json", "[{\"type\": ");

        var error = Assert.Throws<InvalidDataException>(() => PoolingDeclaration.Read(_folder.Path));
        Assert.Contains("modules.json", error.Message);
        Assert.Contains("not valid JSON", error.Message);
    }

    [Fact]
    public void Read_PoolingFolderOutsideTheModel_Throws()
    {
        WriteModules("../elsewhere");

        var error = Assert.Throws<InvalidDataException>(() => PoolingDeclaration.Read(_folder.Path));
        Assert.Contains("leaves the model folder", error.Message);
    }

    private void WriteModules(string poolingPath) => _folder.Write("modules.json",
        "[{\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": \"sentence_transformers.models.Transformer\"}," +
        $"{{\"idx\": 1, \"name\": \"1\", \"path\": \"{poolingPath}\", \"type\": \"sentence_transformers.models.Pooling\"}}]");
}
