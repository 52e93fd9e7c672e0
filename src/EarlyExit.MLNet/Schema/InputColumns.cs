using Microsoft.ML;
using Microsoft.ML.Data;

namespace EarlyExit.MLNet.Schema;

/// <summary>Finds input columns and fails with a message naming the column, the type found and the fix.</summary>
internal static class InputColumns
{
    /// <summary>The text column <paramref name="name"/> (set by option <paramref name="option"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Missing, or not text.</exception>
    public static DataViewSchema.Column RequireText(DataViewSchema schema, string name, string option, string what = "data")
    {
        DataViewSchema.Column column = Require(schema, name, option, what);
        if (column.Type is not TextDataViewType)
        {
            throw new ArgumentOutOfRangeException(option,
                $"Column '{name}' ({option}) must be String (text), found {column.Type}; load it as text or convert it, e.g. with Transforms.Conversion.ConvertType.");
        }

        return column;
    }

    /// <summary>The column <paramref name="name"/> (set by option <paramref name="option"/>), whatever its type.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Missing; the message lists the columns there are.</exception>
    public static DataViewSchema.Column Require(DataViewSchema schema, string name, string option, string what = "data") =>
        schema.GetColumnOrNull(name) ?? throw new ArgumentOutOfRangeException(option,
            $"Column '{name}' ({option}) is not in the {what}; its columns are: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => c.Name))}. Name the right column in the options.");

    /// <summary>The column <paramref name="name"/> of a schema shape (a trainer's GetOutputSchema), whatever its type.</summary>
    /// <exception cref="ArgumentOutOfRangeException">It is missing; the message lists the columns there are.</exception>
    public static SchemaShape.Column RequireShape(SchemaShape schema, string name, string option) =>
        schema.FirstOrDefault(c => c.Name == name) is { Name: not null } column
            ? column
            : throw new ArgumentOutOfRangeException(option, $"Column '{name}' ({option}) is not in the input; its columns are: {string.Join(", ", schema.Select(c => c.Name))}.");
}
