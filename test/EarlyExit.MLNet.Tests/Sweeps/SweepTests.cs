using EarlyExit.Evaluation;
using EarlyExit.ExitCriteria;
using EarlyExit.MLNet.Palbert;
using EarlyExit.MLNet.Sweeps;
using EarlyExit.MLNet.Tests.Palbert;
using EarlyExit.MLNet.Tests.TokenEarlyExitNer;
using EarlyExit.MLNet.TokenEarlyExitNer;
using EarlyExit.Sweeps;
using Microsoft.Data.Analysis;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EarlyExit.MLNet.Tests.Sweeps;

[Collection("Torch")]
public sealed class PalbertSweepTests(PalbertFixture fixture) : IClassFixture<PalbertFixture>
{
    private IDataView KeyedTest => fixture.Model.ElementAt(0).Transform(fixture.Context.Data.LoadFromEnumerable(fixture.Test));

    [Theory]
    [InlineData("qexit:0.3")]
    [InlineData("patience:1")]
    [InlineData("entropy:0.5")]
    [InlineData("layer:1")]
    public void Sweep_SettingFigures_EqualScoringWithThatSettingThroughMLNet(string criterion)
    {
        ExitSweep sweep = fixture.Palbert.Sweep(KeyedTest, ExitGrid.Parse($"full {criterion} qexit:0.9"), measureSpeed: false);
        SweepSetting setting = sweep.Settings.Single(s => s.Criterion == criterion);

        using PalbertTransformer scorer = fixture.Palbert.WithExitCriterion(setting);
        List<ScoredRow> scored = fixture.Score(fixture.Test, new TransformerChain<ITransformer>(fixture.Model.ElementAt(0), scorer, fixture.Model.ElementAt(2)));

        double accuracy = scored.Zip(fixture.Test, (s, t) => s.PredictedLabel == t.Label ? 1.0 : 0.0).Average();
        Assert.Equal(accuracy, setting.Metric, 12);
        Assert.Equal(scored.Average(s => s.ExitLayer), setting.MeanExitLayer, 12);
        Assert.Equal(2 / setting.MeanExitLayer, setting.LayerSpeedup, 12);
        Assert.Equal(fixture.Test.Count, setting.ExitLayerHistogram.Sum());
        Assert.Equal(criterion, scorer.ExitCriterion.Name);
    }

    [Theory]
    [InlineData(null, "positive")]
    [InlineData("negative", "negative")]
    [InlineData("positive", "positive")]
    public void Sweep_F1_IsThePositiveLabelsF1WhateverTheKeyOrder(string? positiveLabel, string positive)
    {
        ExitSweep sweep = fixture.Palbert.Sweep(KeyedTest, ExitGrid.Parse("full"), ClassificationMetric.F1, measureSpeed: false, positiveLabel: positiveLabel);
        List<ScoredRow> scored = fixture.Score(fixture.Test);

        int tp = scored.Zip(fixture.Test).Count(p => p.First.PredictedLabel == positive && p.Second.Label == positive);
        int predicted = scored.Count(s => s.PredictedLabel == positive);
        int actual = fixture.Test.Count(t => t.Label == positive);
        Assert.Equal(2.0 * tp / (predicted + actual), sweep.FullDepth.Metric, 12);
    }

    [Fact]
    public void Sweep_PositiveLabelNotAClass_ListsTheClasses()
    {
        var error = Assert.Throws<ArgumentException>(() => fixture.Palbert.Sweep(KeyedTest, ExitGrid.Parse("full"), ClassificationMetric.F1, measureSpeed: false, positiveLabel: "1"));

        Assert.Contains("'negative'", error.Message);
        Assert.Contains("'positive'", error.Message);
    }

