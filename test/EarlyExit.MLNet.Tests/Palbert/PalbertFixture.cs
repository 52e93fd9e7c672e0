using EarlyExit.Hub;
using EarlyExit.MLNet.Palbert;
using EarlyExit.Tests.TestSupport;
using EarlyExit.Tests.Training;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EarlyExit.MLNet.Tests.Palbert;

/// <summary>A text row of the toy task, as ML.NET sees it.</summary>
public sealed class TextRow
{
    public string? Text { get; set; }

    public string Label { get; set; } = "";
}

/// <summary>A scored row.</summary>
public sealed class ScoredRow
{
    public string Text { get; set; } = "";

    public string PredictedLabel { get; set; } = "";

    public float[] Score { get; set; } = [];

    public int ExitLayer { get; set; }

    public float[] HaltingDistribution { get; set; } = [];
}

/// <summary>
/// One Palbert pipeline (MapValueToKey -> Palbert on a tiny from-scratch BERT -> MapKeyToValue) fitted
/// once on the toy sentiment task and shared by the tests.
/// </summary>
public sealed class PalbertFixture : IDisposable
{
    public PalbertFixture()
    {
        Context = new MLContext(seed: 1);
        Context.Log += (_, e) =>
        {
            lock (Log)
            {
                Log.Add(e.Message);
            }
        };
        Training = Rows(400, seed: 21);
        Test = Rows(60, seed: 22);
        Model = Pipeline(Context, Options()).Fit(Context.Data.LoadFromEnumerable(Training));
    }

    public MLContext Context { get; }

    public List<string> Log { get; } = [];

    public List<TextRow> Training { get; }

    public List<TextRow> Test { get; }

    public TransformerChain<Microsoft.ML.Transforms.KeyToValueMappingTransformer> Model { get; }

    public PalbertTransformer Palbert => (PalbertTransformer)Model.ElementAt(1);

    /// <summary>Toy sentences labelled "negative" / "positive".</summary>
    public static List<TextRow> Rows(int count, int seed) =>
        ToyClassification.Sentences(count, seed).Select(s => new TextRow { Text = s.Text, Label = s.Label == 1 ? "positive" : "negative" }).ToList();

    /// <summary>Fast options for the toy task: tiny BERT from scratch, tokenizer from the shared mirror, offline.</summary>
    public static PalbertTextClassificationTrainer.Options Options() => new()
    {
        Sentence1ColumnName = nameof(TextRow.Text),
        Backbone = "tiny-bert",
        FromScratch = true,
        Hub = OfflineHub(),
        MaxSequenceLength = 48,
        BatchSize = 16,
        Epochs = 4,
        LearningRate = 2e-3,
        HaltingLearningRate = 2e-3,
        Device = Devices.DeviceOption.Cpu,
        Seed = 5,
    };

    public static HubOptions OfflineHub() => new()
    {
        MirrorDirectory = SharedAssets.Root,
        Offline = true,
        CacheDirectory = Path.Combine(Path.GetTempPath(), "earlyexit-test-cache"),
    };

    public static EstimatorChain<Microsoft.ML.Transforms.KeyToValueMappingTransformer> Pipeline(MLContext ml, PalbertTextClassificationTrainer.Options options) =>
        ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.Palbert(options))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));

    public List<ScoredRow> Score(IEnumerable<TextRow> rows, ITransformer? model = null) =>
        Context.Data.CreateEnumerable<ScoredRow>((model ?? Model).Transform(Context.Data.LoadFromEnumerable(rows)), reuseRowObject: false).ToList();

    /// <summary>The fitted pipeline with another Palbert transformer in the middle.</summary>
    public ITransformer Chain(PalbertTransformer palbert) => new TransformerChain<ITransformer>(Model.ElementAt(0), palbert, Model.ElementAt(2));

    public void Dispose() => Palbert.Dispose();
}
