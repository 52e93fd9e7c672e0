using EarlyExit.Devices;
using TorchSharp;

namespace EarlyExit.Tests.Devices;

public class DeviceOptionTests
{
    [Theory]
    [InlineData("auto", "auto")]
    [InlineData("CPU", "cpu")]
    [InlineData(" cuda ", "cuda:0")]
    [InlineData("cuda:0", "cuda:0")]
    [InlineData("Cuda:3", "cuda:3")]
    public void Parse_ValidText_RoundTripsToCanonicalText(string text, string expected)
    {
        Assert.Equal(expected, DeviceOption.Parse(text).ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("gpu0")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:x")]
    [InlineData("mps")]
    public void Parse_InvalidText_ThrowsListingValidForms(string text)
    {
        var error = Assert.Throws<FormatException>(() => DeviceOption.Parse(text));
        Assert.Contains($"'{text}'", error.Message);
        Assert.Contains("auto, cpu, cuda or cuda:N", error.Message);
    }

    [Fact]
    public void FromEnvironment_UnsetValidOrInvalid_ReadsEarlyExitDevice()
    {
        string? saved = Environment.GetEnvironmentVariable(DeviceOption.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(DeviceOption.EnvironmentVariable, null);
            Assert.Equal(DeviceOption.Auto, DeviceOption.FromEnvironment());
            Environment.SetEnvironmentVariable(DeviceOption.EnvironmentVariable, "cuda:2");
            Assert.Equal(DeviceOption.Cuda(2), DeviceOption.FromEnvironment());
            Environment.SetEnvironmentVariable(DeviceOption.EnvironmentVariable, "gpu-ish");
            var error = Assert.Throws<FormatException>(DeviceOption.FromEnvironment);
            Assert.Contains("EARLYEXIT_DEVICE='gpu-ish'", error.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable(DeviceOption.EnvironmentVariable, saved);
        }
    }

    [Fact]
    public void Resolve_Cpu_ReturnsCpuDevice()
    {
        Assert.Equal(DeviceType.CPU, DeviceOption.Cpu.Resolve().type);
    }

    [Fact]
    public void Resolve_Auto_PicksCudaOnlyWhenAvailable()
    {
        DeviceType expected = torch.cuda.is_available() ? DeviceType.CUDA : DeviceType.CPU;
        Assert.Equal(expected, DeviceOption.Auto.Resolve().type);
    }

    [SkippableFact]
    public void Resolve_CudaWithoutCuda_ThrowsWithFix()
    {
        Skip.If(torch.cuda.is_available(), "Needs a machine without CUDA (such as CI); this one has a GPU.");

        var error = Assert.Throws<InvalidOperationException>(() => DeviceOption.Parse("cuda:1").Resolve());
        Assert.Contains("'cuda:1'", error.Message);
        Assert.Contains("-p:TorchBackend=cuda", error.Message);
    }

    [SkippableFact]
    public void Resolve_CudaIndexPastLastDevice_ThrowsWithDeviceCount()
    {
        Skip.IfNot(torch.cuda.is_available(), "Needs a CUDA GPU (and the cuda build: -p:TorchBackend=cuda); the no-CUDA path is tested by Resolve_CudaWithoutCuda_ThrowsWithFix.");

        var error = Assert.Throws<InvalidOperationException>(() => DeviceOption.Cuda(torch.cuda.device_count()).Resolve());
        Assert.Contains("CUDA device(s)", error.Message);
    }
}
