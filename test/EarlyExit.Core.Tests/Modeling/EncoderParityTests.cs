using System.Text.Json;
using EarlyExit.Checkpoints;
using EarlyExit.Modeling;
using EarlyExit.Tests.TestSupport;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace EarlyExit.Tests.Modeling;

/// <summary>
/// Layer-by-layer parity with Hugging Face transformers 4.36: every golden folder whose manifest has
/// a <c>model</c> section is loaded from its config.json + model.safetensors and fed the stored ids.
/// A folder that promises model outputs but cannot be checked fails; it is never skipped.
/// </summary>
[Collection("Torch")]
public class EncoderParityTests(ITestOutputHelper output)
{
    private static readonly string[] s_families = ["albert", "bert", "electra", "roberta"];

    /// <summary>Every golden folder with model outputs under <see cref="SharedAssets.GoldenRoot"/>, relative to it.</summary>
    public static TheoryData<string> ModelGoldenFolders() => new(FoldersWithModelOutputs());

    private static IEnumerable<string> FoldersWithModelOutputs()
    {
        string root = SharedAssets.GoldenRoot;
        foreach (string directory in GoldenFolder.Discover(root))
        {
            using GoldenFolder golden = GoldenFolder.Open(directory);
            if (golden.HasModelOutputs)
            {
                yield return Path.GetRelativePath(root, directory);
            }
        }
    }

