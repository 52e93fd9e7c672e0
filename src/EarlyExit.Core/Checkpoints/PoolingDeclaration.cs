// How a checkpoint says its sentence representation is pooled. sentence-transformers folders list
// their modules in modules.json; the module of type sentence_transformers.models.Pooling points to a
// folder (usually 1_Pooling/) whose config.json names the mode:
//
//   {"pooling_mode_cls_token": false, "pooling_mode_mean_tokens": true, "pooling_mode_max_tokens": false, ...}
//
// Mean maps to HeadPooling.Mean and the CLS token to HeadPooling.Cls. Other modes (max,
// mean-sqrt-len, weighted mean) and several modes at once have no head of ours; they count as no
// declaration, and Auto then falls back to Cls. Plain Hugging Face folders declare nothing.
using System.Text.Json;
using EarlyExit.Modeling;

namespace EarlyExit.Checkpoints;

/// <summary>Reads the pooling a checkpoint folder declares (sentence-transformers' modules.json and pooling config).</summary>
internal static class PoolingDeclaration
{
    /// <summary>The file listing a sentence-transformers model's modules.</summary>
    public const string ModulesFileName = "modules.json";

    private const string PoolingModuleType = "sentence_transformers.models.Pooling";

    /// <summary>
    /// The pooling config's path relative to the folder, as <paramref name="modulesJsonPath"/> names it
    /// (e.g. <c>1_Pooling/config.json</c>), or null when it lists no pooling module.
    /// </summary>
    /// <exception cref="InvalidDataException">modules.json is not valid JSON or not a list of modules.</exception>
    public static string? PoolingConfigPath(string modulesJsonPath)
    {
        using JsonDocument modules = Parse(modulesJsonPath);
        if (modules.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException($"'{modulesJsonPath}' must be a JSON list of modules (sentence-transformers' modules.json).");
        }

        foreach (JsonElement module in modules.RootElement.EnumerateArray())
        {
            if (module.ValueKind == JsonValueKind.Object
                && module.TryGetProperty("type", out JsonElement type) && type.GetString() == PoolingModuleType
                && module.TryGetProperty("path", out JsonElement path) && path.ValueKind == JsonValueKind.String)
            {
                string folder = path.GetString()!;
                if (Path.IsPathRooted(folder) || folder.Split('/', '\\').Contains(".."))
                {
                    throw new InvalidDataException($"'{modulesJsonPath}' names pooling folder '{folder}', which leaves the model folder.");
                }

                return folder.Length == 0 ? CheckpointLoader.ConfigFileName : folder.TrimEnd('/') + "/" + CheckpointLoader.ConfigFileName;
            }
        }

        return null;
    }

    /// <summary>
    /// The pooling <paramref name="folder"/> declares: <see cref="HeadPooling.Mean"/> or <see cref="HeadPooling.Cls"/>,
    /// or null when it declares none we have a head for (see the file header).
    /// </summary>
    /// <exception cref="InvalidDataException">modules.json or the pooling config is not valid JSON.</exception>
    public static HeadPooling? Read(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        string modules = Path.Combine(folder, ModulesFileName);
        if (!File.Exists(modules))
        {
            return null;
        }

        string? relative = PoolingConfigPath(modules);
        string? config = relative is null ? null : Path.Combine(folder, relative);
        if (config is null || !File.Exists(config))
        {
            return null;
        }

        using JsonDocument document = Parse(config);
        bool cls = Flag(document.RootElement, "pooling_mode_cls_token");
        bool mean = Flag(document.RootElement, "pooling_mode_mean_tokens");
        bool others = document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.EnumerateObject()
            .Any(p => p.Name.StartsWith("pooling_mode_", StringComparison.Ordinal) && p.Name is not ("pooling_mode_cls_token" or "pooling_mode_mean_tokens") && p.Value.ValueKind == JsonValueKind.True);
        return (cls, mean, others) switch
        {
            (false, true, false) => HeadPooling.Mean,
            (true, false, false) => HeadPooling.Cls,
            _ => null,
        };
    }

    private static bool Flag(JsonElement config, string name) =>
        config.ValueKind == JsonValueKind.Object && config.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.True;

    private static JsonDocument Parse(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}", e);
        }
    }
}
