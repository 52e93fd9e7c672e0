// Batched early-exit scoring on ONNX Runtime, layer by layer over a chunk of rows (one batch, or several).
//
// As in Core's EarlyExitScoring, rows that exit leave their batch and the rest run the next layer:
//   - a batch whose rows all go on keeps its tensors: the layer's output is the next layer's input,
//     without a copy (at full depth nothing is ever copied);
//   - the rows that go on from a batch that lost rows are copied out (their real tokens and pooled
//     states) and grouped again, by length, into batches cut to their longest row.
// With a chunk of several batches, the rows that go on from all of them are grouped together, so deeper
// layers run full batches instead of a few rows per batch. Measured on SST-2 dev with MiniLM
// (bench/BackendSpeed --regroup, 2026-12-03), that gained nothing: one batch per chunk ran as fast or
// faster (entropy:0.95 741 against 688 rows/s; full depth 415 against 398), as regrouped rows of different
// lengths pad more and ONNX Runtime's products lose little on small batches. So chunks are one batch.
//
// Each row's decisions depend only on its own outputs, so a row gets the same prediction and exit
// layer whatever rows share its batches (up to float rounding), as in the TorchSharp scorer.
using EarlyExit.Checkpoints;
using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.Tokenization;
using Microsoft.ML.OnnxRuntime;

namespace EarlyExit.OnnxRuntime;

internal static class OnnxEarlyExitScoring
{
    /// <summary>
    /// Scores <paramref name="inputs"/> (at least one) with early exit: all of them through a layer in
    /// batches of <paramref name="batchSize"/> rows of similar length, then the rows still running
    /// through the next. Predictions in input order.
    /// </summary>
    public static ClassificationPrediction[] ScoreChunk(OnnxGraphs graphs, OnnxManifest manifest, IReadOnlyList<TokenizedInput> inputs, ExitCriterion criterion, int batchSize)
    {
        int layers = manifest.NumLayers;
        int classes = manifest.Labels.Length;
        var rows = new RowStates(inputs, manifest.HiddenSize, manifest.HasHaltingHead);
        ExitDecider decider = EarlyExitScoring.CreateDecider(criterion, inputs, layers, classes, manifest.HasHaltingHead);
        List<float>[]? lambdas = EarlyExitScoring.HaltingLog(manifest.HasHaltingHead, inputs.Count, layers);
        var batches = new List<Batch>();
        var next = new List<Batch>();
        try
        {
            foreach (int[] members in Enumerable.Range(0, inputs.Count).OrderBy(r => inputs[r].Length).Chunk(batchSize))
            {
                PaddedTokens padded = PaddedTokens.Of(members.Select(r => inputs[r]).ToArray(), manifest.PadTokenId);
                batches.Add(new Batch(members, graphs.Embed(padded), OrtTensors.Of(padded.AttentionMask, members.Length, padded.Length), rows.InitialPooled(members)));
            }

            for (int layer = 0; layer < layers && batches.Count > 0; layer++)
            {
                next = new List<Batch>(batches.Count);
                var loose = new List<int>();
                foreach (Batch batch in batches)
                {
                    OrtValue output = graphs.Layer(layer, batch.Hidden, batch.Mask);
                    bool handedOn = false;
                    try
                    {
                        using ExitOutputs exit = graphs.Exit(layer, output, batch.Mask, batch.Pooled);
                        List<long> keep = EarlyExitScoring.Observe(decider, batch.Rows, layer, exit.Scores.GetTensorDataAsSpan<float>(), classes,
                            exit.Halting is null ? default : exit.Halting.GetTensorDataAsSpan<float>(), lambdas);
                        if (keep.Count == batch.Rows.Length)
                        {
                            next.Add(batch.Continue(output, exit.TakePooled()));
                            handedOn = true;
                            continue;
                        }

                        int[] positions = keep.Select(k => (int)k).ToArray();
                        rows.CopyOut(batch.Rows, positions, output, exit.Pooled);
                        loose.AddRange(positions.Select(p => batch.Rows[p]));
                        batch.Dispose();
                    }
                    finally
                    {
                        if (!handedOn)
                        {
                            output.Dispose();
                        }
                    }
                }

                // The rows that go on from batches that lost rows, grouped again into full batches by length.
                foreach (int[] members in loose.OrderBy(r => inputs[r].Length).Chunk(batchSize))
                {
                    next.Add(rows.Gather(members));
                }

                batches = next;
            }
        }
        finally
        {
            foreach (Batch batch in batches.Union(next)) // a batch that went on is in both lists
            {
                batch.Dispose();
            }
        }

        return EarlyExitScoring.Predictions(decider, lambdas, layers);
    }

