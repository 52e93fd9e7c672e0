using Microsoft.ML;

namespace EarlyExit.MLNet.Tests.TestSupport;

/// <summary>What an estimator declares must be what its fitted transformer produces (ML.NET's workout-test rule).</summary>
internal static class SchemaShapes
{
    /// <summary>Same column names, and for each the same kind, item type, key-ness and annotation names.</summary>
    public static void AssertSame(SchemaShape actual, SchemaShape declared)
    {
        Assert.Equal(actual.Select(c => c.Name).Order(), declared.Select(c => c.Name).Order());
        foreach (SchemaShape.Column expected in actual)
        {
            SchemaShape.Column shape = declared.Single(c => c.Name == expected.Name);
            Assert.Equal((expected.Kind, expected.ItemType, expected.IsKey), (shape.Kind, shape.ItemType, shape.IsKey));
            Assert.Equal(expected.Annotations.Select(a => a.Name).Order(), shape.Annotations.Select(a => a.Name).Order());
        }
    }
}
