using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.Modeling;
using EarlyExit.Tests.Training;
using EarlyExit.Tokenization;
using static TorchSharp.torch;

namespace EarlyExit.Tests.Inference;

/// <summary>Auxiliary tags at scoring time: read at each task's layer, from copied states where tokens halted earlier.</summary>
[Collection("Torch")]
public class AuxiliaryScoringTests
{
    private static readonly AuxiliaryTagTask[] s_tasks = [new("low", 5, Layer: 1, Weight: 1), new("high", 3, Layer: 3, Weight: 1)];

    // Untrained heads are unsure, so thresholds near 1 make tokens and rows stop at different layers, mixed within rows.
    public static TheoryData<string> Criteria() => new("full", "layer:1", "layer:2", "tokee:0.99:1", "tokee:0.995:1", "tokee:0.995:3", "sentee:0.995");

    [Theory]
    [MemberData(nameof(Criteria))]
    public void ScoreBatch_AuxiliaryTags_EqualTheHaltAndCopyReference(string text)
    {
        TokenExitCriterion criterion = TokenExitCriterion.Parse(text);
        using TokenExitNetwork model = ToyNer.Model(2, s_tasks);
        List<TokenizedInput> inputs = ToyNer.Examples(12, seed: 3).Select(e => e.Input).ToList();

        TokenPrediction[] scored = TokenExitScoring.ScoreBatch(model, inputs, criterion, ToyNer.PadId);

        // The reference: every layer on every token, each token frozen after the layer it exited at.
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using TokenLayerwiseOutput reference = ToyNer.ReferenceForward(model, inputs, scored, out int length);
        for (int task = 0; task < s_tasks.Length; task++)
        {
            long[] expected = reference.Auxiliary[task].argmax(-1).data<long>().ToArray(); // [B, T]
            for (int b = 0; b < inputs.Count; b++)
            {
                int[] wordIds = inputs[b].WordIds!;
                int[] words = scored[b].AuxiliaryWordClasses![task];
                Assert.Equal(wordIds.Max() + 1, words.Length);
                for (int w = 0; w < words.Length; w++)
                {
                    int firstPiece = Array.IndexOf(wordIds, w);
                    Assert.True(expected[(b * length) + firstPiece] == words[w], $"{criterion}, task {s_tasks[task].Name}, row {b}, word {w}");
                }
            }
        }

        if (text == "layer:1")
        {
            Assert.All(scored, p => Assert.Equal(1, p.ExitLayer)); // every row left before the 'high' task's layer 3
        }

        if (text == "sentee:0.995")
        {
            // Some rows left before layer 3 while others ran on: the batch shrank under the 'high' task.
            Assert.Contains(scored, p => p.ExitLayer < 3);
            Assert.Contains(scored, p => p.ExitLayer >= 3);
        }

        if (text == "tokee:0.99:1")
        {
            Assert.Contains(scored, p => p.TokenExitLayers.Distinct().Count() > 1); // tokens of one row stopped at different layers
        }
    }

    [Fact]
    public void ScoreBatch_WithoutTasks_GivesNoAuxiliaryTags()
    {
        using TokenExitNetwork model = ToyNer.Model();

        TokenPrediction[] scored = TokenExitScoring.ScoreBatch(model, ToyNer.Examples(3, seed: 3).Select(e => e.Input).ToList(), TokenExitCriterion.Full(), ToyNer.PadId);

        Assert.All(scored, p => Assert.Null(p.AuxiliaryWordClasses));
    }

}
