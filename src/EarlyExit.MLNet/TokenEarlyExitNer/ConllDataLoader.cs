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
    /// <summary>CoNLL-2003's other tag columns, for <c>otherColumns</c>: PartOfSpeech (file column 1) and Chunk (file column 2).</summary>
    public static IReadOnlyDictionary<string, int> Conll2003Columns { get; } = new Dictionary<string, int>(StringComparer.Ordinal) { ["PartOfSpeech"] = 1, ["Chunk"] = 2 };

    /// <summary>
    /// Reads a CoNLL file into an IDataView with columns Tokens (vector of strings), Label (vector of tag
    /// strings, same length) and Line (Int32), one row per sentence, plus one vector of strings per entry
    /// of <paramref name="otherColumns"/> (e.g. part of speech, for auxiliary tag tasks).
    /// </summary>
    /// <param name="catalog">mlContext.Data.</param>
    /// <param name="path">The file.</param>
    /// <param name="options">Word and tag columns and the separator; null for CoNLL-2003 (words first, NER tags last).</param>
    /// <param name="convertTo">Convert the tags to this scheme (e.g. IOB1 files to IOB2), or null to keep them as they are.</param>
    /// <param name="from">The file's scheme when converting; null detects it from the tags.</param>
    /// <param name="otherColumns">More file columns to load as they are: output column name to 0-based file column (negative counts from the end), e.g. <see cref="Conll2003Columns"/>; null for none.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ConllFormatException">A malformed line, or a sentence without a column of <paramref name="otherColumns"/>; the message names the file and the line.</exception>
    /// <exception cref="TagSequenceException">A tag that does not fit the scheme when converting.</exception>
    /// <exception cref="ArgumentException">An entry of <paramref name="otherColumns"/> is named Tokens, Label or Line, or has an empty name.</exception>
    public static IDataView LoadFromConllFile(this DataOperationsCatalog catalog, string path, ConllReaderOptions? options = null, TagScheme? convertTo = null, TagScheme? from = null,
        IReadOnlyDictionary<string, int>? otherColumns = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        string[] reserved = [nameof(ConllSentenceRow.Tokens), nameof(ConllSentenceRow.Label), nameof(ConllSentenceRow.Line)];
        foreach (string name in (otherColumns ?? new Dictionary<string, int>()).Keys)
        {
            if (string.IsNullOrWhiteSpace(name) || reserved.Contains(name, StringComparer.Ordinal))
            {
                throw new ArgumentException($"otherColumns names a column '{name}'; use a non-empty name other than {string.Join(", ", reserved)}.", nameof(otherColumns));
            }
        }

        ConllCorpus corpus = ConllReader.Read(path, options);
        TagScheme source = from ?? TagSchemes.Detect(corpus.Sentences.Select(s => s.Tags)).Scheme;
        var columns = new List<(string Name, string[][] Values)>
        {
            (reserved[0], corpus.Sentences.Select(s => s.Words.ToArray()).ToArray()),
            (reserved[1], corpus.Sentences.Select(s => convertTo is TagScheme target ? TagSchemes.Convert(s.Tags, source, target) : s.Tags.ToArray()).ToArray()),
        };
        foreach (var (name, index) in otherColumns ?? new Dictionary<string, int>())
        {
            columns.Add((name, corpus.Sentences.Select(s => Column(corpus, s, name, index)).ToArray()));
        }

        return new ConllDataView(columns, reserved[2], corpus.Sentences.Select(s => s.FirstLine).ToArray());
    }

    private static string[] Column(ConllCorpus corpus, ConllSentence sentence, string name, int index) =>
        index < sentence.ColumnCount && index >= -sentence.ColumnCount
            ? sentence.Column(index).ToArray()
            : throw new ConllFormatException(corpus.Source, sentence.FirstLine,
                $"column '{name}' reads file column {index}, but the sentence's lines have {sentence.ColumnCount} columns (0 to {sentence.ColumnCount - 1}, or -1 to -{sentence.ColumnCount} from the end)");
}
