using EarlyExit.Devices;
using EarlyExit.ExitCriteria;
using EarlyExit.MLNet.TokenEarlyExitNer;
using EarlyExit.Sequence;
using Microsoft.ML;

namespace EarlyExit.Cli.Ner;

/// <summary>A model zip written by <c>ner train</c>, loaded: the ML.NET chain and its token-exit labeller.</summary>
internal sealed class NerModelFile : ModelZipFile<TokenEarlyExitNerTransformer, EarlyExitTokenClassifier, TokenExitCriterion>
{
    private NerModelFile(string path, ITransformer model, TokenEarlyExitNerTransformer ner)
        : base(path, model, ner)
    {
        Scheme = NerData.SchemeOfTags(ner.ClassNames);
    }

    /// <summary>The labeller inside the chain.</summary>
    public TokenEarlyExitNerTransformer Ner => Transformer;

    /// <summary>The tag scheme of the model's tags.</summary>
    public TagScheme Scheme { get; }

    /// <summary>Loads <paramref name="path"/>, onto <paramref name="device"/> when given (else $EARLYEXIT_DEVICE, default auto).</summary>
    /// <exception cref="CliException">The file is missing or is not a model written by ner train.</exception>
    public static NerModelFile Load(MLContext ml, string path, DeviceOption? device = null) =>
        Load(ml, path, "ner",
            t => t.Columns.Tokens == nameof(ConllSentenceRow.Tokens),
            t => t is null ? "it has no token-exit labeller"
                : $"its token-exit labeller reads column '{t.Columns.Tokens}', not '{nameof(ConllSentenceRow.Tokens)}'; the ner commands read the columns they train with, " +
                  "so label with a model of your own ML.NET pipeline through ML.NET (mlContext.Model.Load, then Transform)",
            (model, ner) => new NerModelFile(path, model, ner), device);

    /// <summary>
    /// Checks, from the zip's settings alone (<see cref="ModelZip.Peek"/>), what can be checked before the weights load:
    /// a fixed exit layer (in <paramref name="criteria"/>: the exit criterion or a --grid) past the model's depth,
    /// and gold tags of the <paramref name="data"/> sets (null ones skipped) the model does not know.
    /// </summary>
    /// <exception cref="CliException">One of those mistakes.</exception>
    public static void CheckBeforeLoading(string path, IEnumerable<TokenExitCriterion?>? criteria, params NerData?[] data)
    {
        if (PeekFamily(path, "ner") is not { } peek)
        {
            return; // the full load reports what is wrong with the file
        }

        peek.RequireLayers(path, "label with", criteria?.Where(c => c is { Mode: TokenExitMode.FixedLayer }).Select(c => (c!.Name, c.Layer)) ?? []);
        foreach (NerData? set in data)
        {
            if (set is { HasTags: true })
            {
                TagScheme scheme = NerData.SchemeOfTags(peek.Labels);
                set.RequireKnownTags(set.TagsIn(scheme), peek.Labels, $"the model '{path}'", scheme);
            }
        }
    }
}