    [Fact]
    public void Sweep_DefaultGrid_GivesADataFrame_WithTheFrontMeasuredAndTheOracles()
    {
        ExitSweep sweep = fixture.Palbert.Sweep(KeyedTest, metric: ClassificationMetric.MacroF1);
        DataFrame frame = sweep.ToDataFrame();

        Assert.Equal(sweep.Settings.Count, frame.Rows.Count);
        foreach (string column in new[] { "Criterion", "Kind", "Parameters", "accuracy", "macro-f1", "f1", "mcc", "MeanExitLayer", "LayerSpeedup", "ParetoFront", "Estimated", "RowsPerSecond", "MeasuredMetric" })
        {
            Assert.Contains(column, frame.Columns.Select(c => c.Name));
        }

        Assert.Equal("macro-f1", sweep.MetricName);
        Assert.Equal("0.5", sweep.Settings.Single(s => s.Criterion == "qexit:0.5").Parameters);
        Assert.Equal("", sweep.FullDepth.Parameters);
        Assert.Contains(sweep.Settings, s => s.Criterion == "oracle:agree");
        Assert.Contains(sweep.Settings, s => s.Criterion == "oracle:correct");
        Assert.All(sweep.Settings.Where(s => s.IsOracle), s => Assert.False(s.OnParetoFront));
        Assert.All(sweep.ParetoFront, s => Assert.True(s.RowsPerSecond > 0));
        Assert.All(sweep.ParetoFront, s => Assert.Equal(s.Metric, s.MeasuredMetric!.Value, 12));
        Assert.All(sweep.Settings.Where(s => !s.OnParetoFront && s.Criterion != "full"), s => Assert.Null(s.RowsPerSecond));
        Assert.True(sweep.FullDepth.RowsPerSecond > 0);
        Assert.True(sweep.Timings.CostRatio > 0);
        Assert.Equal(sweep.Settings.Count(s => !s.IsOracle), sweep.Timings.Settings);
        // The oracle that agrees with full depth is exactly as accurate and never slower.
        SweepSetting agree = sweep.Settings.Single(s => s.Criterion == "oracle:agree");
        Assert.Equal(sweep.FullDepth.Metrics["accuracy"], agree.Metrics["accuracy"], 12);
        Assert.True(agree.LayerSpeedup >= 1);
    }

    [Fact]
    public void Selection_NeverBreaksTheConstraint_AndCanBeApplied()
    {
        ExitSweep sweep = fixture.Palbert.Sweep(KeyedTest);

        SweepSetting? within = sweep.FastestWithin(0.02);
        SweepSetting? relative = sweep.FastestWithin(0.05, MetricDrop.Relative);
        SweepSetting? atSpeed = sweep.MostAccurateAt(1.5);

        Assert.NotNull(within);
        Assert.True(within!.EffectiveMetric >= sweep.FullDepth.EffectiveMetric - 0.02);
        Assert.DoesNotContain(sweep.Settings, s => !s.IsOracle && s.EffectiveMetric >= sweep.FullDepth.EffectiveMetric - 0.02 && s.EffectiveSpeedup > within.EffectiveSpeedup);
        Assert.True(relative!.EffectiveMetric >= sweep.FullDepth.EffectiveMetric * 0.95);
        if (atSpeed is not null)
        {
            Assert.True(atSpeed.EffectiveSpeedup >= 1.5);
        }

        using PalbertTransformer applied = fixture.Palbert.WithExitCriterion(within);
        Assert.Equal(within.Criterion, applied.ExitCriterion.Name);
        Assert.Throws<ArgumentException>(() => fixture.Palbert.WithExitCriterion(sweep.Settings.Single(s => s.Criterion == "oracle:correct")));
    }

