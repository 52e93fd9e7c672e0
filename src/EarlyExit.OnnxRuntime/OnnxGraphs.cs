// The ONNX Runtime sessions of one exported classifier (Checkpoints/OnnxFolder.cs in Core): the
// embeddings, one per layer graph file (ALBERT's steps share one) and one per exit graph file. Each
// call runs one graph and hands its outputs to the caller, who disposes them (Run's result list
// disposes its values only when it is disposed itself, and it is not).
using EarlyExit.Checkpoints;
using EarlyExit.Tokenization;
using Microsoft.ML.OnnxRuntime;

namespace EarlyExit.OnnxRuntime;

/// <summary>What one layer's exit graph said: scores and, with a halting head, pooled states and halting probabilities.</summary>
internal sealed class ExitOutputs(OrtValue? pooled, OrtValue scores, OrtValue? halting) : IDisposable
{
    public OrtValue? Pooled { get; private set; } = pooled;

    public OrtValue Scores { get; } = scores;

    public OrtValue? Halting { get; } = halting;

    /// <summary>Hands the pooled states over to the caller, who disposes them.</summary>
    public OrtValue? TakePooled()
    {
        OrtValue? pooled = Pooled;
        Pooled = null;
        return pooled;
    }

    public void Dispose()
    {
        Pooled?.Dispose();
        Scores.Dispose();
        Halting?.Dispose();
    }
}

/// <summary>ONNX Runtime tensors over host arrays (the array is pinned while the value lives).</summary>
internal static class OrtTensors
{
    public static OrtValue Of<T>(T[] values, params long[] shape)
        where T : unmanaged => OrtValue.CreateTensorValueFromMemory(values, shape);
}

/// <summary>The sessions of an exported classifier's graphs.</summary>
internal sealed class OnnxGraphs : IDisposable
{
    private static readonly string[] s_hiddenOutput = [OnnxNames.HiddenState];
    // The pooled states only feed the next layer's halting head: a model without one asks for the scores alone.
    private static readonly string[] s_exitOutputs = [OnnxNames.Scores];
    private static readonly string[] s_haltingExitOutputs = [OnnxNames.Scores, OnnxNames.Pooled, OnnxNames.Halting];
    private static readonly string[] s_tokenLayerOutputs = [OnnxNames.HiddenState, OnnxNames.ActiveState];

    private readonly InferenceSession _embeddings;
    private readonly InferenceSession[] _layers;
    private readonly InferenceSession[] _exits;
    private readonly List<InferenceSession> _all;
    private readonly RunOptions _run = new();
    private readonly bool _halting;

    private OnnxGraphs(InferenceSession embeddings, InferenceSession[] layers, InferenceSession[] exits, List<InferenceSession> all, bool halting)
    {
        _embeddings = embeddings;
        _layers = layers;
        _exits = exits;
        _all = all;
        _halting = halting;
    }

    /// <summary>Opens every graph the manifest names from the files in <paramref name="folder"/>, each file once.</summary>
    public static OnnxGraphs Open(string folder, OnnxManifest manifest, OnnxRuntimeOptions options) =>
        Open(manifest, options, (file, settings) =>
        {
            string path = Path.Combine(folder, file);
            try
            {
                return new InferenceSession(path, settings);
            }
            catch (OnnxRuntimeException e)
            {
                throw new InvalidDataException($"ONNX Runtime cannot load '{path}': {e.Message} Export the model again with this version of EarlyExit.MLNet.", e);
            }
        });

    /// <summary>Opens every graph the manifest names from <paramref name="models"/> (file name to ONNX model), each once.</summary>
    public static OnnxGraphs Open(IReadOnlyDictionary<string, byte[]> models, OnnxManifest manifest, OnnxRuntimeOptions options) =>
        Open(manifest, options, (file, settings) => new InferenceSession(models[file], settings));

    private static OnnxGraphs Open(OnnxManifest manifest, OnnxRuntimeOptions options, Func<string, SessionOptions, InferenceSession> open)
    {
        var sessions = new Dictionary<string, InferenceSession>(StringComparer.Ordinal);
        using SessionOptions settings = options.ToSessionOptions();
        try
        {
            InferenceSession Session(string file)
            {
                if (!sessions.TryGetValue(file, out InferenceSession? session))
                {
                    session = open(file, settings);
                    sessions[file] = session;
                }

                return session;
            }

            InferenceSession embeddings = Session(manifest.Embeddings);
            InferenceSession[] layers = manifest.Layers.Select(Session).ToArray();
            InferenceSession[] exits = manifest.Exits.Select(Session).ToArray();
            return new OnnxGraphs(embeddings, layers, exits, sessions.Values.ToList(), manifest.HasHaltingHead);
        }
        catch
        {
            foreach (InferenceSession session in sessions.Values)
            {
                session.Dispose();
            }

            throw;
        }
    }

