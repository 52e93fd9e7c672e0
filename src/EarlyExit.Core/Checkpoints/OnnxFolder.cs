// The ONNX export of an early-exit classifier (text or token): a folder that ONNX Runtime scores from,
// with no TorchSharp (the EarlyExit.OnnxRuntime package reads it), plus one full-depth graph in standard
// ONNX that plain ONNX Runtime runs unchanged (and ML.NET's ApplyOnnxModel, given fixed shapes).
//
// *** Format (version 1; Format "earlyexit-onnx-text-classifier" or "earlyexit-onnx-token-classifier") ***
//   onnx.json          this manifest: Format, FormatVersion, MinReadableVersion, Labels (classes or tags),
//                      MaxSequenceLength, ExitCriterion, PadTokenId, HiddenSize, NumLayers, IsRegression,
//                      HasHaltingHead and the graph files below
//   config.json        the encoder's Hugging Face config (the tokenizer's model type)
//   tokenizer files    as in the saved classifier folder
//   embeddings.onnx    input_ids, token_type_ids [batch, tokens] int64 -> hidden_state [batch, tokens, H]
//   layer-K.onnx       hidden [batch, tokens, H], attention_mask [batch, tokens] int64 -> hidden_state; one file
//                      per parameter set (ALBERT's shared layer is one file that every step runs).
//                      Token classifiers: also query_index [batch, queries] int64, the positions to compute
//                      (padded by repeating a row's last), pack_index [active] int64 (b * queries + q of each real
//                      one) and token_index [active] int64 (its b * tokens + t); the feed-forward runs on the packed
//                      [active, H] -> hidden_state (every other position's state copied unchanged: halt-and-copy)
//                      and active_state [active, H]
//   Text classifiers:
//   exit.onnx          hidden, attention_mask and (models with a halting head) previous_pooled [batch, H]
//   (exit-K.onnx)      -> pooled [batch, H], scores [batch, C] (class probabilities; a regression model's
//                      value) and halting [batch] (the halting probability); exit.onnx for shared heads,
//                      exit-K.onnx per layer for per-layer heads
//   Token classifiers:
//   token-exit-K.onnx  hidden [active, H] -> scores [active, C], off-ramp K's tag probabilities
//   model.onnx         input_ids, attention_mask, token_type_ids -> scores of the last layer ([batch, C], or
//                      [batch, tokens, C] for tokens): the whole model at full depth, as one graph (FullDepth;
//                      null when not written)
// Layers[i] and Exits[i] name the files step i runs. Opset 17, float32.
//
// Writing into a folder that holds an earlier export first removes that export's manifest and the graphs
// it names, and writes the new manifest last: an export that fails partway leaves no manifest, so the
// folder cannot load as a mix of two models.
using System.Text.Json;
using EarlyExit.Modeling;
using EarlyExit.Onnx;

namespace EarlyExit.Checkpoints;

/// <summary>The names of the exported graphs' inputs and outputs.</summary>
internal static class OnnxNames
{
    public const string InputIds = "input_ids";
    public const string TokenTypeIds = "token_type_ids";
    public const string AttentionMask = "attention_mask";
    public const string Hidden = "hidden";
    public const string PreviousPooled = "previous_pooled";
    public const string HiddenState = "hidden_state";
    public const string Pooled = "pooled";
    public const string Scores = "scores";
    public const string Halting = "halting";
    public const string QueryIndex = "query_index";
    public const string PackIndex = "pack_index";
    public const string TokenIndex = "token_index";
    public const string ActiveState = "active_state";
}

/// <summary>onnx.json: what a scorer needs besides the graphs and the tokenizer.</summary>
internal sealed class OnnxManifest : TextClassifierSettings
{
    public required int PadTokenId { get; init; }

    public required int HiddenSize { get; init; }

    public required int NumLayers { get; init; }

    public required bool IsRegression { get; init; }

    public required bool HasHaltingHead { get; init; }

    public required string Embeddings { get; init; }

    public required string[] Layers { get; init; }

    public required string[] Exits { get; init; }

    public required string? FullDepth { get; init; }
}

/// <summary>Writes and reads the ONNX export folder.</summary>
internal static class OnnxFolder
{
    public static readonly SavedFolderFormat Format = new("earlyexit-onnx-text-classifier", Version: 1, SettingsFile: "onnx.json", What: "ONNX export of an early-exit text classifier");

