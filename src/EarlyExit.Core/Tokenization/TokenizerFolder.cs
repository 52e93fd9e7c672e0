// Reads the Hugging Face tokenizer settings of a model folder:
//   config.json              model_type (which family)
//   tokenizer_config.json    family options (do_lower_case, ...), model_max_length, special tokens,
//                            added_tokens_decoder (id -> {content, lstrip, rstrip, single_word, special, normalized})
//   special_tokens_map.json  special tokens, used for the keys tokenizer_config.json leaves out
// Every file is optional; a missing setting falls back to the family's default, as transformers does.
using System.Text.Json;

namespace EarlyExit.Tokenization;

/// <summary>A special token as the tokenizer files describe it.</summary>
/// <param name="Content">The token's text.</param>
/// <param name="LStrip">Whether it swallows whitespace on its left.</param>
/// <param name="RStrip">Whether it swallows whitespace on its right.</param>
/// <param name="SingleWord">Whether it only matches as a whole word.</param>
/// <param name="Normalized">The <c>normalized</c> flag.</param>
internal sealed record TokenSpec(string Content, bool LStrip, bool RStrip, bool SingleWord, bool Normalized);

/// <summary>The tokenizer settings of one model folder.</summary>
internal sealed class TokenizerFolder
{
    public const string ConfigFile = "config.json";
    public const string TokenizerConfigFile = "tokenizer_config.json";
    public const string SpecialTokensMapFile = "special_tokens_map.json";

    /// <summary>The default maximum sequence length when the folder names none.</summary>
    public const int DefaultModelMaxLength = 512;

    private static readonly string[] s_specialTokenKeys =
        ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

    private readonly JsonElement _tokenizerConfig;
    private readonly JsonElement _specialTokensMap;

    private TokenizerFolder(string directory, JsonElement tokenizerConfig, JsonElement specialTokensMap)
    {
        Directory = directory;
        _tokenizerConfig = tokenizerConfig;
        _specialTokensMap = specialTokensMap;
    }

    /// <summary>The model folder.</summary>
    public string Directory { get; }

