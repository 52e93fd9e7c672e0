namespace EarlyExit.Hub;

/// <summary>
/// Where model files come from when a model is named by a Hugging Face hub id (e.g. <c>albert-base-v2</c>
/// or <c>google/electra-small-discriminator</c>): a local mirror first, then the download cache, then the
/// hub itself. Defaults come from environment variables so that scripts and CI can steer every load
/// without code changes: a new instance reads them, and properties set afterwards win.
/// </summary>
public sealed class HubOptions
{
    /// <summary>Environment variable naming a local mirror folder (layout <c>models/&lt;id with '/' replaced by '-'&gt;/</c>).</summary>
    public const string MirrorVariable = "EARLYEXIT_ASSETS";

    /// <summary>Environment variable naming the download cache folder.</summary>
    public const string CacheVariable = "EARLYEXIT_CACHE";

    /// <summary>Environment variable that forbids network access when set to 1/true (<c>HF_HUB_OFFLINE</c> is honoured too).</summary>
    public const string OfflineVariable = "EARLYEXIT_OFFLINE";

    /// <summary>The public Hugging Face hub.</summary>
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>The hub's base address.</summary>
    /// <value>The default value is <c>$HF_ENDPOINT</c>, else https://huggingface.co.</value>
    public string Endpoint { get; set; } = Variable("HF_ENDPOINT") ?? DefaultEndpoint;

    /// <summary>The download cache; a hub model's files land in <c>&lt;cache&gt;/models/&lt;id with '/' replaced by '-'&gt;</c>.</summary>
    /// <value>The default value is <c>$EARLYEXIT_CACHE</c>, else <c>~/.cache/earlyexit</c>.</value>
    public string CacheDirectory { get; set; } = DefaultCacheDirectory();

    /// <summary>The folder name <see cref="DiscoverMirror"/> looks for beside the current folder and its parents.</summary>
    public const string DiscoveredMirrorName = "shared";

    /// <summary>A local mirror checked before the cache and the network, or null for none.</summary>
    /// <value>
    /// The default value is <c>$EARLYEXIT_ASSETS</c>; when that is unset, the nearest <c>shared/</c> folder
    /// with a <c>models/</c> folder inside, found by <see cref="DiscoverMirror"/>; else null. Set the
    /// variable to an empty value for no mirror at all. A mirror entry is used only when it holds the files
    /// asked for (config, and the weights unless training from scratch); otherwise the cache and the hub are.
    /// </value>
    public string? MirrorDirectory { get; set; } = Environment.GetEnvironmentVariable(MirrorVariable) is string mirror
        ? (string.IsNullOrWhiteSpace(mirror) ? null : mirror)
        : DiscoverMirror();

    /// <summary>Whether the network may not be used: missing files are then an error that says where they were looked for.</summary>
    /// <value>The default value is true when <c>$EARLYEXIT_OFFLINE</c> or <c>$HF_HUB_OFFLINE</c> is 1 or true, else false.</value>
    public bool Offline { get; set; } = IsTrue(OfflineVariable) || IsTrue("HF_HUB_OFFLINE");

    /// <summary>The branch, tag or commit to download.</summary>
    /// <value>The default value is <c>main</c>.</value>
    public string Revision { get; set; } = "main";

    /// <summary>An access token for gated or private models, or null.</summary>
    /// <value>The default value is <c>$HF_TOKEN</c>, else null.</value>
    public string? Token { get; set; } = Variable("HF_TOKEN");

    /// <summary>How many times an interrupted download is resumed before giving up.</summary>
    /// <value>The default value is 3.</value>
    public int MaxRetries { get; set; } = 3;

    /// <summary>How long to wait for the server to answer a request (not the whole transfer).</summary>
    /// <value>The default value is 60 seconds.</value>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Receives download progress, or null.</summary>
    /// <value>The default value is null.</value>
    public IProgress<HubDownloadProgress>? Progress { get; set; }

    /// <summary>The HTTP handler to send requests with (a proxy-aware handler, or a test double), or null for the default.</summary>
    /// <value>The default value is null.</value>
    public HttpMessageHandler? HttpHandler { get; set; }

    /// <summary>
    /// Finds a mirror nobody configured: the first folder <c>D/shared</c> that holds a <c>models/</c>
    /// folder, for D the current folder and each of its parents, then the application's folder and
    /// each of its parents. A repository checked out beside the project's <c>shared/</c> assets folder
    /// (<c>../shared</c>) thus resolves the hub ids mirrored there with no setting and no download.
    /// </summary>
    /// <returns>The mirror folder, or null when there is none.</returns>
    public static string? DiscoverMirror()
    {
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (DirectoryInfo? directory = new(start); directory is not null; directory = directory.Parent)
            {
                string candidate = Path.Combine(directory.FullName, DiscoveredMirrorName);
                if (Directory.Exists(Path.Combine(candidate, "models")))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    private static string DefaultCacheDirectory()
    {
        string? configured = Variable(CacheVariable);
        if (configured is not null)
        {
            return configured;
        }

        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(home, ".cache", "earlyexit");
    }

    private static string? Variable(string name)
    {
        string? value = Environment.GetEnvironmentVariable(name);
        return string.IsNullOrWhiteSpace(value) ? null : value;
    }

    private static bool IsTrue(string variable)
    {
        string? value = Environment.GetEnvironmentVariable(variable)?.Trim();
        return value is "1" || string.Equals(value, "true", StringComparison.OrdinalIgnoreCase) || string.Equals(value, "yes", StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>Progress of one file download.</summary>
/// <param name="RepoId">The hub model id.</param>
/// <param name="FileName">The file being downloaded.</param>
/// <param name="BytesDone">Bytes on disk so far (a resumed download starts above zero).</param>
/// <param name="TotalBytes">The file's size when the server said it, else null.</param>
public readonly record struct HubDownloadProgress(string RepoId, string FileName, long BytesDone, long? TotalBytes);
