// The architecture of an encoder, read from and written to a Hugging Face config.json.
//
// One record serves the four families. Property names are .NET names; the JSON names (shown in each
// <c>[JsonPropertyName]</c>) are Hugging Face's, so a config.json from the hub parses and the file
// that Save writes loads in transformers (AutoConfig / AutoModel). Keys a family does not know
// (generation settings, label maps, transformers 2.x leftovers such as eos_token_ids) are ignored.
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EarlyExit.Modeling;

/// <summary>The encoder families this library implements, named as Hugging Face's <c>model_type</c>.</summary>
public enum EncoderFamily
{
    /// <summary><c>albert</c>: factorised embeddings and cross-layer parameter sharing.</summary>
    Albert,
    /// <summary><c>bert</c>.</summary>
    Bert,
    /// <summary><c>electra</c>: BERT layers with an embedding projection when embedding_size differs from hidden_size.</summary>
    Electra,
    /// <summary><c>roberta</c>: BERT layers with position ids that start after the padding id.</summary>
    Roberta,
}

/// <summary>
/// An encoder's architecture as Hugging Face's <c>config.json</c> states it. Immutable; change a
/// field with a <c>with</c> expression and the encoders validate it again. Start from
/// <see cref="ForFamily(EncoderFamily)"/> (transformers' defaults for that family) or from
/// <see cref="FromFile(string)"/>.
/// </summary>
public sealed record EncoderConfig
{
    /// <summary>The <c>model_type</c> names this library accepts.</summary>
    public static readonly IReadOnlyList<string> SupportedModelTypes = ["albert", "bert", "electra", "roberta"];

    /// <summary>The <c>hidden_act</c> names this library accepts.</summary>
    public static readonly IReadOnlyList<string> SupportedActivations = ["gelu", "gelu_new", "relu"];

    /// <summary>The only <c>position_embedding_type</c> this library implements.</summary>
    public const string AbsolutePositions = "absolute";

    /// <summary>Which family, as <c>model_type</c>: albert, bert, electra or roberta.</summary>
    [JsonPropertyName("model_type")]
    public required string ModelType { get; init; }

    /// <summary>Number of token ids.</summary>
    [JsonPropertyName("vocab_size")]
    public int VocabSize { get; init; }

    /// <summary>Width of every hidden state.</summary>
    [JsonPropertyName("hidden_size")]
    public int HiddenSize { get; init; }

    /// <summary>Number of layer steps (for ALBERT: of steps through the shared groups).</summary>
    [JsonPropertyName("num_hidden_layers")]
    public int NumHiddenLayers { get; init; }

    /// <summary>Attention heads per layer; must divide <see cref="HiddenSize"/>.</summary>
    [JsonPropertyName("num_attention_heads")]
    public int NumAttentionHeads { get; init; }

    /// <summary>Width of the feed-forward block.</summary>
    [JsonPropertyName("intermediate_size")]
    public int IntermediateSize { get; init; }

    /// <summary>Feed-forward activation: gelu (exact, erf), gelu_new (tanh approximation) or relu.</summary>
    [JsonPropertyName("hidden_act")]
    public string HiddenAct { get; init; } = "gelu";

    /// <summary>Dropout after embeddings and after each residual branch (training only).</summary>
    [JsonPropertyName("hidden_dropout_prob")]
    public double HiddenDropoutProb { get; init; }

    /// <summary>Dropout on the attention probabilities (training only).</summary>
    [JsonPropertyName("attention_probs_dropout_prob")]
    public double AttentionProbsDropoutProb { get; init; }

    /// <summary>Rows of the position embedding (for RoBERTa this includes padding_idx + 1 reserved rows).</summary>
    [JsonPropertyName("max_position_embeddings")]
    public int MaxPositionEmbeddings { get; init; }

    /// <summary>Rows of the token-type (segment) embedding.</summary>
    [JsonPropertyName("type_vocab_size")]
    public int TypeVocabSize { get; init; }

