// The architecture of an encoder, read from and written to a Hugging Face config.json.
//
// One record serves the four families. Property names are .NET names; each JSON name is Hugging Face's
// and is spelled once, in its [JsonPropertyName]: System.Text.Json reads and writes the record, and
// messages name keys through JsonKey(nameof(...)). So a config.json from the hub parses and the file
// that Save writes loads in transformers (AutoConfig / AutoModel). Keys a family does not know
// (generation settings, label maps, transformers 2.x leftovers such as eos_token_ids) are ignored.
//
// Reading: the family's defaults (ForFamily, the one place they live) serialized to a JSON object, the
// file's keys laid over it one by one (each value checked on its own, so every value of the wrong kind
// is reported together), then one deserialization. Keys of another family (embedding_size for BERT,
// num_hidden_groups for anything but ALBERT) are ignored on reading and left out on writing (AppliesTo).
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

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
        JsonNode? parsed;
        try
        {
            parsed = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"config.json is not valid JSON ({e.Message}).", e);
        }

        if (parsed is not JsonObject file)
        {
            throw new InvalidDataException($"config.json must be a JSON object, found {parsed?.GetValueKind().ToString() ?? "null"}.");
        }

        string modelTypeKey = JsonKey(nameof(ModelType));
        JsonNode? modelTypeNode = file[modelTypeKey];
        if (modelTypeNode is null)
        {
            throw new InvalidDataException($"config.json has no {modelTypeKey}; supported: {string.Join(", ", SupportedModelTypes)}.");
        }

        string? modelType = modelTypeNode.GetValueKind() == JsonValueKind.String ? modelTypeNode.GetValue<string>() : modelTypeNode.ToJsonString();
        if (!TryParseFamily(modelType, out EncoderFamily family))
        {
            throw new InvalidDataException(UnsupportedModelType(modelType));
        }

        JsonObject merged = JsonSerializer.SerializeToNode(ForFamily(family), s_json)!.AsObject();
        var problems = new List<string>();
        foreach (JsonPropertyInfo property in s_typeInfo.Properties)
        {
            if (property.Name == modelTypeKey || !AppliesTo(PropertyName(property), family) || !file.TryGetPropertyValue(property.Name, out JsonNode? value))
            {
                continue;
            }

            // JSON null: unset for the keys that may be unset (bos/eos ids, embedding_size), otherwise the default.
            bool nullable = Nullable.GetUnderlyingType(property.PropertyType) is not null;
            if (value is null)
            {
                if (nullable)
                {
                    merged.Remove(property.Name);
                }

                continue;
            }

            try
            {
                value.Deserialize(property.PropertyType, s_json);
                merged[property.Name] = value.DeepClone();
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
            {
                problems.Add($"{property.Name} must be {KindOf(property.PropertyType)}, found {value.ToJsonString()}");
            }
        }

        if (problems.Count > 0)
        {
            throw new InvalidDataException($"config.json has {problems.Count} value(s) of the wrong kind: {string.Join("; ", problems)}.");
        }

        EncoderConfig config = merged.Deserialize<EncoderConfig>(s_json)!;
        IReadOnlyList<string> invalid = config.Validate();
        if (invalid.Count > 0)
        {
            throw new InvalidDataException(JoinProblems(config, invalid));
        }

        return config;
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
            problems.Add($"{JsonKey(nameof(HiddenAct))} '{HiddenAct}' is not supported; supported: {string.Join(", ", SupportedActivations)}");
        }

        if (PositionEmbeddingType != AbsolutePositions)
        {
            problems.Add($"{JsonKey(nameof(PositionEmbeddingType))} '{PositionEmbeddingType}' is not supported; only '{AbsolutePositions}' is implemented");
        }

        RequirePositive(problems, VocabSize);
        RequirePositive(problems, HiddenSize);
        RequirePositive(problems, NumHiddenLayers);
        RequirePositive(problems, NumAttentionHeads);
        RequirePositive(problems, IntermediateSize);
        RequirePositive(problems, MaxPositionEmbeddings);
        RequirePositive(problems, TypeVocabSize);
        if (HiddenSize > 0 && NumAttentionHeads > 0 && HiddenSize % NumAttentionHeads != 0)
        {
            problems.Add($"{JsonKey(nameof(HiddenSize))} ({HiddenSize}) is not a multiple of {JsonKey(nameof(NumAttentionHeads))} ({NumAttentionHeads})");
        }

        if (EmbeddingSize is int embeddingSize && embeddingSize <= 0)
        {
            problems.Add($"{JsonKey(nameof(EmbeddingSize))} must be positive, found {embeddingSize}");
        }

        RequireProbability(problems, HiddenDropoutProb);
        RequireProbability(problems, AttentionProbsDropoutProb);
        if (!(InitializerRange >= 0) || double.IsInfinity(InitializerRange))
        {
            problems.Add($"{JsonKey(nameof(InitializerRange))} must be a finite number >= 0, found {Format(InitializerRange)}");
        }

        if (!(LayerNormEps > 0) || double.IsInfinity(LayerNormEps))
        {
            problems.Add($"{JsonKey(nameof(LayerNormEps))} must be a finite number > 0, found {Format(LayerNormEps)}");
        }

        if (VocabSize > 0 && (PadTokenId < 0 || PadTokenId >= VocabSize))
        {
            problems.Add($"{JsonKey(nameof(PadTokenId))} ({PadTokenId}) is outside the vocabulary [0, {VocabSize})");
        }

        if (knownFamily && family == EncoderFamily.Albert)
        {
            if (NumHiddenGroups <= 0 || NumHiddenLayers <= 0 || NumHiddenLayers % NumHiddenGroups != 0 || NumHiddenGroups > NumHiddenLayers)
            {
                problems.Add($"{JsonKey(nameof(NumHiddenGroups))} ({NumHiddenGroups}) must be positive and divide {JsonKey(nameof(NumHiddenLayers))} ({NumHiddenLayers})");
            }

            RequirePositive(problems, InnerGroupNum);
        }
        else if (knownFamily && (NumHiddenGroups != 1 || InnerGroupNum != 1))
        {
            problems.Add($"{JsonKey(nameof(NumHiddenGroups))} ({NumHiddenGroups}) and {JsonKey(nameof(InnerGroupNum))} ({InnerGroupNum}) must be 1 for {ModelType}; only albert shares layers");
        }

        if (knownFamily && family is (EncoderFamily.Bert or EncoderFamily.Roberta) && EmbeddingSize is int size && size != HiddenSize)
        {
            problems.Add($"{JsonKey(nameof(EmbeddingSize))} ({size}) differs from {JsonKey(nameof(HiddenSize))} ({HiddenSize}), but {ModelType} embeds at {JsonKey(nameof(HiddenSize))}; leave {JsonKey(nameof(EmbeddingSize))} unset");
        }

        if (knownFamily && family == EncoderFamily.Roberta && PadTokenId + 2 > MaxPositionEmbeddings)
        {
            problems.Add($"{JsonKey(nameof(MaxPositionEmbeddings))} ({MaxPositionEmbeddings}) leaves no position for a token: roberta positions start at {JsonKey(nameof(PadTokenId))} + 1 = {PadTokenId + 1}");
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
        JsonObject values = JsonSerializer.SerializeToNode(this, s_json)!.AsObject();
        foreach (JsonPropertyInfo property in s_typeInfo.Properties)
        {
            if (!AppliesTo(PropertyName(property), Family))
            {
                values.Remove(property.Name);
            }
        }

        if (AppliesTo(nameof(EmbeddingSize), Family))
        {
            values[JsonKey(nameof(EmbeddingSize))] = EmbeddingWidth;   // stated even when it is hidden_size
        }

        // Hugging Face metadata that only the written file carries.
        values["architectures"] = new JsonArray(Family switch
        {
            EncoderFamily.Albert => "AlbertModel",
            EncoderFamily.Bert => "BertModel",
            EncoderFamily.Electra => "ElectraModel",
            _ => "RobertaModel",
        });
        values["torch_dtype"] = "float32";

        var sorted = new JsonObject(values.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone())));
        return sorted.ToJsonString(s_written) + "\n";
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
        $"{JsonKey(nameof(ModelType))} '{modelType}' is not supported; supported: {string.Join(", ", SupportedModelTypes)}";

    private static string JoinProblems(EncoderConfig config, IReadOnlyList<string> problems) =>
        $"Invalid {config.ModelType} encoder config ({problems.Count} problem(s)): {string.Join("; ", problems)}.";

    private static void RequirePositive(List<string> problems, int value, [CallerArgumentExpression(nameof(value))] string property = "")
    {
        string name = JsonKey(property);
        if (value <= 0)
        {
            problems.Add($"{name} must be positive, found {value}");
        }
    }

    private static void RequireProbability(List<string> problems, double value, [CallerArgumentExpression(nameof(value))] string property = "")
    {
        string name = JsonKey(property);
        if (!(value >= 0 && value < 1))
        {
            problems.Add($"{name} must be in [0, 1), found {Format(value)}");
        }
    }

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The JSON key of the property named <paramref name="property"/> (its [JsonPropertyName]), e.g. hidden_size for HiddenSize.</summary>
    internal static string JsonKey(string property) => s_keys[property];

    // Whether a key belongs to a family's config class: the factorised embedding width to ALBERT and
    // ELECTRA, the layer groups to ALBERT; everything else to every family.
    private static bool AppliesTo(string property, EncoderFamily family) => property switch
    {
        nameof(EmbeddingSize) => family is EncoderFamily.Albert or EncoderFamily.Electra,
        nameof(NumHiddenGroups) or nameof(InnerGroupNum) => family == EncoderFamily.Albert,
        _ => true,
    };

    private static string PropertyName(JsonPropertyInfo property) => ((MemberInfo)property.AttributeProvider!).Name;

    private static string KindOf(Type type) => (Nullable.GetUnderlyingType(type) ?? type) switch
    {
        Type t when t == typeof(int) => "an integer",
        Type t when t == typeof(double) => "a number",
        _ => "a string",
    };

    private static readonly JsonSerializerOptions s_json = CreateOptions();

    private static readonly JsonSerializerOptions s_written = new() { WriteIndented = true };

    private static readonly JsonTypeInfo s_typeInfo = s_json.GetTypeInfo(typeof(EncoderConfig));

    private static readonly Dictionary<string, string> s_keys = s_typeInfo.Properties.ToDictionary(PropertyName, p => p.Name, StringComparer.Ordinal);

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
            Converters = { new WholeNumberConverter() },
        };
        options.MakeReadOnly();
        return options;
    }

    /// <summary>Integers as Python writes them: 64 or, rarely, 64.0 (both the integer 64); anything else is refused.</summary>
    private sealed class WholeNumberConverter : JsonConverter<int>
    {
        public override int Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out double number)
                && Math.Floor(number) == number && number is >= int.MinValue and <= int.MaxValue)
            {
                return (int)number;
            }

            throw new JsonException("Expected an integer.");
        }

        public override void Write(Utf8JsonWriter writer, int value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
    }
}
