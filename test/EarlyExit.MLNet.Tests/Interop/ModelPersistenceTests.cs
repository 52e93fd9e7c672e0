using System.Reflection;
using EarlyExit.MLNet.Interop;
using Microsoft.ML;

namespace EarlyExit.MLNet.Tests.Interop;

/// <summary>
/// The rules of Interop/ModelPersistence.cs: loadable-class registrations, model formats and entry names.
/// The save/load round trips themselves run on the real transformers (PalbertTrainerTests,
/// TokenEarlyExitNerTests), in this process and in a fresh one.
/// </summary>
public sealed class ModelPersistenceTests
{
    [Fact]
    public void LoadableClasses_LoaderSignatureMatchesTheFormatOfTheirType()
    {
        var attributes = typeof(ModelFormat).Assembly.GetCustomAttributesData()
            .Where(a => a.AttributeType.FullName == "Microsoft.ML.LoadableClassAttribute").ToList();

        // The product's transformers and nothing else (no test or probe types in users' component catalogs).
        Assert.Equal(
            ["EarlyExit.MLNet.Palbert.PalbertTransformer", "EarlyExit.MLNet.TokenEarlyExitNer.TokenEarlyExitNerTransformer"],
            attributes.Select(a => ((Type)a.ConstructorArguments[0].Value!).FullName).Order());
        foreach (CustomAttributeData attribute in attributes)
        {
            var instance = (Type)attribute.ConstructorArguments[0].Value!;
            var loader = (Type)attribute.ConstructorArguments[1].Value!;
            var loadNames = (IReadOnlyCollection<CustomAttributeTypedArgument>)attribute.ConstructorArguments[^1].Value!;
            // Format may be implemented explicitly; read it through the interface's static member.
            var format = (ModelFormat)typeof(ModelPersistenceTests).GetMethod(nameof(FormatOf), BindingFlags.NonPublic | BindingFlags.Static)!
                .MakeGenericMethod(instance).Invoke(null, null)!;
            Assert.Equal(format.LoaderSignature, Assert.Single(loadNames).Value);
            Assert.Equal(typeof(ModelLoader<>).MakeGenericType(instance), loader);
        }
    }

    private static ModelFormat FormatOf<T>()
        where T : class, ITransformer, IModelPersistable<T> => T.Format;

    [Theory]
    [InlineData("SHORT", "EarlyExitX")]
    [InlineData("EETEST01", "")]
    [InlineData("EETEST01", "EarlyExitLoaderSignatureTooLong")]
    public void ModelFormat_InvalidSignature_Throws(string modelSignature, string loaderSignature)
    {
        Assert.ThrowsAny<ArgumentException>(() => new ModelFormat(modelSignature, 1, 1, 1, loaderSignature));
    }

    [Fact]
    public void ModelFormat_ReadableNewerThanWritten_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => new ModelFormat("EETEST01", versionWritten: 1, versionReadable: 2, minVersionReadable: 1, "EarlyExitX"));

        Assert.Contains("readable", error.Message);
    }

    [Theory]
    [InlineData("../escape.bin")]
    [InlineData("Model.key")]
    [InlineData("a//b")]
    public void WriteStream_BadEntryName_Throws(string name)
    {
        Assert.ThrowsAny<ArgumentException>(() => ModelPersistence.CheckEntryName(name));
    }
}
