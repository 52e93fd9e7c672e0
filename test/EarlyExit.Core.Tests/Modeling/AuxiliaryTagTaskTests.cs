using EarlyExit.Modeling;
using EarlyExit.Tests.Training;
using EarlyExit.Tokenization;
using EarlyExit.Training;
using static TorchSharp.torch;

namespace EarlyExit.Tests.Modeling;

/// <summary>Auxiliary tag heads on a token-exit network: where they read, what they keep unchanged, what they refuse.</summary>
[Collection("Torch")]
public class AuxiliaryTagTaskTests
{
    private static readonly AuxiliaryTagTask[] s_tasks = [new("pos", 7, Layer: 1, Weight: 0.5), new("chunk", 3, Layer: 3, Weight: 1)];

    [Fact]
    public void Constructor_WithTasks_KeepsTheOffRampsAndAddsOnlyAuxiliaryHeads()
    {
        using TokenExitNetwork plain = ToyNer.Model(5);
        using TokenExitNetwork withTasks = ToyNer.Model(5, s_tasks);

        var plainWeights = plain.state_dict();
        var taskWeights = withTasks.state_dict();
        Assert.Equal(plainWeights.Keys.Order(), taskWeights.Keys.Where(k => !k.StartsWith("auxiliary.", StringComparison.Ordinal)).Order());
        Assert.Equal(["auxiliary.0.bias", "auxiliary.0.weight", "auxiliary.1.bias", "auxiliary.1.weight"], taskWeights.Keys.Where(k => k.StartsWith("auxiliary.", StringComparison.Ordinal)).Order());
        Assert.All(plainWeights, p => Assert.Equal(0, TensorComparison.MaxAbsDiff(p.Value, taskWeights[p.Key])));
        Assert.Equal(new long[] { 7, plain.Encoder.HiddenSize }, taskWeights["auxiliary.0.weight"].shape);
        Assert.NotEqual(0, taskWeights["auxiliary.1.weight"].abs().sum().item<float>());
    }

    [Fact]
    public void Forward_AuxiliaryLogits_ReadTheStateAfterTheirLayer()
    {
        using TokenExitNetwork model = ToyNer.Model(5, s_tasks);
        using TokenBatch batch = Batch();
        using var scope = NewDisposeScope();

        using TokenLayerwiseOutput output = model.Forward(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask);
        using EncoderOutput states = model.Encoder.Forward(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask);

        Assert.Equal(2, output.Auxiliary.Count);
        Assert.Equal(new long[] { batch.Count, batch.Length, 7 }, output.Auxiliary[0].shape);
        Assert.Equal(new long[] { batch.Count, batch.Length, 3 }, output.Auxiliary[1].shape);
        Assert.True(TensorComparison.MaxAbsDiff(model.AuxiliaryLogits(0, states.HiddenStates[1]), output.Auxiliary[0]) < 1e-5);
        Assert.True(TensorComparison.MaxAbsDiff(model.AuxiliaryLogits(1, states.HiddenStates[3]), output.Auxiliary[1]) < 1e-5);
        Assert.True(TensorComparison.MaxAbsDiff(model.AuxiliaryLogits(1, states.HiddenStates[2]), output.Auxiliary[1]) > 1e-3, "layer 3's head reads layer 3, not layer 2");
    }

    [Fact]
    public void ForwardWithHalting_TokensHaltedBelowTheTaskLayer_AreReadFromTheirCopiedState()
    {
        using TokenExitNetwork model = ToyNer.Model(5, s_tasks);
        using TokenBatch batch = Batch();
        using var scope = NewDisposeScope();
        Tensor haltAfterOne = full(batch.Count, batch.Length, 1L, ScalarType.Int64);

        using TokenLayerwiseOutput output = model.ForwardWithHalting(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask, haltAfterOne);
        using EncoderOutput states = model.Encoder.Forward(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask);

        Assert.True(TensorComparison.MaxAbsDiff(model.AuxiliaryLogits(1, states.HiddenStates[1]), output.Auxiliary[1]) < 1e-5);
    }

    [Fact]
    public void Forward_WithoutTasks_GivesNoAuxiliaryLogits()
    {
        using TokenExitNetwork model = ToyNer.Model(5);
        using TokenBatch batch = Batch();

        using TokenLayerwiseOutput output = model.Forward(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask);

        Assert.Empty(output.Auxiliary);
        Assert.Empty(model.AuxiliaryTasks);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.AuxiliaryLogits(0, output.Logits[0]));
    }

    [Theory]
    [InlineData("pos", 7, 0, 1.0, "choose a layer in 1..4")]
    [InlineData("pos", 7, 5, 1.0, "reads layer 5; choose a layer in 1..4")]
    [InlineData("pos", 1, 1, 1.0, "'pos' has 1 tags; it needs at least 2")]
    [InlineData("pos", 7, 1, 0.0, "'pos' has weight 0")]
    [InlineData("pos", 7, 1, double.NaN, "the weight must be a finite number above 0")]
    [InlineData(" ", 7, 1, 1.0, "has no name")]
    public void Constructor_InvalidTask_NamesTheTaskAndTheFix(string name, int tags, int layer, double weight, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => ToyNer.Model(5, [new AuxiliaryTagTask(name, tags, layer, weight)]));

        Assert.Contains(expected, error.Message);
        Assert.Equal("auxiliaryTasks", error.ParamName);
    }

    [Fact]
    public void Constructor_TwoTasksOfOneName_AsksForDistinctNames()
    {
        var error = Assert.Throws<ArgumentException>(() => ToyNer.Model(5, [new AuxiliaryTagTask("pos", 7, 1, 1), new AuxiliaryTagTask("POS", 5, 2, 1)]));

        Assert.Contains("2 auxiliary tasks are named 'pos'", error.Message);
    }


    private static TokenBatch Batch() =>
        TokenBatch.Collate(ToyNer.Examples(3, seed: 9).Select(e => e.Input).ToArray(), ToyNer.PadId, CPU);
}
