using EarlyExit.MLNet.Schema;
using EarlyExit.Sequence;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EarlyExit.MLNet.TokenEarlyExitNer;

/// <summary>Entity-level and early-exit metrics of labelled sentences.</summary>
/// <param name="Entities">Precision, recall and F1 per entity type and micro-averaged, and token accuracy, by conlleval's rules.</param>
/// <param name="MeanTokenExitLayer">The mean 1-based exit layer over every word.</param>
/// <param name="TokenLayerSpeedup">L · words / Σ word exit layers: how many times fewer token-layers ran than at full depth.</param>
/// <param name="Layers">L.</param>
/// <param name="ExitLayerHistogram">How many words stopped at each layer (index 0 = layer 1).</param>
public sealed record NerMetrics(EntityEvaluationResult Entities, double MeanTokenExitLayer, double TokenLayerSpeedup, int Layers, IReadOnlyList<long> ExitLayerHistogram);

/// <summary>Evaluates the output of a <see cref="TokenEarlyExitNerTransformer"/>.</summary>
public static class NerEvaluation
{
    /// <summary>
    /// Compares predicted tags with gold tags row by row. Both columns may hold tag strings or keys with
    /// key values (as MapValueToKey / the transformer make them).
    /// </summary>
    /// <param name="scored">The transformer's output.</param>
    /// <param name="layers">L, the model's layer count (for the speed-up).</param>
    /// <param name="labelColumnName">The gold tags.</param>
    /// <param name="predictedLabelColumnName">The predicted tags.</param>
    /// <param name="tokenExitLayersColumnName">Each word's exit layer.</param>
    /// <exception cref="ArgumentException">A row's gold and predicted tags differ in length, or a gold tag is a key the label mapping does not know (a tag unseen in training); the message names the row.</exception>
    public static NerMetrics Evaluate(IDataView scored, int layers, string labelColumnName = "Label", string predictedLabelColumnName = "PredictedLabel",
        string tokenExitLayersColumnName = "TokenExitLayers")
    {
        ArgumentNullException.ThrowIfNull(scored);
        ArgumentOutOfRangeException.ThrowIfLessThan(layers, 1);
        DataViewSchema.Column gold = Column(scored.Schema, labelColumnName);
        DataViewSchema.Column predicted = Column(scored.Schema, predictedLabelColumnName);
        DataViewSchema.Column exits = Column(scored.Schema, tokenExitLayersColumnName);
        var evaluator = new EntityEvaluator();
        var histogram = new long[layers];
        long words = 0;
        long layerSum = 0;
        using DataViewRowCursor cursor = scored.GetRowCursor([gold, predicted, exits]);
        Func<string[]> readGold = TagReader(cursor, gold);
        Func<string[]> readPredicted = TagReader(cursor, predicted);
        ValueGetter<VBuffer<int>> readExits = cursor.GetGetter<VBuffer<int>>(exits);
        VBuffer<int> exitLayers = default;
        while (cursor.MoveNext())
        {
            string[] goldTags;
            try
            {
                goldTags = readGold();
            }
            catch (UnknownTagException e)
            {
                throw new ArgumentException(
                    $"Row {cursor.Position}: word {e.Position} has a gold tag the model was not trained on (key 0 after MapValueToKey); evaluation needs tags the model knows.", e);
            }

            string[] predictedTags = readPredicted();
            if (goldTags.Length != predictedTags.Length)
            {
                throw new ArgumentException($"Row {cursor.Position} has {goldTags.Length} gold tags but {predictedTags.Length} predicted tags.");
            }

            evaluator.Add(goldTags, predictedTags);
            readExits(ref exitLayers);
            foreach (int layer in exitLayers.DenseValues())
            {
                histogram[Math.Clamp(layer, 1, layers) - 1]++;
                layerSum += layer;
                words++;
            }
        }

        double mean = words == 0 ? 0 : (double)layerSum / words;
        return new NerMetrics(evaluator.Result(), mean, layerSum == 0 ? 1 : (double)layers * words / layerSum, layers, histogram);
    }

    private static DataViewSchema.Column Column(DataViewSchema schema, string name) =>
        schema.GetColumnOrNull(name) ?? throw new ArgumentOutOfRangeException(nameof(schema),
            $"Column '{name}' is not in the scored data; its columns are: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => c.Name))}.");

    /// <summary>
    /// A reader of tag strings, stored either as text or as keys with text key values; a key 0 (a tag
    /// the label mapping never saw) throws <see cref="UnknownTagException"/>.
    /// </summary>
    internal static Func<string[]> TagReader(DataViewRow row, DataViewSchema.Column column)
    {
        if (column.Type is VectorDataViewType { ItemType: TextDataViewType })
        {
            ValueGetter<VBuffer<ReadOnlyMemory<char>>> text = row.GetGetter<VBuffer<ReadOnlyMemory<char>>>(column);
            return () =>
            {
                VBuffer<ReadOnlyMemory<char>> value = default;
                text(ref value);
                return value.DenseValues().Select(v => v.ToString()).ToArray();
            };
        }

        if (column.Type is VectorDataViewType { ItemType: KeyDataViewType } && column.HasKeyValues())
        {
            VBuffer<ReadOnlyMemory<char>> names = default;
            column.GetKeyValues(ref names);
            string[] tags = names.DenseValues().Select(v => v.ToString()).ToArray();
            ValueGetter<VBuffer<uint>> keys = row.GetGetter<VBuffer<uint>>(column);
            return () =>
            {
                VBuffer<uint> value = default;
                keys(ref value);
                return value.DenseValues().Select((k, i) => KeyIndex.ToIndex(k) is int tag ? tags[tag] : throw new UnknownTagException(i)).ToArray();
            };
        }

        throw new ArgumentOutOfRangeException(nameof(column), $"Column '{column.Name}' must hold tags as a vector of strings or of keys with text key values, found {column.Type}.");
    }

    /// <summary>A gold tag that is key 0: the label mapping never saw it.</summary>
    internal sealed class UnknownTagException(int position) : Exception
    {
        public int Position { get; } = position;
    }
}
