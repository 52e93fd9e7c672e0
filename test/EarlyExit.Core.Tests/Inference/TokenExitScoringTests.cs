using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.Modeling;
using EarlyExit.Tests.Training;
using EarlyExit.Tokenization;
using EarlyExit.Training;
using TorchSharp;

namespace EarlyExit.Tests.Inference;

/// <summary>A token-exit labeller trained on the toy NER task once (joint + self-sampling), shared by the tests.</summary>
public sealed class TrainedToyNer : IDisposable
{
    public TrainedToyNer()
    {
        Model = ToyNer.Model();
        Report = TokenClassifierTrainer.Train(Model, ToyNer.Examples(400, seed: 41), null, ToyNer.FastOptions(), ToyNer.PadId);
        Test = ToyNer.Sentences(60, seed: 42);
        Inputs = Test.Select(s => ToyNer.Tokenizer.EncodeWords(s.Words, 64)).ToList();
    }

    public TokenExitNetwork Model { get; }

    public TrainingReport Report { get; }

    public List<(string[] Words, int[] Tags)> Test { get; }

    public List<TokenizedInput> Inputs { get; }

    public void Dispose() => Model.Dispose();
}

[Collection("Torch")]
public class TokenExitScoringTests(TrainedToyNer fixture) : IClassFixture<TrainedToyNer>
{
    public static TheoryData<string> Criteria() => new("full", "layer:1", "layer:3", "sentee:0.2", "sentee:0.5:mean", "tokee:0.2", "tokee:0.4:3", "tokee:0.3:1:first");

    [Fact]
    public void Train_ToyNer_LearnsTheTags()
    {
        TokenPrediction[] predictions = TokenExitScoring.Predict(fixture.Model, fixture.Inputs, TokenExitCriterion.Full(), ToyNer.PadId, 16);

        int correct = 0;
        int total = 0;
        for (int i = 0; i < predictions.Length; i++)
        {
            correct += predictions[i].WordClasses.Zip(fixture.Test[i].Tags, (p, g) => p == g ? 1 : 0).Sum();
            total += fixture.Test[i].Tags.Length;
        }

        Assert.Equal(4, fixture.Report.Epochs.Count);
        Assert.True(correct > 0.95 * total, $"word accuracy {(double)correct / total:0.000} on the toy NER task");
    }

    [Theory]
    [MemberData(nameof(Criteria))]
    public void ScoreBatch_HaltAndCopy_EqualsTheFullLayerReference(string text)
    {
        TokenExitCriterion criterion = TokenExitCriterion.Parse(text);

        TokenPrediction[] fast = TokenExitScoring.ScoreBatch(fixture.Model, fixture.Inputs, criterion, ToyNer.PadId, haltAndCopy: true);
        TokenPrediction[] reference = TokenExitScoring.ScoreBatch(fixture.Model, fixture.Inputs, criterion, ToyNer.PadId, haltAndCopy: false);

        for (int i = 0; i < fast.Length; i++)
        {
            Assert.Equal(reference[i].TokenExitLayers, fast[i].TokenExitLayers);
            Assert.Equal(reference[i].TokenClasses, fast[i].TokenClasses);
        }
    }

    [Theory]
    [MemberData(nameof(Criteria))]
    public void ScoreBatch_Unpacked_GivesThePackedTagsAndExits(string text)
    {
        TokenExitCriterion criterion = TokenExitCriterion.Parse(text);

        TokenPrediction[] packed = TokenExitScoring.ScoreBatch(fixture.Model, fixture.Inputs, criterion, ToyNer.PadId, haltAndCopy: true, recorded: null);
        TokenPrediction[] unpacked = TokenExitScoring.ScoreBatch(fixture.Model, fixture.Inputs, criterion, ToyNer.PadId, haltAndCopy: true, recorded: null, packed: false);

        for (int i = 0; i < packed.Length; i++)
        {
            Assert.Equal(packed[i].TokenExitLayers, unpacked[i].TokenExitLayers);
            Assert.Equal(packed[i].TokenClasses, unpacked[i].TokenClasses);
        }
    }

