using System.Text.Json;
using EarlyExit.Cli.Tests.TestSupport;
using EarlyExit.Devices;
using EarlyExit.Hub;
using EarlyExit.MLNet;
using EarlyExit.MLNet.Palbert;
using EarlyExit.Tests.TestSupport;
using Microsoft.ML;

namespace EarlyExit.Cli.Tests.Classify;

[Collection(CliCollection.Name)]
public sealed class EvaluateCommandTests(Sst2ModelFixture sst2) : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Evaluate_Sst2Dev_PrintsAndWritesEveryMetric()
    {
        string metrics = _folder.File("eval.json");

        CliResult result = await Evaluate(sst2.ValidPath, "--metrics-json", metrics);

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (string line in new[] { "accuracy", "macro-F1", "F1 (1)", "MCC", "mean exit layer", "layer speed-up", "rows/s", "exit layers", "exit criterion   qexit:0.5" })
        {
            Assert.Contains(line, result.Output);
        }

        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(metrics));
        JsonElement root = json.RootElement;
        Assert.Equal(Sst2ModelFixture.ValidationRows, root.GetProperty("rows").GetInt32());
        foreach (string name in new[] { "accuracy", "macroF1", "f1" })
        {
            Assert.InRange(root.GetProperty(name).GetDouble(), 0, 1);
        }

        Assert.InRange(root.GetProperty("mcc").GetDouble(), -1, 1);
        double meanExit = root.GetProperty("meanExitLayer").GetDouble();
        Assert.InRange(meanExit, 1, 2);
        Assert.Equal(2 / meanExit, root.GetProperty("layerSpeedup").GetDouble(), 9);
        Assert.True(root.GetProperty("rowsPerSecond").GetDouble() > 0);
        Assert.Equal(2, root.GetProperty("layers").GetInt32());
        Assert.Equal("qexit:0.5", root.GetProperty("exitCriterion").GetString());
        Assert.Equal(Sst2ModelFixture.ValidationRows, root.GetProperty("exitLayerHistogram").EnumerateArray().Sum(e => e.GetInt32()));
        Assert.Equal(["0", "1"], root.GetProperty("classes").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(16, root.GetProperty("batchSize").GetInt32());
    }

    [Fact]
    public async Task Evaluate_PositiveLabel_ReportsThatClassesF1()
    {
        string metrics = _folder.File("positive0.json");

        CliResult result = await Evaluate(sst2.ValidPath, "--positive-label", "0", "--metrics-json", metrics);
        CliResult unknown = await Evaluate(sst2.ValidPath, "--positive-label", "yes");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("F1 (0)", result.Output);
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(metrics));
        Assert.Equal("0", json.RootElement.GetProperty("positiveClass").GetString());
        Assert.Equal(json.RootElement.GetProperty("perClassF1").GetProperty("0").GetDouble(), json.RootElement.GetProperty("f1").GetDouble(), 12);
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("The positive label 'yes' is not a class of the model; its classes are '0', '1'", unknown.Error);
    }

    [Fact]
    public async Task Evaluate_PalbertModelOfAnotherPipeline_SaysWhichColumnDiffersAndHowToScoreIt()
    {
        // A library user's pipeline: Palbert reads column "Text", which classify train never writes.
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 16).Select(i => new TextRow { Text = i % 2 == 0 ? "good film" : "bad film", Label = (i % 2).ToString(System.Globalization.CultureInfo.InvariantCulture) }));
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.Palbert(new PalbertTextClassificationTrainer.Options
        {
            Sentence1ColumnName = nameof(TextRow.Text), Backbone = "tiny-bert", FromScratch = true, Epochs = 1, BatchSize = 8, MaxSequenceLength = 16, Device = DeviceOption.Cpu,
            Hub = new HubOptions { MirrorDirectory = sst2.SharedRoot, Offline = true },
        }));
        string model = _folder.File("other-pipeline.zip");
        using (var fitted = pipeline.Fit(train))
        {
            ml.Model.Save(fitted, train.Schema, model);
        }

        CliResult result = await CliRun.RunAsync("classify", "evaluate", "--model", model, "--data", sst2.ValidPath, "--text-column", "sentence", "--label-column", "label");

        Assert.Equal(ExitCodes.Error, result.ExitCode);
        Assert.Contains("its Palbert classifier reads column 'Text', not 'Sentence1'", result.Error);
        Assert.Contains("mlContext.Model.Load", result.Error);
        Assert.DoesNotContain("use 'earlyexit classify'", result.Error);
    }

    [Fact]
    public async Task Evaluate_ModelWithADamagedEntry_NamesTheRealCause()
    {
        string damaged = ModelZipCopy.WithEntry(sst2.ModelPath, _folder.File("damaged.zip"), "classifier.json", "{ \"Format\": "u8);

        CliResult result = await CliRun.RunAsync(
            "classify", "evaluate", "--model", damaged, "--data", sst2.ValidPath, "--text-column", "sentence", "--label-column", "label");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"Cannot load model '{damaged}'", result.Error);
        Assert.DoesNotContain("target of an invocation", result.Error);
        Assert.Contains("In the model zip: 'classifier/classifier.json' is not valid", result.Error);
        Assert.DoesNotContain("earlyexit-load-", result.Error);
    }

    [Fact]
    public async Task Evaluate_Latin1Bytes_WarnsOnceWithLineAndCount_OrFailsWhenStrict()
    {
        string data = _folder.File("latin1.tsv");
        byte[] e = [0xE9]; // 'é' in Latin-1: not UTF-8
        File.WriteAllBytes(data, [.. "sentence\tlabel\ngood\t1\ncaf"u8, .. e, .. "\t0\nfine\t1\nna"u8, .. e, .. "ve\t0\n"u8]);

        CliResult lenient = await CliRun.RunAsync("classify", "evaluate", "--model", sst2.ModelPath, "--data", data, "--text-column", "sentence", "--label-column", "label");
        CliResult strict = await CliRun.RunAsync("classify", "evaluate", "--model", sst2.ModelPath, "--data", data, "--text-column", "sentence", "--label-column", "label", "--strict-encoding");

        Assert.True(lenient.ExitCode == 0, lenient.ToString());
        Assert.Contains($"warning: '{data}' is not valid UTF-8 on 2 line(s), the first at line 3", lenient.Error);
        Assert.Single(lenient.Error.Split('\n'), l => l.StartsWith("warning:", StringComparison.Ordinal));
        Assert.NotEqual(0, strict.ExitCode);
        Assert.Contains($"'{data}' is not valid UTF-8 on 2 line(s), the first at line 3", strict.Error);
        Assert.Contains("iconv", strict.Error);
    }

    [Fact]
    public async Task Evaluate_Utf16WithByteOrderMark_ReadsWithoutAWarning()
    {
        string data = _folder.File("utf16.tsv");
        File.WriteAllText(data, "sentence\tlabel\ncafé au lait\t1\nnaïve\t0\n", System.Text.Encoding.Unicode);

        CliResult result = await CliRun.RunAsync(
            "classify", "evaluate", "--model", sst2.ModelPath, "--data", data, "--text-column", "sentence", "--label-column", "label", "--strict-encoding");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.DoesNotContain("warning:", result.Error);
    }

    [Fact]
    public async Task Evaluate_MistakesTheSettingsShow_FailBeforeTheWeightsAreRead()
    {
        // Weights that cannot be read: any error about them would mean the checks came too late.
        string model = ModelZipCopy.WithEntry(sst2.ModelPath, _folder.File("no-weights.zip"), "model.safetensors", "not weights"u8);

        string unseen = _folder.Write("unseen.tsv", "sentence\tlabel\ngood\t1\nodd\tmaybe\n");
        string[] columns = ["--text-column", "sentence", "--label-column", "label"];

        CliResult deep = await CliRun.RunAsync(["classify", "evaluate", "--model", model, "--data", sst2.ValidPath, .. columns, "--exit-criterion", "layer:99"]);
        CliResult label = await CliRun.RunAsync(["classify", "evaluate", "--model", model, "--data", unseen, .. columns]);
        CliResult kind = await CliRun.RunAsync(["ner", "evaluate", "--model", model, "--data", SharedAssets.Data("conll2003/valid.txt")]);
        CliResult grid = await CliRun.RunAsync(["classify", "sweep", "--model", model, "--data", sst2.ValidPath, .. columns, "--grid", "layer:1 layer:5"]);
        CliResult sweepLabel = await CliRun.RunAsync(["classify", "sweep", "--model", model, "--data", sst2.ValidPath, "--test", unseen, .. columns]);

        Assert.Contains("asks for layer 99, but the model has 2 layers", deep.Error);
        Assert.Contains("'maybe'", label.Error);
        Assert.Contains("it is a text classifier: use 'earlyexit classify'", kind.Error);
        Assert.Contains("Exit criterion 'layer:5' cannot score", grid.Error);
        Assert.Contains("'maybe'", sweepLabel.Error);
        Assert.All(new[] { deep, label, kind, grid, sweepLabel }, r => Assert.DoesNotContain("safetensors", r.Error));
    }

    [Fact]
    public async Task Evaluate_ExitCriterionLayer1_EveryRowExitsAtLayer1()
    {
        string metrics = _folder.File("layer1.json");

        CliResult result = await Evaluate(sst2.ValidPath, "--exit-criterion", "layer:1", "--batch-size", "7", "--metrics-json", metrics);

        Assert.True(result.ExitCode == 0, result.ToString());
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(metrics));
        Assert.Equal(1.0, json.RootElement.GetProperty("meanExitLayer").GetDouble());
        Assert.Equal(2.0, json.RootElement.GetProperty("layerSpeedup").GetDouble());
        Assert.Equal([Sst2ModelFixture.ValidationRows, 0], json.RootElement.GetProperty("exitLayerHistogram").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("layer:1", json.RootElement.GetProperty("exitCriterion").GetString());
        Assert.Equal(7, json.RootElement.GetProperty("batchSize").GetInt32());
    }

    [Fact]
    public async Task Evaluate_DeviceCpu_ScoresOnTheCpu_AndBadDeviceIsAUsageError()
    {
        CliResult cpu = await Evaluate(sst2.ValidPath, "--device", "cpu");
        CliResult bad = await Evaluate(sst2.ValidPath, "--device", "tpu");

        Assert.True(cpu.ExitCode == 0, cpu.ToString());
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--device 'tpu' is not valid", bad.Error);
    }

    [Fact]
    public async Task Evaluate_QuotedCsv_ReadsTheSameRows()
    {
        string[] lines = File.ReadAllLines(sst2.ValidPath);
        string csv = _folder.Write("dev.csv", "sentence,label\n" + string.Join("\n", lines.Skip(1).Select(l => l.Split('\t')).Select(f => $"\"{f[0].Replace("\"", "\"\"")}\",{f[1]}")) + "\n");
        string tsvMetrics = _folder.File("tsv.json");
        string csvMetrics = _folder.File("csv.json");

        CliResult tsv = await Evaluate(sst2.ValidPath, "--metrics-json", tsvMetrics);
        CliResult fromCsv = await Evaluate(csv, "--metrics-json", csvMetrics);

        Assert.True(fromCsv.ExitCode == 0, fromCsv.ToString());
        using JsonDocument a = JsonDocument.Parse(File.ReadAllText(tsvMetrics));
        using JsonDocument b = JsonDocument.Parse(File.ReadAllText(csvMetrics));
        foreach (string name in new[] { "rows", "accuracy", "meanExitLayer" })
        {
            Assert.Equal(a.RootElement.GetProperty(name).GetDouble(), b.RootElement.GetProperty(name).GetDouble());
        }
    }

    [Fact]
    public async Task Evaluate_LabelNotSeenInTraining_NamesValueFirstLineAndClasses()
    {
        string data = _folder.Write("unseen.tsv", "sentence\tlabel\ngood\t1\nbad\t0\nso-so\tneutral\nfine\tneutral\n");

        CliResult result = await Evaluate(data);

        Assert.Equal(ExitCodes.Error, result.ExitCode);
        Assert.Contains("line 4: label 'neutral'", result.Error);
        Assert.Contains("1 more row(s) have it", result.Error);
        Assert.Contains("known classes are: '0', '1'", result.Error);
        Assert.DoesNotContain("accuracy", result.Output);
    }

    [Fact]
    public async Task Evaluate_MissingModelFile_SaysWhichFile()
    {
        CliResult result = await CliRun.RunAsync(
            "classify", "evaluate", "--model", _folder.File("absent.zip"), "--data", sst2.ValidPath, "--text-column", "sentence", "--label-column", "label");

        Assert.Equal(ExitCodes.Error, result.ExitCode);
        Assert.Contains("absent.zip' does not exist", result.Error);
    }

    [Fact]
    public async Task Evaluate_FileThatIsNoModel_SaysSo()
    {
        CliResult result = await CliRun.RunAsync(
            "classify", "evaluate", "--model", sst2.ValidPath, "--data", sst2.ValidPath, "--text-column", "sentence", "--label-column", "label");

        Assert.Equal(ExitCodes.Error, result.ExitCode);
        Assert.Contains("Cannot load model", result.Error);
        Assert.DoesNotContain("   at ", result.Error);
    }

    [Fact]
    public async Task Evaluate_InvalidExitCriterion_IsAUsageError()
    {
        CliResult result = await Evaluate(sst2.ValidPath, "--exit-criterion", "fastest");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("'fastest' is not known", result.Error);
        Assert.Contains("classify evaluate --help", result.Error);
    }

    [Fact]
    public async Task Evaluate_CriterionTheModelCannotServe_IsAnError()
    {
        CliResult result = await Evaluate(sst2.ValidPath, "--exit-criterion", "layer:3");

        Assert.Equal(ExitCodes.Error, result.ExitCode);
        Assert.Contains("the model has 2 layers", result.Error);
    }

    private Task<CliResult> Evaluate(string data, params string[] extra) => CliRun.RunAsync(
        ["classify", "evaluate", "--model", sst2.ModelPath, "--data", data, "--text-column", "sentence", "--label-column", "label", .. extra]);

    private sealed class TextRow
    {
        public string Text { get; set; } = "";

        public string Label { get; set; } = "";
    }
}
