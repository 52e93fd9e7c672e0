using EarlyExit.Cli.Tests.TestSupport;

namespace EarlyExit.Cli.Tests.Ner;

[Collection(CliCollection.Name)]
public sealed class NerSweepCommandTests(ConllModelFixture conll) : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Sweep_Conll_ChoosesOnData_LabelsTestForReal_AndWritesCsvPlotsAndAModel()
    {
        string csv = _folder.File("sweep.csv");
        string plots = _folder.File("plots");
        string applied = _folder.File("chosen.zip");

        CliResult result = await Sweep(conll.ValidPath, "--test", conll.TrainPath, "--grid", "sentee:0.1..0.3/0.1 tokee:0.2,0.4:1,3 layer:1",
            "--max-drop", "0.5", "--csv", csv, "--plots", plots, "--apply", applied);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Swept 9 settings on 94 sentences", result.Output);
        Assert.Contains("entity-f1", result.Output);
        Assert.Contains("Chosen (fastest within 0.5 of full depth's entity-f1):", result.Output);
        Assert.Contains($"On '{conll.TrainPath}': entity F1", result.Output);
        Assert.Equal(1 + 9 + 2, File.ReadAllLines(csv).Length);
        Assert.Contains("entity-precision", File.ReadLines(csv).First());
        Assert.All(new[] { "tradeoff.png", "exits.png", "groups.png" }, name => Assert.True(File.Exists(Path.Combine(plots, name)), name));

        string chosen = result.Output.Split("Chosen (")[1].Split("): ")[1].Split(": metric")[0];
        CliResult evaluate = await CliRun.RunAsync("ner", "evaluate", "--model", applied, "--data", conll.ValidPath);
        Assert.True(evaluate.ExitCode == 0, evaluate.ToString());
        Assert.Contains($"exit criterion        {chosen}", evaluate.Output);
    }

    [Fact]
    public async Task Sweep_EvenTokeeWindowInTheGrid_IsAUsageErrorNamingTheEntry()
    {
        CliResult result = await Sweep(conll.ValidPath, "--grid", "sentee:0.2 tokee:0.2:3,4");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("'tokee:0.2:3,4'", result.Error);
        Assert.Contains("odd", result.Error);
    }

    [Fact]
    public async Task Sweep_LayerPastTheModel_SaysHowManyLayersItHas()
    {
        CliResult result = await Sweep(conll.ValidPath, "--grid", "layer:1..3", "--no-timing");

        Assert.Equal(ExitCodes.Error, result.ExitCode);
        Assert.Contains("'layer:3'", result.Error);
        Assert.Contains("2 layers", result.Error);
    }

    private Task<CliResult> Sweep(string data, params string[] extra) => CliRun.RunAsync(["ner", "sweep", "--model", conll.ModelPath, "--data", data, .. extra]);
}
