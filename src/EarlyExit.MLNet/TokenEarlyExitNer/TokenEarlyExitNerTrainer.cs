// The ML.NET trainer of token-level early-exit sequence labellers (Li et al., ACL 2021).
//
// Fit: check the schema (before anything expensive) -> read the words and tag keys of every row
// (lengths must agree) -> load the backbone -> build the off-ramps -> split long sentences into chunks
// of whole words -> train (joint epochs, then self-sampling; Core's TokenClassifierTrainer) with
// entity-level F1 (conlleval's rules) on validation -> TokenEarlyExitNerTransformer.
using EarlyExit.MLNet.Interop;
using EarlyExit.MLNet.Logging;
using EarlyExit.MLNet.Persistence;
using EarlyExit.MLNet.Schema;
using EarlyExit.Sequence;
using EarlyExit.Training;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace EarlyExit.MLNet.TokenEarlyExitNer;

/// <summary>
/// Trains a token-level early-exit sequence labeller (SENTEE / TOKEE, halt-and-copy) on a transformer
/// backbone. Create it with <c>mlContext.MulticlassClassification.Trainers.TokenEarlyExitNer(...)</c>.
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>Column</term><description>Type and role</description></listheader>
/// <item><term>Tokens (input)</term><description>Vector of String (pre-split words), or String split on whitespace.</description></item>
/// <item><term>Label (input)</term><description>Vector of Key&lt;UInt32&gt;, one tag per word: <c>MapValueToKey</c> over a vector of tag strings. A sentence with a missing tag (key 0) is skipped, with one warning that counts them and names the first.</description></item>
/// <item><term>PredictedLabel (output)</term><description>Vector of Key&lt;UInt32&gt;, one tag per word, with the label's key values.</description></item>
/// <item><term>TokenExitLayers (output)</term><description>Vector of Int32, each word's 1-based exit layer.</description></item>
/// <item><term>ExitLayer (output)</term><description>Int32, the deepest layer any word of the row reached.</description></item>
/// </list>
/// </remarks>
public sealed partial class TokenEarlyExitNerTrainer : EarlyExitTrainer<TokenEarlyExitNerTrainer.Options, TokenEarlyExitNerTransformer>
{
    /// <summary>Creates the trainer; every option is checked now and all problems are reported together.</summary>
    /// <exception cref="ArgumentException">Some options are invalid; the message lists each.</exception>
    internal TokenEarlyExitNerTrainer(IHostEnvironment env, Options options)
        : base(env, options, "TokenEarlyExitNer", "token-exit NER")
    {
    }