    [Fact]
    [Trait("Category", "Parity")]
    public void Discover_GoldenRoot_FindsModelOutputsForEveryFamily()
    {
        var families = new HashSet<string>(StringComparer.Ordinal);
        foreach (string folder in FoldersWithModelOutputs())
        {
            using GoldenFolder golden = GoldenFolder.Open(Path.Combine(SharedAssets.GoldenRoot, folder));
            families.Add(golden.Model.GetProperty("model_type").GetString()!);
        }

        Assert.NotEmpty(families);
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(SharedAssets.GoldenRootVariable)))
        {
            // The shared models folder carries one random checkpoint per family.
            Assert.Equal(s_families, families.Order(StringComparer.Ordinal));
        }
    }

    [Theory]
    [Trait("Category", "Parity")]
    [MemberData(nameof(ModelGoldenFolders))]
    public void Forward_EachStoredExample_MatchesReferenceWithinTolerance(string folder)
    {
        using GoldenFolder golden = GoldenFolder.Open(Path.Combine(SharedAssets.GoldenRoot, folder));
        using EncoderNetwork encoder = LoadChecked(golden);
        var comparison = new TensorComparison(Tolerance(golden));
        bool hasPooler = golden.Model.GetProperty("has_pooler").GetBoolean();
        using var noGrad = no_grad();
        foreach (string key in golden.Model.GetProperty("examples").EnumerateArray().Select(e => e.GetString()!))
        {
            using var scope = NewDisposeScope();
            Tensor ids = golden.Tensors.ReadTensor($"{key}.input_ids").unsqueeze(0); // [n] -> [1, n]
            Tensor types = golden.Tensors.ReadTensor($"{key}.token_type_ids").unsqueeze(0); // [n] -> [1, n]
            Tensor mask = golden.Tensors.ReadTensor($"{key}.attention_mask").unsqueeze(0); // [n] -> [1, n]
            using EncoderOutput result = encoder.Forward(ids, types, mask);
            comparison.Compare($"{key}.embeddings", result.Embeddings[0], Reference(golden, $"{key}.embeddings"));
            for (int k = 0; k <= encoder.NumLayers; k++)
            {
                comparison.Compare($"{key}.hidden.{k}", result.HiddenStates[k][0], Reference(golden, $"{key}.hidden.{k}"));
            }

            if (hasPooler)
            {
                comparison.Compare($"{key}.pooler_output", result.PoolerOutput![0], Reference(golden, $"{key}.pooler_output"));
            }
        }

        output.WriteLine($"{golden.Name} single examples: {comparison.Summary}");
        Assert.True(comparison.FirstFailure is null, $"{golden.Name}: {comparison.Summary}");
    }

    [Theory]
    [Trait("Category", "Parity")]
    [MemberData(nameof(ModelGoldenFolders))]
    public void Forward_PaddedBatch_MatchesReferenceOnRealTokens(string folder)
    {
        using GoldenFolder golden = GoldenFolder.Open(Path.Combine(SharedAssets.GoldenRoot, folder));
        using EncoderNetwork encoder = LoadChecked(golden);
        var comparison = new TensorComparison(Tolerance(golden));
        var padded = new TensorComparison(double.PositiveInfinity);
        bool hasPooler = golden.Model.GetProperty("has_pooler").GetBoolean();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Tensor ids = golden.Tensors.ReadTensor("batch.input_ids");
        Tensor types = golden.Tensors.ReadTensor("batch.token_type_ids");
        Tensor mask = golden.Tensors.ReadTensor("batch.attention_mask");
        Assert.Contains(0L, golden.Ints("batch.attention_mask")); // the batch really is padded
        using EncoderOutput result = encoder.Forward(ids, types, mask);
        comparison.Compare("batch.embeddings", result.Embeddings, Reference(golden, "batch.embeddings"), mask);
        padded.Compare("batch.embeddings", result.Embeddings, Reference(golden, "batch.embeddings"));
        for (int k = 0; k <= encoder.NumLayers; k++)
        {
            comparison.Compare($"batch.hidden.{k}", result.HiddenStates[k], Reference(golden, $"batch.hidden.{k}"), mask);
            padded.Compare($"batch.hidden.{k}", result.HiddenStates[k], Reference(golden, $"batch.hidden.{k}"));
        }

        if (hasPooler)
        {
            comparison.Compare("batch.pooler_output", result.PoolerOutput!, Reference(golden, "batch.pooler_output"));
        }

        output.WriteLine($"{golden.Name} padded batch, real tokens: {comparison.Summary}");
        output.WriteLine($"{golden.Name} padded batch, all positions (informational): {padded.Summary}");
        Assert.True(comparison.FirstFailure is null, $"{golden.Name}: {comparison.Summary}");
    }

    // Builds the encoder from the folder next to golden/, failing (not skipping) when anything the
    // manifest promises cannot be checked.
    private static EncoderNetwork LoadChecked(GoldenFolder golden)
    {
        string model = golden.ModelDirectory;
        foreach (string file in new[] { CheckpointLoader.ConfigFileName, CheckpointLoader.WeightsFileName })
        {
            Assert.True(File.Exists(Path.Combine(model, file)), $"{golden.Name}: the manifest has model outputs but '{Path.Combine(model, file)}' is missing, so they cannot be checked.");
        }

        JsonElement facts = golden.Model;
        EncoderNetwork encoder = CheckpointLoader.Load(model);
        encoder.eval();
        Assert.Equal(facts.GetProperty("model_type").GetString(), encoder.Config.ModelType);
        Assert.Equal(facts.GetProperty("num_hidden_layers").GetInt32(), encoder.NumLayers);
        Assert.Equal(facts.GetProperty("hidden_size").GetInt32(), encoder.HiddenSize);
        Assert.Equal(facts.GetProperty("embedding_size").GetInt32(), encoder.Config.EmbeddingWidth);
        Assert.Equal(facts.GetProperty("has_pooler").GetBoolean(), encoder.HasPooler);
        return encoder;
    }

    private static Tensor Reference(GoldenFolder golden, string name)
    {
        Assert.True(golden.Has(name), $"{golden.Name}: golden.safetensors has no tensor '{name}', which the manifest's model section promises.");
        return golden.Tensors.ReadTensor(name);
    }

    private static double Tolerance(GoldenFolder golden) =>
        golden.Manifest.GetProperty("tolerances").GetProperty("float32_max_abs_diff").GetDouble();
}
