// What `classify sweep` and `ner sweep` share: the selection rule (--max-drop [--relative] or
// --min-speedup), the outputs (--csv, --plots, --apply) and the printed report (the Pareto front, full
// depth, the oracles and the chosen setting). The commands themselves read their data, run the sweep on
// --data (the validation data the choice is made on), and report the chosen setting on --test.
using System.CommandLine;
using System.Globalization;
using System.Text;
using EarlyExit.Cli.Output;
using EarlyExit.MLNet;
using EarlyExit.MLNet.Sweeps;
using EarlyExit.Sweeps;
using Microsoft.Data.Analysis;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EarlyExit.Cli;

/// <summary>--max-drop, --relative, --min-speedup, --csv, --plots, --apply and --no-timing.</summary>
internal sealed class SweepOptions
{
    /// <summary>The metric drop allowed when no rule is given.</summary>
    public const double DefaultMaxDrop = 0.01;

    private readonly Option<double?> _maxDrop = new("--max-drop")
    {
        Description = $"Choose the fastest setting whose metric is at most this far below full depth's (absolute, e.g. 0.005 = half a point). Default: {CommonOptions.Invariant(DefaultMaxDrop)}.",
        HelpName = "X",
    };

    private readonly Option<bool> _relative = new("--relative") { Description = "--max-drop is a fraction of full depth's metric (0.01 = 1% of it)." };
    private readonly Option<double?> _minSpeedup = new("--min-speedup")
    {
        Description = "Instead: choose the most accurate setting with at least this layer speed-up (e.g. 2 = half the layers).",
        HelpName = "X",
    };

    private readonly Option<string> _csv = new("--csv") { Description = "Write every setting (metrics, exit layer, speed-up, front, rows/s) as CSV.", HelpName = "FILE" };
    private readonly Option<string> _plots = new("--plots")
    {
        Description = "Write PNG plots into this folder: tradeoff.png (metric against speed-up, the Pareto front marked), exits.png (the chosen setting's exit layers), groups.png (exit layer by class or entity type).",
        HelpName = "DIR",
    };

