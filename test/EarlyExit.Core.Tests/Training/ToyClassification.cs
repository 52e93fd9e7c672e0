using EarlyExit.Checkpoints;
using EarlyExit.Modeling;
using EarlyExit.Tests.TestSupport;
using EarlyExit.Tokenization;
using EarlyExit.Training;

namespace EarlyExit.Tests.Training;

/// <summary>
/// A small sentiment-like task a tiny encoder learns in seconds: a sentence is positive when its
/// sentiment word is positive. Some sentences carry a clear word early (easy rows, which should exit
/// early), others only a weak word among fillers.
/// </summary>
internal static class ToyClassification
{
    private static readonly string[] s_positive = ["good", "great", "excellent", "happy", "wonderful", "fine", "lovely", "nice"];
    private static readonly string[] s_negative = ["bad", "awful", "terrible", "sad", "horrible", "poor", "ugly", "nasty"];
    private static readonly string[] s_fillers = ["the", "movie", "was", "quite", "really", "a", "story", "about", "people", "and", "their", "day", "in", "town"];

    private static readonly Lazy<TextTokenizer> s_tokenizer = new(() => TextTokenizer.FromFolder(SharedAssets.Model("random-bert-tiny")));

    public static TextTokenizer Tokenizer => s_tokenizer.Value;

    public static int PadId => Tokenizer.SpecialTokens.Pad;

    /// <summary>(text, label) rows; deterministic for a seed.</summary>
    public static List<(string Text, int Label)> Sentences(int count, int seed)
    {
        var random = new Random(seed);
        var rows = new List<(string, int)>(count);
        for (int i = 0; i < count; i++)
        {
            int label = random.Next(2);
            string word = (label == 1 ? s_positive : s_negative)[random.Next(8)];
            int fillers = random.Next(2, 10);
            var words = Enumerable.Range(0, fillers).Select(_ => s_fillers[random.Next(s_fillers.Length)]).ToList();
            words.Insert(random.Next(words.Count + 1), word);
            rows.Add((string.Join(' ', words), label));
        }

        return rows;
    }

    /// <summary>The toy task as regression: a positive sentence scores about 4, a negative one about 1, plus 0.05 per word.</summary>
    public static List<RegressionExample> RegressionExamples(int count, int seed) =>
        Sentences(count, seed).Select(s => new RegressionExample(Tokenizer.Encode(s.Text, 64), (s.Label == 1 ? 4f : 1f) + (0.05f * s.Text.Split(' ').Length))).ToList();

    public static List<ClassificationExample> Examples(int count, int seed) =>
        Sentences(count, seed).Select(s => new ClassificationExample(Tokenizer.Encode(s.Text, 64), s.Label)).ToList();

    /// <summary>A 4-layer tiny BERT with heads.</summary>
    public static EarlyExitNetwork Model(HaltingVariant halting = HaltingVariant.Concat, ClassifierHeads heads = ClassifierHeads.Shared, long seed = 1, HeadPooling pooling = HeadPooling.Cls, int outputs = 2)
    {
        EncoderConfig config = EncoderPresets.Get("tiny-bert") with { NumHiddenLayers = 4, HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0 };
        EncoderNetwork encoder = EncoderNetwork.Create(config, seed: seed);
        try
        {
            return new EarlyExitNetwork(encoder, new EarlyExitNetworkConfig { NumLabels = outputs, Halting = halting, Heads = heads, Pooling = pooling }, seed);
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
    }

    public static ClassifierTrainingOptions FastOptions(TrainingObjective objective = TrainingObjective.Ponder) => new()
    {
        Epochs = 4,
        BatchSize = 16,
        LearningRate = 2e-3,
        HaltingLearningRate = 2e-3,
        Objective = objective,
        Seed = 3,
    };
}
