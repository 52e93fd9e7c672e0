using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.Sweeps;
using EarlyExit.Tests.Inference;
using EarlyExit.Tests.Training;
using EarlyExit.Training;

namespace EarlyExit.Tests.Sweeps;

[Collection("Torch")]
public sealed class ClassificationRecordTests(TrainedToyModel fixture) : IClassFixture<TrainedToyModel>
{
    public static TheoryData<string> Criteria() => new("qexit:0.5", "qexit:0.2", "qexit:0.9", "sampled:5", "expectation", "patience:1", "patience:2", "entropy:0.6",
        "entropy:0.2", "maxprob:0.8", "layer:1", "layer:2", "full");

    [Theory]
    [MemberData(nameof(Criteria))]
    public void Replay_GivesWhatScoringWithTheCriterionGives(string text)
    {
        ExitCriterion criterion = ExitCriterion.Parse(text);
        ClassificationRecord record = ClassificationRecord.Record(fixture.Model, fixture.Inputs, ToyClassification.PadId, batchSize: 16);

        ClassificationPrediction[] replayed = record.Replay(criterion);
        ClassificationPrediction[] scored = EarlyExitScoring.Predict(fixture.Model, fixture.Inputs, criterion, ToyClassification.PadId, batchSize: 7);

        Assert.Equal(scored.Select(p => p.ExitLayer), replayed.Select(p => p.ExitLayer));
        Assert.Equal(scored.Select(p => p.PredictedClass), replayed.Select(p => p.PredictedClass));
        for (int row = 0; row < scored.Length; row++)
        {
            for (int c = 0; c < scored[row].Probabilities.Length; c++)
            {
                Assert.Equal(scored[row].Probabilities[c], replayed[row].Probabilities[c], 4);
            }

            Assert.Equal(scored[row].HaltingDistribution!.Length, replayed[row].HaltingDistribution!.Length);
        }
    }

    [Fact]
    public void Replay_ExitsSpreadOverLayers_SoTheReplayTestsAreNotTrivial()
    {
        ClassificationRecord record = ClassificationRecord.Record(fixture.Model, fixture.Inputs, ToyClassification.PadId);

        string[] spread = ["qexit:0.5", "qexit:0.2", "sampled:5", "patience:1", "entropy:0.6", "entropy:0.2", "maxprob:0.8"];
        Assert.Contains(spread, text => record.Replay(ExitCriterion.Parse(text)).Select(p => p.ExitLayer).Distinct().Count() > 1);
        Assert.Equal(fixture.Model.NumLayers, record.Layers);
        Assert.Equal(fixture.Inputs.Count, record.Rows);
        Assert.True(record.HasHaltingHead);
    }

    [Fact]
    public void Oracle_ExitsAtTheFirstLayerThatAgreesWithFullDepth_OrIsCorrect()
    {
        ClassificationRecord record = ClassificationRecord.Record(fixture.Model, fixture.Inputs, ToyClassification.PadId);
        int[] full = record.Replay(ExitCriterion.Full()).Select(p => p.PredictedClass).ToArray();
        int[] labels = full.Select((c, i) => i % 3 == 0 ? 1 - c : c).ToArray(); // a third of the rows disagree with full depth

        (int[] agreeExits, int[] agreePredicted) = record.Oracle();
        (int[] correctExits, int[] correctPredicted) = record.Oracle(labels);

        Assert.Equal(full, agreePredicted);
        for (int row = 0; row < record.Rows; row++)
        {
            for (int layer = 0; layer < agreeExits[row] - 1; layer++)
            {
                Assert.NotEqual(full[row], Scores.ArgMax(record.Probabilities(row, layer)));
            }

            bool anyCorrect = Enumerable.Range(0, record.Layers).Any(l => Scores.ArgMax(record.Probabilities(row, l)) == labels[row]);
            Assert.Equal(anyCorrect, correctPredicted[row] == labels[row]);
            Assert.True(anyCorrect || correctExits[row] == 1);
        }
    }

