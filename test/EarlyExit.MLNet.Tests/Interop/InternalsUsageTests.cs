using System.Reflection;
using System.Reflection.Emit;
using EarlyExit.MLNet.Interop;

namespace EarlyExit.MLNet.Tests.Interop;

/// <summary>
/// Scans EarlyExit.MLNet's IL, signatures and assembly attributes for non-public Microsoft.ML types and
/// members, and checks the rules of Interop/MLNetInternals.cs: only the Interop namespace uses them, and
/// exactly the members of MLNetInternals.txt are used.
/// </summary>
public sealed class InternalsUsageTests
{
    private const string InteropNamespace = "EarlyExit.MLNet.Interop";
    private static readonly Lazy<List<(string Name, string User)>> s_uses = new(FindNonPublicUses);

    [Fact]
    public void NonPublicMLNetUse_OnlyInTheInteropNamespace()
    {
        var outside = s_uses.Value.Where(u => !u.User.StartsWith(InteropNamespace + ".", StringComparison.Ordinal) && u.User != "assembly attributes")
            .Select(u => $"{u.User} uses {u.Name}").Distinct().ToList();

        Assert.Empty(outside);
    }

    [Fact]
    public void NonPublicMLNetUse_IsListedInMLNetInternalsTxt()
    {
        var listed = MLNetInternals.Entries.Select(e => e.Value).ToHashSet();
        var listedTypes = listed.Select(n => n.Split("::")[0]).ToHashSet();

        var unlisted = s_uses.Value.Select(u => u.Name).Distinct()
            .Where(n => n.Contains("::", StringComparison.Ordinal) ? !listed.Contains(n) : !listedTypes.Contains(n))
            .ToList();

        Assert.Empty(unlisted);
    }

    [Fact]
    public void MLNetInternalsTxt_EveryEntryIsUsed()
    {
        var usedNames = s_uses.Value.Select(u => u.Name).ToHashSet();
        var usedTypes = usedNames.Select(n => n.Split("::")[0]).ToHashSet();

        var unused = MLNetInternals.Entries.Select(e => e.Value)
            .Where(n => n.Contains("::", StringComparison.Ordinal) ? !usedNames.Contains(n) : !usedTypes.Contains(n))
            .ToList();

        Assert.Empty(unused);
    }

    [Fact]
    public void Scan_FindsTheKnownUses()
    {
        var names = s_uses.Value.Select(u => u.Name).ToHashSet();

        Assert.Contains("Microsoft.ML.ModelSaveContext::SetVersionInfo", names);
        Assert.Contains("Microsoft.ML.LoadableClassAttribute", names);
        Assert.Contains("Microsoft.ML.SignatureLoadModel", names);
        Assert.Contains("Microsoft.ML.Data.IInternalCatalog", names);
    }

