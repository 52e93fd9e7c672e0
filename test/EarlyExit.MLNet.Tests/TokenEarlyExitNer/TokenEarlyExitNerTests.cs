using EarlyExit.ExitCriteria;
using EarlyExit.MLNet.Interop;
using EarlyExit.MLNet.Tests.TestSupport;
using EarlyExit.MLNet.TokenEarlyExitNer;
using EarlyExit.Modeling;
using EarlyExit.Sequence;
using EarlyExit.Tests.TestSupport;
using EarlyExit.Tests.Training;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EarlyExit.MLNet.Tests.TokenEarlyExitNer;

/// <summary>A sentence row: words and IOB2 tag strings.</summary>
public sealed class SentenceRow
{
    public string[] Tokens { get; set; } = [];

    public string[] Label { get; set; } = [];
}

/// <summary>A labelled row.</summary>
public sealed class TaggedRow
{
    public string[] PredictedLabel { get; set; } = [];

    public int[] TokenExitLayers { get; set; } = [];

    public int ExitLayer { get; set; }
}

/// <summary>What <see cref="NerFixture.FitSaveLoad"/> tagged with the fitted and the loaded pipeline, and the loaded network's layout.</summary>
public sealed record NerRoundTrip(List<TaggedRow> Fitted, List<TaggedRow> Loaded, TokenOffRampInput OffRampInput, int WordPoolingLayer);

/// <summary>One token-exit NER pipeline fitted once on the toy NER task.</summary>
public sealed class NerFixture : IDisposable
{
    public NerFixture()
    {
        Context = new MLContext(seed: 1);
        Context.Log += (_, e) =>
        {
            lock (Log)
            {
                Log.Add(e.Message);
            }
        };
        Training = Rows(400, seed: 51);
        Test = Rows(60, seed: 52);
        Model = Pipeline(Context, Options()).Fit(Context.Data.LoadFromEnumerable(Training));
    }

    public MLContext Context { get; }

    public List<string> Log { get; } = [];

    public List<SentenceRow> Training { get; }

    public List<SentenceRow> Test { get; }

    public TransformerChain<Microsoft.ML.Transforms.KeyToValueMappingTransformer> Model { get; }

    public TokenEarlyExitNerTransformer Ner => (TokenEarlyExitNerTransformer)Model.ElementAt(1);

    public static List<SentenceRow> Rows(int count, int seed, bool pieces = false) =>
        ToyNer.Sentences(count, seed, pieces).Select(s => new SentenceRow { Tokens = s.Words, Label = s.Tags.Select(t => ToyNer.Tags[t]).ToArray() }).ToList();

    public static TokenEarlyExitNerTrainer.Options Options() => new()
    {
        Backbone = "tiny-bert",
        FromScratch = true,
        Hub = Palbert.PalbertFixture.OfflineHub(),
        MaxSequenceLength = 32,
        BatchSize = 16,
        Epochs = 3,
        SelfSamplingEpochs = 1,
        LearningRate = 3e-3,
        Dropout = 0,
        Device = Devices.DeviceOption.Cpu,
        Seed = 5,
    };

    public static EstimatorChain<Microsoft.ML.Transforms.KeyToValueMappingTransformer> Pipeline(MLContext ml, TokenEarlyExitNerTrainer.Options options) =>
        ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.TokenEarlyExitNer(options))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));

    /// <summary>
    /// Fits <paramref name="options"/> on <paramref name="training"/>, saves the pipeline to <paramref name="path"/>, loads it in a
    /// fresh context and tags <paramref name="test"/> with both; also returns the loaded network's layout settings.
    /// </summary>
    public static NerRoundTrip FitSaveLoad(TokenEarlyExitNerTrainer.Options options, List<SentenceRow> training, List<SentenceRow> test, string path)
    {
        var ml = new MLContext(seed: 1);
        IDataView data = ml.Data.LoadFromEnumerable(training);
        using var model = Pipeline(ml, options).Fit(data);
        ml.Model.Save(model, data.Schema, path);
        var loaded = (TransformerChain<ITransformer>)new MLContext(seed: 3).Model.Load(path, out _);
        try
        {
            TokenExitNetwork network = loaded.OfType<TokenEarlyExitNerTransformer>().Single().Classifier.Model;
            return new NerRoundTrip(Tag(ml, model, test), Tag(ml, loaded, test), network.OffRampInput, network.WordPoolingLayer);
        }
        finally
        {
            (loaded as IDisposable)?.Dispose();
        }

        static List<TaggedRow> Tag(MLContext ml, ITransformer model, List<SentenceRow> rows) =>
            ml.Data.CreateEnumerable<TaggedRow>(model.Transform(ml.Data.LoadFromEnumerable(rows)), reuseRowObject: false).ToList();
    }

    public List<TaggedRow> Tag(IEnumerable<SentenceRow> rows, ITransformer? model = null) =>
        Context.Data.CreateEnumerable<TaggedRow>((model ?? Model).Transform(Context.Data.LoadFromEnumerable(rows)), reuseRowObject: false).ToList();

    /// <summary>The fitted pipeline with another token-exit transformer in the middle.</summary>
    public ITransformer Chain(TokenEarlyExitNerTransformer ner) => new TransformerChain<ITransformer>(Model.ElementAt(0), ner, Model.ElementAt(2));

    public void Dispose() => Ner.Dispose();
}

