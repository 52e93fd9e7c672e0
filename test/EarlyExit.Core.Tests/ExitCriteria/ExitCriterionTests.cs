using EarlyExit.ExitCriteria;

namespace EarlyExit.Tests.ExitCriteria;

public class ExitCriterionTests
{
    private const int Layers = 4;

    [Theory]
    [InlineData("qexit:0.5", "qexit:0.5")]
    [InlineData(" QEXIT:0.25 ", "qexit:0.25")]
    [InlineData("sampled", "sampled:0")]
    [InlineData("sampled:42", "sampled:42")]
    [InlineData("expectation", "expectation")]
    [InlineData("patience:6", "patience:6")]
    [InlineData("patience:2:0.25", "patience:2:0.25")]
    [InlineData("entropy:0.3", "entropy:0.3")]
    [InlineData("maxprob:0.9", "maxprob:0.9")]
    [InlineData("layer:3", "layer:3")]
    [InlineData("full", "full")]
    public void Parse_ValidText_GivesCanonicalName(string text, string name)
    {
        ExitCriterion criterion = ExitCriterion.Parse(text);

        Assert.Equal(name, criterion.Name);
        Assert.Equal(criterion, ExitCriterion.Parse(criterion.Name));
    }

    [Theory]
    [InlineData("qexit", "needs a number")]
    [InlineData("qexit:1.5", "q must be in (0, 1)")]
    [InlineData("qexit:abc", "needs a number")]
    [InlineData("patience:0", "at least 1")]
    [InlineData("patience:2.5", "whole number")]
    [InlineData("patience:2:-1", "positive number")]
    [InlineData("patience:2:x", "needs a number")]
    [InlineData("entropy:-0.1", "[0, 1]")]
    [InlineData("layer:0", "at least 1")]
    [InlineData("threshold:0.5", "not known")]
    [InlineData("full:3", "not known")]
    public void Parse_InvalidText_ThrowsNamingTheProblemAndForms(string text, string problem)
    {
        var error = Assert.Throws<FormatException>(() => ExitCriterion.Parse(text));

        Assert.Contains(problem, error.Message);
        Assert.Contains(ExitCriterion.Syntax, error.Message);
    }

    [Fact]
    public void QExit_CumulativeHaltingPassesQ_ExitsThere()
    {
        // λ = 0.3, 0.3, ...: CDF 0.3, 0.51 -> exits at layer 2 with q = 0.5.
        Assert.Equal(2, ExitLayer(ExitCriterion.QExit(0.5), [0.6f, 0.4f], halting: 0.3f));
        Assert.Equal(1, ExitLayer(ExitCriterion.QExit(0.25), [0.6f, 0.4f], halting: 0.3f));
    }

    [Fact]
    public void QExit_HaltingNeverReachesQ_RunsToTheLastLayer()
    {
        Assert.Equal(Layers, ExitLayer(ExitCriterion.QExit(0.9), [0.6f, 0.4f], halting: 0.01f));
    }

    [Fact]
    public void QExit_ModelWithoutHaltingHead_ThrowsNamingTheFix()
    {
        var error = Assert.Throws<InvalidOperationException>(() => ExitCriterion.QExit().CreateDecider(1, Layers, 2, hasHaltingHead: false));

        Assert.Contains("qexit:0.5", error.Message);
        Assert.Contains("halting", error.Message);
    }

    [Fact]
    public void Patience_PredictionStable_ExitsAfterPatiencePlusOneLayers()
    {
        Assert.Equal(3, ExitLayer(ExitCriterion.Patience(2), [0.6f, 0.4f]));
        Assert.Equal(2, ExitLayer(ExitCriterion.Patience(1), [0.6f, 0.4f]));
    }

    [Fact]
    public void Patience_PredictionFlips_ResetsTheCounter()
    {
        ExitDecider decider = ExitCriterion.Patience(1).CreateDecider(1, Layers, 2, hasHaltingHead: false);

        Assert.False(decider.Observe(0, 0, [0.6f, 0.4f], float.NaN));
        Assert.False(decider.Observe(0, 1, [0.4f, 0.6f], float.NaN));
        Assert.True(decider.Observe(0, 2, [0.3f, 0.7f], float.NaN));
        Assert.Equal(3, decider.ExitLayer(0));
    }

    [Fact]
    public void Patience_RegressionValueSettles_ExitsOnceItChangedLessThanTheTolerance()
    {
        ExitDecider decider = ExitCriterion.Patience(2, 0.1).CreateDecider(1, Layers, 1, hasHaltingHead: false);

        Assert.False(decider.Observe(0, 0, [1.0f], float.NaN));
        Assert.False(decider.Observe(0, 1, [2.0f], float.NaN)); // moved by 1.0: counter stays 0
        Assert.False(decider.Observe(0, 2, [2.05f], float.NaN)); // 1
        Assert.True(decider.Observe(0, 3, [2.0f], float.NaN)); // 2: exits with this layer's value
        Assert.Equal(4, decider.ExitLayer(0));
        Assert.Equal(2.0f, decider.Prediction(0)[0]);
    }

    [Fact]
    public void Patience_RegressionWithoutTolerance_ThrowsShowingTheForm()
    {
        var error = Assert.Throws<InvalidOperationException>(() => ExitCriterion.Patience(3).CreateDecider(1, Layers, 1, hasHaltingHead: false));

        Assert.Contains("patience:3:T", error.Message);
    }

    [Fact]
    public void Patience_ToleranceOnAClassifier_Throws()
    {
        var error = Assert.Throws<InvalidOperationException>(() => ExitCriterion.Parse("patience:3:0.1").CreateDecider(1, Layers, 2, hasHaltingHead: false));

        Assert.Contains("only regression models", error.Message);
    }

