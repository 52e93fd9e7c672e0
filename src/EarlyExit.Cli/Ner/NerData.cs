// A CoNLL file as the ner commands use it: its sentences, their words, their tags (absent for
// words-only files, which only `ner score` accepts) and the file's tag scheme. Every problem becomes a
// CliException naming the file and the 1-based line: a sentence's words are consecutive lines, so
// word i of a sentence is on line FirstLine + i.
using EarlyExit.Sequence;

namespace EarlyExit.Cli.Ner;

/// <summary>The sentences of a CoNLL file, with the file's tag scheme.</summary>
internal sealed class NerData
{
    private static readonly System.Text.UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private NerData(string path, IReadOnlyList<ConllSentence> sentences, TagScheme? scheme)
    {
        Path = path;
        Sentences = sentences;
        Scheme = scheme;
        Words = sentences.Select(s => s.Words.ToArray()).ToArray();
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>The sentences, in file order.</summary>
    public IReadOnlyList<ConllSentence> Sentences { get; }

    /// <summary>Each sentence's words.</summary>
    public IReadOnlyList<string[]> Words { get; }

    /// <summary>The tag scheme of the file's tags (given or detected), or null for a words-only file.</summary>
    public TagScheme? Scheme { get; }

    /// <summary>Whether the file has tags.</summary>
    public bool HasTags => Scheme is not null;

    /// <summary>How many words the file has.</summary>
    public long WordCount => Words.Sum(w => (long)w.Length);

    /// <summary>
    /// Reads <paramref name="path"/>. With <paramref name="tagsRequired"/> every sentence needs a tag
    /// column; otherwise a file whose lines all have one column (and no --tag-column) is words only.
    /// </summary>
    /// <exception cref="CliException">The file is missing, empty or malformed, lacks tags, or a tag fits no scheme (or not <paramref name="scheme"/>).</exception>
    public static NerData Read(string path, ConllReaderOptions reader, TagScheme? scheme, bool tagsRequired, bool tagColumnGiven, CancellationToken cancellationToken)
    {
        if (Directory.Exists(path))
        {
            throw new CliException($"'{path}' is a folder; name a CoNLL file.");
        }

        if (!File.Exists(path))
        {
            throw new CliException($"The CoNLL file '{path}' does not exist.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        bool wordsOnly = !tagsRequired && !tagColumnGiven && reader.WordColumn is 0 or -1 && IsWordsOnly(path, reader);
        ConllCorpus corpus;
        try
        {
            corpus = wordsOnly ? ReadWordsOnly(path, reader) : ConllReader.Read(path, reader);
        }
        catch (ConllFormatException e)
        {
            throw new CliException(e.Message, e);
        }

        if (corpus.Sentences.Count == 0)
        {
            throw new CliException($"'{path}' holds no sentences: a CoNLL file has one word per line (with its tag in a later column) and blank lines between sentences.");
        }

        if (wordsOnly)
        {
            return new NerData(path, corpus.Sentences, scheme: null);
        }

        TagScheme fileScheme;
        try
        {
            fileScheme = scheme ?? TagSchemes.Detect(corpus.Tags).Scheme;
        }
        catch (TagSequenceException e)
        {
            throw TagProblem(path, corpus.Sentences, e, $"a tag of the form B-TYPE, I-TYPE, E-TYPE, S-TYPE, L-TYPE, U-TYPE or O is expected (column {reader.TagColumn}; see --tag-column)");
        }

        return new NerData(path, corpus.Sentences, fileScheme);
    }

    /// <summary>The tags in <paramref name="target"/>, converted through their entities (conlleval's reading of irregular transitions).</summary>
    /// <exception cref="CliException">A tag does not fit the file's scheme; the message names the line.</exception>
    public string[][] TagsIn(TagScheme target)
    {
        TagScheme from = Scheme ?? throw new InvalidOperationException($"'{Path}' has no tags.");
        var converted = new string[Sentences.Count][];
        for (int s = 0; s < converted.Length; s++)
        {
            try
            {
                converted[s] = TagSchemes.Convert(Sentences[s].Tags, from, target);
            }
            catch (TagSequenceException e)
            {
                throw TagProblem(Path, Sentences, e, $"it does not fit {TagSchemes.Name(from)}, the file's scheme (--scheme to name another)", s);
            }
        }

        return converted;
    }

    /// <summary>Fails on the first tag of <paramref name="tags"/> (this file's tags, converted) that is not in <paramref name="known"/>.</summary>
    /// <param name="tags">The tags, one array per sentence, as <see cref="TagsIn"/> gives them.</param>
    /// <param name="known">The tags the model knows.</param>
    /// <param name="knownFrom">Where the known tags come from, e.g. "the model 'ner.zip'".</param>
    /// <param name="scheme">The scheme <paramref name="tags"/> are in.</param>
    /// <exception cref="CliException">The message names the tag, its line, how many more words have it, and the known tags.</exception>
    public void RequireKnownTags(string[][] tags, IReadOnlyList<string> known, string knownFrom, TagScheme scheme)
    {
        var set = new HashSet<string>(known, StringComparer.Ordinal);
        for (int s = 0; s < tags.Length; s++)
        {
            for (int i = 0; i < tags[s].Length; i++)
            {
                string tag = tags[s][i];
                if (set.Contains(tag))
                {
                    continue;
                }

                long others = tags.Skip(s).SelectMany(t => t).Count(t => t == tag) - 1;
                string original = Sentences[s].Tags[i];
                string converted = original == tag ? "" : $" ('{original}' in the file, {TagSchemes.Name(scheme)} after conversion)";
                throw new CliException(
                    $"'{Path}' line {Sentences[s].FirstLine + i}: tag '{tag}'{converted} is not a tag of {knownFrom}{(others > 0 ? $" ({others} more word(s) have it)" : "")}; " +
                    $"the known tags are: {string.Join(", ", known)}.");
            }
        }
    }

    /// <summary>At most <paramref name="count"/> sentences drawn at random with <paramref name="seed"/>, kept in file order.</summary>
    public NerData Subsample(int count, int seed)
    {
        if (count >= Sentences.Count)
        {
            return this;
        }

        int[] order = Enumerable.Range(0, Sentences.Count).ToArray();
        new Random(seed).Shuffle(order);
        return new NerData(Path, order.Take(count).Order().Select(i => Sentences[i]).ToArray(), Scheme);
    }

    /// <summary>
    /// The scheme of a model's tag set: IOBES when it has E- or S- tags, BILOU with L- or U-, else
    /// IOB2 (the ner train command never trains on IOB1; see --train-scheme).
    /// </summary>
    public static TagScheme SchemeOfTags(IEnumerable<string> tags)
    {
        TagScheme scheme = TagScheme.Iob2;
        foreach (string text in tags)
        {
            if (Tag.TryParse(text, out Tag tag))
            {
                if (tag.Prefix is TagPrefix.End or TagPrefix.Single)
                {
                    return TagScheme.Iobes;
                }

                if (tag.Prefix is TagPrefix.Last or TagPrefix.Unit)
                {
                    scheme = TagScheme.Bilou;
                }
            }
        }

        return scheme;
    }

    // Whether every token line has one column (the words) and there is at least one: such a file is read
    // as words only. -DOCSTART- lines do not count.
    private static bool IsWordsOnly(string path, ConllReaderOptions reader)
    {
        bool any = false;
        foreach (string line in File.ReadLines(path))
        {
            string[] fields = Fields(line, reader.Separator);
            if (fields.Length == 0 || fields[0] == reader.DocumentStartMarker)
            {
                continue;
            }

            if (fields.Length > 1)
            {
                return false;
            }

            any = true;
        }

        return any;
    }

    // The reader needs a tag column: words-only lines get a placeholder one, so the reader's rules
    // (documents, blank lines, BOM, UTF-8, line numbers) stay the same.
    private static ConllCorpus ReadWordsOnly(string path, ConllReaderOptions reader)
    {
        char separator = reader.Separator == ConllColumnSeparator.Tab ? '\t' : ' ';
        using var text = new PlaceholderTagReader(new StreamReader(path, s_strictUtf8, detectEncodingFromByteOrderMarks: true), separator);
        return ConllReader.Read(text, path, reader with { WordColumn = 0, TagColumn = 1 });
    }

    private static string[] Fields(string line, ConllColumnSeparator separator) => separator == ConllColumnSeparator.Tab
        ? (line.Trim(' ', '\t', '\uFEFF').Length == 0 ? [] : line.Split('\t'))
        : line.Split([' ', '\t', '\uFEFF'], StringSplitOptions.RemoveEmptyEntries);

    private static CliException TagProblem(string path, IReadOnlyList<ConllSentence> sentences, TagSequenceException e, string fix, int? sentence = null)
    {
        int? s = e.SentenceIndex ?? sentence;
        string where = s is int index && e.Position >= 0 ? $"'{path}' line {sentences[index].FirstLine + e.Position}" : $"'{path}'";
        string tag = e.Tag is null ? "" : $"tag '{e.Tag}': ";
        return new CliException($"{where}: {tag}{fix}. ({e.Message})", e);
    }

    /// <summary>Appends a placeholder tag column to every non-blank line.</summary>
    private sealed class PlaceholderTagReader(TextReader inner, char separator) : TextReader
    {
        public override string? ReadLine()
        {
            string? line = inner.ReadLine();
            return line is null || line.Trim(' ', '\t', '\uFEFF').Length == 0 ? line : $"{line}{separator}O";
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
