// A trained token-level early-exit sequence labeller as one deployable unit: network, tokenizer, tag
// names, maximum input length and the token exit criterion it scores with. The ML.NET transformer and
// the command-line tool wrap it; it knows nothing of ML.NET.
//
// Sentences are lists of words. A sentence longer than MaxSequenceLength tokens is labelled in chunks
// of whole words (Tokenization/WordChunker), so every word gets a tag.
//
// *** Saved format (a folder; the ML.NET model zip stores the same files) ***
//   token-classifier.json  FormatVersion, MinReadableVersion, Tags, MaxSequenceLength, ExitCriterion,
//                          Dropout, EncoderHasPooler, AuxiliaryTasks (version 2: name, tags, layer and
//                          weight of each auxiliary tag task; absent without tasks, which version 1
//                          readers can still read), OffRampInput (version 3: LayerAttention or
//                          DifferenceAttention; absent for Layer, which older readers can still read),
//                          WordPoolingLayer (version 4: the first layer that runs on words; absent for
//                          none, which older readers can still read)
//   config.json            the encoder's Hugging Face config
//   model.safetensors      every weight of the TokenExitNetwork under its state_dict name
//   tokenizer files        as the backbone had them
using System.Text.Json.Serialization;
using EarlyExit.Checkpoints;
using EarlyExit.Devices;
using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.Modeling;
using EarlyExit.Sweeps;
using EarlyExit.Tokenization;
using EarlyExit.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace EarlyExit;

/// <summary>A trained token-level early-exit labeller: its <see cref="EarlyExitClassifier{TCriterion}.Labels"/> are the tags. Score from one thread at a time.</summary>
public sealed class EarlyExitTokenClassifier : EarlyExitClassifier<TokenExitCriterion>
{
    /// <summary>The saved format: its name, the version this code writes, its settings file.</summary>
    internal static readonly SavedFolderFormat Format = new("earlyexit-token-classifier", Version: 4, SettingsFile: "token-classifier.json", What: "early-exit token classifier");

    private EarlyExitTokenClassifier(TokenExitNetwork model, TextTokenizer tokenizer, IReadOnlyDictionary<string, byte[]> tokenizerFiles, IReadOnlyList<string> tags, int maxSequenceLength, TokenExitCriterion criterion,
        IReadOnlyList<string[]> auxiliaryTags)
        : base(model, model.Encoder, tokenizer, tokenizerFiles, tags, maxSequenceLength, criterion)
    {
        AuxiliaryTags = auxiliaryTags;
    }

    /// <summary>The auxiliary tag tasks trained beside the tags, each with its head after its layer (empty for none).</summary>
    public IReadOnlyList<AuxiliaryTagTask> AuxiliaryTasks => Model.AuxiliaryTasks;

    /// <summary>Each auxiliary task's tag names, in the order of <see cref="AuxiliaryTasks"/>.</summary>
    public IReadOnlyList<IReadOnlyList<string>> AuxiliaryTags { get; }

    /// <summary>The network.</summary>
    public TokenExitNetwork Model => (TokenExitNetwork)Network;

    /// <summary>The index of the outside tag "O" (what words without tokens get), or -1 when the tags have none.</summary>
    public int OutsideTag => SentenceChunks.OutsideTag(Labels);

    /// <summary>Builds an untrained labeller on <paramref name="backbone"/> (which hands its encoder over).</summary>
    /// <param name="backbone">The encoder and tokenizer.</param>
    /// <param name="tags">Tag names (at least 2, distinct).</param>
    /// <param name="maxSequenceLength">Longest chunk in tokens; at most the backbone's limit.</param>
    /// <param name="criterion">The default exit criterion.</param>
    /// <param name="dropout">Dropout before the off-ramps.</param>
    /// <param name="seed">Seed of the off-ramps' initial weights.</param>
    /// <param name="auxiliary">Auxiliary tag tasks with their tag names (the task's NumLabels is their count); null for none.</param>
    /// <param name="offRampInput">What each off-ramp reads.</param>
    /// <param name="wordPoolingLayer">The first layer that runs on words (their pieces averaged), or 0 for none.</param>
    internal static EarlyExitTokenClassifier Create(PretrainedEncoder backbone, IReadOnlyList<string> tags, int maxSequenceLength, TokenExitCriterion criterion, double dropout, long seed,
        IReadOnlyList<AuxiliaryTaskTags>? auxiliary = null, TokenOffRampInput offRampInput = TokenOffRampInput.Layer, int wordPoolingLayer = 0)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(tags);
        ArgumentNullException.ThrowIfNull(criterion);
        ModelFolder.CheckNames(tags, "tag");
        auxiliary ??= [];
        foreach (AuxiliaryTaskTags task in auxiliary)
        {
            CheckTaskTags(task.Name, task.Tags);
        }

