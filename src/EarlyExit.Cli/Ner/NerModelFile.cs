using EarlyExit.Devices;
using EarlyExit.MLNet.TokenExitNer;
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
        Scheme = NerData.SchemeOfTags(ner.TagNames);
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
        if (Directory.Exists(path))
        {
            throw new CliException($"--model '{path}' is a folder; name the model .zip written by 'earlyexit ner train'.");
        }

        if (!File.Exists(path))
        {
            throw new CliException($"Model file '{path}' does not exist; train one with 'earlyexit ner train ... --out {path}'.");
        }

        ITransformer model;
        try
        {
            model = ml.Model.Load(path, out _);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new CliException($"Cannot load model '{path}': {e.Message.TrimEnd('.')}. Is it a model .zip written by 'earlyexit ner train'?", e);
        }

        TokenEarlyExitNerTransformer? ner = (model as IEnumerable<ITransformer>)?.OfType<TokenEarlyExitNerTransformer>().FirstOrDefault() ?? model as TokenEarlyExitNerTransformer;
        if (ner is null || ner.Columns.Tokens != nameof(ConllSentenceRow.Tokens))
        {
            (model as IDisposable)?.Dispose();
            ner?.Dispose();
            throw new CliException(
                $"'{path}' is an ML.NET model but not one written by 'earlyexit ner train' (it has no token-exit labeller reading column '{nameof(ConllSentenceRow.Tokens)}')" +
                $"{((model as IEnumerable<ITransformer>)?.Any(t => t.GetType().Name == "PalbertTransformer") == true ? "; it is a text classifier: use 'earlyexit classify'" : "")}.");
        }

        var file = new NerModelFile(path, model, ner);
        try
        {
            if (device is not null)
            {
                ner.Labeller.MoveTo(device);
            }

            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Frees the model.</summary>
    public void Dispose() => Ner.Dispose();
}
