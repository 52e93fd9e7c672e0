using System.Text.Json;
using EarlyExit.Cli.Classify;
using EarlyExit.Cli.Tests.TestSupport;
using EarlyExit.Tests.TestSupport;
using Microsoft.ML;

namespace EarlyExit.Cli.Tests.Classify;

[Collection(CliCollection.Name)]
public sealed class TrainCommandTests(Sst2ModelFixture sst2) : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Train_Sst2WithValidation_WritesModelAndMetricsJson()
    {
        Assert.True(sst2.Train.ExitCode == 0, sst2.Train.ToString());
        Assert.True(File.Exists(sst2.ModelPath));
        Assert.Empty(Directory.GetFiles(sst2.Folder.Path, "*.tmp"));
        Assert.Contains("(of 67,349, --max-train-rows)", sst2.Train.Output);
        Assert.Contains("training: epoch 1/1", sst2.Train.Output);

        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(sst2.MetricsPath));
        JsonElement root = json.RootElement;
        Assert.Equal(Sst2ModelFixture.TrainingRows, root.GetProperty("trainingRows").GetInt32());
        Assert.Equal(Sst2ModelFixture.ValidationRows, root.GetProperty("validationRows").GetInt32());
        Assert.Equal(1, root.GetProperty("epochsRun").GetInt32());
        Assert.Equal(1, root.GetProperty("bestEpoch").GetInt32());
        Assert.True(root.GetProperty("trainSeconds").GetDouble() > 0);
        Assert.Equal(["0", "1"], root.GetProperty("classes").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(2, root.GetProperty("layers").GetInt32());
        Assert.Equal("qexit:0.5", root.GetProperty("exitCriterion").GetString());
        Assert.Equal("accuracy", root.GetProperty("validationMetric").GetString());
        JsonElement validation = root.GetProperty("validation");
        Assert.Equal(Sst2ModelFixture.ValidationRows, validation.GetProperty("rows").GetInt32());
        Assert.InRange(validation.GetProperty("accuracy").GetDouble(), 0, 1);
        Assert.InRange(validation.GetProperty("meanExitLayer").GetDouble(), 1, 2);
        Assert.Equal(Sst2ModelFixture.ValidationRows, validation.GetProperty("exitLayerHistogram").EnumerateArray().Sum(e => e.GetInt32()));
        Assert.Equal(root.GetProperty("epochHistory")[0].GetProperty("validationMetric").GetDouble(), validation.GetProperty("accuracy").GetDouble(), 6);
    }

    [Fact]
    public void Train_SavedModel_LoadsInMLNetWithTheInternalColumnNames()
    {
        var ml = new MLContext(seed: 1);
        ITransformer model = ml.Model.Load(sst2.ModelPath, out DataViewSchema schema);
        try
        {
            Assert.Equal([ClassificationRow.Sentence1Column, ClassificationRow.Sentence2Column, ClassificationRow.LabelColumn], schema.Select(c => c.Name));
            var engine = ml.Model.CreatePredictionEngine<ClassificationRow, Prediction>(model);
            Prediction prediction = engine.Predict(new ClassificationRow { Sentence1 = "a charming and affecting journey" });
            Assert.Contains(prediction.PredictedLabel, new[] { "0", "1" });
            Assert.InRange(prediction.ExitLayer, 1, 2);
        }
        finally
        {
            (model as IEnumerable<ITransformer>)!.OfType<IDisposable>().ToList().ForEach(d => d.Dispose());
        }
    }

    [Fact]
    public async Task Train_RtePairs_TrainsOnTextValueLabels()
    {
        string model = _folder.File("rte.zip");

        CliResult result = await CliRun.RunAsync(
        [
            "classify", "train", "--train", SharedAssets.Data("RTE/train.tsv"), "--valid", SharedAssets.Data("RTE/dev.tsv"),
            "--text-column", "sentence1", "--text-pair-column", "sentence2", "--label-column", "label", "--max-train-rows", "200",
            "--out", model, .. CliRun.FastTraining(sst2.SharedRoot),
        ]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("classes: entailment, not_entailment", result.Output);
        Assert.Contains("rows             277", result.Output);
        Assert.True(File.Exists(model));
    }

    [Fact]
    public async Task Train_HaltingLayerAttention_EvaluatesOnTorchSharp_AndOnnxRuntimeRefusesIt()
    {
        string model = _folder.File("attention.zip");
        string[] columns = ["--text-column", "sentence", "--label-column", "label"];

        CliResult train = await CliRun.RunAsync(
            ["classify", "train", "--train", SharedAssets.Data("SST-2/train.tsv"), .. columns, "--max-train-rows", "200", "--halting", "layer-attention", "--out", model, .. CliRun.FastTraining(sst2.SharedRoot)]);
        CliResult evaluate = await CliRun.RunAsync(["classify", "evaluate", "--model", model, "--data", SharedAssets.Data("SST-2/dev.tsv"), .. columns]);
        CliResult onnx = await CliRun.RunAsync(["classify", "evaluate", "--model", model, "--data", SharedAssets.Data("SST-2/dev.tsv"), .. columns, "--backend", "onnx"]);

        Assert.True(train.ExitCode == 0, train.ToString());
        Assert.True(evaluate.ExitCode == 0, evaluate.ToString());
        Assert.Equal(ExitCodes.Error, onnx.ExitCode);
        Assert.Contains("halting head reads LayerAttention", onnx.Error);
    }

    [Fact]
    public async Task Train_MrpcWithByteOrderMarkAndHashNames_TrainsAndEvaluatesPairs()
    {
        string model = _folder.File("mrpc.zip");
        string metrics = _folder.File("mrpc.json");
        string[] columns = ["--text-column", "#1 String", "--text-pair-column", "#2 String", "--label-column", "Quality"];

        CliResult train = await CliRun.RunAsync(
            ["classify", "train", "--train", SharedAssets.Data("MRPC/train.tsv"), .. columns, "--max-train-rows", "200", "--out", model, .. CliRun.FastTraining(sst2.SharedRoot)]);
        CliResult evaluate = await CliRun.RunAsync(
            ["classify", "evaluate", "--model", model, "--data", SharedAssets.Data("MRPC/dev.tsv"), .. columns, "--metrics-json", metrics]);
        CliResult unpaired = await CliRun.RunAsync(
            ["classify", "evaluate", "--model", model, "--data", SharedAssets.Data("MRPC/dev.tsv"), "--text-column", "#1 String", "--label-column", "Quality"]);

        Assert.True(train.ExitCode == 0, train.ToString());
        Assert.True(evaluate.ExitCode == 0, evaluate.ToString());
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(metrics));
        Assert.Equal(408, json.RootElement.GetProperty("rows").GetInt32());
        Assert.Equal("1", json.RootElement.GetProperty("positiveClass").GetString());
        Assert.Equal(ExitCodes.Error, unpaired.ExitCode);
        Assert.Contains("trained on sentence pairs", unpaired.Error);
    }

    [Fact]
    public async Task Train_ColaWithoutHeader_NamesColumnsByIndex()
    {
        string model = _folder.File("cola.zip");
        string metrics = _folder.File("cola.json");

        CliResult result = await CliRun.RunAsync(
        [
            "classify", "train", "--train", SharedAssets.Data("CoLA/train.tsv"), "--valid", SharedAssets.Data("CoLA/dev.tsv"), "--no-header",
            "--text-column", "3", "--label-column", "1", "--max-train-rows", "300", "--validation-metric", "mcc",
            "--out", model, "--metrics-json", metrics, .. CliRun.FastTraining(sst2.SharedRoot),
        ]);

        Assert.True(result.ExitCode == 0, result.ToString());
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(metrics));
        Assert.Equal(1043, json.RootElement.GetProperty("validationRows").GetInt32());
        Assert.Equal("mcc", json.RootElement.GetProperty("validationMetric").GetString());
        Assert.InRange(json.RootElement.GetProperty("validation").GetProperty("mcc").GetDouble(), -1, 1);
    }

    [Theory]
    [InlineData("--train")]
    [InlineData("--valid")]
    public async Task Train_OutIsAnInputFile_IsRefusedAndTheInputKept(string input)
    {
        string train = _folder.Write("train.tsv", "sentence\tlabel\ngood\t1\nbad\t0\n");
        string valid = _folder.Write("valid.tsv", "sentence\tlabel\nfine\t1\nawful\t0\n");
        string target = input == "--train" ? train : valid;
        string before = File.ReadAllText(target);

        CliResult result = await CliRun.RunAsync(
        [
            "classify", "train", "--train", train, "--valid", valid, "--text-column", "sentence", "--label-column", "label",
            "--out", Path.Combine(Path.GetDirectoryName(target)!, ".", Path.GetFileName(target)), .. CliRun.FastTraining(sst2.SharedRoot),
        ]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"is the same file as {input}", result.Error);
        Assert.Equal(before, File.ReadAllText(target));
        Assert.DoesNotContain("training:", result.Output);
    }

    [Fact]
    public async Task Train_OutInAFolderNobodyCanWrite_FailsBeforeTrainingNamingTheOption()
    {
        // /proc/self exists, and no user, root included, can create files in it.
        CliResult result = await CliRun.RunAsync(
        [
            "classify", "train", "--train", sst2.TrainPath, "--text-column", "sentence", "--label-column", "label", "--max-train-rows", "50",
            "--out", "/proc/self/model.zip", .. CliRun.FastTraining(sst2.SharedRoot),
        ]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--out '/proc/self/model.zip': cannot write in its folder '/proc/self'", result.Error);
        Assert.DoesNotContain("training:", result.Output);
    }

    [Fact]
    public async Task Train_EarlyStoppingWithoutValid_IsAUsageError()
    {
        CliResult result = await Train(sst2.ValidPath, "--early-stopping", "2");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("--early-stopping needs --valid", result.Error);
        Assert.False(File.Exists(_folder.File("model.zip")));
    }

    [Fact]
    public async Task Train_InvalidExitCriterion_IsAUsageErrorListingTheForms()
    {
        CliResult result = await Train(sst2.ValidPath, "--exit-criterion", "qexit:high");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("qexit:high", result.Error);
        Assert.Contains("patience:N", result.Error);
    }

    [Fact]
    public async Task Train_OptionsTheTrainerRejects_IsAUsageErrorBeforeReadingData()
    {
        CliResult result = await Train(_folder.File("missing.tsv"), "--halting", "none", "--exit-criterion", "qexit:0.5", "--objective", "pabee");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("needs a halting head", result.Error);
    }

    [Fact]
    public async Task Train_MissingColumn_ListsTheAvailableColumns()
    {
        CliResult result = await CliRun.RunAsync(
            ["classify", "train", "--train", sst2.ValidPath, "--text-column", "text", "--label-column", "label", "--out", _folder.File("model.zip"), .. CliRun.FastTraining(sst2.SharedRoot)]);

        Assert.Equal(ExitCodes.Error, result.ExitCode);
        Assert.Contains("--text-column 'text' is not a column", result.Error);
        Assert.Contains("'sentence', 'label'", result.Error);
        Assert.DoesNotContain("   at ", result.Error);
    }

    [Fact]
    public async Task Train_MalformedLine_NamesTheLine()
    {
        string data = _folder.Write("bad.tsv", "sentence\tlabel\ngood film\t1\nbad film\t0\nno label here\ndull\t0\n");

        CliResult result = await Train(data);

        Assert.Equal(ExitCodes.Error, result.ExitCode);
        Assert.Contains("line 4", result.Error);
        Assert.Contains("too few fields", result.Error);
    }

    [Fact]
    public async Task Train_EmptyFile_SaysSo()
    {
        CliResult result = await Train(_folder.Write("empty.tsv", ""));

        Assert.Equal(ExitCodes.Error, result.ExitCode);
        Assert.Contains("empty.tsv' is empty", result.Error);
    }

    [Fact]
    public async Task Train_OneClass_SaysAClassifierNeedsTwo()
    {
        CliResult result = await Train(_folder.Write("one.tsv", "sentence\tlabel\na\t1\nb\t1\n"));

        Assert.Equal(ExitCodes.Error, result.ExitCode);
        Assert.Contains("at least two classes", result.Error);
    }

    [Fact]
    public async Task Train_ValidationLabelNotInTraining_NamesValueAndLine()
    {
        string valid = _folder.Write("valid.tsv", "sentence\tlabel\ngood\t1\nmeh\tneutral\nbad\t0\n");

        CliResult result = await Train(sst2.ValidPath, "--valid", valid);

        Assert.Equal(ExitCodes.Error, result.ExitCode);
        Assert.Contains("line 3: label 'neutral'", result.Error);
        Assert.Contains("'0', '1'", result.Error);
    }

    [Fact]
    public async Task Train_CancelledWhileTraining_WritesNothingAndKeepsTheOldModel()
    {
        string model = _folder.Write("model.zip", "old model");
        using var cancellation = new CancellationTokenSource();
        var output = new CancelOnText("training: epoch", cancellation);

        CliResult result = await CliRun.RunAsync(
            ["classify", "train", "--train", sst2.TrainPath, "--text-column", "sentence", "--label-column", "label", "--max-train-rows", "2000",
             "--out", model, .. CliRun.FastTraining(sst2.SharedRoot)],
            cancellation.Token, output);

        Assert.Equal(ExitCodes.Cancelled, result.ExitCode);
        Assert.Contains("cancelled; nothing written", result.Error);
        Assert.Equal("old model", File.ReadAllText(model));
        Assert.Equal([model], Directory.GetFiles(_folder.Path));
    }

    private Task<CliResult> Train(string data, params string[] extra) => CliRun.RunAsync(
        ["classify", "train", "--train", data, "--text-column", "sentence", "--label-column", "label", "--out", _folder.File("model.zip"), .. CliRun.FastTraining(sst2.SharedRoot), .. extra]);

    public sealed class Prediction
    {
        public string PredictedLabel { get; set; } = "";

        public int ExitLayer { get; set; }
    }
}