        CheckMaxSequenceLength(backbone, maxSequenceLength, backbone.Tokenizer.SpecialTokenCount(pair: false) + 1);
        return CreateOn(backbone, encoder => new TokenExitNetwork(encoder, tags.Count, dropout, seed, auxiliary.Select(a => a.Task).ToArray(), offRampInput, wordPoolingLayer),
            (model, tokenizerFiles) => new EarlyExitTokenClassifier(model, backbone.Tokenizer, tokenizerFiles, tags.ToArray(), maxSequenceLength, criterion, auxiliary.Select(a => a.Tags).ToArray()));
    }

    /// <summary>Encodes a sentence the way the labeller scores it: chunks of whole words that fit <see cref="MaxSequenceLength"/>.</summary>
    internal IReadOnlyList<WordChunk> Encode(IReadOnlyList<string> words) => WordChunker.Encode(Tokenizer, words, MaxSequenceLength);

    /// <summary>Labels <paramref name="sentences"/> (lists of words) with early exit, in input order.</summary>
    /// <param name="sentences">The sentences.</param>
    /// <param name="criterion">The exit criterion; null for <see cref="ExitCriterion"/>.</param>
    /// <param name="batchSize">Chunks scored together.</param>
    public SentencePrediction[] Predict(IReadOnlyList<IReadOnlyList<string>> sentences, TokenExitCriterion? criterion = null, int batchSize = TokenExitDefaults.BatchSize)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        criterion ??= ExitCriterion;
        EnsureSupported(criterion);
        SentenceChunks chunks = Chunk(sentences);
        TokenPrediction[] scored = TokenExitScoring.Predict(Model, chunks.Inputs, criterion, PadTokenId, batchSize);
        return chunks.Assemble(scored);
    }

    /// <summary>
    /// Runs <paramref name="sentences"/> through every layer once and records what each layer's
    /// off-ramp says about every token, so exit criteria can be compared without running the network
    /// again (<see cref="SentenceExitRecord.Replay"/>).
    /// </summary>
    /// <param name="sentences">The sentences.</param>
    /// <param name="batchSize">Chunks run together.</param>
    internal SentenceExitRecord Record(IReadOnlyList<IReadOnlyList<string>> sentences, int batchSize = TokenExitDefaults.BatchSize)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        SentenceChunks chunks = Chunk(sentences);
        return new SentenceExitRecord(chunks, TokenExitRecord.Record(Model, chunks.Inputs, PadTokenId, batchSize));
    }

    private SentenceChunks Chunk(IReadOnlyList<IReadOnlyList<string>> sentences) => SentenceChunks.Of(Tokenizer, sentences, MaxSequenceLength, OutsideTag);

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">A fixed layer past the last.</exception>
    public override void EnsureSupported(TokenExitCriterion criterion)
    {
        ArgumentNullException.ThrowIfNull(criterion);
        criterion.EnsureServes(NumLayers);
    }

    /// <summary>Writes the labeller into <paramref name="folder"/> (see the file header for the format).</summary>
    public override void Save(string folder)
    {
        SavedAuxiliaryTask[]? auxiliary = AuxiliaryTasks.Count == 0 ? null
            : AuxiliaryTasks.Select((t, i) => new SavedAuxiliaryTask(t.Name, AuxiliaryTags[i].ToArray(), t.Layer, t.Weight)).ToArray();
        TokenOffRampInput? offRampInput = Model.ReadsLayerHistory ? Model.OffRampInput : null;
        int? wordPoolingLayer = Model.PoolsWords ? Model.WordPoolingLayer : null;
        int minReadable = wordPoolingLayer is not null ? 4 : offRampInput is not null ? 3 : auxiliary is not null ? 2 : 1;
        var settings = new SavedSettings(Format.Name, Format.Version, minReadable, Labels.ToArray(), MaxSequenceLength, ExitCriterion.Name, Model.DropoutProbability, Model.Encoder.HasPooler, auxiliary,
            offRampInput, wordPoolingLayer);
        WriteFolder(folder, Format, settings);
    }

    private protected override void PredictWarmUp(int rows, int batchSize) =>
        Predict(Enumerable.Repeat(WarmUpInput.Words, rows).ToArray(), TokenExitCriterion.Full(), batchSize);

    private protected override OnnxManifest ExportOnnxGraphs(Action<string, byte[]> save, bool fullDepth)
    {
        if (AuxiliaryTasks.Count > 0)
        {
            throw new NotSupportedException($"This labeller has auxiliary tag tasks ({string.Join(", ", AuxiliaryTasks.Select(t => t.Name))}), which the ONNX export does not carry yet. Score it on TorchSharp, or train it without auxiliary tasks to export it.");
        }

        if (Model.ReadsLayerHistory)
        {
            throw new NotSupportedException($"This labeller's off-ramps read {Model.OffRampInput}, which the ONNX export does not carry yet. Score it on TorchSharp, or train it with off-ramps that read their layer (the default) to export it.");
        }

        if (Model.PoolsWords)
        {
            throw new NotSupportedException($"This labeller runs on words from layer {Model.WordPoolingLayer}, which the ONNX export does not carry yet. Score it on TorchSharp, or train it without word pooling to export it.");
        }

        return OnnxFolder.ExportTokens(Model, Labels, MaxSequenceLength, ExitCriterion.Name, PadTokenId, fullDepth, save);
    }

    /// <summary>Reads a labeller written by <see cref="Save"/>.</summary>
    /// <param name="folder">The folder.</param>
    /// <param name="device">Where to run it; null for <see cref="DeviceOption.Auto"/>.</param>
    /// <exception cref="FileNotFoundException">A file of the format is missing.</exception>
    /// <exception cref="InvalidDataException">The settings are unreadable, of another format or of a newer version.</exception>
    /// <exception cref="CheckpointMismatchException">The weights do not fit the settings.</exception>
    public static EarlyExitTokenClassifier Load(string folder, DeviceOption? device = null)
    {
        SavedSettings settings = ModelFolder.ReadSettings<SavedSettings>(folder, Format);
        ModelFolder.CheckNames(settings.Tags, "tag");
        TokenExitCriterion criterion = TokenExitCriterion.Parse(settings.ExitCriterion);
        SavedAuxiliaryTask[] auxiliary = settings.AuxiliaryTasks ?? [];
        foreach (SavedAuxiliaryTask task in auxiliary)
        {
            CheckTaskTags(task.Name, task.Tags);
        }

        AuxiliaryTagTask[] tasks = auxiliary.Select(t => new AuxiliaryTagTask(t.Name, t.Tags.Length, t.Layer, t.Weight)).ToArray();
        TokenOffRampInput offRampInput = settings.OffRampInput ?? TokenOffRampInput.Layer;
        int wordPoolingLayer = settings.WordPoolingLayer ?? 0;
        return ReadFolder(folder, device, settings.EncoderHasPooler,
            encoder => LoadedNetwork(encoder, settings.Tags.Length, settings.Dropout, tasks, offRampInput, wordPoolingLayer, Path.Combine(folder, Format.SettingsFile)),
            config => $"token classifier ({config.ModelType}, {config.NumHiddenLayers} layers, {settings.Tags.Length} tags{string.Concat(tasks.Select(t => $", '{t.Name}' after layer {t.Layer}"))}" +
                $"{(offRampInput == TokenOffRampInput.Layer ? "" : $", off-ramps reading {offRampInput}")}{(wordPoolingLayer == 0 ? "" : $", words pooled from layer {wordPoolingLayer}")})",
            (model, tokenizer, tokenizerFiles) => new EarlyExitTokenClassifier(model, tokenizer, tokenizerFiles, settings.Tags, settings.MaxSequenceLength, criterion, auxiliary.Select(a => a.Tags).ToArray()));
    }

    // An auxiliary task's tag names, as the labeller's own: at least two, distinct (none read from a file count as none).
    private static void CheckTaskTags(string name, string[]? tags) => ModelFolder.CheckNames(tags ?? [], $"'{name}' tag");

    // The network the settings describe; auxiliary tasks they describe wrongly are the file's fault, and the error names it.
    private static TokenExitNetwork LoadedNetwork(EncoderNetwork encoder, int tags, double dropout, AuxiliaryTagTask[] tasks, TokenOffRampInput offRampInput, int wordPoolingLayer, string settingsPath)
    {
        try
        {
            return new TokenExitNetwork(encoder, tags, dropout, auxiliaryTasks: tasks, offRampInput: offRampInput, wordPoolingLayer: wordPoolingLayer);
        }
        catch (ArgumentException e) when (e.ParamName is "auxiliaryTasks" or "offRampInput" or "wordPoolingLayer")
        {
            throw new InvalidDataException($"'{settingsPath}' describes a network this model cannot have: {e.Message}", e);
        }
    }

    private sealed record SavedSettings(string Format, int FormatVersion, int MinReadableVersion, string[] Tags, int MaxSequenceLength, string ExitCriterion, double Dropout, bool EncoderHasPooler,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] SavedAuxiliaryTask[]? AuxiliaryTasks = null,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), JsonConverter(typeof(JsonStringEnumConverter<TokenOffRampInput>))] TokenOffRampInput? OffRampInput = null,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? WordPoolingLayer = null)
        : IVersionedSettings;

    private sealed record SavedAuxiliaryTask(string Name, string[] Tags, int Layer, double Weight);
}

/// <summary>An auxiliary tag task with its tag names (for <see cref="EarlyExitTokenClassifier"/>): NumLabels is their count.</summary>
internal sealed record AuxiliaryTaskTags(string Name, string[] Tags, int Layer, double Weight)
{
    /// <summary>The network's view of the task.</summary>
    public AuxiliaryTagTask Task => new(Name, Tags.Length, Layer, Weight);
}
