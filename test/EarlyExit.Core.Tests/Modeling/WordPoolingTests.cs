using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.Modeling;
using EarlyExit.Tests.Training;
using EarlyExit.Tokenization;
using EarlyExit.Training;
using static TorchSharp.torch;

namespace EarlyExit.Tests.Modeling;

/// <summary>A toy NER labeller on words from layer 2 of 4, trained once (joint + self-sampling) on sentences with words of several pieces.</summary>
public sealed class TrainedPooledNer : IDisposable
{
    public TrainedPooledNer()
    {
        Model = ToyNer.Model(1, wordPoolingLayer: 2);
        TokenClassifierTrainer.Train(Model, ToyNer.Examples(400, seed: 41, pieces: true), null, ToyNer.FastOptions(), ToyNer.PadId);
    }

    public TokenExitNetwork Model { get; }

    public List<(string[] Words, int[] Tags)> Test { get; } = ToyNer.Sentences(60, seed: 42, pieces: true);

    public List<TokenizedInput> Inputs => Test.Select(s => ToyNer.Tokenizer.EncodeWords(s.Words, 64)).ToList();

    public void Dispose() => Model.Dispose();
}

/// <summary>Word pooling: from layer k on, each word's pieces are one position (TokenExitNetwork.WordPoolingLayer).</summary>
[Collection("Torch")]
public class WordPoolingTests(TrainedPooledNer trained) : IClassFixture<TrainedPooledNer>
{
    private static readonly string[][] s_sentences =
    [
        ["annas", "smithson", "visited", "nokiaphones"],
        ["unbelievably"],
        ["paris", "and", "londoners", "met", "toyotas", "yesterday"],
    ];

    [Fact]
    public void Units_StartAtEverySpecialTokenAndWordStart()
    {
        int[] units = WordPooling.Units([-1, 0, 0, 1, 2, 2, 2, -1, -1], out int count);

        Assert.Equal([0, 1, 1, 2, 3, 3, 3, 4, 5], units);
        Assert.Equal(6, count);
    }

    [Fact]
    public void Plan_AveragesEachUnitsPieces_AndSpreadGivesEveryTokenItsUnit()
    {
        using var scope = NewDisposeScope();
        int[][] units = [[0, 1, 1, 1, 2], [0, 1, 2]]; // two rows, 5 and 3 tokens
        Tensor states = arange(2 * 5 * 2, ScalarType.Float32).reshape(2, 5, 2); // [B, T, H]

        WordPooling words = WordPooling.Plan(units, tokens: 5, ScalarType.Float32, CPU);
        Tensor pooled = words.Pool(states); // [B, U, H]
        Tensor spread = words.Spread(pooled);

        Assert.Equal([2L, 3, 2], pooled.shape);
        Assert.Equal([1L, 1, 1, 1, 1, 1], words.Mask.data<long>().ToArray());
        Assert.True(pooled[0, 1].allclose(states[0, TensorIndex.Slice(1, 4)].mean([0])), "row 0's second unit is the mean of tokens 1..3");
        Assert.True(pooled[1].allclose(states[1, TensorIndex.Slice(0, 3)]), "one-piece units keep their states");
        Assert.Equal([0L, 1, 1, 1, 2, 0, 1, 2, 0, 0], words.TokenUnits.data<long>().ToArray());
        Assert.Equal([0L, 1, 4, 0, 1, 2], words.FirstTokens.data<long>().ToArray());
        Assert.True(spread[0, 3].allclose(pooled[0, 1]));
    }

    [Fact]
    public void Forward_FromLayerK_IsTheLayersRunOnEachWordsAveragedPieces()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using TokenExitNetwork model = ToyNer.Model(3, wordPoolingLayer: 3);
        model.eval();
        List<TokenizedInput> inputs = s_sentences.Select(s => ToyNer.Tokenizer.EncodeWords(s, 64)).ToList();
        Assert.All(inputs, input => Assert.True(input.WordIds!.Count(w => w >= 0) > input.WordIds!.Where(w => w >= 0).Distinct().Count(), "every sentence should have a word of several pieces"));
        using TokenBatch batch = TokenBatch.Collate(inputs, ToyNer.PadId, CPU);

