using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.OnnxRuntime.Tests.TestSupport;
using EarlyExit.Tests.TestSupport;
using EarlyExit.Tests.Training;
using EarlyExit.Tokenization;
using EarlyExit.Training;
using static TorchSharp.torch;

namespace EarlyExit.OnnxRuntime.Tests;

/// <summary>
/// Token-level exit on ONNX Runtime against the TorchSharp labeller it was exported from: the same tags and
/// exit layers of every word under every criterion (SENTEE, TOKEE with halt-and-copy, fixed layers), for
/// each family, with long sentences chunked alike.
/// </summary>
[Collection("Torch")]
public sealed class OnnxTokenParityTests : IDisposable
{
    private static readonly string[] s_criteria =
        ["full", "layer:1", "layer:2", "tokee:0.3", "tokee:0.6:3", "tokee:0.9:1:first", "tokee:0.99", "sentee:0.5", "sentee:0.9:mean", "sentee:0.99:max:first"];

    private const int ToyNerSentences = 30;

    private readonly string _root = Directory.CreateTempSubdirectory("onnx-token-parity-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData("random-bert-tiny")]
    [InlineData("random-albert-tiny")]
    [InlineData("random-electra-tiny")]
    [InlineData("random-roberta-tiny")]
    public void Export_EachFamily_LabelsAsTorchOnEveryCriterion(string checkpoint)
    {
        using PretrainedEncoder backbone = PretrainedEncoder.Load(SharedAssets.Model(checkpoint), Options());
        using EarlyExitTokenClassifier labeller = EarlyExitTokenClassifier.Create(backbone, ToyNer.Tags, 16, TokenExitCriterion.Tokee(0.3), dropout: 0, seed: 1);

        (int mixedRows, _) = AssertParity(labeller, s_criteria);

        Assert.True(mixedRows > 0, "Under no criterion did the tokens of one sentence stop at different layers.");
    }

    [Fact]
    public void Export_TrainedLabeller_HaltsTokensAndRowsAsTorch()
    {
        using EarlyExitTokenClassifier labeller = Trained();

        // The trained words are 0.3 to 0.55 uncertain at layer 1: thresholds there stop some words of a sentence and not others.
        (int mixedRows, int mixedBatches) = AssertParity(labeller, [.. s_criteria, "tokee:0.4:1", "tokee:0.5:1", "tokee:0.4:3:first"]);

        Assert.True(mixedRows > 0, "Under no criterion did the tokens of one sentence stop at different layers, so halt-and-copy never copied a token while its neighbours went on.");
        Assert.True(mixedBatches > 0, "Under no criterion did sentences stop at different layers, so no row ever left a batch while others went on.");
    }

    [Fact]
    public void FullDepthGraph_RunByPlainOnnxRuntime_GivesTheLastOffRampsProbabilities()
    {
        using EarlyExitTokenClassifier labeller = Trained(epochs: 0);
        string folder = Path.Combine(_root, "plain");
        labeller.ExportOnnx(folder);
        var inputs = ToyNer.Sentences(5, seed: 8).Select(s => labeller.Tokenizer.EncodeWords(s.Words, labeller.MaxSequenceLength)).ToArray();
        var padded = Tokenization.PaddedTokens.Of(inputs, labeller.PadTokenId);
        long[] shape = [padded.Count, padded.Length];
        float[] expected;
        using (no_grad())
        using (NewDisposeScope())
        {
            labeller.Model.eval();
            using var output = labeller.Model.Forward(tensor(padded.InputIds, shape), tensor(padded.TokenTypeIds, shape), tensor(padded.AttentionMask, shape));
            expected = output.Logits[^1].softmax(-1).data<float>().ToArray(); // [B, T, C]
        }

        (float[] actual, long[] actualShape) = OnnxTestSupport.RunFullDepthGraph(folder, padded);

        Assert.Equal([padded.Count, padded.Length, ToyNer.Tags.Length], actualShape);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4f, $"entry {i} is {actual[i]} on ONNX Runtime and {expected[i]} on TorchSharp.");
        }
    }

    [Fact]
    public void TextLoader_OnATokenExport_SaysWhichKindItIs()
    {
        using EarlyExitTokenClassifier labeller = Trained(epochs: 0);
        string folder = Path.Combine(_root, "tokens");
        labeller.ExportOnnx(folder);

        var error = Assert.Throws<InvalidDataException>(() => OnnxTextClassifier.Load(folder));
        using OnnxTokenClassifier onnx = OnnxTokenClassifier.Load(folder);

        Assert.Contains("earlyexit-onnx-token-classifier", error.Message);
        Assert.Equal(ToyNer.Tags, onnx.Labels);
        Assert.Equal(TokenExitCriterion.Tokee(0.3), onnx.ExitCriterion);
        Assert.Equal(0, onnx.OutsideTag);
        Assert.Throws<InvalidOperationException>(() => onnx.ExitCriterion = TokenExitCriterion.FixedLayer(3));
        Assert.Throws<ArgumentNullException>(() => onnx.Predict([new[] { "john", null!, "smith" }]));
    }

    // Torch against the folder export and the in-memory one, in batches of 8 and in one batch; counts the criteria under
    // which, in the one batch, the tokens of a plain sentence (one chunk, every word tokenized) stopped at different
    // layers, and those under which such sentences stopped at different layers (rows left the batch while others went on).
    private (int MixedRows, int MixedBatches) AssertParity(EarlyExitTokenClassifier labeller, IEnumerable<string> criteria)
    {
        string folder = Path.Combine(_root, Guid.NewGuid().ToString("N"));
        labeller.ExportOnnx(folder);
        using OnnxTokenClassifier fromFolder = OnnxTokenClassifier.Load(folder);
        using OnnxTokenClassifier inMemory = OnnxTokenClassifier.FromClassifier(labeller);
        // Toy sentences, one with a word the tokenizer drops, and long ones that take several chunks at 16 tokens.
        List<string[]> sentences = ToyNer.Sentences(ToyNerSentences, seed: 5).Select(s => s.Words).ToList();
        sentences.Add(["john", "\u200b", "smith"]);
        sentences.Add(ToyNer.Sentences(6, seed: 6).SelectMany(s => s.Words).ToArray());
        sentences.Add([]);
        Assert.Contains(sentences, s => labeller.Encode(s).Count > 1);
        TokenizedInput[] chunks = SentenceChunks.Of(labeller.Tokenizer, sentences.ToArray(), labeller.MaxSequenceLength, labeller.OutsideTag).Inputs;
        int[] plain = Enumerable.Range(0, ToyNerSentences).Where(s => labeller.Encode(sentences[s]).Count == 1).ToArray();
        int mixedRows = 0;
        int mixedBatches = 0;
        foreach (TokenExitCriterion criterion in criteria.Select(TokenExitCriterion.Parse))
        {
            foreach (int batchSize in new[] { 8, 64 })
            {
                SentencePrediction[] torch = labeller.Predict(sentences, criterion, batchSize);
                SentencePrediction[] ort = fromFolder.Predict(sentences, criterion, batchSize);
                SentencePrediction[] memory = inMemory.Predict(sentences, criterion, batchSize);
                TokenPrediction[] unpacked = fromFolder.Predict(chunks, criterion, batchSize, packed: false);
                TokenPrediction[] packed = fromFolder.Predict(chunks, criterion, batchSize);

                for (int s = 0; s < sentences.Count; s++)
                {
                    Assert.True(torch[s].Tags.SequenceEqual(ort[s].Tags), $"{criterion}, batch {batchSize}, sentence {s}: tags {string.Join(",", ort[s].Tags)} on ONNX Runtime, {string.Join(",", torch[s].Tags)} on TorchSharp.");
                    Assert.True(torch[s].ExitLayers.SequenceEqual(ort[s].ExitLayers), $"{criterion}, batch {batchSize}, sentence {s}: exit layers {string.Join(",", ort[s].ExitLayers)} on ONNX Runtime, {string.Join(",", torch[s].ExitLayers)} on TorchSharp.");
                    Assert.Equal(ort[s].Tags, memory[s].Tags);
                    Assert.Equal(ort[s].ExitLayers, memory[s].ExitLayers);
                }

                for (int c = 0; c < chunks.Length; c++) // the layout before packing gives the same
                {
                    Assert.Equal(packed[c].TokenClasses, unpacked[c].TokenClasses);
                    Assert.Equal(packed[c].TokenExitLayers, unpacked[c].TokenExitLayers);
                }

                if (batchSize == 64) // every chunk in one batch
                {
                    mixedRows += plain.Any(s => ort[s].ExitLayers.Distinct().Count() > 1) ? 1 : 0;
                    mixedBatches += plain.Select(s => ort[s].ExitLayer).Distinct().Count() > 1 ? 1 : 0;
                }
            }
        }

        return (mixedRows, mixedBatches);
    }

    private static EarlyExitTokenClassifier Trained(int epochs = 3)
    {
        using PretrainedEncoder backbone = PretrainedEncoder.FromPreset("tiny-bert", Options());
        EarlyExitTokenClassifier labeller = EarlyExitTokenClassifier.Create(backbone, ToyNer.Tags, 16, TokenExitCriterion.Tokee(0.3), dropout: 0, seed: 1);
        if (epochs > 0)
        {
            var examples = ToyNer.Sentences(300, seed: 3).Select(s => new TokenExample(labeller.Tokenizer.EncodeWords(s.Words, 16), s.Tags)).ToList();
            TokenTrainingOptions options = ToyNer.FastOptions();
            options.Epochs = epochs;
            options.SelfSamplingEpochs = 0;
            TokenClassifierTrainer.Train(labeller.Model, examples, null, options, labeller.PadTokenId);
        }

        return labeller;
    }

    private static PretrainedEncoderOptions Options() => OnnxTestSupport.EncoderOptions();
}