    public static readonly SavedFolderFormat TokenFormat = new("earlyexit-onnx-token-classifier", Version: 1, SettingsFile: Format.SettingsFile, What: "ONNX export of an early-exit token classifier");

    private const string Batch = "batch";
    private const string Tokens = "tokens";
    private const string Queries = "queries";
    private const string Active = "active";
    private const string EmbeddingsFile = "embeddings.onnx";
    private const string FullDepthFile = "model.onnx";

    /// <summary>
    /// Writes an export into <paramref name="folder"/>: the tokenizer files and config.json, each graph that
    /// <paramref name="export"/> hands to its callback, then the manifest it returns.
    /// </summary>
    public static void Write(string folder, EncoderConfig config, IReadOnlyDictionary<string, byte[]> tokenizerFiles, Func<Action<string, byte[]>, OnnxManifest> export)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        RemoveEarlierExport(folder);
        ModelFolder.WriteTokenizerAndConfig(folder, tokenizerFiles, config);
        OnnxManifest manifest = export((file, model) => File.WriteAllBytes(Path.Combine(folder, file), model));
        File.WriteAllText(Path.Combine(folder, Format.SettingsFile), JsonSerializer.Serialize(manifest, ModelFolder.Json));
    }

    /// <summary>
    /// Builds the graphs of a text classifier's <paramref name="network"/> and hands each file's ONNX model to
    /// <paramref name="save"/> (each file once); gives the manifest that names them. <paramref name="fullDepth"/>
    /// says whether model.onnx is built too.
    /// </summary>
    public static OnnxManifest Export(EarlyExitNetwork network, IReadOnlyList<string> labels, int maxSequenceLength, string exitCriterion, int padTokenId,
        bool fullDepth, Action<string, byte[]> save)
    {
        EncoderNetwork encoder = network.Encoder;
        string hidden = Dim(encoder.HiddenSize);
        string classes = Dim(network.NumLabels);
        SaveEmbeddings(encoder, save);
        var written = new HashSet<string>(StringComparer.Ordinal);
        var exits = new string[network.NumLayers];
        string[] layers = SaveLayers(encoder, written, save, (graph, layer) =>
        {
            string state = graph.Input(OnnxNames.Hidden, OnnxType.Float, Batch, Tokens, hidden);
            string mask = EncoderNetwork.OnnxMask(graph, graph.Input(OnnxNames.AttentionMask, OnnxType.Int64, Batch, Tokens));
            graph.Output(encoder.OnnxLayer(graph, layer, state, mask), OnnxNames.HiddenState, OnnxType.Float, Batch, Tokens, hidden);
        });
        for (int layer = 0; layer < network.NumLayers; layer++)
        {
            exits[layer] = network.Config.Heads == ClassifierHeads.Shared ? "exit.onnx" : $"exit-{layer}.onnx";
            if (written.Add(exits[layer]))
            {
                var graph = new OnnxGraph($"exit-{layer}");
                string state = graph.Input(OnnxNames.Hidden, OnnxType.Float, Batch, Tokens, hidden);
                string mask = graph.Input(OnnxNames.AttentionMask, OnnxType.Int64, Batch, Tokens);
                string? previous = network.HasHaltingHead ? graph.Input(OnnxNames.PreviousPooled, OnnxType.Float, Batch, hidden) : null;
                OnnxExitValues values = network.OnnxExit(graph, layer, state, mask, previous, withHalting: true);
                graph.Output(values.Pooled, OnnxNames.Pooled, OnnxType.Float, Batch, hidden);
                graph.Output(values.Scores, OnnxNames.Scores, OnnxType.Float, Batch, classes);
                if (values.Halting is not null)
                {
                    graph.Output(values.Halting, OnnxNames.Halting, OnnxType.Float, Batch);
                }

                save(exits[layer], graph.ToModel());
            }
        }

        if (fullDepth)
        {
            save(FullDepthFile, FullDepth(encoder, (graph, state, attention) =>
            {
                OnnxExitValues last = network.OnnxExit(graph, network.NumLayers - 1, state, attention, previousPooled: null, withHalting: false);
                graph.Output(last.Scores, OnnxNames.Scores, OnnxType.Float, Batch, classes);
            }));
        }

        return Manifest(Format, encoder, labels, maxSequenceLength, exitCriterion, padTokenId, network.IsRegression, network.HasHaltingHead, layers, exits, fullDepth);
    }

    /// <summary>
    /// Builds the graphs of a token classifier's <paramref name="network"/> for token-level exit with halt-and-copy
    /// and hands each file's ONNX model to <paramref name="save"/>; gives the manifest that names them. Each
    /// layer graph computes only the positions of its query index and copies every other token's state upward.
    /// </summary>
    public static OnnxManifest ExportTokens(TokenExitNetwork network, IReadOnlyList<string> tags, int maxSequenceLength, string exitCriterion, int padTokenId,
        bool fullDepth, Action<string, byte[]> save)
    {
        EncoderNetwork encoder = network.Encoder;
        string hidden = Dim(encoder.HiddenSize);
        string classes = Dim(network.NumLabels);
        SaveEmbeddings(encoder, save);
        var written = new HashSet<string>(StringComparer.Ordinal);
        string[] layers = SaveLayers(encoder, written, save, (graph, layer) =>
        {
            string state = graph.Input(OnnxNames.Hidden, OnnxType.Float, Batch, Tokens, hidden);
            string mask = EncoderNetwork.OnnxMask(graph, graph.Input(OnnxNames.AttentionMask, OnnxType.Int64, Batch, Tokens));
            string queries = graph.Input(OnnxNames.QueryIndex, OnnxType.Int64, Batch, Queries);
            string pack = graph.Input(OnnxNames.PackIndex, OnnxType.Int64, Active);
            string tokens = graph.Input(OnnxNames.TokenIndex, OnnxType.Int64, Active);
            string active = encoder.OnnxLayer(graph, layer, state, mask, queries, pack);
            graph.Output(OnnxOps.ScatterRows(graph, state, tokens, active), OnnxNames.HiddenState, OnnxType.Float, Batch, Tokens, hidden);
            graph.Output(active, OnnxNames.ActiveState, OnnxType.Float, Active, hidden);
        });
        var exits = new string[network.NumLayers];
        for (int layer = 0; layer < network.NumLayers; layer++)
        {
            exits[layer] = $"token-exit-{layer}.onnx";
            var graph = new OnnxGraph($"token-exit-{layer}");
            string state = graph.Input(OnnxNames.Hidden, OnnxType.Float, Active, hidden);
            graph.Output(network.OnnxTokenProbabilities(graph, layer, state), OnnxNames.Scores, OnnxType.Float, Active, classes);
            save(exits[layer], graph.ToModel());
        }

        if (fullDepth)
        {
            save(FullDepthFile, FullDepth(encoder, (graph, state, _) =>
                graph.Output(network.OnnxTokenProbabilities(graph, network.NumLayers - 1, state), OnnxNames.Scores, OnnxType.Float, Batch, Tokens, classes)));
        }

        return Manifest(TokenFormat, encoder, tags, maxSequenceLength, exitCriterion, padTokenId, isRegression: false, hasHaltingHead: false, layers, exits, fullDepth);
    }

    /// <summary>Reads the manifest of an export of <paramref name="format"/> and checks that every graph file it names is there.</summary>
    public static OnnxManifest ReadManifest(string folder, SavedFolderFormat format)
    {
        OnnxManifest manifest = ModelFolder.ReadSettings<OnnxManifest>(folder, format);
        string path = Path.Combine(folder, format.SettingsFile);
        if (manifest.Labels is not { Length: > 0 } || manifest.Layers is null || manifest.Exits is null || manifest.Embeddings is null
            || manifest.NumLayers < 1 || manifest.HiddenSize < 1 || manifest.MaxSequenceLength < 1)
        {
            throw new InvalidDataException($"'{path}' lacks labels, layers, graph files or sizes; export the model again.");
        }

        if (manifest.Layers.Length != manifest.NumLayers || manifest.Exits.Length != manifest.NumLayers)
        {
            throw new InvalidDataException(
                $"'{path}' names {manifest.Layers.Length} layer graphs and {manifest.Exits.Length} exit graphs for {manifest.NumLayers} layers; export the model again.");
        }

        foreach (string file in manifest.Layers.Concat(manifest.Exits).Append(manifest.Embeddings).Distinct(StringComparer.Ordinal))
        {
            if (!File.Exists(Path.Combine(folder, file)))
            {
                throw new FileNotFoundException($"'{folder}' lacks {file}, which its {format.SettingsFile} names; copy the whole exported folder or export the model again.", Path.Combine(folder, file));
            }
        }

        return manifest;
    }

    // An earlier export's manifest and the graph files it names (files of other kinds stay).
    private static void RemoveEarlierExport(string folder)
    {
        string manifestPath = Path.Combine(folder, Format.SettingsFile);
        if (!File.Exists(manifestPath))
        {
            return;
        }

        OnnxManifest? earlier = null;
        try
        {
            earlier = JsonSerializer.Deserialize<OnnxManifest>(File.ReadAllText(manifestPath), ModelFolder.Json);
        }
        catch (JsonException)
        {
            // An unreadable manifest names no files to remove; it is replaced below.
        }

        File.Delete(manifestPath);
        IEnumerable<string> graphs = (earlier?.Layers ?? []).Concat(earlier?.Exits ?? []).Append(earlier?.Embeddings).Append(earlier?.FullDepth).OfType<string>();
        foreach (string file in graphs.Where(f => f.EndsWith(".onnx", StringComparison.Ordinal) && Path.GetFileName(f) == f))
        {
            File.Delete(Path.Combine(folder, file));
        }
    }

    private static string Dim(int size) => size.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static void SaveEmbeddings(EncoderNetwork encoder, Action<string, byte[]> save)
    {
        var graph = new OnnxGraph("embeddings");
        string ids = graph.Input(OnnxNames.InputIds, OnnxType.Int64, Batch, Tokens);
        string types = graph.Input(OnnxNames.TokenTypeIds, OnnxType.Int64, Batch, Tokens);
        graph.Output(encoder.OnnxEmbed(graph, ids, types), OnnxNames.HiddenState, OnnxType.Float, Batch, Tokens, Dim(encoder.HiddenSize));
        save(EmbeddingsFile, graph.ToModel());
    }

    // One graph per layer parameter set (built by `build` into an empty graph); the file each step runs.
    private static string[] SaveLayers(EncoderNetwork encoder, HashSet<string> written, Action<string, byte[]> save, Action<OnnxGraph, int> build)
    {
        var layers = new string[encoder.NumLayers];
        for (int layer = 0; layer < encoder.NumLayers; layer++)
        {
            layers[layer] = $"layer-{encoder.OnnxLayerKey(layer)}.onnx";
            if (written.Add(layers[layer]))
            {
                var graph = new OnnxGraph($"layer-{layer}");
                build(graph, layer);
                save(layers[layer], graph.ToModel());
            }
        }

        return layers;
    }

    private static OnnxManifest Manifest(SavedFolderFormat format, EncoderNetwork encoder, IReadOnlyList<string> labels, int maxSequenceLength, string exitCriterion, int padTokenId,
        bool isRegression, bool hasHaltingHead, string[] layers, string[] exits, bool fullDepth) => new()
    {
        Format = format.Name,
        FormatVersion = format.Version,
        MinReadableVersion = 1,
        Labels = labels.ToArray(),
        MaxSequenceLength = maxSequenceLength,
        ExitCriterion = exitCriterion,
        PadTokenId = padTokenId,
        HiddenSize = encoder.HiddenSize,
        NumLayers = encoder.NumLayers,
        IsRegression = isRegression,
        HasHaltingHead = hasHaltingHead,
        Embeddings = EmbeddingsFile,
        Layers = layers,
        Exits = exits,
        FullDepth = fullDepth ? FullDepthFile : null,
    };

    // Embeddings and every layer in one graph; `head` adds the last layer's outputs (hidden states, 0/1 attention mask).
    private static byte[] FullDepth(EncoderNetwork encoder, Action<OnnxGraph, string, string> head)
    {
        var graph = new OnnxGraph("early-exit-classifier-full-depth");
        string ids = graph.Input(OnnxNames.InputIds, OnnxType.Int64, Batch, Tokens);
        string attention = graph.Input(OnnxNames.AttentionMask, OnnxType.Int64, Batch, Tokens);
        string types = graph.Input(OnnxNames.TokenTypeIds, OnnxType.Int64, Batch, Tokens);
        string state = encoder.OnnxEmbed(graph, ids, types);
        string mask = EncoderNetwork.OnnxMask(graph, attention);
        for (int layer = 0; layer < encoder.NumLayers; layer++)
        {
            state = encoder.OnnxLayer(graph, layer, state, mask);
        }

        head(graph, state, attention);
        return graph.ToModel();
    }
}