[Collection("Torch")]
public sealed class TokenEarlyExitNerTests(NerFixture fixture) : IClassFixture<NerFixture>, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ner-tests-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Fit_ToyNer_FindsTheEntities()
    {
        IDataView scored = fixture.Model.Transform(fixture.Context.Data.LoadFromEnumerable(fixture.Test));

        NerMetrics metrics = NerEvaluation.Evaluate(scored, fixture.Ner.NumLayers);

        Assert.True(metrics.Entities.Overall.F1 > 0.9, $"entity F1 {metrics.Entities.Overall.F1:0.000} on the toy task");
        Assert.Equal(["LOC", "ORG", "PER"], metrics.Entities.PerType.Keys);
        Assert.InRange(metrics.MeanTokenExitLayer, 1, fixture.Ner.NumLayers);
        Assert.Equal(fixture.Ner.NumLayers / metrics.MeanTokenExitLayer, metrics.TokenLayerSpeedup, 6);
        Assert.Equal(fixture.Test.Sum(r => r.Tokens.Length), metrics.ExitLayerHistogram.Sum());
    }

    [Fact]
    public void GetOutputSchema_MatchesTheFittedTransformersSchema()
    {
        DataViewSchema keyed = fixture.Model.ElementAt(0).GetOutputSchema(fixture.Context.Data.LoadFromEnumerable(fixture.Test).Schema);

        SchemaShape declared = fixture.Context.MulticlassClassification.Trainers.TokenEarlyExitNer(NerFixture.Options()).GetOutputSchema(MLNetInternals.ShapeOf(keyed));
        SchemaShape actual = MLNetInternals.ShapeOf(fixture.Ner.GetOutputSchema(keyed));

        Assert.Equal(actual.Select(c => c.Name).Order(), declared.Select(c => c.Name).Order());
        foreach (SchemaShape.Column expected in actual)
        {
            SchemaShape.Column shape = declared.Single(c => c.Name == expected.Name);
            Assert.Equal((expected.Kind, expected.ItemType, expected.IsKey), (shape.Kind, shape.ItemType, shape.IsKey));
        }
    }

    [Fact]
    public void CatalogSimpleOverload_PassesEveryParameter()
    {
        DataViewSchema keyed = fixture.Model.ElementAt(0).GetOutputSchema(fixture.Context.Data.LoadFromEnumerable(fixture.Test).Schema);
        var trainers = fixture.Context.MulticlassClassification.Trainers;

        SchemaShape declared = trainers.TokenEarlyExitNer(predictedLabelColumnName: "Tags", tokenExitLayersColumnName: "WordExits", exitLayerColumnName: "DeepestExit")
            .GetOutputSchema(MLNetInternals.ShapeOf(keyed));
        var error = Assert.Throws<ArgumentException>(() => trainers.TokenEarlyExitNer(maxSequenceLength: 4, batchSize: 0, epochs: -1, learningRate: -1));

        Assert.Equal(["DeepestExit", "Tags", "WordExits"], declared.Select(c => c.Name).Where(n => n is "Tags" or "WordExits" or "DeepestExit").Order());
        Assert.Contains("MaxSequenceLength is 4", error.Message);
        Assert.Contains("BatchSize is 0", error.Message);
        Assert.Contains("Epochs is -1", error.Message);
        Assert.Contains("LearningRate is -1", error.Message);
    }

    [Fact]
    public void Transform_Batched_EqualsPredictionEngineRowByRow()
    {
        List<TaggedRow> batched = fixture.Tag(fixture.Test);
        var engine = fixture.Context.Model.CreatePredictionEngine<SentenceRow, TaggedRow>(fixture.Model);

        for (int i = 0; i < fixture.Test.Count; i++)
        {
            TaggedRow alone = engine.Predict(fixture.Test[i]);
            Assert.Equal(alone.PredictedLabel, batched[i].PredictedLabel);
            Assert.Equal(alone.TokenExitLayers, batched[i].TokenExitLayers);
            Assert.Equal(alone.TokenExitLayers.Max(), batched[i].ExitLayer);
        }
    }

    [Fact]
    public void WithExitCriterion_ChangesExitsWithoutRetraining()
    {
        using TokenEarlyExitNerTransformer first = fixture.Ner.WithExitCriterion(TokenExitCriterion.FixedLayer(1));
        using TokenEarlyExitNerTransformer sentee = fixture.Ner.WithExitCriterion(TokenExitCriterion.Parse("sentee:0"));

        Assert.All(fixture.Tag(fixture.Test, fixture.Chain(first)), r => Assert.All(r.TokenExitLayers, l => Assert.Equal(1, l)));
        Assert.All(fixture.Tag(fixture.Test, fixture.Chain(sentee)), r => Assert.Equal(fixture.Ner.NumLayers, r.ExitLayer));
    }

    [Fact]
    public void SaveLoad_FreshProcess_TagsTheSame()
    {
        string path = Path.Combine(_folder, "ner.zip");
        string sentences = Path.Combine(_folder, "sentences.txt");
        List<SentenceRow> rows = fixture.Test.Take(10).ToList();
        File.WriteAllLines(sentences, rows.Select(r => string.Join(' ', r.Tokens)));
        fixture.Context.Model.Save(fixture.Model, fixture.Context.Data.LoadFromEnumerable(rows).Schema, path);

        string output = LoadProbe.Run("ner", path, sentences);

        string[] expected = fixture.Tag(rows).Select(r => $"row: {string.Join(",", r.PredictedLabel)} {string.Join(",", r.TokenExitLayers)} {r.ExitLayer}").ToArray();
        Assert.Equal(expected, output.Split('\n').Where(l => l.StartsWith("row: ", StringComparison.Ordinal)).Select(l => l.TrimEnd('\r')).ToArray());
        Assert.Contains($"engine: {expected[0].Split(' ')[1]} {expected[0].Split(' ')[2]}", output);
    }

    [Fact]
    public void Transform_WordsAsOneString_SplitsOnWhitespace()
    {
        var asText = fixture.Test.Select(r => new TextRow { Tokens = string.Join("  ", r.Tokens), Label = r.Label }).ToList();

        string[][] fromVectors = fixture.Tag(fixture.Test).Select(r => r.PredictedLabel).ToArray();
        IDataView fromText = fixture.Ner.Transform(fixture.Context.Data.LoadFromEnumerable(asText));
        string[][] fromStrings = fromText.GetColumn<VBuffer<uint>>("PredictedLabel")
            .Select(v => v.DenseValues().Select(k => fixture.Ner.ClassNames[(int)k - 1]).ToArray()).ToArray();

        Assert.Equal(fromVectors, fromStrings);
    }

    [Fact]
    public void Transform_EmptyAndOverlongSentences_AreTaggedInFull()
    {
        string[] longSentence = Enumerable.Range(0, 30).SelectMany(_ => new[] { "john", "smith", "met", "google" }).ToArray();
        var rows = new List<SentenceRow>
        {
            new() { Tokens = [], Label = [] },
            new() { Tokens = longSentence, Label = longSentence.Select(_ => "O").ToArray() },
        };

        List<TaggedRow> tagged = fixture.Tag(rows);

        Assert.Empty(tagged[0].PredictedLabel);
        Assert.Equal(0, tagged[0].ExitLayer);
        Assert.Equal(longSentence.Length, tagged[1].PredictedLabel.Length);
        Assert.True(fixture.Ner.Classifier.Encode(longSentence).Count > 1, "the long sentence needs several chunks at MaxSequenceLength 32");
        Assert.Equal(["B-PER", "I-PER", "O", "B-ORG"], tagged[1].PredictedLabel[^4..]);
    }

    [Fact]
    public void Evaluate_TagUnseenInTraining_NamesTheRow()
    {
        var rows = new List<SentenceRow> { new() { Tokens = ["john", "smith"], Label = ["B-MISC", "I-MISC"] } };
        IDataView scored = fixture.Model.Transform(fixture.Context.Data.LoadFromEnumerable(rows));

        var error = Assert.Throws<ArgumentException>(() => NerEvaluation.Evaluate(scored, fixture.Ner.NumLayers));

        Assert.Contains("Row 0", error.Message);
        Assert.Contains("not trained on", error.Message);
    }

    [Fact]
    public void Fit_TokensAndTagsOfDifferentLength_NamesTheRow()
    {
        List<SentenceRow> rows = NerFixture.Rows(20, seed: 9);
        rows[7].Label = rows[7].Label[..^1];
        var ml = new MLContext(seed: 1);

        var error = Assert.Throws<ArgumentException>(() => NerFixture.Pipeline(ml, NerFixture.Options()).Fit(ml.Data.LoadFromEnumerable(rows)));

        Assert.Contains("Row 7", error.Message);
        Assert.Contains("one tag per word", error.Message);
    }

    [Fact]
    public void Fit_SentenceWithAMissingTag_IsSkippedWithOneWarningNamingIt()
    {
        // The missing-label policy of both trainers: a row with a missing label (key 0) is skipped and counted.
        List<SentenceRow> rows = NerFixture.Rows(20, seed: 9);
        rows[3].Label = [.. rows[3].Label];
        rows[3].Label[1] = "";   // MapValueToKey maps an empty tag to key 0
        var ml = new MLContext(seed: 1);
        var log = new List<string>();
        ml.Log += (_, e) =>
        {
            lock (log)
            {
                log.Add(e.Message);
            }
        };
        TokenEarlyExitNerTrainer.Options options = NerFixture.Options();
        options.Epochs = 1;
        options.SelfSamplingEpochs = 0;

        using var model = NerFixture.Pipeline(ml, options).Fit(ml.Data.LoadFromEnumerable(rows));

        string warning = Assert.Single(log, m => m.Contains("missing tag", StringComparison.Ordinal));
        Assert.Contains("Skipped 1 training sentence(s)", warning);
        Assert.Contains($"row 3, word 1 ('{rows[3].Tokens[1]}')", warning);
    }

    [Fact]
    public void Fit_LabelNotKeys_NamesMapValueToKey()
    {
        var ml = new MLContext(seed: 1);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            ml.MulticlassClassification.Trainers.TokenEarlyExitNer(NerFixture.Options()).Fit(ml.Data.LoadFromEnumerable(NerFixture.Rows(5, 1))));

        Assert.Contains("vector of Key<UInt32>", error.Message);
        Assert.Contains("MapValueToKey", error.Message);
    }

    [Fact]
    public void Fit_ReportsProgressToTheLog()
    {
        Assert.Contains(fixture.Log, m => m.Contains("self-sampling epoch 4/4", StringComparison.Ordinal));
        Assert.Contains(fixture.Log, m => m.Contains("training sentences in", StringComparison.Ordinal));
    }

    [Fact]
    public void LoadFromConllFile_SharedValidSet_ReadsSentencesAndConvertsToIob2()
    {
        IDataView data = fixture.Context.Data.LoadFromConllFile(SharedAssets.Data("conll2003/valid.txt"), convertTo: TagScheme.Iob2);

        var rows = fixture.Context.Data.CreateEnumerable<ConllSentenceRow>(data, reuseRowObject: false).ToList();

        Assert.Equal(3250, rows.Count);
        Assert.Equal(51362, rows.Sum(r => r.Tokens.Length));
        Assert.All(rows, r => Assert.Equal(r.Tokens.Length, r.Label.Length));
        Assert.Contains(rows, r => r.Label.Contains("B-LOC"));
        Assert.Equal(["CRICKET", "-", "LEICESTERSHIRE"], rows[0].Tokens[..3]);
        Assert.Equal("B-ORG", rows[0].Label[2]);
    }

    public sealed class TextRow
    {
        public string Tokens { get; set; } = "";

        public string[] Label { get; set; } = [];
    }
}
