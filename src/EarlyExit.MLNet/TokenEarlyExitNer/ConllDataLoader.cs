using EarlyExit.Sequence;
using Microsoft.ML;

namespace EarlyExit.MLNet.TokenEarlyExitNer;

/// <summary>One sentence of a CoNLL file as an ML.NET row: its words, its tags and where it starts.</summary>
public sealed class ConllSentenceRow
{
    /// <summary>The words.</summary>
    public string[] Tokens { get; set; } = [];

    /// <summary>The tags, one per word.</summary>
    public string[] Label { get; set; } = [];

    /// <summary>The 1-based line of the sentence's first word in the file.</summary>
    public int Line { get; set; }
}

/// <summary>Loads CoNLL-format files (one word per line, blank lines between sentences, <c>-DOCSTART-</c> lines skipped) into IDataViews.</summary>
public static class ConllDataLoader
{
    /// <summary>
    /// Reads a CoNLL file into an IDataView with columns Tokens (vector of strings), Label (vector of tag
    /// strings, same length) and Line (Int32), one row per sentence.
    /// </summary>
    /// <param name="catalog">mlContext.Data.</param>
    /// <param name="path">The file.</param>
    /// <param name="options">Word and tag columns and the separator; null for CoNLL-2003 (words first, NER tags last).</param>
    /// <param name="convertTo">Convert the tags to this scheme (e.g. IOB1 files to IOB2), or null to keep them as they are.</param>
    /// <param name="from">The file's scheme when converting; null detects it from the tags.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ConllFormatException">A malformed line; the message names the file and the line.</exception>
    /// <exception cref="TagSequenceException">A tag that does not fit the scheme when converting.</exception>
    public static IDataView LoadFromConllFile(this DataOperationsCatalog catalog, string path, ConllReaderOptions? options = null, TagScheme? convertTo = null, TagScheme? from = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ConllCorpus corpus = ConllReader.Read(path, options);
        TagScheme source = from ?? TagSchemes.Detect(corpus.Sentences.Select(s => s.Tags)).Scheme;
        ConllSentenceRow[] rows = corpus.Sentences.Select(s => new ConllSentenceRow
        {
            Tokens = s.Words.ToArray(),
            Label = convertTo is TagScheme target ? TagSchemes.Convert(s.Tags, source, target) : s.Tags.ToArray(),
            Line = s.FirstLine,
        }).ToArray();
        return catalog.LoadFromEnumerable(rows);
    }
}
