using EarlyExit.Cli.Tests.TestSupport;
using EarlyExit.Sequence;

namespace EarlyExit.Cli.Tests.Ner;

/// <summary>
/// <c>ner train</c>'s heads beyond the paper's: <c>--auxiliary-task</c> (part of speech and chunks of the CoNLL file
/// learnt beside the tags, written by <c>ner score</c>), <c>--off-ramp-input</c> (layer attention) and
/// <c>--word-pooling-layer</c> (layers on words).
/// </summary>
[Collection(CliCollection.Name)]
public sealed class NerTrainHeadsTests(ConllModelFixture conll) : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Train_PosAndChunkTasks_ScoreWritesTheirTagsAfterTheExitLayer()
    {
        string model = _folder.File("tasks.zip");
        string scored = _folder.File("scored.txt");

        CliResult train = await CliRun.RunAsync(
            ["ner", "train", "--train", conll.TrainPath, "--valid", conll.ValidPath, "--epochs", "2", "--self-sampling-epochs", "0", "--out", model,
            "--auxiliary-task", "pos:1:1", "--auxiliary-task", "chunk:2:2:0.5", .. conll.FastTraining]);
        CliResult score = await CliRun.RunAsync("ner", "score", "--model", model, "--data", conll.ValidPath, "--out", scored);
        CliResult onnx = await CliRun.RunAsync("ner", "score", "--model", model, "--data", conll.ValidPath, "--out", _folder.File("onnx.txt"), "--backend", "onnx");

        Assert.True(train.ExitCode == 0, train.ToString());
        Assert.Contains("Auxiliary tasks: pos (column 1) after layer 1, weight 1, chunk (column 2) after layer 2, weight 0.5.", train.Output);
        Assert.True(score.ExitCode == 0, score.ToString());
        Assert.Contains("(word, exit layer, pos (layer 1), chunk (layer 2), gold, predicted;", score.Output);
        ConllCorpus gold = ConllReader.Read(conll.ValidPath);
        ConllCorpus written = ConllReader.Read(scored);
        Assert.Equal(gold.Sentences.Count, written.Sentences.Count);
        Assert.All(written.Sentences, s => Assert.Equal(6, s.ColumnCount));
        HashSet<string> trainPos = ConllReader.Read(conll.TrainPath).Sentences.SelectMany(s => s.Column(1)).ToHashSet();
        HashSet<string> trainChunks = ConllReader.Read(conll.TrainPath).Sentences.SelectMany(s => s.Column(2)).ToHashSet();
        Assert.All(written.Sentences.SelectMany(s => s.Column(2)), tag => Assert.Contains(tag, trainPos));
        Assert.All(written.Sentences.SelectMany(s => s.Column(3)), tag => Assert.Contains(tag, trainChunks));
        Assert.Equal(gold.Sentences.Select(s => s.Words), written.Sentences.Select(s => s.Words));
        Assert.Equal(ExitCodes.Error, onnx.ExitCode);
        Assert.Contains("auxiliary tag tasks (pos, chunk)", onnx.Error);
    }

    [Fact]
    public async Task Train_OffRampInputLayerAttention_IsSavedAndScores()
    {
        string model = _folder.File("attention.zip");

        CliResult train = await CliRun.RunAsync(
            ["ner", "train", "--train", conll.TrainPath, "--epochs", "1", "--self-sampling-epochs", "0", "--out", model, "--off-ramp-input", "layer-attention",
            "--layer-attention-learning-rate", "0.01", .. conll.FastTraining]);
        CliResult evaluate = await CliRun.RunAsync("ner", "evaluate", "--model", model, "--data", conll.ValidPath, "--mode", "tokee", "--threshold", "0.5");
        CliResult unknown = await CliRun.RunAsync(["ner", "train", "--train", conll.TrainPath, "--out", _folder.File("never.zip"), "--off-ramp-input", "telepathy", .. conll.FastTraining]);
        CliResult noPools = await CliRun.RunAsync(["ner", "train", "--train", conll.TrainPath, "--out", _folder.File("never.zip"), "--layer-attention-learning-rate", "0.01", .. conll.FastTraining]);

        Assert.True(train.ExitCode == 0, train.ToString());
        Assert.Contains("off-ramps reading LayerAttention", train.Output);
        Assert.True(evaluate.ExitCode == 0, evaluate.ToString());
        Assert.Equal(ExitCodes.Usage, unknown.ExitCode);
        Assert.Contains("--off-ramp-input 'telepathy' is not valid; use one of: layer, layer-attention, difference-attention.", unknown.Error);
        Assert.NotEqual(ExitCodes.Success, noPools.ExitCode);
        Assert.Contains("LayerAttentionLearningRate is set but OffRampInput is Layer", noPools.Error);
        Assert.False(File.Exists(_folder.File("never.zip")));
    }

    [Fact]
    public async Task Train_WordPoolingLayer_IsSavedScoresEveryWord_AndOnnxRefuses()
    {
        string model = _folder.File("words.zip");
        string scored = _folder.File("scored.txt");

        CliResult train = await CliRun.RunAsync(
            ["ner", "train", "--train", conll.TrainPath, "--epochs", "1", "--self-sampling-epochs", "0", "--out", model, "--word-pooling-layer", "2", .. conll.FastTraining]);
        CliResult score = await CliRun.RunAsync("ner", "score", "--model", model, "--data", conll.ValidPath, "--out", scored, "--mode", "tokee", "--threshold", "0.5");
        CliResult onnx = await CliRun.RunAsync("ner", "score", "--model", model, "--data", conll.ValidPath, "--out", _folder.File("onnx.txt"), "--backend", "onnx");
        CliResult zero = await CliRun.RunAsync(["ner", "train", "--train", conll.TrainPath, "--out", _folder.File("never.zip"), "--word-pooling-layer", "0", .. conll.FastTraining]);
        CliResult deep = await CliRun.RunAsync(["ner", "train", "--train", conll.TrainPath, "--out", _folder.File("never.zip"), "--word-pooling-layer", "3", .. conll.FastTraining]);

        Assert.True(train.ExitCode == 0, train.ToString());
        Assert.Contains("on words from layer 2", train.Output);
        Assert.True(score.ExitCode == 0, score.ToString());
        ConllCorpus gold = ConllReader.Read(conll.ValidPath);
        Assert.Equal(gold.Sentences.Select(s => s.Words), ConllReader.Read(scored).Sentences.Select(s => s.Words));
        Assert.Equal(ExitCodes.Error, onnx.ExitCode);
        Assert.Contains("runs on words from layer 2", onnx.Error);
        Assert.Equal(ExitCodes.Usage, zero.ExitCode);
        Assert.Contains("--word-pooling-layer", zero.Error);
        Assert.NotEqual(ExitCodes.Success, deep.ExitCode);
        Assert.Contains("WordPoolingLayer is 3, but the backbone has 2 layers", deep.Error);
        Assert.False(File.Exists(_folder.File("never.zip")));
    }

    [Theory]
    [InlineData("pos:1", "expected NAME:COLUMN:LAYER[:WEIGHT]")]
    [InlineData("pos:x:1", "COLUMN 'x' must be a 0-based column number")]
    [InlineData("pos:1:0", "LAYER '0' must be a layer number, 1 or more")]
    [InlineData("pos:1:1:-2", "WEIGHT '-2' must be a positive number")]
    [InlineData("Label:1:1", "NAME 'Label' must be letters, digits or '_', and not Tokens, Label, Line")]
    public async Task Train_MalformedAuxiliaryTask_IsAUsageErrorBeforeReadingData(string task, string expected)
    {
        CliResult result = await CliRun.RunAsync(["ner", "train", "--train", _folder.File("never-read.txt"), "--out", _folder.File("m.zip"), "--auxiliary-task", task, .. conll.FastTraining]);

        Assert.True(result.ExitCode == ExitCodes.Usage, result.ToString());
        Assert.Contains($"--auxiliary-task '{task}': {expected}", result.Error);
    }

    [Fact]
    public async Task Train_TaskColumnPastTheFilesColumns_NamesTheFileLineAndTask()
    {
        string data = _folder.Write("two.txt", "EU B-ORG\nrejects O\n\nPeter B-PER\nBlackburn I-PER\n");

        CliResult result = await CliRun.RunAsync(["ner", "train", "--train", data, "--out", _folder.File("m.zip"), "--auxiliary-task", "pos:2:1", .. conll.FastTraining]);

        Assert.Equal(ExitCodes.Error, result.ExitCode);
        Assert.Contains("two.txt' line 1: --auxiliary-task pos reads column 2, but the sentence's lines have 2 columns (0 to 1).", result.Error);
        Assert.False(File.Exists(_folder.File("m.zip")));
    }
}
