using EarlyExit.Checkpoints;
using EarlyExit.Inference;
using EarlyExit.Modeling;
using EarlyExit.Tests.TestSupport;
using EarlyExit.Tokenization;
using EarlyExit.Training;
using static TorchSharp.torch;

namespace EarlyExit.Tests.Training;

/// <summary>
/// A small NER task a tiny encoder learns in seconds: sentences of filler words with people (two words),
/// places and companies from fixed lists, tagged IOB2.
/// </summary>
internal static class ToyNer
{
    public static readonly string[] Tags = ["O", "B-PER", "I-PER", "B-LOC", "B-ORG"];

    private static readonly string[] s_first = ["john", "mary", "peter", "anna", "paul", "lucy"];
    private static readonly string[] s_last = ["smith", "jones", "brown", "taylor", "wilson"];
    private static readonly string[] s_places = ["paris", "london", "berlin", "madrid", "rome"];
    private static readonly string[] s_companies = ["google", "siemens", "nokia", "toyota", "intel"];
    private static readonly string[] s_fillers = ["the", "visit", "to", "was", "said", "yesterday", "and", "met", "in", "at", "news", "a"];

    private static readonly Lazy<TextTokenizer> s_tokenizer = new(() => TextTokenizer.FromFolder(SharedAssets.Model("random-bert-tiny")));

    public static TextTokenizer Tokenizer => s_tokenizer.Value;

    public static int PadId => Tokenizer.SpecialTokens.Pad;

    /// <summary>(words, IOB2 tag ids) sentences; deterministic for a seed.</summary>
    public static List<(string[] Words, int[] Tags)> Sentences(int count, int seed)
    {
        var random = new Random(seed);
        var sentences = new List<(string[], int[])>(count);
        for (int i = 0; i < count; i++)
        {
            var words = new List<string>();
            var tags = new List<int>();
            int parts = random.Next(2, 6);
            for (int p = 0; p < parts; p++)
            {
                switch (random.Next(4))
                {
                    case 0:
                        words.Add(s_first[random.Next(s_first.Length)]);
                        words.Add(s_last[random.Next(s_last.Length)]);
                        tags.Add(1);
                        tags.Add(2);
                        break;
                    case 1:
                        words.Add(s_places[random.Next(s_places.Length)]);
                        tags.Add(3);
                        break;
                    case 2:
                        words.Add(s_companies[random.Next(s_companies.Length)]);
                        tags.Add(4);
                        break;
                    default:
                        words.Add(s_fillers[random.Next(s_fillers.Length)]);
                        tags.Add(0);
                        break;
                }
            }

            sentences.Add((words.ToArray(), tags.ToArray()));
        }

        return sentences;
    }

    public static List<TokenExample> Examples(int count, int seed) =>
        Sentences(count, seed).Select(s => new TokenExample(Tokenizer.EncodeWords(s.Words, 64), s.Tags)).ToList();

    /// <summary>A 4-layer tiny BERT with an off-ramp per layer reading <paramref name="offRampInput"/> (and the heads of <paramref name="auxiliaryTasks"/>).</summary>
    public static TokenExitNetwork Model(long seed = 1, IReadOnlyList<AuxiliaryTagTask>? auxiliaryTasks = null, TokenOffRampInput offRampInput = TokenOffRampInput.Layer)
    {
        EncoderConfig config = EncoderPresets.Get("tiny-bert") with { NumHiddenLayers = 4, HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0 };
        return new TokenExitNetwork(EncoderNetwork.Create(config, seed: seed), Tags.Length, dropoutProbability: 0, seed: seed, auxiliaryTasks, offRampInput);
    }

    /// <summary>
    /// The halt-and-copy reference for <paramref name="scored"/>: every layer on every token of <paramref name="inputs"/> (one batch),
    /// each token frozen after the layer it exited at. Call inside a no_grad dispose scope; the batch's width is <paramref name="length"/>.
    /// </summary>
    public static TokenLayerwiseOutput ReferenceForward(TokenExitNetwork model, IReadOnlyList<TokenizedInput> inputs, IReadOnlyList<TokenPrediction> scored, out int length)
    {
        using TokenBatch batch = TokenBatch.Collate(inputs, PadId, CPU);
        long[] halt = new long[batch.Count * batch.Length];
        Array.Fill(halt, model.NumLayers);
        for (int b = 0; b < inputs.Count; b++)
        {
            scored[b].TokenExitLayers.Select(l => (long)l).ToArray().CopyTo(halt, b * batch.Length);
        }

        length = batch.Length;
        return model.ForwardWithHalting(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask, tensor(halt, [batch.Count, batch.Length]));
    }

    public static TokenTrainingOptions FastOptions() => new()
    {
        Epochs = 3,
        SelfSamplingEpochs = 1,
        BatchSize = 16,
        LearningRate = 3e-3,
        Seed = 3,
    };
}