    /// <summary>Trains on <paramref name="trainData"/>, selecting the best epoch by entity F1 on <paramref name="validationData"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or of the wrong type; the message names it and the fix.</exception>
    /// <exception cref="ArgumentException">A row's words and tags differ in length (the row is named), no sentence with words and tags remains, or there are fewer than two tags.</exception>
    public override TokenEarlyExitNerTransformer Fit(IDataView trainData, IDataView? validationData)
    {
        ArgumentNullException.ThrowIfNull(trainData);
        var (tokens, label, tagCount) = CheckColumns(trainData.Schema, "training data");
        if (validationData is not null)
        {
            CheckColumns(validationData.Schema, "validation data");
        }

        LabelKeyValues tags = LabelKeyValues.FromColumn(label, tagCount);
        if (tagCount < 2)
        {
            throw new ArgumentException($"Column '{TrainerOptions.LabelColumnName}' has only {tagCount} tag value(s) ({string.Join(", ", tags.Values)}); a sequence labeller needs at least two.");
        }

        TrainerFitting.RequireValidationSource(TrainerOptions, validationData);

        using IChannel ch = Host.Start("Training");
        List<Sentence> sentences = ReadSentences(trainData, tokens, label, ch, "training");
        List<Sentence>? validationSentences = validationData is null ? null
            : ReadSentences(validationData, validationData.Schema[TrainerOptions.TokensColumnName], validationData.Schema[TrainerOptions.LabelColumnName], ch, "validation");
        if (validationSentences is null && TrainerOptions.ValidationFraction > 0)
        {
            (sentences, validationSentences) = TrainerFitting.Split(sentences, TrainerOptions.ValidationFraction, TrainerOptions.Seed, "sentences");
        }

        using PretrainedEncoder backbone = TrainerFitting.LoadBackbone(TrainerOptions, ch);
        var classifier = EarlyExitTokenClassifier.Create(backbone, tags.Values, TrainerOptions.MaxSequenceLength, TrainerOptions.ExitCriterion, TrainerOptions.Dropout, TrainerOptions.Seed);
        return TrainerFitting.TrainAndWrap(classifier, ch, () =>
        {
            List<TokenExample> training = Examples(classifier, sentences);
            List<TokenExample>? validation = validationSentences is null ? null : Examples(classifier, validationSentences);
            ch.Info(MessageSensitivity.None,
                $"{sentences.Count} training sentences in {training.Count} chunks of at most {classifier.MaxSequenceLength} tokens; {validationSentences?.Count ?? 0} validation sentences.");
            Func<IReadOnlyList<int[]>, IReadOnlyList<int[]>, double>? entityF1 = tags.HasAnnotation
                ? (gold, predicted) => EntityEvaluation.Evaluate(Names(gold, tags), Names(predicted, tags)).Overall.F1
                : null;
            TokenTrainingOptions trainingOptions = TrainerOptions.ToTrainingOptions();
            trainingOptions.TokenlessWordTag = classifier.OutsideTag; // as the classifier's own predictions
            return TokenClassifierTrainer.Train(classifier.Model, training, validation, trainingOptions, classifier.PadTokenId, entityF1,
                new ProgressLog(ch, TrainerOptions.Progress), TrainerOptions.CancellationToken);
        },
        report =>
        {
            var columns = new TokenEarlyExitNerColumns(TrainerOptions.TokensColumnName, TrainerOptions.PredictedLabelColumnName, TrainerOptions.TokenExitLayersColumnName, TrainerOptions.ExitLayerColumnName, TrainerOptions.BatchSize);
            return new TokenEarlyExitNerTransformer(Env, new SharedModel<EarlyExitTokenClassifier>(classifier), columns, tags, TrainerOptions.ExitCriterion, report);
        });
    }

    /// <summary>The input schema plus PredictedLabel (vector of keys), TokenExitLayers (vector of Int32) and ExitLayer (Int32).</summary>
    public override SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaShape.Column label = InputColumns.RequireShape(inputSchema, TrainerOptions.LabelColumnName, "LabelColumnName");
        if (!label.IsKey || label.Kind == SchemaShape.Column.VectorKind.Scalar)
        {
            throw LabelNotKeyVector(label.ItemType?.ToString());
        }

        SchemaShape.Column words = InputColumns.RequireShape(inputSchema, TrainerOptions.TokensColumnName, "TokensColumnName");
        if (words.ItemType is not TextDataViewType)
        {
            throw new ArgumentOutOfRangeException("TokensColumnName", $"Column '{TrainerOptions.TokensColumnName}' must hold the words as a vector of strings or one string, found {words.ItemType}.");
        }

