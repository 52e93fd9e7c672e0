// Turns what a user names a model by into a local folder holding its Hugging Face files.
//
//   an existing folder          -> used as it is
//   a short alias ("minilm")    -> the hub id it stands for (Aliases), then as below
//   a hub id ("albert-base-v2", "google/electra-small-discriminator")
//        1. mirror:   $EARLYEXIT_ASSETS/models/<id with '/' replaced by '-'>/   (when it has config.json)
//        2. cache:    $EARLYEXIT_CACHE/models/<id with '/' replaced by '-'>[@revision]/
//        3. download: the files the cache lacks, from {endpoint}/{id}/resolve/{revision}/{file}
//
// Which files: config.json, then (from its model_type) the family's tokenizer files, the optional
// tokenizer_config.json / special_tokens_map.json, sentence-transformers' optional modules.json and
// pooling config (the pooling the checkpoint declares), and model.safetensors unless only the
// configuration is wanted (training from scratch). The caller (the encoder and tokenizer loaders)
// then reads the folder exactly as it reads a local one, so every load goes through one path.
using System.Text.Json;
using System.Text.RegularExpressions;
using EarlyExit.Checkpoints;
using EarlyExit.Tokenization;
using static EarlyExit.Checkpoints.CheckpointLoader;

namespace EarlyExit.Hub;

/// <summary>Where a located model's files came from.</summary>
public enum ModelSource
{
    /// <summary>A folder the caller named.</summary>
    LocalFolder,
    /// <summary>The local mirror (<see cref="HubOptions.MirrorDirectory"/>).</summary>
    Mirror,
    /// <summary>The download cache; nothing needed downloading.</summary>
    Cache,
    /// <summary>The download cache, after downloading at least one file.</summary>
    Downloaded,
}

/// <summary>A model's local folder and where it came from.</summary>
/// <param name="Folder">The folder holding config.json, weights and tokenizer files.</param>
/// <param name="Source">Where the files came from.</param>
/// <param name="RepoId">The hub id, or null for a local folder.</param>
public sealed record ModelLocation(string Folder, ModelSource Source, string? RepoId);

/// <summary>Finds or downloads a model's files; see the file header for the order.</summary>
public static partial class ModelLocator
{
    /// <summary>The id of the pretrained checkpoint the examples and benchmarks use (a 6-layer BERT, hidden 384).</summary>
    public const string MiniLmId = "sentence-transformers/all-MiniLM-L6-v2";

    /// <summary>Short names that stand for hub ids: <c>minilm</c> is <see cref="MiniLmId"/>.</summary>
    public static IReadOnlyDictionary<string, string> Aliases { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["minilm"] = MiniLmId,
    };

    /// <summary>The hub id <paramref name="name"/> stands for when it is an alias (see <see cref="Aliases"/>), else <paramref name="name"/> itself.</summary>
    public static string ResolveAlias(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Aliases.TryGetValue(name, out string? id) ? id : name;
    }

    /// <summary>Whether <paramref name="text"/> has the form of a hub model id (<c>name</c> or <c>owner/name</c>).</summary>
    public static bool IsHubId(string text) => HubIdPattern().IsMatch(text) && !text.Contains("..", StringComparison.Ordinal);

    /// <summary>
    /// Returns a local folder with the model's files: <paramref name="idOrPath"/> itself when it is a
    /// folder, else the mirror or cache folder of that hub id, downloading what is missing.
    /// </summary>
    /// <param name="idOrPath">A folder path, a hub id or an alias of one (<see cref="Aliases"/>).</param>
    /// <param name="includeWeights">Whether model.safetensors is needed (false when training from scratch).</param>
    /// <param name="options">Mirror, cache, endpoint and offline settings; null for the environment's defaults.</param>
    /// <param name="cancellationToken">Cancels downloads.</param>
    /// <exception cref="DirectoryNotFoundException">A path that does not exist and is no hub id.</exception>
    /// <exception cref="FileNotFoundException">Offline (or the hub lacks files) and a needed file is missing; the message lists where it looked.</exception>
    public static async Task<ModelLocation> LocateAsync(string idOrPath, bool includeWeights, HubOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(idOrPath);
        if (Directory.Exists(idOrPath))
        {
            return new ModelLocation(Path.GetFullPath(idOrPath), ModelSource.LocalFolder, null);
        }

        idOrPath = ResolveAlias(idOrPath);
        if (!IsHubId(idOrPath))
        {
            throw new DirectoryNotFoundException(
                $"Model '{idOrPath}' is neither an existing folder nor a Hugging Face model id (like 'albert-base-v2' or 'google/electra-small-discriminator').");
        }

        options ??= new HubOptions();
        string dashed = idOrPath.Replace('/', '-');
        if (options.MirrorDirectory is not null)
        {
            string mirrored = Path.Combine(options.MirrorDirectory, "models", dashed);
            // A mirror entry serves only what it holds: a config-only entry (enough to train from scratch)
            // leaves the weights to the cache and the hub.
            if (File.Exists(Path.Combine(mirrored, ConfigFileName)) && (!includeWeights || File.Exists(Path.Combine(mirrored, WeightsFileName))))
            {
                return new ModelLocation(Path.GetFullPath(mirrored), ModelSource.Mirror, idOrPath);
            }
        }

        string revisionSuffix = options.Revision == "main" ? string.Empty : "@" + SafeRevision(options.Revision);
        string cache = Path.GetFullPath(Path.Combine(options.CacheDirectory, "models", dashed + revisionSuffix));
        using var downloader = new HubFileDownloader(options);
        var fetcher = new Fetcher(idOrPath, cache, options, downloader);
        await fetcher.RequireAsync(ConfigFileName, cancellationToken).ConfigureAwait(false);
        string modelType = ReadModelType(Path.Combine(cache, ConfigFileName));
        foreach (string file in TextTokenizer.RequiredFiles(modelType))
        {
            await fetcher.RequireAsync(file, cancellationToken).ConfigureAwait(false);
        }

        foreach (string file in TextTokenizer.OptionalFiles)
        {
            await fetcher.OptionalAsync(file, cancellationToken).ConfigureAwait(false);
        }

        // sentence-transformers checkpoints declare their pooling (read by PretrainedEncoder.DeclaredPooling).
        await fetcher.OptionalAsync(PoolingDeclaration.ModulesFileName, cancellationToken).ConfigureAwait(false);
        string modules = Path.Combine(cache, PoolingDeclaration.ModulesFileName);
        if (File.Exists(modules) && PoolingDeclaration.PoolingConfigPath(modules) is string poolingConfig)
        {
            await fetcher.OptionalAsync(poolingConfig, cancellationToken).ConfigureAwait(false);
        }

        if (includeWeights)
        {
            await fetcher.RequireWeightsAsync(cancellationToken).ConfigureAwait(false);
        }

        return new ModelLocation(cache, fetcher.Downloaded ? ModelSource.Downloaded : ModelSource.Cache, idOrPath);
    }

