// A sweep of a fitted token-exit NER transformer: read the words and gold tags of an IDataView, record
// every layer once (SentenceExitRecord), replay every criterion of the grid and the oracles with
// entity-level metrics (conlleval's rules), then run a real halt-and-copy pass for full depth and the
// Pareto front (for TOKEE that pass also confirms the replayed estimate).
using System.Diagnostics;
using EarlyExit.ExitCriteria;
using EarlyExit.Inference;
using EarlyExit.MLNet.TokenEarlyExitNer;
using EarlyExit.Sequence;
using EarlyExit.Sweeps;
using Microsoft.ML;

namespace EarlyExit.MLNet.Sweeps;

/// <summary>Sweeps of <see cref="TokenEarlyExitNerTransformer"/>s.</summary>
internal static class TokenEarlyExitNerSweep
{
    /// <summary>The metric the front and selection use: micro-averaged entity F1.</summary>
    public const string EntityF1 = "entity-f1";

    public static ExitSweep Run(TokenEarlyExitNerTransformer ner, IDataView data, IReadOnlyList<TokenExitCriterion>? grid, string labelColumnName, bool measureSpeed)
    {
        ArgumentNullException.ThrowIfNull(data);
        EarlyExitTokenClassifier labeller = ner.Classifier;
        int layers = labeller.NumLayers;
        List<TokenExitCriterion> settings = (grid ?? ExitGrid.DefaultTokens(layers)).DistinctBy(c => c.Name).ToList();
        if (settings.Count == 0)
        {
            throw new ArgumentException("The sweep grid is empty; leave it null for the default grid.", nameof(grid));
        }

        if (!settings.Any(c => c.Mode == TokenExitMode.Full))
        {
            settings.Insert(0, TokenExitCriterion.Full());
        }

        foreach (TokenExitCriterion criterion in settings)
        {
            try
            {
                labeller.EnsureSupported(criterion);
            }
            catch (InvalidOperationException e)
            {
                throw new ArgumentException($"The sweep grid holds '{criterion.Name}', which this model cannot serve: {e.Message}", nameof(grid), e);
            }
        }

        (string[][] words, string[][] gold) = Read(ner, data, labelColumnName);
        if (words.Length == 0)
        {
            throw new ArgumentException("The data to sweep has no rows.", nameof(data));
        }

        string[][] goldTypes = gold.Select(EntityTypes).ToArray();
        var tagIndex = ner.ClassNames.Select((t, i) => (t, i)).ToDictionary(p => p.t, p => p.i, StringComparer.Ordinal);
        int[][] goldIndices = gold.Select((tags, row) => tags.Select((t, w) => tagIndex.TryGetValue(t, out int i) ? i
            : throw new ArgumentException($"Row {row}, word {w}: gold tag '{t}' is not a tag of the model ({string.Join(", ", ner.ClassNames)}).")).ToArray()).ToArray();

        int batch = ner.Columns.BatchSize;
        var clock = Stopwatch.StartNew();
        SentenceExitRecord record = labeller.Record(words, batch);
        double recordSeconds = clock.Elapsed.TotalSeconds;

        clock.Restart();
        // Replays only read the record, so the settings run in parallel.
        var replayed = new SweepCandidate[settings.Count];
        Parallel.For(0, settings.Count, i => replayed[i] = Candidate(settings[i].Name, settings[i].Mode == TokenExitMode.Tokee, record.Replay(settings[i]), gold, goldTypes, ner, layers));
        var candidates = replayed.ToList();
        double replaySeconds = clock.Elapsed.TotalSeconds;
        candidates.Add(Candidate("oracle:agree", false, record.Oracle(), gold, goldTypes, ner, layers));
        candidates.Add(Candidate("oracle:correct", false, record.Oracle(goldIndices), gold, goldTypes, ner, layers));

        MeasuredPass Measure(string criterion)
        {
            var watch = Stopwatch.StartNew();
            SentencePrediction[] predictions = ner.Predict(words, TokenExitCriterion.Parse(criterion), batch); // timed on the transformer's backend
            double seconds = watch.Elapsed.TotalSeconds;
            SweepCandidate real = Candidate(criterion, false, predictions, gold, goldTypes, ner, layers);
            return new MeasuredPass(seconds, real.Metrics, real.MeanExitLayer);
        }

        return ExitSweep.Create(EntityF1, layers, words.Length, candidates, measureSpeed ? Measure : null, recordSeconds, replaySeconds);
    }

