using EarlyExit.Tests.TestSupport;

namespace EarlyExit.Cli.Tests.TestSupport;

/// <summary>The command tests: they share one trained model per command family and run one at a time (torch state is global).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CliCollection : ICollectionFixture<Sst2ModelFixture>, ICollectionFixture<ConllModelFixture>
{
    public const string Name = "Cli";
}

/// <summary>
/// One <c>classify train</c> run on SST-2 (300 rows drawn from the real train.tsv, validated on the
/// first 200 rows of dev.tsv), shared by the evaluate and score tests.
/// </summary>
public sealed class Sst2ModelFixture : IAsyncLifetime
{
    public const int TrainingRows = 300;
    public const int ValidationRows = 200;

    public TempFolder Folder { get; } = new();

    public string SharedRoot { get; } = SharedAssets.Root;

    public string TrainPath { get; } = SharedAssets.Data("SST-2/train.tsv");

    public string ValidPath => Folder.File("dev200.tsv");

    public string ModelPath => Folder.File("sst2.zip");

    public string MetricsPath => Folder.File("train-metrics.json");

    public CliResult Train { get; private set; } = new(-1, "", "");

    public async Task InitializeAsync()
    {
        File.WriteAllLines(ValidPath, File.ReadLines(SharedAssets.Data("SST-2/dev.tsv")).Take(ValidationRows + 1));
        Train = await CliRun.RunAsync(
        [
            "classify", "train", "--train", TrainPath, "--valid", ValidPath, "--text-column", "sentence", "--label-column", "label",
            "--max-train-rows", TrainingRows.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--out", ModelPath, "--metrics-json", MetricsPath, .. CliRun.FastTraining(SharedRoot),
        ]);
    }

    public Task DisposeAsync()
    {
        Folder.Dispose();
        return Task.CompletedTask;
    }
}
