// Loads Hugging Face model.safetensors weights into an encoder, as a checked name mapping.
//
// A checkpoint name maps to an encoder parameter name by:
//   1. dropping the family prefix when present (albert., bert., electra., roberta.), so both the bare
//      model's names (save_pretrained of BertModel) and a task model's names (BertForMaskedLM) load;
//   2. renaming the legacy LayerNorm.gamma / LayerNorm.beta to LayerNorm.weight / LayerNorm.bias.
// Pretraining and task heads (predictions., cls., lm_head., ...) and buffers (embeddings.position_ids,
// embeddings.token_type_ids) are ignored. Anything else that does not fit is collected, and one
// CheckpointMismatchException lists every missing, unexpected and mis-shaped tensor at once.
using EarlyExit.Modeling;
using static TorchSharp.torch;

namespace EarlyExit.Checkpoints;

/// <summary>A checkpoint tensor whose shape differs from the encoder parameter it maps to.</summary>
/// <param name="Name">The encoder parameter name.</param>
/// <param name="CheckpointName">The name in the checkpoint file.</param>
/// <param name="Expected">The parameter's shape.</param>
/// <param name="Found">The checkpoint tensor's shape.</param>
public sealed record TensorShapeMismatch(string Name, string CheckpointName, long[] Expected, long[] Found)
{
    /// <inheritdoc />
    public override string ToString() => $"{CheckpointName} expected [{string.Join(", ", Expected)}], found [{string.Join(", ", Found)}]";
}

/// <summary>A checkpoint that does not fit an encoder; the message lists every problem and names the file.</summary>
public sealed class CheckpointMismatchException : Exception
{
    /// <summary>Creates the exception from the collected problems.</summary>
    public CheckpointMismatchException(string path, string encoderDescription, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<TensorShapeMismatch> misShaped)
        : base(Describe(path, encoderDescription, missing, unexpected, misShaped))
    {
        Path = path;
        Missing = missing;
        Unexpected = unexpected;
        MisShaped = misShaped;
    }

    /// <summary>The checkpoint file.</summary>
    public string Path { get; }

    /// <summary>Encoder parameters the file has no tensor for (encoder names, without prefix).</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>File tensors that map to no parameter and are not ignorable heads or buffers (file names).</summary>
    public IReadOnlyList<string> Unexpected { get; }

    /// <summary>File tensors whose shape differs from their parameter's.</summary>
    public IReadOnlyList<TensorShapeMismatch> MisShaped { get; }

    private static string Describe(string path, string encoder, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<TensorShapeMismatch> misShaped)
    {
        var lines = new List<string>
        {
            $"Checkpoint '{path}' does not fit the {encoder}: {missing.Count} missing, {unexpected.Count} unexpected, {misShaped.Count} mis-shaped tensor(s).",
        };
        if (missing.Count > 0)
        {
            lines.Add($"  missing: {string.Join(", ", missing)}");
        }

        if (unexpected.Count > 0)
        {
            lines.Add($"  unexpected: {string.Join(", ", unexpected)}");
        }

        foreach (TensorShapeMismatch mismatch in misShaped)
        {
            lines.Add($"  mis-shaped: {mismatch}");
        }

        return string.Join(Environment.NewLine, lines);
    }
}

/// <summary>Loads Hugging Face checkpoints (config.json + model.safetensors) into encoders.</summary>
internal static class CheckpointLoader
{
    /// <summary>The weights file name Hugging Face uses.</summary>
    public const string WeightsFileName = "model.safetensors";

    /// <summary>The config file name Hugging Face uses.</summary>
    public const string ConfigFileName = "config.json";

    /// <summary>Checkpoint name prefixes of pretraining and task heads, which the bare encoder ignores.</summary>
    public static readonly IReadOnlyList<string> IgnoredPrefixes =
    [
        "predictions.", "discriminator_predictions.", "generator_predictions.", "generator_lm_head.",
        "cls.", "lm_head.", "qa_outputs.", "classifier.", "sop_classifier.",
    ];

    /// <summary>Buffers transformers stores in some checkpoints; they are recomputed, never loaded.</summary>
    public static readonly IReadOnlyList<string> IgnoredBuffers = ["embeddings.position_ids", "embeddings.token_type_ids"];

