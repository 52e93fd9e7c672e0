using EarlyExit.MLNet.Interop;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace EarlyExit.MLNet.Tests.Interop;

/// <summary>The version guard, the catalog environment and column construction of Interop/MLNetInternals.cs.</summary>
public sealed class MLNetInternalsTests
{
    [Fact]
    public void ExpectedMLNetVersion_IsTheReferencedMicrosoftML()
    {
        Assert.StartsWith(MLNetInternals.ExpectedMLNetVersion + "+", MLNetInternals.LoadedVersion());
    }

    [Fact]
    public void Verify_LoadedMicrosoftML_FindsEveryListedMember()
    {
        Assert.NotEmpty(MLNetInternals.Entries);

        MLNetInternals.Verify(MLNetInternals.DefaultLookup);
        MLNetInternals.EnsureAvailable();
    }

    [Fact]
    public void Verify_MemberMissing_ThrowsNamingTheMemberAndTheExpectedVersion()
    {
        var error = Assert.Throws<InvalidOperationException>(() => MLNetInternals.Verify(
            (assembly, name) => name != "Microsoft.ML.ModelSaveContext::SetVersionInfo" && MLNetInternals.DefaultLookup(assembly, name)));

        Assert.Contains("Microsoft.ML.Core: Microsoft.ML.ModelSaveContext::SetVersionInfo", error.Message);
        Assert.Contains($"needs Microsoft.ML {MLNetInternals.ExpectedMLNetVersion}:", error.Message);
        Assert.Contains(MLNetInternals.LoadedVersion(), error.Message);
        Assert.DoesNotContain("ModelLoadContext", error.Message);
    }

    [Fact]
    public void DefaultLookup_UnknownAssemblyTypeOrMember_ReturnsFalse()
    {
        Assert.False(MLNetInternals.DefaultLookup("No.Such.Assembly", "X"));
        Assert.False(MLNetInternals.DefaultLookup("Microsoft.ML.Core", "Microsoft.ML.NoSuchType"));
        Assert.False(MLNetInternals.DefaultLookup("Microsoft.ML.Core", "Microsoft.ML.ModelSaveContext::NoSuchMember"));
        Assert.True(MLNetInternals.DefaultLookup("Microsoft.ML.Core", "Microsoft.ML.SchemaShape/Column::.ctor"));
    }

    [Fact]
    public void Entries_MatchTheListFileTheBuildPublicizes()
    {
        var fromFile = EarlyExit.Build.MetadataPublicizer.ReadList(File.ReadAllLines(TestPaths.InternalsList));

        Assert.Equal(fromFile, MLNetInternals.Entries);
    }

    [Fact]
    public void GetEnvironment_MulticlassTrainersCatalog_IsTheContextsEnvironment()
    {
        var ml = new MLContext(seed: 1);

        IHostEnvironment env = MLNetInternals.GetEnvironment(ml.MulticlassClassification.Trainers);

        Assert.Same(ml.ComponentCatalog, env.ComponentCatalog);
    }

    [Fact]
    public void GetEnvironment_HostFromCatalogEnvironment_LogsToMLContextLog()
    {
        var ml = new MLContext(seed: 1);
        var messages = new List<string>();
        ml.Log += (_, e) =>
        {
            lock (messages)
            {
                messages.Add(e.Message);
            }
        };
        IHostEnvironment env = MLNetInternals.GetEnvironment(ml.MulticlassClassification.Trainers);

        IHost host = env.Register("Palbert");
        using (IChannel ch = host.Start("Train"))
        {
            ch.Info(MessageSensitivity.None, "epoch 1 of 3");
        }

        Assert.Contains(messages, m => m.Contains("Source=Palbert; Train", StringComparison.Ordinal) && m.EndsWith("epoch 1 of 3", StringComparison.Ordinal));
    }

    [Fact]
    public void GetEnvironment_Null_ThrowsArgumentNull()
    {
        Assert.Throws<ArgumentNullException>(() => MLNetInternals.GetEnvironment(null!));
    }

    [Fact]
    public void CreateColumn_KeyWithAnnotations_HasEveryPart()
    {
        SchemaShape annotations = new([MLNetInternals.CreateColumn("KeyValues", SchemaShape.Column.VectorKind.Vector, TextDataViewType.Instance)]);

        SchemaShape.Column column = MLNetInternals.CreateColumn("PredictedLabel", SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, isKey: true, annotations);

        Assert.Equal("PredictedLabel", column.Name);
        Assert.Equal(SchemaShape.Column.VectorKind.Scalar, column.Kind);
        Assert.Equal(NumberDataViewType.UInt32, column.ItemType);
        Assert.True(column.IsKey);
        Assert.Equal("KeyValues", Assert.Single(column.Annotations).Name);
    }

    [Fact]
    public void CreateColumn_KeyTypeAsItemType_ThrowsWithFix()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            MLNetInternals.CreateColumn("Label", SchemaShape.Column.VectorKind.Scalar, new KeyDataViewType(typeof(uint), 3)));

        Assert.Contains("describe keys with isKey", error.Message);
    }

    [Fact]
    public void CreateColumn_KeyOfFloat_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            MLNetInternals.CreateColumn("Label", SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, isKey: true));

        Assert.Contains("unsigned integer", error.Message);
    }
}
