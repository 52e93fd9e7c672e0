using EarlyExit.Inference;

namespace EarlyExit.Tests.Inference;

/// <summary>The scoring-time halting distribution (Inference/HaltingDistribution.cs); its agreement with training's is in HaltingTests.</summary>
public class HaltingDistributionTests
{
    [Fact]
    public void FromLambdas_FewerLambdasThanLayers_MarksUncomputedEntriesNaN()
    {
        float[] p = HaltingDistribution.FromLambdas([0.5f], 3);

        Assert.Equal(0.5f, p[0]);
        Assert.True(float.IsNaN(p[1]));
        Assert.True(float.IsNaN(p[2]));
        Assert.Equal(new[] { 0.5f, 0.25f, 0.25f }, HaltingDistribution.FromLambdas([0.5f, 0.5f], 3));
    }
}
