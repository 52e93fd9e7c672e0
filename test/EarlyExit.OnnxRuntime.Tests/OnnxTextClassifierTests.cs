using EarlyExit.Devices;
using EarlyExit.ExitCriteria;
using EarlyExit.Hub;
using EarlyExit.Modeling;
using EarlyExit.Tests.TestSupport;

namespace EarlyExit.OnnxRuntime.Tests;

/// <summary>Loading an export and choosing criteria: what a user gets wrong gets a message naming the fix.</summary>
[Collection("Torch")]
public sealed class OnnxTextClassifierTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("onnx-classifier-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Load_FolderWithoutManifest_NamesTheFileAndTheExport()
    {
        var error = Assert.Throws<FileNotFoundException>(() => OnnxTextClassifier.Load(_root));

        Assert.Contains("onnx.json", error.Message);
        Assert.Contains("ONNX export", error.Message);
    }

    [Fact]
    public void Load_GraphFileMissing_NamesTheFile()
    {
        string folder = Export(halting: true);
        File.Delete(Path.Combine(folder, "layer-1.onnx"));

        var error = Assert.Throws<FileNotFoundException>(() => OnnxTextClassifier.Load(folder));

        Assert.Contains("layer-1.onnx", error.Message);
        Assert.Contains("export the model again", error.Message);
    }

    [Fact]
    public void Load_NewerFormat_AsksForAnUpdate()
    {
        string folder = Export(halting: true);
        string manifest = Path.Combine(folder, "onnx.json");
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"MinReadableVersion\": 1", "\"MinReadableVersion\": 7", StringComparison.Ordinal));

        var error = Assert.Throws<InvalidDataException>(() => OnnxTextClassifier.Load(folder));

        Assert.Contains("Update", error.Message);
    }

    [Fact]
    public void Load_CorruptGraph_SaysWhichFileOnnxRuntimeRefused()
    {
        string folder = Export(halting: true);
        File.WriteAllBytes(Path.Combine(folder, "exit.onnx"), [1, 2, 3]);

        var error = Assert.Throws<InvalidDataException>(() => OnnxTextClassifier.Load(folder));

        Assert.Contains("exit.onnx", error.Message);
    }

    [Fact]
    public void ExitCriterion_NeedsAHaltingHeadTheModelLacks_ThrowsNamingTheAlternatives()
    {
        using OnnxTextClassifier classifier = OnnxTextClassifier.Load(Export(halting: false));

        var error = Assert.Throws<InvalidOperationException>(() => classifier.ExitCriterion = ExitCriterion.QExit());
        Assert.Contains("patience:N", error.Message);
        Assert.Throws<InvalidOperationException>(() => classifier.Predict(["a text"], criterion: ExitCriterion.Expectation()));
    }

    [Fact]
    public void Load_Export_CarriesLabelsLengthAndCriterion()
    {
        using OnnxTextClassifier classifier = OnnxTextClassifier.Load(Export(halting: true));

        Assert.Equal(["negative", "positive"], classifier.Labels);
        Assert.Equal(40, classifier.MaxSequenceLength);
        Assert.Equal(ExitCriterion.QExit(0.4), classifier.ExitCriterion);
        Assert.Equal(2, classifier.NumLayers);
        Assert.True(classifier.HasHaltingHead);
        Assert.Equal(40, classifier.Encode(string.Join(' ', Enumerable.Repeat("word", 100))).Length);
    }

    [Fact]
    public void Export_OverAnEarlierExport_RemovesTheEarlierGraphsAndKeepsOtherFiles()
    {
        string folder = Export(halting: false, heads: ClassifierHeads.PerLayer);
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "mine");
        Assert.True(File.Exists(Path.Combine(folder, "exit-1.onnx")));

        Export(halting: true, folder: folder);

        Assert.False(File.Exists(Path.Combine(folder, "exit-1.onnx")));
        Assert.True(File.Exists(Path.Combine(folder, "notes.txt")));
        using OnnxTextClassifier classifier = OnnxTextClassifier.Load(folder);
        Assert.True(classifier.HasHaltingHead);
    }

    [Fact]
    public void FromClassifier_GraphsInMemory_ScoreAsTheExportedFolderAndOutliveTheClassifier()
    {
        string folder = Path.Combine(_root, "files");
        OnnxTextClassifier inMemory;
        using (EarlyExitTextClassifier classifier = Create(halting: true, ClassifierHeads.PerLayer))
        {
            classifier.ExportOnnx(folder);
            inMemory = OnnxTextClassifier.FromClassifier(classifier);
        }

        using (inMemory)
        {
            using OnnxTextClassifier fromFiles = OnnxTextClassifier.Load(folder);
            string[] texts = ["a good film", "bad", "neither good nor bad, and rather long for a test of this size", "", "ok then"];

            Assert.Equal(fromFiles.ExitCriterion, inMemory.ExitCriterion);
            Assert.Equal(fromFiles.Labels, inMemory.Labels);
            foreach (ExitCriterion criterion in new[] { ExitCriterion.QExit(0.4), ExitCriterion.Full(), ExitCriterion.FixedLayer(1) })
            {
                var expected = fromFiles.Predict(texts, criterion: criterion, batchSize: 2);
                var actual = inMemory.Predict(texts, criterion: criterion, batchSize: 2);
                Assert.Equal(expected.Select(p => p.ExitLayer), actual.Select(p => p.ExitLayer));
                Assert.Equal(expected.SelectMany(p => p.Probabilities), actual.SelectMany(p => p.Probabilities), (a, b) => Math.Abs(a - b) <= 1e-6f);
            }
        }
    }

    [Fact]
    public void Load_EachSpinningSetting_ScoresTheSame()
    {
        string folder = Export(halting: true);
        string[] texts = ["a good film", "bad", "neither good nor bad, and rather long for a test of this size", "ok then"];
        using OnnxTextClassifier byDefault = OnnxTextClassifier.Load(folder);
        var expected = byDefault.Predict(texts, criterion: ExitCriterion.QExit(0.4), batchSize: 2);

        var defaults = new OnnxRuntimeOptions();
        Assert.True(defaults.AllowSpinning && defaults.StopSpinningAfterRun, "the defaults spin while a graph runs only");
        foreach (var options in new[] { new OnnxRuntimeOptions { AllowSpinning = false }, new OnnxRuntimeOptions { StopSpinningAfterRun = false }, new OnnxRuntimeOptions { IntraOpThreads = 1 } })
        {
            using OnnxTextClassifier classifier = OnnxTextClassifier.Load(folder, options);
            var actual = classifier.Predict(texts, criterion: ExitCriterion.QExit(0.4), batchSize: 2);
            Assert.Equal(expected.Select(p => p.ExitLayer), actual.Select(p => p.ExitLayer));
            Assert.Equal(expected.SelectMany(p => p.Probabilities), actual.SelectMany(p => p.Probabilities), (a, b) => Math.Abs(a - b) <= 1e-5f);
        }
    }

    private string Export(bool halting, ClassifierHeads heads = ClassifierHeads.Shared, string? folder = null)
    {
        using EarlyExitTextClassifier classifier = Create(halting, heads);
        folder ??= Path.Combine(_root, Guid.NewGuid().ToString("N"));
        classifier.ExportOnnx(folder);
        return folder;
    }

    private static EarlyExitTextClassifier Create(bool halting, ClassifierHeads heads)
    {
        using PretrainedEncoder backbone = PretrainedEncoder.FromPreset("tiny-bert", new PretrainedEncoderOptions
        {
            Device = DeviceOption.Cpu,
            Hub = new HubOptions { MirrorDirectory = SharedAssets.Root, Offline = true, CacheDirectory = Path.Combine(Path.GetTempPath(), "earlyexit-test-cache") },
        });
        var config = new EarlyExitNetworkConfig { NumLabels = 2, Heads = heads, Halting = halting ? HaltingVariant.Concat : HaltingVariant.None };
        return EarlyExitTextClassifier.Create(backbone, ["negative", "positive"], config, 40, halting ? ExitCriterion.QExit(0.4) : ExitCriterion.Full(), seed: 1);
    }
}
