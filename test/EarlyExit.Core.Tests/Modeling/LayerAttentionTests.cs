using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.Modeling;
using EarlyExit.Tests.Training;
using EarlyExit.Tokenization;
using EarlyExit.Training;
using static TorchSharp.torch;

namespace EarlyExit.Tests.Modeling;

/// <summary>One toy NER labeller per attention input, trained once (joint + self-sampling), shared by the tests.</summary>
public sealed class TrainedAttentionNer : IDisposable
{
    public TrainedAttentionNer()
    {
        foreach (TokenOffRampInput input in new[] { TokenOffRampInput.LayerAttention, TokenOffRampInput.DifferenceAttention })
        {
            TokenExitNetwork model = ToyNer.Model(1, offRampInput: input);
            TokenClassifierTrainer.Train(model, ToyNer.Examples(400, seed: 41), null, ToyNer.FastOptions(), ToyNer.PadId);
            Models[input] = model;
        }
    }

    public Dictionary<TokenOffRampInput, TokenExitNetwork> Models { get; } = [];

    public List<(string[] Words, int[] Tags)> Test { get; } = ToyNer.Sentences(60, seed: 42);

    public List<TokenizedInput> Inputs => Test.Select(s => ToyNer.Tokenizer.EncodeWords(s.Words, 64)).ToList();

    public void Dispose()
    {
        foreach (TokenExitNetwork model in Models.Values)
        {
            model.Dispose();
        }
    }
}

/// <summary>Off-ramps that read a learned attention over the layers so far (TokenOffRampInput).</summary>
[Collection("Torch")]
public class LayerAttentionTests(TrainedAttentionNer trained) : IClassFixture<TrainedAttentionNer>
{
    // The trained toy labellers' words are about equally sure at layer 1 (LayerAttention near 0.15-0.2 uncertainty,
    // DifferenceAttention near 0.03-0.045): these thresholds stop the tokens of one row at different layers and make
    // some rows leave the batch early (checked below for TOKEE).
    public static TheoryData<TokenOffRampInput, string> Settings() => new()
    {
        { TokenOffRampInput.LayerAttention, "full" },
        { TokenOffRampInput.LayerAttention, "layer:2" },
        { TokenOffRampInput.LayerAttention, "sentee:0.18" },
        { TokenOffRampInput.LayerAttention, "tokee:0.18:1" },
        { TokenOffRampInput.LayerAttention, "tokee:0.15:3" },
        { TokenOffRampInput.DifferenceAttention, "full" },
        { TokenOffRampInput.DifferenceAttention, "layer:2" },
        { TokenOffRampInput.DifferenceAttention, "sentee:0.04" },
        { TokenOffRampInput.DifferenceAttention, "tokee:0.04:1" },
        { TokenOffRampInput.DifferenceAttention, "tokee:0.04:3" },
    };

    [Fact]
    public void Pool_ZeroParameters_AveragesTheLayers_AndAQueryPicksOne()
    {
        using var scope = NewDisposeScope();
        using var pool = new LayerAttentionPool(hiddenSize: 4, values: 3);
        Tensor values = randn(3, 2, 5, 4, generator: new Generator(7)); // [J, B, T, H]

        Tensor averaged = pool.call(values);
        using (no_grad())
        {
            pool.parameters().Last().copy_(tensor(new float[] { 0, 60, 0 })); // the bias: layer 2 by a wide margin
        }

        Tensor picked = pool.call(values.reshape(3, 10, 4)); // [J, N, H]

        Assert.Equal([2L, 5, 4], averaged.shape);
        Assert.True(averaged.allclose(values.mean([0]), atol: 1e-6), "zero parameters should average the layers");
        Assert.True(picked.allclose(values[1].reshape(10, 4), atol: 1e-5), "a wide bias should pick its layer");
    }

