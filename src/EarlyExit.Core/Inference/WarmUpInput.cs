// What WarmUp scores, on either backend and for both kinds of model: made-up words at full depth, first
// one row alone and then a whole batch of them. The first calls of a process pay one-time costs (the
// scoring code's JIT compilation, libtorch's or ONNX Runtime's first kernels and buffers).
// bench/backend-speed.sh --cold (bench/results/intel-xeon/cold-start.md, all-MiniLM-L6-v2): the first row
// took 41-101 ms cold and 10-22 ms after a warm-up, on either backend; the warm-up itself took about 300 ms.
namespace EarlyExit.Inference;

/// <summary>The made-up input of a warm-up and the order it is scored in.</summary>
internal static class WarmUpInput
{
    /// <summary>23 words: about a typical sentence's tokens (SST-2 dev averages 25, CoNLL-2003 21).</summary>
    public static IReadOnlyList<string> Words { get; } =
        "the first call of a process pays for compiling and allocating once so this sentence pays it before any real input comes in".Split(' ');

    /// <summary>The words as one text.</summary>
    public static string Text { get; } = string.Join(' ', Words);

    /// <summary>Calls <paramref name="predict"/> with 1 row, then with <paramref name="batchSize"/> rows (when more than 1).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is less than 1.</exception>
    public static void Run(int batchSize, Action<int> predict)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        predict(1);
        if (batchSize > 1)
        {
            predict(batchSize);
        }
    }
}
