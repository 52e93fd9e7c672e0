using EarlyExit.Sequence;
using EarlyExit.Tests.TestSupport;

namespace EarlyExit.Tests.Sequence;

/// <summary>
/// Parity with conlleval.pl and seqeval on prediction sets made from the shared CoNLL-2003 files
/// (ParityCases: seeded entity and token corruptions, IOB1/IOB2/IOBES, scheme mismatches, no
/// predictions). The expected numbers were produced outside the repository by writing each set with
/// ConllWriter and running
///   - conlleval.pl version 2004-01-26 (the copy in chakki-works/seqeval, tests/conlleval.pl,
///     sha256 9d404114552a4cd222b3eaf8de81acc3dea18a1f91bbdb788fe0b63146358d82) under Perl 5.36, and
///   - seqeval 1.2.2 (chakki-works/seqeval at cd01b52, numpy 1.24, scikit-learn 1.2): get_entities,
///     precision_recall_fscore_support (micro, macro) and accuracy_score.
/// On O/B-/I- tags both rule sets print conlleval's report byte for byte; on IOBES tags
/// ChunkRules.Conlleval2004 prints the script's report and ChunkRules.Standard gives seqeval's numbers.
/// </summary>
public class ConllevalParityTests
{
    private static readonly Lazy<IReadOnlyDictionary<string, ParityCase>> s_cases = new(() =>
        ParityCases.All(
            ConllReader.Read(SharedAssets.Data("conll2003/valid.txt")),
            ConllReader.Read(SharedAssets.Data("conll2003/test.txt"))).ToDictionary(c => c.Name));

    public static TheoryData<string> CaseNames() => new(s_conllevalReports.Keys);

    /// <summary>The cases without E-/S- tags (conlleval.pl has no rules for those; the seqeval test covers them).</summary>
    public static TheoryData<string> IobCaseNames() => new(s_conllevalReports.Keys.Where(name => !name.Contains("iobes", StringComparison.Ordinal)));

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void ToConllevalReport_Conlleval2004Rules_EqualsConllevalPl(string name)
    {
        ParityCase parity = s_cases.Value[name];

        EntityEvaluationResult result = EntityEvaluation.Evaluate(parity.Gold, parity.Predicted, ChunkRules.Conlleval2004);

        Assert.Equal(s_conllevalReports[name], result.ToConllevalReport());
    }

