using EarlyExit.Tests.Training;
using EarlyExit.Tokenization;

namespace EarlyExit.Tests.Tokenization;

public class WordChunkerTests
{
    [Fact]
    public void Encode_ShortSentence_IsOneChunk()
    {
        IReadOnlyList<WordChunk> chunks = WordChunker.Encode(ToyNer.Tokenizer, ["john", "smith", "visited", "paris"], 32);

        WordChunk chunk = Assert.Single(chunks);
        Assert.Equal((0, 4), (chunk.Start, chunk.Count));
    }

    [Fact]
    public void Encode_LongSentence_ChunksCoverEveryWordOnceAndFit()
    {
        string[] words = Enumerable.Range(0, 300).Select(i => i % 7 == 0 ? "unbelievably" : "word").ToArray();

        IReadOnlyList<WordChunk> chunks = WordChunker.Encode(ToyNer.Tokenizer, words, 32);

        Assert.True(chunks.Count > 1);
        Assert.Equal(Enumerable.Range(0, 300), chunks.SelectMany(c => Enumerable.Range(c.Start, c.Count)));
        Assert.All(chunks, c => Assert.InRange(c.Input.Length, 3, 32));
        Assert.All(chunks, c => Assert.Equal(c.Count, c.Input.WordIds!.Max() + 1));
    }

    [Fact]
    public void Encode_MaxLengthBelowOneWord_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => WordChunker.Encode(ToyNer.Tokenizer, ["a"], 2));
    }
}
