using EarlyExit.Checkpoints;
using EarlyExit.Tests.TestSupport;
using TorchSharp;

namespace EarlyExit.Tests.Checkpoints;

[Collection("Torch")]
public class SafeTensorsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("safetensors-tests-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Write_ThenOpen_RoundTripsValuesShapesAndMetadata()
    {
        string path = Path.Combine(_folder, "model.safetensors");
        using var weights = torch.randn(3, 5);
        using var ids = torch.tensor(new long[] { 1, -2, 3 });
        using var scalar = torch.tensor(2.5f);
        SafeTensorsWriter.Write(path, new Dictionary<string, torch.Tensor> { ["w"] = weights, ["ids"] = ids, ["s"] = scalar },
            new Dictionary<string, string> { ["producer"] = "test" });

        using var file = SafeTensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal("test", file.Metadata["producer"]);
        Assert.Equal(new long[] { 3, 5 }, file.Entries["w"].Shape);
        Assert.Empty(file.Entries["s"].Shape);
        using var w = file.ReadTensor("w");
        Assert.Equal(weights.data<float>().ToArray(), w.data<float>().ToArray());
        Assert.Equal(new long[] { 1, -2, 3 }, file.ReadInt64s("ids"));
        Assert.Equal(2.5f, file.ReadSingles("s")[0]);
        Assert.Equal(0, (new FileInfo(path).Length - file.Entries.Values.Sum(e => e.End - e.Begin)) % 8);
    }

    [Fact]
    public void ReadSingles_Bf16Checkpoint_WidensExactly()
    {
        // random-electra-tiny stores every weight as BF16: widened values must have zero low 16 bits.
        using var file = SafeTensorsFile.Open(Path.Combine(SharedAssets.Model("random-electra-tiny"), "model.safetensors"));
        SafeTensorsEntry entry = file.Entries.Values.First(e => e.Name.EndsWith("query.weight", StringComparison.Ordinal));
        Assert.Equal(SafeTensorsDType.BF16, entry.DType);
        float[] values = file.ReadSingles(entry.Name);
        Assert.Equal(entry.ElementCount, values.Length);
        Assert.All(values, v => Assert.Equal(0u, BitConverter.SingleToUInt32Bits(v) & 0xffff));
        Assert.Contains(values, v => v != 0f);
    }

    [Fact]
    public void Open_TruncatedFile_ThrowsNamingTheTensor()
    {
        string path = Path.Combine(_folder, "t.safetensors");
        using var t = torch.ones(4, 4);
        SafeTensorsWriter.Write(path, new Dictionary<string, torch.Tensor> { ["weight"] = t });
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^10]);

        var error = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path));
        Assert.Contains("'weight'", error.Message);
        Assert.Contains("truncated", error.Message);
    }

    [Theory]
    [InlineData(new byte[] { 1, 2, 3 }, "fewer than the 8-byte header length")]
    [InlineData(new byte[] { 255, 255, 255, 255, 0, 0, 0, 0, (byte)'{', (byte)'}' }, "header length")]
    [InlineData(new byte[] { 2, 0, 0, 0, 0, 0, 0, 0, (byte)'[', (byte)']' }, "not a JSON object")]
    [InlineData(new byte[] { 2, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'x' }, "not valid JSON")]
    public void Open_MalformedHeader_ThrowsWithReason(byte[] content, string reason)
    {
        string path = Path.Combine(_folder, "bad.safetensors");
        File.WriteAllBytes(path, content);

        var error = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path));
        Assert.Contains(reason, error.Message);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void Open_UnknownDType_ListsSupportedTypes()
    {
        string path = Path.Combine(_folder, "dtype.safetensors");
        byte[] header = System.Text.Encoding.UTF8.GetBytes("{\"x\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)header.Length), .. header, 0]);

        var error = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path));
        Assert.Contains("F8_E4M3", error.Message);
        Assert.Contains("BF16", error.Message);
    }
}
