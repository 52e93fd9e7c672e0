// The consumer test's ONNX app (test/Consumer/run.sh copies it into a fresh `dotnet new console` project
// that references the packed EarlyExit.OnnxRuntime and no libtorch). It scores the ONNX export of the
// model the first app fitted, and fails unless every predicted label and exit layer equals the TorchSharp
// scores that app wrote, with probabilities within 1e-4.
//
//   score <onnx folder> <dev.tsv> <scores.tsv>
using System.Globalization;
using EarlyExit.Inference;
using EarlyExit.OnnxRuntime;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
const int DevRows = 24; // as the first app's Score

if (args is not ["score", string folder, string devFile, string scoresFile])
{
    Console.Error.WriteLine("usage: score <onnx folder> <dev.tsv> <scores.tsv>");
    return 2;
}

using OnnxTextClassifier classifier = OnnxTextClassifier.Load(folder);
string[] sentences = File.ReadLines(devFile).Skip(1).Take(DevRows).Select(l => l.Split('\t')[0]).ToArray();
ClassificationPrediction[] predictions = classifier.Predict(sentences);
string[][] expected = File.ReadAllLines(scoresFile).Select(l => l.Split('\t')).ToArray(); // scores (hex bits), label, exit layer
int wrong = 0;
for (int row = 0; row < predictions.Length; row++)
{
    float[] torchScores = expected[row][0].Split(' ').Select(h => BitConverter.Int32BitsToSingle(int.Parse(h, NumberStyles.HexNumber))).ToArray();
    ClassificationPrediction p = predictions[row];
    bool same = classifier.Labels[p.PredictedClass] == expected[row][1] && p.ExitLayer.ToString() == expected[row][2]
        && torchScores.Zip(p.Probabilities).All(s => Math.Abs(s.First - s.Second) <= 1e-4);
    if (!same && wrong++ < 3)
    {
        Console.Error.WriteLine($"row {row}: ONNX Runtime {classifier.Labels[p.PredictedClass]} at layer {p.ExitLayer} ({string.Join(" ", p.Probabilities)}), TorchSharp {expected[row][1]} at layer {expected[row][2]} ({string.Join(" ", torchScores)})");
    }
}

if (predictions.Length != expected.Length || wrong > 0)
{
    Console.Error.WriteLine($"the ONNX backend scores differently: {wrong} of {predictions.Length} rows ({expected.Length} expected)");
    return 1;
}

Console.WriteLine($"scored the ONNX export without libtorch: same labels and exit layers as TorchSharp for {predictions.Length} rows");
return 0;