    [Theory]
    [MemberData(nameof(IobCaseNames))]
    public void ToConllevalReport_StandardRulesOnIobTags_EqualsConllevalPl(string name)
    {
        ParityCase parity = s_cases.Value[name];
        Assert.False(parity.HasIobesLetters, $"case '{name}' has E-/S- tags; name it '...iobes...' so that it is left to the seqeval test");

        EntityEvaluationResult result = EntityEvaluation.Evaluate(parity.Gold, parity.Predicted, ChunkRules.Standard);

        Assert.Equal(s_conllevalReports[name], result.ToConllevalReport());
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Evaluate_StandardRules_EqualsSeqeval(string name)
    {
        ParityCase parity = s_cases.Value[name];
        SeqevalNumbers expected = s_seqeval[name];

        EntityEvaluationResult result = EntityEvaluation.Evaluate(parity.Gold, parity.Predicted, ChunkRules.Standard);

        Assert.Equal(expected.PerType.Select(t => t.Type), result.PerType.Keys);
        foreach ((string type, long gold, long predicted, long correct) in expected.PerType)
        {
            Assert.Equal(new EntityScores(gold, predicted, correct), result.PerType[type]);
        }

        Assert.Equal(new EntityScores(expected.Overall.Gold, expected.Overall.Predicted, expected.Overall.Correct), result.Overall);
        Assert.Equal(expected.Micro.Precision, result.Overall.Precision, 1e-12);
        Assert.Equal(expected.Micro.Recall, result.Overall.Recall, 1e-12);
        Assert.Equal(expected.Micro.F1, result.Overall.F1, 1e-12);
        Assert.Equal(expected.Macro.Precision, result.MacroPrecision, 1e-12);
        Assert.Equal(expected.Macro.Recall, result.MacroRecall, 1e-12);
        Assert.Equal(expected.Macro.F1, result.MacroF1, 1e-12);
        Assert.Equal(expected.Accuracy, result.TokenAccuracy, 1e-12);
    }

    [Fact]
    public void ParityCases_DifferentScenarios_AreReallyDifferent()
    {
        // Guards the generator: the noisy sets must contain the odd transitions the parity is about.
        ParityCase tokenNoise = s_cases.Value["valid-iob2-token-noise"];
        string[] flat = tokenNoise.Predicted.SelectMany(s => s.Prepend("O")).ToArray();
        var pairs = flat.Zip(flat.Skip(1), (a, b) => (a, b)).ToHashSet();

        Assert.Contains(("O", "I-PER"), pairs);
        Assert.Contains(("B-PER", "I-LOC"), pairs);
        Assert.Contains(("I-PER", "B-PER"), pairs);
    }

    private sealed record SeqevalNumbers(
        (string Type, long Gold, long Predicted, long Correct)[] PerType,
        (long Gold, long Predicted, long Correct) Overall,
        (double Precision, double Recall, double F1) Micro,
        (double Precision, double Recall, double F1) Macro,
        double Accuracy);

    // conlleval.pl's output (chakki-works/seqeval tests/conlleval.pl, version 2004-01-26), byte for byte.
    private static readonly Dictionary<string, string> s_conllevalReports = new()
    {
        ["valid-iob1-vs-iob2-copy"] = """
            processed 51362 tokens with 5942 phrases; found: 5942 phrases; correct: 5942.
            accuracy:  88.44%; precision: 100.00%; recall: 100.00%; FB1: 100.00
                          LOC: precision: 100.00%; recall: 100.00%; FB1: 100.00  1837
                         MISC: precision: 100.00%; recall: 100.00%; FB1: 100.00  922
                          ORG: precision: 100.00%; recall: 100.00%; FB1: 100.00  1341
                          PER: precision: 100.00%; recall: 100.00%; FB1: 100.00  1842
            """ + "\n",
        ["valid-iob2-entity-noise"] = """
            processed 51362 tokens with 5942 phrases; found: 5765 phrases; correct: 4833.
            accuracy:  96.53%; precision:  83.83%; recall:  81.34%; FB1:  82.57
                          LOC: precision:  87.79%; recall:  81.44%; FB1:  84.50  1704
                         MISC: precision:  78.59%; recall:  83.62%; FB1:  81.03  981
                          ORG: precision:  81.59%; recall:  81.28%; FB1:  81.43  1336
                          PER: precision:  84.63%; recall:  80.13%; FB1:  82.32  1744
            """ + "\n",
        ["valid-iob1-entity-noise"] = """
            processed 51362 tokens with 5942 phrases; found: 5724 phrases; correct: 4858.
            accuracy:  96.88%; precision:  84.87%; recall:  81.76%; FB1:  83.28
                          LOC: precision:  87.71%; recall:  84.27%; FB1:  85.95  1765
                         MISC: precision:  78.94%; recall:  80.91%; FB1:  79.91  945
                          ORG: precision:  84.08%; recall:  81.51%; FB1:  82.77  1300
                          PER: precision:  85.82%; recall:  79.86%; FB1:  82.73  1714
            """ + "\n",
        ["valid-iob2-token-noise"] = """
            processed 51362 tokens with 5942 phrases; found: 9950 phrases; correct: 5188.
            accuracy:  91.10%; precision:  52.14%; recall:  87.31%; FB1:  65.29
                          LOC: precision:  59.47%; recall:  89.06%; FB1:  71.32  2751
                         MISC: precision:  40.78%; recall:  87.74%; FB1:  55.68  1984
                          ORG: precision:  48.54%; recall:  86.80%; FB1:  62.26  2398
                          PER: precision:  56.05%; recall:  85.72%; FB1:  67.78  2817
            """ + "\n",
        ["valid-iob1-token-noise"] = """
            processed 51362 tokens with 5942 phrases; found: 10070 phrases; correct: 5083.
            accuracy:  90.78%; precision:  50.48%; recall:  85.54%; FB1:  63.49
                          LOC: precision:  57.81%; recall:  88.68%; FB1:  69.99  2818
                         MISC: precision:  39.49%; recall:  86.01%; FB1:  54.13  2008
                          ORG: precision:  48.83%; recall:  85.83%; FB1:  62.25  2357
                          PER: precision:  52.30%; recall:  81.98%; FB1:  63.86  2887
            """ + "\n",
        ["valid-iob1-vs-iob2-entity-and-token-noise"] = """
            processed 51362 tokens with 5942 phrases; found: 7791 phrases; correct: 4592.
            accuracy:  83.28%; precision:  58.94%; recall:  77.28%; FB1:  66.88
                          LOC: precision:  64.91%; recall:  78.23%; FB1:  70.95  2214
                         MISC: precision:  48.78%; recall:  80.37%; FB1:  60.71  1519
                          ORG: precision:  56.36%; recall:  75.69%; FB1:  64.61  1801
                          PER: precision:  61.98%; recall:  75.95%; FB1:  68.26  2257
            """ + "\n",
        ["valid-all-outside"] = """
            processed 51362 tokens with 5942 phrases; found: 0 phrases; correct: 0.
            accuracy:  83.25%; precision:   0.00%; recall:   0.00%; FB1:   0.00
                          LOC: precision:   0.00%; recall:   0.00%; FB1:   0.00  0
                         MISC: precision:   0.00%; recall:   0.00%; FB1:   0.00  0
                          ORG: precision:   0.00%; recall:   0.00%; FB1:   0.00  0
                          PER: precision:   0.00%; recall:   0.00%; FB1:   0.00  0
            """ + "\n",
        ["test-iob1-entity-noise"] = """
            processed 46435 tokens with 5648 phrases; found: 5492 phrases; correct: 4606.
            accuracy:  96.66%; precision:  83.87%; recall:  81.55%; FB1:  82.69
                          LOC: precision:  85.93%; recall:  80.94%; FB1:  83.36  1571
                         MISC: precision:  74.71%; recall:  82.48%; FB1:  78.40  775
                          ORG: precision:  84.91%; recall:  82.30%; FB1:  83.58  1610
                          PER: precision:  85.29%; recall:  81.01%; FB1:  83.10  1536
            """ + "\n",
        ["valid-iobes-entity-noise"] = """
            processed 51362 tokens with 5938 phrases; found: 5720 phrases; correct: 4860.
            accuracy:  96.40%; precision:  84.97%; recall:  81.85%; FB1:  83.38
                          LOC: precision:  87.91%; recall:  83.51%; FB1:  85.65  1745
                         MISC: precision:  79.65%; recall:  84.42%; FB1:  81.97  973
                          ORG: precision:  83.45%; recall:  82.33%; FB1:  82.88  1323
                          PER: precision:  86.18%; recall:  78.56%; FB1:  82.19  1679
            """ + "\n",
        ["valid-iobes-token-noise"] = """
            processed 51362 tokens with 5938 phrases; found: 10054 phrases; correct: 5108.
            accuracy:  90.58%; precision:  50.81%; recall:  86.02%; FB1:  63.88
                          LOC: precision:  56.63%; recall:  86.99%; FB1:  68.60  2822
                         MISC: precision:  40.11%; recall:  87.69%; FB1:  55.04  2007
                          ORG: precision:  48.49%; recall:  85.16%; FB1:  61.80  2355
                          PER: precision:  54.46%; recall:  84.85%; FB1:  66.34  2870
            """ + "\n",
        ["test-iob1-vs-iobes-copy"] = """
            processed 46435 tokens with 5648 phrases; found: 5628 phrases; correct: 5610.
            accuracy:  83.38%; precision:  99.68%; recall:  99.33%; FB1:  99.50
                          LOC: precision:  99.76%; recall:  99.40%; FB1:  99.58  1662
                         MISC: precision:  98.70%; recall:  97.44%; FB1:  98.06  693
                          ORG: precision:  99.70%; recall:  99.40%; FB1:  99.55  1656
                          PER: precision: 100.00%; recall: 100.00%; FB1: 100.00  1617
            """ + "\n",
    };

    // seqeval 1.2.2 (default mode): per-type (gold, predicted, correct), overall counts, micro and macro (P, R, F1), token accuracy.
    private static readonly Dictionary<string, SeqevalNumbers> s_seqeval = new()
    {
        ["valid-iob1-vs-iob2-copy"] = new([("LOC", 1837, 1837, 1837), ("MISC", 922, 922, 922), ("ORG", 1341, 1341, 1341), ("PER", 1842, 1842, 1842)],
            (5942, 5942, 5942), (1.0, 1.0, 1.0),
            (1.0, 1.0, 1.0), 0.8843892371792376),
        ["valid-iob2-entity-noise"] = new([("LOC", 1837, 1704, 1496), ("MISC", 922, 981, 771), ("ORG", 1341, 1336, 1090), ("PER", 1842, 1744, 1476)],
            (5942, 5765, 4833), (0.8383347788378144, 0.8133625042073376, 0.8256598616212523),
            (0.8315163831788548, 0.8161815086695663, 0.8232010830267902), 0.9652661500720376),
        ["valid-iob1-entity-noise"] = new([("LOC", 1837, 1765, 1548), ("MISC", 922, 945, 746), ("ORG", 1341, 1300, 1093), ("PER", 1842, 1714, 1471)],
            (5942, 5724, 4858), (0.8487071977638015, 0.8175698418041064, 0.8328475912909308),
            (0.8413668539029175, 0.8163601962938397, 0.8284290887181379), 0.9688485650870293),
        ["valid-iob2-token-noise"] = new([("LOC", 1837, 2751, 1636), ("MISC", 922, 1984, 809), ("ORG", 1341, 2398, 1164), ("PER", 1842, 2817, 1579)],
            (5942, 9950, 5188), (0.5214070351758794, 0.873106698081454, 0.6529071230807953),
            (0.5120962052766532, 0.8733130449083112, 0.6425995215485483), 0.9110042443830069),
        ["valid-iob1-token-noise"] = new([("LOC", 1837, 2818, 1629), ("MISC", 922, 2008, 793), ("ORG", 1341, 2357, 1151), ("PER", 1842, 2887, 1510)],
            (5942, 10070, 5083), (0.5047666335650447, 0.8554358801750253, 0.6348988258805895),
            (0.4960891973678709, 0.8562336245891811, 0.6255752448520904), 0.9078112223044273),
        ["valid-iob1-vs-iob2-entity-and-token-noise"] = new([("LOC", 1837, 2214, 1437), ("MISC", 922, 1519, 741), ("ORG", 1341, 1801, 1015), ("PER", 1842, 2257, 1399)],
            (5942, 7791, 4592), (0.5893980233602875, 0.7728037697744867, 0.6687540959732032),
            (0.5800743935304551, 0.7755849225917489, 0.6613183728391214), 0.8327557338109887),
        ["valid-all-outside"] = new([("LOC", 1837, 0, 0), ("MISC", 922, 0, 0), ("ORG", 1341, 0, 0), ("PER", 1842, 0, 0)],
            (5942, 0, 0), (0.0, 0.0, 0.0),
            (0.0, 0.0, 0.0), 0.8325026284023208),
        ["test-iob1-entity-noise"] = new([("LOC", 1668, 1571, 1350), ("MISC", 702, 775, 579), ("ORG", 1661, 1610, 1367), ("PER", 1617, 1536, 1310)],
            (5648, 5492, 4606), (0.8386744355426075, 0.8155099150141643, 0.8269299820466786),
            (0.8270887377591435, 0.8168198188361812, 0.8210992369235327), 0.9666415419403467),
        ["valid-iobes-entity-noise"] = new([("LOC", 1837, 1752, 1540), ("MISC", 922, 976, 779), ("ORG", 1341, 1328, 1109), ("PER", 1842, 1690, 1457)],
            (5942, 5746, 4885), (0.8501566306996171, 0.8221137664086167, 0.8359000684462697),
            (0.8435929276138621, 0.8253021439714583, 0.8337732501015812), 0.9639811533818776),
        ["valid-iobes-token-noise"] = new([("LOC", 1837, 2906, 1661), ("MISC", 922, 2054, 828), ("ORG", 1341, 2410, 1163), ("PER", 1842, 2937, 1590)],
            (5942, 10307, 5242), (0.5085863975938683, 0.8821945472904746, 0.645208935934519),
            (0.49965831968669255, 0.8831736894775942, 0.6355911708627389), 0.9058447879755461),
        ["test-iob1-vs-iobes-copy"] = new([("LOC", 1668, 1668, 1668), ("MISC", 702, 702, 702), ("ORG", 1661, 1661, 1661), ("PER", 1617, 1617, 1617)],
            (5648, 5648, 5648), (1.0, 1.0, 1.0),
            (1.0, 1.0, 1.0), 0.8338322386131151),
    };
}
