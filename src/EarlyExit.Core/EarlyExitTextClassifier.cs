// A trained early-exit text classifier as one deployable unit: network, tokenizer, class names,
// maximum input length and the exit criterion it scores with. The ML.NET transformer and the
// command-line tool both wrap it; it knows nothing of ML.NET.
//
// *** Saved format (a folder; the ML.NET model zip stores the same files) ***
//   classifier.json     FormatVersion, MinReadableVersion, Labels, MaxSequenceLength, ExitCriterion,
//                       Heads (EarlyExitNetworkConfig, with Pooling from version 2), EncoderHasPooler
//   config.json         the encoder's Hugging Face config
//   model.safetensors   every weight of the EarlyExitNetwork under its state_dict name
//                       ("encoder.embeddings.word_embeddings.weight", "classifier.weight", "halting.output.weight", ...)
//   tokenizer files     spiece.model | vocab.txt | vocab.json + merges.txt, and tokenizer_config.json /
//                       special_tokens_map.json when the backbone had them
// FormatVersion 1 is the first. Version 2 adds Heads.Pooling, Heads.HaltingReadsConfidence and regression
// models (Heads.NumLabels 1, one label naming the value); their files say MinReadableVersion 2, because a
// version-1 reader would ignore the pooling and pool [CLS] instead, build a narrower halting head, or
// misread the one output.
// Cls-pooling files stay readable by version 1, and version-1 files (no Pooling) read as Cls.
// Version 3 adds Heads.Halting LayerAttention (issue 14); those files say MinReadableVersion 3, since older
// readers do not know the value.
// A reader accepts files whose MinReadableVersion is at most its own FormatVersion; raise
// MinReadableVersion only when old readers would misread new files.
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

/// <summary>
/// A trained early-exit text classifier (single texts or text pairs): the network, its tokenizer,
/// class names and the exit criterion it scores with. A model with one output is a regressor
/// (<see cref="IsRegression"/>): its single label names the value it predicts, and each prediction's
/// <see cref="ClassificationPrediction.Value"/> is that value. Thread-compatible: score from one thread at a time.
/// </summary>
public sealed class EarlyExitTextClassifier : EarlyExitClassifier<ExitCriterion>
{
    /// <summary>The saved format: its name, the version this code writes, its settings file.</summary>
    internal static readonly SavedFolderFormat Format = new("earlyexit-text-classifier", Version: 3, SettingsFile: "classifier.json", What: "early-exit text classifier");

    private EarlyExitTextClassifier(EarlyExitNetwork model, TextTokenizer tokenizer, IReadOnlyDictionary<string, byte[]> tokenizerFiles, IReadOnlyList<string> labels, int maxSequenceLength, ExitCriterion criterion)
        : base(model, model.Encoder, tokenizer, tokenizerFiles, labels, maxSequenceLength, criterion)
    {
    }

    /// <summary>The network.</summary>
    public EarlyExitNetwork Model => (EarlyExitNetwork)Network;

    /// <summary>Whether the model predicts a real value (one output) rather than a class; its one label names the value.</summary>
    public bool IsRegression => Model.IsRegression;

    /// <summary>
    /// Builds an untrained classifier on <paramref name="backbone"/> (which hands its encoder over:
    /// dispose the classifier, the backbone no longer owns it).
    /// </summary>
    /// <param name="backbone">The encoder and tokenizer to build on.</param>
    /// <param name="labels">Class names (at least 2, distinct); for a regression model (heads with NumLabels = 1), the name of the predicted value.</param>
    /// <param name="heads">The heads' architecture; NumLabels must equal the number of labels. Pooling Auto becomes what the backbone declares (<see cref="PretrainedEncoder.ResolvePooling"/>).</param>
    /// <param name="maxSequenceLength">Input truncation length; at most the backbone's limit.</param>
    /// <param name="criterion">The default exit criterion.</param>
    /// <param name="seed">Seed of the heads' initial weights.</param>
    internal static EarlyExitTextClassifier Create(PretrainedEncoder backbone, IReadOnlyList<string> labels, EarlyExitNetworkConfig heads, int maxSequenceLength, ExitCriterion criterion, long seed)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(heads);
        ArgumentNullException.ThrowIfNull(criterion);
        ModelFolder.CheckNames(labels, "label", minimum: heads.IsRegression ? 1 : 2);
        if (heads.NumLabels != labels.Count)
        {
            throw new ArgumentException($"The heads have {heads.NumLabels} classes but {labels.Count} labels were given.", nameof(heads));
        }

        CheckMaxSequenceLength(backbone, maxSequenceLength, backbone.Tokenizer.SpecialTokenCount(pair: true) + 2);
        if (criterion.Incompatibility(heads.NumLabels, heads.Halting != HaltingVariant.None) is string problem)
        {
            throw new ArgumentException(problem, nameof(criterion));
        }

