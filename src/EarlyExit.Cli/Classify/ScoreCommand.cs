// earlyexit classify score: a model zip + data -> the data with PredictedLabel, ExitLayer and one
// P(<class>) column per class appended, tab-separated.
using System.CommandLine;
using System.Globalization;
using System.Text;
using EarlyExit.Cli.Output;
using EarlyExit.ExitCriteria;
using Microsoft.ML;

namespace EarlyExit.Cli.Classify;

/// <summary>The <c>classify score</c> command.</summary>
internal sealed class ScoreCommand(CliConsole console)
    : CliCommand(console, "score",
        "Predict a class, an exit layer and class probabilities for every row of a data file.")
{
    /// <summary>The appended column of the predicted class.</summary>
    public const string PredictedLabelColumn = "PredictedLabel";

    /// <summary>The appended column of the 1-based exit layer.</summary>
    public const string ExitLayerColumn = "ExitLayer";

    private readonly ModelCommandOptions _options = new("classify", data: "The data to score (labels not needed).", batch: "Rows scored", verb: "score");
    private readonly ColumnOptions _columns = new(withLabel: false);
    private readonly DataFormatOptions _format = new();
    private readonly Option<ExitCriterion?> _exitCriterion = CommonOptions.ExitCriterion("Score with this exit criterion instead of the model's own (no retraining).");
    private readonly Option<string> _out = new("--out")
    {
        Description = "The scored file: every input column, then PredictedLabel, ExitLayer and P(<class>) per class; tab-separated, with a header " +
            "(input columns without a header are named 0, 1, ...). Values holding a tab or a line break are quoted (RFC 4180).",
        HelpName = "FILE",
        Required = true,
    };

    /// <summary>The appended column of the probability of <paramref name="className"/>.</summary>
    public static string ProbabilityColumn(string className) => $"P({className})";

    protected override void AddOptions(Command command)
    {
        _options.AddModelAndData(command);
        _columns.AddTo(command);
        command.Add(_exitCriterion);
        _options.AddScoring(command, withBackend: true);
        command.Add(_out);
        _format.AddTo(command);
    }

    protected override int Run(ParseResult parse, CancellationToken cancellationToken)
    {
        string modelPath = parse.GetRequiredValue(_options.Model);
        string dataPath = parse.GetRequiredValue(_options.Data);
        string outPath = parse.GetRequiredValue(_out);
        AtomicFile.CheckWritable(outPath, "--out", (dataPath, "--data"), (modelPath, "--model"));

        ModelFile.CheckBeforeLoading(modelPath, [parse.GetValue(_exitCriterion)]);
        var ml = new MLContext(seed: 0);
        using ModelFile model = ModelFile.Load(ml, modelPath, parse.GetValue(_options.Device));
        ColumnSelection columns = _columns.Selection(parse);
        model.CheckPairing(columns.TextPair is not null);
        ClassificationData data = ClassificationData.Read(dataPath, _format.For(parse, dataPath), columns, Terminal.Warn, cancellationToken);

        ScoredRows scored = Scoring.Score(model.Palbert, data.Rows, data.IsPair, parse.GetValue(_exitCriterion), parse.GetValue(_options.BatchSize), Terminal, "scoring", cancellationToken,
            _options.BackendOf(parse));
        IReadOnlyList<string> classes = model.Palbert.ClassNames;
        AtomicFile.Write(outPath, temporary =>
        {
            using var writer = new StreamWriter(temporary, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            writer.NewLine = "\n";
            IEnumerable<string> header = data.Table.ColumnNames.Concat([PredictedLabelColumn, ExitLayerColumn]).Concat(classes.Select(ProbabilityColumn));
            WriteRecord(writer, header);
            for (int i = 0; i < data.Rows.Count; i++)
            {
                var prediction = scored.Predictions[i];
                IEnumerable<string> values = data.Record(i).Fields
                    .Concat([classes[prediction.PredictedClass], prediction.ExitLayer.ToString(CultureInfo.InvariantCulture)])
                    .Concat(prediction.Probabilities.Select(p => p.ToString("R", CultureInfo.InvariantCulture)));
                WriteRecord(writer, values);
            }
        }, cancellationToken);

        double seconds = scored.Elapsed.TotalSeconds;
        double meanExit = scored.Predictions.Average(p => p.ExitLayer);
        Terminal.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Scored {data.Rows.Count:N0} rows of '{dataPath}' with {scored.Criterion.Name} in {seconds:0.00} s ({(seconds > 0 ? data.Rows.Count / seconds : 0):0.0} rows/s); " +
            $"mean exit layer {meanExit:0.00} of {model.Palbert.NumLayers}. Wrote '{outPath}'."));
        return ExitCodes.Success;
    }

    // Tab-separated; a value holding a tab or a line break is quoted, its quotes doubled.
    private static void WriteRecord(TextWriter writer, IEnumerable<string> values)
    {
        bool first = true;
        foreach (string value in values)
        {
            if (!first)
            {
                writer.Write('\t');
            }

            first = false;
            if (value.AsSpan().IndexOfAny('\t', '\n', '\r') >= 0)
            {
                writer.Write('"');
                writer.Write(value.Replace("\"", "\"\"", StringComparison.Ordinal));
                writer.Write('"');
            }
            else
            {
                writer.Write(value);
            }
        }

        writer.WriteLine();
    }
}
