using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.Modeling;
using EarlyExit.Tests.TestSupport;
using EarlyExit.Tests.Training;
using EarlyExit.Tokenization;
using EarlyExit.Training;
using TorchSharp;

namespace EarlyExit.Tests.Inference;

/// <summary>A PALBERT-style model trained on the toy task once, shared by the scoring tests.</summary>
public sealed class TrainedToyModel : IDisposable
{
    public TrainedToyModel()
    {
        Model = ToyClassification.Model(HaltingVariant.Concat, ClassifierHeads.Shared);
        ClassifierTrainingOptions options = ToyClassification.FastOptions();
        options.Epochs = 3;
        ClassifierTrainer.Train(Model, ToyClassification.Examples(320, seed: 11), null, options, ToyClassification.PadId);
        Inputs = ToyClassification.Sentences(40, seed: 12).Select(s => ToyClassification.Tokenizer.Encode(s.Text, 64)).ToList();
    }

    public EarlyExitNetwork Model { get; }

    public List<TokenizedInput> Inputs { get; }

    public void Dispose() => Model.Dispose();
}

[Collection("Torch")]
public class EarlyExitScoringTests(TrainedToyModel fixture) : IClassFixture<TrainedToyModel>
{
    public static TheoryData<string> Criteria() => new("qexit:0.5", "qexit:0.2", "sampled:5", "expectation", "patience:1", "entropy:0.6", "maxprob:0.8", "layer:2", "full");

    [Theory]
    [MemberData(nameof(Criteria))]
    public void ScoreBatch_Batched_EqualsEachRowScoredAlone(string text)
    {
        ExitCriterion criterion = ExitCriterion.Parse(text);

        ClassificationPrediction[] batched = EarlyExitScoring.ScoreBatch(fixture.Model, fixture.Inputs, criterion, ToyClassification.PadId);

        for (int row = 0; row < fixture.Inputs.Count; row++)
        {
            ClassificationPrediction alone = EarlyExitScoring.ScoreBatch(fixture.Model, [fixture.Inputs[row]], criterion, ToyClassification.PadId)[0];
            Assert.Equal(alone.ExitLayer, batched[row].ExitLayer);
            Assert.Equal(alone.PredictedClass, batched[row].PredictedClass);
            for (int c = 0; c < alone.Probabilities.Length; c++)
            {
                Assert.Equal(alone.Probabilities[c], batched[row].Probabilities[c], 4);
            }
        }
    }

    [Fact]
    public void ScoreBatch_RowsExitAtDifferentLayers_StillInInputOrder()
    {
        // A threshold at the median layer-1 entropy: about half the rows exit at layer 1, the rest later.
        double[] firstLayerEntropy = EarlyExitScoring.ScoreBatch(fixture.Model, fixture.Inputs, ExitCriterion.FixedLayer(1), ToyClassification.PadId)
            .Select(p => EntropyExitCriterion.NormalizedEntropy(p.Probabilities)).Order().ToArray();
        ExitCriterion criterion = ExitCriterion.Entropy(firstLayerEntropy[firstLayerEntropy.Length / 2]);

        ClassificationPrediction[] predictions = EarlyExitScoring.ScoreBatch(fixture.Model, fixture.Inputs, criterion, ToyClassification.PadId);
        ClassificationPrediction[] full = EarlyExitScoring.ScoreBatch(fixture.Model, fixture.Inputs, ExitCriterion.Full(), ToyClassification.PadId);

        Assert.True(predictions.Select(p => p.ExitLayer).Distinct().Count() > 1, "the toy model should exit different rows at different layers");
        // Rows that reach the last layer get exactly the full-depth prediction, so the order was kept.
        for (int row = 0; row < predictions.Length; row++)
        {
            if (predictions[row].ExitLayer == fixture.Model.NumLayers)
            {
                Assert.Equal(full[row].Probabilities, predictions[row].Probabilities, new Close(1e-5f));
            }
        }
    }

    [Fact]
    public void ScoreBatch_FixedLayerOne_EveryRowExitsAtLayerOne()
    {
        ClassificationPrediction[] predictions = EarlyExitScoring.ScoreBatch(fixture.Model, fixture.Inputs, ExitCriterion.FixedLayer(1), ToyClassification.PadId);

        Assert.All(predictions, p => Assert.Equal(1, p.ExitLayer));
        Assert.All(predictions, p => Assert.True(float.IsNaN(p.HaltingDistribution![2]), "layers never computed have no halting probability"));
    }

    [Fact]
    public void ScoreBatch_QExitThatNeverTriggers_RunsEveryRowToTheLastLayer()
    {
        ClassificationPrediction[] predictions = EarlyExitScoring.ScoreBatch(fixture.Model, fixture.Inputs, ExitCriterion.QExit(0.999999), ToyClassification.PadId);

        Assert.All(predictions, p => Assert.Equal(fixture.Model.NumLayers, p.ExitLayer));
        Assert.All(predictions, p => Assert.Equal(1.0, p.HaltingDistribution!.Sum(), 4));
    }

    [Fact]
    public void ScoreBatch_ModelWithoutHaltingHead_QExitFailsClearly()
    {
        using EarlyExitNetwork model = ToyClassification.Model(HaltingVariant.None);

        var error = Assert.Throws<InvalidOperationException>(() => EarlyExitScoring.ScoreBatch(model, fixture.Inputs, ExitCriterion.QExit(), ToyClassification.PadId));

        Assert.Contains("without a halting", error.Message);
    }

    [Fact]
    public void ScoreBatch_RepeatedCalls_LeaksNoTensors()
    {
        EarlyExitScoring.ScoreBatch(fixture.Model, fixture.Inputs, ExitCriterion.Entropy(0.6), ToyClassification.PadId);
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        for (int i = 0; i < 3; i++)
        {
            EarlyExitScoring.ScoreBatch(fixture.Model, fixture.Inputs, ExitCriterion.Entropy(0.6), ToyClassification.PadId);
        }

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Predict_SortsByLength_ButReturnsInputOrder()
    {
        ClassificationPrediction[] predicted = EarlyExitScoring.Predict(fixture.Model, fixture.Inputs, ExitCriterion.Patience(1), ToyClassification.PadId, batchSize: 7);
        ClassificationPrediction[] single = EarlyExitScoring.ScoreBatch(fixture.Model, fixture.Inputs, ExitCriterion.Patience(1), ToyClassification.PadId);

        Assert.Equal(single.Select(p => (p.ExitLayer, p.PredictedClass)), predicted.Select(p => (p.ExitLayer, p.PredictedClass)));
    }
}
