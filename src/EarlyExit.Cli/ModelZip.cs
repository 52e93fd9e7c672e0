// Loading the model .zip files the train commands write: the file checks and messages both command
// families share, then finding the family's transformer inside the ML.NET chain. Peek reads the small
// settings entries only (kind, classes or tags, depth), so that mistakes it can see fail in a moment
// instead of after the weights are loaded.
using System.IO.Compression;
using System.Text.Json;
using EarlyExit.Devices;
using EarlyExit.MLNet;
using EarlyExit.Modeling;
using Microsoft.ML;

namespace EarlyExit.Cli;

/// <summary>What a model zip's settings entries say, read without loading the weights.</summary>
/// <param name="Family">The command family that writes such models: classify or ner.</param>
/// <param name="Labels">The classes (classify) or tags (ner), in index order.</param>
/// <param name="Layers">The encoder's depth.</param>
internal sealed record ModelPeek(string Family, IReadOnlyList<string> Labels, int Layers)
{
    /// <summary>Refuses the first of <paramref name="fixedLayers"/> (a criterion and the layer it fixes) past the model's depth.</summary>
    /// <param name="path">The model file, for the message.</param>
    /// <param name="what">What the criterion cannot do, e.g. "score" or "label with".</param>
    /// <param name="fixedLayers">Every fixed-layer criterion asked for.</param>
    /// <exception cref="CliException">A layer past the depth.</exception>
    public void RequireLayers(string path, string what, IEnumerable<(string Criterion, int Layer)> fixedLayers)
    {
        foreach ((string criterion, int layer) in fixedLayers)
        {
            if (layer > Layers)
            {
                throw new CliException($"Exit criterion '{criterion}' cannot {what} '{path}': it asks for layer {layer}, but the model has {Layers} layers; use layer:1 to layer:{Layers}.");
            }
        }
    }
}