    /// <summary>A padded batch's token ids and types [R, T] to the first hidden state [R, T, H].</summary>
    public OrtValue Embed(PaddedTokens padded)
    {
        using OrtValue ids = OrtTensors.Of(padded.InputIds, padded.Count, padded.Length);
        using OrtValue types = OrtTensors.Of(padded.TokenTypeIds, padded.Count, padded.Length);
        return RunOne(_embeddings, new Dictionary<string, OrtValue> { [OnnxNames.InputIds] = ids, [OnnxNames.TokenTypeIds] = types });
    }

    /// <summary>Layer step <paramref name="layer"/>: [R, T, H] and the 0/1 mask [R, T] to [R, T, H].</summary>
    public OrtValue Layer(int layer, OrtValue hidden, OrtValue attentionMask) =>
        RunOne(_layers[layer], new Dictionary<string, OrtValue> { [OnnxNames.Hidden] = hidden, [OnnxNames.AttentionMask] = attentionMask });

    /// <summary>
    /// Token layer step <paramref name="layer"/> for the positions <paramref name="queryIndex"/> [R, Q] (padded), packed by
    /// <paramref name="packIndex"/> [N] (r * Q + q of the real ones) and written back at <paramref name="tokenIndex"/> [N]
    /// (r * T + t): the next states of every token [R, T, H] (the others copied) and the computed ones [N, H]. The caller
    /// disposes both.
    /// </summary>
    public (OrtValue Next, OrtValue Active) TokenLayer(int layer, OrtValue hidden, OrtValue attentionMask, OrtValue queryIndex, OrtValue packIndex, OrtValue tokenIndex)
    {
        var inputs = new Dictionary<string, OrtValue>
        {
            [OnnxNames.Hidden] = hidden,
            [OnnxNames.AttentionMask] = attentionMask,
            [OnnxNames.QueryIndex] = queryIndex,
            [OnnxNames.PackIndex] = packIndex,
            [OnnxNames.TokenIndex] = tokenIndex,
        };
        IReadOnlyList<OrtValue> outputs = [.. _layers[layer].Run(_run, inputs, s_tokenLayerOutputs)];
        return (outputs[0], outputs[1]);
    }

    /// <summary>Off-ramp <paramref name="layer"/>'s tag probabilities [N, C] of the states [N, H].</summary>
    public OrtValue TokenScores(int layer, OrtValue states) =>
        RunOne(_exits[layer], new Dictionary<string, OrtValue> { [OnnxNames.Hidden] = states }, s_exitOutputs);

    /// <summary>The exit heads of layer <paramref name="layer"/>; <paramref name="previousPooled"/> [R, H] is read by a halting head only.</summary>
    public ExitOutputs Exit(int layer, OrtValue hidden, OrtValue attentionMask, OrtValue? previousPooled)
    {
        var inputs = new Dictionary<string, OrtValue> { [OnnxNames.Hidden] = hidden, [OnnxNames.AttentionMask] = attentionMask };
        if (_halting)
        {
            inputs[OnnxNames.PreviousPooled] = previousPooled ?? throw new ArgumentNullException(nameof(previousPooled), "The halting head reads the previous layer's pooled states.");
        }

        IReadOnlyList<OrtValue> outputs = [.. _exits[layer].Run(_run, inputs, _halting ? s_haltingExitOutputs : s_exitOutputs)];
        return _halting ? new ExitOutputs(outputs[1], outputs[0], outputs[2]) : new ExitOutputs(null, outputs[0], null);
    }

    public void Dispose()
    {
        foreach (InferenceSession session in _all)
        {
            session.Dispose();
        }

        _run.Dispose();
    }

    // The caller owns the returned value; the collection around it holds nothing else to free.
    private OrtValue RunOne(InferenceSession session, Dictionary<string, OrtValue> inputs, string[]? outputs = null) => session.Run(_run, inputs, outputs ?? s_hiddenOutput)[0];
}
