using Microsoft.ML.OnnxRuntime;

namespace EarlyExit.OnnxRuntime;

/// <summary>How ONNX Runtime runs an exported classifier's graphs.</summary>
public sealed record OnnxRuntimeOptions
{
    /// <summary>Threads each graph's operators may use; 0 for ONNX Runtime's default (one per physical core).</summary>
    /// <value>The default value is 0.</value>
    public int IntraOpThreads { get; init; }

    /// <summary>
    /// Whether ONNX Runtime's idle worker threads spin while waiting for work. The scorer runs a
    /// layer graph and an exit graph in turn, each session with its own threads, so spinning threads of
    /// one graph compete with the next graph for the cores: on 2 cores, spinning made the backend 2-6x
    /// slower (bench/BackendSpeed, 2026-12-03), also with one process-wide thread pool for all sessions.
    /// </summary>
    /// <value>The default value is false.</value>
    public bool AllowSpinning { get; init; }

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
        return options;
    }
}
