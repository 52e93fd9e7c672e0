using EarlyExit.Checkpoints;
using EarlyExit.Devices;
using EarlyExit.Hub;
using EarlyExit.Modeling;
using EarlyExit.Tests.TestSupport;
using static TorchSharp.torch;

namespace EarlyExit.Tests;

/// <summary>Loading whole models (config + weights + tokenizer) from folders, hub ids and presets.</summary>
[Collection("Torch")]
public sealed class PretrainedEncoderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("pretrained-tests-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    public static TheoryData<string> RandomCheckpoints() => new("random-albert-tiny", "random-bert-tiny", "random-electra-tiny", "random-roberta-tiny");

    [Theory]
    [MemberData(nameof(RandomCheckpoints))]
    public void Load_Folder_TextToLastHiddenStateMatchesReference(string name)
    {
        // End to end: our tokenizer + our encoder on raw text equal transformers' tokenizer + model.
        using var golden = GoldenFolder.Open(Path.Combine(SharedAssets.Model(name), "golden"));
        GoldenExample example = golden.Examples().First(e => e.Key == "text01");
        using PretrainedEncoder model = PretrainedEncoder.Load(SharedAssets.Model(name), CpuOptions());

        using EncoderOutput output = model.Encode([example.Text!], maxLength: golden.MaxLength);

        int layers = model.Config.NumHiddenLayers;
        using Tensor expected = golden.Tensors.ReadTensor($"text01.hidden.{layers}");
        using Tensor actual = output.LastHiddenState[0];
        Assert.False(model.HasRandomWeights);
        Assert.Equal(expected.shape, actual.shape);
        Assert.True((actual - expected).abs().max().item<float>() <= 1e-4f, $"{name}: last hidden state differs from the reference by more than 1e-4.");
    }

    [Fact]
    public void Load_FolderWithoutWeights_ThrowsPointingAtFromScratch()
    {
        var error = Assert.Throws<FileNotFoundException>(() => PretrainedEncoder.Load(SharedAssets.Model("albert-base-v2"), CpuOptions()));

        Assert.Contains("model.safetensors", error.Message);
        Assert.Contains("FromScratch", error.Message);
        Assert.Contains("albert-base-v2", error.Message);
    }

    [Fact]
    public void Load_FolderWithoutWeightsFromScratch_BuildsSeededRandomModelOfThatConfig()
    {
        PretrainedEncoderOptions options = CpuOptions();
        options.FromScratch = true;
        options.Seed = 5;

        using PretrainedEncoder first = PretrainedEncoder.Load(SharedAssets.Model("google-electra-small-discriminator"), options);
        using PretrainedEncoder second = PretrainedEncoder.Load(SharedAssets.Model("google-electra-small-discriminator"), options);

        Assert.True(first.HasRandomWeights);
        Assert.Equal((12, 256, 128), (first.Config.NumHiddenLayers, first.Config.HiddenSize, first.Config.EmbeddingWidth));
        using EncoderOutput a = first.Encode(["Early exit saves time."]);
        using EncoderOutput b = second.Encode(["Early exit saves time."]);
        Assert.Equal(13, a.HiddenStates.Count);
        Assert.True(a.LastHiddenState.eq(b.LastHiddenState).all().item<bool>(), "The same seed must give the same random model.");
    }

    [Fact]
    public void Load_HubIdFoundInMirror_LoadsWithoutNetwork()
    {
        PretrainedEncoderOptions options = CpuOptions();
        options.Hub = new HubOptions { MirrorDirectory = SharedAssets.Root, Offline = true, CacheDirectory = Path.Combine(_root, "cache") };

        using PretrainedEncoder model = PretrainedEncoder.Load("random-bert-tiny", options);

        Assert.Contains("mirror", model.Source);
        Assert.Equal(4, model.Config.NumHiddenLayers);
    }

    [Fact]
    public void LoadBackbone_MiniLmHubIdWithDefaultHubSettings_ComesFromTheSharedMirrorAndDeclaresMean()
    {
        // No mirror is configured: ../shared beside the repository is discovered, and nothing is downloaded.
        PretrainedEncoderOptions options = CpuOptions();
        options.Hub = new HubOptions { Offline = true, CacheDirectory = Path.Combine(_root, "cache") };

        using PretrainedEncoder model = PretrainedEncoder.LoadBackbone(ModelLocator.MiniLmId, options);

        Assert.Contains("mirror", model.Source);
        Assert.False(model.HasRandomWeights);
        Assert.Equal((6, 384, true), (model.Config.NumHiddenLayers, model.Config.HiddenSize, model.Encoder.HasPooler));
        Assert.Equal(HeadPooling.Mean, model.DeclaredPooling);
        Assert.Equal(HeadPooling.Mean, model.ResolvePooling(HeadPooling.Auto));
        Assert.Equal(HeadPooling.Cls, model.ResolvePooling(HeadPooling.Cls));
        Assert.False(Directory.Exists(Path.Combine(_root, "cache")), "Nothing may be downloaded or cached for a mirrored model.");
    }

    [Fact]
    public void LoadBackbone_MiniLmAlias_LoadsTheSameCheckpoint()
    {
        PretrainedEncoderOptions options = CpuOptions();
        options.Hub = new HubOptions { Offline = true, CacheDirectory = Path.Combine(_root, "cache") };

        using PretrainedEncoder model = PretrainedEncoder.LoadBackbone("minilm", options);

        Assert.Contains(ModelLocator.MiniLmId, model.Source);
        Assert.Equal(6, model.Config.NumHiddenLayers);
    }

    [Fact]
    public void Load_BertCheckpointWithoutPoolerWeights_LoadsAndClsHeadsGetANewTrainablePooler()
    {
        // Task checkpoints are often saved without pooler.*; the heads then train a pooler of their own.
        string folder = Path.Combine(_root, "no-pooler");
        string source = SharedAssets.Model("random-bert-tiny");
        Directory.CreateDirectory(folder);
        foreach (string file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }

        using (var weights = SafeTensorsFile.Open(Path.Combine(source, CheckpointLoader.WeightsFileName)))
        using (var scope = NewDisposeScope())
        {
            var kept = weights.Entries.Keys.Where(n => !n.StartsWith("pooler.", StringComparison.Ordinal)).Order(StringComparer.Ordinal)
                .Select(n => new KeyValuePair<string, Tensor>(n, weights.ReadTensor(n))).ToList();
            Assert.True(kept.Count < weights.Entries.Count, "The reference checkpoint has pooler weights to drop.");
            SafeTensorsWriter.Write(Path.Combine(folder, CheckpointLoader.WeightsFileName), kept);
        }

        using PretrainedEncoder backbone = PretrainedEncoder.Load(folder, CpuOptions());
        Assert.False(backbone.Encoder.HasPooler);
        Assert.Null(backbone.DeclaredPooling);
        using var classifier = EarlyExitTextClassifier.Create(backbone, ["no", "yes"], new EarlyExitNetworkConfig { NumLabels = 2, Pooling = HeadPooling.Auto },
            32, EarlyExit.ExitCriteria.ExitCriterion.QExit(), seed: 1);

        Assert.Equal(HeadPooling.Cls, classifier.Model.Config.Pooling);
        Assert.Contains(classifier.Model.named_parameters(), p => p.name == "pooler.weight" && p.parameter.requires_grad);
    }

    [Fact]
    public void Load_HubIdOfflineAndNowhere_ThrowsSayingOffline()
    {
        PretrainedEncoderOptions options = CpuOptions();
        options.Hub = new HubOptions { MirrorDirectory = SharedAssets.Root, Offline = true, CacheDirectory = Path.Combine(_root, "cache") };

        var error = Assert.Throws<FileNotFoundException>(() => PretrainedEncoder.Load("bert-base-cased", options));

        Assert.Contains("offline", error.Message);
    }

    [Theory]
    [InlineData("tiny-albert", "albert")]
    [InlineData("tiny-bert", "bert")]
    [InlineData("tiny-roberta", "roberta")]
    public void FromPreset_TinyPreset_BuildsRandomModelWithItsFamilyTokenizer(string preset, string family)
    {
        PretrainedEncoderOptions options = CpuOptions();
        options.Hub = new HubOptions { MirrorDirectory = SharedAssets.Root, Offline = true, CacheDirectory = Path.Combine(_root, "cache") };

        using PretrainedEncoder model = PretrainedEncoder.FromPreset(preset, options);
        using EncoderOutput output = model.Encode(["Hello world!", "A second, longer sentence for the batch."]);

        Assert.True(model.HasRandomWeights);
        Assert.Equal(family, model.Tokenizer.ModelType);
        Assert.Equal(new long[] { 2, output.HiddenStates[0].shape[1], 32 }, output.LastHiddenState.shape);
    }

    [Fact]
    public void Save_ThenLoad_GivesIdenticalOutputsAndTokenizer()
    {
        string saved = Path.Combine(_root, "saved");
        string[] texts = ["The quick brown fox.", "Jumps over the lazy dog, twice!"];
        using PretrainedEncoder original = PretrainedEncoder.Load(SharedAssets.Model("random-roberta-tiny"), CpuOptions());
        using EncoderOutput before = original.Encode(texts);

        original.Save(saved);
        using PretrainedEncoder reloaded = PretrainedEncoder.Load(saved, CpuOptions());
        using EncoderOutput after = reloaded.Encode(texts);

        Assert.True(File.Exists(Path.Combine(saved, "vocab.json")) && File.Exists(Path.Combine(saved, "merges.txt")));
        for (int k = 0; k < before.HiddenStates.Count; k++)
        {
            Assert.True(before.HiddenStates[k].eq(after.HiddenStates[k]).all().item<bool>(), $"hidden state {k} changed after save and load");
        }
    }

    [Fact]
    public void Load_TokenizerLargerThanVocabulary_ThrowsNamingBothSizes()
    {
        string folder = Path.Combine(_root, "small-vocab");
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(SharedAssets.Model("random-bert-tiny"), "vocab.txt"), Path.Combine(folder, "vocab.txt"));
        (EncoderPresets.Get("tiny-bert") with { VocabSize = 1000 }).Save(Path.Combine(folder, "config.json"));
        PretrainedEncoderOptions options = CpuOptions();
        options.FromScratch = true;

        var error = Assert.Throws<InvalidDataException>(() => PretrainedEncoder.Load(folder, options));

        Assert.Contains("30522", error.Message);
        Assert.Contains("1000", error.Message);
    }

    [Fact]
    public void Tokenize_LongerThanEncoderAllows_Throws()
    {
        using PretrainedEncoder model = PretrainedEncoder.Load(SharedAssets.Model("random-roberta-tiny"), CpuOptions());

        Assert.Equal(128, model.MaxSequenceLength);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Tokenize(["text"], maxLength: 129));
    }

    [SkippableFact]
    public void Load_CudaRequestedWithoutCuda_ThrowsWithFix()
    {
        Skip.If(cuda.is_available(), "Needs a machine without CUDA (such as CI); this one has a GPU.");

        var options = new PretrainedEncoderOptions { Device = DeviceOption.Cuda() };

        var error = Assert.Throws<InvalidOperationException>(() => PretrainedEncoder.Load(SharedAssets.Model("random-bert-tiny"), options));
        Assert.Contains("CUDA", error.Message);
    }

    private static PretrainedEncoderOptions CpuOptions() => new() { Device = DeviceOption.Cpu };
}
