using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using EarlyExit.Build;
using Microsoft.ML;

namespace EarlyExit.Build.Tests;

/// <summary>
/// build/Publicize/MetadataPublicizer.cs on the real Microsoft.ML.Core.dll, checked against
/// System.Reflection.Metadata (which MSBuild's inline tasks cannot use).
/// </summary>
public sealed class MetadataPublicizerTests
{
    private static readonly string s_corePath = typeof(ModelSaveContext).Assembly.Location;

    [Fact]
    public void ReadRows_MicrosoftMLCore_MatchesSystemReflectionMetadata()
    {
        byte[] bytes = File.ReadAllBytes(s_corePath);

        List<MetadataRow> rows = MetadataPublicizer.ReadRows(bytes, s_corePath);

        var expected = ReadWithSystemReflectionMetadata(bytes);
        Assert.Equal(expected.Count, rows.Count);
        Assert.Equal(expected, rows.Select(r => (r.Table, r.Row, r.Name, r.Flags)).ToList());
    }

    [Fact]
    public void Publicize_ListedNames_MakesExactlyThoseRowsPublic()
    {
        byte[] bytes = File.ReadAllBytes(s_corePath);
        var before = MetadataPublicizer.ReadRows(bytes).ToDictionary(r => (r.Table, r.Row));
        string[] names = ["Microsoft.ML.ModelSaveContext::SetVersionInfo", "Microsoft.ML.SchemaShape/Column::.ctor", "Microsoft.ML.ModelLoadContext"];

        MetadataPublicizer.Publicize(bytes, names);

        var after = MetadataPublicizer.ReadRows(bytes);
        var changed = after.Where(r => r.Flags != before[(r.Table, r.Row)].Flags).Select(r => r.Name).Distinct().Order().ToList();
        Assert.Equal(["Microsoft.ML.ModelLoadContext", "Microsoft.ML.ModelSaveContext::SetVersionInfo", "Microsoft.ML.SchemaShape/Column::.ctor"], changed);
        Assert.All(after.Where(r => names.Contains(r.Name)), r => Assert.True(IsPublic(r), r.Name));
        Assert.All(after, r => Assert.Equal(before[(r.Table, r.Row)].Flags & ~0x7, r.Flags & ~0x7));
    }

    [Fact]
    public void Publicize_PublicizedCopy_LoadsWithTheNewAccessibility()
    {
        byte[] bytes = File.ReadAllBytes(s_corePath);

        MetadataPublicizer.Publicize(bytes, ["Microsoft.ML.LoadableClassAttribute", "Microsoft.ML.ModelSaveContext::Writer"]);

        using var pe = new PEReader(new MemoryStream(bytes));
        MetadataReader md = pe.GetMetadataReader();
        TypeDefinition attribute = md.TypeDefinitions.Select(md.GetTypeDefinition).Single(t => md.GetString(t.Name) == "LoadableClassAttribute");
        Assert.Equal(TypeAttributes.Public, attribute.Attributes & TypeAttributes.VisibilityMask);
        TypeDefinition saveContext = md.TypeDefinitions.Select(md.GetTypeDefinition).Single(t => md.GetString(t.Name) == "ModelSaveContext");
        FieldDefinition writer = saveContext.GetFields().Select(md.GetFieldDefinition).Single(f => md.GetString(f.Name) == "Writer");
        Assert.Equal(FieldAttributes.Public, writer.Attributes & FieldAttributes.FieldAccessMask);
    }

    [Fact]
    public void Publicize_UnknownName_ThrowsNamingItAndLeavesBytesAlone()
    {
        byte[] bytes = File.ReadAllBytes(s_corePath);
        byte[] original = bytes.ToArray();

        var error = Assert.Throws<PublicizeException>(() => MetadataPublicizer.Publicize(bytes, ["Microsoft.ML.ModelSaveContext::NoSuchMember"], "Core.dll"));

        Assert.Contains("'Microsoft.ML.ModelSaveContext::NoSuchMember'", error.Message);
        Assert.Contains("Core.dll", error.Message);
        Assert.Equal(original, bytes);
    }

    [Fact]
    public void Publicize_NotAnAssembly_ThrowsCannotRead()
    {
        var error = Assert.Throws<PublicizeException>(() => MetadataPublicizer.ReadRows(new byte[256], "zeros.dll"));

        Assert.Contains("Cannot read metadata of 'zeros.dll'", error.Message);
    }

    [Fact]
    public void ReadList_CommentsAndBlankLines_AreSkipped()
    {
        var entries = MetadataPublicizer.ReadList(["# comment", "", "Microsoft.ML.Core: Microsoft.ML.VersionInfo  # why"]);

        Assert.Equal([new KeyValuePair<string, string>("Microsoft.ML.Core", "Microsoft.ML.VersionInfo")], entries);
    }

    [Fact]
    public void ReadList_LineWithoutAssembly_ThrowsWithLineNumber()
    {
        var error = Assert.Throws<PublicizeException>(() => MetadataPublicizer.ReadList(["# ok", "Microsoft.ML.VersionInfo"], "list.txt"));

        Assert.Contains("list.txt(2)", error.Message);
    }

    private static bool IsPublic(MetadataRow row) =>
        row.Table == MetadataPublicizer.TypeDefTable ? (row.Flags & 0x7) is 1 or 2 : (row.Flags & 0x7) == 6;

    private static List<(int Table, int Row, string Name, int Flags)> ReadWithSystemReflectionMetadata(byte[] bytes)
    {
        using var pe = new PEReader(new MemoryStream(bytes));
        MetadataReader md = pe.GetMetadataReader();
        string Name(TypeDefinitionHandle handle)
        {
            TypeDefinition type = md.GetTypeDefinition(handle);
            TypeDefinitionHandle outer = type.GetDeclaringType();
            if (!outer.IsNil)
            {
                return Name(outer) + "/" + md.GetString(type.Name);
            }

            string ns = md.GetString(type.Namespace);
            return ns.Length == 0 ? md.GetString(type.Name) : ns + "." + md.GetString(type.Name);
        }

        var rows = new List<(int, int, string, int)>();
        foreach (TypeDefinitionHandle handle in md.TypeDefinitions)
        {
            TypeDefinition type = md.GetTypeDefinition(handle);
            string typeName = Name(handle);
            rows.Add((MetadataPublicizer.TypeDefTable, MetadataTokens.GetRowNumber(handle), typeName, (int)type.Attributes));
            foreach (FieldDefinitionHandle field in type.GetFields())
            {
                rows.Add((MetadataPublicizer.FieldTable, MetadataTokens.GetRowNumber(field), typeName + "::" + md.GetString(md.GetFieldDefinition(field).Name), (int)md.GetFieldDefinition(field).Attributes));
            }

            foreach (MethodDefinitionHandle method in type.GetMethods())
            {
                rows.Add((MetadataPublicizer.MethodDefTable, MetadataTokens.GetRowNumber(method), typeName + "::" + md.GetString(md.GetMethodDefinition(method).Name), (int)md.GetMethodDefinition(method).Attributes));
            }
        }

        return rows;
    }
}
