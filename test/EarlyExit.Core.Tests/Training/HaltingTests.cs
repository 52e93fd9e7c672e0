using EarlyExit.Inference;
using EarlyExit.Training;
using static TorchSharp.torch;

namespace EarlyExit.Tests.Training;

[Collection("Torch")]
public class HaltingTests
{
    [Fact]
    public void GeometricPrior_SumsToOne_LastLayerTakesTheRemainder()
    {
        double[] prior = Halting.GeometricPrior(0.1, 4);

        Assert.Equal(new[] { 0.1, 0.09, 0.081, 0.729 }, prior.Select(p => Math.Round(p, 10)));
        Assert.Equal(1.0, prior.Sum(), 12);
    }

    [Theory]
    [InlineData(12, 0.1)]
    [InlineData(6, 0.19)]
    [InlineData(24, 0.0513167)]
    public void PriorLambdaFor_ScalesTheReferenceToTheDepth(int layers, double expected)
    {
        Assert.Equal(expected, PalbertDefaults.PriorLambdaFor(layers), 6);
    }

    [Theory]
    [InlineData(6)]
    [InlineData(12)]
    [InlineData(24)]
    public void PriorLambdaFor_KeepsThePriorsMassOverRelativeDepth(int layers)
    {
        // The prior's mass in the first half of the network is what λ_p = 0.1 gives 12 layers: 1 - 0.9^6.
        double[] prior = Halting.GeometricPrior(PalbertDefaults.PriorLambdaFor(layers), layers);

        Assert.Equal(1 - Math.Pow(0.9, 6), prior.Take(layers / 2).Sum(), 6);
    }

    [Fact]
    public void LogDistribution_MatchesTheProductFormula_AndSumsToOne()
    {
        using var scope = NewDisposeScope();
        float[] lambdas = [0.2f, 0.5f, 0.9f, 0.3f];
        Tensor logits = tensor(lambdas.Select(l => (float)Math.Log(l / (1 - l))).ToArray()).reshape(4, 1); // [L, B=1]

        float[] p = Halting.LogDistribution(logits).exp().squeeze(1).data<float>().ToArray();

        float[] expected = [0.2f, 0.8f * 0.5f, 0.8f * 0.5f * 0.9f, 0.8f * 0.5f * 0.1f];
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(expected[i], p[i], 5);
        }

        Assert.Equal(expected, HaltingDistribution.FromLambdas(lambdas, 4), new FloatTolerance(1e-6f));
    }

    [Fact]
    public void LogDistribution_SaturatedLogits_StaysFinite()
    {
        using var scope = NewDisposeScope();
        Tensor logits = tensor(new float[] { 80f, -80f, 80f }).reshape(3, 1);

        float[] logP = Halting.LogDistribution(logits).squeeze(1).data<float>().ToArray();

        Assert.All(logP, v => Assert.False(float.IsNaN(v)));
        Assert.Equal(0f, logP[0], 4);
    }

    [Theory]
    [InlineData(KlDirection.PriorToHalting)]
    [InlineData(KlDirection.HaltingToPrior)]
    public void KlDivergence_PriorAgainstItself_IsZero_OtherwisePositive(KlDirection direction)
    {
        using var scope = NewDisposeScope();
        double[] prior = Halting.GeometricPrior(0.3, 3);
        Tensor priorTensor = tensor(prior.Select(v => (float)v).ToArray());
        Tensor logPrior = priorTensor.log().unsqueeze(1).expand(3, 2); // [L, B=2]
        Tensor other = tensor(new float[] { 0.8f, 0.1f, 0.1f }).log().unsqueeze(1).expand(3, 2);

        Assert.Equal(0f, Halting.KlDivergence(logPrior, priorTensor, direction).item<float>(), 6);
        Assert.True(Halting.KlDivergence(other, priorTensor, direction).item<float>() > 0.01f);
    }

    [Fact]
    public void KlDivergence_Directions_MatchTheirFormulas()
    {
        using var scope = NewDisposeScope();
        double[] prior = [0.5, 0.5];
        double[] p = [0.9, 0.1];
        Tensor priorTensor = tensor(prior.Select(v => (float)v).ToArray());
        Tensor logP = tensor(p.Select(v => (float)Math.Log(v)).ToArray()).unsqueeze(1); // [L, 1]

        double priorToP = prior.Zip(p, (q, x) => q * Math.Log(q / x)).Sum();
        double pToPrior = p.Zip(prior, (x, q) => x * Math.Log(x / q)).Sum();

        Assert.Equal(priorToP, Halting.KlDivergence(logP, priorTensor, KlDirection.PriorToHalting).item<float>(), 5);
        Assert.Equal(pToPrior, Halting.KlDivergence(logP, priorTensor, KlDirection.HaltingToPrior).item<float>(), 5);
        Assert.NotEqual(Math.Round(priorToP, 3), Math.Round(pToPrior, 3));
    }

    private sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }
}
