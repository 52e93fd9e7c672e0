using EarlyExit.Checkpoints;
using EarlyExit.Devices;
using EarlyExit.ExitCriteria;
using EarlyExit.Hub;
using EarlyExit.Inference;
using EarlyExit.Modeling;
using EarlyExit.Tests.TestSupport;
using EarlyExit.Tests.Training;
using EarlyExit.Training;

namespace EarlyExit.Tests;

[Collection("Torch")]
public sealed class EarlyExitTextClassifierTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("text-classifier-tests-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Save_ThenLoad_PredictsIdentically()
    {
        using EarlyExitTextClassifier classifier = Trained();
        string[] texts = ToyClassification.Sentences(20, seed: 4).Select(s => s.Text).ToArray();
        ClassificationPrediction[] before = classifier.Predict(texts);

        classifier.Save(Path.Combine(_root, "saved"));
        using EarlyExitTextClassifier loaded = EarlyExitTextClassifier.Load(Path.Combine(_root, "saved"), DeviceOption.Cpu);
        ClassificationPrediction[] after = loaded.Predict(texts);

        Assert.Equal(["negative", "positive"], loaded.Labels);
        Assert.Equal(classifier.ExitCriterion, loaded.ExitCriterion);
        Assert.Equal(before.Select(p => (p.ExitLayer, p.PredictedClass)), after.Select(p => (p.ExitLayer, p.PredictedClass)));
        Assert.Equal(before.SelectMany(p => p.Probabilities), after.SelectMany(p => p.Probabilities));
    }

    [Fact]
    public void ExitCriterion_ChangedWithoutRetraining_ChangesExits()
    {
        using EarlyExitTextClassifier classifier = Trained();
        string[] texts = ToyClassification.Sentences(20, seed: 4).Select(s => s.Text).ToArray();

        classifier.ExitCriterion = ExitCriterion.FixedLayer(1);
        Assert.All(classifier.Predict(texts), p => Assert.Equal(1, p.ExitLayer));
        classifier.ExitCriterion = ExitCriterion.Full();
        Assert.All(classifier.Predict(texts), p => Assert.Equal(classifier.NumLayers, p.ExitLayer));
    }

    [Fact]
    public void WarmUp_ModelInTrainingMode_ScoresAndChangesNoPrediction()
    {
        using EarlyExitTextClassifier classifier = Trained();
        string[] texts = ToyClassification.Sentences(20, seed: 4).Select(s => s.Text).ToArray();
        ClassificationPrediction[] before = classifier.Predict(texts);
        classifier.Model.train();

        classifier.WarmUp(batchSize: 4);

        Assert.False(classifier.Model.training, "The warm-up did not score: scoring puts the model in eval mode.");
        Assert.Equal(before.SelectMany(p => p.Probabilities), classifier.Predict(texts).SelectMany(p => p.Probabilities));
        Assert.Throws<ArgumentOutOfRangeException>(() => classifier.WarmUp(batchSize: 0));
    }

    [Fact]
    public void ExitCriterion_LayerPastTheModel_Throws()
    {
        using EarlyExitTextClassifier classifier = Trained(epochs: 0);

        var error = Assert.Throws<InvalidOperationException>(() => classifier.ExitCriterion = ExitCriterion.FixedLayer(9));
        Assert.Contains("layer:1 to layer:2", error.Message);
    }

    [Fact]
    public void Load_NewerFormat_ThrowsAskingForAnUpdate()
    {
        using EarlyExitTextClassifier classifier = Trained(epochs: 0);
        string folder = Path.Combine(_root, "newer");
        classifier.Save(folder);
        string settings = Path.Combine(folder, EarlyExitTextClassifier.Format.SettingsFile);
        File.WriteAllText(settings, File.ReadAllText(settings).Replace("\"MinReadableVersion\": 1", "\"MinReadableVersion\": 99", StringComparison.Ordinal));

        var error = Assert.Throws<InvalidDataException>(() => EarlyExitTextClassifier.Load(folder, DeviceOption.Cpu));
        Assert.Contains("99", error.Message);
        Assert.Contains("Update", error.Message);
    }

    [Fact]
    public void Save_MeanPooling_IsKeptAndUnreadableForFormatOneReaders()
    {
        using EarlyExitTextClassifier classifier = Trained(epochs: 1, pooling: HeadPooling.Mean);
        string[] texts = ToyClassification.Sentences(12, seed: 4).Select(s => s.Text).ToArray();
        string folder = Path.Combine(_root, "mean");

        classifier.Save(folder);
        using EarlyExitTextClassifier loaded = EarlyExitTextClassifier.Load(folder, DeviceOption.Cpu);

        string settings = File.ReadAllText(Path.Combine(folder, EarlyExitTextClassifier.Format.SettingsFile));
        Assert.Contains("\"MinReadableVersion\": 2", settings);
        Assert.Contains("\"Pooling\": \"Mean\"", settings);
        Assert.Equal(HeadPooling.Mean, loaded.Model.Config.Pooling);
        Assert.Equal(classifier.Predict(texts).SelectMany(p => p.Probabilities), loaded.Predict(texts).SelectMany(p => p.Probabilities));
    }

    [Fact]
    public void Save_HaltingReadsConfidence_IsKeptAndUnreadableForFormatOneReaders()
    {
        using PretrainedEncoder backbone = Backbone();
        using EarlyExitTextClassifier classifier = EarlyExitTextClassifier.Create(
            backbone, ["negative", "positive"], new EarlyExitNetworkConfig { NumLabels = 2, HaltingReadsConfidence = true }, 64, ExitCriterion.QExit(), seed: 1);
        string[] texts = ToyClassification.Sentences(12, seed: 4).Select(s => s.Text).ToArray();
        string folder = Path.Combine(_root, "confidence");

        classifier.Save(folder);
        using EarlyExitTextClassifier loaded = EarlyExitTextClassifier.Load(folder, DeviceOption.Cpu);

        Assert.Contains("\"MinReadableVersion\": 2", File.ReadAllText(Path.Combine(folder, EarlyExitTextClassifier.Format.SettingsFile)));
        Assert.True(loaded.Model.Config.HaltingReadsConfidence);
        Assert.Equal(classifier.Predict(texts).Select(p => p.ExitLayer), loaded.Predict(texts).Select(p => p.ExitLayer));
    }

    [Fact]
    public void Save_LayerAttentionHalting_IsKeptAndUnreadableForOlderReaders_AndNotExported()
    {
        using PretrainedEncoder backbone = Backbone();
        using EarlyExitTextClassifier classifier = EarlyExitTextClassifier.Create(
            backbone, ["negative", "positive"], new EarlyExitNetworkConfig { NumLabels = 2, Halting = HaltingVariant.LayerAttention }, 64, ExitCriterion.QExit(), seed: 1);
        TokenClassifierHeadsTests.FillAttention(classifier.Model.named_parameters(), "halting.pools."); // zero pools would load the same as new ones
        string[] texts = ToyClassification.Sentences(12, seed: 4).Select(s => s.Text).ToArray();
        string folder = Path.Combine(_root, "layer-attention");

        classifier.Save(folder);
        using EarlyExitTextClassifier loaded = EarlyExitTextClassifier.Load(folder, DeviceOption.Cpu);
        var export = Assert.Throws<NotSupportedException>(() => classifier.ExportOnnx(Path.Combine(_root, "layer-attention-onnx")));

        string settings = File.ReadAllText(Path.Combine(folder, EarlyExitTextClassifier.Format.SettingsFile));
        Assert.Contains("\"MinReadableVersion\": 3", settings);
        Assert.Equal(HaltingVariant.LayerAttention, loaded.Model.Config.Halting);
        Assert.Equal(classifier.Predict(texts, criterion: ExitCriterion.Full()).SelectMany(p => p.HaltingDistribution!), loaded.Predict(texts, criterion: ExitCriterion.Full()).SelectMany(p => p.HaltingDistribution!));
        Assert.All(loaded.Model.named_parameters().Where(p => p.name.StartsWith("halting.pools.", StringComparison.Ordinal)),
            p => Assert.True(p.parameter.allclose(classifier.Model.get_parameter(p.name)!, rtol: 0, atol: 0), $"{p.name} was not loaded"));
        Assert.Contains("halting head reads LayerAttention", export.Message);
    }

    [Fact]
    public void Load_HeadsSettingsTheModelRefuses_ThrowsNamingTheSetting()
    {
        using (EarlyExitTextClassifier classifier = Trained(epochs: 0))
        {
            classifier.Save(Path.Combine(_root, "bad-heads"));
        }

        string path = Path.Combine(_root, "bad-heads", EarlyExitTextClassifier.Format.SettingsFile);
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"ClassifierDropout\": 0.1", "\"ClassifierDropout\": 1.5", StringComparison.Ordinal));

        var error = Assert.Throws<ArgumentException>(() => EarlyExitTextClassifier.Load(Path.Combine(_root, "bad-heads"), DeviceOption.Cpu));

        Assert.Contains("ClassifierDropout is 1.5", error.Message);
    }

    [Fact]
    public void Load_HeadsSettingsTheModelRefuses_FreesTheNewEncodersWeights()
    {
        EncoderConfig config = EncoderPresets.Get("tiny-bert");
        var weights = new List<TorchSharp.Modules.Parameter>();

        Assert.Throws<ArgumentException>(() => ModelFolder.BuildAroundEncoder<EarlyExitNetwork>(config, hasPooler: true, encoder =>
        {
            weights.AddRange(encoder.parameters());
            return new EarlyExitNetwork(encoder, new EarlyExitNetworkConfig { NumLabels = 2, ClassifierDropout = 1.5 });
        }));

        Assert.NotEmpty(weights);
        Assert.All(weights, p => Assert.True(p.IsInvalid, "a weight of the refused encoder is still allocated"));
    }

    [Fact]
    public void Dispose_FreesEveryWeightAtOnce()
    {
        EarlyExitTextClassifier classifier = Trained(epochs: 0);
        var weights = classifier.Model.parameters().ToList();

        classifier.Dispose();

        Assert.NotEmpty(weights);
        Assert.All(weights, p => Assert.True(p.IsInvalid, "a weight is still allocated after Dispose"));
    }

    [Fact]
    public void Load_FormatOneFile_ReadsAsClsPooling()
    {
        using EarlyExitTextClassifier classifier = Trained(epochs: 0);
        string folder = Path.Combine(_root, "v1");
        classifier.Save(folder);
        string path = Path.Combine(folder, EarlyExitTextClassifier.Format.SettingsFile);
        string settings = File.ReadAllText(path);
        Assert.Contains("\"MinReadableVersion\": 1", settings);
        File.WriteAllText(path, settings.Replace("\"FormatVersion\": 2", "\"FormatVersion\": 1", StringComparison.Ordinal)
            .Replace("\"Pooling\": \"Cls\",", "", StringComparison.Ordinal));

        using EarlyExitTextClassifier loaded = EarlyExitTextClassifier.Load(folder, DeviceOption.Cpu);

        Assert.DoesNotContain("Pooling", File.ReadAllText(path));
        Assert.Equal(HeadPooling.Cls, loaded.Model.Config.Pooling);
    }

    [Fact]
    public void Save_RegressionModel_RoundTripsItsValues()
    {
        using PretrainedEncoder backbone = Backbone();
        using EarlyExitTextClassifier regressor = EarlyExitTextClassifier.Create(
            backbone, ["similarity"], new EarlyExitNetworkConfig { NumLabels = 1 }, 64, ExitCriterion.Patience(2, 0.1), seed: 1);
        var examples = ToyClassification.Sentences(64, seed: 3).Select(s => new RegressionExample(regressor.Encode(s.Text), s.Label * 5f)).ToList();
        ClassifierTrainingOptions options = ToyClassification.FastOptions();
        options.Epochs = 1;
        ClassifierTrainer.Train(regressor.Model, examples, null, options, regressor.PadTokenId);
        string[] texts = ToyClassification.Sentences(12, seed: 4).Select(s => s.Text).ToArray();
        string folder = Path.Combine(_root, "regressor");

        regressor.Save(folder);
        using EarlyExitTextClassifier loaded = EarlyExitTextClassifier.Load(folder, DeviceOption.Cpu);

        Assert.True(loaded.IsRegression);
        Assert.Equal(["similarity"], loaded.Labels);
        Assert.Equal("patience:2:0.1", loaded.ExitCriterion.Name);
        Assert.Contains("\"MinReadableVersion\": 2", File.ReadAllText(Path.Combine(folder, EarlyExitTextClassifier.Format.SettingsFile)));
        ClassificationPrediction[] before = regressor.Predict(texts);
        ClassificationPrediction[] after = loaded.Predict(texts);
        Assert.Equal(before.Select(p => p.ExitLayer), after.Select(p => p.ExitLayer));
        // Values to float rounding, not bit for bit: once (2026-12-03, all four test assemblies running at
        // once on 2 cores) a bit-for-bit comparison here failed, and passed alone and on every rerun; the
        // likely cause is libtorch's CPU kernels splitting work by the threads free at the time. A wrong
        // save (weights, target statistics) would be off by far more than 1e-4.
        Assert.All(before.Zip(after), pair => Assert.Equal(pair.First.Value, pair.Second.Value, 1e-4f));
        Assert.Throws<InvalidOperationException>(() => loaded.ExitCriterion = ExitCriterion.Entropy(0.2));
    }

    [Fact]
    public void Load_FolderWithoutSettings_SaysItIsNotAClassifier()
    {
        var error = Assert.Throws<FileNotFoundException>(() => EarlyExitTextClassifier.Load(SharedAssets.Model("random-bert-tiny")));

        Assert.Contains("not a saved early-exit text classifier", error.Message);
    }

    [Fact]
    public void Create_DuplicateLabels_Throws()
    {
        using PretrainedEncoder backbone = Backbone();

        var error = Assert.Throws<ArgumentException>(() => EarlyExitTextClassifier.Create(
            backbone, ["yes", "yes"], new EarlyExitNetworkConfig { NumLabels = 2 }, 32, ExitCriterion.QExit(), seed: 1));
        Assert.Contains("'yes' appears twice", error.Message);
    }

    [Fact]
    public void Predict_NullAndEmptyAndOverlongText_AreScored()
    {
        using EarlyExitTextClassifier classifier = Trained(epochs: 0);
        string longText = string.Join(' ', Enumerable.Repeat("word", 500));

        ClassificationPrediction[] predictions = classifier.Predict([null, "", longText]);

        Assert.Equal(3, predictions.Length);
        Assert.Equal(classifier.MaxSequenceLength, classifier.Encode(longText).Length);
    }

    private static PretrainedEncoder Backbone() => PretrainedEncoder.FromPreset("tiny-bert", new PretrainedEncoderOptions
    {
        Device = DeviceOption.Cpu,
        Seed = 2,
        Hub = new HubOptions { MirrorDirectory = SharedAssets.Root, Offline = true, CacheDirectory = Path.Combine(Path.GetTempPath(), "earlyexit-test-cache") },
    });

    private static EarlyExitTextClassifier Trained(int epochs = 2, HeadPooling pooling = HeadPooling.Cls)
    {
        using PretrainedEncoder backbone = Backbone();
        EarlyExitTextClassifier classifier = EarlyExitTextClassifier.Create(
            backbone, ["negative", "positive"], new EarlyExitNetworkConfig { NumLabels = 2, Pooling = pooling }, 64, ExitCriterion.QExit(), seed: 1);
        if (epochs > 0)
        {
            var examples = ToyClassification.Sentences(200, seed: 3).Select(s => new ClassificationExample(classifier.Encode(s.Text), s.Label)).ToList();
            ClassifierTrainingOptions options = ToyClassification.FastOptions();
            options.Epochs = epochs;
            ClassifierTrainer.Train(classifier.Model, examples, null, options, classifier.PadTokenId);
        }

        return classifier;
    }
}
