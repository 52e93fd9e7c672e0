using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.Modeling;
using EarlyExit.Tests.TestSupport;
using EarlyExit.Tests.Training;
using EarlyExit.Tokenization;
using EarlyExit.Training;
using static TorchSharp.torch;

namespace EarlyExit.Tests.Modeling;

/// <summary>A PALBERT model whose λ-head reads a layer attention over the pooled states so far, trained on the toy task once.</summary>
public sealed class TrainedLayerAttentionHalting : IDisposable
{
    public TrainedLayerAttentionHalting()
    {
        Model = ToyClassification.Model(HaltingVariant.LayerAttention);
        ClassifierTrainingOptions options = ToyClassification.FastOptions();
        options.Epochs = 3;
        ClassifierTrainer.Train(Model, ToyClassification.Examples(320, seed: 11), null, options, ToyClassification.PadId);
        Inputs = ToyClassification.Sentences(40, seed: 12).Select(s => ToyClassification.Tokenizer.Encode(s.Text, 64)).ToList();
        Labels = ToyClassification.Sentences(40, seed: 12).Select(s => s.Label).ToArray();
    }

    public EarlyExitNetwork Model { get; }

    public List<TokenizedInput> Inputs { get; }

    public int[] Labels { get; }

    public void Dispose() => Model.Dispose();
}

/// <summary>HaltingVariant.LayerAttention: the λ-head over a learned attention of the pooled states of layers 1..i.</summary>
[Collection("Torch")]
public class LayerAttentionHaltingTests(TrainedLayerAttentionHalting fixture) : IClassFixture<TrainedLayerAttentionHalting>
{
    [Fact]
    public void Train_ToyTask_LearnsTheClassesAndThePools()
    {
        ClassificationPrediction[] predictions = EarlyExitScoring.ScoreBatch(fixture.Model, fixture.Inputs, ExitCriterion.Full(), ToyClassification.PadId);

        double accuracy = predictions.Zip(fixture.Labels).Count(p => p.First.PredictedClass == p.Second) / (double)fixture.Labels.Length;
        Assert.True(accuracy > 0.9, $"accuracy {accuracy:0.000} on the toy task");
        Assert.True(fixture.Model.ReadsPooledHistory);
        Assert.Contains(fixture.Model.state_dict().Where(p => p.Key.StartsWith("halting.pools.", StringComparison.Ordinal)), p => p.Value.abs().max().item<float>() > 1e-3);
        Assert.Equal([3L], fixture.Model.state_dict()["halting.pools.2.bias"].shape);
    }

    [Fact]
    public void ScoreBatch_Full_GivesTheForwardPassLambdas()
    {
        ClassificationPrediction[] scored = EarlyExitScoring.ScoreBatch(fixture.Model, fixture.Inputs, ExitCriterion.Full(), ToyClassification.PadId);

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        fixture.Model.eval();
        using TokenBatch batch = TokenBatch.Collate(fixture.Inputs, ToyClassification.PadId, CPU);
        using LayerwiseOutput output = fixture.Model.Forward(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask);
        float[] lambdas = output.HaltingLogits!.sigmoid().t().contiguous().data<float>().ToArray(); // [L, B] -> [B, L]
        int layers = fixture.Model.NumLayers;
        for (int row = 0; row < scored.Length; row++)
        {
            float[] expected = HaltingDistribution.FromLambdas(lambdas.AsSpan(row * layers, layers), layers);
            Assert.Equal(expected, scored[row].HaltingDistribution!, new Close(1e-4f));
        }
    }

    [Fact]
    public void ScoreBatch_RowsLeavingTheBatch_EachRowAsScoredAlone()
    {
        // Thresholds between the two middle rows (not on a row's own value, where batched rounding could tip it): about
        // half the rows exit early, so rows leave the batch while the others go on.
        ClassificationPrediction[] full = EarlyExitScoring.ScoreBatch(fixture.Model, fixture.Inputs, ExitCriterion.Full(), ToyClassification.PadId);
        double[] settled = full.Select(p => (double)p.HaltingDistribution![0] + p.HaltingDistribution[1]).Order().ToArray();
        double[] entropy = EarlyExitScoring.ScoreBatch(fixture.Model, fixture.Inputs, ExitCriterion.FixedLayer(1), ToyClassification.PadId)
            .Select(p => EntropyExitCriterion.NormalizedEntropy(p.Probabilities)).Order().ToArray();
        ExitCriterion[] criteria = [ExitCriterion.QExit(Middle(settled)), ExitCriterion.Entropy(Middle(entropy)), ExitCriterion.Parse("expectation")];

        foreach (ExitCriterion criterion in criteria)
        {
            ClassificationPrediction[] batched = EarlyExitScoring.ScoreBatch(fixture.Model, fixture.Inputs, criterion, ToyClassification.PadId);

            Assert.True(batched.Select(p => p.ExitLayer).Distinct().Count() > 1 || criterion.Name == "expectation", $"{criterion}: every row exited at the same layer, so none left the batch early");
            for (int row = 0; row < fixture.Inputs.Count; row++)
            {
                ClassificationPrediction alone = EarlyExitScoring.ScoreBatch(fixture.Model, [fixture.Inputs[row]], criterion, ToyClassification.PadId)[0];
                Assert.Equal(alone.ExitLayer, batched[row].ExitLayer);
                Assert.Equal(alone.PredictedClass, batched[row].PredictedClass);
                Assert.Equal(alone.HaltingDistribution!, batched[row].HaltingDistribution!, new Close(1e-4f));
            }
        }
    }

    [Fact]
    public void Step_WithoutTheEarlierPooledStates_SaysWhatItNeeds()
    {
        using var scope = NewDisposeScope();
        Tensor hidden = zeros(2, 3, fixture.Model.Encoder.HiddenSize);

        var error = Assert.Throws<ArgumentException>(() => fixture.Model.Step(2, hidden, fixture.Model.InitialPooled(2, CPU), ones(2, 3)));

        Assert.Contains("reads the pooled states of the 2 layers before it; given none", error.Message);
    }

    private static double Middle(double[] sorted) => (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}