    private readonly Option<string> _apply = new("--apply") { Description = "Write a copy of the model that uses the chosen setting (the model file itself is not changed).", HelpName = "FILE" };
    private readonly Option<bool> _noTiming = new("--no-timing") { Description = "Skip the real passes that time full depth and the Pareto front (faster; no rows/s, and TOKEE settings stay unconfirmed)." };

    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { _maxDrop, _relative, _minSpeedup, _csv, _plots, _apply, _noTiming })
        {
            command.Add(option);
        }

        command.Validators.Add(result =>
        {
            if (result.GetResult(_maxDrop) is not null && result.GetResult(_minSpeedup) is not null)
            {
                result.AddError("--max-drop and --min-speedup are two different rules; give one.");
            }

            if (result.GetValue(_relative) && result.GetResult(_maxDrop) is null)
            {
                result.AddError("--relative qualifies --max-drop; give --max-drop too.");
            }

            double? drop = Value(result, _maxDrop);
            if (drop is double d && !(d >= 0))
            {
                result.AddError($"--max-drop is {CommonOptions.Invariant(d)}; it must be 0 or more.");
            }

            double? speed = Value(result, _minSpeedup);
            if (speed is double s && !(s >= 1))
            {
                result.AddError($"--min-speedup is {CommonOptions.Invariant(s)}; it must be at least 1 (full depth).");
            }
        });
    }

    public bool MeasureSpeed(ParseResult parse) => !parse.GetValue(_noTiming);

    /// <summary>Checks the output paths before any long work: writable, and none of them one of <paramref name="inputs"/>.</summary>
    public void CheckOutputs(ParseResult parse, params (string? Path, string Option)[] inputs)
    {
        string? csv = parse.GetValue(_csv);
        string? apply = parse.GetValue(_apply);
        if (csv is not null)
        {
            AtomicFile.CheckWritable(csv, "--csv", [.. inputs, (apply, "--apply")]);
        }

        if (apply is not null)
        {
            AtomicFile.CheckWritable(apply, "--apply", inputs);
        }

        if (parse.GetValue(_plots) is string folder)
        {
            if (File.Exists(folder))
            {
                throw new CliException($"--plots '{folder}' is a file; name a folder.", isUsage: true);
            }

            AtomicFile.CheckWritable(Path.Combine(folder, "tradeoff.png"), "--plots");
        }
    }

    /// <summary>The rule in words, e.g. "fastest within 0.01 of full depth's accuracy".</summary>
    public string Rule(ParseResult parse, string metric) => parse.GetValue(_minSpeedup) is double speed
        ? $"most {metric} at a layer speed-up of at least {CommonOptions.Invariant(speed)}x"
        : $"fastest within {CommonOptions.Invariant(parse.GetValue(_maxDrop) ?? DefaultMaxDrop)}{(parse.GetValue(_relative) ? " (relative)" : "")} of full depth's {metric}";

    /// <summary>The setting the rule chooses, or null when none satisfies it.</summary>
    public SweepSetting? Choose(ParseResult parse, ExitSweep sweep) => parse.GetValue(_minSpeedup) is double speed
        ? sweep.MostAccurateAt(speed)
        : sweep.FastestWithin(parse.GetValue(_maxDrop) ?? DefaultMaxDrop, parse.GetValue(_relative) ? MetricDrop.Relative : MetricDrop.Absolute);

    /// <summary>
    /// The steps of both sweep commands once their data is keyed: the sweep on the validation data under a
    /// progress display (with <paramref name="batchSize"/>, when given, instead of the model's), the printed
    /// result and choice, <paramref name="onTest"/> with the chosen setting when there is test data, and the
    /// --csv, --plots and --apply outputs.
    /// </summary>
    /// <param name="parse">The command line.</param>
    /// <param name="console">Where the result goes.</param>
    /// <param name="ml">The ML.NET context (for --apply's save).</param>
    /// <param name="model">The loaded model zip.</param>
    /// <param name="batchSize">--batch-size, or null.</param>
    /// <param name="dataPath">The validation data file, for the report.</param>
    /// <param name="unit">What the data's items are ("rows", "sentences").</param>
    /// <param name="sweep">The sweep of the validation data with a transformer.</param>
    /// <param name="onTest">Reports the chosen setting on the test data, or null without test data.</param>
    /// <param name="inputSchema">The schema the saved chain reads (--apply).</param>
    /// <param name="cancellationToken">Checked after the sweep.</param>
    public void Run<TSelf, TClassifier, TCriterion>(ParseResult parse, CliConsole console, MLContext ml, ModelZipFile<TSelf, TClassifier, TCriterion> model, int? batchSize,
        string dataPath, string unit, Func<TSelf, ExitSweep> sweep, Action<TSelf, ExitSweep, SweepSetting>? onTest, DataViewSchema inputSchema, CancellationToken cancellationToken)
        where TSelf : EarlyExitTransformer<TSelf, TClassifier, TCriterion>
        where TClassifier : EarlyExitClassifier<TCriterion>
        where TCriterion : class
    {
        TSelf transformer = batchSize is int batch ? model.Transformer.WithBatchSize(batch) : model.Transformer;
        try
        {
            ExitSweep result = console.RunWithProgress("sweeping", _ => sweep(transformer));
            cancellationToken.ThrowIfCancellationRequested();
            Print(console, result, dataPath, unit);
            SweepSetting? chosen = Choose(parse, result);
            string rule = Rule(parse, result.MetricName);
            console.WriteLine(chosen is null ? $"No setting is the {rule}; nothing chosen." : $"Chosen ({rule}): {chosen}.");
            if (chosen is not null)
            {
                onTest?.Invoke(transformer, result, chosen);
            }

            WriteOutputs(parse, console, result, chosen, cancellationToken);
            Apply(parse, console, ml, model.Path, model.Model, model.Transformer, chosen, rule, setting => model.Transformer.WithExitCriterion(setting), inputSchema, cancellationToken);
        }
        finally
        {
            if (!ReferenceEquals(transformer, model.Transformer))
            {
                transformer.Dispose();
            }
        }
    }

    /// <summary>
    /// With --apply, writes the model chain <paramref name="chain"/> with <paramref name="original"/>
    /// replaced by <paramref name="withChosen"/> (the same model scoring with the chosen setting).
    /// </summary>
    /// <exception cref="CliException">--apply was given but nothing was chosen.</exception>
    private void Apply<T>(ParseResult parse, CliConsole console, MLContext ml, string modelPath, ITransformer chain, T original, SweepSetting? chosen, string rule,
        Func<SweepSetting, T> withChosen, DataViewSchema inputSchema, CancellationToken cancellationToken)
        where T : class, ITransformer, IDisposable
    {
        if (parse.GetValue(_apply) is not string path)
        {
            return;
        }

        if (chosen is null)
        {
            throw new CliException($"--apply '{path}': no setting satisfies the rule ({rule}), so there is nothing to apply; loosen --max-drop or lower --min-speedup.");
        }

        using T applied = withChosen(chosen);
        ITransformer[] stages = ((IEnumerable<ITransformer>)chain).Select(t => ReferenceEquals(t, original) ? applied : t).ToArray();
        AtomicFile.Write(path, temporary => ml.Model.Save(new TransformerChain<ITransformer>(stages), inputSchema, temporary), cancellationToken);
        console.WriteLine($"Wrote '{path}': the model of '{modelPath}' with exit criterion {chosen.Criterion}.");
    }

    /// <summary>Prints the sweep: cost, the front, full depth and the oracles, and the choice.</summary>
    public static void Print(CliConsole console, ExitSweep sweep, string dataPath, string unit)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Swept {sweep.Timings.Settings} settings on {sweep.Rows:N0} {unit} of '{dataPath}' ({sweep.Layers} layers): ");
        text.Append(CultureInfo.InvariantCulture, $"recording {sweep.Timings.RecordSeconds:0.00} s + replaying {sweep.Timings.ReplaySeconds:0.00} s");
        text.Append(double.IsNaN(sweep.Timings.CostRatio) ? ".\n" : string.Create(CultureInfo.InvariantCulture, $" = {sweep.Timings.CostRatio:0.00} full-depth passes.\n"));
        text.Append(CultureInfo.InvariantCulture, $"  {"setting",-22}{sweep.MetricName,12}{"mean exit",11}{"speed-up",10}{unit + "/s",14}\n");
        foreach (SweepSetting s in sweep.Settings.Where(s => s.OnParetoFront || s.Criterion == "full" || s.IsOracle).OrderBy(s => s.IsOracle).ThenBy(s => s.LayerSpeedup))
        {
            string metric = s.MeasuredMetric is double m && s.Estimated ? $"{m:0.0000}*" : $"{s.Metric:0.0000} ";
            string rate = s.RowsPerSecond is double r ? r.ToString("0.0", CultureInfo.InvariantCulture) : "";
            string tag = s.OnParetoFront ? " (front)" : "";
            text.Append(CultureInfo.InvariantCulture, $"  {s.Criterion + tag,-22}{metric,12}{s.MeanExitLayer,11:0.00}{s.LayerSpeedup,9:0.00}x{rate,14}\n");
        }

        if (sweep.Settings.Any(s => s.Estimated))
        {
            text.Append("  * TOKEE settings are replayed as estimates; those on the front show the F1 of a real halt-and-copy pass.\n");
        }

        console.Output.Write(text.ToString());
    }

    /// <summary>Writes --csv and --plots.</summary>
    public void WriteOutputs(ParseResult parse, CliConsole console, ExitSweep sweep, SweepSetting? chosen, CancellationToken cancellationToken)
    {
        if (parse.GetValue(_csv) is string csv)
        {
            AtomicFile.Write(csv, temporary => DataFrame.SaveCsv(sweep.ToDataFrame(), temporary, cultureInfo: CultureInfo.InvariantCulture), cancellationToken);
            console.WriteLine($"Wrote '{csv}'.");
        }

        if (parse.GetValue(_plots) is string folder)
        {
            Directory.CreateDirectory(folder);
            string shown = chosen?.Criterion ?? "full";
            AtomicFile.Write(Path.Combine(folder, "tradeoff.png"), temporary => sweep.SaveTradeOff(temporary), cancellationToken);
            AtomicFile.Write(Path.Combine(folder, "exits.png"), temporary => sweep.SaveExitHistogram(shown, temporary), cancellationToken);
            AtomicFile.Write(Path.Combine(folder, "groups.png"), temporary => sweep.SaveExitLayerByGroup(shown == "full" ? ["full", "oracle:agree"] : ["full", shown, "oracle:agree"], temporary), cancellationToken);
            console.WriteLine($"Wrote tradeoff.png, exits.png and groups.png into '{folder}'.");
        }
    }

    private static double? Value(System.CommandLine.Parsing.CommandResult result, Option<double?> option)
    {
        try
        {
            return result.GetValue(option);
        }
        catch (InvalidOperationException)
        {
            return null; // its own parse error is reported already
        }
    }
}
