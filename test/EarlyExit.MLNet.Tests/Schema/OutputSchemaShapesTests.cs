using EarlyExit.MLNet.Interop;
using EarlyExit.MLNet.Schema;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EarlyExit.MLNet.Tests.Schema;

/// <summary>The output column shapes agree with ML.NET's own multiclass trainers and pass ML.NET estimators' checks.</summary>
public sealed class OutputSchemaShapesTests
{
    private static readonly MLContext s_ml = new(seed: 1);

    [Fact]
    public void ScoreAndPredictedLabel_KeyLabel_EqualMLNetMulticlassTrainerShapes()
    {
        SchemaShape keyed = KeyedInput();
        SchemaShape.Column label = keyed.Single(c => c.Name == "Label");

        SchemaShape mlnet = s_ml.MulticlassClassification.Trainers.NaiveBayes().GetOutputSchema(keyed);

        AssertSameShape(mlnet.Single(c => c.Name == "Score"), OutputSchemaShapes.Score(label));
        AssertSameShape(mlnet.Single(c => c.Name == "PredictedLabel"), OutputSchemaShapes.PredictedLabel(label));
    }

    [Fact]
    public void PredictedLabel_AcceptedByMapKeyToValue()
    {
        SchemaShape.Column label = KeyedInput().Single(c => c.Name == "Label");
        var shape = new SchemaShape([OutputSchemaShapes.PredictedLabel(label)]);

        SchemaShape output = s_ml.Transforms.Conversion.MapKeyToValue("PredictedLabel").GetOutputSchema(shape);

        SchemaShape.Column value = Assert.Single(output);
        Assert.False(value.IsKey);
        Assert.Equal(TextDataViewType.Instance, value.ItemType);
    }

    [Fact]
    public void PredictedLabel_WithoutKeyValues_RejectedByMapKeyToValue()
    {
        SchemaShape.Column bareLabel = MLNetInternals.CreateColumn("Label", SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, isKey: true);
        var shape = new SchemaShape([OutputSchemaShapes.PredictedLabel(bareLabel)]);

        Assert.ThrowsAny<Exception>(() => s_ml.Transforms.Conversion.MapKeyToValue("PredictedLabel").GetOutputSchema(shape));
    }

    [Fact]
    public void ScoreAndExitLayer_AcceptedByConcatenateAndConvertType()
    {
        SchemaShape.Column label = KeyedInput().Single(c => c.Name == "Label");
        var shape = new SchemaShape([OutputSchemaShapes.Score(label), OutputSchemaShapes.Int32Scalar("ExitLayer")]);

        SchemaShape concatenated = s_ml.Transforms.Concatenate("Features2", "Score").GetOutputSchema(shape);
        SchemaShape converted = s_ml.Transforms.Conversion.ConvertType("ExitLayerF", "ExitLayer", DataKind.Single).GetOutputSchema(shape);

        Assert.Equal(NumberDataViewType.Single, concatenated.Single(c => c.Name == "Features2").ItemType);
        Assert.Equal(NumberDataViewType.Single, converted.Single(c => c.Name == "ExitLayerF").ItemType);
    }

    private static SchemaShape KeyedInput()
    {
        var raw = new SchemaShape(
        [
            MLNetInternals.CreateColumn("Label", SchemaShape.Column.VectorKind.Scalar, TextDataViewType.Instance),
            MLNetInternals.CreateColumn("Features", SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single),
        ]);
        return s_ml.Transforms.Conversion.MapValueToKey("Label").GetOutputSchema(raw);
    }

    private static void AssertSameShape(SchemaShape.Column expected, SchemaShape.Column actual)
    {
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.Kind, actual.Kind);
        Assert.Equal(expected.ItemType, actual.ItemType);
        Assert.Equal(expected.IsKey, actual.IsKey);
        Assert.Equal(
            expected.Annotations.Select(a => (a.Name, a.Kind, a.ItemType, a.IsKey)).OrderBy(a => a.Name),
            actual.Annotations.Select(a => (a.Name, a.Kind, a.ItemType, a.IsKey)).OrderBy(a => a.Name));
    }
}
