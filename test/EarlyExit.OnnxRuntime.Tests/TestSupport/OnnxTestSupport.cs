using EarlyExit.Devices;
using EarlyExit.Hub;
using EarlyExit.Tests.TestSupport;
using EarlyExit.Tokenization;
using Microsoft.ML.OnnxRuntime;

namespace EarlyExit.OnnxRuntime.Tests.TestSupport;

/// <summary>What the parity tests of text and token classifiers share.</summary>
internal static class OnnxTestSupport
{
    /// <summary>Encoders on the CPU, seeded, from the shared mirror, offline.</summary>
    public static PretrainedEncoderOptions EncoderOptions() => new()
    {
        Device = DeviceOption.Cpu,
        Seed = 2,
        Hub = new HubOptions { MirrorDirectory = SharedAssets.Root, Offline = true, CacheDirectory = Path.Combine(Path.GetTempPath(), "earlyexit-test-cache") },
    };

    /// <summary>An export's model.onnx run by a bare InferenceSession, as a user of plain ONNX Runtime runs it: its scores and their shape.</summary>
    public static (float[] Scores, long[] Shape) RunFullDepthGraph(string folder, PaddedTokens padded)
    {
        long[] shape = [padded.Count, padded.Length];
        using var session = new InferenceSession(Path.Combine(folder, "model.onnx"));
        using OrtValue ids = OrtValue.CreateTensorValueFromMemory(padded.InputIds, shape);
        using OrtValue mask = OrtValue.CreateTensorValueFromMemory(padded.AttentionMask, shape);
        using OrtValue types = OrtValue.CreateTensorValueFromMemory(padded.TokenTypeIds, shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, new Dictionary<string, OrtValue> { ["input_ids"] = ids, ["attention_mask"] = mask, ["token_type_ids"] = types }, ["scores"]);
        return (outputs[0].GetTensorDataAsSpan<float>().ToArray(), outputs[0].GetTensorTypeAndShape().Shape);
    }
}
