using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.Modeling;
using EarlyExit.OnnxRuntime.Tests.TestSupport;
using EarlyExit.Tests.TestSupport;
using EarlyExit.Tests.Training;
using EarlyExit.Tokenization;
using EarlyExit.Training;

namespace EarlyExit.OnnxRuntime.Tests;

/// <summary>
/// The ONNX Runtime backend against the TorchSharp one it was exported from: the same predictions and
/// exit layers on every criterion, probabilities within 1e-4, for each family and head variant.
/// </summary>
[Collection("Torch")]
public sealed class OnnxParityTests : IDisposable
{
    private const float Tolerance = 1e-4f;

    private static readonly string[] s_criteria =
        ["full", "layer:1", "layer:2", "qexit:0.5", "qexit:0.3", "sampled:7", "expectation", "patience:1", "entropy:0.2", "entropy:0.9", "entropy:0.99", "maxprob:0.52", "maxprob:0.6", "maxprob:0.95"];

    private readonly string _root = Directory.CreateTempSubdirectory("onnx-parity-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData("random-bert-tiny")]
    [InlineData("random-albert-tiny")]
    [InlineData("random-electra-tiny")]
    [InlineData("random-roberta-tiny")]
    public void Export_EachFamily_ScoresAsTorchOnEveryCriterion(string checkpoint)
    {
        using PretrainedEncoder backbone = PretrainedEncoder.Load(SharedAssets.Model(checkpoint), Options());
        using EarlyExitTextClassifier classifier = EarlyExitTextClassifier.Create(
            backbone, ["negative", "positive"], new EarlyExitNetworkConfig { NumLabels = 2 }, 48, ExitCriterion.QExit(), seed: 3);

        AssertParity(classifier, s_criteria, pairs: checkpoint != "random-roberta-tiny");
    }

    [Theory]
    [InlineData(ClassifierHeads.Shared, HaltingVariant.Concat, HeadPooling.Cls, false)]
    [InlineData(ClassifierHeads.PerLayer, HaltingVariant.None, HeadPooling.Mean, false)]
    [InlineData(ClassifierHeads.Shared, HaltingVariant.Difference, HeadPooling.Mean, true)]
    [InlineData(ClassifierHeads.PerLayer, HaltingVariant.Linear, HeadPooling.Cls, true)]
    public void Export_TrainedHeadVariants_ScoresAsTorch(ClassifierHeads heads, HaltingVariant halting, HeadPooling pooling, bool readsConfidence)
    {
        using PretrainedEncoder backbone = PretrainedEncoder.FromPreset("tiny-bert", Options());
        var config = new EarlyExitNetworkConfig { NumLabels = 2, Heads = heads, Halting = halting, Pooling = pooling, HaltingReadsConfidence = readsConfidence };
        using EarlyExitTextClassifier classifier = EarlyExitTextClassifier.Create(
            backbone, ["negative", "positive"], config, 64, halting == HaltingVariant.None ? ExitCriterion.Patience(2) : ExitCriterion.QExit(), seed: 1);
        Train(classifier);

        string[] criteria = halting == HaltingVariant.None ? s_criteria.Where(c => !c.StartsWith("qexit", StringComparison.Ordinal) && c is not ("sampled:7" or "expectation")).ToArray() : s_criteria;
        AssertParity(classifier, criteria, pairs: false);
    }

    [Fact]
    public void Export_Regression_PredictsTheSameValues()
    {
        using PretrainedEncoder backbone = PretrainedEncoder.FromPreset("tiny-bert", Options());
        using EarlyExitTextClassifier regressor = EarlyExitTextClassifier.Create(
            backbone, ["score"], new EarlyExitNetworkConfig { NumLabels = 1 }, 64, ExitCriterion.QExit(), seed: 1);
        regressor.Model.SetTargetStatistics(2.5, 1.5);

        AssertParity(regressor, ["full", "layer:1", "qexit:0.5", "sampled:7", "patience:1:0.05", "expectation"], pairs: false);
    }

    [Fact]
    public void Export_PretrainedMiniLM_ScoresSst2AsTorch()
    {
        using PretrainedEncoder backbone = PretrainedEncoder.Load(SharedAssets.Model("sentence-transformers-all-MiniLM-L6-v2"), Options());
        using EarlyExitTextClassifier classifier = EarlyExitTextClassifier.Create(
            backbone, ["negative", "positive"], new EarlyExitNetworkConfig { NumLabels = 2, Pooling = HeadPooling.Auto }, 128, ExitCriterion.QExit(), seed: 1);
        string[] sentences = File.ReadLines(SharedAssets.Data("SST-2/dev.tsv")).Skip(1).Take(40).Select(l => l.Split('\t')[0]).ToArray();

        AssertParity(classifier, ["full", "layer:3", "qexit:0.5", "sampled:1", "maxprob:0.52"], pairs: false, sentences);
    }

    [Theory]
    [InlineData("tiny-roberta")]
    [InlineData("tiny-albert")] // every step runs the one shared layer: its weights are written once
    public void FullDepthGraph_RunByPlainOnnxRuntime_GivesTheLastLayersProbabilities(string preset)
    {
        using PretrainedEncoder backbone = PretrainedEncoder.FromPreset(preset, Options());
        using EarlyExitTextClassifier classifier = EarlyExitTextClassifier.Create(
            backbone, ["a", "b", "c"], new EarlyExitNetworkConfig { NumLabels = 3 }, 64, ExitCriterion.Full(), seed: 5);
        string folder = Path.Combine(_root, preset);
        classifier.ExportOnnx(folder);
        string[] texts = Texts(6);
        float[][] expected = classifier.Predict(texts, batchSize: 6).Select(p => p.Probabilities).ToArray();

        var inputs = texts.Select(t => classifier.Encode(t)).ToArray();
        (float[] scores, long[] shape) = OnnxTestSupport.RunFullDepthGraph(folder, Tokenization.PaddedTokens.Of(inputs, classifier.PadTokenId));

        Assert.Equal([6L, 3L], shape);
        for (int row = 0; row < texts.Length; row++)
        {
            AssertClose(expected[row], scores.AsSpan(row * 3, 3).ToArray(), $"row {row}");
        }
    }

    [Fact]
    public void Predict_RowAloneOrInABatch_ExitsAtTheSameLayer()
    {
        using PretrainedEncoder backbone = PretrainedEncoder.FromPreset("tiny-bert", Options());
        using EarlyExitTextClassifier classifier = EarlyExitTextClassifier.Create(
            backbone, ["negative", "positive"], new EarlyExitNetworkConfig { NumLabels = 2 }, 64, ExitCriterion.QExit(), seed: 1);
        Train(classifier);
        using OnnxTextClassifier onnx = Export(classifier, "alone");
        onnx.ExitCriterion = ExitCriterion.Sampled(3); // PonderNet's draws: some rows stop at layer 1, some go on
        string[] texts = Texts(24);

        ClassificationPrediction[] batched = onnx.Predict(texts, batchSize: 24);
        ClassificationPrediction[] alone = texts.Select(t => onnx.Predict([t], batchSize: 1)[0]).ToArray();

        Assert.Equal(alone.Select(p => p.ExitLayer), batched.Select(p => p.ExitLayer));
        Assert.Contains(batched, p => p.ExitLayer < onnx.NumLayers);
        for (int row = 0; row < texts.Length; row++)
        {
            AssertClose(alone[row].Probabilities, batched[row].Probabilities, $"row {row}");
        }
    }

    private void AssertParity(EarlyExitTextClassifier classifier, IEnumerable<string> criteria, bool pairs, string[]? sentences = null)
    {
        using OnnxTextClassifier onnx = Export(classifier, Guid.NewGuid().ToString("N"));
        string[] texts = sentences ?? Texts(40);
        string[]? second = pairs ? Texts(40, seed: 9) : null;
        Assert.Equal(classifier.Labels, onnx.Labels);
        Assert.Equal(classifier.ExitCriterion, onnx.ExitCriterion);
        int mixed = 0; // criteria under which some rows of the first batch go on after others exit (the copying and regrouping path)
        TokenizedInput[] tokens = texts.Select((t, i) => onnx.Encode(t, second?[i])).ToArray();
        int[] firstBatch = Enumerable.Range(0, texts.Length).OrderBy(i => tokens[i].Length).Take(16).ToArray();
        foreach (ExitCriterion criterion in criteria.Select(ExitCriterion.Parse).Concat(SplittingThreshold(classifier, texts, second)))
        {
            string name = criterion.Name;
            ClassificationPrediction[] torch = classifier.Predict(texts, second, criterion, batchSize: 16);
            ClassificationPrediction[] ort = onnx.Predict(texts, second, criterion, batchSize: 16);
            ClassificationPrediction[] regrouped = onnx.Predict(tokens, criterion, batchSize: 16, batchesPerChunk: 3); // survivors of 3 batches grouped together

            Assert.Equal(torch.Select(p => p.ExitLayer), ort.Select(p => p.ExitLayer));
            Assert.Equal(torch.Select(p => p.ExitLayer), regrouped.Select(p => p.ExitLayer));
            mixed += firstBatch.Select(i => ort[i].ExitLayer).Distinct().Count() > 1 ? 1 : 0;
            for (int row = 0; row < texts.Length; row++)
            {
                AssertClose(torch[row].Probabilities, ort[row].Probabilities, $"{name}, row {row}");
                AssertClose(torch[row].Probabilities, regrouped[row].Probabilities, $"{name}, regrouped, row {row}");
                if (torch[row].HaltingDistribution is float[] distribution)
                {
                    AssertClose(distribution, ort[row].HaltingDistribution!, $"{name}, halting of row {row}");
                }
            }
        }

        Assert.True(mixed > 0, "Under no criterion did rows of the first batch exit at different layers, so rows never left a batch while others went on.");
    }

    // maxprob at a threshold between two of layer 1's confidences near their median, in the widest gap there:
    // about half the rows stop at layer 1 even when the heads are barely trained, and no row sits on the threshold.
    private static IEnumerable<ExitCriterion> SplittingThreshold(EarlyExitTextClassifier classifier, string[] texts, string[]? second)
    {
        if (classifier.IsRegression)
        {
            yield break;
        }

        float[] confidence = classifier.Predict(texts, second, ExitCriterion.FixedLayer(1)).Select(p => p.Probabilities.Max()).Order().ToArray();
        int gap = Enumerable.Range(confidence.Length / 4, confidence.Length / 2).MaxBy(i => confidence[i + 1] - confidence[i]);
        yield return ExitCriterion.MaxProbability((confidence[gap] + confidence[gap + 1]) / 2.0);
    }

    private OnnxTextClassifier Export(EarlyExitTextClassifier classifier, string name)
    {
        string folder = Path.Combine(_root, name);
        classifier.ExportOnnx(folder);
        return OnnxTextClassifier.Load(folder);
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            bool same = float.IsNaN(expected[i]) ? float.IsNaN(actual[i]) : Math.Abs(expected[i] - actual[i]) <= Tolerance;
            Assert.True(same, $"{what}: entry {i} is {actual[i]} on ONNX Runtime and {expected[i]} on TorchSharp.");
        }
    }

    private static void Train(EarlyExitTextClassifier classifier)
    {
        var examples = ToyClassification.Sentences(120, seed: 3).Select(s => new ClassificationExample(classifier.Encode(s.Text), s.Label)).ToList();
        ClassifierTrainingOptions options = ToyClassification.FastOptions(classifier.Model.HasHaltingHead ? TrainingObjective.Ponder : TrainingObjective.Joint);
        options.Epochs = 2;
        ClassifierTrainer.Train(classifier.Model, examples, null, options, classifier.PadTokenId);
    }

    private static string[] Texts(int count, int seed = 4) => ToyClassification.Sentences(count, seed).Select(s => s.Text).ToArray();

    private static PretrainedEncoderOptions Options() => OnnxTestSupport.EncoderOptions();
}
