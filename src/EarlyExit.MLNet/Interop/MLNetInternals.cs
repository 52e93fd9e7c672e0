// The one place that reaches non-public Microsoft.ML (with ModelPersistence.cs beside it).
//
// WHY. ML.NET's extension surface is internal (shared/STYLE.md §0): the members of ModelSaveContext,
// ModelLoadContext, LoadableClassAttribute, the constructor of SchemaShape.Column, and the environment
// behind a catalog. A transformer that mlContext.Model.Save/Load round-trips, with its payload inside the
// model zip, needs all of them.
//
// THE ROUTE (chosen): compile against publicized copies, run with IgnoresAccessChecksTo.
// - Build: build/Publicize.targets makes exactly the members listed in MLNetInternals.txt public in
//   compile-time copies of Microsoft.ML.Core/Data (accessibility bits only). The compiler then checks
//   every use against the referenced Microsoft.ML's real signatures, and a name missing from a future
//   Microsoft.ML fails the build.
// - Run: the real assemblies load. CoreCLR honours [IgnoresAccessChecksTo] both for IL access (without
//   it, Save throws MethodAccessException) and for the visibility check of custom attributes, so
//   ComponentCatalog.RegisterAssembly sees our [assembly: LoadableClass] (without it the attribute is
//   silently filtered and loading fails with "Couldn't load model"). Both proven by experiment on
//   .NET 10 + Microsoft.ML 5.0.1, and again on 6.0.0.
// - Load in a fresh process needs no user registration: ModelSaveContext.SetVersionInfo stores our
//   loader assembly name in each transformer's header; ModelLoadContext calls Assembly.Load on it and
//   ComponentCatalog.RegisterAssembly before looking up the loader signature.
//
// REJECTED.
// - Reflection only (invoke internals by name): Save and the environment work, but the catalog learns
//   about a loader only from a LoadableClassAttribute, which C# cannot write without compile-time
//   access. Runtime registration (building LoadableClassInfo via reflection, or a Reflection.Emit
//   assembly carrying the attribute plus IgnoresAccessChecksTo; the runtime does instantiate the
//   internal attribute then, and only then) needs a call on every MLContext before Model.Load, so a
//   fresh process that just calls Model.Load fails. It also trades compiler-checked calls for strings.
// - CustomMapping + [CustomMappingFactoryAttribute]: the saved model holds only the contract name and
//   the factory is created with its parameterless constructor, so nothing of ours (weights, tokenizer,
//   settings) can live inside the zip; the factory would have to find files elsewhere.
// - Friend access (InternalsVisibleTo): needs Microsoft's strong-name key.
// - A publicizer package (Krafs.Publicizer, IgnoresAccessChecksToGenerator): not in the package registry
//   here. Ours is one build file (build/Publicize/MetadataPublicizer.cs, flag bytes only, tested against
//   System.Reflection.Metadata), and it publicizes only the listed members, so the compiler still keeps
//   every other internal out of reach.
//
// RULES. Only Interop/ touches the listed internals (a test scans the IL to enforce it, and that the
// list and the use agree). Every entry point calls EnsureAvailable() first and does its internal work
// in a separate non-inlined method, so a Microsoft.ML without a listed member fails with a message
// naming the Microsoft.ML it was compiled against (Directory.Packages.props) instead of a MissingMethodException from the JIT.
using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

[assembly: IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: IgnoresAccessChecksTo("Microsoft.ML.Data")]

namespace EarlyExit.MLNet.Interop;

