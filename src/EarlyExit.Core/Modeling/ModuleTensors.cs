// TorchSharp 0.107's Module.Dispose releases the native module but not its parameter and buffer
// tensors: their managed wrappers keep the weights alive until the garbage collector finalizes them.
// The product's top-level networks dispose them at once, so a disposed or refused model frees its
// weights when asked to, not at some later GC.
namespace EarlyExit.Modeling;

/// <summary>Disposes the tensors a module and its submodules own.</summary>
internal static class ModuleTensors
{
    /// <summary>Disposes every parameter and buffer of <paramref name="module"/> (recursively); disposing twice is harmless.</summary>
    public static void DisposeAll(TorchSharp.torch.nn.Module module)
    {
        foreach (TorchSharp.Modules.Parameter parameter in module.parameters())
        {
            parameter.Dispose();
        }

        foreach (TorchSharp.torch.Tensor buffer in module.buffers())
        {
            buffer.Dispose();
        }
    }
}