    /// <summary>Rows running through the layers together: hidden [n, T, H], mask [n, T] and (with a halting head) pooled [n, H].</summary>
    private sealed class Batch(int[] rows, OrtValue hidden, OrtValue mask, OrtValue? pooled) : IDisposable
    {
        private bool _disposed;

        public int[] Rows { get; } = rows;

        public OrtValue Hidden { get; private set; } = hidden;

        public OrtValue Mask { get; } = mask;

        public OrtValue? Pooled { get; private set; } = pooled;

        /// <summary>The same rows after a layer: its output and pooled states replace this batch's, which are freed.</summary>
        public Batch Continue(OrtValue hidden, OrtValue? pooled)
        {
            Hidden.Dispose();
            Pooled?.Dispose();
            Hidden = hidden;
            Pooled = pooled;
            return this;
        }

        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            Hidden.Dispose();
            Mask.Dispose();
            Pooled?.Dispose();
        }
    }

    /// <summary>The states of rows that left their batch: each row's hidden state over its real tokens, and its pooled state.</summary>
    private sealed class RowStates(IReadOnlyList<TokenizedInput> inputs, int width, bool keepsPooled)
    {
        private readonly float[]?[] _hidden = new float[inputs.Count][];
        private readonly float[]?[] _pooled = new float[inputs.Count][];

        /// <summary>Zeros for the halting head of layer 1, [n, H]; null without a halting head.</summary>
        public OrtValue? InitialPooled(int[] members) => keepsPooled ? OrtTensors.Of(new float[members.Length * width], members.Length, width) : null;

        /// <summary>Copies the rows at <paramref name="positions"/> of a batch's layer output [n, T, H] and pooled states [n, H] out.</summary>
        public void CopyOut(int[] members, int[] positions, OrtValue output, OrtValue? pooled)
        {
            ReadOnlySpan<float> states = output.GetTensorDataAsSpan<float>();
            int length = states.Length / (members.Length * width);
            foreach (int position in positions)
            {
                int row = members[position];
                _hidden[row] = states.Slice(position * length * width, inputs[row].Length * width).ToArray();
                if (pooled is not null)
                {
                    _pooled[row] = pooled.GetTensorDataAsSpan<float>().Slice(position * width, width).ToArray();
                }
            }
        }

        /// <summary>A batch of copied-out rows (sorted by length), zero-padded to the longest.</summary>
        public Batch Gather(int[] members)
        {
            int length = inputs[members[^1]].Length;
            var hidden = new float[members.Length * length * width];
            var mask = new long[members.Length * length];
            var pooled = keepsPooled ? new float[members.Length * width] : null;
            for (int i = 0; i < members.Length; i++)
            {
                int row = members[i];
                _hidden[row]!.CopyTo(hidden.AsSpan(i * length * width));
                _hidden[row] = null;
                int[] attention = inputs[row].AttentionMask;
                for (int t = 0; t < attention.Length; t++)
                {
                    mask[(i * length) + t] = attention[t];
                }

                if (pooled is not null)
                {
                    _pooled[row]!.CopyTo(pooled.AsSpan(i * width));
                    _pooled[row] = null;
                }
            }

            return new Batch(members, OrtTensors.Of(hidden, members.Length, length, width), OrtTensors.Of(mask, members.Length, length), pooled is null ? null : OrtTensors.Of(pooled, members.Length, width));
        }
    }
}