    /// <summary>
    /// Builds the encoder a Hugging Face folder describes and loads its weights: <c>config.json</c>
    /// for the architecture, <c>model.safetensors</c> (F32, F16 or BF16, computed in float32) for the
    /// weights. The encoder gets a pooler exactly when the checkpoint has one (task checkpoints
    /// such as token classification drop it). The result is in eval mode, as from_pretrained leaves it.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">config.json or model.safetensors is missing.</exception>
    /// <exception cref="InvalidDataException">config.json is invalid or unsupported.</exception>
    /// <exception cref="CheckpointMismatchException">The weights do not fit the config.</exception>
    public static EncoderNetwork Load(string folder)
    {
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"Checkpoint folder '{folder}' does not exist.");
        }

        EncoderConfig config = EncoderConfig.FromFile(Path.Combine(folder, ConfigFileName));
        string weights = Path.Combine(folder, WeightsFileName);
        if (!File.Exists(weights))
        {
            throw new FileNotFoundException($"Checkpoint folder '{folder}' has {ConfigFileName} but no {WeightsFileName} (only safetensors weights are supported).", weights);
        }

        using SafeTensorsFile file = SafeTensorsFile.Open(weights);
        bool hasPooler = config.Family != EncoderFamily.Electra
            && file.Entries.Keys.Any(name => MapName(config.Family, name).StartsWith("pooler.", StringComparison.Ordinal));
        EncoderNetwork encoder = EncoderNetwork.Create(config, hasPooler);
        try
        {
            LoadWeights(encoder, file);
            encoder.eval();
            return encoder;
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
    }

    /// <summary>Copies the weights of a safetensors file into <paramref name="encoder"/>'s parameters.</summary>
    /// <exception cref="CheckpointMismatchException">Any parameter is missing, any tensor is unexpected or mis-shaped; nothing is copied then.</exception>
    public static void LoadWeights(EncoderNetwork encoder, string safetensorsPath)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        using SafeTensorsFile file = SafeTensorsFile.Open(safetensorsPath);
        LoadWeights(encoder, file);
    }

    /// <summary>Copies the weights of an open safetensors file into <paramref name="encoder"/>'s parameters.</summary>
    /// <exception cref="CheckpointMismatchException">Any parameter is missing, any tensor is unexpected or mis-shaped; nothing is copied then.</exception>
    public static void LoadWeights(EncoderNetwork encoder, SafeTensorsFile file)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(file);
        EncoderFamily family = encoder.Config.Family;
        string description = $"{encoder.Config.ModelType} encoder ({encoder.NumLayers} layers, hidden {encoder.HiddenSize}{(encoder.HasPooler ? ", with pooler" : ", no pooler")})";
        CopyInto(encoder, file, description, name => MapName(family, name), name => IsIgnorable(name, encoder));
    }

    /// <summary>
    /// Copies the tensors of <paramref name="file"/> into <paramref name="module"/>'s state after
    /// mapping each file name with <paramref name="mapName"/>. Every module entry must be present
    /// and of the right shape, and every file tensor must map to an entry or be ignorable; otherwise
    /// nothing is copied and one <see cref="CheckpointMismatchException"/> lists every problem.
    /// </summary>
    internal static void CopyInto(nn.Module module, SafeTensorsFile file, string description, Func<string, string> mapName, Func<string, bool> isIgnorable)
    {
        Dictionary<string, Tensor> parameters = module.state_dict();

        // Checkpoint name -> module name, for every file tensor that maps to a module entry.
        var sources = new Dictionary<string, string>(StringComparer.Ordinal);
        var unexpected = new List<string>();
        foreach (string checkpointName in file.Entries.Keys.OrderBy(n => n, StringComparer.Ordinal))
        {
            string name = mapName(checkpointName);
            if (parameters.ContainsKey(name))
            {
                if (!sources.TryAdd(name, checkpointName))
                {
                    unexpected.Add($"{checkpointName} (a second tensor for {name}, after {sources[name]})");
                }
            }
            else if (!isIgnorable(name))
            {
                unexpected.Add(checkpointName);
            }
        }

        var missing = new List<string>();
        var misShaped = new List<TensorShapeMismatch>();
        foreach (var (name, parameter) in parameters.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (!sources.TryGetValue(name, out string? checkpointName))
            {
                missing.Add(name);
                continue;
            }

            SafeTensorsEntry entry = file.Entries[checkpointName];
            if (!entry.IsFloatingPoint)
            {
                unexpected.Add($"{checkpointName} (stored as {entry.DType}; weights must be floating-point)");
                continue;
            }

            long[] found = entry.Shape;
            if (!found.SequenceEqual(parameter.shape))
            {
                misShaped.Add(new TensorShapeMismatch(name, checkpointName, parameter.shape, found));
            }
        }

        if (missing.Count > 0 || unexpected.Count > 0 || misShaped.Count > 0)
        {
            throw new CheckpointMismatchException(file.Path, description, missing, unexpected, misShaped);
        }

        using var noGrad = no_grad();
        foreach (var (name, checkpointName) in sources)
        {
            using var scope = NewDisposeScope();
            Tensor parameter = parameters[name];
            Tensor values = file.ReadTensor(checkpointName);
            parameter.copy_(values);
        }
    }

    /// <summary>The encoder parameter name a checkpoint name maps to (family prefix dropped, legacy gamma/beta renamed).</summary>
    public static string MapName(EncoderFamily family, string checkpointName)
    {
        ArgumentNullException.ThrowIfNull(checkpointName);
        string prefix = family.ToString().ToLowerInvariant() + ".";
        string name = checkpointName.StartsWith(prefix, StringComparison.Ordinal) ? checkpointName[prefix.Length..] : checkpointName;
        if (name.EndsWith(".gamma", StringComparison.Ordinal))
        {
            name = name[..^".gamma".Length] + ".weight";
        }
        else if (name.EndsWith(".beta", StringComparison.Ordinal))
        {
            name = name[..^".beta".Length] + ".bias";
        }

        return name;
    }

    private static bool IsIgnorable(string name, EncoderNetwork encoder)
    {
        if (IgnoredBuffers.Contains(name, StringComparer.Ordinal) || IgnoredPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)))
        {
            return true;
        }

        // A pooler in the file, loaded into an encoder built without one (transformers' add_pooling_layer=False).
        return !encoder.HasPooler && encoder.Config.Family != EncoderFamily.Electra && name.StartsWith("pooler.", StringComparison.Ordinal);
    }
}
