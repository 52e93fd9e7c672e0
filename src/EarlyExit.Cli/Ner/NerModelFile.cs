using EarlyExit.Devices;
using EarlyExit.MLNet.TokenEarlyExitNer;
using EarlyExit.Sequence;
using Microsoft.ML;

namespace EarlyExit.Cli.Ner;

/// <summary>A model zip written by <c>ner train</c>, loaded: the ML.NET chain and its token-exit labeller.</summary>
internal sealed class NerModelFile : IDisposable
{
    private NerModelFile(string path, ITransformer model, TokenEarlyExitNerTransformer ner)
    {
        Path = path;
        Model = model;
        Ner = ner;
        Scheme = NerData.SchemeOfTags(ner.ClassNames);
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>The whole chain (MapValueToKey, TokenEarlyExitNer, MapKeyToValue).</summary>
    public ITransformer Model { get; }

    /// <summary>The labeller inside the chain.</summary>
    public TokenEarlyExitNerTransformer Ner { get; }

    /// <summary>The tag scheme of the model's tags.</summary>
    public TagScheme Scheme { get; }

    /// <summary>Loads <paramref name="path"/>, onto <paramref name="device"/> when given (else $EARLYEXIT_DEVICE, default auto).</summary>
    /// <exception cref="CliException">The file is missing or is not a model written by ner train.</exception>
    public static NerModelFile Load(MLContext ml, string path, DeviceOption? device = null)
    {
        (ITransformer model, TokenEarlyExitNerTransformer ner) = ModelZip.Load<TokenEarlyExitNerTransformer>(ml, path, "ner",
            t => t.Columns.Tokens == nameof(ConllSentenceRow.Tokens),
            t => t is null ? "it has no token-exit labeller"
                : $"its token-exit labeller reads column '{t.Columns.Tokens}', not '{nameof(ConllSentenceRow.Tokens)}'; the ner commands read the columns they train with, " +
                  "so label with a model of your own ML.NET pipeline through ML.NET (mlContext.Model.Load, then Transform)");
        var file = new NerModelFile(path, model, ner);
        try
        {
            if (device is not null)
            {
                ner.Classifier.MoveTo(device);
            }

            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Checks, from the zip's settings alone (<see cref="ModelZip.Peek"/>), what can be checked before the weights load:
    /// a fixed exit layer (in <paramref name="criteria"/>: the exit criterion or a --grid) past the model's depth,
    /// and gold tags of the <paramref name="data"/> sets (null ones skipped) the model does not know.
    /// </summary>
    /// <exception cref="CliException">One of those mistakes.</exception>
    public static void CheckBeforeLoading(string path, IEnumerable<ExitCriteria.TokenExitCriterion?>? criteria, params NerData?[] data)
    {
        if (ModelZip.Peek(path) is not { Family: "ner" } peek)
        {
            return; // the full load reports what is wrong with the file
        }

        peek.RequireLayers(path, "label with", criteria?.Where(c => c is { Mode: ExitCriteria.TokenExitMode.FixedLayer }).Select(c => (c!.Name, c.Layer)) ?? []);
        foreach (NerData? set in data)
        {
            if (set is { HasTags: true })
            {
                TagScheme scheme = NerData.SchemeOfTags(peek.Labels);
                set.RequireKnownTags(set.TagsIn(scheme), peek.Labels, $"the model '{path}'", scheme);
            }
        }
    }

    /// <summary>Frees the model.</summary>
    public void Dispose() => Ner.Dispose();
}
