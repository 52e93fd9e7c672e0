namespace EarlyExit.MLNet.Persistence;

/// <summary>
/// A trained model shared by the transformers made from one another (WithExitCriterion, WithBatchSize):
/// disposed when the last of them is.
/// </summary>
internal sealed class SharedModel<T>(T model)
    where T : class, IDisposable
{
    private int _references = 1;

    public T Model { get; } = model;

    /// <summary>Another transformer uses the model.</summary>
    public SharedModel<T> Acquire()
    {
        Interlocked.Increment(ref _references);
        return this;
    }

    /// <summary>A transformer is done with it; the last one disposes it.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            Model.Dispose();
        }
    }
}
