// Usage: EarlyExit.MLNet.Tests.LoadProbe palbert|ner <model.zip> <texts.txt>
// Loads a pipeline saved by the tests in a fresh process and prints one fact a line for the test to check:
// - "palbert": a Palbert pipeline (MapValueToKey(Label) -> Palbert(Text) -> MapKeyToValue(PredictedLabel))
//   on the texts of a file (one a line), plus a prediction engine on the first;
// - "ner": a token-exit NER pipeline (MapValueToKey(Label) -> TokenEarlyExitNer(Tokens) -> MapKeyToValue(PredictedLabel))
//   on the sentences of a file (one a line, words split on spaces), plus a prediction engine on the first.
using System.Globalization;
using Microsoft.ML;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
switch (args)
{
    case ["palbert", string model, string texts]:
        return PalbertProbe.Run(model, texts);
    case ["ner", string model, string sentences]:
        return NerProbe.Run(model, sentences);
    default:
        Console.Error.WriteLine("usage: EarlyExit.MLNet.Tests.LoadProbe palbert|ner <model.zip> <texts.txt>");
        return 2;
}

internal static class PalbertProbe
{
    public static int Run(string modelPath, string textsPath)
    {
        var ml = new MLContext(seed: 1);
        Console.WriteLine($"before-load: EarlyExit.MLNet loaded={AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == "EarlyExit.MLNet")}");
        ITransformer model = ml.Model.Load(modelPath, out _);
        TextRow[] rows = File.ReadAllLines(textsPath).Select(t => new TextRow { Text = t, Label = "" }).ToArray();
        IDataView output = model.Transform(ml.Data.LoadFromEnumerable(rows));
        foreach (ScoredRow row in ml.Data.CreateEnumerable<ScoredRow>(output, reuseRowObject: false))
        {
            Console.WriteLine($"row: {row.PredictedLabel} {row.ExitLayer} {string.Join(",", row.Score.Select(s => s.ToString("0.00000", CultureInfo.InvariantCulture)))}");
        }

        var engine = ml.Model.CreatePredictionEngine<TextRow, ScoredRow>(model);
        ScoredRow first = engine.Predict(rows[0]);
        Console.WriteLine($"engine: {first.PredictedLabel} {first.ExitLayer}");
        return 0;
    }

    internal sealed class TextRow
    {
        public string Text { get; set; } = "";

        public string Label { get; set; } = "";
    }

    internal sealed class ScoredRow
    {
        public string PredictedLabel { get; set; } = "";

        public int ExitLayer { get; set; }

        public float[] Score { get; set; } = [];
    }
}

internal static class NerProbe
{
    public static int Run(string modelPath, string sentencesPath)
    {
        var ml = new MLContext(seed: 1);
        ITransformer model = ml.Model.Load(modelPath, out _);
        SentenceRow[] rows = File.ReadAllLines(sentencesPath).Select(s => new SentenceRow { Tokens = s.Split(' '), Label = s.Split(' ').Select(_ => "O").ToArray() }).ToArray();
        IDataView output = model.Transform(ml.Data.LoadFromEnumerable(rows));
        foreach (TaggedRow row in ml.Data.CreateEnumerable<TaggedRow>(output, reuseRowObject: false))
        {
            Console.WriteLine($"row: {string.Join(",", row.PredictedLabel)} {string.Join(",", row.TokenExitLayers)} {row.ExitLayer}");
        }

        var engine = ml.Model.CreatePredictionEngine<SentenceRow, TaggedRow>(model);
        TaggedRow first = engine.Predict(rows[0]);
        Console.WriteLine($"engine: {string.Join(",", first.PredictedLabel)} {string.Join(",", first.TokenExitLayers)}");
        return 0;
    }

    internal sealed class SentenceRow
    {
        public string[] Tokens { get; set; } = [];

        public string[] Label { get; set; } = [];
    }

    internal sealed class TaggedRow
    {
        public string[] PredictedLabel { get; set; } = [];

        public int[] TokenExitLayers { get; set; } = [];

        public int ExitLayer { get; set; }
    }
}
