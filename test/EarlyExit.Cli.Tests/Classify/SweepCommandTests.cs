using EarlyExit.Cli.Tests.TestSupport;
using EarlyExit.Tests.TestSupport;

namespace EarlyExit.Cli.Tests.Classify;

[Collection(CliCollection.Name)]
public sealed class SweepCommandTests(Sst2ModelFixture sst2) : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Sweep_Sst2_PrintsTheFront_ChoosesOnData_ReportsOnTest_AndWritesCsvPlotsAndAModel()
    {
        string test = _folder.Write("test.tsv", string.Join("\n", File.ReadLines(SharedAssets.Data("SST-2/dev.tsv")).Take(1).Concat(File.ReadLines(SharedAssets.Data("SST-2/dev.tsv")).Skip(201).Take(150))) + "\n");
        string csv = _folder.File("sweep.csv");
        string plots = _folder.File("plots");
        string applied = _folder.File("chosen.zip");

        CliResult result = await Sweep(sst2.ValidPath, "--test", test, "--grid", "qexit:0.1..0.9/0.2 patience:1 entropy:0.3,0.6 layer:1",
            "--max-drop", "0.05", "--csv", csv, "--plots", plots, "--apply", applied);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Swept 10 settings on 200 rows", result.Output); // full is added to the 9 of the grid
        Assert.Contains("(front)", result.Output);
        Assert.Contains("oracle:agree", result.Output);
        Assert.Contains("Chosen (fastest within 0.05 of full depth's accuracy):", result.Output);
        Assert.Contains($"On '{test}': accuracy", result.Output);
        string[] lines = File.ReadAllLines(csv);
        Assert.StartsWith("Criterion,Kind,Parameters,accuracy,macro-f1,f1,mcc,MeanExitLayer,LayerSpeedup,ParetoFront", lines[0]);
        Assert.Equal(1 + 10 + 2, lines.Length);
        Assert.All(new[] { "tradeoff.png", "exits.png", "groups.png" }, name => Assert.True(new FileInfo(Path.Combine(plots, name)).Length > 10_000, name));

        string chosen = result.Output.Split("Chosen (")[1].Split("): ")[1].Split(':')[0];
        CliResult evaluate = await CliRun.RunAsync("classify", "evaluate", "--model", applied, "--data", sst2.ValidPath, "--text-column", "sentence", "--label-column", "label");
        Assert.True(evaluate.ExitCode == 0, evaluate.ToString());
        Assert.Contains($"exit criterion   {chosen}", evaluate.Output);
    }

    [Theory]
    [InlineData("--grid", "qexit:0.5 entropy:2", "'entropy:2'")]
    [InlineData("--grid", "patience:0..2", "patience must be at least 1")]
    [InlineData("--max-drop", "-0.1", "--max-drop is -0.1")]
    [InlineData("--min-speedup", "0.5", "--min-speedup is 0.5")]
    [InlineData("--relative", null, "--relative qualifies --max-drop")]
    public async Task Sweep_InvalidOptions_AreUsageErrorsNamingTheValue(string option, string? value, string message)
    {
        CliResult result = await Sweep(sst2.ValidPath, value is null ? [option] : [option, value]);

        Assert.True(result.ExitCode == ExitCodes.Usage, result.ToString());
        Assert.Contains(message, result.Error);
    }

    [Theory]
    [InlineData("--apply")]
    [InlineData("--csv")]
    public async Task Sweep_OutputIsTheModel_IsRefusedAndTheModelKept(string option)
    {
        byte[] before = File.ReadAllBytes(sst2.ModelPath);

        CliResult result = await Sweep(sst2.ValidPath, option, sst2.ModelPath, "--no-timing");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"{option} '{sst2.ModelPath}' is the same file as --model", result.Error);
        Assert.Equal(before, File.ReadAllBytes(sst2.ModelPath));
    }

    [Fact]
    public async Task Sweep_BothRules_IsAUsageError()
    {
        CliResult result = await Sweep(sst2.ValidPath, "--max-drop", "0.01", "--min-speedup", "2");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("give one", result.Error);
    }

    [Fact]
    public async Task Sweep_UnreachableSpeedupWithApply_SaysSoAndWritesNothing()
    {
        string applied = _folder.File("chosen.zip");

        CliResult result = await Sweep(sst2.ValidPath, "--grid", "full layer:1", "--min-speedup", "3", "--apply", applied, "--no-timing");

        Assert.Equal(ExitCodes.Error, result.ExitCode);
        Assert.Contains("nothing chosen", result.Output);
        Assert.Contains("nothing to apply", result.Error);
        Assert.False(File.Exists(applied));
    }

    [Fact]
    public async Task Sweep_LabelTheModelNeverSaw_NamesItsLine()
    {
        string data = _folder.Write("dev.tsv", "sentence\tlabel\ngood\t1\nmeh\tneutral\n");

        CliResult result = await Sweep(data);

        Assert.Equal(ExitCodes.Error, result.ExitCode);
        Assert.Contains("line 3: label 'neutral'", result.Error);
    }

    private Task<CliResult> Sweep(string data, params string[] extra) => CliRun.RunAsync(
        ["classify", "sweep", "--model", sst2.ModelPath, "--data", data, "--text-column", "sentence", "--label-column", "label", .. extra]);
}