    [Theory]
    [MemberData(nameof(Criteria))]
    public void ScoreBatch_Batched_EqualsEachSentenceAlone(string text)
    {
        TokenExitCriterion criterion = TokenExitCriterion.Parse(text);

        TokenPrediction[] batched = TokenExitScoring.ScoreBatch(fixture.Model, fixture.Inputs, criterion, ToyNer.PadId);

        for (int i = 0; i < fixture.Inputs.Count; i++)
        {
            TokenPrediction alone = TokenExitScoring.ScoreBatch(fixture.Model, [fixture.Inputs[i]], criterion, ToyNer.PadId)[0];
            Assert.Equal(alone.WordClasses, batched[i].WordClasses);
            Assert.Equal(alone.WordExitLayers, batched[i].WordExitLayers);
        }
    }

    [Fact]
    public void ScoreBatch_FixedLayersAndFull_ExitWhereAsked()
    {
        Assert.All(TokenExitScoring.ScoreBatch(fixture.Model, fixture.Inputs, TokenExitCriterion.FixedLayer(1), ToyNer.PadId), p => Assert.All(p.TokenExitLayers, l => Assert.Equal(1, l)));
        Assert.All(TokenExitScoring.ScoreBatch(fixture.Model, fixture.Inputs, TokenExitCriterion.Full(), ToyNer.PadId), p => Assert.All(p.TokenExitLayers, l => Assert.Equal(4, l)));
    }

    [Fact]
    public void ScoreBatch_Tokee_TokensOfOneSentenceExitAtDifferentLayers_PiecesTogether()
    {
        // Some threshold between the easiest and the hardest tokens' uncertainty splits a sentence.
        TokenPrediction[]? predictions = new[] { 1e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.2, 0.4 }
            .Select(t => TokenExitScoring.ScoreBatch(fixture.Model, fixture.Inputs, TokenExitCriterion.Tokee(t, 1), ToyNer.PadId))
            .FirstOrDefault(ps => ps.Any(p => p.WordExitLayers.Distinct().Count() > 1));

        Assert.NotNull(predictions);
        for (int i = 0; i < predictions.Length; i++)
        {
            int[] wordIds = fixture.Inputs[i].WordIds!;
            for (int t = 0; t < wordIds.Length; t++)
            {
                if (wordIds[t] >= 0)
                {
                    Assert.Equal(predictions[i].WordExitLayers[wordIds[t]], predictions[i].TokenExitLayers[t]);
                }
            }
        }
    }

    [Fact]
    public void ScoreBatch_SenteeAtZero_NeverExitsEarly_AtOne_ExitsAtLayerOne()
    {
        Assert.All(TokenExitScoring.ScoreBatch(fixture.Model, fixture.Inputs, TokenExitCriterion.Sentee(0), ToyNer.PadId), p => Assert.Equal(4, p.ExitLayer));
        Assert.All(TokenExitScoring.ScoreBatch(fixture.Model, fixture.Inputs, TokenExitCriterion.Sentee(1), ToyNer.PadId), p => Assert.Equal(1, p.ExitLayer));
    }

    [Fact]
    public void ScoreBatch_RepeatedCalls_LeaksNoTensors()
    {
        TokenExitScoring.ScoreBatch(fixture.Model, fixture.Inputs, TokenExitCriterion.Tokee(0.2), ToyNer.PadId);
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        TokenExitScoring.ScoreBatch(fixture.Model, fixture.Inputs, TokenExitCriterion.Tokee(0.2), ToyNer.PadId);
        TokenExitScoring.ScoreBatch(fixture.Model, fixture.Inputs, TokenExitCriterion.Sentee(0.2), ToyNer.PadId, haltAndCopy: false);

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void ScoreBatch_EmptySentence_GivesNoWords()
    {
        TokenPrediction prediction = TokenExitScoring.ScoreBatch(fixture.Model, [ToyNer.Tokenizer.EncodeWords([])], TokenExitCriterion.Tokee(0.2), ToyNer.PadId)[0];

        Assert.Empty(prediction.WordClasses);
        Assert.Equal(2, prediction.TokenClasses.Length);
    }

    [Fact]
    public void ScoreBatch_LayerPastTheModel_Throws()
    {
        Assert.Throws<ArgumentException>(() => TokenExitScoring.ScoreBatch(fixture.Model, fixture.Inputs, TokenExitCriterion.FixedLayer(5), ToyNer.PadId));
    }
}
