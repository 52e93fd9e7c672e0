// What the two deployable units share (EarlyExitTextClassifier: one prediction per text or pair;
// EarlyExitTokenClassifier: one tag per word): the network, its tokenizer and the tokenizer's files,
// the label names, the input length, the exit criterion it scores with, and the parts of creating,
// saving and loading that do not depend on the task. Each derived class adds its task: encoding,
// Predict, Record, what a criterion needs of the network, and its settings file.
using EarlyExit.Checkpoints;
using EarlyExit.Devices;
using EarlyExit.Inference;
using EarlyExit.Modeling;
using EarlyExit.Tokenization;
using EarlyExit.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace EarlyExit;

/// <summary>
/// A trained early-exit model as one deployable unit: network, tokenizer, label names and the exit
/// criterion it scores with. The two kinds are <see cref="EarlyExitTextClassifier"/> and
/// <see cref="EarlyExitTokenClassifier"/>. Score from one thread at a time.
/// </summary>
/// <typeparam name="TCriterion">The kind of exit criterion: <see cref="ExitCriteria.ExitCriterion"/> or <see cref="ExitCriteria.TokenExitCriterion"/>.</typeparam>
public abstract class EarlyExitClassifier<TCriterion> : IDisposable
    where TCriterion : class
{
    private readonly IReadOnlyDictionary<string, byte[]> _tokenizerFiles;
    private readonly EncoderNetwork _encoder;

    /// <summary>Only the two deployable kinds derive from this class.</summary>
    private protected EarlyExitClassifier(nn.Module network, EncoderNetwork encoder, TextTokenizer tokenizer, IReadOnlyDictionary<string, byte[]> tokenizerFiles,
        IReadOnlyList<string> labels, int maxSequenceLength, TCriterion criterion)
    {
        Network = network;
        _encoder = encoder;
        Tokenizer = tokenizer;
        _tokenizerFiles = tokenizerFiles;
        Labels = labels;
        MaxSequenceLength = maxSequenceLength;
        ExitCriterion = criterion;
    }

    /// <summary>The tokenizer.</summary>
    public TextTokenizer Tokenizer { get; }

    /// <summary>The label names, index = 0-based label: the classes of a classifier, the tags of a token classifier, the predicted value's name of a regressor.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>The longest input scored at once, in tokens, special tokens included.</summary>
    public int MaxSequenceLength { get; }

    /// <summary>The exit criterion Predict uses unless told otherwise; change it without retraining.</summary>
    /// <exception cref="InvalidOperationException">On set: the criterion needs something this model lacks (see <see cref="EnsureSupported"/>).</exception>
    public TCriterion ExitCriterion
    {
        get;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            EnsureSupported(value);
            field = value;
        }
    }

    /// <summary>L, the number of layers (and exits).</summary>
    public int NumLayers => _encoder.NumLayers;

    /// <summary>The id the tokenizer pads with.</summary>
    public int PadTokenId => Tokenizer.SpecialTokens.Pad >= 0 ? Tokenizer.SpecialTokens.Pad : _encoder.Config.PadTokenId;

    /// <summary>The device the network runs on.</summary>
    public Device Device => Network.parameters().First().device;

    /// <summary>The network, whatever its task (the derived class's <c>Model</c> gives it typed).</summary>
    private protected nn.Module Network { get; }

    /// <summary>
    /// Exports the model as ONNX graphs into <paramref name="folder"/>: the embeddings, each layer (one graph for
    /// ALBERT's shared layer) and the exits, which EarlyExit.OnnxRuntime (<c>OnnxTextClassifier</c>,
    /// <c>OnnxTokenClassifier</c>) scores with early exit and without TorchSharp; and <c>model.onnx</c>, the whole
    /// model at full depth in one graph (inputs <c>input_ids</c>, <c>attention_mask</c>, <c>token_type_ids</c>;
    /// output <c>scores</c>, the last layer's class or tag probabilities), which plain ONNX Runtime runs as it is.
    /// The folder also gets the tokenizer files and a manifest (<c>onnx.json</c>) with the labels, the input
    /// length and the exit criterion.
    /// </summary>
    /// <param name="folder">Created if missing. An earlier export there is replaced (its manifest goes first, so a failed export leaves no loadable mix); other files stay.</param>
    public void ExportOnnx(string folder) =>
        OnnxFolder.Write(folder, _encoder.Config, _tokenizerFiles, save => ExportOnnxGraphs(save, fullDepth: true));

    /// <summary>
    /// The per-layer graphs of the export, without files and without the full-depth graph: each file's ONNX model
    /// goes to <paramref name="save"/>, and the manifest that names them comes back. The ONNX Runtime backend of a
    /// model in this process opens them from memory.
    /// </summary>
    internal OnnxManifest ExportOnnxGraphs(Action<string, byte[]> save) => ExportOnnxGraphs(save, fullDepth: false);

    /// <summary>Builds the export's graphs (<see cref="OnnxFolder"/>), each handed to <paramref name="save"/>, and gives the manifest.</summary>
    private protected abstract OnnxManifest ExportOnnxGraphs(Action<string, byte[]> save, bool fullDepth);

    /// <summary>
    /// Scores made-up input at full depth, one row and then <paramref name="batchSize"/> rows, so that the
    /// first real calls do not pay the process's one-time costs (compiling the scoring code, the first
    /// kernels and buffers): call it once after loading, before serving single rows (e.g. a prediction engine).
    /// </summary>
    /// <param name="batchSize">The batch size the real calls will use.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is less than 1.</exception>
    public void WarmUp(int batchSize = FineTuningDefaults.BatchSize) => WarmUpInput.Run(batchSize, rows => PredictWarmUp(rows, batchSize));

    /// <summary>Predicts <paramref name="rows"/> copies of the warm-up input (Inference/WarmUpInput.cs) at full depth.</summary>
    private protected abstract void PredictWarmUp(int rows, int batchSize);

    /// <summary>Throws when <paramref name="criterion"/> needs something this model lacks (a halting head, a layer past the last).</summary>
    /// <exception cref="InvalidOperationException">The criterion cannot be served; the message says why and what to use.</exception>
    public abstract void EnsureSupported(TCriterion criterion);

    /// <summary>Moves the network to <paramref name="device"/> (in place).</summary>
    /// <exception cref="InvalidOperationException">CUDA was asked for and is not usable.</exception>
    public void MoveTo(DeviceOption device)
    {
        ArgumentNullException.ThrowIfNull(device);
        Network.to(device.Resolve());
    }

    /// <summary>Writes the model into <paramref name="folder"/> (the derived class's file header gives the format).</summary>
    public abstract void Save(string folder);

    /// <inheritdoc />
    public void Dispose()
    {
        Network.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The tokenizer's files, by name, as the backbone had them.</summary>
    private protected IReadOnlyDictionary<string, byte[]> TokenizerFiles => _tokenizerFiles;

    /// <summary>Writes the tokenizer files, config.json, model.safetensors and <paramref name="settings"/> as the format's settings file.</summary>
    private protected void WriteFolder<TSettings>(string folder, SavedFolderFormat format, TSettings settings) =>
        ModelFolder.Write(folder, TokenizerFiles, _encoder.Config, Network, format.SettingsFile, settings);

    /// <summary>Checks an untrained model's input length against what the backbone takes.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSequenceLength"/> is below <paramref name="minimumLength"/> or above the backbone's limit.</exception>
    private protected static void CheckMaxSequenceLength(PretrainedEncoder backbone, int maxSequenceLength, int minimumLength)
    {
        if (maxSequenceLength < minimumLength || maxSequenceLength > backbone.MaxSequenceLength)
        {
            throw new ArgumentOutOfRangeException(nameof(maxSequenceLength), maxSequenceLength,
                $"The maximum sequence length must be between {minimumLength} and {backbone.MaxSequenceLength} (the backbone's limit).");
        }
    }

    /// <summary>
    /// Builds an untrained network around <paramref name="backbone"/>'s encoder (handed over) on the
    /// backbone's device and wraps it; the network is disposed if wrapping fails.
    /// </summary>
    private protected static TClassifier CreateOn<TNetwork, TClassifier>(PretrainedEncoder backbone,
        Func<EncoderNetwork, TNetwork> build, Func<TNetwork, IReadOnlyDictionary<string, byte[]>, TClassifier> wrap)
        where TNetwork : nn.Module
    {
        IReadOnlyDictionary<string, byte[]> tokenizerFiles = backbone.ReadTokenizerFiles();
        Device device = backbone.Device;
        TNetwork network = ModelFolder.BuildAround(backbone.HandOverEncoder(), build);
        try
        {
            network.to(device);
            return wrap(network, tokenizerFiles);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads the encoder config, tokenizer and weights of a saved folder into the network <paramref name="build"/>
    /// makes, on <paramref name="device"/> in eval mode, and wraps it; the network is disposed if anything fails.
    /// </summary>
    private protected static TClassifier ReadFolder<TNetwork, TClassifier>(string folder, DeviceOption? device, bool encoderHasPooler,
        Func<EncoderNetwork, TNetwork> build, Func<EncoderConfig, string> describe, Func<TNetwork, TextTokenizer, IReadOnlyDictionary<string, byte[]>, TClassifier> wrap)
        where TNetwork : nn.Module
    {
        var (config, tokenizer, tokenizerFiles) = ModelFolder.ReadEncoderAndTokenizer(folder);
        TNetwork network = ModelFolder.BuildAroundEncoder(config, encoderHasPooler, build);
        try
        {
            ModelFolder.ReadWeights(folder, network, describe(config));
            network.to((device ?? DeviceOption.Auto).Resolve());
            network.eval();
            return wrap(network, tokenizer, tokenizerFiles);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }
}
