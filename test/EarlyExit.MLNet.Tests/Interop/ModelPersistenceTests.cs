using System.IO.Compression;
using System.Reflection;
using EarlyExit.MLNet.Diagnostics;
using EarlyExit.MLNet.Interop;
using EarlyExit.MLNet.Tests.TestSupport;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EarlyExit.MLNet.Tests.Interop;

/// <summary>
/// Save/load of a custom transformer inside ML.NET model zips (Interop/ModelPersistence.cs), with the
/// ScaleTransformer probe in a MapValueToKey -> Scale -> MapKeyToValue pipeline, in this process and in
/// a fresh one.
/// </summary>
public sealed class ModelPersistenceTests : IDisposable
{
    private static readonly byte[] s_payload = [1, 2, 3, 254];
    private readonly string _folder = Directory.CreateTempSubdirectory("mlnet-interop-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Save_Pipeline_WritesHeaderAndNamedEntryInsideTheZip()
    {
        string path = SavePipeline(new MLContext(seed: 1));

        using ZipArchive zip = ZipFile.OpenRead(path);
        var names = zip.Entries.Select(e => e.FullName).ToList();
        Assert.Contains("TransformerChain/Transform_001/Model.key", names);
        Assert.Contains("TransformerChain/Transform_001/" + ScaleTransformer.ScaleEntry, names);
        using var header = new MemoryStream();
        using (Stream key = zip.GetEntry("TransformerChain/Transform_001/Model.key")!.Open())
        {
            key.CopyTo(header);
        }

        string text = System.Text.Encoding.ASCII.GetString(header.ToArray());
        Assert.Contains(ScaleTransformer.LoaderSignature, text);
        Assert.Contains("EarlyExit.MLNet", text);
    }

    [Fact]
    public void Load_SameProcess_RestoresFactorPayloadAndValues()
    {
        var ml = new MLContext(seed: 1);
        string path = SavePipeline(ml);

        ITransformer loaded = new MLContext(seed: 2).Model.Load(path, out DataViewSchema inputSchema);

        var chain = Assert.IsType<TransformerChain<ITransformer>>(loaded);
        var scale = Assert.IsType<ScaleTransformer>(chain.ElementAt(1));
        Assert.Equal(3f, scale.Factor);
        Assert.Equal(s_payload, scale.Payload);
        Assert.Equal(["Cat", "X"], inputSchema.Select(c => c.Name));
        float[] scaled = loaded.Transform(Data(ml)).GetColumn<float>("Scaled").ToArray();
        Assert.Equal([3f, 7.5f], scaled);
    }

    [Fact]
    public void Load_FreshProcess_FindsTheLoaderWithoutRegistrationAndTransforms()
    {
        string path = SavePipeline(new MLContext(seed: 1));

        string output = LoadProbe.Run(path);

        Assert.Contains("before-load: EarlyExit.MLNet loaded=False", output);
        Assert.Contains("chain: Microsoft.ML.Transforms.ValueToKeyMappingTransformer, EarlyExit.MLNet.Diagnostics.ScaleTransformer, Microsoft.ML.Transforms.KeyToValueMappingTransformer", output);
        Assert.Contains("payload: 010203FE", output);
        Assert.Contains("row: Cat=a X=1 Scaled=3", output);
        Assert.Contains("row: Cat=b X=2.5 Scaled=7.5", output);
        Assert.Contains("engine: Cat=b X=4 Scaled=12", output);
        Assert.Contains("Loaded X -> Scaled x3 with a 4-byte payload.", output);
    }

    [Fact]
    public void CreatePredictionEngine_LoadedPipeline_Predicts()
    {
        var ml = new MLContext(seed: 1);
        ITransformer loaded = ml.Model.Load(SavePipeline(ml), out _);

        var engine = ml.Model.CreatePredictionEngine<Input, Output>(loaded);
        Output prediction = engine.Predict(new Input { Cat = "b", X = -2f });

        Assert.Equal("b", prediction.Cat);
        Assert.Equal(-6f, prediction.Scaled);
    }

    [Fact]
    public void Load_LogsThroughTheLoadingContext()
    {
        var ml = new MLContext(seed: 1);
        string path = SavePipeline(ml);
        var loading = new MLContext(seed: 3);
        var messages = new List<string>();
        loading.Log += (_, e) =>
        {
            lock (messages)
            {
                messages.Add(e.Message);
            }
        };

        loading.Model.Load(path, out _);

        Assert.Contains(messages, m => m.Contains("Source=ScaleTransformer; Load", StringComparison.Ordinal) && m.Contains("4-byte payload", StringComparison.Ordinal));
    }

    [Fact]
    public void LoadableClasses_LoaderSignatureMatchesTheFormatOfTheirType()
    {
        var attributes = typeof(ModelFormat).Assembly.GetCustomAttributesData()
            .Where(a => a.AttributeType.FullName == "Microsoft.ML.LoadableClassAttribute").ToList();

        Assert.NotEmpty(attributes);
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
    [InlineData("EESCALE1", "")]
    [InlineData("EESCALE1", "EarlyExitLoaderSignatureTooLong")]
    public void ModelFormat_InvalidSignature_Throws(string modelSignature, string loaderSignature)
    {
        Assert.ThrowsAny<ArgumentException>(() => new ModelFormat(modelSignature, 1, 1, 1, loaderSignature));
    }

    [Fact]
    public void ModelFormat_ReadableNewerThanWritten_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => new ModelFormat("EESCALE1", versionWritten: 1, versionReadable: 2, minVersionReadable: 1, "EarlyExitX"));

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

    private string SavePipeline(MLContext ml)
    {
        IDataView data = Data(ml);
        ITransformer toKey = ml.Transforms.Conversion.MapValueToKey("Cat").Fit(data);
        var scale = new ScaleTransformer(ml, "X", "Scaled", 3f, s_payload);
        IDataView keyed = scale.Transform(toKey.Transform(data));
        ITransformer toValue = ml.Transforms.Conversion.MapKeyToValue("Cat").Fit(keyed);
        var chain = new TransformerChain<ITransformer>(toKey, scale, toValue);
        string path = Path.Combine(_folder, $"model-{Guid.NewGuid():N}.zip");
        ml.Model.Save(chain, data.Schema, path);
        return path;
    }

    private static IDataView Data(MLContext ml) =>
        ml.Data.LoadFromEnumerable([new Input { Cat = "a", X = 1f }, new Input { Cat = "b", X = 2.5f }]);

    private sealed class Input
    {
        public string Cat { get; set; } = "";

        public float X { get; set; }
    }

    private sealed class Output
    {
        public string Cat { get; set; } = "";

        public float X { get; set; }

        public float Scaled { get; set; }
    }
}
