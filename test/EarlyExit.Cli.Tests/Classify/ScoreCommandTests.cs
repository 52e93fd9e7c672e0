using System.Globalization;
using EarlyExit.Cli.Data;
using EarlyExit.Cli.Classify;
using EarlyExit.Cli.Tests.TestSupport;
using EarlyExit.Hub;
using EarlyExit.MLNet;
using EarlyExit.MLNet.Palbert;
using EarlyExit.Tests.TestSupport;
using Microsoft.ML;

namespace EarlyExit.Cli.Tests.Classify;

[Collection(CliCollection.Name)]
public sealed class ScoreCommandTests(Sst2ModelFixture sst2) : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Score_Sst2Dev_WritesInputColumnsPredictionExitLayerAndProbabilities()
    {
        string scored = _folder.File("scored.tsv");

        CliResult result = await CliRun.RunAsync(
            "classify", "score", "--model", sst2.ModelPath, "--data", sst2.ValidPath, "--text-column", "sentence", "--out", scored);

        Assert.True(result.ExitCode == 0, result.ToString());
        DelimitedTable table = DelimitedFileReader.Read(scored, new DelimitedFormat('\t', HasHeader: true, Quoting: false));
        Assert.Equal(["sentence", "label", "PredictedLabel", "ExitLayer", "P(0)", "P(1)"], table.ColumnNames);
        DelimitedTable input = DelimitedFileReader.Read(sst2.ValidPath, new DelimitedFormat('\t', HasHeader: true, Quoting: false));
        Assert.Equal(input.Records.Select(r => r.Fields), table.Records.Select(r => r.Fields[..2]));
        foreach (DelimitedRecord record in table.Records)
        {
            float p0 = float.Parse(record.Fields[4], CultureInfo.InvariantCulture);
            float p1 = float.Parse(record.Fields[5], CultureInfo.InvariantCulture);
            Assert.Equal(1f, p0 + p1, 4);
            Assert.Equal(p1 > p0 ? "1" : "0", record.Fields[2]);
            Assert.InRange(int.Parse(record.Fields[3], CultureInfo.InvariantCulture), 1, 2);
        }
    }

    [Fact]
    public async Task Score_StaleTemporaryOfTheOutputFromAKilledRun_IsRemoved()
    {
        string scored = _folder.File("scored.tsv");
        string stale = _folder.Write($".scored.tsv.{Guid.NewGuid():N}.tmp", "half a file");
        string unrelated = _folder.Write(".scored.tsv.notes.tmp", "someone else's");
        string live = _folder.Write($".scored.tsv.{Guid.NewGuid():N}.tmp", "another run, still writing");
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow - TimeSpan.FromHours(1));
        File.SetLastWriteTimeUtc(unrelated, DateTime.UtcNow - TimeSpan.FromHours(1));

        CliResult result = await CliRun.RunAsync(
            "classify", "score", "--model", sst2.ModelPath, "--data", sst2.ValidPath, "--text-column", "sentence", "--out", scored);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(unrelated));
        Assert.True(File.Exists(live));
        Assert.True(File.Exists(scored));
    }

    [Fact]
    public async Task Score_OutIsTheData_IsRefused()
    {
        string data = _folder.Write("texts.tsv", "sentence\ngood film\n");

        CliResult result = await CliRun.RunAsync("classify", "score", "--model", sst2.ModelPath, "--data", data, "--text-column", "sentence", "--out", data);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("is the same file as --data", result.Error);
        Assert.Equal("sentence\ngood film\n", File.ReadAllText(data));
    }

    [Fact]
    public async Task Score_NoHeaderInput_NamesInputColumnsByIndexAndAppliesTheCriterion()
    {
        string data = _folder.Write("texts.txt", "a charming journey\nunflinchingly bleak\n");
        string scored = _folder.File("scored.tsv");

        CliResult result = await CliRun.RunAsync(
            "classify", "score", "--model", sst2.ModelPath, "--data", data, "--separator", "tab", "--no-header", "--text-column", "0",
            "--exit-criterion", "layer:1", "--out", scored);

        Assert.True(result.ExitCode == 0, result.ToString());
        string[] lines = File.ReadAllLines(scored);
        Assert.Equal("0\tPredictedLabel\tExitLayer\tP(0)\tP(1)", lines[0]);
        Assert.Equal(3, lines.Length);
        Assert.All(lines.Skip(1), l => Assert.Equal("1", l.Split('\t')[2]));
    }

    [Fact]
    public async Task Score_ValueWithTabOrLineBreak_IsQuotedInTheOutput()
    {
        string data = _folder.Write("texts.csv", "id,sentence\n1,\"two\nlines\"\n2,\"a\ttab\"\n3,plain\n");
        string scored = _folder.File("scored.tsv");

        CliResult result = await CliRun.RunAsync(
            "classify", "score", "--model", sst2.ModelPath, "--data", data, "--text-column", "sentence", "--out", scored);

        Assert.True(result.ExitCode == 0, result.ToString());
        DelimitedTable table = DelimitedFileReader.Read(scored, new DelimitedFormat('\t', HasHeader: true, Quoting: true));
        Assert.Equal(["two\nlines", "a\ttab", "plain"], table.Records.Select(r => r.Fields[1]));
    }

    [Fact]
    public async Task Score_BadDataFile_LeavesNoOutput()
    {
        string data = _folder.Write("bad.tsv", "sentence\tlabel\nfine\t1\n\"quoted\tbut\tbroken\n");
        string scored = _folder.File("scored.tsv");

        CliResult result = await CliRun.RunAsync(
            "classify", "score", "--model", sst2.ModelPath, "--data", data, "--text-column", "sentence", "--out", scored);

        Assert.Equal(ExitCodes.Error, result.ExitCode);
        Assert.Contains("line 3", result.Error);
        Assert.Empty(Directory.GetFiles(_folder.Path, "scored*"));
    }

    [Fact]
    public async Task Score_RegressionModel_FailsNamingRegressionAndMLNet()
    {
        var ml = new MLContext(seed: 1);
        IDataView rows = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 32).Select(i => new RegressionRow { Sentence1 = i % 2 == 0 ? "good film" : "bad film", Label = i % 2 * 4f }));
        string model = _folder.File("regressor.zip");
        using (PalbertTransformer regressor = ml.Regression.Trainers.Palbert(new PalbertRegressionTrainer.Options
        {
            Sentence1ColumnName = ClassificationRow.Sentence1Column,
            Backbone = "tiny-bert",
            FromScratch = true,
            Hub = new HubOptions { MirrorDirectory = SharedAssets.Root, Offline = true },
            Epochs = 1,
            MaxSequenceLength = 16,
            Device = Devices.DeviceOption.Cpu,
        }).Fit(rows))
        {
            ml.Model.Save(regressor, rows.Schema, model);
        }

        string data = _folder.Write("texts.txt", "sentence\ngood film\n");
        CliResult result = await CliRun.RunAsync("classify", "score", "--model", model, "--data", data, "--text-column", "sentence", "--out", _folder.File("out.tsv"));

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("is a regression model", result.Error);
        Assert.Contains("mlContext.Model.Load", result.Error);
    }

    private sealed class RegressionRow
    {
        public string Sentence1 { get; set; } = "";

        public float Label { get; set; }
    }
}
