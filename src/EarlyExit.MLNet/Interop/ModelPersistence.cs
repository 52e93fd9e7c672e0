// Save and load of our transformers inside ML.NET model zips (mlContext.Model.Save/Load), over the
// internal ModelSaveContext/ModelLoadContext members (see MLNetInternals.cs for the route and its rules).
//
// A transformer T implements IModelPersistable<T>, forwards ICanSaveModel.Save to ModelPersistence.Save,
// and gets one line in the list below. Nothing else: no registration call in user code, in this process
// or a fresh one.
//
// What ends up in the zip, in the transformer's own folder (e.g. TransformerChain/Transform_001/):
//   Model.key    ML.NET's header (model signature, versions, loader signature, loader assembly name
//                "EarlyExit.MLNet") followed by the bytes T writes to ModelWriter.Writer
//   <name>       one entry per ModelWriter.WriteStream(name, ...) (weights, tokenizer files, JSON)
using System.Runtime.CompilerServices;
using EarlyExit.MLNet.Interop;
using Microsoft.ML;
using Microsoft.ML.Runtime;

// Every transformer that ML.NET can load from a model zip: (type, its loader, no arguments, the load
// signature, a display name, the loader signature). The loader signature must equal T.Format.LoaderSignature
// (a test checks it) and be unique in the ComponentCatalog (prefix it with EarlyExit).
[assembly: LoadableClass(typeof(EarlyExit.MLNet.Palbert.PalbertTransformer), typeof(ModelLoader<EarlyExit.MLNet.Palbert.PalbertTransformer>), null,
    typeof(SignatureLoadModel), "EarlyExit PALBERT text classifier", EarlyExit.MLNet.Palbert.PalbertTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(EarlyExit.MLNet.TokenEarlyExitNer.TokenEarlyExitNerTransformer), typeof(ModelLoader<EarlyExit.MLNet.TokenEarlyExitNer.TokenEarlyExitNerTransformer>), null,
    typeof(SignatureLoadModel), "EarlyExit token-level early-exit NER", EarlyExit.MLNet.TokenEarlyExitNer.TokenEarlyExitNerTransformer.LoaderSignature)]

namespace EarlyExit.MLNet.Interop;

/// <summary>
/// A transformer that saves into and loads from an ML.NET model zip. Implementations forward
/// <see cref="ICanSaveModel.Save"/> to <see cref="ModelPersistence.Save{T}"/> and are listed with a
/// <c>LoadableClass</c> attribute in Interop/ModelPersistence.cs.
/// </summary>
/// <typeparam name="TSelf">The transformer type.</typeparam>
internal interface IModelPersistable<TSelf>
    where TSelf : class, ITransformer, IModelPersistable<TSelf>
{
    /// <summary>The format's signature, versions and loader signature.</summary>
    static abstract ModelFormat Format { get; }

    /// <summary>Reads a transformer that <see cref="SaveModel"/> wrote (any version the format can read back).</summary>
    /// <param name="env">The loading <see cref="MLContext"/>'s environment (log, component catalog).</param>
    /// <param name="reader">The header-checked reader.</param>
    static abstract TSelf LoadModel(IHostEnvironment env, ModelReader reader);

    /// <summary>Writes the transformer: fields to <see cref="ModelWriter.Writer"/>, files with <see cref="ModelWriter.WriteStream"/>.</summary>
    void SaveModel(ModelWriter writer);
}

/// <summary>
/// The identity and version triple of a saved format, ML.NET's VersionInfo discipline: a reader accepts
/// a model whose <c>VersionReadable</c> is at most its own <see cref="VersionWritten"/> and whose written
/// version is at least its own <see cref="MinVersionReadable"/>.
/// </summary>
internal sealed class ModelFormat
{
    /// <summary>Longest loader signature ML.NET's model header holds.</summary>
    public const int MaxLoaderSignatureLength = 24;

