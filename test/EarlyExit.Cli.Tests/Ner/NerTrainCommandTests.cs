using System.Text.Json;
using EarlyExit.Cli.Tests.TestSupport;

namespace EarlyExit.Cli.Tests.Ner;

[Collection(CliCollection.Name)]
public sealed class NerTrainCommandTests(ConllModelFixture conll) : IDisposable
{
    private const string Tagged = "EU B-ORG\nrejects O\nGerman B-MISC\ncall O\n\nPeter B-PER\nBlackburn I-PER\n";

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Train_Conll2003_ConvertsIob1ToIob2_ValidatesEveryEpoch_AndWritesModelAndMetrics()
    {
        CliResult result = conll.Train;

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(File.Exists(conll.ModelPath));
        Assert.Contains("IOB1 tags converted to IOB2: B-LOC, B-MISC, B-ORG, B-PER, I-LOC, I-MISC, I-ORG, I-PER, O.", result.Output);
        Assert.Contains("Validation (", result.Output);
        Assert.Contains("processed 1300 tokens with 187 phrases", result.Output); // conlleval's line for the 94 validation sentences
        Assert.DoesNotContain("train epoch 1/", result.Output);                  // the trainer's own progress log is not printed twice

        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(conll.MetricsPath));
        JsonElement root = json.RootElement;
        Assert.Equal(275, root.GetProperty("trainingSentences").GetInt32()); // 300 blocks, of which 25 are -DOCSTART- lines
        Assert.Equal(94, root.GetProperty("validationSentences").GetInt32());
        Assert.Equal("IOB1", root.GetProperty("fileScheme").GetString());
        Assert.Equal("IOB2", root.GetProperty("scheme").GetString());
        Assert.Equal(9, root.GetProperty("tags").GetArrayLength());
        Assert.Equal(ConllModelFixture.Layers, root.GetProperty("layers").GetInt32());
        Assert.Equal("tokee:0.3:5", root.GetProperty("exitCriterion").GetString());
        JsonElement[] epochs = root.GetProperty("epochHistory").EnumerateArray().ToArray();
        Assert.Equal(5, epochs.Length);
        Assert.Equal([false, false, false, false, true], epochs.Select(e => e.GetProperty("selfSampling").GetBoolean()));
        Assert.All(epochs, e => Assert.InRange(e.GetProperty("validationF1").GetDouble(), 0, 1));
        int best = root.GetProperty("bestEpoch").GetInt32();
        Assert.Equal(epochs.Max(e => e.GetProperty("validationF1").GetDouble()), epochs[best - 1].GetProperty("validationF1").GetDouble());
        // The trainer validates chunk by chunk (sentences longer than 32 tokens are cut at word boundaries),
        // the command on whole sentences: an entity across a cut counts differently, so the two differ a little.
        Assert.Equal(epochs[best - 1].GetProperty("validationF1").GetDouble(), root.GetProperty("validation").GetProperty("f1").GetDouble(), 0.01);
    }

    [Fact]
    public async Task Train_TrainSchemeIobes_LearnsIobesTags_AndEvaluateConvertsGoldToThem()
    {
        string model = _folder.File("iobes.zip");

        CliResult train = await Train(conll.TrainPath, "--train-scheme", "iobes", "--self-sampling-epochs", "0", "--out", model);
        CliResult evaluate = await CliRun.RunAsync("ner", "evaluate", "--model", model, "--data", conll.ValidPath);

        Assert.True(train.ExitCode == 0, train.ToString());
        Assert.Contains("converted to IOBES", train.Output);
        Assert.Contains("S-", train.Output);
        Assert.True(evaluate.ExitCode == 0, evaluate.ToString());
        Assert.Contains("IOBES (the file's IOB1 tags converted)", evaluate.Output);
    }

    [Fact]
    public async Task Train_MaxTrainSentences_TrainsOnThatManySentences()
    {
        string metrics = _folder.File("metrics.json");

        CliResult result = await Train(conll.TrainPath, "--max-train-sentences", "40", "--self-sampling-epochs", "0", "--metrics-json", metrics);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Training on 40 sentences", result.Output);
        Assert.Contains("of 275 (--max-train-sentences)", result.Output);
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(metrics));
        Assert.Equal(40, json.RootElement.GetProperty("trainingSentences").GetInt32());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("validation").ValueKind);
    }

    [Fact]
    public async Task Train_TrainSchemeIob1_IsAUsageErrorGivingTheReason()
    {
        CliResult result = await Train(conll.TrainPath, "--train-scheme", "iob1");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("--train-scheme iob1 is not offered", result.Error);
    }

    [Theory]
    [InlineData("--window 3 with sentee", "--mode", "sentee", "--window", "3")]
    [InlineData("--pooling mean with tokee", "--mode", "tokee", "--pooling", "mean")]
    [InlineData("--exit-criterion with --mode", "--mode", "tokee", "--exit-criterion", "sentee:0.2")]
    [InlineData("--threshold without --mode", "--threshold", "0.2")]
    [InlineData("--threshold out of range", "--mode", "tokee", "--threshold", "1.5")]
    [InlineData("even window", "--mode", "tokee", "--window", "4")]
    [InlineData("unknown mode", "--mode", "fast")]
    [InlineData("bad compact criterion", "--exit-criterion", "tokee:2")]
    [InlineData("another format", "--format", "tsv")]
    [InlineData("unknown scheme", "--scheme", "io")]
    public async Task Train_ContradictoryOrInvalidOptions_AreUsageErrorsBeforeReadingData(string because, params string[] options)
    {
        CliResult result = await Train(_folder.File("never-read.txt"), options);

        Assert.True(result.ExitCode == ExitCodes.Usage, $"{because}: {result}");
        Assert.DoesNotContain("does not exist", result.Error);
    }

    [Fact]
    public async Task Train_EarlyStoppingWithoutValid_IsAUsageError()
    {
        CliResult result = await Train(conll.TrainPath, "--early-stopping", "2");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("--early-stopping needs --valid", result.Error);
    }

    [Fact]
    public async Task Train_MalformedLine_NamesFileAndLine()
    {
        string data = _folder.Write("bad.txt", "EU NNP B-ORG\nrejects VBZ O\nGerman B-MISC\n");

        CliResult result = await Train(data);

        Assert.Equal(ExitCodes.Error, result.ExitCode);
        Assert.Contains("bad.txt' line 3: the line has 2 columns but the sentence that starts at line 1 has 3", result.Error);
    }

    [Fact]
    public async Task Train_TagOfNoScheme_NamesTheLine()
    {
        string data = _folder.Write("plain.txt", "EU ORG\nrejects O\n\nPeter PERSON\n");

        CliResult result = await Train(data);

        Assert.Equal(ExitCodes.Error, result.ExitCode);
        Assert.Contains("plain.txt' line 1: tag 'ORG'", result.Error);
        Assert.Contains("B-TYPE, I-TYPE", result.Error);
    }

    [Fact]
    public async Task Train_TagsThatBreakTheNamedScheme_NameTheLine()
    {
        string data = _folder.Write("iobes.txt", "EU S-ORG\nrejects O\n\nPeter B-PER\nBlackburn E-PER\n");

        CliResult result = await Train(data, "--scheme", "iob2");

        Assert.Equal(ExitCodes.Error, result.ExitCode);
        Assert.Contains("iobes.txt' line 1: tag 'S-ORG'", result.Error);
        Assert.Contains("does not fit IOB2", result.Error);
    }

    [Fact]
    public async Task Train_ValidationTagNotInTraining_NamesTagAndLine()
    {
        string train = _folder.Write("train.txt", Tagged);
        string valid = _folder.Write("valid.txt", "Paris B-LOC\nis O\n\nnice O\n\nLondon B-LOC\n");

        CliResult result = await Train(train, "--valid", valid);

        Assert.Equal(ExitCodes.Error, result.ExitCode);
        Assert.Contains("valid.txt' line 1: tag 'B-LOC' is not a tag of the training data", result.Error);
        Assert.Contains("(1 more word(s) have it)", result.Error);
    }

    [Fact]
    public async Task Train_WordsOnlyFile_SaysTagsAreNeeded()
    {
        string data = _folder.Write("words.txt", "EU\nrejects\n\nPeter\n");

        CliResult result = await Train(data);

        Assert.Equal(ExitCodes.Error, result.ExitCode);
        Assert.Contains("words.txt' line 1: the line has 1 column", result.Error);
        Assert.Contains("is the tag missing?", result.Error);
    }

    [Fact]
    public async Task Train_EmptyFileOrOneTag_SaysWhatIsMissing()
    {
        CliResult empty = await Train(_folder.Write("empty.txt", "-DOCSTART- -X- O\n\n"));
        CliResult oneTag = await Train(_folder.Write("o.txt", "the O\ncat O\n"));

        Assert.Equal(ExitCodes.Error, empty.ExitCode);
        Assert.Contains("empty.txt' holds no sentences", empty.Error);
        Assert.Equal(ExitCodes.Error, oneTag.ExitCode);
        Assert.Contains("every word has tag 'O'", oneTag.Error);
    }

    [Fact]
    public async Task Train_CancelledWhileTraining_WritesNothing()
    {
        string model = _folder.File("model.zip");
        using var cancellation = new CancellationTokenSource();
        var output = new CancelOnText("training: epoch", cancellation);

        CliResult result = await CliRun.RunAsync(
            ["ner", "train", "--train", conll.TrainPath, "--epochs", "3", "--out", model, .. conll.FastTraining], cancellation.Token, output);

        Assert.Equal(ExitCodes.Cancelled, result.ExitCode);
        Assert.Empty(Directory.GetFiles(_folder.Path));
    }

    // ner train on `data` with the fast settings, into model.zip for one epoch unless `extra` says otherwise.
    private Task<CliResult> Train(string data, params string[] extra)
    {
        var args = new List<string> { "ner", "train", "--train", data };
        if (!extra.Contains("--out"))
        {
            args.AddRange(["--out", _folder.File("model.zip")]);
        }

        if (!extra.Contains("--epochs"))
        {
            args.AddRange(["--epochs", "1"]);
        }

        return CliRun.RunAsync([.. args, .. conll.FastTraining, .. extra]);
    }
}
