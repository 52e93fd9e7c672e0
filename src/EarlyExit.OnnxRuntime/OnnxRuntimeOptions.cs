using Microsoft.ML.OnnxRuntime;

namespace EarlyExit.OnnxRuntime;

/// <summary>How ONNX Runtime runs an exported classifier's graphs.</summary>
public sealed record OnnxRuntimeOptions
{
    /// <summary>Threads each graph's operators may use; 0 for ONNX Runtime's default (one per physical core).</summary>
    /// <value>The default value is 0.</value>
    public int IntraOpThreads { get; init; }

    /// <summary>
    /// Whether ONNX Runtime's idle worker threads spin while waiting for work, rather than sleep and be
    /// woken for each operator. The scorer runs a layer graph and an exit graph in turn, each session with
    /// its own threads, so see also <see cref="StopSpinningAfterRun"/>.
    /// </summary>
    /// <value>The default value is true.</value>
    public bool AllowSpinning { get; init; } = true;

    /// <summary>
    /// With <see cref="AllowSpinning"/>: whether the workers stop spinning when a graph run returns. Then
    /// threads spin only while their own graph runs: left spinning, one graph's threads compete with the next
    /// graph's for the cores (on 2 cores that made the backend 2-6x slower). Measured on 2 cores
    /// (bench/backend-speed.sh --compare-spinning, 2026-12-03), spinning while a graph runs scored 4-13%
    /// more rows per second than no spinning in batches of 32, and 24-32% more one row at a time.
    /// </summary>
    /// <value>The default value is true.</value>
    public bool StopSpinningAfterRun { get; init; } = true;

    /// <summary>How much ONNX Runtime rewrites the graphs when it loads them (fusing LayerNorm, GELU and attention patterns).</summary>
    /// <value>The default value is <see cref="GraphOptimizationLevel.ORT_ENABLE_ALL"/>.</value>
    public GraphOptimizationLevel Optimization { get; init; } = GraphOptimizationLevel.ORT_ENABLE_ALL;

    internal SessionOptions ToSessionOptions()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(IntraOpThreads);
        var options = new SessionOptions
        {
            GraphOptimizationLevel = Optimization,
            IntraOpNumThreads = IntraOpThreads,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", AllowSpinning ? "1" : "0");
        options.AddSessionConfigEntry("session.force_spinning_stop", StopSpinningAfterRun ? "1" : "0");
        return options;
    }
}
