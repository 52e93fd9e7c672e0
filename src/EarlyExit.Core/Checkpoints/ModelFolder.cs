// What the saved formats of our trained models (EarlyExitTextClassifier, EarlyExitTokenClassifier)
// share: the encoder's config.json, every weight in model.safetensors, the tokenizer files, and a
// settings JSON with a format name and the FormatVersion / MinReadableVersion pair.
using System.Text.Json;
using System.Text.Json.Serialization;
using EarlyExit.Modeling;
using EarlyExit.Tokenization;
using static TorchSharp.torch;

namespace EarlyExit.Checkpoints;

/// <summary>The header every settings file of a saved model starts with.</summary>
internal interface IVersionedSettings
{
    /// <summary>The format's name.</summary>
    string Format { get; }

    /// <summary>The version the writer wrote.</summary>
    int FormatVersion { get; }

    /// <summary>The oldest reader version that can read it.</summary>
    int MinReadableVersion { get; }
}

/// <summary>
/// What the text classifier's saved settings (classifier.json) and its ONNX export's manifest (onnx.json)
/// both hold: the format's name and versions, and the deployable's labels, input length and criterion.
/// </summary>
internal abstract class TextClassifierSettings : IVersionedSettings
{
    public required string Format { get; init; }

    public required int FormatVersion { get; init; }

    public required int MinReadableVersion { get; init; }

    public required string[] Labels { get; init; }

    public required int MaxSequenceLength { get; init; }

    public required string ExitCriterion { get; init; }
}

/// <summary>What names a saved model folder's format.</summary>
/// <param name="Name">The format's name, written into the settings file.</param>
/// <param name="Version">The version this code writes, and the newest it reads.</param>
/// <param name="SettingsFile">The settings file's name.</param>
/// <param name="What">The model in error messages ("early-exit text classifier").</param>
internal sealed record SavedFolderFormat(string Name, int Version, string SettingsFile, string What);

