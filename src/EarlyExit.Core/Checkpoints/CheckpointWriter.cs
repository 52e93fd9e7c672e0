// Writes an encoder as a Hugging Face folder: model.safetensors with the bare model's tensor names
// (as save_pretrained of BertModel / AlbertModel / ElectraModel / RobertaModel writes them, no family
// prefix) and a config.json that transformers reads. CheckpointLoader.Load reads it back exactly.
using EarlyExit.Modeling;
using static TorchSharp.torch;

namespace EarlyExit.Checkpoints;

/// <summary>Saves encoders in the Hugging Face layout (config.json + model.safetensors).</summary>
internal static class CheckpointWriter
{
    /// <summary>
    /// Writes <c>model.safetensors</c> (float32, every parameter under its state_dict name) and
    /// <c>config.json</c> into <paramref name="folder"/>, creating it. Existing files are replaced.
    /// </summary>
    public static void Save(EncoderNetwork encoder, string folder)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentException.ThrowIfNullOrEmpty(folder);
        Directory.CreateDirectory(folder);
        using (var scope = NewDisposeScope())
        {
            Dictionary<string, Tensor> tensors = encoder.state_dict();
            IEnumerable<KeyValuePair<string, Tensor>> ordered = tensors.OrderBy(p => p.Key, StringComparer.Ordinal);
            SafeTensorsWriter.Write(Path.Combine(folder, CheckpointLoader.WeightsFileName), ordered);
        }

        encoder.Config.Save(Path.Combine(folder, CheckpointLoader.ConfigFileName));
    }
}
