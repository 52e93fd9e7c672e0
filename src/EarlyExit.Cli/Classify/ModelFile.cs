using EarlyExit.Devices;
using EarlyExit.ExitCriteria;
using EarlyExit.MLNet.Palbert;
using Microsoft.ML;

namespace EarlyExit.Cli.Classify;

/// <summary>A model zip written by <c>classify train</c>, loaded: the ML.NET chain and its Palbert transformer.</summary>
internal sealed class ModelFile : ModelZipFile<PalbertTransformer, EarlyExitTextClassifier, ExitCriterion>
{
    private ModelFile(string path, ITransformer model, PalbertTransformer palbert)
        : base(path, model, palbert)
    {
    }

    /// <summary>The early-exit classifier inside the chain.</summary>
    public PalbertTransformer Palbert => Transformer;

    /// <summary>Whether the model was trained on sentence pairs.</summary>
    public bool IsPair => Palbert.Columns.Sentence2 is not null;

    /// <summary>Loads <paramref name="path"/>, onto <paramref name="device"/> when given (else $EARLYEXIT_DEVICE, default auto).</summary>
    /// <exception cref="CliException">The file is missing, is not a model written by classify train, or is a regression model.</exception>
    public static ModelFile Load(MLContext ml, string path, DeviceOption? device = null) =>
        Load(ml, path, "classify",
            p => p.Columns.Sentence1 == ClassificationRow.Sentence1Column,
            p => p is null ? "it has no Palbert classifier"
                : $"its Palbert classifier reads column '{p.Columns.Sentence1}', not '{ClassificationRow.Sentence1Column}'; the classify commands read the columns they train with, " +
                  "so score a model of your own ML.NET pipeline through ML.NET (mlContext.Model.Load, then Transform)",
            (model, palbert) => new ModelFile(path, model, palbert), device,
            file =>
            {
                if (file.Palbert.IsRegression)
                {
                    throw new CliException($"Model '{path}' is a regression model (Regression.Trainers.Palbert); the classify commands serve classifiers. " +
                        "Score it through ML.NET: mlContext.Model.Load, then Transform gives Score and ExitLayer.");
                }
            });

    /// <summary>
    /// Checks, from the zip's settings alone (<see cref="ModelZip.Peek"/>), what can be checked before the weights load:
    /// a fixed exit layer (in <paramref name="criteria"/>: the --exit-criterion or a --grid) past the model's depth,
    /// and labels of the <paramref name="data"/> sets (null ones skipped) the model does not know.
    /// </summary>
    /// <exception cref="CliException">One of those mistakes.</exception>
    public static void CheckBeforeLoading(string path, IEnumerable<ExitCriterion?>? criteria, params ClassificationData?[] data)
    {
        if (PeekFamily(path, "classify") is not { } peek)
        {
            return; // the full load reports what is wrong with the file
        }

        peek.RequireLayers(path, "score", criteria?.OfType<FixedLayerExitCriterion>().Select(c => (c.Name, c.Layer)) ?? []);
        foreach (ClassificationData? set in data)
        {
            set?.RequireKnownLabels(peek.Labels, $"the model '{path}'");
        }
    }

    /// <summary>Checks that the user's columns match how the model was trained (single texts or pairs).</summary>
    /// <exception cref="CliException">A pair model without --text-pair-column, or a single-text model with it.</exception>
    public void CheckPairing(bool dataIsPair)
    {
        if (IsPair && !dataIsPair)
        {
            throw new CliException($"Model '{Path}' was trained on sentence pairs; name the second text with --text-pair-column.");
        }

        if (!IsPair && dataIsPair)
        {
            throw new CliException($"Model '{Path}' was trained on single texts; drop --text-pair-column.");
        }
    }
}