    /// <summary>Synchronous <see cref="LocateAsync"/>.</summary>
    public static ModelLocation Locate(string idOrPath, bool includeWeights, HubOptions? options = null) =>
        LocateAsync(idOrPath, includeWeights, options).GetAwaiter().GetResult();

    private static string ReadModelType(string configPath)
    {
        using JsonDocument config = JsonDocument.Parse(File.ReadAllText(configPath));
        if (config.RootElement.TryGetProperty("model_type", out JsonElement type) && type.ValueKind == JsonValueKind.String)
        {
            return type.GetString()!;
        }

        throw new InvalidDataException($"'{configPath}' has no \"model_type\"; supported: albert, bert, electra, roberta.");
    }

    private static string SafeRevision(string revision) => string.Concat(revision.Select(c => char.IsLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_'));

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$")]
    private static partial Regex HubIdPattern();

    /// <summary>Fills one cache folder: files already there are used, missing ones downloaded (unless offline).</summary>
    private sealed class Fetcher(string repoId, string folder, HubOptions options, HubFileDownloader downloader)
    {
        public bool Downloaded { get; private set; }

        public async Task RequireAsync(string file, CancellationToken cancellationToken)
        {
            string target = Path.Combine(folder, file);
            if (File.Exists(target))
            {
                return;
            }

            if (options.Offline)
            {
                throw new FileNotFoundException(
                    $"Model '{repoId}' needs '{file}', which is neither in the local mirror ({Describe(options.MirrorDirectory, HubOptions.MirrorVariable)}) " +
                    $"nor in the cache ('{folder}'), and offline mode is on ({HubOptions.OfflineVariable}/HF_HUB_OFFLINE or HubOptions.Offline). " +
                    $"Copy the model's files to '{folder}' or to <mirror>/models/{repoId.Replace('/', '-')}/, pass a local folder instead, or allow downloads.",
                    target);
            }

            try
            {
                await downloader.DownloadAsync(repoId, file, target, cancellationToken).ConfigureAwait(false);
                Downloaded = true;
            }
            catch (HttpRequestException e) when (e.StatusCode is null)
            {
                throw new IOException(
                    $"Cannot reach the Hugging Face hub at {options.Endpoint} to download '{file}' of model '{repoId}' ({e.Message}). " +
                    $"Without network access, pass a local folder or set {HubOptions.MirrorVariable} to a mirror (layout models/<id with '/' replaced by '-'>/), " +
                    $"and set {HubOptions.OfflineVariable}=1.", e);
            }
        }

        public async Task OptionalAsync(string file, CancellationToken cancellationToken)
        {
            string target = Path.Combine(folder, file);
            string missingMarker = target + ".missing";
            if (File.Exists(target) || File.Exists(missingMarker) || options.Offline)
            {
                return;
            }

            try
            {
                await RequireAsync(file, cancellationToken).ConfigureAwait(false);
            }
            catch (HubFileNotFoundException)
            {
                // Remember the hub's answer so later loads do not ask again.
                await File.WriteAllTextAsync(missingMarker, string.Empty, cancellationToken).ConfigureAwait(false);
            }
        }

        public async Task RequireWeightsAsync(CancellationToken cancellationToken)
        {
            try
            {
                await RequireAsync(WeightsFileName, cancellationToken).ConfigureAwait(false);
            }
            catch (HubFileNotFoundException e)
            {
                string hint = await downloader.ExistsAsync(repoId, "model.safetensors.index.json", cancellationToken).ConfigureAwait(false)
                    ? "It has sharded weights (model.safetensors.index.json), which are not supported yet."
                    : await downloader.ExistsAsync(repoId, "pytorch_model.bin", cancellationToken).ConfigureAwait(false)
                        ? "It has only PyTorch pickle weights (pytorch_model.bin), which cannot be read safely; convert them to model.safetensors " +
                          "(e.g. the hub's safetensors conversion, or save_pretrained(safe_serialization=True)) and load that folder."
                        : "It has no weights file at all.";
                throw new FileNotFoundException($"Model '{repoId}' has no '{WeightsFileName}' on the hub at revision '{options.Revision}'. {hint}", WeightsFileName, e);
            }
        }

        private static string Describe(string? directory, string variable) =>
            directory is null ? $"none: {variable} is not set" : $"'{directory}'";
    }
}
