using EarlyExit.Sequence;

namespace EarlyExit.Tests.Sequence;

public class EntityEvaluationTests
{
    [Fact]
    public void Evaluate_SeqevalsDocumentedExample_GivesHalfAndEightyPercentAccuracy()
    {
        string[][] gold = [["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]];
        string[][] predicted = [["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]];

        EntityEvaluationResult result = EntityEvaluation.Evaluate(gold, predicted);

        Assert.Equal(new EntityScores(2, 2, 1), result.Overall);
        Assert.Equal(0.5, result.Overall.Precision);
        Assert.Equal(0.5, result.Overall.Recall);
        Assert.Equal(0.5, result.Overall.F1);
        Assert.Equal(0.8, result.TokenAccuracy, 12);
        Assert.Equal(new EntityScores(1, 1, 0), result.PerType["MISC"]);
        Assert.Equal(new EntityScores(1, 1, 1), result.PerType["PER"]);
        Assert.Equal(2, result.SentenceCount);
        Assert.Equal(10, result.TokenCount);
    }

    [Fact]
    public void Evaluate_OddPredictedSequences_CountsConllevalsEntities()
    {
        // gold PER[0,2) LOC[3,4) | predicted PER[1,2) (O I-PER) LOC[3,4) (I- after O)
        // gold PER[0,1) LOC[1,2) | predicted the same (B-PER I-LOC is two entities)
        // gold PER[0,2) (IOB1)   | predicted PER[0,1) PER[1,2) (I-PER B-PER is two)
        string[][] gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-PER", "B-LOC"], ["I-PER", "I-PER"]];
        string[][] predicted = [["O", "I-PER", "O", "I-LOC"], ["B-PER", "I-LOC"], ["I-PER", "B-PER"]];

        EntityEvaluationResult result = EntityEvaluation.Evaluate(gold, predicted);

        Assert.Equal(new EntityScores(3, 4, 1), result.PerType["PER"]);
        Assert.Equal(new EntityScores(2, 2, 2), result.PerType["LOC"]);
        Assert.Equal(new EntityScores(5, 6, 3), result.Overall);
        Assert.Equal(4, result.CorrectTokenCount); // I-PER@1, O@2, B-PER, I-PER@0 of the last
    }

    [Fact]
    public void Evaluate_EntitiesTouchingASentenceBoundary_StaySeparate()
    {
        string[][] gold = [["O", "I-PER"], ["I-PER", "O"]];

        EntityEvaluationResult result = EntityEvaluation.Evaluate(gold, gold);

        Assert.Equal(new EntityScores(2, 2, 2), result.Overall);
    }

    [Fact]
    public void Evaluate_PerfectPredictions_Give100()
    {
        string[][] gold = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG"]];

        EntityEvaluationResult result = EntityEvaluation.Evaluate(gold, gold);

        Assert.Equal(1.0, result.Overall.Precision);
        Assert.Equal(1.0, result.Overall.Recall);
        Assert.Equal(1.0, result.Overall.F1);
        Assert.Equal(1.0, result.MacroF1);
        Assert.Equal(1.0, result.TokenAccuracy);
        Assert.Contains("accuracy: 100.00%; precision: 100.00%; recall: 100.00%; FB1: 100.00\n", result.ToConllevalReport());
    }

    [Fact]
    public void Evaluate_NoPredictedEntities_GivesZeroWithoutDividingByZero()
    {
        string[][] gold = [["B-PER", "I-PER", "O", "B-LOC"]];
        string[][] predicted = [["O", "O", "O", "O"]];

        EntityEvaluationResult result = EntityEvaluation.Evaluate(gold, predicted);

        Assert.Equal(new EntityScores(2, 0, 0), result.Overall);
        Assert.Equal(0.0, result.Overall.Precision);
        Assert.Equal(0.0, result.Overall.Recall);
        Assert.Equal(0.0, result.Overall.F1);
        Assert.Equal(0.0, result.MacroPrecision);
        Assert.Equal(0.0, result.MacroF1);
        Assert.Equal(0.25, result.TokenAccuracy);
        Assert.Equal(
            "processed 4 tokens with 2 phrases; found: 0 phrases; correct: 0.\n" +
            "accuracy:  25.00%; precision:   0.00%; recall:   0.00%; FB1:   0.00\n" +
            "              LOC: precision:   0.00%; recall:   0.00%; FB1:   0.00  0\n" +
            "              PER: precision:   0.00%; recall:   0.00%; FB1:   0.00  0\n",
            result.ToConllevalReport());
    }

    [Fact]
    public void Evaluate_NoEntitiesAnywhere_GivesZeroScoresAsConllevalDoes()
    {
        string[][] tags = [["O", "O"]];

        EntityEvaluationResult result = EntityEvaluation.Evaluate(tags, tags);

        Assert.Equal(new EntityScores(0, 0, 0), result.Overall);
        Assert.Equal(0.0, result.Overall.F1);
        Assert.Equal(1.0, result.TokenAccuracy);
        Assert.Empty(result.PerType);
        Assert.Equal(0.0, result.MacroF1);
    }

    [Fact]
    public void Evaluate_NoSentences_GivesZerosAndTheCountsLineOnly()
    {
        EntityEvaluationResult result = EntityEvaluation.Evaluate(Array.Empty<string[]>(), Array.Empty<string[]>());

        Assert.Equal(0, result.TokenCount);
        Assert.Equal(0.0, result.TokenAccuracy);
        Assert.Equal(0.0, result.Overall.F1);
        Assert.Equal("processed 0 tokens with 0 phrases; found: 0 phrases; correct: 0.\n", result.ToConllevalReport());
    }

    [Fact]
    public void Evaluate_MacroAverage_IsTheMeanOverTypes()
    {
        // A: gold 2, predicted 1, correct 1 (P 1, R 0.5, F1 2/3); B: gold 1, predicted 0.
        string[][] gold = [["B-A", "O", "B-A", "O", "B-B"]];
        string[][] predicted = [["B-A", "O", "O", "O", "O"]];

        EntityEvaluationResult result = EntityEvaluation.Evaluate(gold, predicted);

        Assert.Equal(0.5, result.MacroPrecision, 15);
        Assert.Equal(0.25, result.MacroRecall, 15);
        Assert.Equal(1.0 / 3, result.MacroF1, 15);
        Assert.Equal(1.0, result.Overall.Precision);
        Assert.Equal(1.0 / 3, result.Overall.Recall, 15);
        Assert.Equal(0.5, result.Overall.F1, 15);
    }

    [Fact]
    public void Evaluate_SentenceLengthsDiffer_ThrowsNamingTheSentence()
    {
        string[][] gold = [["O"], ["B-PER", "O", "O"]];
        string[][] predicted = [["O"], ["B-PER", "O"]];

        var error = Assert.Throws<TagSequenceException>(() => EntityEvaluation.Evaluate(gold, predicted));

        Assert.Equal(1, error.SentenceIndex);
        Assert.Equal("Sentence 1 (0-based) has 3 gold tags but 2 predicted tags; predict exactly one tag per token.", error.Message);
    }

    [Fact]
    public void Evaluate_SentenceCountsDiffer_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => EntityEvaluation.Evaluate([["O"], ["O"]], [["O"]]));

        Assert.StartsWith("Gold has 2 sentences but the predictions have 1", error.Message);
    }

    [Fact]
    public void Evaluate_MalformedPredictedTag_ThrowsNamingSentenceSideAndPosition()
    {
        var error = Assert.Throws<TagSequenceException>(() => EntityEvaluation.Evaluate([["O"], ["B-PER", "O"]], [["O"], ["B-PER", "B_PER"]]));

        Assert.Equal(1, error.SentenceIndex);
        Assert.Equal(1, error.Position);
        Assert.StartsWith("Sentence 1, token 1 (0-based) of the predicted tags 'B_PER' in 'B-PER [B_PER]': 'B_PER' is not a tag", error.Message);
    }

    [Fact]
    public void EntityEvaluator_SentenceBySentence_EqualsEvaluate()
    {
        string[][] gold = [["B-PER", "I-PER", "O"], ["O", "B-LOC"], ["I-ORG", "B-ORG"]];
        string[][] predicted = [["B-PER", "O", "O"], ["O", "B-LOC"], ["I-ORG", "I-ORG"]];
        var evaluator = new EntityEvaluator();

        for (int s = 0; s < gold.Length; s++)
        {
            evaluator.Add(gold[s], predicted[s]);
        }

        EntityEvaluationResult incremental = evaluator.Result();
        EntityEvaluationResult batch = EntityEvaluation.Evaluate(gold, predicted);
        Assert.Equal(batch.Overall, incremental.Overall);
        Assert.Equal(batch.PerType, incremental.PerType);
        Assert.Equal(batch.ToConllevalReport(), incremental.ToConllevalReport());
        Assert.Equal(3, evaluator.SentenceCount);
    }

    [Fact]
    public void ToConllevalReport_TypeNames_ArePaddedBySeventeenBytesAndSortedOrdinally()
    {
        // Expected text from conlleval.pl on the same three lines (Perl pads "%17s" by UTF-8 bytes).
        string[][] gold = [["B-ÉVÉNEMENT", "I-ÉVÉNEMENT", "B-A_VERY_LONG_TYPE_NAME"], ["O"]];
        string[][] predicted = [["B-ÉVÉNEMENT", "O", "O"], ["B-A_VERY_LONG_TYPE_NAME"]];

        string report = EntityEvaluation.Evaluate(gold, predicted).ToConllevalReport();

        Assert.Equal(
            "processed 4 tokens with 2 phrases; found: 2 phrases; correct: 0.\n" +
            "accuracy:  25.00%; precision:   0.00%; recall:   0.00%; FB1:   0.00\n" +
            "A_VERY_LONG_TYPE_NAME: precision:   0.00%; recall:   0.00%; FB1:   0.00  1\n" +
            "      ÉVÉNEMENT: precision:   0.00%; recall:   0.00%; FB1:   0.00  1\n",
            report);
    }

    [Fact]
    public void ToConllevalReport_ExactTies_RoundToEvenAsPerlsPrintf()
    {
        // 1 correct of 800 found: precision exactly 0.125%; conlleval.pl prints 0.12 (and FB1 0.25).
        string[][] gold = [["B-X", .. Enumerable.Repeat("O", 799)]];
        string[][] predicted = [Enumerable.Repeat("B-X", 800).ToArray()];

        string report = EntityEvaluation.Evaluate(gold, predicted).ToConllevalReport();

        Assert.Equal(
            "processed 800 tokens with 1 phrases; found: 800 phrases; correct: 1.\n" +
            "accuracy:   0.12%; precision:   0.12%; recall: 100.00%; FB1:   0.25\n" +
            "                X: precision:   0.12%; recall: 100.00%; FB1:   0.25  800\n",
            report);
        Assert.Equal("  0.38", EntityEvaluationResult.Fixed(0.375));
        Assert.Equal("  0.62", EntityEvaluationResult.Fixed(0.625));
        Assert.Equal("100.00", EntityEvaluationResult.Fixed(100));
        Assert.Equal("1234.50", EntityEvaluationResult.Fixed(1234.5));
    }

    [Fact]
    public void ToString_Summary_GivesPercentages()
    {
        EntityEvaluationResult result = EntityEvaluation.Evaluate([["B-A", "O"]], [["B-A", "B-A"]]);

        Assert.Equal("precision 50.00%, recall 100.00%, F1 66.67 (1 of 1 entities found, 2 predicted), token accuracy 50.00%", result.ToString());
    }
}