    /// <summary>Standard deviation of the normal initialisation of linear and embedding weights.</summary>
    [JsonPropertyName("initializer_range")]
    public double InitializerRange { get; init; }

    /// <summary>Epsilon of every LayerNorm.</summary>
    [JsonPropertyName("layer_norm_eps")]
    public double LayerNormEps { get; init; }

    /// <summary>The padding token id: its word-embedding row starts at zero; RoBERTa derives position ids from it.</summary>
    [JsonPropertyName("pad_token_id")]
    public int PadTokenId { get; init; }

    /// <summary>
    /// Width of the token embeddings for the factorised families (ALBERT, ELECTRA); null means
    /// <see cref="HiddenSize"/>. BERT and RoBERTa always embed at hidden_size and ignore the key.
    /// </summary>
    [JsonPropertyName("embedding_size")]
    public int? EmbeddingSize { get; init; }

    /// <summary>ALBERT only: number of distinct parameter groups the layer steps share (divides num_hidden_layers).</summary>
    [JsonPropertyName("num_hidden_groups")]
    public int NumHiddenGroups { get; init; } = 1;

    /// <summary>ALBERT only: layers inside each group, all run at every step that uses the group.</summary>
    [JsonPropertyName("inner_group_num")]
    public int InnerGroupNum { get; init; } = 1;

    /// <summary>Position embedding kind; only <c>absolute</c> is implemented.</summary>
    [JsonPropertyName("position_embedding_type")]
    public string PositionEmbeddingType { get; init; } = AbsolutePositions;

    /// <summary>Beginning-of-sequence id when the file states one (kept for round trips; the tokenizer is authoritative).</summary>
    [JsonPropertyName("bos_token_id")]
    public int? BosTokenId { get; init; }

    /// <summary>End-of-sequence id when the file states one (kept for round trips; the tokenizer is authoritative).</summary>
    [JsonPropertyName("eos_token_id")]
    public int? EosTokenId { get; init; }

    /// <summary>The family named by <see cref="ModelType"/>.</summary>
    /// <exception cref="ArgumentException">The model type is not one of <see cref="SupportedModelTypes"/>.</exception>
    [JsonIgnore]
    public EncoderFamily Family => ParseFamily(ModelType);

    /// <summary>The width the embedding module produces (embedding_size for ALBERT/ELECTRA, else hidden_size).</summary>
    [JsonIgnore]
    public int EmbeddingWidth => Family is EncoderFamily.Albert or EncoderFamily.Electra ? EmbeddingSize ?? HiddenSize : HiddenSize;

    /// <summary>Width of one attention head.</summary>
    [JsonIgnore]
    public int HeadSize => HiddenSize / NumAttentionHeads;

    /// <summary>
    /// The most tokens one input may have: max_position_embeddings, less pad_token_id + 1 for RoBERTa,
    /// whose position ids start after the padding id (roberta-base: 514 positions, 512 tokens).
    /// </summary>
    [JsonIgnore]
    public int MaxSequenceLength => Family == EncoderFamily.Roberta ? MaxPositionEmbeddings - PadTokenId - 1 : MaxPositionEmbeddings;

