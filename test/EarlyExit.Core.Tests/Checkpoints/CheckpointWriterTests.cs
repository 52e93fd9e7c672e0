using System.Text.Json;
using EarlyExit.Checkpoints;
using EarlyExit.Modeling;
using EarlyExit.Tests.Modeling;
using EarlyExit.Tests.TestSupport;
using static TorchSharp.torch;

namespace EarlyExit.Tests.Checkpoints;

[Collection("Torch")]
public class CheckpointWriterTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("checkpoint-writer-tests-").FullName;

    public static TheoryData<string> TinyEncoders() => EncoderTestKit.TinyEncoders();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [MemberData(nameof(TinyEncoders))]
    public void Save_ThenLoad_GivesIdenticalOutputs(string name)
    {
        using EncoderNetwork saved = EncoderTestKit.Create(name, seed: 21);
        using EncoderInputs inputs = EncoderTestKit.Inputs(saved.Config);

        CheckpointWriter.Save(saved, _folder);
        using EncoderNetwork loaded = CheckpointLoader.Load(_folder);

        Assert.Equal(saved.Config, loaded.Config);
        Assert.Equal(saved.HasPooler, loaded.HasPooler);
        using EncoderOutput expected = saved.Forward(inputs.InputIds, inputs.TokenTypeIds, inputs.AttentionMask);
        using EncoderOutput actual = loaded.Forward(inputs.InputIds, inputs.TokenTypeIds, inputs.AttentionMask);
        Assert.Equal(0, TensorComparison.MaxAbsDiff(expected.Embeddings, actual.Embeddings));
        for (int k = 0; k < expected.HiddenStates.Count; k++)
        {
            Assert.Equal(0, TensorComparison.MaxAbsDiff(expected.HiddenStates[k], actual.HiddenStates[k]));
        }

        if (expected.PoolerOutput is not null)
        {
            Assert.Equal(0, TensorComparison.MaxAbsDiff(expected.PoolerOutput, actual.PoolerOutput!));
        }
    }

    [Fact]
    public void Save_Bf16Checkpoint_RewritesItAsF32WithTheSameValues()
    {
        using EncoderNetwork electra = CheckpointLoader.Load(SharedAssets.Model("random-electra-tiny"));

        CheckpointWriter.Save(electra, _folder);

        using var original = SafeTensorsFile.Open(Path.Combine(SharedAssets.Model("random-electra-tiny"), "model.safetensors"));
        using var written = SafeTensorsFile.Open(Path.Combine(_folder, "model.safetensors"));
        Assert.Equal(original.Entries.Keys.Order(StringComparer.Ordinal), written.Entries.Keys.Order(StringComparer.Ordinal));
        Assert.All(written.Entries.Values, e => Assert.Equal(SafeTensorsDType.F32, e.DType));
        foreach (string name in original.Entries.Keys)
        {
            Assert.Equal(original.ReadSingles(name), written.ReadSingles(name));
        }
    }

    [Fact]
    public void Save_WritesHuggingFaceLayout()
    {
        using EncoderNetwork albert = EncoderTestKit.Create("tiny-albert");

        CheckpointWriter.Save(albert, _folder);

        Assert.Equal(["config.json", "model.safetensors"], Directory.GetFiles(_folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        using var file = SafeTensorsFile.Open(Path.Combine(_folder, "model.safetensors"));
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Contains("encoder.albert_layer_groups.0.albert_layers.0.attention.query.weight", file.Entries.Keys);
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(_folder, "config.json")));
        Assert.Equal("albert", config.RootElement.GetProperty("model_type").GetString());
        Assert.Equal(16, config.RootElement.GetProperty("embedding_size").GetInt32());
    }
}
