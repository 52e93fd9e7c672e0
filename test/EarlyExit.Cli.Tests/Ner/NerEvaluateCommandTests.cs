using System.Text.Json;
using EarlyExit.Cli.Tests.TestSupport;
using EarlyExit.Sequence;

namespace EarlyExit.Cli.Tests.Ner;

[Collection(CliCollection.Name)]
public sealed class NerEvaluateCommandTests(ConllModelFixture conll, Sst2ModelFixture sst2) : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Evaluate_ConllDev_PrintsAndWritesEveryMetric()
    {
        string metrics = _folder.File("eval.json");

        CliResult result = await Evaluate(conll.ValidPath, "--metrics-json", metrics);

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (string line in new[]
        {
            "sentences             94 (1,300 words)", "exit criterion        tokee:0.3:5", "entity F1 (micro)", "    LOC ", "    PER ", "entity F1 (macro)", "token accuracy",
            "mean word exit layer", "token-layer speed-up", "sentences/s", "word exit layers:", "conlleval:", "processed 1300 tokens with 187 phrases",
        })
        {
            Assert.Contains(line, result.Output);
        }

        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(metrics));
        JsonElement root = json.RootElement;
        Assert.Equal(94, root.GetProperty("sentences").GetInt32());
        Assert.Equal(1300, root.GetProperty("words").GetInt64());
        Assert.Equal(187, root.GetProperty("goldEntities").GetInt64());
        Assert.Equal(["LOC", "MISC", "ORG", "PER"], root.GetProperty("perType").EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(187, root.GetProperty("perType").EnumerateObject().Sum(p => p.Value.GetProperty("gold").GetInt64()));
        foreach (string name in new[] { "precision", "recall", "f1", "macroF1", "tokenAccuracy" })
        {
            Assert.InRange(root.GetProperty(name).GetDouble(), 0, 1);
        }

        double meanExit = root.GetProperty("meanTokenExitLayer").GetDouble();
        Assert.InRange(meanExit, 1, ConllModelFixture.Layers);
        Assert.Equal(ConllModelFixture.Layers / meanExit, root.GetProperty("tokenLayerSpeedup").GetDouble(), 9);
        Assert.Equal(1300, root.GetProperty("exitLayerHistogram").EnumerateArray().Sum(e => e.GetInt64()));
        Assert.True(root.GetProperty("sentencesPerSecond").GetDouble() > 0);
        Assert.Equal("IOB2", root.GetProperty("scheme").GetString());
        Assert.Equal("IOB1", root.GetProperty("fileScheme").GetString());
        Assert.Equal(16, root.GetProperty("batchSize").GetInt32());
    }

    [Fact]
    public async Task Evaluate_FiguresEqualConllevalsOnTheScoreOutput()
    {
        string metrics = _folder.File("eval.json");
        string scored = _folder.File("scored.txt");

        CliResult evaluate = await Evaluate(conll.ValidPath, "--mode", "tokee", "--threshold", "0.5", "--window", "3", "--metrics-json", metrics);
        CliResult score = await CliRun.RunAsync("ner", "score", "--model", conll.ModelPath, "--data", conll.ValidPath, "--exit-criterion", "tokee:0.5:3", "--out", scored);

        Assert.True(evaluate.ExitCode == 0, evaluate.ToString());
        Assert.True(score.ExitCode == 0, score.ToString());
        ConllCorpus labelled = ConllReader.Read(scored);
        EntityEvaluationResult fromFile = EntityEvaluation.Evaluate(labelled.Column(-2), labelled.Column(-1));
        double meanExit = labelled.Column(1).SelectMany(s => s).Average(int.Parse);
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(metrics));
        Assert.Equal(fromFile.ToConllevalReport(), json.RootElement.GetProperty("conllevalReport").GetString());
        Assert.Equal(fromFile.Overall.F1, json.RootElement.GetProperty("f1").GetDouble(), 12);
        Assert.Equal(meanExit, json.RootElement.GetProperty("meanTokenExitLayer").GetDouble(), 9);
        Assert.Equal("tokee:0.5:3", json.RootElement.GetProperty("exitCriterion").GetString());
    }

    [Fact]
    public async Task Evaluate_MistakesTheSettingsShow_FailBeforeTheWeightsAreRead()
    {
        // Weights that cannot be read: any error about them would mean the checks came too late.
        string model = ModelZipCopy.WithEntry(conll.ModelPath, _folder.File("no-weights.zip"), "model.safetensors", "not weights"u8);
        string unknownTag = _folder.Write("unknown.txt", "John NNP B-NP B-PER\nruns VBZ B-VP B-FOO\n");

        CliResult deep = await CliRun.RunAsync("ner", "evaluate", "--model", model, "--data", conll.ValidPath, "--exit-criterion", "layer:3");
        CliResult tag = await CliRun.RunAsync("ner", "evaluate", "--model", model, "--data", unknownTag);
        CliResult sweepTag = await CliRun.RunAsync("ner", "sweep", "--model", model, "--data", unknownTag, "--no-timing");

        Assert.Contains($"asks for layer 3, but the model has {ConllModelFixture.Layers} layers", deep.Error);
        Assert.Contains("'B-FOO'", tag.Error);
        Assert.Contains("'B-FOO'", sweepTag.Error);
        Assert.All(new[] { deep, tag, sweepTag }, r => Assert.DoesNotContain("safetensors", r.Error));
    }

    [Fact]
    public async Task Evaluate_ExitCriterionLayer1_EveryWordExitsAtLayer1_AndModeFullAtTheLast()
    {
        string layer1 = _folder.File("layer1.json");
        string full = _folder.File("full.json");

        CliResult first = await Evaluate(conll.ValidPath, "--exit-criterion", "layer:1", "--batch-size", "5", "--metrics-json", layer1);
        CliResult last = await Evaluate(conll.ValidPath, "--mode", "full", "--metrics-json", full);
        CliResult tooDeep = await Evaluate(conll.ValidPath, "--exit-criterion", "layer:3");

        Assert.True(first.ExitCode == 0, first.ToString());
        using JsonDocument json1 = JsonDocument.Parse(File.ReadAllText(layer1));
        Assert.Equal(1.0, json1.RootElement.GetProperty("meanTokenExitLayer").GetDouble());
        Assert.Equal(2.0, json1.RootElement.GetProperty("tokenLayerSpeedup").GetDouble());
        Assert.Equal(5, json1.RootElement.GetProperty("batchSize").GetInt32());
        Assert.True(last.ExitCode == 0, last.ToString());
        using JsonDocument jsonFull = JsonDocument.Parse(File.ReadAllText(full));
        Assert.Equal([0L, 1300L], jsonFull.RootElement.GetProperty("exitLayerHistogram").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal(ExitCodes.Error, tooDeep.ExitCode);
        Assert.Contains("the model has 2 layers", tooDeep.Error);
    }

    [Fact]
    public async Task Evaluate_GoldTagTheModelNeverSaw_NamesTagLineAndKnownTags()
    {
        string data = _folder.Write("unseen.txt", "Paris I-LOC\nis O\n\nthe O\nFoo I-FOOD\nbar I-FOOD\n");

        CliResult result = await Evaluate(data);

        Assert.Equal(ExitCodes.Error, result.ExitCode);
        Assert.Contains("unseen.txt' line 5: tag 'B-FOOD' ('I-FOOD' in the file, IOB2 after conversion) is not a tag of the model", result.Error);
        Assert.Contains("B-LOC, B-MISC", result.Error);
    }

    [Fact]
    public async Task Evaluate_WrongModels_SayWhichCommandToUse()
    {
        CliResult classifier = await EvaluateWith(sst2.ModelPath, conll.ValidPath);
        CliResult ner = await CliRun.RunAsync("classify", "evaluate", "--model", conll.ModelPath, "--data", sst2.ValidPath, "--text-column", "sentence", "--label-column", "label");
        CliResult missing = await EvaluateWith(_folder.File("none.zip"), conll.ValidPath);

        Assert.Equal(ExitCodes.Error, classifier.ExitCode);
        Assert.Contains("it is a text classifier: use 'earlyexit classify'", classifier.Error);
        Assert.Equal(ExitCodes.Error, ner.ExitCode);
        Assert.Contains("not one written by 'earlyexit classify train'", ner.Error);
        Assert.Equal(ExitCodes.Error, missing.ExitCode);
        Assert.Contains("none.zip' does not exist; train one with 'earlyexit ner train", missing.Error);
    }

    private Task<CliResult> Evaluate(string data, params string[] extra) => EvaluateWith(conll.ModelPath, data, extra);

    private static Task<CliResult> EvaluateWith(string model, string data, params string[] extra) =>
        CliRun.RunAsync(["ner", "evaluate", "--model", model, "--data", data, .. extra]);
}
