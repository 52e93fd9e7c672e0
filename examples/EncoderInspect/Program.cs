// Loads an encoder (a Hugging Face folder, a hub id or a preset) and shows, layer by layer, how the
// hidden states of one sentence change: the mean norm of the token vectors, and how far each layer
// moves them (1 - cosine similarity to the previous layer). Layers that barely move the
// representation are exactly the work early exit skips.
//
//   dotnet run --project examples/EncoderInspect                               (the pretrained all-MiniLM-L6-v2, from ../shared or the hub)
//   dotnet run --project examples/EncoderInspect -- <folder|hub id> "Some sentence." [--from-scratch] [--device cpu]
//   dotnet run --project examples/EncoderInspect -- --preset tiny-albert "Some sentence."
using EarlyExit;
using EarlyExit.Devices;
using EarlyExit.Hub;
using EarlyExit.Modeling;
using static TorchSharp.torch;

string? model = null;
string? preset = null;
string sentence = "Early exit lets easy sentences leave the network after a few layers.";
var options = new PretrainedEncoderOptions();
var positional = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--from-scratch":
            options.FromScratch = true;
            break;
        case "--preset" when i + 1 < args.Length:
            preset = args[++i];
            break;
        case "--device" when i + 1 < args.Length:
            options.Device = DeviceOption.Parse(args[++i]);
            break;
        case "--help" or "-h":
            Console.WriteLine("usage: EncoderInspect [<folder|hub id>] [sentence] [--from-scratch] [--device auto|cpu|cuda:N] | --preset <name> [sentence]");
            return 0;
        default:
            positional.Add(args[i]);
            break;
    }
}

if (preset is null)
{
    model = positional.Count > 0 ? positional[0] : ModelLocator.MiniLmId;
    sentence = positional.Count > 1 ? positional[1] : sentence;
}
else
{
    sentence = positional.Count > 0 ? positional[0] : sentence;
}

try
{
    using PretrainedEncoder encoder = preset is null ? PretrainedEncoder.Load(model!, options) : PretrainedEncoder.FromPreset(preset, options);
    EncoderConfig config = encoder.Config;
    Console.WriteLine($"model:    {encoder.Source}{(encoder.HasRandomWeights ? " [random weights]" : "")}");
    Console.WriteLine($"encoder:  {config.ModelType}, {config.NumHiddenLayers} layers, hidden {config.HiddenSize}, {config.NumAttentionHeads} heads, on {encoder.Device}");
    Console.WriteLine($"sentence: {sentence}");
    Console.WriteLine($"tokens:   {string.Join(" ", encoder.Tokenizer.Tokenize(sentence))}");
    Console.WriteLine();

    using EncoderOutput output = encoder.Encode([sentence]);
    Console.WriteLine("layer  mean token norm  first-token norm  change vs previous layer (1 - cos)");
    for (int layer = 0; layer < output.HiddenStates.Count; layer++)
    {
        using var scope = NewDisposeScope();
        Tensor hidden = output.HiddenStates[layer][0]; // [T, H]
        float meanNorm = hidden.norm(1).mean().item<float>();
        float clsNorm = hidden[0].norm().item<float>();
        string change = layer == 0
            ? "-"
            : (1 - nn.functional.cosine_similarity(hidden, output.HiddenStates[layer - 1][0], dim: 1).mean().item<float>()).ToString("0.0000");
        Console.WriteLine($"{layer,5}  {meanNorm,15:0.000}  {clsNorm,16:0.000}  {change}");
    }

    return 0;
}
catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or InvalidOperationException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
