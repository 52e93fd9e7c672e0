// An exported token-level early-exit labeller scored by ONNX Runtime: the deployable of a token
// classifier's ExportOnnx folder (Load), or of its graphs exported in memory (FromClassifier). Sentences are lists of words, chunked as the TorchSharp
// labeller chunks them (SentenceChunks); chunks of similar length are scored in batches with token-level
// exit and halt-and-copy (OnnxTokenExitScoring). No TorchSharp code runs.
using EarlyExit.Checkpoints;
using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.Tokenization;
using EarlyExit.Training;

namespace EarlyExit.OnnxRuntime;

/// <summary>Labels sentences with an ONNX export of an <see cref="EarlyExitTokenClassifier"/>, with token-level early exit on ONNX Runtime.</summary>
public sealed class OnnxTokenClassifier : OnnxClassifier<TokenExitCriterion>
{
    private OnnxTokenClassifier(Export export)
        : base(export)
    {
    }

    /// <summary>The index of the outside tag "O" (what words without tokens get), or -1 when the tags have none.</summary>
    public int OutsideTag => SentenceChunks.OutsideTag(Labels);

    /// <summary>Opens the ONNX export of a token classifier in <paramref name="folder"/> (written by <see cref="EarlyExitClassifier{TCriterion}.ExportOnnx"/>).</summary>
    /// <param name="folder">The export folder.</param>
    /// <param name="options">Threads and graph optimisation; null for the defaults.</param>
    /// <exception cref="FileNotFoundException">The folder lacks the manifest or a file it names.</exception>
    /// <exception cref="InvalidDataException">The manifest is invalid, newer than this reader or of a text classifier, or ONNX Runtime cannot load a graph.</exception>
    public static OnnxTokenClassifier Load(string folder, OnnxRuntimeOptions? options = null) =>
        Open(folder, OnnxFolder.TokenFormat, options, TokenExitCriterion.Parse).Into(e => new OnnxTokenClassifier(e));

    /// <summary>
    /// The ONNX Runtime backend of a token classifier in this process, without files: its graphs are exported in
    /// memory and opened. It scores the weights as they are now, with the classifier's tokenizer, tags and exit
    /// criterion; the classifier stays usable and can be disposed independently.
    /// </summary>
    /// <param name="classifier">The trained token classifier (on any device; its weights are copied).</param>
    /// <param name="options">Threads and graph optimisation; null for the defaults.</param>
    public static OnnxTokenClassifier FromClassifier(EarlyExitTokenClassifier classifier, OnnxRuntimeOptions? options = null) =>
        Open(classifier, options).Into(e => new OnnxTokenClassifier(e));

    /// <summary>
    /// Labels <paramref name="sentences"/> (lists of words) with token-level early exit, in input order. Gives the
    /// tags and exit layers of <see cref="EarlyExitTokenClassifier.Predict"/> on the model it was exported from.
    /// </summary>
    /// <param name="sentences">The sentences.</param>
    /// <param name="criterion">The exit criterion; null for <see cref="OnnxClassifier{TCriterion}.ExitCriterion"/>.</param>
    /// <param name="batchSize">Chunks scored together.</param>
    /// <exception cref="InvalidOperationException">A fixed layer past the last.</exception>
    /// <exception cref="ArgumentNullException">A sentence or word is null.</exception>
    public SentencePrediction[] Predict(IReadOnlyList<IReadOnlyList<string>> sentences, TokenExitCriterion? criterion = null, int batchSize = TokenExitDefaults.BatchSize)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        criterion ??= ExitCriterion;
        EnsureSupported(criterion);
        SentenceChunks chunks = SentenceChunks.Of(Tokenizer, sentences, MaxSequenceLength, OutsideTag);
        return chunks.Assemble(Predict(chunks.Inputs, criterion, batchSize));
    }

    /// <summary>
    /// Token-level predictions for chunks already encoded (word encodings within the length limit), in batches of similar
    /// length; the criterion already checked. <paramref name="packed"/> false: the layout before packing (OnnxTokenExitScoring).
    /// </summary>
    internal TokenPrediction[] Predict(IReadOnlyList<TokenizedInput> chunks, TokenExitCriterion criterion, int batchSize, bool packed = true) =>
        LengthBatches.Map(chunks, i => i.Length, batchSize, batch => OnnxTokenExitScoring.ScoreBatch(Graphs, Manifest, batch, criterion, packed));

    private protected override void PredictWarmUp(int rows, int batchSize) =>
        Predict(Enumerable.Repeat(WarmUpInput.Words, rows).ToArray(), TokenExitCriterion.Full(), batchSize);

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">A fixed layer past the last.</exception>
    public override void EnsureSupported(TokenExitCriterion criterion)
    {
        ArgumentNullException.ThrowIfNull(criterion);
        criterion.EnsureServes(NumLayers);
    }
}