    [Fact]
    public void Replay_QExitWithoutHaltingHead_SaysWhatIsMissing()
    {
        using var model = ToyClassification.Model(EarlyExit.Modeling.HaltingVariant.None, EarlyExit.Modeling.ClassifierHeads.PerLayer);
        ClassificationRecord record = ClassificationRecord.Record(model, fixture.Inputs.Take(4).ToList(), ToyClassification.PadId);

        var error = Assert.Throws<InvalidOperationException>(() => record.Replay(ExitCriterion.QExit()));

        Assert.Contains("halting", error.Message);
        Assert.True(float.IsNaN(record.Halting(0, 0)));
    }
}

[Collection("Torch")]
public sealed class TokenExitRecordTests(TrainedToyNer fixture) : IClassFixture<TrainedToyNer>
{
    public static TheoryData<string> ExactCriteria() => new("full", "layer:1", "layer:3", "sentee:0.2", "sentee:0.5:mean", "sentee:0.3:max:first", "tokee:0");

    [Theory]
    [MemberData(nameof(ExactCriteria))]
    public void Replay_SenteeAndFixedLayers_GiveWhatHaltAndCopyScoringGives(string text)
    {
        TokenExitCriterion criterion = TokenExitCriterion.Parse(text);
        TokenExitRecord record = TokenExitRecord.Record(fixture.Model, fixture.Inputs, ToyNer.PadId, batchSize: 16);

        TokenPrediction[] replayed = record.Replay(criterion);
        TokenPrediction[] scored = TokenExitScoring.Predict(fixture.Model, fixture.Inputs, criterion, ToyNer.PadId, batchSize: 5);

        Assert.Equal(scored.SelectMany(p => p.TokenExitLayers), replayed.SelectMany(p => p.TokenExitLayers));
        Assert.Equal(scored.SelectMany(p => p.TokenClasses), replayed.SelectMany(p => p.TokenClasses));
        Assert.Equal(scored.SelectMany(p => p.WordClasses), replayed.SelectMany(p => p.WordClasses));
    }

    [Theory]
    [InlineData("tokee:0.2")]
    [InlineData("tokee:0.4:3")]
    [InlineData("tokee:0.3:1:first")]
    public void Replay_Tokee_EstimatesTheRealPassClosely(string text)
    {
        TokenExitCriterion criterion = TokenExitCriterion.Parse(text);
        TokenExitRecord record = TokenExitRecord.Record(fixture.Model, fixture.Inputs, ToyNer.PadId);

        int[] replayed = record.Replay(criterion).SelectMany(p => p.WordExitLayers).ToArray();
        int[] scored = TokenExitScoring.Predict(fixture.Model, fixture.Inputs, criterion, ToyNer.PadId, 16).SelectMany(p => p.WordExitLayers).ToArray();

        // Halted tokens are copied upward in a real pass, so later layers differ a little from the
        // full-depth record: the estimate is close, not exact.
        Assert.InRange(Math.Abs(replayed.Average() - scored.Average()), 0, 0.25);
        Assert.True(replayed.Zip(scored).Count(p => p.First == p.Second) >= 0.8 * scored.Length);
    }

    [Fact]
    public void Oracle_WordsStopAtTheFirstLayerThatAgreesWithFullDepth()
    {
        TokenExitRecord record = TokenExitRecord.Record(fixture.Model, fixture.Inputs, ToyNer.PadId);
        TokenPrediction[] full = record.Replay(TokenExitCriterion.Full());

        (int[][] exits, int[][] tags) = record.Oracle();
        (int[][] goldExits, int[][] goldTags) = record.Oracle(fixture.Test.Select(s => (IReadOnlyList<int>)s.Tags).ToList());

        Assert.Equal(full.SelectMany(p => p.WordClasses), tags.SelectMany(t => t));
        Assert.All(exits.SelectMany(e => e), l => Assert.InRange(l, 1, record.Layers));
        Assert.True(exits.SelectMany(e => e).Average() < record.Layers, "a trained model agrees with itself before the last layer for many words");
        int correctAtOracle = goldTags.Zip(fixture.Test, (t, s) => t.Zip(s.Tags, (a, b) => a == b ? 1 : 0).Sum()).Sum();
        int correctAtFull = full.Zip(fixture.Test, (p, s) => p.WordClasses.Zip(s.Tags, (a, b) => a == b ? 1 : 0).Sum()).Sum();
        Assert.True(correctAtOracle >= correctAtFull);
        Assert.All(goldExits.SelectMany(e => e), l => Assert.InRange(l, 1, record.Layers));
    }
}
