using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using EarlyExit.Checkpoints;
using EarlyExit.Modeling;
using EarlyExit.Tests.Modeling;
using EarlyExit.Tests.TestSupport;
using static TorchSharp.torch;

namespace EarlyExit.Tests.Checkpoints;

[Collection("Torch")]
public class CheckpointLoaderTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("checkpoint-loader-tests-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("random-albert-tiny")]
    [InlineData("random-bert-tiny")]
    [InlineData("random-electra-tiny")]
    [InlineData("random-roberta-tiny")]
    public void StateDict_RandomCheckpoint_HasExactlyTheLoadedTensorNames(string folder)
    {
        string model = SharedAssets.Model(folder);
        using EncoderNetwork encoder = EncoderNetwork.Create(EncoderConfig.FromFile(Path.Combine(model, "config.json")));
        using var file = SafeTensorsFile.Open(Path.Combine(model, "model.safetensors"));

        string[] expected = file.Entries.Keys
            .Select(n => CheckpointLoader.MapName(encoder.Config.Family, n))
            .Where(n => !n.StartsWith("predictions.", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(expected, encoder.state_dict().Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Load_AlbertMaskedLmExport_StripsPrefixIgnoresHeadAndCopiesValues()
    {
        string model = SharedAssets.Model("random-albert-tiny");
        using var file = SafeTensorsFile.Open(Path.Combine(model, "model.safetensors"));
        Assert.Contains(file.Entries.Keys, n => n.StartsWith("predictions.", StringComparison.Ordinal));

        using EncoderNetwork encoder = CheckpointLoader.Load(model);

        Assert.IsType<AlbertEncoder>(encoder);
        Assert.False(encoder.training);
        using Tensor stored = file.ReadTensor("albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.weight");
        Assert.Equal(0, TensorComparison.MaxAbsDiff(stored, encoder.state_dict()["encoder.albert_layer_groups.0.albert_layers.0.ffn.weight"]));
    }

    [Fact]
    public void LoadWeights_BrokenCheckpoint_ListsEveryMissingUnexpectedAndMisShapedTensorAtOnce()
    {
        using EncoderNetwork source = EncoderTestKit.Create("tiny-bert");
        var tensors = new Dictionary<string, Tensor>(source.state_dict());
        tensors.Remove("encoder.layer.1.output.dense.bias");
        tensors.Remove("embeddings.LayerNorm.weight");
        using Tensor wrongPooler = zeros(16, 32);
        using Tensor wrongWords = zeros(30000, 32);
        using Tensor stray = zeros(3);
        using Tensor head = zeros(5);
        tensors["pooler.dense.weight"] = wrongPooler;
        tensors["embeddings.word_embeddings.weight"] = wrongWords;
        tensors["encoder.layer.7.attention.self.query.weight"] = stray;
        tensors["cls.predictions.bias"] = head; // a pretraining head: ignored, not reported
        string path = Path.Combine(_folder, "broken.safetensors");
        SafeTensorsWriter.Write(path, tensors);
        using EncoderNetwork target = EncoderTestKit.Create("tiny-bert", seed: 99);
        using Tensor before = target.state_dict()["encoder.layer.0.output.dense.weight"].clone();

        var error = Assert.Throws<CheckpointMismatchException>(() => CheckpointLoader.LoadWeights(target, path));

        Assert.Equal(path, error.Path);
        Assert.Equal(["embeddings.LayerNorm.weight", "encoder.layer.1.output.dense.bias"], error.Missing);
        Assert.Equal(["encoder.layer.7.attention.self.query.weight"], error.Unexpected);
        Assert.Equal(["embeddings.word_embeddings.weight", "pooler.dense.weight"], error.MisShaped.Select(m => m.Name));
        Assert.Contains(path, error.Message);
        Assert.Contains("2 missing, 1 unexpected, 2 mis-shaped", error.Message);
        Assert.Contains("embeddings.word_embeddings.weight expected [30522, 32], found [30000, 32]", error.Message);
        Assert.Contains("pooler.dense.weight expected [32, 32], found [16, 32]", error.Message);
        Assert.DoesNotContain("cls.predictions", error.Message);
        // Nothing was copied.
        Assert.Equal(0, TensorComparison.MaxAbsDiff(before, target.state_dict()["encoder.layer.0.output.dense.weight"]));
    }

    [Fact]
    public void LoadWeights_PrefixedLegacyNamesWithBuffersAndHeads_LoadsTheSameWeights()
    {
        // A BertForPreTraining-style export: bert. prefix, TF-era LayerNorm.gamma/beta, the
        // position_ids buffer, and cls.* heads.
        using EncoderNetwork source = EncoderTestKit.Create("tiny-bert", seed: 1);
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, value) in source.state_dict())
        {
            string legacy = name.Replace("LayerNorm.weight", "LayerNorm.gamma", StringComparison.Ordinal).Replace("LayerNorm.bias", "LayerNorm.beta", StringComparison.Ordinal);
            tensors["bert." + legacy] = value;
        }

        using Tensor positionIds = arange(512, ScalarType.Int64).unsqueeze(0);
        using Tensor head = zeros(2, 32);
        tensors["bert.embeddings.position_ids"] = positionIds;
        tensors["cls.seq_relationship.weight"] = head;
        string path = Path.Combine(_folder, "prefixed.safetensors");
        SafeTensorsWriter.Write(path, tensors);
        using EncoderNetwork target = EncoderTestKit.Create("tiny-bert", seed: 2);

        CheckpointLoader.LoadWeights(target, path);

        Dictionary<string, Tensor> expected = source.state_dict();
        Assert.All(target.state_dict(), p => Assert.Equal(0, TensorComparison.MaxAbsDiff(expected[p.Key], p.Value)));
    }

    [Fact]
    public void LoadWeights_HalfPrecisionFile_LoadsAsFloat32()
    {
        using EncoderNetwork source = EncoderTestKit.Create("tiny-electra", seed: 1);
        string path = Path.Combine(_folder, "half.safetensors");
        WriteF16(path, source.state_dict());
        using EncoderNetwork target = EncoderTestKit.Create("tiny-electra", seed: 2);

        CheckpointLoader.LoadWeights(target, path);

        using var scope = NewDisposeScope();
        foreach (var (name, value) in target.state_dict())
        {
            Assert.Equal(ScalarType.Float32, value.dtype);
            Tensor rounded = source.state_dict()[name].to_type(ScalarType.Float16).to_type(ScalarType.Float32);
            Assert.Equal(0, TensorComparison.MaxAbsDiff(rounded, value));
        }
    }

    [Fact]
    public void Load_CheckpointWithoutPooler_BuildsEncoderWithoutPooler()
    {
        // Token-classification exports drop the pooler (add_pooling_layer=False).
        using EncoderNetwork source = EncoderNetwork.Create(EncoderPresets.Get("tiny-bert"), withPooler: false);
        CheckpointWriter.Save(source, _folder);

        using EncoderNetwork loaded = CheckpointLoader.Load(_folder);

        Assert.False(loaded.HasPooler);
    }

    [Fact]
    public void LoadWeights_PoolerIntoEncoderBuiltWithoutOne_IgnoresIt()
    {
        using EncoderNetwork source = EncoderTestKit.Create("tiny-roberta");
        string path = Path.Combine(_folder, "with-pooler.safetensors");
        SafeTensorsWriter.Write(path, source.state_dict());
        using EncoderNetwork target = EncoderNetwork.Create(EncoderPresets.Get("tiny-roberta"), withPooler: false);

        CheckpointLoader.LoadWeights(target, path);

        using Tensor hidden = zeros(1, 2, 32);
        Assert.Null(target.Pool(hidden));
    }

    [Fact]
    public void LoadWeights_PoolerIntoElectra_ReportsItAsUnexpected()
    {
        using EncoderNetwork source = EncoderTestKit.Create("tiny-electra");
        using Tensor poolerWeight = zeros(32, 32);
        var tensors = new Dictionary<string, Tensor>(source.state_dict()) { ["pooler.dense.weight"] = poolerWeight };
        string path = Path.Combine(_folder, "electra-pooler.safetensors");
        SafeTensorsWriter.Write(path, tensors);

        var error = Assert.Throws<CheckpointMismatchException>(() => CheckpointLoader.LoadWeights(source, path));

        Assert.Equal(["pooler.dense.weight"], error.Unexpected);
    }

    [Fact]
    public void LoadWeights_IntegerWeight_IsReportedWithItsDType()
    {
        using EncoderNetwork source = EncoderTestKit.Create("tiny-bert");
        using Tensor integers = zeros(2, 32, ScalarType.Int64);
        var tensors = new Dictionary<string, Tensor>(source.state_dict()) { ["embeddings.token_type_embeddings.weight"] = integers };
        string path = Path.Combine(_folder, "int.safetensors");
        SafeTensorsWriter.Write(path, tensors);

        var error = Assert.Throws<CheckpointMismatchException>(() => CheckpointLoader.LoadWeights(source, path));

        Assert.Contains("embeddings.token_type_embeddings.weight (stored as I64; weights must be floating-point)", error.Unexpected);
    }

    [Fact]
    public void Load_FolderWithoutWeights_NamesFolderAndFile()
    {
        EncoderPresets.Get("tiny-bert").Save(Path.Combine(_folder, "config.json"));

        var error = Assert.Throws<FileNotFoundException>(() => CheckpointLoader.Load(_folder));

        Assert.Contains(_folder, error.Message);
        Assert.Contains("model.safetensors", error.Message);
    }

    [Theory]
    [InlineData(EncoderFamily.Albert, "albert.encoder.embedding_hidden_mapping_in.weight", "encoder.embedding_hidden_mapping_in.weight")]
    [InlineData(EncoderFamily.Bert, "bert.embeddings.LayerNorm.gamma", "embeddings.LayerNorm.weight")]
    [InlineData(EncoderFamily.Electra, "electra.embeddings_project.bias", "embeddings_project.bias")]
    [InlineData(EncoderFamily.Roberta, "roberta.encoder.layer.0.output.LayerNorm.beta", "encoder.layer.0.output.LayerNorm.bias")]
    [InlineData(EncoderFamily.Roberta, "encoder.layer.0.output.dense.weight", "encoder.layer.0.output.dense.weight")]
    [InlineData(EncoderFamily.Bert, "roberta.pooler.dense.weight", "roberta.pooler.dense.weight")]
    public void MapName_CheckpointName_DropsOwnFamilyPrefixAndRenamesGammaBeta(EncoderFamily family, string checkpointName, string expected)
    {
        Assert.Equal(expected, CheckpointLoader.MapName(family, checkpointName));
    }

    // Writes every tensor as F16, the dtype SafeTensorsWriter does not produce.
    private static void WriteF16(string path, Dictionary<string, Tensor> tensors)
    {
        var header = new Dictionary<string, object>();
        using var data = new MemoryStream();
        using var scope = NewDisposeScope();
        foreach (var (name, tensor) in tensors.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            float[] values = tensor.detach().contiguous().data<float>().ToArray();
            long begin = data.Length;
            var bytes = new byte[values.Length * 2];
            for (int i = 0; i < values.Length; i++)
            {
                BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(i * 2), (Half)values[i]);
            }

            data.Write(bytes);
            header[name] = new { dtype = "F16", shape = tensor.shape, data_offsets = new[] { begin, data.Length } };
        }

        byte[] json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        using var file = File.Create(path);
        var length = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)json.Length);
        file.Write(length);
        file.Write(json);
        data.Position = 0;
        data.CopyTo(file);
    }
}