    private static SweepCandidate Candidate(string criterion, bool estimated, SentencePrediction[] predictions, string[][] gold, string[][] goldTypes,
        TokenEarlyExitNerTransformer ner, int layers)
    {
        var evaluator = new EntityEvaluator();
        var histogram = new long[layers];
        var byType = new Dictionary<string, (long Sum, long Count)>(StringComparer.Ordinal);
        long words = 0;
        long layerSum = 0;
        for (int s = 0; s < predictions.Length; s++)
        {
            evaluator.Add(gold[s], predictions[s].Tags.Select(t => ner.ClassNames[t]).ToArray());
            int[] exits = predictions[s].ExitLayers;
            for (int w = 0; w < exits.Length; w++)
            {
                histogram[Math.Clamp(exits[w], 1, layers) - 1]++;
                layerSum += exits[w];
                words++;
                (long sum, long count) = byType.GetValueOrDefault(goldTypes[s][w]);
                byType[goldTypes[s][w]] = (sum + exits[w], count + 1);
            }
        }

        EntityEvaluationResult entities = evaluator.Result();
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [EntityF1] = entities.Overall.F1,
            ["entity-precision"] = entities.Overall.Precision,
            ["entity-recall"] = entities.Overall.Recall,
            ["token-accuracy"] = entities.TokenAccuracy,
        };
        IReadOnlyDictionary<string, double> meanByType = byType
            .OrderBy(p => p.Key == "O" ? 1 : 0).ThenBy(p => p.Key, StringComparer.Ordinal)
            .ToDictionary(p => p.Key, p => (double)p.Value.Sum / p.Value.Count, StringComparer.Ordinal);
        return new SweepCandidate(criterion, estimated, metrics, words == 0 ? 0 : (double)layerSum / words, histogram, meanByType);
    }

    // Each word's gold entity type, O outside entities.
    private static string[] EntityTypes(string[] tags)
    {
        string[] types = Enumerable.Repeat("O", tags.Length).ToArray();
        foreach (EntitySpan span in EntityExtraction.Extract(tags))
        {
            Array.Fill(types, span.Type, span.Start, span.Length);
        }

        return types;
    }

    // Every row's words and gold tag names; a gold tag the model never saw (key 0) names the row.
    private static (string[][] Words, string[][] Gold) Read(TokenEarlyExitNerTransformer ner, IDataView data, string labelColumnName)
    {
        DataViewSchema.Column tokens = WordColumns.Require(data.Schema, ner.Columns.Tokens, "TokensColumnName", "data to sweep");
        DataViewSchema.Column label = Schema.InputColumns.Require(data.Schema, labelColumnName, nameof(labelColumnName), "data to sweep");
        var words = new List<string[]>();
        var gold = new List<string[]>();
        using DataViewRowCursor cursor = data.GetRowCursor([tokens, label]);
        Func<string[]> readWords = WordColumns.Reader(cursor, tokens);
        Func<string[]> readGold = NerEvaluation.TagReader(cursor, label);
        while (cursor.MoveNext())
        {
            string[] rowWords = readWords();
            string[] rowGold;
            try
            {
                rowGold = readGold();
            }
            catch (NerEvaluation.UnknownTagException e)
            {
                throw new ArgumentException($"Row {cursor.Position}: word {e.Position} has a gold tag the model was not trained on (key 0 after MapValueToKey); a sweep needs tags the model knows.", e);
            }

            if (rowGold.Length != rowWords.Length)
            {
                throw new ArgumentException($"Row {cursor.Position} has {rowWords.Length} words but {rowGold.Length} gold tags in '{labelColumnName}'.");
            }

            words.Add(rowWords);
            gold.Add(rowGold);
        }

        return (words.ToArray(), gold.ToArray());
    }
}
