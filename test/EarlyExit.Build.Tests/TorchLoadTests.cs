using TorchSharp;

namespace EarlyExit.Build.Tests;

public class TorchLoadTests
{
    [Fact]
    public void NativeBackend_Loads_AndComputes()
    {
        using var t = torch.ones(2, 3);
        Assert.Equal(6f, t.sum().item<float>());
    }
}
