using EarlyExit.Sequence;
using EarlyExit.Tests.TestSupport;

namespace EarlyExit.Cli.Tests.TestSupport;

/// <summary>
/// One <c>ner train</c> run on CoNLL-2003 (the first 300 blocks of the real train.txt, validated on the
/// first 100 of valid.txt; both IOB1), shared by the ner evaluate and score tests: a 2-layer BERT from
/// random weights, 4 joint epochs and 1 self-sampling epoch, chunks of at most 32 tokens.
/// </summary>
public sealed class ConllModelFixture : IAsyncLifetime
{
    public const int Layers = 2;

    public TempFolder Folder { get; } = new();

    public string SharedRoot { get; } = SharedAssets.Root;

    public string TrainPath => Folder.File("train300.txt");

    public string ValidPath => Folder.File("valid100.txt");

    public string ModelPath => Folder.File("ner.zip");

    public string MetricsPath => Folder.File("ner-train.json");

    public CliResult Train { get; private set; } = new(-1, "", "");

    /// <summary>The validation file as the reader sees it.</summary>
    public ConllCorpus Valid => ConllReader.Read(ValidPath);

    /// <summary>The flags every ner training run in the tests shares (without --epochs).</summary>
    public string[] FastTraining =>
    [
        "--backbone", "tiny-bert", "--from-scratch", "--assets", SharedRoot, "--offline",
        "--max-length", "32", "--batch-size", "16", "--learning-rate", "3e-3", "--device", "cpu",
    ];

    public async Task InitializeAsync()
    {
        WriteFirstBlocks(SharedAssets.Data("conll2003/train.txt"), TrainPath, 300);
        WriteFirstBlocks(SharedAssets.Data("conll2003/valid.txt"), ValidPath, 100);
        Train = await CliRun.RunAsync(
        [
            "ner", "train", "--train", TrainPath, "--valid", ValidPath, "--epochs", "4", "--self-sampling-epochs", "1",
            "--out", ModelPath, "--metrics-json", MetricsPath, .. FastTraining,
        ]);
    }

    public Task DisposeAsync()
    {
        Folder.Dispose();
        return Task.CompletedTask;
    }

    // The lines of the first `blocks` blank-line-separated blocks (sentences and -DOCSTART- lines).
    private static void WriteFirstBlocks(string source, string target, int blocks)
    {
        int seen = 0;
        File.WriteAllLines(target, File.ReadLines(source).TakeWhile(line => (seen += line.Trim().Length == 0 ? 1 : 0) < blocks));
    }
}