    /// <summary>Creates a format description; every argument is checked.</summary>
    /// <param name="modelSignature">Exactly 8 ASCII characters naming the format (stored in the header).</param>
    /// <param name="versionWritten">The version this code writes.</param>
    /// <param name="versionReadable">The oldest reader version that can read what this code writes.</param>
    /// <param name="minVersionReadable">The oldest written version this code can read.</param>
    /// <param name="loaderSignature">The catalog name of the loader (ASCII, at most 24 characters).</param>
    public ModelFormat(string modelSignature, uint versionWritten, uint versionReadable, uint minVersionReadable, string loaderSignature)
    {
        ArgumentNullException.ThrowIfNull(modelSignature);
        ArgumentException.ThrowIfNullOrWhiteSpace(loaderSignature);
        if (modelSignature.Length != 8 || modelSignature.Any(c => c > 0x7F))
        {
            throw new ArgumentException($"The model signature must be 8 ASCII characters, found '{modelSignature}'.", nameof(modelSignature));
        }

        if (loaderSignature.Length > MaxLoaderSignatureLength || loaderSignature.Any(c => c > 0x7F))
        {
            throw new ArgumentException(
                $"The loader signature must be ASCII and at most {MaxLoaderSignatureLength} characters, found '{loaderSignature}' ({loaderSignature.Length}).",
                nameof(loaderSignature));
        }

        if (versionReadable > versionWritten || minVersionReadable > versionWritten)
        {
            throw new ArgumentException(
                $"Versions must satisfy readable ({versionReadable:X8}) <= written ({versionWritten:X8}) and min readable ({minVersionReadable:X8}) <= written.",
                nameof(versionReadable));
        }

        ModelSignature = modelSignature;
        VersionWritten = versionWritten;
        VersionReadable = versionReadable;
        MinVersionReadable = minVersionReadable;
        LoaderSignature = loaderSignature;
    }

    /// <summary>The 8-character format name.</summary>
    public string ModelSignature { get; }

    /// <summary>The version this code writes.</summary>
    public uint VersionWritten { get; }

    /// <summary>The oldest reader version that can read what this code writes.</summary>
    public uint VersionReadable { get; }

    /// <summary>The oldest written version this code can read.</summary>
    public uint MinVersionReadable { get; }

    /// <summary>The catalog name of the loader.</summary>
    public string LoaderSignature { get; }

    /// <summary>The loader assembly name stored in the header: ModelLoadContext loads and registers it.</summary>
    internal static string LoaderAssemblyName => typeof(ModelFormat).Assembly.GetName().Name!;
}

/// <summary>Writes one transformer's part of a model zip. Valid only during <see cref="IModelPersistable{TSelf}.SaveModel"/>.</summary>
internal sealed class ModelWriter
{
    private readonly ModelSaveContext _ctx;

    internal ModelWriter(ModelSaveContext ctx)
    {
        _ctx = ctx;
        Writer = GetWriter(ctx);
    }

    /// <summary>The transformer's main stream (after ML.NET's header), for fields.</summary>
    public BinaryWriter Writer { get; }

    /// <summary>
    /// Writes a named entry in the transformer's folder of the zip (e.g. "weights.bin",
    /// "tokenizer/vocab.txt", "settings.json").
    /// </summary>
    public void WriteStream(string name, Action<BinaryWriter> write)
    {
        ModelPersistence.CheckEntryName(name);
        ArgumentNullException.ThrowIfNull(write);
        WriteStreamCore(_ctx, name, write);
    }

    /// <summary>Writes <paramref name="bytes"/> as a named entry.</summary>
    public void WriteBytes(string name, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        WriteStream(name, w => w.Write(copy));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static BinaryWriter GetWriter(ModelSaveContext ctx) => ctx.Writer;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void WriteStreamCore(ModelSaveContext ctx, string name, Action<BinaryWriter> write) =>
        ctx.SaveBinaryStream(name, write);
}

/// <summary>Reads one transformer's part of a model zip. Valid only during <see cref="IModelPersistable{TSelf}.LoadModel"/>.</summary>
internal sealed class ModelReader
{
    private readonly ModelLoadContext _ctx;

