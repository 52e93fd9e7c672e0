// The values behind a key-typed label (its KeyValues annotation), kept with their item type so the
// transformer's PredictedLabel carries the same KeyValues: MapKeyToValue then gives back exactly what
// MapValueToKey was given (text, numbers or booleans). Saved as the item type's name plus the values
// as invariant text.
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EarlyExit.MLNet.Schema;

/// <summary>The class names of a key-typed label, with the item type of its KeyValues annotation.</summary>
internal sealed class LabelKeyValues
{
    private static readonly Dictionary<string, DataViewType> s_types = new(StringComparer.Ordinal)
    {
        ["Text"] = TextDataViewType.Instance,
        ["Single"] = NumberDataViewType.Single,
        ["Double"] = NumberDataViewType.Double,
        ["Int32"] = NumberDataViewType.Int32,
        ["Int64"] = NumberDataViewType.Int64,
        ["UInt32"] = NumberDataViewType.UInt32,
        ["UInt64"] = NumberDataViewType.UInt64,
        ["Boolean"] = BooleanDataViewType.Instance,
    };

    private LabelKeyValues(string typeName, IReadOnlyList<string> values, bool hasAnnotation)
    {
        TypeName = typeName;
        Values = values;
        HasAnnotation = hasAnnotation;
    }

    /// <summary>The KeyValues item type's name (Text, Single, Int32, ...).</summary>
    public string TypeName { get; }

    /// <summary>The class names, index = 0-based class (invariant text).</summary>
    public IReadOnlyList<string> Values { get; }

    /// <summary>Whether the label had a KeyValues annotation (else the values are "1".."C" and none is emitted).</summary>
    public bool HasAnnotation { get; }

    /// <summary>The KeyValues item type.</summary>
    public DataViewType ItemType => s_types[TypeName];

    /// <summary>Reads the KeyValues of <paramref name="label"/> (key type with <paramref name="classes"/> values), or key numbers when it has none.</summary>
    /// <exception cref="ArgumentException">The KeyValues have an item type this trainer cannot carry, or the wrong length.</exception>
    public static LabelKeyValues FromColumn(DataViewSchema.Column label, int classes)
    {
        DataViewSchema.Column? annotation = label.Annotations.Schema.GetColumnOrNull(OutputSchemaShapes.Kinds.KeyValues);
        if (annotation is null)
        {
            return new LabelKeyValues("Text", Enumerable.Range(1, classes).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray(), hasAnnotation: false);
        }

        if (annotation.Value.Type is not VectorDataViewType vector)
        {
            throw new ArgumentException($"Column '{label.Name}' has KeyValues of type {annotation.Value.Type}; a vector was expected.");
        }

        string? typeName = s_types.FirstOrDefault(t => t.Value.Equals(vector.ItemType)).Key;
        if (typeName is null)
        {
            throw new ArgumentException(
                $"Column '{label.Name}' has KeyValues of type {vector.ItemType}; supported: {string.Join(", ", s_types.Keys)}. Map the label from a text or number column.");
        }

        string[] values = typeName switch
        {
            "Text" => Read<ReadOnlyMemory<char>>(label, v => v.ToString()),
            "Single" => Read<float>(label, v => v.ToString("R", CultureInfo.InvariantCulture)),
            "Double" => Read<double>(label, v => v.ToString("R", CultureInfo.InvariantCulture)),
            "Int32" => Read<int>(label, v => v.ToString(CultureInfo.InvariantCulture)),
            "Int64" => Read<long>(label, v => v.ToString(CultureInfo.InvariantCulture)),
            "UInt32" => Read<uint>(label, v => v.ToString(CultureInfo.InvariantCulture)),
            "UInt64" => Read<ulong>(label, v => v.ToString(CultureInfo.InvariantCulture)),
            _ => Read<bool>(label, v => v ? "true" : "false"),
        };
        if (values.Length != classes)
        {
            throw new ArgumentException($"Column '{label.Name}' is a key of {classes} values but its KeyValues annotation has {values.Length}.");
        }

        return new LabelKeyValues(typeName, values, hasAnnotation: true);
    }

    /// <summary>Recreates saved key values.</summary>
    /// <exception cref="InvalidDataException">The type name is unknown.</exception>
    public static LabelKeyValues FromSaved(string typeName, IReadOnlyList<string> values, bool hasAnnotation)
    {
        if (!s_types.ContainsKey(typeName))
        {
            throw new InvalidDataException($"Saved label values have type '{typeName}'; known: {string.Join(", ", s_types.Keys)}.");
        }

        return new LabelKeyValues(typeName, values.ToArray(), hasAnnotation);
    }

    /// <summary>Adds the KeyValues annotation (when the label had one) to <paramref name="builder"/>.</summary>
    public void AddKeyValues(DataViewSchema.Annotations.Builder builder, string kind = OutputSchemaShapes.Kinds.KeyValues)
    {
        if (!HasAnnotation)
        {
            return;
        }

        var type = new VectorDataViewType((PrimitiveDataViewType)ItemType, Values.Count);
        switch (TypeName)
        {
            case "Text":
                Add(builder, kind, type, Values.Select(v => v.AsMemory()).ToArray());
                break;
            case "Single":
                Add(builder, kind, type, Values.Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray());
                break;
            case "Double":
                Add(builder, kind, type, Values.Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray());
                break;
            case "Int32":
                Add(builder, kind, type, Values.Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray());
                break;
            case "Int64":
                Add(builder, kind, type, Values.Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray());
                break;
            case "UInt32":
                Add(builder, kind, type, Values.Select(v => uint.Parse(v, CultureInfo.InvariantCulture)).ToArray());
                break;
            case "UInt64":
                Add(builder, kind, type, Values.Select(v => ulong.Parse(v, CultureInfo.InvariantCulture)).ToArray());
                break;
            default:
                Add(builder, kind, type, Values.Select(v => v == "true").ToArray());
                break;
        }
    }

    /// <summary>Adds the class names as text SlotNames (for Score), when the label had KeyValues.</summary>
    public void AddSlotNames(DataViewSchema.Annotations.Builder builder)
    {
        if (HasAnnotation)
        {
            Add(builder, OutputSchemaShapes.Kinds.SlotNames, new VectorDataViewType(TextDataViewType.Instance, Values.Count), Values.Select(v => v.AsMemory()).ToArray());
        }
    }

    private static void Add<T>(DataViewSchema.Annotations.Builder builder, string kind, VectorDataViewType type, T[] values) =>
        builder.Add(kind, type, (ref VBuffer<T> value) => Scoring.VectorValues.Write(values, ref value));

    private static string[] Read<T>(DataViewSchema.Column label, Func<T, string> format)
    {
        VBuffer<T> values = default;
        label.GetKeyValues(ref values);
        return values.DenseValues().Select(format).ToArray();
    }
}
