namespace EarlyExit.Tests.TestSupport;

/// <summary>Tests that touch global torch state (seeds, default dtype, thread counts) run one at a time.</summary>
[CollectionDefinition("Torch", DisableParallelization = true)]
public sealed class TorchCollection
{
}