/// <summary>Writes and reads the parts of a saved model folder.</summary>
internal static class ModelFolder
{
    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Converters = { new JsonStringEnumConverter() } };

    /// <summary>Writes the tokenizer files, config.json, model.safetensors (every entry of the module's state) and the settings.</summary>
    public static void Write<TSettings>(string folder, IReadOnlyDictionary<string, byte[]> tokenizerFiles, EncoderConfig config, nn.Module module, string settingsFile, TSettings settings)
    {
        WriteTokenizerAndConfig(folder, tokenizerFiles, config);
        using (var scope = NewDisposeScope())
        {
            SafeTensorsWriter.Write(Path.Combine(folder, CheckpointLoader.WeightsFileName), module.state_dict().OrderBy(p => p.Key, StringComparer.Ordinal));
        }

        File.WriteAllText(Path.Combine(folder, settingsFile), JsonSerializer.Serialize(settings, Json));
    }

    /// <summary>Creates <paramref name="folder"/> and writes the tokenizer files and the encoder's config.json into it.</summary>
    public static void WriteTokenizerAndConfig(string folder, IReadOnlyDictionary<string, byte[]> tokenizerFiles, EncoderConfig config)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        Directory.CreateDirectory(folder);
        foreach (var (name, bytes) in tokenizerFiles)
        {
            File.WriteAllBytes(Path.Combine(folder, name), bytes);
        }

        config.Save(Path.Combine(folder, CheckpointLoader.ConfigFileName));
    }

    /// <summary>Reads and checks the settings file: present, valid JSON, the expected format, a readable version.</summary>
    /// <exception cref="FileNotFoundException">The folder holds no settings file.</exception>
    /// <exception cref="InvalidDataException">Unreadable, another format, or a version newer than the format's version.</exception>
    public static TSettings ReadSettings<TSettings>(string folder, SavedFolderFormat format)
        where TSettings : class, IVersionedSettings
    {
        (string settingsFile, string formatName, int readerVersion, string what) = (format.SettingsFile, format.Name, format.Version, format.What);
        ArgumentException.ThrowIfNullOrEmpty(folder);
        string path = Path.Combine(folder, settingsFile);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"'{folder}' holds no {settingsFile}: it is not a saved {what}.", path);
        }

        TSettings settings;
        try
        {
            settings = JsonSerializer.Deserialize<TSettings>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"'{path}' is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid: {e.Message}", e);
        }

        if (settings.Format != formatName)
        {
            throw new InvalidDataException($"'{path}' has format '{settings.Format}', not '{formatName}'.");
        }

        if (settings.MinReadableVersion > readerVersion)
        {
            throw new InvalidDataException(
                $"'{path}' was written in format version {settings.FormatVersion}, which needs a reader of version {settings.MinReadableVersion} or newer; this build reads up to {readerVersion}. Update EarlyExit.MLNet.");
        }

        return settings;
    }

    /// <summary>The encoder config and the tokenizer of its model type.</summary>
    public static (EncoderConfig Config, TextTokenizer Tokenizer) ReadTokenizer(string folder)
    {
        EncoderConfig config = EncoderConfig.FromFile(Path.Combine(folder, CheckpointLoader.ConfigFileName));
        return (config, TextTokenizer.FromFolder(folder, config.ModelType));
    }

    /// <summary>The encoder config, the tokenizer and its files' bytes (kept so the model can be saved again).</summary>
    public static (EncoderConfig Config, TextTokenizer Tokenizer, IReadOnlyDictionary<string, byte[]> TokenizerFiles) ReadEncoderAndTokenizer(string folder)
    {
        var (config, tokenizer) = ReadTokenizer(folder);
        var files = TextTokenizer.RequiredFiles(config.ModelType).Concat(TextTokenizer.OptionalFiles)
            .Where(f => File.Exists(Path.Combine(folder, f)))
            .ToDictionary(f => f, f => File.ReadAllBytes(Path.Combine(folder, f)), StringComparer.Ordinal);
        return (config, tokenizer, files);
    }

    /// <summary>
    /// Builds a new encoder of <paramref name="config"/> and the model around it; when the model's
    /// constructor refuses (e.g. heads settings it cannot build), the encoder's native memory is freed
    /// before the error goes up.
    /// </summary>
    public static TModel BuildAroundEncoder<TModel>(EncoderConfig config, bool hasPooler, Func<EncoderNetwork, TModel> build) =>
        BuildAround(EncoderNetwork.Create(config, hasPooler), build);

    /// <summary>Builds a model around <paramref name="encoder"/>, which it will own; when that fails, the encoder is disposed.</summary>
    public static TModel BuildAround<TModel>(EncoderNetwork encoder, Func<EncoderNetwork, TModel> build)
    {
        try
        {
            return build(encoder);
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
    }

    /// <summary>Copies model.safetensors into <paramref name="module"/> (every entry required, nothing extra).</summary>
    public static void ReadWeights(string folder, nn.Module module, string description)
    {
        using SafeTensorsFile file = SafeTensorsFile.Open(Path.Combine(folder, CheckpointLoader.WeightsFileName));
        CheckpointLoader.CopyInto(module, file, description, n => n, _ => false);
    }

    /// <summary>Class or tag names: at least two, all distinct.</summary>
    /// <exception cref="ArgumentException">Fewer than two, or a duplicate; the message names it.</exception>
    public static void CheckNames(IReadOnlyList<string> names, string what, int minimum = 2)
    {
        if (names.Count < minimum)
        {
            throw new ArgumentException($"A model needs at least {minimum} {what}s; got {names.Count} ({string.Join(", ", names)}).", nameof(names));
        }

        string? duplicate = names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1)?.Key;
        if (duplicate is not null)
        {
            throw new ArgumentException($"{char.ToUpperInvariant(what[0])}{what[1..]} '{duplicate}' appears twice; {what} names must be distinct.", nameof(names));
        }
    }
}