    /// <summary>
    /// The defaults transformers 4.36 gives a family's config class when a key is missing
    /// (AlbertConfig, BertConfig, ElectraConfig, RobertaConfig).
    /// </summary>
    public static EncoderConfig ForFamily(EncoderFamily family) => family switch
    {
        // AlbertConfig defaults describe albert-xxlarge.
        EncoderFamily.Albert => new EncoderConfig
        {
            ModelType = "albert",
            VocabSize = 30000,
            EmbeddingSize = 128,
            HiddenSize = 4096,
            NumHiddenLayers = 12,
            NumHiddenGroups = 1,
            NumAttentionHeads = 64,
            IntermediateSize = 16384,
            InnerGroupNum = 1,
            HiddenAct = "gelu_new",
            HiddenDropoutProb = 0.0,
            AttentionProbsDropoutProb = 0.0,
            MaxPositionEmbeddings = 512,
            TypeVocabSize = 2,
            InitializerRange = 0.02,
            LayerNormEps = 1e-12,
            PadTokenId = 0,
            BosTokenId = 2,
            EosTokenId = 3,
        },
        EncoderFamily.Bert => new EncoderConfig
        {
            ModelType = "bert",
            VocabSize = 30522,
            HiddenSize = 768,
            NumHiddenLayers = 12,
            NumAttentionHeads = 12,
            IntermediateSize = 3072,
            HiddenAct = "gelu",
            HiddenDropoutProb = 0.1,
            AttentionProbsDropoutProb = 0.1,
            MaxPositionEmbeddings = 512,
            TypeVocabSize = 2,
            InitializerRange = 0.02,
            LayerNormEps = 1e-12,
            PadTokenId = 0,
        },
        // ElectraConfig defaults describe electra-small.
        EncoderFamily.Electra => new EncoderConfig
        {
            ModelType = "electra",
            VocabSize = 30522,
            EmbeddingSize = 128,
            HiddenSize = 256,
            NumHiddenLayers = 12,
            NumAttentionHeads = 4,
            IntermediateSize = 1024,
            HiddenAct = "gelu",
            HiddenDropoutProb = 0.1,
            AttentionProbsDropoutProb = 0.1,
            MaxPositionEmbeddings = 512,
            TypeVocabSize = 2,
            InitializerRange = 0.02,
            LayerNormEps = 1e-12,
            PadTokenId = 0,
        },
        EncoderFamily.Roberta => new EncoderConfig
        {
            ModelType = "roberta",
            VocabSize = 50265,
            HiddenSize = 768,
            NumHiddenLayers = 12,
            NumAttentionHeads = 12,
            IntermediateSize = 3072,
            HiddenAct = "gelu",
            HiddenDropoutProb = 0.1,
            AttentionProbsDropoutProb = 0.1,
            MaxPositionEmbeddings = 512,
            TypeVocabSize = 2,
            InitializerRange = 0.02,
            LayerNormEps = 1e-12,
            PadTokenId = 1,
            BosTokenId = 0,
            EosTokenId = 2,
        },
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "Unknown encoder family."),
    };

    /// <summary>Reads a Hugging Face <c>config.json</c>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid or supported config; the message names the file and every problem.</exception>
    public static EncoderConfig FromFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Encoder config '{path}' does not exist.", path);
        }

        try
        {
            return FromJson(File.ReadAllText(path));
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"'{path}': {e.Message}", e);
        }
    }

    /// <summary>
    /// Parses the text of a Hugging Face <c>config.json</c>. Missing keys take the family's
    /// transformers defaults (<see cref="ForFamily(EncoderFamily)"/>); unknown keys are ignored.
    /// </summary>
    /// <exception cref="InvalidDataException">Invalid JSON, a missing or unsupported model_type, a value of the wrong kind, or a config that fails <see cref="Validate"/>.</exception>
    public static EncoderConfig FromJson(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"config.json is not valid JSON ({e.Message}).", e);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"config.json must be a JSON object, found {root.ValueKind}.");
            }

            var reader = new JsonFields(root);
            string? modelType = reader.String("model_type");
            if (modelType is null)
            {
                throw new InvalidDataException($"config.json has no model_type; supported: {string.Join(", ", SupportedModelTypes)}.");
            }

            if (!TryParseFamily(modelType, out EncoderFamily family))
            {
                throw new InvalidDataException(UnsupportedModelType(modelType));
            }

            EncoderConfig d = ForFamily(family);
            bool factorised = family is EncoderFamily.Albert or EncoderFamily.Electra;
            var config = new EncoderConfig
            {
                ModelType = family.ToString().ToLowerInvariant(),
                VocabSize = reader.Int("vocab_size") ?? d.VocabSize,
                HiddenSize = reader.Int("hidden_size") ?? d.HiddenSize,
                NumHiddenLayers = reader.Int("num_hidden_layers") ?? d.NumHiddenLayers,
                NumAttentionHeads = reader.Int("num_attention_heads") ?? d.NumAttentionHeads,
                IntermediateSize = reader.Int("intermediate_size") ?? d.IntermediateSize,
                HiddenAct = reader.String("hidden_act") ?? d.HiddenAct,
                HiddenDropoutProb = reader.Double("hidden_dropout_prob") ?? d.HiddenDropoutProb,
                AttentionProbsDropoutProb = reader.Double("attention_probs_dropout_prob") ?? d.AttentionProbsDropoutProb,
                MaxPositionEmbeddings = reader.Int("max_position_embeddings") ?? d.MaxPositionEmbeddings,
                TypeVocabSize = reader.Int("type_vocab_size") ?? d.TypeVocabSize,
                InitializerRange = reader.Double("initializer_range") ?? d.InitializerRange,
                LayerNormEps = reader.Double("layer_norm_eps") ?? d.LayerNormEps,
                PadTokenId = reader.Int("pad_token_id") ?? d.PadTokenId,
                EmbeddingSize = factorised ? reader.Int("embedding_size") ?? d.EmbeddingSize : null,
                NumHiddenGroups = family == EncoderFamily.Albert ? reader.Int("num_hidden_groups") ?? d.NumHiddenGroups : 1,
                InnerGroupNum = family == EncoderFamily.Albert ? reader.Int("inner_group_num") ?? d.InnerGroupNum : 1,
                PositionEmbeddingType = reader.String("position_embedding_type") ?? d.PositionEmbeddingType,
                BosTokenId = reader.Has("bos_token_id") ? reader.Int("bos_token_id") : d.BosTokenId,
                EosTokenId = reader.Has("eos_token_id") ? reader.Int("eos_token_id") : d.EosTokenId,
            };

            if (reader.Problems.Count > 0)
            {
                throw new InvalidDataException($"config.json has {reader.Problems.Count} value(s) of the wrong kind: {string.Join("; ", reader.Problems)}.");
            }

            IReadOnlyList<string> problems = config.Validate();
            if (problems.Count > 0)
            {
                throw new InvalidDataException(JoinProblems(config, problems));
            }

            return config;
        }
    }

    /// <summary>
    /// Every problem with this config, each naming the values involved (an empty list when it is
    /// valid): unsupported model_type or hidden_act, hidden_size not a multiple of the heads,
    /// position_embedding_type other than absolute, ALBERT groups that do not divide the layers,
    /// non-positive sizes, dropout outside [0, 1), a pad id outside the vocabulary.
    /// </summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        bool knownFamily = TryParseFamily(ModelType, out EncoderFamily family);
        if (!knownFamily)
        {
            problems.Add(UnsupportedModelType(ModelType));
        }

        if (!SupportedActivations.Contains(HiddenAct, StringComparer.Ordinal))
        {
            problems.Add($"hidden_act '{HiddenAct}' is not supported; supported: {string.Join(", ", SupportedActivations)}");
        }

        if (PositionEmbeddingType != AbsolutePositions)
        {
            problems.Add($"position_embedding_type '{PositionEmbeddingType}' is not supported; only '{AbsolutePositions}' is implemented");
        }

        RequirePositive(problems, "vocab_size", VocabSize);
        RequirePositive(problems, "hidden_size", HiddenSize);
        RequirePositive(problems, "num_hidden_layers", NumHiddenLayers);
        RequirePositive(problems, "num_attention_heads", NumAttentionHeads);
        RequirePositive(problems, "intermediate_size", IntermediateSize);
        RequirePositive(problems, "max_position_embeddings", MaxPositionEmbeddings);
        RequirePositive(problems, "type_vocab_size", TypeVocabSize);
        if (HiddenSize > 0 && NumAttentionHeads > 0 && HiddenSize % NumAttentionHeads != 0)
        {
            problems.Add($"hidden_size ({HiddenSize}) is not a multiple of num_attention_heads ({NumAttentionHeads})");
        }

        if (EmbeddingSize is int embeddingSize && embeddingSize <= 0)
        {
            problems.Add($"embedding_size must be positive, found {embeddingSize}");
        }

        RequireProbability(problems, "hidden_dropout_prob", HiddenDropoutProb);
        RequireProbability(problems, "attention_probs_dropout_prob", AttentionProbsDropoutProb);
        if (!(InitializerRange >= 0) || double.IsInfinity(InitializerRange))
        {
            problems.Add($"initializer_range must be a finite number >= 0, found {Format(InitializerRange)}");
        }

        if (!(LayerNormEps > 0) || double.IsInfinity(LayerNormEps))
        {
            problems.Add($"layer_norm_eps must be a finite number > 0, found {Format(LayerNormEps)}");
        }

        if (VocabSize > 0 && (PadTokenId < 0 || PadTokenId >= VocabSize))
        {
            problems.Add($"pad_token_id ({PadTokenId}) is outside the vocabulary [0, {VocabSize})");
        }

        if (knownFamily && family == EncoderFamily.Albert)
        {
            if (NumHiddenGroups <= 0 || NumHiddenLayers <= 0 || NumHiddenLayers % NumHiddenGroups != 0 || NumHiddenGroups > NumHiddenLayers)
            {
                problems.Add($"num_hidden_groups ({NumHiddenGroups}) must be positive and divide num_hidden_layers ({NumHiddenLayers})");
            }

            RequirePositive(problems, "inner_group_num", InnerGroupNum);
        }
        else if (knownFamily && (NumHiddenGroups != 1 || InnerGroupNum != 1))
        {
            problems.Add($"num_hidden_groups ({NumHiddenGroups}) and inner_group_num ({InnerGroupNum}) must be 1 for {ModelType}; only albert shares layers");
        }

        if (knownFamily && family is (EncoderFamily.Bert or EncoderFamily.Roberta) && EmbeddingSize is int size && size != HiddenSize)
        {
            problems.Add($"embedding_size ({size}) differs from hidden_size ({HiddenSize}), but {ModelType} embeds at hidden_size; leave embedding_size unset");
        }

        if (knownFamily && family == EncoderFamily.Roberta && PadTokenId + 2 > MaxPositionEmbeddings)
        {
            problems.Add($"max_position_embeddings ({MaxPositionEmbeddings}) leaves no position for a token: roberta positions start at pad_token_id + 1 = {PadTokenId + 1}");
        }

        return problems;
    }

    /// <summary>Throws when <see cref="Validate"/> finds a problem.</summary>
    /// <exception cref="ArgumentException">One message listing every problem.</exception>
    public EncoderConfig EnsureValid()
    {
        IReadOnlyList<string> problems = Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException(JoinProblems(this, problems));
        }

        return this;
    }

    /// <summary>
    /// The config as Hugging Face <c>config.json</c> text (keys sorted, as transformers writes them),
    /// with the family's keys only, so transformers' AutoConfig and AutoModel read it back.
    /// </summary>
    public string ToJson()
    {
        EnsureValid();
        var values = new SortedDictionary<string, object>(StringComparer.Ordinal)
        {
            ["architectures"] = new[] { Family switch
            {
                EncoderFamily.Albert => "AlbertModel",
                EncoderFamily.Bert => "BertModel",
                EncoderFamily.Electra => "ElectraModel",
                _ => "RobertaModel",
            } },
            ["model_type"] = ModelType,
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["intermediate_size"] = IntermediateSize,
            ["hidden_act"] = HiddenAct,
            ["hidden_dropout_prob"] = HiddenDropoutProb,
            ["attention_probs_dropout_prob"] = AttentionProbsDropoutProb,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["type_vocab_size"] = TypeVocabSize,
            ["initializer_range"] = InitializerRange,
            ["layer_norm_eps"] = LayerNormEps,
            ["pad_token_id"] = PadTokenId,
            ["position_embedding_type"] = PositionEmbeddingType,
            ["torch_dtype"] = "float32",
        };
        if (Family is EncoderFamily.Albert or EncoderFamily.Electra)
        {
            values["embedding_size"] = EmbeddingWidth;
        }

        if (Family == EncoderFamily.Albert)
        {
            values["num_hidden_groups"] = NumHiddenGroups;
            values["inner_group_num"] = InnerGroupNum;
        }

        if (BosTokenId is int bos)
        {
            values["bos_token_id"] = bos;
        }

        if (EosTokenId is int eos)
        {
            values["eos_token_id"] = eos;
        }

        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in values)
            {
                switch (value)
                {
                    case string s:
                        writer.WriteString(key, s);
                        break;
                    case int i:
                        writer.WriteNumber(key, i);
                        break;
                    case double x:
                        writer.WriteNumber(key, x);
                        break;
                    case string[] list:
                        writer.WriteStartArray(key);
                        foreach (string item in list)
                        {
                            writer.WriteStringValue(item);
                        }

                        writer.WriteEndArray();
                        break;
                }
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>Writes <see cref="ToJson"/> to <paramref name="path"/>, creating its folder.</summary>
    public void Save(string path)
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        File.WriteAllText(path, ToJson(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
    }

    internal static EncoderFamily ParseFamily(string modelType) =>
        TryParseFamily(modelType, out EncoderFamily family) ? family : throw new ArgumentException(UnsupportedModelType(modelType));

    private static bool TryParseFamily(string? modelType, out EncoderFamily family)
    {
        switch (modelType)
        {
            case "albert":
                family = EncoderFamily.Albert;
                return true;
            case "bert":
                family = EncoderFamily.Bert;
                return true;
            case "electra":
                family = EncoderFamily.Electra;
                return true;
            case "roberta":
                family = EncoderFamily.Roberta;
                return true;
            default:
                family = default;
                return false;
        }
    }

    private static string UnsupportedModelType(string? modelType) =>
        $"model_type '{modelType}' is not supported; supported: {string.Join(", ", SupportedModelTypes)}";

    private static string JoinProblems(EncoderConfig config, IReadOnlyList<string> problems) =>
        $"Invalid {config.ModelType} encoder config ({problems.Count} problem(s)): {string.Join("; ", problems)}.";

    private static void RequirePositive(List<string> problems, string name, int value)
    {
        if (value <= 0)
        {
            problems.Add($"{name} must be positive, found {value}");
        }
    }

    private static void RequireProbability(List<string> problems, string name, double value)
    {
        if (!(value >= 0 && value < 1))
        {
            problems.Add($"{name} must be in [0, 1), found {Format(value)}");
        }
    }

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Reads typed values from a config object, collecting every value of the wrong kind.</summary>
    private sealed class JsonFields(JsonElement root)
    {
        public List<string> Problems { get; } = [];

        public bool Has(string name) => root.TryGetProperty(name, out _);

        public string? String(string name)
        {
            if (!root.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.String)
            {
                Problems.Add($"{name} must be a string, found {value.GetRawText()}");
                return null;
            }

            return value.GetString();
        }

        public int? Int(string name)
        {
            if (!root.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            // Python writes 64 or, rarely, 64.0; both are the integer 64.
            if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double number)
                && Math.Floor(number) == number && number is >= int.MinValue and <= int.MaxValue)
            {
                return (int)number;
            }

            Problems.Add($"{name} must be an integer, found {value.GetRawText()}");
            return null;
        }

        public double? Double(string name)
        {
            if (!root.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double number))
            {
                return number;
            }

            Problems.Add($"{name} must be a number, found {value.GetRawText()}");
            return null;
        }
    }
}
