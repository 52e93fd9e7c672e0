// The ML.NET trainer of token-level early-exit sequence labellers (Li et al., ACL 2021).
//
// Fit: check the schema (before anything expensive) -> read the words, tag keys and auxiliary task keys
// of every row (lengths must agree) -> load the backbone -> build the off-ramps -> split long sentences into chunks
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
/// <item><term>Each auxiliary task's label (input)</term><description>Vector of Key&lt;UInt32&gt;, one task tag per word (<see cref="TokenAuxiliaryTask.LabelColumnName"/>); needed in training data; validation data's is not read (validation scores the tags alone).</description></item>
/// <item><term>Each auxiliary task's prediction (output)</term><description>Vector of Key&lt;UInt32&gt;, the task's tag of each word, with the task label's key values (<see cref="TokenAuxiliaryTask.PredictedLabelColumnName"/>).</description></item>
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
        IReadOnlyList<TokenAuxiliaryTask> tasks = TrainerOptions.Tasks;
        TagColumns train = CheckColumns(trainData.Schema, "training data", readTasks: true);
        TagColumns? valid = validationData is null ? null : CheckColumns(validationData.Schema, "validation data", readTasks: false); // validation scores the tags alone
        LabelKeyValues tags = TagValues(train.Label, TrainerOptions.LabelColumnName);
        LabelKeyValues[] taskTags = train.Tasks.Select((column, t) => TagValues(column, tasks[t].LabelColumnName)).ToArray();
        TrainerFitting.RequireValidationSource(TrainerOptions, validationData);

        using IChannel ch = Host.Start("Training");
        List<Sentence> sentences = ReadSentences(trainData, train, ch, "training");
        List<Sentence>? validationSentences = validationData is null ? null : ReadSentences(validationData, valid!, ch, "validation");
        if (validationSentences is null && TrainerOptions.ValidationFraction > 0)
        {
            (sentences, validationSentences) = TrainerFitting.Split(sentences, TrainerOptions.ValidationFraction, TrainerOptions.Seed, "sentences");
        }

        using PretrainedEncoder backbone = TrainerFitting.LoadBackbone(TrainerOptions, ch);
        CheckLayers(tasks, TrainerOptions.WordPoolingLayer, backbone.Encoder.NumLayers);
        var classifier = EarlyExitTokenClassifier.Create(backbone, tags.Values, TrainerOptions.MaxSequenceLength, TrainerOptions.ExitCriterion, TrainerOptions.Dropout, TrainerOptions.Seed,
            tasks.Select((t, i) => new AuxiliaryTaskTags(t.LabelColumnName, taskTags[i].Values.ToArray(), t.Layer, t.Weight)).ToArray(), TrainerOptions.OffRampInput,
            TrainerOptions.WordPoolingLayer);
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
            var columns = new TokenEarlyExitNerColumns(TrainerOptions.TokensColumnName, TrainerOptions.PredictedLabelColumnName, TrainerOptions.TokenExitLayersColumnName, TrainerOptions.ExitLayerColumnName, TrainerOptions.BatchSize,
                tasks.Count == 0 ? null : tasks.Select(t => t.OutputColumnName).ToArray());
            return new TokenEarlyExitNerTransformer(Env, new SharedModel<EarlyExitTokenClassifier>(classifier), columns, tags, TrainerOptions.ExitCriterion, report, taskTags);
        });
    }

    /// <summary>The input schema plus PredictedLabel (vector of keys), TokenExitLayers (vector of Int32), ExitLayer (Int32) and each auxiliary task's predicted tags (vector of keys).</summary>
    public override SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaShape.Column words = InputColumns.RequireShape(inputSchema, TrainerOptions.TokensColumnName, "TokensColumnName");
        if (words.ItemType is not TextDataViewType)
        {
            throw new ArgumentOutOfRangeException("TokensColumnName", $"Column '{TrainerOptions.TokensColumnName}' must hold the words as a vector of strings or one string, found {words.ItemType}.");
        }

        var outputs = new List<SchemaShape.Column>
        {
            PredictedTags(inputSchema, TrainerOptions.LabelColumnName, "LabelColumnName", TrainerOptions.PredictedLabelColumnName),
            MLNetInternals.CreateColumn(TrainerOptions.TokenExitLayersColumnName, SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.Int32),
            OutputSchemaShapes.Int32Scalar(TrainerOptions.ExitLayerColumnName),
        };
        outputs.AddRange(TrainerOptions.Tasks.Select((t, i) => PredictedTags(inputSchema, t.LabelColumnName, $"AuxiliaryTasks[{i}].LabelColumnName", t.OutputColumnName)));
        var names = outputs.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        return new SchemaShape(inputSchema.Where(c => !names.Contains(c.Name)).Concat(outputs));
    }

    /// <summary>The output shape of predicted tags read from the key-vector column <paramref name="input"/>: a vector of keys with its key values.</summary>
    private static SchemaShape.Column PredictedTags(SchemaShape inputSchema, string input, string option, string output)
    {
        SchemaShape.Column label = InputColumns.RequireShape(inputSchema, input, option);
        if (!label.IsKey || label.Kind == SchemaShape.Column.VectorKind.Scalar)
        {
            throw KeyVectorExpected(input, option, label.ItemType?.ToString());
        }

        SchemaShape.Column keyValues = label.Annotations.FirstOrDefault(a => a.Name == OutputSchemaShapes.Kinds.KeyValues);
        return MLNetInternals.CreateColumn(output, SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.UInt32, isKey: true,
            keyValues.Name is null ? null : new SchemaShape([keyValues]));
    }

    private TagColumns CheckColumns(DataViewSchema schema, string what, bool readTasks)
    {
        DataViewSchema.Column tokens = WordColumns.Require(schema, TrainerOptions.TokensColumnName, "TokensColumnName", what);
        DataViewSchema.Column label = InputColumns.Require(schema, TrainerOptions.LabelColumnName, "LabelColumnName", what);
        RequireKeyVector(label.Type, TrainerOptions.LabelColumnName, "LabelColumnName");
        var tasks = new DataViewSchema.Column[readTasks ? TrainerOptions.Tasks.Count : 0];
        for (int t = 0; t < tasks.Length; t++)
        {
            string name = TrainerOptions.Tasks[t].LabelColumnName;
            string option = $"AuxiliaryTasks[{t}].LabelColumnName";
            DataViewSchema.Column column = InputColumns.Require(schema, name, option, what);
            RequireKeyVector(column.Type, name, option);
            tasks[t] = column;
        }

        return new TagColumns(tokens, label, tasks);
    }

    private static LabelKeyValues TagValues(DataViewSchema.Column column, string name)
    {
        int count = (int)((KeyDataViewType)((VectorDataViewType)column.Type).ItemType).Count;
        LabelKeyValues tags = LabelKeyValues.FromColumn(column, count);
        if (count < 2)
        {
            throw new ArgumentException($"Column '{name}' has only {count} tag value(s) ({string.Join(", ", tags.Values)}); a sequence labeller needs at least two.");
        }

        return tags;
    }

    // The options that name layers, against the backbone's depth (the rest were checked when the trainer was created).
    private static void CheckLayers(IReadOnlyList<TokenAuxiliaryTask> tasks, int wordPoolingLayer, int layers)
    {
        string[] problems = tasks.Select((t, i) => (t, i)).Where(x => x.t.Layer > layers)
            .Select(x => $"AuxiliaryTasks[{x.i}] ('{x.t.LabelColumnName}') has Layer {x.t.Layer}, but the backbone has {layers} layers; use 1 to {layers}.").ToArray();
        if (problems.Length > 0)
        {
            throw new ArgumentOutOfRangeException("AuxiliaryTasks", string.Join(" ", problems));
        }

        if (wordPoolingLayer > layers)
        {
            throw new ArgumentOutOfRangeException(nameof(Options.WordPoolingLayer),
                $"WordPoolingLayer is {wordPoolingLayer}, but the backbone has {layers} layers; use 1 to {layers} (the first layer to run on words), or 0 for none.");
        }
    }

    private static void RequireKeyVector(DataViewType type, string name, string option)
    {
        if (type is not VectorDataViewType { ItemType: KeyDataViewType key } || key.RawType != typeof(uint))
        {
            throw KeyVectorExpected(name, option, type.ToString());
        }
    }

    private static ArgumentOutOfRangeException KeyVectorExpected(string name, string option, string? found) => new(
        option,
        $"Column '{name}' ({option}) must be a vector of Key<UInt32> (one tag per word), found {found}; add mlContext.Transforms.Conversion.MapValueToKey(\"{name}\") over the vector of tag strings before the trainer.");

    private List<Sentence> ReadSentences(IDataView data, TagColumns columns, IChannel ch, string what)
    {
        var sentences = new List<Sentence>();
        long empty = 0;
        long missingLabels = 0;
        string? firstMissing = null;
        DataViewSchema.Column[] tagColumns = [columns.Label, .. columns.Tasks];
        using DataViewRowCursor cursor = data.GetRowCursor([columns.Tokens, .. tagColumns]);
        Func<string[]> readWords = WordColumns.Reader(cursor, columns.Tokens);
        Func<uint[]>[] readTags = tagColumns.Select(c => KeyReader(cursor, c)).ToArray();
        while (cursor.MoveNext())
        {
            string[] words = readWords();
            long row = cursor.Position;
            var keys = new uint[tagColumns.Length][];
            string? missing = null;
            for (int c = 0; c < tagColumns.Length; c++)
            {
                keys[c] = readTags[c]();
                if (words.Length != keys[c].Length)
                {
                    throw new ArgumentException(
                        $"Row {row} of the {what} has {words.Length} words in '{TrainerOptions.TokensColumnName}' but {keys[c].Length} tags in '{tagColumns[c].Name}'; give one tag per word.");
                }

                // A missing label skips its row, as in the Palbert trainers (ML.NET's rule); here a sentence
                // with any word whose tag (or task tag) is missing (key 0: empty, or a value the mapping does not know).
                int at = Array.IndexOf(keys[c], 0u);
                if (at >= 0)
                {
                    missing ??= $"row {row}, word {at} ('{words[at]}') of '{tagColumns[c].Name}'";
                }
            }

            if (missing is not null)
            {
                firstMissing ??= missing;
                missingLabels++;
                continue;
            }

            if (words.Length == 0)
            {
                empty++;
                continue;
            }

            int[][] indices = keys.Select(k => k.Select(v => KeyIndex.ToIndex(v)!.Value).ToArray()).ToArray(); // key 0 was refused above
            sentences.Add(new Sentence(words, indices[0], columns.Tasks.Length > 0 ? indices[1..] : null));
        }

        if (empty > 0)
        {
            ch.Warning(MessageSensitivity.None, $"Skipped {empty} empty {what} sentence(s): they have no words to learn from.");
        }

        if (missingLabels > 0)
        {
            ch.Warning(MessageSensitivity.None,
                $"Skipped {missingLabels} {what} sentence(s) with a missing tag (key 0: an empty tag, or a value the tag mapping does not know), the first at {firstMissing}.");
        }

        if (sentences.Count == 0)
        {
            throw new ArgumentException($"The {what} has no sentence with words.");
        }

        return sentences;
    }

    private static Func<uint[]> KeyReader(DataViewRow row, DataViewSchema.Column column)
    {
        ValueGetter<VBuffer<uint>> getter = row.GetGetter<VBuffer<uint>>(column);
        VBuffer<uint> keys = default;
        return () =>
        {
            getter(ref keys);
            return keys.DenseValues().ToArray();
        };
    }

    private static List<TokenExample> Examples(EarlyExitTokenClassifier classifier, List<Sentence> sentences) =>
        sentences.SelectMany(s => classifier.Encode(s.Words).Select(c =>
        {
            Range words = c.Start..(c.Start + c.Count);
            return new TokenExample(c.Input, s.Tags[words], s.Tasks?.Select(t => t[words]).ToArray());
        })).ToList();

    private static string[][] Names(IReadOnlyList<int[]> sentences, LabelKeyValues tags) =>
        sentences.Select(s => s.Select(t => tags.Values[t]).ToArray()).ToArray();

    /// <summary>A row's words, its tags and each auxiliary task's tags (null for validation, which scores the tags alone).</summary>
    private sealed record Sentence(string[] Words, int[] Tags, int[][]? Tasks);

    /// <summary>The columns the trainer reads: words, tags, and each auxiliary task's tags (none for validation).</summary>
    private sealed record TagColumns(DataViewSchema.Column Tokens, DataViewSchema.Column Label, DataViewSchema.Column[] Tasks);
}