    [Fact]
    public void Plots_AreWrittenAsPngsOfTheAskedSize()
    {
        ExitSweep sweep = fixture.Palbert.Sweep(KeyedTest, measureSpeed: false);
        string folder = Directory.CreateTempSubdirectory("sweep-plots-").FullName;
        try
        {
            sweep.SaveTradeOff(Path.Combine(folder, "tradeoff.png"));
            sweep.SaveExitHistogram("qexit:0.5", Path.Combine(folder, "histogram.png"), width: 640, height: 480);
            sweep.SaveExitLayerByGroup(["full", "qexit:0.5", "oracle:agree"], Path.Combine(folder, "groups.png"));

            Assert.Equal((SweepPlots.Width, SweepPlots.Height), PngSize(Path.Combine(folder, "tradeoff.png")));
            Assert.Equal((640, 480), PngSize(Path.Combine(folder, "histogram.png")));
            Assert.Equal((SweepPlots.Width, SweepPlots.Height), PngSize(Path.Combine(folder, "groups.png")));
            Assert.All(Directory.GetFiles(folder), f => Assert.True(new FileInfo(f).Length > 10_000, $"{f} looks empty"));
            Assert.Equal(["negative", "positive"], sweep.FullDepth.MeanExitLayerByGroup.Keys);
            Assert.Throws<ArgumentException>(() => sweep.SaveExitHistogram("qexit:0.55555", Path.Combine(folder, "none.png")));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    // Width and height from the PNG signature and IHDR chunk.
    internal static (int Width, int Height) PngSize(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        return (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }

    [Fact]
    public void Sweep_BadInputs_AreRejectedNamingTheProblem()
    {
        var pastTheModel = Assert.Throws<ArgumentException>(() => fixture.Palbert.Sweep(KeyedTest, ExitGrid.Parse("layer:5"), measureSpeed: false));
        var empty = Assert.Throws<ArgumentException>(() => fixture.Palbert.Sweep(KeyedTest, [], measureSpeed: false));
        var unkeyed = Assert.Throws<ArgumentOutOfRangeException>(() => fixture.Palbert.Sweep(fixture.Context.Data.LoadFromEnumerable(fixture.Test), measureSpeed: false));
        IDataView unseen = fixture.Model.ElementAt(0).Transform(fixture.Context.Data.LoadFromEnumerable(
            [fixture.Test[0], new TextRow { Text = "so so", Label = "neutral" }]));
        var missing = Assert.Throws<ArgumentException>(() => fixture.Palbert.Sweep(unseen, measureSpeed: false));

        Assert.Contains("'layer:5'", pastTheModel.Message);
        Assert.Contains("empty", empty.Message);
        Assert.Contains("Key<UInt32>", unkeyed.Message);
        Assert.Contains("Row 1", missing.Message);
    }
}

[Collection("Torch")]
public sealed class NerSweepTests(NerFixture fixture) : IClassFixture<NerFixture>
{
    private IDataView KeyedTest => fixture.Model.ElementAt(0).Transform(fixture.Context.Data.LoadFromEnumerable(fixture.Test));

    [Theory]
    [InlineData("sentee:0.3")]
    [InlineData("sentee:0.6:mean")]
    [InlineData("layer:1")]
    public void Sweep_SenteeAndFixedLayers_EqualLabellingWithThatSetting(string criterion)
    {
        ExitSweep sweep = fixture.Ner.Sweep(KeyedTest, ExitGrid.ParseTokens($"full {criterion}"), measureSpeed: false);
        SweepSetting setting = sweep.Settings.Single(s => s.Criterion == TokenExitCriterion.Parse(criterion).Name);

        using TokenEarlyExitNerTransformer labeller = fixture.Ner.WithExitCriterion(setting);
        NerMetrics real = NerEvaluation.Evaluate(labeller.Transform(KeyedTest), labeller.NumLayers);

        Assert.False(setting.Estimated);
        Assert.Equal(real.Entities.Overall.F1, setting.Metric, 12);
        Assert.Equal(real.Entities.TokenAccuracy, setting.Metrics["token-accuracy"], 12);
        Assert.Equal(real.MeanTokenExitLayer, setting.MeanExitLayer, 12);
        Assert.Equal(real.ExitLayerHistogram, setting.ExitLayerHistogram);
    }

    [Fact]
    public void Sweep_Tokee_IsAnEstimate_ConfirmedByARealPassOnTheFront()
    {
        ExitSweep sweep = fixture.Ner.Sweep(KeyedTest, ExitGrid.ParseTokens("tokee:0.1..0.5/0.2:1,3 sentee:0.2 layer:1"));

        Assert.Equal("entity-f1", sweep.MetricName);
        Assert.All(sweep.Settings.Where(s => s.Kind == "tokee"), s => Assert.True(s.Estimated));
        Assert.All(sweep.ParetoFront, s => Assert.NotNull(s.MeasuredMetric));
        Assert.All(sweep.ParetoFront, s => Assert.True(s.RowsPerSecond > 0));
        SweepSetting agree = sweep.Settings.Single(s => s.Criterion == "oracle:agree");
        Assert.Equal(sweep.FullDepth.Metric, agree.Metric, 12);
        Assert.Contains(sweep.ToDataFrame().Columns, c => c.Name == "entity-precision");
    }

    [Fact]
    public void ExitLayerByGroup_IsPerGoldEntityType_WithOLast()
    {
        ExitSweep sweep = fixture.Ner.Sweep(KeyedTest, ExitGrid.ParseTokens("tokee:0.3"), measureSpeed: false);

        Assert.Equal(["LOC", "ORG", "PER", "O"], sweep.FullDepth.MeanExitLayerByGroup.Keys);
        Assert.All(sweep.FullDepth.MeanExitLayerByGroup.Values, v => Assert.Equal(2.0, v));
    }

    [Fact]
    public void Sweep_GoldTagTheModelNeverSaw_NamesTheRow()
    {
        IDataView data = fixture.Model.ElementAt(0).Transform(fixture.Context.Data.LoadFromEnumerable(
            [fixture.Test[0], new SentenceRow { Tokens = ["tea", "time"], Label = ["B-FOOD", "O"] }]));

        var error = Assert.Throws<ArgumentException>(() => fixture.Ner.Sweep(data, measureSpeed: false));

        Assert.Contains("Row 1", error.Message);
    }
}
