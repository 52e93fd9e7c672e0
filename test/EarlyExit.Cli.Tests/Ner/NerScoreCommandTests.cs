using EarlyExit.Cli.Tests.TestSupport;
using EarlyExit.Sequence;

namespace EarlyExit.Cli.Tests.Ner;

[Collection(CliCollection.Name)]
public sealed class NerScoreCommandTests(ConllModelFixture conll) : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Score_TaggedFile_WritesWordExitLayerGoldPredicted_InTheInputsOrder()
    {
        string scored = _folder.File("scored.txt");

        CliResult result = await Score(conll.ValidPath, scored);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Labelled 94 sentences (1,300 words)", result.Output);
        ConllCorpus input = conll.Valid;
        ConllCorpus output = ConllReader.Read(scored);
        Assert.Equal(input.Sentences.Count, output.Sentences.Count);
        Assert.All(output.Sentences, s => Assert.Equal(4, s.ColumnCount));
        Assert.Equal(input.Words, output.Column(0));
        Assert.Equal(TagSchemes.Convert(input.Tags, TagScheme.Iob1, TagScheme.Iob2), output.Column(2));
        Assert.All(output.Column(1).SelectMany(s => s), layer => Assert.InRange(int.Parse(layer), 1, ConllModelFixture.Layers));
        string[] tags = ["B-LOC", "B-MISC", "B-ORG", "B-PER", "I-LOC", "I-MISC", "I-ORG", "I-PER", "O"];
        Assert.All(output.Column(3).SelectMany(s => s), tag => Assert.Contains(tag, tags));
    }

    [Fact]
    public async Task Score_WordsOnly_WritesWordExitLayerPredicted_AndLabelsLongSentencesInFull()
    {
        string[] longSentence = Enumerable.Range(0, 120).Select(i => i % 7 == 0 ? "Germany" : $"word{i}").ToArray();
        string data = _folder.Write("words.txt", "EU\nrejects\nGerman\ncall\n\n" + string.Join("\n", longSentence) + "\n");
        string scored = _folder.File("scored.txt");

        CliResult result = await Score(data, scored, "--mode", "sentee", "--threshold", "0.1", "--pooling", "mean");

        Assert.True(result.ExitCode == 0, result.ToString()); // 120 words are far more than the model's 32 tokens
        Assert.Contains("with sentee:0.1:mean", result.Output);
        Assert.Contains("word, exit layer, predicted", result.Output);
        ConllCorpus output = ConllReader.Read(scored);
        Assert.Equal([4, 120], output.Sentences.Select(s => s.Count));
        Assert.All(output.Sentences, s => Assert.Equal(3, s.ColumnCount));
        Assert.Equal(longSentence, output.Sentences[1].Words);
        Assert.Single(output.Sentences[0].Column(1).Distinct()); // SENTEE: every word of a (one-chunk) sentence leaves together
    }

    [Fact]
    public async Task Score_WordsOnlyWithTagColumn_SaysTheTagsAreMissing()
    {
        string data = _folder.Write("words.txt", "EU\nrejects\n");

        CliResult result = await Score(data, _folder.File("scored.txt"), "--tag-column", "1");

        Assert.Equal(ExitCodes.Error, result.ExitCode);
        Assert.Contains("words.txt' line 1: the line has 1 column", result.Error);
    }

    [Fact]
    public async Task Score_WordThatConllevalCannotRead_IsRefusedBeforeLabelling()
    {
        string data = _folder.Write("tabs.txt", "New York\tB-LOC\nis\tO\n");

        CliResult result = await Score(data, _folder.File("scored.txt"), "--separator", "tab");

        Assert.Equal(ExitCodes.Error, result.ExitCode);
        Assert.Contains("tabs.txt' line 1: the word 'New York' cannot be written", result.Error);
        Assert.False(File.Exists(_folder.File("scored.txt")));
    }

    [Fact]
    public async Task Score_Cancelled_WritesNothing()
    {
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        CliResult result = await CliRun.RunAsync(["ner", "score", "--model", conll.ModelPath, "--data", conll.ValidPath, "--out", _folder.File("scored.txt")], cancellation.Token);

        Assert.Equal(ExitCodes.Cancelled, result.ExitCode);
        Assert.Empty(Directory.GetFiles(_folder.Path));
    }

    private Task<CliResult> Score(string data, string output, params string[] extra) =>
        CliRun.RunAsync(["ner", "score", "--model", conll.ModelPath, "--data", data, "--out", output, .. extra]);
}
