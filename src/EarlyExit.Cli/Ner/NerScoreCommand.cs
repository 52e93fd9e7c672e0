// earlyexit ner score: a model zip + a CoNLL file -> the file's words labelled, one word per line:
// `word exit-layer gold predicted` (conlleval reads the last two columns as gold and predicted, so any
// conlleval checks the figures of `ner evaluate`), or `word exit-layer predicted` for a words-only file.
// A model trained with auxiliary tasks also writes each task's predicted tag after the exit layer.
// Sentences stay separated by blank lines; tags are in the model's scheme (gold tags converted to it).
using System.CommandLine;
using System.Globalization;
using EarlyExit.Cli.Output;
using EarlyExit.Inference;
using EarlyExit.Sequence;
using Microsoft.ML;

namespace EarlyExit.Cli.Ner;

/// <summary>The <c>ner score</c> command.</summary>
internal sealed class NerScoreCommand(CliConsole console)
    : CliCommand(console, "score",
        "Label every word of a CoNLL file with a tag and the layer it stopped at.")
{
    private readonly ModelCommandOptions _options = new("ner", data: "A CoNLL file to label: tagged, or words only (one column).", batch: "Sentence chunks labelled", verb: "label");
    private readonly ConllFileOptions _files = new();
    private readonly TokenExitOptions _exit = new("Label with this criterion instead of the model's own (no retraining): full, sentee or tokee.");
    private readonly Option<string> _out = new("--out")
    {
        Description = "The labelled file, CoNLL layout: 'word exit-layer gold predicted' per line (conlleval-ready), or 'word exit-layer predicted' for words-only data; " +
            "blank lines between sentences, columns separated by single spaces.",
        HelpName = "FILE",
        Required = true,
    };

    protected override void AddOptions(Command command)
    {
        _options.AddModelAndData(command);
        _files.AddTo(command);
        _exit.AddTo(command);
        _options.AddScoring(command, withBackend: true);
        command.Add(_out);
    }

    protected override int Run(ParseResult parse, CancellationToken cancellationToken)
    {
        string modelPath = parse.GetRequiredValue(_options.Model);
        string dataPath = parse.GetRequiredValue(_options.Data);
        string outPath = parse.GetRequiredValue(_out);
        AtomicFile.CheckWritable(outPath, "--out", (dataPath, "--data"), (modelPath, "--model"));

        NerModelFile.CheckBeforeLoading(modelPath, [_exit.Criterion(parse)]);
        var ml = new MLContext(seed: 0);
        using NerModelFile model = NerModelFile.Load(ml, modelPath, parse.GetValue(_options.Device));
        ConllReaderOptions reader = _files.Reader(parse);
        NerData data = NerData.Read(dataPath, reader, _files.Scheme(parse), tagsRequired: false, _files.TagColumnGiven(parse), cancellationToken);
        string[][]? gold = data.HasTags ? data.TagsIn(model.Scheme) : null;
        CheckWritableWords(data);

        LabelledSentences labelled = NerScoring.Label(model.Ner, data.Words, _exit.Criterion(parse), parse.GetValue(_options.BatchSize), Terminal, "scoring", cancellationToken,
            _options.BackendOf(parse));
        string[][] predicted = NerScoring.TagNames(model.Ner, labelled);
        EarlyExitTokenClassifier classifier = model.Ner.Classifier;
        AtomicFile.Write(outPath, temporary =>
        {
            using var conll = new ConllWriter(temporary);
            for (int s = 0; s < data.Sentences.Count; s++)
            {
                SentencePrediction prediction = labelled.Predictions[s];
                string[] exits = prediction.ExitLayers.Select(l => l.ToString(CultureInfo.InvariantCulture)).ToArray();
                IEnumerable<string[]> tasks = Enumerable.Range(0, classifier.AuxiliaryTasks.Count).Select(t => prediction.AuxiliaryTags![t].Select(tag => classifier.AuxiliaryTags[t][tag]).ToArray());
                conll.WriteSentence([data.Words[s], exits, .. tasks, .. gold is null ? Array.Empty<string[]>() : [gold[s]], predicted[s]]);
            }
        }, cancellationToken);

        double seconds = labelled.Elapsed.TotalSeconds;
        long words = data.WordCount;
        double meanExit = words == 0 ? 0 : labelled.Predictions.Sum(p => p.ExitLayers.Sum(l => (long)l)) / (double)words;
        Terminal.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Labelled {data.Sentences.Count:N0} sentences ({words:N0} words) of '{dataPath}' with {labelled.Criterion.Name} in {seconds:0.00} s " +
            $"({(seconds > 0 ? data.Sentences.Count / seconds : 0):0.0} sentences/s); mean word exit layer {meanExit:0.00} of {model.Ner.NumLayers}. " +
            $"Wrote '{outPath}' (word, exit layer, {string.Concat(classifier.AuxiliaryTasks.Select(t => $"{t.Name} (layer {t.Layer}), "))}" +
            $"{(gold is null ? "predicted" : $"gold, predicted; {TagSchemes.Name(model.Scheme)} tags")})."));
        return ExitCodes.Success;
    }

    // conlleval splits lines on spaces and reads a line starting with -X- as a boundary: a word holding
    // whitespace (possible with --separator tab) or a word -X- cannot be written, so it is refused
    // before any labelling.
    private static void CheckWritableWords(NerData data)
    {
        for (int s = 0; s < data.Sentences.Count; s++)
        {
            for (int i = 0; i < data.Words[s].Length; i++)
            {
                string word = data.Words[s][i];
                if (word.AsSpan().IndexOfAny(' ', '\t') >= 0 || word == ConllWriter.ConllevalBoundary)
                {
                    throw new CliException($"'{data.Path}' line {data.Sentences[s].FirstLine + i}: the word '{word}' cannot be written in conlleval's layout " +
                        $"(columns separated by spaces, {ConllWriter.ConllevalBoundary} a sentence boundary); change the word in the input.");
                }
            }
        }
    }
}
