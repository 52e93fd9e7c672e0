// The one entry point that puts a model together: architecture (config.json), weights
// (model.safetensors) and tokenizer, from whatever the user names it by.
//
//   Load("albert-base-v2")              hub id: mirror ($EARLYEXIT_ASSETS) -> cache -> download (Hub/ModelLocator)
//   Load("/models/my-albert")           a local Hugging Face folder (ours or transformers' save_pretrained)
//   Load(idOrFolder, FromScratch)       that model's config and tokenizer, random weights (no weights needed)
//   FromPreset("tiny-albert")           a named architecture (Checkpoints/EncoderPresets) with random
//                                       weights and the tokenizer of the preset's hub model
//
// Missing weights are an error unless FromScratch is asked for: never a silent random model.
using EarlyExit.Checkpoints;
using EarlyExit.Devices;
using EarlyExit.Hub;
using EarlyExit.Modeling;
using EarlyExit.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace EarlyExit;

/// <summary>How <see cref="PretrainedEncoder"/> loads a model.</summary>
public sealed class PretrainedEncoderOptions
{
    /// <summary>
    /// Build the encoder from the model's config with random weights instead of loading its weights
    /// (training from scratch). A folder without model.safetensors loads only with this set.
    /// </summary>
    /// <value>The default value is false.</value>
    public bool FromScratch { get; set; }

    /// <summary>Seed of the random weights (from scratch and presets).</summary>
    /// <value>The default value is 0.</value>
    public long Seed { get; set; }

    /// <summary>Where the encoder runs.</summary>
    /// <value>The default value is <see cref="DeviceOption.Auto"/> (CUDA when usable, else the CPU).</value>
    public DeviceOption Device { get; set; } = DeviceOption.Auto;

    /// <summary>Mirror, cache, endpoint and offline settings for hub ids.</summary>
    /// <value>The default value is null: settings from the environment (see <see cref="HubOptions"/>).</value>
    public HubOptions? Hub { get; set; }
}

/// <summary>
/// An encoder with its tokenizer, loaded from a Hugging Face hub id, a local folder or a preset.
/// Disposing it releases the encoder's tensors.
/// </summary>
public sealed class PretrainedEncoder : IDisposable
{
    private readonly string _tokenizerFolder;
    private bool _encoderHandedOver;

    private PretrainedEncoder(EncoderNetwork encoder, TextTokenizer tokenizer, string tokenizerFolder, string source, bool randomWeights, Device device, HeadPooling? declaredPooling)
    {
        DeclaredPooling = declaredPooling;
        Encoder = encoder;
        Tokenizer = tokenizer;
        _tokenizerFolder = tokenizerFolder;
        Source = source;
        HasRandomWeights = randomWeights;
        Device = device;
    }

    /// <summary>The encoder network (in eval mode after loading).</summary>
    public EncoderNetwork Encoder { get; }

    /// <summary>The tokenizer that produced the encoder's training inputs.</summary>
    public TextTokenizer Tokenizer { get; }

    /// <summary>The architecture.</summary>
    public EncoderConfig Config => Encoder.Config;

    /// <summary>The device the encoder's parameters live on.</summary>
    public Device Device { get; }

    /// <summary>Where the model came from, for logs: the folder, the hub id and its source, or the preset.</summary>
    public string Source { get; }

    /// <summary>Whether the weights are freshly initialised rather than loaded.</summary>
    public bool HasRandomWeights { get; }

    /// <summary>
    /// The pooling the checkpoint declares for its sentence representation (sentence-transformers'
    /// <c>modules.json</c> and pooling config; see <see cref="PoolingDeclaration"/>), or null when it declares none.
    /// </summary>
    public HeadPooling? DeclaredPooling { get; }

    /// <summary>The pooling heads on this backbone use when asked for <paramref name="requested"/>: Auto becomes <see cref="DeclaredPooling"/>, else Cls.</summary>
    public HeadPooling ResolvePooling(HeadPooling requested) => requested == HeadPooling.Auto ? DeclaredPooling ?? HeadPooling.Cls : requested;

    /// <summary>The most tokens one input may have: the smaller of the tokenizer's and the encoder's limits.</summary>
    public int MaxSequenceLength => Math.Min(Tokenizer.ModelMaxLength, Config.MaxSequenceLength);

