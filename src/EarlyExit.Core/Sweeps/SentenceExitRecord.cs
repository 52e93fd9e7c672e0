// A TokenExitRecord of a list of sentences' chunks (Inference/SentenceChunks.cs) that answers per sentence.
using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.Tokenization;

namespace EarlyExit.Sweeps;


/// <summary>What every layer of a token-exit labeller says about a list of sentences; see <see cref="TokenExitRecord"/>.</summary>
internal sealed class SentenceExitRecord
{
    private readonly SentenceChunks _chunks;

    internal SentenceExitRecord(SentenceChunks chunks, TokenExitRecord record)
    {
        _chunks = chunks;
        Chunks = record;
    }

    /// <summary>The record of the chunks the sentences were labelled in.</summary>
    public TokenExitRecord Chunks { get; }

    /// <summary>How many sentences.</summary>
    public int Sentences => _chunks.SentenceCount;

    /// <summary>L.</summary>
    public int Layers => Chunks.Layers;

    /// <summary>Each sentence's word tags and exit layers under <paramref name="criterion"/>, without running the network (TOKEE: an estimate).</summary>
    public SentencePrediction[] Replay(TokenExitCriterion criterion) => _chunks.Assemble(Chunks.Replay(criterion));

    /// <summary>Each sentence's oracle word exits and tags (see <see cref="TokenExitRecord.Oracle"/>).</summary>
    /// <param name="wordLabels">Each sentence's 0-based gold tag per word, or null for agreement with full depth.</param>
    public SentencePrediction[] Oracle(IReadOnlyList<IReadOnlyList<int>>? wordLabels = null)
    {
        IReadOnlyList<IReadOnlyList<int>>? chunkLabels = null;
        if (wordLabels is not null)
        {
            if (wordLabels.Count != Sentences)
            {
                throw new ArgumentException($"{wordLabels.Count} label rows for {Sentences} sentences.", nameof(wordLabels));
            }

            chunkLabels = _chunks.Split(wordLabels);
        }

        (int[][] exits, int[][] tags) = Chunks.Oracle(chunkLabels);
        return _chunks.Predictions(tags, exits);
    }
}
