using EarlyExit.Modeling;
using EarlyExit.Tokenization;
using EarlyExit.Training;
using static TorchSharp.torch;

namespace EarlyExit.Tests.Training;

/// <summary>Training a token-exit network with an auxiliary tag task beside its own tags.</summary>
[Collection("Torch")]
public class AuxiliaryTrainingTests
{
    // The toy task's entity type without its B/I prefix: O, PER, LOC, ORG.
    private static readonly int[] s_entityOfTag = [0, 1, 1, 2, 3];

    [Fact]
    public void Train_EntityTypeAtLayerOne_LearnsItThere()
    {
        var task = new AuxiliaryTagTask("entity", 4, Layer: 1, Weight: 1);
        using TokenExitNetwork model = ToyNer.Model(1, [task]);
        List<TokenExample> test = WithEntities(ToyNer.Examples(60, seed: 42));
        double before = Accuracy(model, test);

        TokenClassifierTrainer.Train(model, WithEntities(ToyNer.Examples(400, seed: 41)), null, ToyNer.FastOptions(), ToyNer.PadId);

        double majority = test.SelectMany(e => e.AuxiliaryWordLabels![0]).GroupBy(l => l).Max(g => g.Count()) / (double)test.Sum(e => e.WordLabels.Length);
        double after = Accuracy(model, test);
        Assert.True(after > 0.9 && after > majority + 0.1, $"entity-type accuracy at layer 1: {after:0.000} after training, {before:0.000} before, majority class {majority:0.000}");
    }

    [Fact]
    public void AuxiliaryLoss_IgnoredTokens_DoNotCount()
    {
        using var scope = NewDisposeScope();
        Tensor logits = tensor(new float[] { 2, 0, 0, 2, 5, -5 }, [1, 3, 2]);
        Tensor labels = tensor(new long[] { 0, 1, TokenExample.Ignored }, [1, 2 + 1]);

        double loss = TokenClassifierTrainer.AuxiliaryLoss(logits, labels).item<float>();

        double expected = Math.Log(1 + Math.Exp(-2)); // both labelled tokens are right by a margin of 2; the third is ignored
        Assert.Equal(expected, loss, 5);
    }

    [Fact]
    public void Train_ExamplesWithoutTheTasksLabels_NamesTheCountAndTheTasks()
    {
        using TokenExitNetwork model = ToyNer.Model(1, [new AuxiliaryTagTask("entity", 4, Layer: 1, Weight: 1)]);
        List<TokenExample> missing = ToyNer.Examples(4, seed: 1);
        List<TokenExample> short_ = WithEntities(ToyNer.Examples(4, seed: 1)).Select(e => e with { AuxiliaryWordLabels = [e.AuxiliaryWordLabels![0][..^1]] }).ToList();
        List<TokenExample> outside = WithEntities(ToyNer.Examples(4, seed: 1)).Select(e => e with { AuxiliaryWordLabels = [e.AuxiliaryWordLabels![0].Select(_ => 4).ToArray()] }).ToList();

        var noLabels = Assert.Throws<ArgumentException>(() => TokenClassifierTrainer.Train(model, missing, null, ToyNer.FastOptions(), ToyNer.PadId));
        var tooFew = Assert.Throws<ArgumentException>(() => TokenClassifierTrainer.Train(model, short_, null, ToyNer.FastOptions(), ToyNer.PadId));
        var outOfRange = Assert.Throws<ArgumentException>(() => TokenClassifierTrainer.Train(model, outside, null, ToyNer.FastOptions(), ToyNer.PadId));

        Assert.Contains("has labels for 0 auxiliary tasks, but the model has 1 (entity)", noLabels.Message);
        Assert.Contains($"'entity' tags for {short_[0].WordLabels.Length} words", tooFew.Message);
        Assert.Contains("'entity' tag outside 0..3", outOfRange.Message);
    }


    [Fact]
    public void Train_ValidationWithoutTheTasksLabels_ScoresTheTagsAlone()
    {
        using TokenExitNetwork model = ToyNer.Model(1, [new AuxiliaryTagTask("entity", 4, Layer: 1, Weight: 1)]);
        TokenTrainingOptions options = ToyNer.FastOptions();
        options.Epochs = 1;
        options.SelfSamplingEpochs = 0;

        TrainingReport report = TokenClassifierTrainer.Train(model, WithEntities(ToyNer.Examples(16, seed: 1)), ToyNer.Examples(8, seed: 2), options, ToyNer.PadId);

        Assert.NotNull(report.Epochs[0].ValidationScore);
    }

    private static List<TokenExample> WithEntities(List<TokenExample> examples) =>
        examples.Select(e => e with { AuxiliaryWordLabels = [e.WordLabels.Select(t => s_entityOfTag[t]).ToArray()] }).ToList();

    // Word accuracy of auxiliary task 0, read at each word's first piece.
    private static double Accuracy(TokenExitNetwork model, List<TokenExample> examples)
    {
        model.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using TokenBatch batch = TokenBatch.Collate(examples.Select(e => e.Input).ToArray(), ToyNer.PadId, CPU);
        using TokenLayerwiseOutput output = model.Forward(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask);
        long[] predicted = output.Auxiliary[0].argmax(-1).data<long>().ToArray(); // [B, T]
        int correct = 0;
        int total = 0;
        for (int b = 0; b < examples.Count; b++)
        {
            long[] gold = examples[b].AuxiliaryTokenLabels(0);
            for (int t = 0; t < gold.Length; t++)
            {
                if (gold[t] != TokenExample.Ignored)
                {
                    correct += predicted[(b * batch.Length) + t] == gold[t] ? 1 : 0;
                    total++;
                }
            }
        }

        return (double)correct / total;
    }
}