        SchemaShape.Column keyValues = label.Annotations.FirstOrDefault(a => a.Name == OutputSchemaShapes.Kinds.KeyValues);
        var predicted = MLNetInternals.CreateColumn(TrainerOptions.PredictedLabelColumnName, SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.UInt32, isKey: true,
            keyValues.Name is null ? null : new SchemaShape([keyValues]));
        var outputs = new[]
        {
            predicted,
            MLNetInternals.CreateColumn(TrainerOptions.TokenExitLayersColumnName, SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.Int32),
            OutputSchemaShapes.Int32Scalar(TrainerOptions.ExitLayerColumnName),
        };
        var names = outputs.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        return new SchemaShape(inputSchema.Where(c => !names.Contains(c.Name)).Concat(outputs));
    }

    private (DataViewSchema.Column Tokens, DataViewSchema.Column Label, int TagCount) CheckColumns(DataViewSchema schema, string what)
    {
        DataViewSchema.Column tokens = WordColumns.Require(schema, TrainerOptions.TokensColumnName, "TokensColumnName", what);
        DataViewSchema.Column label = InputColumns.Require(schema, TrainerOptions.LabelColumnName, "LabelColumnName", what);
        if (label.Type is not VectorDataViewType { ItemType: KeyDataViewType key } || key.RawType != typeof(uint))
        {
            throw LabelNotKeyVector(label.Type.ToString());
        }

        return (tokens, label, (int)key.Count);
    }

    private ArgumentOutOfRangeException LabelNotKeyVector(string? found) => new(
        "LabelColumnName",
        $"Column '{TrainerOptions.LabelColumnName}' must be a vector of Key<UInt32> (one tag per word), found {found}; add mlContext.Transforms.Conversion.MapValueToKey(\"{TrainerOptions.LabelColumnName}\") over the vector of tag strings before the trainer.");

    private List<Sentence> ReadSentences(IDataView data, DataViewSchema.Column tokens, DataViewSchema.Column label, IChannel ch, string what)
    {
        var sentences = new List<Sentence>();
        long empty = 0;
        long missingLabels = 0;
        string? firstMissing = null;
        using DataViewRowCursor cursor = data.GetRowCursor([tokens, label]);
        Func<string[]> readWords = WordColumns.Reader(cursor, tokens);
        ValueGetter<VBuffer<uint>> getTags = cursor.GetGetter<VBuffer<uint>>(label);
        VBuffer<uint> keys = default;
        while (cursor.MoveNext())
        {
            string[] words = readWords();
            getTags(ref keys);
            uint[] values = keys.DenseValues().ToArray();
            long row = cursor.Position;
            if (words.Length != values.Length)
            {
                throw new ArgumentException(
                    $"Row {row} of the {what} has {words.Length} words in '{TrainerOptions.TokensColumnName}' but {values.Length} tags in '{TrainerOptions.LabelColumnName}'; give one tag per word.");
            }

            // A missing label skips its row, as in the Palbert trainers (ML.NET's rule); here a sentence
            // with any word whose tag is missing (key 0: empty, or a value the label mapping does not know).
            int missing = Array.IndexOf(values, 0u);
            if (missing >= 0)
            {
                firstMissing ??= $"row {row}, word {missing} ('{words[missing]}')";
                missingLabels++;
                continue;
            }

            if (words.Length == 0)
            {
                empty++;
                continue;
            }

            sentences.Add(new Sentence(words, values.Select(v => KeyIndex.ToIndex(v)!.Value).ToArray())); // key 0 was refused above
        }

        if (empty > 0)
        {
            ch.Warning(MessageSensitivity.None, $"Skipped {empty} empty {what} sentence(s): they have no words to learn from.");
        }

        if (missingLabels > 0)
        {
            ch.Warning(MessageSensitivity.None,
                $"Skipped {missingLabels} {what} sentence(s) with a missing tag (key 0: an empty tag, or a value the label mapping does not know), the first at {firstMissing}.");
        }

        if (sentences.Count == 0)
        {
            throw new ArgumentException($"The {what} has no sentence with words.");
        }

        return sentences;
    }

    private static List<TokenExample> Examples(EarlyExitTokenClassifier classifier, List<Sentence> sentences) =>
        sentences.SelectMany(s => classifier.Encode(s.Words).Select(c => new TokenExample(c.Input, s.Tags[c.Start..(c.Start + c.Count)]))).ToList();

    private static string[][] Names(IReadOnlyList<int[]> sentences, LabelKeyValues tags) =>
        sentences.Select(s => s.Select(t => tags.Values[t]).ToArray()).ToArray();

    private sealed record Sentence(string[] Words, int[] Tags);
}