/// <summary>Loads model zips written by <c>earlyexit classify train</c> or <c>earlyexit ner train</c>.</summary>
internal static class ModelZip
{
    /// <summary>
    /// Reads the first early-exit model's settings from <paramref name="path"/> without loading it; null when the file is
    /// not a zip or holds no such settings (the full load then says what is wrong).
    /// </summary>
    public static ModelPeek? Peek(string path)
    {
        try
        {
            using ZipArchive zip = ZipFile.OpenRead(path);
            foreach ((string settingsFile, string family, string labels) in new[]
            {
                (EarlyExitTextClassifier.Format.SettingsFile, "classify", "Labels"),
                (EarlyExitTokenClassifier.Format.SettingsFile, "ner", "Tags"),
            })
            {
                ZipArchiveEntry? settings = zip.Entries.FirstOrDefault(e => e.Name == settingsFile);
                ZipArchiveEntry? config = settings is null ? null : zip.GetEntry(settings.FullName[..^settings.Name.Length] + "config.json");
                if (settings is null || config is null)
                {
                    continue;
                }

                using JsonDocument settingsJson = JsonDocument.Parse(settings.Open());
                using var configText = new StreamReader(config.Open());
                string[] names = settingsJson.RootElement.GetProperty(labels).EnumerateArray().Select(e => e.GetString() ?? "").ToArray();
                return new ModelPeek(family, names, EncoderConfig.FromJson(configText.ReadToEnd()).NumHiddenLayers);
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException or UnauthorizedAccessException)
        {
            // Not readable this way: the full load reports the problem.
        }

        return null;
    }

    /// <summary>
    /// Loads <paramref name="path"/> and returns the chain and its first <typeparamref name="T"/> that
    /// <paramref name="isOurs"/> accepts.
    /// </summary>
    /// <param name="ml">The ML.NET context.</param>
    /// <param name="path">The --model file.</param>
    /// <param name="family">The command family that writes such models: classify or ner.</param>
    /// <param name="isOurs">Whether the transformer found reads the columns that family's train command writes.</param>
    /// <param name="whatIsMissing">
    /// The end of the message when no transformer of this family is there (called with null) or the one found is not
    /// <paramref name="isOurs"/> (called with it), e.g. "its Palbert classifier reads column 'Text', not 'Sentence1'".
    /// </param>
    /// <exception cref="CliException">The file is missing, unreadable, or not a model of <paramref name="family"/>; the message says which command to use.</exception>
    public static (ITransformer Model, T Transformer) Load<T>(MLContext ml, string path, string family, Func<T, bool> isOurs, Func<T?, string> whatIsMissing)
        where T : class, ITransformer, IDisposable
    {
        string train = $"'{Cli.ToolName} {family} train'";
        if (Directory.Exists(path))
        {
            throw new CliException($"--model '{path}' is a folder; name the model .zip written by {train}.");
        }

        if (!File.Exists(path))
        {
            throw new CliException($"Model file '{path}' does not exist; train one with {train[..^1]} ... --out {path}'.");
        }

        if (Peek(path) is { } peek && peek.Family != family)
        {
            string other = peek.Family == "ner" ? "it is a named-entity tagger: use 'earlyexit ner'" : "it is a text classifier: use 'earlyexit classify'";
            throw new CliException($"'{path}' is an ML.NET model but not one written by {train} ({other}).");
        }

        ITransformer model;
        try
        {
            model = ml.Model.LoadUnwrapped(path, out _);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new CliException($"Cannot load model '{path}': {e.Message.TrimEnd('.')}. Is it a whole model .zip written by {train}?", e);
        }

        IEnumerable<ITransformer> parts = model as IEnumerable<ITransformer> ?? [model];
        T? found = parts.OfType<T>().FirstOrDefault();
        if (found is null || !isOurs(found))
        {
            string other = found is not null ? whatIsMissing(found)
                : parts.Any(p => p.GetType().Name == "PalbertTransformer") ? "it is a text classifier: use 'earlyexit classify'"
                : parts.Any(p => p.GetType().Name == "TokenEarlyExitNerTransformer") ? "it is a named-entity tagger: use 'earlyexit ner'"
                : whatIsMissing(null);
            foreach (IDisposable disposable in parts.OfType<IDisposable>())
            {
                disposable.Dispose();
            }

            throw new CliException($"'{path}' is an ML.NET model but not one written by {train} ({other}).");
        }

        return (model, found);
    }
}

/// <summary>
/// A model zip written by a train command, loaded: the ML.NET chain and its early-exit transformer. The two
/// kinds are <see cref="Classify.ModelFile"/> and <see cref="Ner.NerModelFile"/>.
/// </summary>
/// <typeparam name="TTransformer">The family's transformer.</typeparam>
/// <typeparam name="TClassifier">Its deployable classifier.</typeparam>
/// <typeparam name="TCriterion">Its kind of exit criterion.</typeparam>
internal abstract class ModelZipFile<TTransformer, TClassifier, TCriterion> : IDisposable
    where TTransformer : EarlyExitTransformer<TTransformer, TClassifier, TCriterion>
    where TClassifier : EarlyExitClassifier<TCriterion>
    where TCriterion : class
{
    private protected ModelZipFile(string path, ITransformer model, TTransformer transformer)
    {
        Path = path;
        Model = model;
        Transformer = transformer;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>The whole chain (MapValueToKey, the early-exit transformer, MapKeyToValue).</summary>
    public ITransformer Model { get; }

    /// <summary>The early-exit transformer inside the chain.</summary>
    public TTransformer Transformer { get; }

    /// <summary>Frees the model.</summary>
    public void Dispose() => Transformer.Dispose();

    /// <summary>
    /// Loads the chain (<see cref="ModelZip.Load"/>), wraps it with <paramref name="create"/>, checks it with
    /// <paramref name="check"/> and moves it onto <paramref name="device"/> when given (else $EARLYEXIT_DEVICE,
    /// default auto); the model is freed if any step fails.
    /// </summary>
    /// <exception cref="CliException">The file is missing, or is not a model the family's commands serve.</exception>
    private protected static TFile Load<TFile>(MLContext ml, string path, string family, Func<TTransformer, bool> isOurs, Func<TTransformer?, string> whatIsMissing,
        Func<ITransformer, TTransformer, TFile> create, DeviceOption? device, Action<TFile>? check = null)
        where TFile : ModelZipFile<TTransformer, TClassifier, TCriterion>
    {
        (ITransformer model, TTransformer transformer) = ModelZip.Load(ml, path, family, isOurs, whatIsMissing);
        TFile file;
        try
        {
            file = create(model, transformer);
        }
        catch
        {
            transformer.Dispose();
            throw;
        }

        try
        {
            check?.Invoke(file);
            if (device is not null)
            {
                transformer.Classifier.MoveTo(device);
            }

            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>What the zip's settings say, when it is a model of <paramref name="family"/> (else the full load reports what is wrong).</summary>
    private protected static ModelPeek? PeekFamily(string path, string family) => ModelZip.Peek(path) is { } peek && peek.Family == family ? peek : null;
}
