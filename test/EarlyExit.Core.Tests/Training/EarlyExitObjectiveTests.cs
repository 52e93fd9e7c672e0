using EarlyExit.Training;
using static TorchSharp.torch;

namespace EarlyExit.Tests.Training;

[Collection("Torch")]
public class EarlyExitObjectiveTests
{
    // Two layers, one row, two classes; CE of layer i computed by hand.
    private static readonly float[,] s_logits = { { 2f, 0f }, { 0f, 1f } };

    [Fact]
    public void Loss_Joint_IsThePlainMeanOfLayerCrossEntropies()
    {
        Assert.Equal((Ce(0) + Ce(1)) / 2, Loss(TrainingObjective.Joint, null), 5);
    }

    [Fact]
    public void Loss_Pabee_WeightsLayersByTheirIndex()
    {
        Assert.Equal(((1 * Ce(0)) + (2 * Ce(1))) / 3, Loss(TrainingObjective.Pabee, null), 5);
    }

    [Fact]
    public void Loss_LastLayer_IsTheLastLayersCrossEntropyOnly()
    {
        Assert.Equal(Ce(1), Loss(TrainingObjective.LastLayer, null), 5);
    }

    [Fact]
    public void Loss_RegressionOutputs_UseSquaredErrors()
    {
        using var scope = NewDisposeScope();
        var objective = new EarlyExitObjective(TrainingObjective.Pabee, 2, 0.1, 0.5, KlDirection.PriorToHalting);
        Tensor outputs = tensor(new[] { 1f, 2f }).reshape(2, 1, 1); // [L, B, 1]: layer 1 says 1, layer 2 says 2

        double loss = objective.Loss(outputs, null, tensor(new[] { 2.5f })).item<float>();

        Assert.Equal(((1 * 1.5 * 1.5) + (2 * 0.5 * 0.5)) / 3, loss, 5);
        var standardised = new EarlyExitObjective(TrainingObjective.Pabee, 2, 0.1, 0.5, KlDirection.PriorToHalting, targetScale: 2);
        Assert.Equal(loss / 4, standardised.Loss(outputs, null, tensor(new[] { 2.5f })).item<float>(), 5);
    }

    [Fact]
    public void Loss_Ponder_IsHaltingWeightedCrossEntropyPlusBetaKl()
    {
        const double lambda = 0.25; // halting probability of layer 1; layer 2 takes 0.75
        double[] p = [lambda, 1 - lambda];
        double[] prior = Halting.GeometricPrior(0.1, 2); // 0.1, 0.9
        double kl = prior.Zip(p, (q, x) => q * Math.Log(q / x)).Sum();
        double expected = (p[0] * Ce(0)) + (p[1] * Ce(1)) + (0.5 * kl);

        Assert.Equal(expected, Loss(TrainingObjective.Ponder, (float)Math.Log(lambda / (1 - lambda))), 5);
    }

    [Fact]
    public void Loss_PonderWithoutHaltingLogits_Throws()
    {
        var objective = new EarlyExitObjective(TrainingObjective.Ponder, 2, 0.1, 0.5, KlDirection.PriorToHalting);
        using var scope = NewDisposeScope();

        Assert.Throws<ArgumentException>(() => objective.Loss(LogitsTensor(), null, tensor(new long[] { 1 })));
    }

    private static double Loss(TrainingObjective kind, float? haltingLogit)
    {
        using var scope = NewDisposeScope();
        var objective = new EarlyExitObjective(kind, 2, 0.1, 0.5, KlDirection.PriorToHalting);
        Tensor? halting = haltingLogit is float z ? tensor(new[] { z, 0f }).reshape(2, 1) : null; // [L, B]; the last layer's λ is unused
        return objective.Loss(LogitsTensor(), halting, tensor(new long[] { 1 })).item<float>();
    }

    private static Tensor LogitsTensor() => tensor(new[] { s_logits[0, 0], s_logits[0, 1], s_logits[1, 0], s_logits[1, 1] }).reshape(2, 1, 2); // [L, B, C]

    // Cross-entropy of layer i for the label 1.
    private static double Ce(int layer)
    {
        double a = s_logits[layer, 0];
        double b = s_logits[layer, 1];
        return Math.Log(Math.Exp(a) + Math.Exp(b)) - b;
    }
}