/// <summary>Access to the internal Microsoft.ML members listed in MLNetInternals.txt.</summary>
internal static class MLNetInternals
{
    /// <summary>
    /// The Microsoft.ML version whose internals this build was compiled against: $(MicrosoftMLVersion) of
    /// Directory.Packages.props, stamped into the assembly by the project file.
    /// </summary>
    public static string ExpectedMLNetVersion { get; } =
        typeof(MLNetInternals).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "CompiledAgainstMicrosoftML")?.Value
        ?? throw new InvalidOperationException("EarlyExit.MLNet was built without its CompiledAgainstMicrosoftML metadata.");

    private const string ListResource = "EarlyExit.MLNet.Interop.MLNetInternals.txt";

    private static readonly Lazy<Exception?> s_availability = new(() =>
    {
        try
        {
            Verify(DefaultLookup);
            return null;
        }
        catch (InvalidOperationException e)
        {
            return e;
        }
    });

    /// <summary>The (assembly, name) entries of MLNetInternals.txt, in file order.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Entries { get; } = ReadEntries();

    /// <summary>
    /// Throws <see cref="InvalidOperationException"/> naming Microsoft.ML <see cref="ExpectedMLNetVersion"/>
    /// when the loaded Microsoft.ML lacks a listed member. Checked once per process.
    /// </summary>
    public static void EnsureAvailable()
    {
        if (s_availability.Value is { } error)
        {
            throw new InvalidOperationException(error.Message, error);
        }
    }

    /// <summary>
    /// Checks every listed member with <paramref name="exists"/> (assembly simple name, listed name) and
    /// throws one <see cref="InvalidOperationException"/> naming all missing ones.
    /// </summary>
    public static void Verify(Func<string, string, bool> exists)
    {
        ArgumentNullException.ThrowIfNull(exists);
        var missing = Entries.Where(e => !exists(e.Key, e.Value)).Select(e => $"{e.Key}: {e.Value}").ToList();
        if (missing.Count == 0)
        {
            return;
        }

        throw new InvalidOperationException(
            $"EarlyExit.MLNet needs Microsoft.ML {ExpectedMLNetVersion}: it uses internal members of Microsoft.ML that the loaded " +
            $"Microsoft.ML ({LoadedVersion()}) lacks: {string.Join(", ", missing)}. " +
            $"Reference Microsoft.ML {ExpectedMLNetVersion}, the version this build of EarlyExit.MLNet was compiled against.");
    }

    /// <summary>The informational version of the loaded Microsoft.ML.Core, e.g. "6.0.0+…".</summary>
    public static string LoadedVersion() =>
        typeof(IHostEnvironment).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(IHostEnvironment).Assembly.GetName().Version?.ToString()
        ?? "unknown version";

    /// <summary>Whether the loaded assembly <paramref name="assembly"/> has the listed type or member <paramref name="name"/>.</summary>
    public static bool DefaultLookup(string assembly, string name)
    {
        Assembly? asm = AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => a.GetName().Name == assembly);
        if (asm is null)
        {
            try
            {
                asm = Assembly.Load(new AssemblyName(assembly));
            }
            catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException)
            {
                return false;
            }
        }

        int sep = name.IndexOf("::", StringComparison.Ordinal);
        string typeName = (sep < 0 ? name : name[..sep]).Replace('/', '+');
        Type? type = asm.GetType(typeName, throwOnError: false);
        if (type is null || sep < 0)
        {
            return type is not null;
        }

        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;
        string member = name[(sep + 2)..];
        return member == ".ctor" ? type.GetConstructors(all).Length > 0 : type.GetMember(member, all).Length > 0;
    }

    /// <summary>
    /// The environment behind a trainers catalog such as <c>mlContext.MulticlassClassification.Trainers</c>:
    /// the user's <see cref="MLContext"/> environment (its log, its <see cref="ComponentCatalog"/>).
    /// </summary>
    public static IHostEnvironment GetEnvironment(TrainCatalogBase.CatalogInstantiatorBase catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        EnsureAvailable();
        return GetEnvironmentCore(catalog);
    }

    /// <summary>
    /// A <see cref="SchemaShape.Column"/>, as ML.NET's own estimators build them for
    /// <see cref="IEstimator{TTransformer}.GetOutputSchema"/>. <paramref name="itemType"/> is the item type
    /// (never a key or vector type: use <paramref name="kind"/> and <paramref name="isKey"/>; a key's item
    /// type is its raw type, e.g. <see cref="NumberDataViewType.UInt32"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The name is empty or the item type is a key or vector type.</exception>
    public static SchemaShape.Column CreateColumn(string name, SchemaShape.Column.VectorKind kind, DataViewType itemType, bool isKey = false, SchemaShape? annotations = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(itemType);
        if (itemType is KeyDataViewType or VectorDataViewType)
        {
            throw new ArgumentException(
                $"Column '{name}': the item type must be a primitive type, found {itemType}; describe keys with isKey and vectors with kind.",
                nameof(itemType));
        }

        if (isKey && !KeyDataViewType.IsValidDataType(itemType.RawType))
        {
            throw new ArgumentException($"Column '{name}': a key's item type must be an unsigned integer type, found {itemType}.", nameof(itemType));
        }

        EnsureAvailable();
        return CreateColumnCore(name, kind, itemType, isKey, annotations);
    }

    /// <summary>The <see cref="SchemaShape"/> of a schema, as estimators see the output of the step before them.</summary>
    public static SchemaShape ShapeOf(DataViewSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        EnsureAvailable();
        return ShapeOfCore(schema);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static SchemaShape ShapeOfCore(DataViewSchema schema) => SchemaShape.Create(schema);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static IHostEnvironment GetEnvironmentCore(TrainCatalogBase.CatalogInstantiatorBase catalog) =>
        ((IInternalCatalog)catalog).Environment;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static SchemaShape.Column CreateColumnCore(string name, SchemaShape.Column.VectorKind kind, DataViewType itemType, bool isKey, SchemaShape? annotations) =>
        new(name, kind, itemType, isKey, annotations);

    private static IReadOnlyList<KeyValuePair<string, string>> ReadEntries()
    {
        using Stream stream = typeof(MLNetInternals).Assembly.GetManifestResourceStream(ListResource)
            ?? throw new InvalidOperationException($"EarlyExit.MLNet was built without its resource '{ListResource}'.");
        using var reader = new StreamReader(stream);
        var entries = new List<KeyValuePair<string, string>>();
        while (reader.ReadLine() is { } raw)
        {
            int hash = raw.IndexOf('#');
            string line = (hash >= 0 ? raw[..hash] : raw).Trim();
            int colon = line.IndexOf(": ", StringComparison.Ordinal);
            if (colon > 0)
            {
                entries.Add(new(line[..colon].Trim(), line[(colon + 2)..].Trim()));
            }
        }

        return entries;
    }
}
