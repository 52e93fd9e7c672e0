using EarlyExit.Checkpoints;
using EarlyExit.ExitCriteria;
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

    // Words the tokenizer splits into several pieces (anna ##s, nokia ##phones, un ##bel ##ie ##va ##bly), for word pooling.
    private static readonly string[] s_firstPieces = ["annas", "lucys"];
    private static readonly string[] s_lastPieces = ["smithson", "joneses", "wilsons"];
    private static readonly string[] s_placesPieces = ["londoners", "berliners"];
    private static readonly string[] s_companiesPieces = ["nokiaphones", "googlers", "toyotas"];
    private static readonly string[] s_fillersPieces = ["unbelievably", "yesterdays", "saidly"];

    private static readonly Lazy<TextTokenizer> s_tokenizer = new(() => TextTokenizer.FromFolder(SharedAssets.Model("random-bert-tiny")));

    public static TextTokenizer Tokenizer => s_tokenizer.Value;

    public static int PadId => Tokenizer.SpecialTokens.Pad;

    /// <summary>(words, IOB2 tag ids) sentences; deterministic for a seed. With <paramref name="pieces"/>, every list also has words of several pieces.</summary>
    public static List<(string[] Words, int[] Tags)> Sentences(int count, int seed, bool pieces = false)
    {
        string[] firstNames = pieces ? [.. s_first, .. s_firstPieces] : s_first;
        string[] lastNames = pieces ? [.. s_last, .. s_lastPieces] : s_last;
        string[] places = pieces ? [.. s_places, .. s_placesPieces] : s_places;
        string[] companies = pieces ? [.. s_companies, .. s_companiesPieces] : s_companies;
        string[] fillers = pieces ? [.. s_fillers, .. s_fillersPieces] : s_fillers;
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
                        words.Add(firstNames[random.Next(firstNames.Length)]);
                        words.Add(lastNames[random.Next(lastNames.Length)]);
                        tags.Add(1);
                        tags.Add(2);
                        break;
                    case 1:
                        words.Add(places[random.Next(places.Length)]);
                        tags.Add(3);
                        break;
                    case 2:
                        words.Add(companies[random.Next(companies.Length)]);
                        tags.Add(4);
                        break;
                    default:
                        words.Add(fillers[random.Next(fillers.Length)]);
                        tags.Add(0);
                        break;
                }
            }

            sentences.Add((words.ToArray(), tags.ToArray()));
        }

        return sentences;
    }

    public static List<TokenExample> Examples(int count, int seed, bool pieces = false) =>
        Sentences(count, seed, pieces).Select(s => new TokenExample(Tokenizer.EncodeWords(s.Words, 64), s.Tags)).ToList();

    /// <summary>A 4-layer tiny BERT with an off-ramp per layer reading <paramref name="offRampInput"/> (and the heads of <paramref name="auxiliaryTasks"/>), on words from <paramref name="wordPoolingLayer"/> (0: never).</summary>
    public static TokenExitNetwork Model(long seed = 1, IReadOnlyList<AuxiliaryTagTask>? auxiliaryTasks = null, TokenOffRampInput offRampInput = TokenOffRampInput.Layer, int wordPoolingLayer = 0)
    {
        EncoderConfig config = EncoderPresets.Get("tiny-bert") with { NumHiddenLayers = 4, HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0 };
        return new TokenExitNetwork(EncoderNetwork.Create(config, seed: seed), Tags.Length, dropoutProbability: 0, seed: seed, auxiliaryTasks, offRampInput, wordPoolingLayer);
    }

    /// <summary>The word ids of <paramref name="inputs"/> as the network takes them: int64 [B, T], -1 for special tokens and padding.</summary>
    public static Tensor WordIds(IReadOnlyList<TokenizedInput> inputs, int length)
    {
        long[] ids = new long[inputs.Count * length];
        Array.Fill(ids, -1);
        for (int b = 0; b < inputs.Count; b++)
        {
            inputs[b].WordIds!.Select(w => (long)w).ToArray().CopyTo(ids, b * length);
        }

        return tensor(ids, [inputs.Count, length]);
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
        return model.ForwardWithHalting(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask, tensor(halt, [batch.Count, batch.Length]),
            model.PoolsWords ? WordIds(inputs, batch.Length) : null);
    }

    /// <summary>
    /// Scores <paramref name="inputs"/> under <paramref name="criterion"/> as one batch and checks the result against the slow
    /// layout (haltAndCopy: false) and against <see cref="ReferenceForward"/>: each token's tag is its exit layer's there.
    /// </summary>
    public static TokenPrediction[] ScoreAsTheReference(TokenExitNetwork model, IReadOnlyList<TokenizedInput> inputs, TokenExitCriterion criterion, string what)
    {
        TokenPrediction[] scored = TokenExitScoring.ScoreBatch(model, inputs, criterion, PadId);
        TokenPrediction[] slow = TokenExitScoring.ScoreBatch(model, inputs, criterion, PadId, haltAndCopy: false);

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using TokenLayerwiseOutput reference = ReferenceForward(model, inputs, scored, out int length);
        long[] classes = reference.Logits.argmax(-1).data<long>().ToArray(); // [L, B, T]
        for (int b = 0; b < inputs.Count; b++)
        {
            Assert.Equal(slow[b].TokenExitLayers, scored[b].TokenExitLayers);
            Assert.Equal(slow[b].TokenClasses, scored[b].TokenClasses);
            for (int t = 0; t < scored[b].TokenClasses.Length; t++)
            {
                int layer = scored[b].TokenExitLayers[t] - 1;
                Assert.True(classes[(((layer * inputs.Count) + b) * length) + t] == scored[b].TokenClasses[t], $"{what} {criterion}: row {b}, token {t}");
            }
        }

        return scored;
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