    /// <summary>Opens <paramref name="directory"/>; throws when it does not exist or a settings file is not valid JSON.</summary>
    public static TokenizerFolder Open(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!System.IO.Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"Tokenizer folder '{directory}' does not exist.");
        }

        return new TokenizerFolder(directory, ReadJsonObject(directory, TokenizerConfigFile), ReadJsonObject(directory, SpecialTokensMapFile));
    }

    /// <summary>The <c>model_type</c> of config.json, or null when the file or the key is missing.</summary>
    public string? ReadModelType()
    {
        JsonElement config = ReadJsonObject(Directory, ConfigFile);
        return config.ValueKind == JsonValueKind.Object && config.TryGetProperty("model_type", out JsonElement type) && type.ValueKind == JsonValueKind.String
            ? type.GetString()
            : null;
    }

    /// <summary>Whether the folder holds <paramref name="fileName"/>.</summary>
    public bool HasFile(string fileName) => File.Exists(Path.Combine(Directory, fileName));

    /// <summary>The full path of a file the <paramref name="family"/> tokenizer needs; throws naming file, folder and family when it is missing.</summary>
    public string RequireFile(string fileName, string family)
    {
        string path = Path.Combine(Directory, fileName);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"The {family} tokenizer needs '{fileName}', which is missing from folder '{Directory}'.", path);
        }

        return path;
    }

    /// <summary>A boolean option of tokenizer_config.json, else <paramref name="defaultValue"/>.</summary>
    public bool GetBool(string key, bool defaultValue) =>
        TryGet(_tokenizerConfig, key, out JsonElement value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? value.GetBoolean()
            : defaultValue;

    /// <summary>A three-state option (true, false, or null/absent) of tokenizer_config.json.</summary>
    public bool? GetOptionalBool(string key) =>
        TryGet(_tokenizerConfig, key, out JsonElement value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? value.GetBoolean()
            : null;

    /// <summary><c>model_max_length</c> (or the legacy <c>max_len</c>) of tokenizer_config.json, else 512; huge values are capped at <see cref="int.MaxValue"/>.</summary>
    public int ModelMaxLength
    {
        get
        {
            foreach (string key in new[] { "model_max_length", "max_len" })
            {
                if (TryGet(_tokenizerConfig, key, out JsonElement value) && value.ValueKind == JsonValueKind.Number)
                {
                    double length = value.GetDouble();
                    return length >= int.MaxValue ? int.MaxValue : Math.Max(0, (int)length);
                }
            }

            return DefaultModelMaxLength;
        }
    }

    /// <summary>
    /// A special token (<c>cls_token</c>, <c>mask_token</c>, ...): its content from tokenizer_config.json,
    /// else special_tokens_map.json, else <paramref name="defaultContent"/> (null: the family has no such
    /// token). Its strip flags come from added_tokens_decoder when that lists the content, else from the
    /// object form in the file, else (the token given as a plain string) from <paramref name="defaultLStrip"/>.
    /// </summary>
    public TokenSpec? SpecialToken(string key, string? defaultContent, bool defaultLStrip = false)
    {
        TokenSpec? spec = null;
        if (TryGet(_tokenizerConfig, key, out JsonElement value) && value.ValueKind != JsonValueKind.Null)
        {
            spec = ParseSpec(value, defaultLStrip);
        }
        else if (TryGet(_specialTokensMap, key, out value) && value.ValueKind != JsonValueKind.Null)
        {
            spec = ParseSpec(value, defaultLStrip);
        }

        if (spec is null && defaultContent is not null)
        {
            spec = new TokenSpec(defaultContent, defaultLStrip, false, false, false);
        }

        if (spec is null)
        {
            return null;
        }

        return AddedTokensDecoder().Select(t => t.Spec).FirstOrDefault(s => s.Content == spec.Content) ?? spec;
    }

    /// <summary>The names of the special tokens a Hugging Face tokenizer may define (bos_token ... mask_token).</summary>
    public static IReadOnlyList<string> SpecialTokenKeys => s_specialTokenKeys;

    /// <summary><c>additional_special_tokens</c> of tokenizer_config.json, else of special_tokens_map.json.</summary>
    public IReadOnlyList<TokenSpec> AdditionalSpecialTokens()
    {
        var result = new List<TokenSpec>();
        if (!TryGet(_tokenizerConfig, "additional_special_tokens", out JsonElement list) || list.ValueKind != JsonValueKind.Array)
        {
            TryGet(_specialTokensMap, "additional_special_tokens", out list);
        }

        if (list.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement item in list.EnumerateArray())
            {
                if (ParseSpec(item, defaultLStrip: false) is { } spec)
                {
                    result.Add(spec);
                }
            }
        }

        return result;
    }

    /// <summary>The <c>never_split</c> list of tokenizer_config.json (BertTokenizer), empty when absent.</summary>
    public IReadOnlyList<string> NeverSplit() =>
        TryGet(_tokenizerConfig, "never_split", out JsonElement list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToList()
            : [];

    /// <summary>The entries of <c>added_tokens_decoder</c> in tokenizer_config.json (id, settings, special flag).</summary>
    public IReadOnlyList<(int Id, TokenSpec Spec, bool Special)> AddedTokensDecoder()
    {
        var result = new List<(int, TokenSpec, bool)>();
        if (TryGet(_tokenizerConfig, "added_tokens_decoder", out JsonElement decoder) && decoder.ValueKind == JsonValueKind.Object)
        {
            foreach (JsonProperty entry in decoder.EnumerateObject())
            {
                if (int.TryParse(entry.Name, out int id) && ParseSpec(entry.Value, defaultLStrip: false) is { } spec)
                {
                    bool special = entry.Value.ValueKind == JsonValueKind.Object && entry.Value.TryGetProperty("special", out JsonElement s) && s.ValueKind == JsonValueKind.True;
                    result.Add((id, spec, special));
                }
            }
        }

        return result;
    }

    private static TokenSpec? ParseSpec(JsonElement value, bool defaultLStrip)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return new TokenSpec(value.GetString()!, defaultLStrip, false, false, false);
        }

        if (value.ValueKind == JsonValueKind.Object && value.TryGetProperty("content", out JsonElement content) && content.ValueKind == JsonValueKind.String)
        {
            return new TokenSpec(content.GetString()!, Flag(value, "lstrip"), Flag(value, "rstrip"), Flag(value, "single_word"), Flag(value, "normalized"));
        }

        return null;
    }

    private static bool Flag(JsonElement value, string name) => value.TryGetProperty(name, out JsonElement flag) && flag.ValueKind == JsonValueKind.True;

    private static bool TryGet(JsonElement root, string key, out JsonElement value)
    {
        value = default;
        return root.ValueKind == JsonValueKind.Object && root.TryGetProperty(key, out value);
    }

    private static JsonElement ReadJsonObject(string directory, string fileName)
    {
        string path = Path.Combine(directory, fileName);
        if (!File.Exists(path))
        {
            return default;
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllText(path));
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Tokenizer settings file '{path}' is not valid JSON: {e.Message}", e);
        }
    }
}
