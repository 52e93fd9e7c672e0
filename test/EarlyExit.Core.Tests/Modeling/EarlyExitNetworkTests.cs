using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.Modeling;
using EarlyExit.Tests.Training;
using EarlyExit.Tokenization;
using EarlyExit.Training;
using static TorchSharp.torch;

namespace EarlyExit.Tests.Modeling;

[Collection("Torch")]
public sealed class EarlyExitNetworkTests
{
    [Fact]
    public void Step_MeanPooling_AveragesOnlyTheRealTokens()
    {
        using EarlyExitNetwork model = ToyClassification.Model(pooling: HeadPooling.Mean);
        model.eval();
        using var scope = NewDisposeScope();
        Tensor hidden = randn(2, 5, model.Encoder.HiddenSize, generator: new Generator(7)); // [B=2, T=5, H]
        Tensor mask = tensor(new long[,] { { 1, 1, 1, 0, 0 }, { 1, 1, 1, 1, 1 } });

        LayerHeadsOutput heads = model.Step(0, hidden, model.InitialPooled(2, CPU), mask);

        Tensor expectedFirst = hidden[0].narrow(0, 0, 3).mean([0]); // [3, H] -> [H]
        Tensor expectedSecond = hidden[1].mean([0]);
        Assert.True(heads.Pooled[0].allclose(expectedFirst, rtol: 1e-5, atol: 1e-6), "Row 0 must average its 3 real tokens only.");
        Assert.True(heads.Pooled[1].allclose(expectedSecond, rtol: 1e-5, atol: 1e-6), "Row 1 must average all 5 tokens.");
    }

    [Fact]
    public void Constructor_MeanPooling_BuildsNoPoolerOfItsOwn()
    {
        using EarlyExitNetwork mean = ToyClassification.Model(pooling: HeadPooling.Mean);
        using EarlyExitNetwork cls = ToyClassification.Model(pooling: HeadPooling.Cls);

        // tiny-bert has a pooler, so neither builds one; Mean pooling never reads it.
        Assert.DoesNotContain(mean.named_parameters(), p => p.name.StartsWith("pooler.", StringComparison.Ordinal));
        Assert.DoesNotContain(cls.named_parameters(), p => p.name.StartsWith("pooler.", StringComparison.Ordinal));
    }

    [Fact]
    public void Constructor_AutoPooling_ThrowsSayingToResolveIt()
    {
        var error = Assert.Throws<ArgumentException>(() => ToyClassification.Model(pooling: HeadPooling.Auto));

        Assert.Contains("Pooling is Auto", error.Message);
    }

    [Fact]
    public void Constructor_ConfidenceInputOnARegressionModel_Throws()
    {
        using EncoderNetwork encoder = EarlyExit.Checkpoints.EncoderPresets.Create("tiny-bert");

        var error = Assert.Throws<ArgumentException>(() => new EarlyExitNetwork(encoder, new EarlyExitNetworkConfig { NumLabels = 1, HaltingReadsConfidence = true }));
        Assert.Contains("HaltingReadsConfidence", error.Message);
    }

    [Fact]
    public void Step_HaltingReadsConfidence_GivesAHaltingLogitPerRowThatDependsOnTheClassifier()
    {
        EncoderNetwork encoder = EarlyExit.Checkpoints.EncoderPresets.Create("tiny-bert", seed: 3);
        using var model = new EarlyExitNetwork(encoder, new EarlyExitNetworkConfig { NumLabels = 3, HaltingReadsConfidence = true, HaltingDropout = 0 }, seed: 4);
        model.eval();
        using var scope = NewDisposeScope();
        Tensor hidden = randn(4, 6, model.Encoder.HiddenSize, generator: new Generator(9)); // [B=4, T=6, H]
        Tensor mask = ones(4, 6, ScalarType.Int64);

        LayerHeadsOutput heads = model.Step(1, hidden, model.InitialPooled(4, CPU), mask);

        Assert.Equal([4L], heads.HaltingLogit!.shape);
        Assert.Equal([4L, 3L], heads.Logits.shape);
        Assert.True(heads.HaltingLogit.isfinite().all().item<bool>());
    }

    [Fact]
    public void SetTargetStatistics_Regression_ShiftsAndScalesEveryExitAndIsSaved()
    {
        using EarlyExitNetwork model = ToyClassification.Model(outputs: 1);
        model.eval();
        using var scope = NewDisposeScope();
        Tensor hidden = randn(2, 4, model.Encoder.HiddenSize, generator: new Generator(5)); // [B=2, T=4, H]
        Tensor mask = ones(2, 4, ScalarType.Int64);
        Tensor standardised = model.Step(0, hidden, model.InitialPooled(2, CPU), mask).Logits.clone(); // mean 0, scale 1

        model.SetTargetStatistics(mean: 2.5, scale: 1.5);
        Tensor value = model.Step(0, hidden, model.InitialPooled(2, CPU), mask).Logits;

        Assert.True(value.allclose((standardised * 1.5) + 2.5, rtol: 1e-5, atol: 1e-5), "The value must be z * scale + mean.");
        Assert.Equal(1.5, model.TargetScale, 6);
        Assert.Contains(model.state_dict().Keys, k => k == "target_mean");
        Assert.Contains(model.state_dict().Keys, k => k == "target_scale");
    }

    [Fact]
    public void SetTargetStatistics_Classifier_Throws()
    {
        using EarlyExitNetwork model = ToyClassification.Model();

        Assert.Throws<InvalidOperationException>(() => model.SetTargetStatistics(1, 1));
        Assert.DoesNotContain(model.state_dict().Keys, k => k.StartsWith("target_", StringComparison.Ordinal));
    }

    [Fact]
    public void Train_MeanPooling_LearnsAndScoresRowsAloneAsInABatch()
    {
        using EarlyExitNetwork model = ToyClassification.Model(HaltingVariant.Concat, ClassifierHeads.Shared, pooling: HeadPooling.Mean);
        ClassifierTrainingOptions options = ToyClassification.FastOptions();
        options.Epochs = 3;
        ClassifierTrainer.Train(model, ToyClassification.Examples(320, seed: 11), null, options, ToyClassification.PadId);
        List<ClassificationExample> test = ToyClassification.Examples(60, seed: 12);
        TokenizedInput[] inputs = test.Select(e => e.Input).ToArray();

        ClassificationPrediction[] batched = EarlyExitScoring.ScoreBatch(model, inputs, ExitCriterion.QExit(), ToyClassification.PadId);

        double accuracy = batched.Zip(test, (p, e) => p.PredictedClass == e.Label ? 1.0 : 0.0).Average();
        Assert.True(accuracy >= 0.9, $"Mean-pooled heads should learn the toy task; accuracy {accuracy:0.000}.");
        for (int row = 0; row < inputs.Length; row += 7)
        {
            // Padding must not leak into the mean: a row alone (no padding) scores as in the padded batch.
            ClassificationPrediction alone = EarlyExitScoring.ScoreBatch(model, [inputs[row]], ExitCriterion.QExit(), ToyClassification.PadId)[0];
            Assert.Equal(alone.ExitLayer, batched[row].ExitLayer);
            Assert.Equal(alone.Probabilities[1], batched[row].Probabilities[1], 4);
        }
    }
}