        using TokenLayerwiseOutput output = model.Forward(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask, ToyNer.WordIds(inputs, batch.Length));

        Assert.Equal([4L, 3, batch.Length, ToyNer.Tags.Length], output.Logits.shape);
        for (int b = 0; b < inputs.Count; b++)
        {
            // The reference, one row alone: layers 1-2 on tokens, then each word's pieces averaged by hand, layers 3-4 on the averages.
            using TokenBatch row = TokenBatch.Collate([inputs[b]], ToyNer.PadId, CPU);
            Tensor hidden = model.Encoder.Embed(row.InputIds, row.TokenTypeIds, row.AttentionMask);
            using (AttentionMask mask = model.Encoder.PrepareMask(row.AttentionMask))
            {
                for (int layer = 0; layer < 2; layer++)
                {
                    hidden = model.Encoder.ForwardLayer(layer, hidden, mask);
                    Assert.True(output.Logits[layer, b, TensorIndex.Slice(0, inputs[b].Length)].allclose(model.TokenLogits(layer, hidden)[0], atol: 1e-5), $"row {b}, layer {layer + 1}");
                }
            }

            List<List<long>> groups = Groups(inputs[b].WordIds!);
            Tensor words = stack(groups.Select(g => hidden[0].index_select(0, tensor(g.ToArray())).mean([0]))).unsqueeze(0); // [1, U, H]
            using AttentionMask wordMask = model.Encoder.PrepareMask(ones(1, groups.Count, ScalarType.Int64));
            for (int layer = 2; layer < 4; layer++)
            {
                words = model.Encoder.ForwardLayer(layer, words, wordMask);
                Tensor wordLogits = model.TokenLogits(layer, words)[0]; // [U, C]
                for (int u = 0; u < groups.Count; u++)
                {
                    foreach (long t in groups[u])
                    {
                        Assert.True(output.Logits[layer, b, t].allclose(wordLogits[u], atol: 1e-5), $"row {b}, layer {layer + 1}, token {t}");
                    }
                }
            }
        }
    }

    [Fact]
    public void Forward_WithoutWordIds_AsksForThem()
    {
        using TokenExitNetwork model = ToyNer.Model(3, wordPoolingLayer: 2);
        using TokenBatch batch = TokenBatch.Collate([ToyNer.Tokenizer.EncodeWords(s_sentences[0], 64)], ToyNer.PadId, CPU);

        var error = Assert.Throws<ArgumentException>(() => model.Forward(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask));

        Assert.Contains("runs on words from layer 2; pass each token's word id", error.Message);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(5)]
    public void Network_PoolingLayerOutsideTheEncoder_IsRefusedNamingTheRange(int layer)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ToyNer.Model(1, wordPoolingLayer: layer));

        Assert.Equal("wordPoolingLayer", error.ParamName);
        Assert.Contains("a layer in 1..4", error.Message);
    }

    [Fact]
    public void Network_Pooling_AddsNoParameters()
    {
        using TokenExitNetwork plain = ToyNer.Model(3);
        using TokenExitNetwork pooled = ToyNer.Model(3, wordPoolingLayer: 1);

        Assert.Equal(plain.state_dict().Keys, pooled.state_dict().Keys);
        Assert.All(plain.state_dict(), p => Assert.True(p.Value.allclose(pooled.state_dict()[p.Key], rtol: 0, atol: 0), $"{p.Key} differs"));
    }

    [Theory]
    [InlineData("full")]
    [InlineData("layer:1")]
    [InlineData("layer:3")]
    [InlineData("sentee")]
    [InlineData("tokee:1")]
    [InlineData("tokee:3")]
    public void ScoreBatch_HaltAndCopy_EqualsTheReferenceForward(string setting)
    {
        TokenExitNetwork model = trained.Model;
        List<TokenizedInput> inputs = trained.Inputs;
        TokenExitCriterion criterion = Criterion(setting, MedianUncertainty(model, inputs));

        TokenPrediction[] scored = ToyNer.ScoreAsTheReference(model, inputs, criterion, "words from layer 2");

        // A word's pieces stop together.
        for (int b = 0; b < inputs.Count; b++)
        {
            foreach (List<long> unit in Groups(inputs[b].WordIds!))
            {
                Assert.Single(unit.Select(t => scored[b].TokenExitLayers[t]).Distinct());
            }
        }

        if (setting.StartsWith("tokee", StringComparison.Ordinal))
        {
            Assert.Contains(scored, p => p.TokenExitLayers.Distinct().Count() > 1);     // tokens of one row stopped at different layers
            Assert.Contains(scored, p => p.TokenExitLayers.Any(l => l >= 2));            // some after pooling
            Assert.Contains(scored, p => p.ExitLayer < model.NumLayers);                // and some rows left the batch early
        }
    }

    [Fact]
    public void Train_OnWords_KeepsTheTagsOnTheirWords()
    {
        TokenPrediction[] predictions = TokenExitScoring.Predict(trained.Model, trained.Inputs, TokenExitCriterion.Full(), ToyNer.PadId, 16);

        var words = predictions.Zip(trained.Test, trained.Inputs).SelectMany(p => p.Second.Tags.Select((tag, w) =>
            (Gold: tag, Predicted: p.First.WordClasses[w], Pieces: p.Third.WordIds!.Count(id => id == w)))).ToList();
        Assert.Equal(trained.Test.Sum(s => s.Words.Length), words.Count);
        double accuracy = words.Count(w => w.Gold == w.Predicted) / (double)words.Count;
        var split = words.Where(w => w.Pieces > 1).ToList();
        double splitAccuracy = split.Count(w => w.Gold == w.Predicted) / (double)split.Count;
        Assert.True(split.Count > 50, $"only {split.Count} words of several pieces in the test sentences");
        Assert.True(accuracy > 0.95, $"word accuracy {accuracy:0.000} on the toy NER task");
        Assert.True(splitAccuracy > 0.9, $"accuracy {splitAccuracy:0.000} on words of several pieces");
    }

    // The criterion of a setting, its threshold the median token uncertainty at layer 1 (so that tokens stop at different layers).
    private static TokenExitCriterion Criterion(string setting, double threshold) => setting switch
    {
        "sentee" => TokenExitCriterion.Sentee(threshold),
        "tokee:1" => TokenExitCriterion.Tokee(threshold, 1),
        "tokee:3" => TokenExitCriterion.Tokee(threshold, 3),
        _ => TokenExitCriterion.Parse(setting),
    };

    private static double MedianUncertainty(TokenExitNetwork model, IReadOnlyList<TokenizedInput> inputs)
    {
        var states = new TokenExitState[inputs.Count];
        TokenExitScoring.ScoreBatch(model, inputs, TokenExitCriterion.Full(), ToyNer.PadId, haltAndCopy: true, recorded: states);
        double[] first = states.SelectMany(s => s.Recorded!.Value.Uncertainty.Take(s.Length)).Order().ToArray();
        return first[first.Length / 2];
    }

    // The token positions of each unit of a row: each word's pieces, each special token alone.
    private static List<List<long>> Groups(int[] wordIds)
    {
        var groups = new List<List<long>>();
        for (int t = 0; t < wordIds.Length; t++)
        {
            if (t == 0 || wordIds[t] < 0 || wordIds[t] != wordIds[t - 1])
            {
                groups.Add([]);
            }

            groups[^1].Add(t);
        }

        return groups;
    }
}