    /// <summary>
    /// Loads a model from a local Hugging Face folder or a hub id (e.g. <c>albert-base-v2</c>,
    /// <c>google/electra-small-discriminator</c>): config.json, model.safetensors and the tokenizer
    /// files. Hub ids are looked up in the mirror, then the cache, then downloaded.
    /// </summary>
    /// <param name="idOrPath">A folder or a hub id.</param>
    /// <param name="options">From-scratch, seed, device and hub settings; null for the defaults.</param>
    /// <exception cref="FileNotFoundException">A needed file is missing (weights without <see cref="PretrainedEncoderOptions.FromScratch"/>, tokenizer files, config.json).</exception>
    /// <exception cref="InvalidDataException">config.json is invalid, or tokenizer and model do not fit together.</exception>
    /// <exception cref="CheckpointMismatchException">The weights do not fit the config; every problem is listed.</exception>
    public static PretrainedEncoder Load(string idOrPath, PretrainedEncoderOptions? options = null)
    {
        options ??= new PretrainedEncoderOptions();
        ModelLocation location = ModelLocator.Locate(idOrPath, includeWeights: !options.FromScratch, options.Hub);
        string folder = location.Folder;
        string source = location.RepoId is null ? $"folder '{folder}'" : $"{location.RepoId} ({location.Source.ToString().ToLowerInvariant()}: '{folder}')";
        TextTokenizer tokenizer = TextTokenizer.FromFolder(folder);
        Device device = options.Device.Resolve();
        EncoderNetwork encoder;
        if (options.FromScratch)
        {
            EncoderConfig config = EncoderConfig.FromFile(Path.Combine(folder, CheckpointLoader.ConfigFileName));
            encoder = EncoderNetwork.Create(config, seed: options.Seed);
        }
        else
        {
            string weights = Path.Combine(folder, CheckpointLoader.WeightsFileName);
            if (!File.Exists(weights))
            {
                throw new FileNotFoundException(
                    $"Model {source} has no {CheckpointLoader.WeightsFileName}. Pretrained weights are needed unless you train from scratch: " +
                    $"set {nameof(PretrainedEncoderOptions)}.{nameof(PretrainedEncoderOptions.FromScratch)} (CLI: --from-scratch) to build random weights from its config.json, " +
                    "or put the weights (safetensors) in that folder.", weights);
            }

            encoder = CheckpointLoader.Load(folder);
        }

        return Assemble(encoder, tokenizer, folder, source, options.FromScratch, device, ReadDeclaredPooling(encoder, source, folder));
    }

    /// <summary>
    /// Resolves a backbone named the way trainers and the command line take it: an existing folder,
    /// a preset (with <see cref="PretrainedEncoderOptions.FromScratch"/>), or a hub id.
    /// </summary>
    /// <remarks>
    /// A preset has no pretrained weights, so naming one without FromScratch is an error, unless the
    /// name is also a hub model (albert-base-v2, bert-base-uncased, roberta-base), which then loads
    /// from the hub with its pretrained weights.
    /// </remarks>
    /// <param name="backbone">A folder, a preset name or a hub id.</param>
    /// <param name="options">From-scratch, seed, device and hub settings; null for the defaults.</param>
    public static PretrainedEncoder LoadBackbone(string backbone, PretrainedEncoderOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(backbone);
        options ??= new PretrainedEncoderOptions();
        if (Directory.Exists(backbone))
        {
            return Load(backbone, options);
        }

        if (EncoderPresets.Names.Contains(backbone, StringComparer.Ordinal))
        {
            if (options.FromScratch)
            {
                return FromPreset(backbone, options);
            }

            if (!string.Equals(EncoderPresets.TokenizerSource(backbone), backbone, StringComparison.Ordinal))
            {
                throw new ArgumentException(
                    $"'{backbone}' is a preset architecture without pretrained weights. Train it from random weights with FromScratch (CLI: --from-scratch), " +
                    $"or name a checkpoint: a folder or a hub id such as {EncoderPresets.TokenizerSource(backbone)}.", nameof(backbone));
            }
        }

        return Load(backbone, options);
    }

    /// <summary>
    /// Builds preset <paramref name="preset"/> (see <see cref="EncoderPresets.Names"/>) with random
    /// weights and the tokenizer of the preset's hub model, for training from scratch.
    /// </summary>
    /// <param name="preset">A preset name such as <c>tiny-albert</c> or <c>albert-base-v2</c>.</param>
    /// <param name="options">Seed, device and hub settings (FromScratch is implied); null for the defaults.</param>
    /// <exception cref="ArgumentException">No preset has that name; the message lists them.</exception>
    public static PretrainedEncoder FromPreset(string preset, PretrainedEncoderOptions? options = null)
    {
        options ??= new PretrainedEncoderOptions();
        EncoderConfig config = EncoderPresets.Get(preset);
        string tokenizerId = EncoderPresets.TokenizerSource(preset);
        ModelLocation location = ModelLocator.Locate(tokenizerId, includeWeights: false, options.Hub);
        TextTokenizer tokenizer = TextTokenizer.FromFolder(location.Folder, config.ModelType);
        Device device = options.Device.Resolve();
        EncoderNetwork encoder = EncoderNetwork.Create(config, seed: options.Seed);
        return Assemble(encoder, tokenizer, location.Folder, $"preset {preset} (tokenizer of {tokenizerId})", randomWeights: true, device, declaredPooling: null);
    }

    /// <summary>
    /// Tokenizes <paramref name="texts"/> (and the second texts of pairs, when given) and pads them
    /// into one batch on the encoder's device, truncating each to <paramref name="maxLength"/>
    /// (default <see cref="MaxSequenceLength"/>).
    /// </summary>
    public TokenBatch Tokenize(IReadOnlyList<string> texts, IReadOnlyList<string>? textPairs = null, int? maxLength = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (textPairs is not null && textPairs.Count != texts.Count)
        {
            throw new ArgumentException($"textPairs has {textPairs.Count} entries but texts has {texts.Count}; give one second text per text.", nameof(textPairs));
        }

        int limit = maxLength ?? MaxSequenceLength;
        if (limit > Config.MaxSequenceLength)
        {
            throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, $"The encoder takes at most {Config.MaxSequenceLength} tokens per input.");
        }

