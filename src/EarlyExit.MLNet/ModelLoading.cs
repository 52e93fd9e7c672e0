// ML.NET builds every transformer of a saved model by reflection and lets the loaders' exceptions out
// wrapped in TargetInvocationException ("Exception has been thrown by the target of an invocation"),
// once per level of the chain. LoadUnwrapped is ModelOperationsCatalog.Load with that wrapping removed,
// so the exception a caller sees is the loader's own, which names the zip entry and the problem.
using System.Reflection;
using System.Runtime.ExceptionServices;
using Microsoft.ML;

namespace EarlyExit.MLNet;

/// <summary>Loading saved models with the cause of a failure in plain sight.</summary>
public static class ModelLoading
{
    /// <summary>
    /// As <see cref="ModelOperationsCatalog.Load(string, out DataViewSchema)"/>, but a loader's failure is thrown as
    /// the loader's own exception (e.g. <see cref="InvalidDataException"/>: "In the model zip:
    /// 'classifier/classifier.json' is not valid: …") rather than ML.NET's <see cref="TargetInvocationException"/>.
    /// </summary>
    /// <param name="catalog">mlContext.Model.</param>
    /// <param name="filePath">The model zip.</param>
    /// <param name="inputSchema">The schema the model was saved with.</param>
    public static ITransformer LoadUnwrapped(this ModelOperationsCatalog catalog, string filePath, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        try
        {
            return catalog.Load(filePath, out inputSchema);
        }
        catch (TargetInvocationException e)
        {
            Exception cause = e;
            while (cause is TargetInvocationException { InnerException: { } inner })
            {
                cause = inner;
            }

            ExceptionDispatchInfo.Capture(cause).Throw();
            throw; // not reached
        }
    }
}
