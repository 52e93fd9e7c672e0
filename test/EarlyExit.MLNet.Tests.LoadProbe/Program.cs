// Usage: EarlyExit.MLNet.Tests.LoadProbe <model.zip>
//        EarlyExit.MLNet.Tests.LoadProbe palbert|ner <model.zip> <texts.txt>
// Loads a pipeline saved by the tests and prints one fact a line for the test to check:
// - the ScaleTransformer probe (MapValueToKey(Cat) -> ScaleTransformer(X -> Scaled) -> MapKeyToValue(Cat))
//   on fixed rows, plus a prediction engine;
// - "ner": a token-exit NER pipeline (MapValueToKey(Label) -> TokenEarlyExitNer(Tokens) -> MapKeyToValue(PredictedLabel))
//   on the sentences of a file (one a line, words split on spaces), plus a prediction engine on the first;
// - "palbert": a Palbert pipeline (MapValueToKey(Label) -> Palbert(Text) -> MapKeyToValue(PredictedLabel))
//   on the texts of a file (one a line), plus a prediction engine on the first.
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
if (args.Length == 3 && args[0] == "palbert")
{
    return PalbertProbe.Run(args[1], args[2]);
}

if (args.Length == 3 && args[0] == "ner")
{
    return NerProbe.Run(args[1], args[2]);
}

if (args.Length != 1)
{
    Console.Error.WriteLine("usage: EarlyExit.MLNet.Tests.LoadProbe <model.zip> | palbert <model.zip> <texts.txt>");
    return 2;
}

var ml = new MLContext(seed: 1);
var log = new List<string>();
ml.Log += (_, e) =>
{
    if (e.Source.Contains("ScaleTransformer", StringComparison.Ordinal))
    {
        lock (log)
        {
            log.Add(e.Message);
        }
    }
};

Console.WriteLine($"before-load: EarlyExit.MLNet loaded={AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == "EarlyExit.MLNet")}");
ITransformer model = ml.Model.Load(args[0], out DataViewSchema inputSchema);
Console.WriteLine($"input-schema: {string.Join(", ", inputSchema.Select(c => $"{c.Name}:{c.Type}"))}");
if (model is TransformerChain<ITransformer> chain)
{
    Console.WriteLine($"chain: {string.Join(", ", chain.Select(t => t.GetType().FullName))}");
}

IDataView data = ml.Data.LoadFromEnumerable([new ProbeInput { Cat = "a", X = 1f }, new ProbeInput { Cat = "b", X = 2.5f }]);
IDataView output = model.Transform(data);
var payload = default(ReadOnlyMemory<char>);
output.Schema["Scaled"].Annotations.GetValue("Payload", ref payload);
Console.WriteLine($"payload: {payload}");
foreach (ProbeOutput row in ml.Data.CreateEnumerable<ProbeOutput>(output, reuseRowObject: false))
{
    Console.WriteLine($"row: Cat={row.Cat} X={row.X} Scaled={row.Scaled}");
}

var engine = ml.Model.CreatePredictionEngine<ProbeInput, ProbeOutput>(model);
ProbeOutput predicted = engine.Predict(new ProbeInput { Cat = "b", X = 4f });
Console.WriteLine($"engine: Cat={predicted.Cat} X={predicted.X} Scaled={predicted.Scaled}");
foreach (string message in log)
{
    Console.WriteLine($"log: {message}");
}

return 0;

internal sealed class ProbeInput
{
    public string Cat { get; set; } = "";

    public float X { get; set; }
}

internal sealed class ProbeOutput
{
    public string Cat { get; set; } = "";

    public float X { get; set; }

    public float Scaled { get; set; }
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