        var encoded = new List<TokenizedInput>(texts.Count);
        for (int i = 0; i < texts.Count; i++)
        {
            encoded.Add(textPairs is null ? Tokenizer.Encode(texts[i], limit) : Tokenizer.Encode(texts[i], textPairs[i], limit));
        }

        return TokenBatch.Collate(encoded, PadId, Device);
    }

    /// <summary>Runs the whole encoder on <paramref name="texts"/> without gradients: every hidden state, for inspection.</summary>
    public EncoderOutput Encode(IReadOnlyList<string> texts, int? maxLength = null)
    {
        using TokenBatch batch = Tokenize(texts, maxLength: maxLength);
        using var noGrad = no_grad();
        return Encoder.Forward(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask);
    }

    /// <summary>
    /// Saves the model as a Hugging Face folder (config.json, model.safetensors and the tokenizer
    /// files), which <see cref="Load"/> and transformers' from_pretrained read back.
    /// </summary>
    public void Save(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        CheckpointWriter.Save(Encoder, folder);
        foreach (var (file, bytes) in ReadTokenizerFiles())
        {
            File.WriteAllBytes(Path.Combine(folder, file), bytes);
        }
    }

    /// <summary>
    /// The tokenizer's files (vocabulary and settings) by name, as read from the model folder, so a
    /// model built on this encoder can carry them into its own saved files.
    /// </summary>
    public IReadOnlyDictionary<string, byte[]> ReadTokenizerFiles()
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (string file in TextTokenizer.RequiredFiles(Config.ModelType).Concat(TextTokenizer.OptionalFiles))
        {
            string path = Path.Combine(_tokenizerFolder, file);
            if (File.Exists(path))
            {
                files[file] = File.ReadAllBytes(path);
            }
        }

        return files;
    }

    /// <summary>Disposes the encoder, unless a model built on it has taken it over.</summary>
    public void Dispose()
    {
        if (!_encoderHandedOver)
        {
            Encoder.Dispose();
        }
    }

    /// <summary>Hands the encoder to a model that will own (and dispose) it; this object then no longer disposes it.</summary>
    internal EncoderNetwork HandOverEncoder()
    {
        if (_encoderHandedOver)
        {
            throw new InvalidOperationException($"The encoder of {Source} was already handed to another model; load the backbone again for a second model.");
        }

        _encoderHandedOver = true;
        return Encoder;
    }

    private int PadId => Tokenizer.SpecialTokens.Pad >= 0 ? Tokenizer.SpecialTokens.Pad : Config.PadTokenId;

    private static HeadPooling? ReadDeclaredPooling(EncoderNetwork encoder, string source, string folder)
    {
        try
        {
            return PoolingDeclaration.Read(folder);
        }
        catch (InvalidDataException e)
        {
            encoder.Dispose();
            throw new InvalidDataException($"Model {source}: {e.Message} Fix or remove the file, or name the pooling explicitly.", e);
        }
    }

    private static PretrainedEncoder Assemble(EncoderNetwork encoder, TextTokenizer tokenizer, string tokenizerFolder, string source, bool randomWeights, Device device, HeadPooling? declaredPooling)
    {
        try
        {
            CheckCompatible(encoder.Config, tokenizer, source);
            encoder.to(device);
            encoder.eval();
            return new PretrainedEncoder(encoder, tokenizer, tokenizerFolder, source, randomWeights, device, declaredPooling);
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
    }

    /// <summary>Tokenizer and encoder must agree where a disagreement would silently give wrong outputs.</summary>
    private static void CheckCompatible(EncoderConfig config, TextTokenizer tokenizer, string source)
    {
        if (!string.Equals(tokenizer.ModelType, config.ModelType, StringComparison.OrdinalIgnoreCase)
            && !(config.Family is EncoderFamily.Bert or EncoderFamily.Electra && tokenizer.ModelType is TextTokenizer.BertModelType or TextTokenizer.ElectraModelType))
        {
            throw new InvalidDataException($"Model {source}: the tokenizer is a {tokenizer.ModelType} tokenizer but the encoder is {config.ModelType}.");
        }

        if (tokenizer.VocabularySize > config.VocabSize)
        {
            throw new InvalidDataException(
                $"Model {source}: the tokenizer has {tokenizer.VocabularySize} tokens but the encoder's vocab_size is {config.VocabSize}, so some token ids have no embedding.");
        }

        if (config.Family == EncoderFamily.Roberta && tokenizer.SpecialTokens.Pad >= 0 && tokenizer.SpecialTokens.Pad != config.PadTokenId)
        {
            throw new InvalidDataException(
                $"Model {source}: the tokenizer pads with id {tokenizer.SpecialTokens.Pad} but config.json's pad_token_id is {config.PadTokenId}; RoBERTa's position ids depend on it.");
        }
    }
}