    [Theory]
    [InlineData("entropy:0.3")]
    [InlineData("maxprob:0.9")]
    public void ClassProbabilityCriteria_OnARegressionModel_ThrowNamingTheAlternatives(string text)
    {
        var error = Assert.Throws<InvalidOperationException>(() => ExitCriterion.Parse(text).CreateDecider(1, Layers, 1, hasHaltingHead: true));

        Assert.Contains(text, error.Message);
        Assert.Contains("regression", error.Message);
        Assert.Contains("patience:N:T", error.Message);
    }

    [Fact]
    public void Expectation_RegressionModel_PredictsTheHaltingWeightedMean()
    {
        ExitDecider decider = ExitCriterion.Expectation().CreateDecider(1, 2, 1, hasHaltingHead: true);

        decider.Observe(0, 0, [1.0f], 0.25f); // p_1 = 0.25
        decider.Observe(0, 1, [3.0f], 0.9f);  // p_2 = 0.75 (the remaining mass)

        Assert.Equal(0.25 * 1.0 + 0.75 * 3.0, decider.Prediction(0)[0], 5);
    }

    [Fact]
    public void Entropy_ConfidentRow_ExitsAtLayerOne()
    {
        Assert.Equal(1, ExitLayer(ExitCriterion.Entropy(0.5), [0.99f, 0.01f]));
        Assert.Equal(Layers, ExitLayer(ExitCriterion.Entropy(0.5), [0.55f, 0.45f]));
    }

    [Fact]
    public void NormalizedEntropy_UniformAndCertain_AreOneAndZero()
    {
        Assert.Equal(1.0, EntropyExitCriterion.NormalizedEntropy([0.25f, 0.25f, 0.25f, 0.25f]), 6);
        Assert.Equal(0.0, EntropyExitCriterion.NormalizedEntropy([1f, 0f, 0f]), 6);
    }

    [Fact]
    public void MaxProbability_ThresholdReached_Exits()
    {
        Assert.Equal(1, ExitLayer(ExitCriterion.MaxProbability(0.9), [0.9f, 0.1f]));
        Assert.Equal(Layers, ExitLayer(ExitCriterion.MaxProbability(0.95), [0.9f, 0.1f]));
    }

    [Fact]
    public void FixedLayer_ExitsExactlyThere_AndRejectsLayersPastTheModel()
    {
        Assert.Equal(1, ExitLayer(ExitCriterion.FixedLayer(1), [0.5f, 0.5f]));
        Assert.Equal(3, ExitLayer(ExitCriterion.FixedLayer(3), [0.5f, 0.5f]));
        var error = Assert.Throws<InvalidOperationException>(() => ExitCriterion.FixedLayer(Layers + 1).CreateDecider(1, Layers, 2, false));
        Assert.Contains($"layer:1 to layer:{Layers}", error.Message);
    }

    [Fact]
    public void Full_NeverExitsEarly()
    {
        Assert.Equal(Layers, ExitLayer(ExitCriterion.Full(), [1f, 0f]));
    }

    [Fact]
    public void Expectation_RunsAllLayers_AndPredictsTheHaltingWeightedMixture()
    {
        ExitDecider decider = ExitCriterion.Expectation().CreateDecider(1, 2, 2, hasHaltingHead: true);

        Assert.False(decider.Observe(0, 0, [1f, 0f], 0.25f));
        Assert.True(decider.Observe(0, 1, [0f, 1f], 0.9f));

        // p = (0.25, 0.75): the last layer takes the remaining mass whatever its own λ.
        Assert.Equal(new[] { 0.25f, 0.75f }, decider.Prediction(0).ToArray());
        Assert.Equal(2, decider.ExitLayer(0));
    }

    [Fact]
    public void Sampled_SameKeySameDraws_DifferentSeedsDiffer()
    {
        double[] a = Enumerable.Range(0, 64).Select(layer => SampledExitCriterion.Draw(7, 12345UL, layer)).ToArray();
        double[] b = Enumerable.Range(0, 64).Select(layer => SampledExitCriterion.Draw(7, 12345UL, layer)).ToArray();
        double[] c = Enumerable.Range(0, 64).Select(layer => SampledExitCriterion.Draw(8, 12345UL, layer)).ToArray();

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.All(a, d => Assert.InRange(d, 0.0, 1.0));
        Assert.InRange(a.Average(), 0.3, 0.7);
    }

    [Fact]
    public void Sampled_HaltingOneOrZero_ExitsAtOnceOrNever()
    {
        Assert.Equal(1, ExitLayer(ExitCriterion.Sampled(3), [0.5f, 0.5f], halting: 1f));
        Assert.Equal(Layers, ExitLayer(ExitCriterion.Sampled(3), [0.5f, 0.5f], halting: 0f));
    }

    [Fact]
    public void Observe_RowAlreadyExited_Throws()
    {
        ExitDecider decider = ExitCriterion.FixedLayer(1).CreateDecider(1, Layers, 2, false);
        decider.Observe(0, 0, [0.5f, 0.5f], float.NaN);

        Assert.Throws<InvalidOperationException>(() => decider.Observe(0, 1, [0.5f, 0.5f], float.NaN));
    }

    private static int ExitLayer(ExitCriterion criterion, float[] probabilities, float halting = float.NaN)
    {
        ExitDecider decider = criterion.CreateDecider(1, Layers, probabilities.Length, hasHaltingHead: !float.IsNaN(halting));
        for (int layer = 0; layer < Layers; layer++)
        {
            if (decider.Observe(0, layer, probabilities, halting))
            {
                Assert.Equal(probabilities, decider.Prediction(0).ToArray());
                return decider.ExitLayer(0);
            }
        }

        throw new InvalidOperationException("The decider never let the row exit, not even at the last layer.");
    }
}
