namespace EarlyExit.Tests.TestSupport;

/// <summary>
/// Locates the read-only <c>../shared</c> folder beside the repository (datasets, model folders and
/// Hugging Face goldens). Tests that need it call these members, which fail with one clear message
/// when it is missing instead of a FileNotFoundException deep inside a test.
/// </summary>
internal static class SharedAssets
{
    /// <summary>Environment variable that points at a shared folder elsewhere.</summary>
    public const string SharedRootVariable = "EARLYEXIT_SHARED";

    /// <summary>Environment variable that points the parity tests at another root of golden folders.</summary>
    public const string GoldenRootVariable = "EARLYEXIT_GOLDEN_ROOT";

    private static readonly Lazy<string> s_repoRoot = new(FindRepoRoot);

    /// <summary>The repository root (the folder holding EarlyExit.MLNet.sln).</summary>
    public static string RepoRoot => s_repoRoot.Value;

    /// <summary>The shared folder: <c>$EARLYEXIT_SHARED</c>, else <c>../shared</c> beside the repository.</summary>
    public static string Root
    {
        get
        {
            string? overridden = Environment.GetEnvironmentVariable(SharedRootVariable);
            string root = string.IsNullOrEmpty(overridden) ? Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared")) : overridden;
            if (!Directory.Exists(root))
            {
                throw new DirectoryNotFoundException(
                    $"These tests read the shared assets folder, expected at '{root}' (../shared beside the repository), but it is missing. " +
                    $"Put the shared folder there or set {SharedRootVariable} to its path.");
            }

            return root;
        }
    }

    /// <summary>The root under which every <c>golden/</c> folder is checked: <c>$EARLYEXIT_GOLDEN_ROOT</c>, else <c>shared/models</c>.</summary>
    public static string GoldenRoot
    {
        get
        {
            string? overridden = Environment.GetEnvironmentVariable(GoldenRootVariable);
            if (!string.IsNullOrEmpty(overridden))
            {
                if (!Directory.Exists(overridden))
                {
                    throw new DirectoryNotFoundException($"{GoldenRootVariable} is set to '{overridden}', which does not exist.");
                }

                return overridden;
            }

            return Model(string.Empty);
        }
    }

    /// <summary>A folder under <c>shared/models</c>, e.g. <c>Model("random-bert-tiny")</c>.</summary>
    public static string Model(string name) => RequireDirectory(Path.Combine(Root, "models", name));

    /// <summary>A file or folder under <c>shared/data</c>, e.g. <c>Data("SST-2/dev.tsv")</c>.</summary>
    public static string Data(string relativePath)
    {
        string path = Path.Combine(Root, "data", relativePath);
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            throw new FileNotFoundException($"Shared data '{relativePath}' is missing under '{Path.Combine(Root, "data")}'.", path);
        }

        return path;
    }

    private static string RequireDirectory(string path)
    {
        if (!Directory.Exists(path))
        {
            throw new DirectoryNotFoundException($"Shared folder '{path}' is missing; the shared assets folder at '{Root}' looks incomplete.");
        }

        return path;
    }

    private static string FindRepoRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "EarlyExit.MLNet.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"Cannot find EarlyExit.MLNet.sln above '{AppContext.BaseDirectory}'; run the tests from the repository.");
    }
}