    private static List<(string Name, string User)> FindNonPublicUses()
    {
        Assembly ours = typeof(MLNetInternals).Assembly;
        var uses = new List<(string, string)>();
        foreach (CustomAttributeData attribute in ours.GetCustomAttributesData())
        {
            AddType(uses, attribute.AttributeType, "assembly attributes");
            foreach (CustomAttributeTypedArgument argument in attribute.ConstructorArguments)
            {
                if (argument.Value is Type type)
                {
                    AddType(uses, type, "assembly attributes");
                }
            }
        }

        foreach (Type type in ours.GetTypes())
        {
            const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            string user = type.FullName!;
            foreach (FieldInfo field in type.GetFields(all))
            {
                AddType(uses, field.FieldType, user);
            }

            foreach (MethodBase method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
            {
                string methodUser = $"{user}::{method.Name}";
                if (method is MethodInfo info)
                {
                    AddType(uses, info.ReturnType, methodUser);
                }

                foreach (ParameterInfo parameter in method.GetParameters())
                {
                    AddType(uses, parameter.ParameterType, methodUser);
                }

                byte[]? il = method.GetMethodBody()?.GetILAsByteArray();
                if (il is null)
                {
                    continue;
                }

                Type[] typeArgs = type.IsGenericType ? type.GetGenericArguments() : [];
                Type[] methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : [];
                foreach (int token in MemberTokens(il))
                {
                    MemberInfo? member = type.Module.ResolveMember(token, typeArgs, methodArgs);
                    AddMember(uses, member, methodUser);
                }
            }
        }

        return uses;
    }

    private static void AddMember(List<(string, string)> uses, MemberInfo? member, string user)
    {
        switch (member)
        {
            case Type type:
                AddType(uses, type, user);
                return;
            case MethodBase method:
                if (method.DeclaringType is { } declaring)
                {
                    AddType(uses, declaring, user);
                    if (IsMLNet(declaring) && (method.IsAssembly || method.IsFamilyAndAssembly || method.IsPrivate))
                    {
                        uses.Add(($"{ListName(declaring)}::{method.Name}", user));
                    }
                }

                foreach (Type argument in method.IsGenericMethod ? method.GetGenericArguments() : [])
                {
                    AddType(uses, argument, user);
                }

                return;
            case FieldInfo field:
                if (field.DeclaringType is { } owner)
                {
                    AddType(uses, owner, user);
                    if (IsMLNet(owner) && (field.IsAssembly || field.IsFamilyAndAssembly || field.IsPrivate))
                    {
                        uses.Add(($"{ListName(owner)}::{field.Name}", user));
                    }
                }

                return;
        }
    }

    private static void AddType(List<(string, string)> uses, Type type, string user)
    {
        while (type.HasElementType)
        {
            type = type.GetElementType()!;
        }

        if (type.IsGenericType && !type.IsGenericTypeDefinition)
        {
            foreach (Type argument in type.GetGenericArguments())
            {
                AddType(uses, argument, user);
            }

            type = type.GetGenericTypeDefinition();
        }

        if (type.IsGenericParameter || !IsMLNet(type))
        {
            return;
        }

        for (Type? t = type; t is not null; t = t.DeclaringType)
        {
            if (!t.IsPublic && !t.IsNestedPublic && !t.IsNestedFamily && !t.IsNestedFamORAssem)
            {
                uses.Add((ListName(t), user));
            }
        }
    }

    private static bool IsMLNet(Type type) => type.Assembly.GetName().Name!.StartsWith("Microsoft.ML", StringComparison.Ordinal);

    private static string ListName(Type type) => type.FullName!.Replace('+', '/');

    private static IEnumerable<int> MemberTokens(byte[] il)
    {
        int i = 0;
        while (i < il.Length)
        {
            OpCode op = il[i] == 0xFE ? TwoByte[il[i + 1]] : OneByte[il[i]];
            i += op.Size;
            switch (op.OperandType)
            {
                case OperandType.InlineField:
                case OperandType.InlineMethod:
                case OperandType.InlineType:
                case OperandType.InlineTok:
                    yield return BitConverter.ToInt32(il, i);
                    i += 4;
                    break;
                case OperandType.InlineSwitch:
                    i += 4 + 4 * BitConverter.ToInt32(il, i);
                    break;
                default:
                    i += OperandSize(op.OperandType);
                    break;
            }
        }
    }

    private static int OperandSize(OperandType type) => type switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        _ => 4,
    };

    private static readonly OpCode[] OneByte = BuildTable(twoByte: false);
    private static readonly OpCode[] TwoByte = BuildTable(twoByte: true);

    private static OpCode[] BuildTable(bool twoByte)
    {
        var table = new OpCode[256];
        foreach (FieldInfo field in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            var op = (OpCode)field.GetValue(null)!;
            ushort value = (ushort)op.Value;
            if (twoByte == (op.Size == 2))
            {
                table[value & 0xFF] = op;
            }
        }

        return table;
    }
}
