// What every trainer here is, whatever its task: an ML.NET estimator created by the catalog with its
// options checked at once (TrainerFitting.CheckOptions), whose Fit(input) is Fit(input, no validation
// data). A derived trainer says how it fits (its label, rows and model) and what schema it declares.
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace EarlyExit.MLNet;

/// <summary>
/// An early-exit trainer: <see cref="Palbert.PalbertTextClassificationTrainer"/>, <see cref="Palbert.PalbertRegressionTrainer"/>
/// or <see cref="TokenEarlyExitNer.TokenEarlyExitNerTrainer"/>. Create them from the catalog.
/// </summary>
/// <typeparam name="TOptions">The trainer's options.</typeparam>
/// <typeparam name="TTransformer">What Fit returns.</typeparam>
public abstract class EarlyExitTrainer<TOptions, TTransformer> : IEstimator<TTransformer>
    where TOptions : EarlyExitTrainerOptions
    where TTransformer : class, ITransformer
{
    /// <summary>Creates the trainer; every option is checked now and all problems are reported together.</summary>
    /// <param name="env">The catalog's environment.</param>
    /// <param name="options">The options.</param>
    /// <param name="name">The host's name (ML.NET's log).</param>
    /// <param name="what">The trainer in the options error ("Invalid {what} options: ...").</param>
    /// <exception cref="ArgumentException">Some options are invalid; the message lists each.</exception>
    private protected EarlyExitTrainer(IHostEnvironment env, TOptions options, string name, string what)
    {
        ArgumentNullException.ThrowIfNull(env);
        TrainerFitting.CheckOptions(options, what);
        Env = env;
        Host = env.Register(name);
        TrainerOptions = options;
    }

    /// <summary>The catalog's environment, which the fitted transformer registers with.</summary>
    private protected IHostEnvironment Env { get; }

    /// <summary>The trainer's host (training logs to its channel).</summary>
    private protected IHost Host { get; }

    /// <summary>The checked options.</summary>
    private protected TOptions TrainerOptions { get; }

    /// <summary>Trains on <paramref name="input"/>, holding out <see cref="EarlyExitTrainerOptions.ValidationFraction"/> of it for validation, if set.</summary>
    public TTransformer Fit(IDataView input) => Fit(input, validationData: null);

    /// <summary>Trains on <paramref name="trainData"/>, selecting the best epoch (and stopping early, if set) on <paramref name="validationData"/>.</summary>
    /// <param name="trainData">The training rows.</param>
    /// <param name="validationData">Validation rows with the same columns, or null (then <see cref="EarlyExitTrainerOptions.ValidationFraction"/> applies).</param>
    public abstract TTransformer Fit(IDataView trainData, IDataView? validationData);

    /// <inheritdoc />
    public abstract SchemaShape GetOutputSchema(SchemaShape inputSchema);
}
