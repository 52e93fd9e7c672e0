// Usage: EarlyExit.MLNet.Tests.LoadProbe <model.zip>
// Loads a pipeline saved by the tests (MapValueToKey(Cat) -> ScaleTransformer(X -> Scaled) -> MapKeyToValue(Cat)),
// applies it and a prediction engine to fixed rows, and prints one fact a line for the test to check.
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

if (args.Length != 1)
{
    Console.Error.WriteLine("usage: EarlyExit.MLNet.Tests.LoadProbe <model.zip>");
    return 2;
}

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
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