    [Fact]
    public void Network_LayerInput_KeepsItsParameters_AttentionAddsPoolsAfterThem()
    {
        using TokenExitNetwork plain = ToyNer.Model(3);
        using TokenExitNetwork attending = ToyNer.Model(3, offRampInput: TokenOffRampInput.LayerAttention);

        var plainWeights = plain.state_dict();
        var attendingWeights = attending.state_dict();

        Assert.False(plain.ReadsLayerHistory);
        Assert.Equal(plainWeights.Keys, attendingWeights.Keys.Take(plainWeights.Count));
        Assert.Equal(
            Enumerable.Range(0, 4).SelectMany(l => new[] { $"attention.{l}.query", $"attention.{l}.bias" }),
            attendingWeights.Keys.Skip(plainWeights.Count));
        Assert.All(plainWeights, p => Assert.True(p.Value.allclose(attendingWeights[p.Key], rtol: 0, atol: 0), $"{p.Key} differs"));
        Assert.Equal([4L], attendingWeights["attention.3.bias"].shape);
    }

    [Theory]
    [MemberData(nameof(Settings))]
    public void ScoreBatch_HaltAndCopy_EqualsTheReferenceForward(TokenOffRampInput input, string text)
    {
        TokenExitCriterion criterion = TokenExitCriterion.Parse(text);
        TokenExitNetwork model = trained.Models[input];
        List<TokenizedInput> inputs = trained.Inputs;

        TokenPrediction[] scored = ToyNer.ScoreAsTheReference(model, inputs, criterion, input.ToString());

        if (text.StartsWith("tokee", StringComparison.Ordinal))
        {
            Assert.Contains(scored, p => p.TokenExitLayers.Distinct().Count() > 1); // tokens of one row stopped at different layers
            Assert.Contains(scored, p => p.ExitLayer < model.NumLayers);            // and some rows left the batch early
        }
    }

    [Theory]
    [InlineData(TokenOffRampInput.LayerAttention)]
    [InlineData(TokenOffRampInput.DifferenceAttention)]
    public void Train_ToyNer_LearnsTheTagsAndThePools(TokenOffRampInput input)
    {
        TokenExitNetwork model = trained.Models[input];

        TokenPrediction[] predictions = TokenExitScoring.Predict(model, trained.Inputs, TokenExitCriterion.Full(), ToyNer.PadId, 16);

        double accuracy = predictions.Zip(trained.Test).Sum(p => p.First.WordClasses.Zip(p.Second.Tags).Count(w => w.First == w.Second)) / (double)trained.Test.Sum(s => s.Tags.Length);
        Assert.True(accuracy > 0.95, $"{input}: word accuracy {accuracy:0.000} on the toy NER task");
        Assert.Contains(model.state_dict().Where(p => p.Key.StartsWith("attention.", StringComparison.Ordinal)), p => p.Value.abs().max().item<float>() > 1e-3);
    }

    [Fact]
    public void Train_PoolsAtTheirOwnRate_MoveFurtherThanAtTheBackbones()
    {
        List<TokenExample> examples = ToyNer.Examples(96, seed: 43);
        TokenTrainingOptions options = ToyNer.FastOptions();
        options.Epochs = 1;
        options.SelfSamplingEpochs = 0;
        options.LearningRate = 1e-3;
        using TokenExitNetwork shared = ToyNer.Model(2, offRampInput: TokenOffRampInput.LayerAttention);
        using TokenExitNetwork own = ToyNer.Model(2, offRampInput: TokenOffRampInput.LayerAttention);

        TokenClassifierTrainer.Train(shared, examples, null, options, ToyNer.PadId);
        options.LayerAttentionLearningRate = 3e-2;
        TokenClassifierTrainer.Train(own, examples, null, options, ToyNer.PadId);

        float sharedMoved = shared.LayerAttentionParameters().Sum(p => p.abs().max().item<float>());
        float ownMoved = own.LayerAttentionParameters().Sum(p => p.abs().max().item<float>());
        Assert.True(ownMoved > 5 * sharedMoved, $"pools at their own rate moved {ownMoved:0.0000}, at the backbone's {sharedMoved:0.0000}");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1e-3)]
    [InlineData(double.NaN)]
    public void Options_PoolRateNotPositive_IsAProblem(double rate)
    {
        var options = new TokenTrainingOptions { LayerAttentionLearningRate = rate };

        Assert.Contains(options.Validate(), p => p.StartsWith($"LayerAttentionLearningRate is {rate}; it must be a positive number", StringComparison.Ordinal));
    }

    [Fact]
    public void Network_UnknownInput_IsRefusedNamingTheChoices()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ToyNer.Model(1, offRampInput: (TokenOffRampInput)7));

        Assert.Contains("Layer, LayerAttention, DifferenceAttention", error.Message);
    }
}
