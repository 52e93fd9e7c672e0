using System.Text;
using EarlyExit.Hub;
using EarlyExit.Tests.TestSupport;

namespace EarlyExit.Tests.Hub;

/// <summary>The hub download path, against <see cref="LoopbackHubServer"/> on 127.0.0.1 (no internet here).</summary>
public sealed class ModelLocatorTests : IDisposable
{
    private const string Repo = "test-org/tiny-bert";
    private static readonly byte[] s_config = Encoding.UTF8.GetBytes("{\"model_type\": \"bert\", \"hidden_size\": 8}");
    private static readonly byte[] s_vocab = Encoding.UTF8.GetBytes("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n");
    private static readonly byte[] s_weights = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray();
    private readonly string _root = Directory.CreateTempSubdirectory("hub-tests-").FullName;
    private readonly LoopbackHubServer _server = new();

    public ModelLocatorTests()
    {
        _server.AddFile(Repo, "config.json", s_config);
        _server.AddFile(Repo, "vocab.txt", s_vocab);
        _server.AddFile(Repo, "model.safetensors", s_weights, large: true);
    }

    public void Dispose()
    {
        _server.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public void Locate_HubId_DownloadsConfigTokenizerAndWeightsIntoCache()
    {
        ModelLocation location = ModelLocator.Locate(Repo, includeWeights: true, Options());

        Assert.Equal(ModelSource.Downloaded, location.Source);
        Assert.Equal(Path.Combine(_root, "cache", "models", "test-org-tiny-bert"), location.Folder);
        Assert.Equal(s_config, File.ReadAllBytes(Path.Combine(location.Folder, "config.json")));
        Assert.Equal(s_vocab, File.ReadAllBytes(Path.Combine(location.Folder, "vocab.txt")));
        Assert.Equal(s_weights, File.ReadAllBytes(Path.Combine(location.Folder, "model.safetensors")));
        Assert.Empty(Directory.GetFiles(location.Folder, "*.part*"));
        Assert.Contains($"GET /{Repo}/resolve/main/model.safetensors", _server.Requests);
        Assert.Contains($"GET /cdn/{Repo}/resolve/main/model.safetensors", _server.Requests);
    }

    [Fact]
    public void Locate_SecondTime_UsesCacheWithoutAnyRequest()
    {
        ModelLocator.Locate(Repo, includeWeights: true, Options());
        int before = _server.Requests.Count;

        ModelLocation again = ModelLocator.Locate(Repo, includeWeights: true, Options());

        Assert.Equal(ModelSource.Cache, again.Source);
        Assert.Equal(before, _server.Requests.Count);
    }

    [Fact]
    public void Locate_FromScratch_DoesNotDownloadWeights()
    {
        ModelLocation location = ModelLocator.Locate(Repo, includeWeights: false, Options());

        Assert.False(File.Exists(Path.Combine(location.Folder, "model.safetensors")));
        Assert.Equal(0, _server.CountRequests("model.safetensors"));
    }

    [Fact]
    public void Locate_MirrorHasModel_UsesMirrorWithoutAnyRequest()
    {
        string mirrored = Path.Combine(_root, "mirror", "models", "test-org-tiny-bert");
        Directory.CreateDirectory(mirrored);
        File.WriteAllBytes(Path.Combine(mirrored, "config.json"), s_config);
        File.WriteAllBytes(Path.Combine(mirrored, "model.safetensors"), s_weights);
        HubOptions options = Options();
        options.MirrorDirectory = Path.Combine(_root, "mirror");

        ModelLocation location = ModelLocator.Locate(Repo, includeWeights: true, options);

        Assert.Equal(ModelSource.Mirror, location.Source);
        Assert.Equal(mirrored, location.Folder);
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public void Locate_MirrorEntryWithoutWeights_ServesFromScratchOnlyAndDownloadsForWeights()
    {
        string mirrored = Path.Combine(_root, "mirror", "models", "test-org-tiny-bert");
        Directory.CreateDirectory(mirrored);
        File.WriteAllBytes(Path.Combine(mirrored, "config.json"), s_config);
        HubOptions options = Options();
        options.MirrorDirectory = Path.Combine(_root, "mirror");

        ModelLocation configOnly = ModelLocator.Locate(Repo, includeWeights: false, options);
        ModelLocation withWeights = ModelLocator.Locate(Repo, includeWeights: true, options);

        Assert.Equal((ModelSource.Mirror, mirrored), (configOnly.Source, configOnly.Folder));
        Assert.Equal(ModelSource.Downloaded, withWeights.Source);
        Assert.Equal(s_weights, File.ReadAllBytes(Path.Combine(withWeights.Folder, "model.safetensors")));
    }

    [Fact]
    public void Locate_OfflineAndNotCached_ThrowsSayingWhereItLooked()
    {
        HubOptions options = Options();
        options.Offline = true;

        var error = Assert.Throws<FileNotFoundException>(() => ModelLocator.Locate(Repo, includeWeights: true, options));

        Assert.Contains("offline", error.Message);
        Assert.Contains("config.json", error.Message);
        Assert.Contains(Path.Combine(_root, "cache"), error.Message);
        Assert.Contains(HubOptions.MirrorVariable, error.Message);
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public void Locate_InterruptedDownload_KeepsOnlyPartThenResumesWithRange()
    {
        _server.CutShort[$"/{Repo}/resolve/main/model.safetensors"] = (1, 100_000);
        HubOptions options = Options();
        options.MaxRetries = 0;

        var error = Assert.Throws<IOException>(() => ModelLocator.Locate(Repo, includeWeights: true, options));
        string folder = Path.Combine(_root, "cache", "models", "test-org-tiny-bert");
        Assert.Contains("100000 byte(s) are kept", error.Message);
        Assert.False(File.Exists(Path.Combine(folder, "model.safetensors")), "A half-written file must never appear under its final name.");
        Assert.Equal(100_000, new FileInfo(Path.Combine(folder, "model.safetensors.part")).Length);

        ModelLocation location = ModelLocator.Locate(Repo, includeWeights: true, options);

        Assert.Equal(s_weights, File.ReadAllBytes(Path.Combine(location.Folder, "model.safetensors")));
        Assert.Contains(_server.Requests, r => r.StartsWith($"GET /cdn/{Repo}/resolve/main/model.safetensors Range: bytes=100000-", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(folder, "model.safetensors.part")));
    }

    [Fact]
    public void Locate_ConnectionDropsOnce_ResumesWithinTheSameCall()
    {
        _server.CutShort[$"/{Repo}/resolve/main/model.safetensors"] = (1, 50_000);

        ModelLocation location = ModelLocator.Locate(Repo, includeWeights: true, Options());

        Assert.Equal(s_weights, File.ReadAllBytes(Path.Combine(location.Folder, "model.safetensors")));
        Assert.Equal(1, _server.CountRequests($"GET /cdn/{Repo}/resolve/main/model.safetensors Range: bytes=50000-"));
    }

    [Theory]
    [InlineData("model.safetensors")] // LFS file: sha256 from X-Linked-Etag
    [InlineData("config.json")] // regular file: git blob sha1 from ETag
    public void Locate_CorruptDownload_DeletesItAndThrows(string file)
    {
        _server.Corrupt[$"/{Repo}/resolve/main/{file}"] = true;

        var error = Assert.Throws<HubIntegrityException>(() => ModelLocator.Locate(Repo, includeWeights: true, Options()));

        Assert.Contains("does not match the hash", error.Message);
        Assert.Contains(file, error.Message);
        string folder = Path.Combine(_root, "cache", "models", "test-org-tiny-bert");
        Assert.False(File.Exists(Path.Combine(folder, file)));
        Assert.False(File.Exists(Path.Combine(folder, file + ".part")));
    }

    [Fact]
    public void Locate_HubHasOnlyPickleWeights_ExplainsTheConversion()
    {
        const string repo = "test-org/pickle-only";
        _server.AddFile(repo, "config.json", s_config);
        _server.AddFile(repo, "vocab.txt", s_vocab);
        _server.AddFile(repo, "pytorch_model.bin", [1, 2, 3]);

        var error = Assert.Throws<FileNotFoundException>(() => ModelLocator.Locate(repo, includeWeights: true, Options()));

        Assert.Contains("pytorch_model.bin", error.Message);
        Assert.Contains("model.safetensors", error.Message);
    }

    [Fact]
    public void Locate_OptionalTokenizerConfigMissing_AsksTheHubOnlyOnce()
    {
        ModelLocator.Locate(Repo, includeWeights: false, Options());
        ModelLocator.Locate(Repo, includeWeights: false, Options());

        Assert.Equal(1, _server.CountRequests("tokenizer_config.json"));
    }

    [Fact]
    public void Locate_HubUnreachable_ThrowsNamingEndpointAndMirror()
    {
        HubOptions options = Options();
        options.Endpoint = "http://127.0.0.1:1";
        options.MaxRetries = 0;

        var error = Assert.Throws<IOException>(() => ModelLocator.Locate(Repo, includeWeights: true, options));

        Assert.Contains("http://127.0.0.1:1", error.Message);
        Assert.Contains(HubOptions.MirrorVariable, error.Message);
    }

    [Theory]
    [InlineData("../not/a/model")]
    [InlineData("a/b/c")]
    [InlineData("/definitely/missing/folder")]
    public void Locate_NeitherFolderNorHubId_ThrowsDirectoryNotFound(string text)
    {
        var error = Assert.Throws<DirectoryNotFoundException>(() => ModelLocator.Locate(text, includeWeights: true, Options()));

        Assert.Contains(text, error.Message);
    }

    [Fact]
    public void Locate_ExistingFolder_IsUsedAsIs()
    {
        string folder = Directory.CreateDirectory(Path.Combine(_root, "local-model")).FullName;

        ModelLocation location = ModelLocator.Locate(folder, includeWeights: true, Options());

        Assert.Equal(ModelSource.LocalFolder, location.Source);
        Assert.Equal(folder, location.Folder);
    }

    [Fact]
    public void Locate_SharedFolderAsMirror_FindsRealCheckpointLayout()
    {
        // ../shared follows the mirror layout: models/<id with '/' replaced by '-'>/.
        HubOptions options = Options();
        options.MirrorDirectory = SharedAssets.Root;
        options.Offline = true;

        ModelLocation location = ModelLocator.Locate("google/electra-small-discriminator", includeWeights: false, options);

        Assert.Equal(ModelSource.Mirror, location.Source);
        Assert.True(File.Exists(Path.Combine(location.Folder, "vocab.txt")));
    }

    [Fact]
    public void DiscoverMirror_FromInsideTheRepository_FindsSharedBesideIt()
    {
        string expected = Path.GetFullPath(Path.Combine(SharedAssets.RepoRoot, "..", "shared"));
        Assert.True(Directory.Exists(Path.Combine(expected, "models")), $"This test needs the shared assets folder at '{expected}'.");

        Assert.Equal(expected, HubOptions.DiscoverMirror());
    }

    [Fact]
    public void Locate_Alias_ResolvesToTheHubIdInTheMirror()
    {
        HubOptions options = Options();
        options.MirrorDirectory = SharedAssets.Root;
        options.Offline = true;

        ModelLocation location = ModelLocator.Locate("minilm", includeWeights: true, options);

        Assert.Equal(ModelSource.Mirror, location.Source);
        Assert.Equal(ModelLocator.MiniLmId, location.RepoId);
        Assert.True(File.Exists(Path.Combine(location.Folder, "model.safetensors")));
    }

    private HubOptions Options() => new()
    {
        Endpoint = _server.Endpoint,
        CacheDirectory = Path.Combine(_root, "cache"),
        MirrorDirectory = null,
        Offline = false,
        Token = null,
        MaxRetries = 2,
        RequestTimeout = TimeSpan.FromSeconds(10),
    };
}