        heads = heads with { Pooling = backbone.ResolvePooling(heads.Pooling) };
        return CreateOn(backbone, encoder => new EarlyExitNetwork(encoder, heads, seed),
            (model, tokenizerFiles) => new EarlyExitTextClassifier(model, backbone.Tokenizer, tokenizerFiles, labels.ToArray(), maxSequenceLength, criterion));
    }

    /// <summary>Encodes one row the way the classifier was trained: truncated to <see cref="MaxSequenceLength"/>.</summary>
    /// <param name="text">The text (null is treated as empty).</param>
    /// <param name="textPair">The second text of a pair, or null.</param>
    public TokenizedInput Encode(string? text, string? textPair = null) =>
        Tokenizer.Encode(text ?? string.Empty, textPair, MaxSequenceLength);

    /// <summary>Early-exit predictions for <paramref name="texts"/> (and pairs), in input order.</summary>
    /// <param name="texts">The first texts.</param>
    /// <param name="textPairs">The second texts, or null for single texts.</param>
    /// <param name="criterion">The exit criterion; null for <see cref="ExitCriterion"/>.</param>
    /// <param name="batchSize">Rows scored together.</param>
    public ClassificationPrediction[] Predict(IReadOnlyList<string?> texts, IReadOnlyList<string?>? textPairs = null, ExitCriterion? criterion = null, int batchSize = PalbertDefaults.BatchSize)
    {
        criterion ??= ExitCriterion;
        EnsureSupported(criterion);
        return EarlyExitScoring.Predict(Model, EncodeAll(texts, textPairs), criterion, PadTokenId, batchSize);
    }

    /// <summary>
    /// Runs <paramref name="texts"/> (and pairs) through every layer once and records what each layer's
    /// exit head and halting head say, so exit criteria can be compared without running the network
    /// again (<see cref="ClassificationRecord.Replay"/>).
    /// </summary>
    /// <param name="texts">The first texts.</param>
    /// <param name="textPairs">The second texts, or null for single texts.</param>
    /// <param name="batchSize">Rows run together.</param>
    public ClassificationRecord Record(IReadOnlyList<string?> texts, IReadOnlyList<string?>? textPairs = null, int batchSize = PalbertDefaults.BatchSize)
    {
        return ClassificationRecord.Record(Model, EncodeAll(texts, textPairs), PadTokenId, batchSize);
    }

    private TokenizedInput[] EncodeAll(IReadOnlyList<string?> texts, IReadOnlyList<string?>? textPairs) =>
        Tokenizer.EncodeAll(texts, textPairs, MaxSequenceLength);

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">Q-exit, sampled or expectation on a model without a halting head, or a fixed layer past the last.</exception>
    public override void EnsureSupported(ExitCriterion criterion)
    {
        ArgumentNullException.ThrowIfNull(criterion);
        criterion.CreateDecider(0, NumLayers, Labels.Count, Model.HasHaltingHead);
    }

    /// <summary>Writes the classifier into <paramref name="folder"/> (see the file header for the format).</summary>
    public override void Save(string folder)
    {
        var settings = new SavedSettings
        {
            Format = Format.Name,
            FormatVersion = Format.Version,
            MinReadableVersion = Model.ReadsPooledHistory ? 3 : Model.Config.Pooling == HeadPooling.Cls && !IsRegression && !Model.Config.HaltingReadsConfidence ? 1 : 2,
            Labels = Labels.ToArray(),
            MaxSequenceLength = MaxSequenceLength,
            ExitCriterion = ExitCriterion.Name,
            Heads = Model.Config,
            EncoderHasPooler = Model.Encoder.HasPooler,
        };
        WriteFolder(folder, Format, settings);
    }

    private protected override void PredictWarmUp(int rows, int batchSize) =>
        Predict(Enumerable.Repeat<string?>(WarmUpInput.Text, rows).ToArray(), textPairs: null, ExitCriterion.Full(), batchSize);

    private protected override OnnxManifest ExportOnnxGraphs(Action<string, byte[]> save, bool fullDepth) =>
        Model.ReadsPooledHistory
            ? throw new NotSupportedException($"This classifier's halting head reads {HaltingVariant.LayerAttention}, which the ONNX export does not carry yet. Score it on TorchSharp, or train it with another halting head (Concat, the default) to export it.")
            : OnnxFolder.Export(Model, Labels, MaxSequenceLength, ExitCriterion.Name, PadTokenId, fullDepth, save);

    /// <summary>Reads a classifier written by <see cref="Save"/>.</summary>
    /// <param name="folder">The folder.</param>
    /// <param name="device">Where to run it; null for <see cref="DeviceOption.Auto"/>.</param>
    /// <exception cref="FileNotFoundException">A file of the format is missing.</exception>
    /// <exception cref="InvalidDataException">The settings are unreadable, of another format or of a newer version.</exception>
    /// <exception cref="CheckpointMismatchException">The weights do not fit the settings.</exception>
    public static EarlyExitTextClassifier Load(string folder, DeviceOption? device = null)
    {
        SavedSettings settings = ModelFolder.ReadSettings<SavedSettings>(folder, Format);
        ModelFolder.CheckNames(settings.Labels, "label", minimum: settings.Heads.IsRegression ? 1 : 2);
        ExitCriterion criterion = ExitCriterion.Parse(settings.ExitCriterion);
        return ReadFolder(folder, device, settings.EncoderHasPooler, encoder => new EarlyExitNetwork(encoder, settings.Heads),
            config => $"early-exit classifier ({config.ModelType}, {config.NumHiddenLayers} layers, {settings.Labels.Length} classes)",
            (model, tokenizer, tokenizerFiles) => new EarlyExitTextClassifier(model, tokenizer, tokenizerFiles, settings.Labels, settings.MaxSequenceLength, criterion));
    }

    private sealed class SavedSettings : TextClassifierSettings
    {
        public required EarlyExitNetworkConfig Heads { get; init; }

        public required bool EncoderHasPooler { get; init; }
    }
}