    internal ModelReader(ModelLoadContext ctx)
    {
        _ctx = ctx;
        Reader = ctx.Reader;
        VersionWritten = ctx.Header.ModelVerWritten;
    }

    /// <summary>The transformer's main stream (after ML.NET's header).</summary>
    public BinaryReader Reader { get; }

    /// <summary>The format version the model was written with (for reading older versions).</summary>
    public uint VersionWritten { get; }

    /// <summary>Reads a named entry if the zip has it; returns false when it does not.</summary>
    public bool TryReadStream(string name, Action<BinaryReader> read)
    {
        ModelPersistence.CheckEntryName(name);
        ArgumentNullException.ThrowIfNull(read);
        return _ctx.TryLoadBinaryStream(name, read);
    }

    /// <summary>Reads a named entry; throws <see cref="InvalidDataException"/> naming the entry when it is missing.</summary>
    public void ReadStream(string name, Action<BinaryReader> read)
    {
        if (!TryReadStream(name, read))
        {
            throw new InvalidDataException($"The model has no entry '{name}' in '{_ctx.Directory}'; it is incomplete or was not written by this transformer.");
        }
    }

    /// <summary>Reads a whole named entry as bytes.</summary>
    public byte[] ReadBytes(string name)
    {
        byte[] bytes = [];
        ReadStream(name, r =>
        {
            using var buffer = new MemoryStream();
            r.BaseStream.CopyTo(buffer);
            bytes = buffer.ToArray();
        });
        return bytes;
    }
}

/// <summary>Entry points of save and load.</summary>
internal static class ModelPersistence
{
    /// <summary>Saves <paramref name="model"/>: the body of its <see cref="ICanSaveModel.Save"/>.</summary>
    public static void Save<T>(T model, ModelSaveContext ctx)
        where T : class, ITransformer, IModelPersistable<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(ctx);
        MLNetInternals.EnsureAvailable();
        SaveCore(model, ctx);
    }

    /// <summary>Loads a <typeparamref name="T"/> (called by <see cref="ModelLoader{T}"/>).</summary>
    internal static T Load<T>(IHostEnvironment env, ModelLoadContext ctx)
        where T : class, ITransformer, IModelPersistable<T>
    {
        ModelFormat format = T.Format;
        ctx.CheckAtModel(ToVersionInfo(format));
        return T.LoadModel(env, new ModelReader(ctx));
    }

    internal static void CheckEntryName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (name.Split('/', '\\').Any(part => part is "" or "." or ".."))
        {
            throw new ArgumentException($"Entry name '{name}' must be a relative path without empty, '.' or '..' parts.", nameof(name));
        }

        if (name.Equals("Model.key", StringComparison.OrdinalIgnoreCase) || name.Equals("Model.bin", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"Entry name '{name}' is reserved by ML.NET.", nameof(name));
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void SaveCore<T>(T model, ModelSaveContext ctx)
        where T : class, ITransformer, IModelPersistable<T>
    {
        ctx.CheckAtModel();
        ctx.SetVersionInfo(ToVersionInfo(T.Format));
        model.SaveModel(new ModelWriter(ctx));
    }

    private static VersionInfo ToVersionInfo(ModelFormat format) =>
        new(format.ModelSignature, format.VersionWritten, format.VersionReadable, format.MinVersionReadable,
            loaderAssemblyName: ModelFormat.LoaderAssemblyName, loaderSignature: format.LoaderSignature);
}

/// <summary>
/// The loader the ComponentCatalog finds through the <c>LoadableClass</c> attribute: a static
/// <c>Create(IHostEnvironment, ModelLoadContext)</c> declared on the loader type and returning exactly
/// <typeparamref name="T"/>.
/// </summary>
internal static class ModelLoader<T>
    where T : class, ITransformer, IModelPersistable<T>
{
    private static T Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        MLNetInternals.EnsureAvailable();
        return CreateCore(env, ctx);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static T CreateCore(IHostEnvironment env, ModelLoadContext ctx) => ModelPersistence.Load<T>(env, ctx);
}
