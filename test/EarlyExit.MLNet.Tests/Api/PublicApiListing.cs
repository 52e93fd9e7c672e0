using System.Globalization;
using System.Reflection;
using System.Text;

namespace EarlyExit.MLNet.Tests.Api;

/// <summary>
/// The public surface of an assembly as sorted lines: every exported type (T:), and its public and protected
/// constructors and methods (M:), properties (P:), fields (F:) and events (E:), each with its signature, so a
/// renamed parameter or a changed return type shows up as well as a new or removed member.
/// </summary>
internal static class PublicApiListing
{
    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    public static string[] Of(Assembly assembly)
    {
        var lines = new List<string>();
        foreach (Type type in assembly.GetExportedTypes())
        {
            string name = Name(type);
            lines.Add($"T:{name} {Kind(type)}");
            if (type.IsEnum)
            {
                lines.AddRange(Enum.GetNames(type).Select(n => $"F:{name}.{n}"));
                continue;
            }

            foreach (MemberInfo member in type.GetMembers(Declared).Where(Visible))
            {
                switch (member)
                {
                    case ConstructorInfo constructor:
                        lines.Add($"M:{name}.ctor({Parameters(constructor)})");
                        break;
                    case MethodInfo method when !method.IsSpecialName || method.Name.StartsWith("op_", StringComparison.Ordinal):
                        string generic = method.IsGenericMethod ? $"<{string.Join(", ", method.GetGenericArguments().Select(Name))}>" : "";
                        lines.Add($"M:{name}.{method.Name}{generic}({Parameters(method)}) -> {Name(method.ReturnType)}{(method.IsStatic ? " static" : "")}{(method.IsAbstract ? " abstract" : "")}");
                        break;
                    case PropertyInfo property:
                        string accessors = string.Join(" ", new[] { property.GetMethod, property.SetMethod }.Where(a => a is not null && Visible(a))
                            .Select(a => a == property.GetMethod ? "get;" : IsInit(a!) ? "init;" : "set;"));
                        lines.Add($"P:{name}.{property.Name}{Indexer(property)} -> {Name(property.PropertyType)} {{ {accessors} }}");
                        break;
                    case FieldInfo field:
                        string constant = field.IsLiteral ? $" = {Value(field.GetRawConstantValue())}" : field.IsInitOnly ? " readonly" : "";
                        lines.Add($"F:{name}.{field.Name} -> {Name(field.FieldType)}{(field.IsStatic && !field.IsLiteral ? " static" : "")}{constant}");
                        break;
                    case EventInfo @event:
                        lines.Add($"E:{name}.{@event.Name} -> {Name(@event.EventHandlerType!)}");
                        break;
                }
            }
        }

        return lines.Distinct().Order(StringComparer.Ordinal).ToArray();
    }

    private static bool Visible(MemberInfo member) => !member.Name.StartsWith('<') && member switch
    {
        MethodBase method => method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly,
        FieldInfo field => field.IsPublic || field.IsFamily || field.IsFamilyOrAssembly,
        PropertyInfo property => new[] { property.GetMethod, property.SetMethod }.Any(a => a is not null && Visible(a)),
        EventInfo @event => @event.AddMethod is { } add && Visible(add),
        _ => false,
    };

    private static string Kind(Type type) =>
        type.IsEnum ? "enum"
        : type.IsInterface ? "interface"
        : type.IsValueType ? "struct"
        : typeof(Delegate).IsAssignableFrom(type) ? "delegate"
        : (type.IsAbstract && type.IsSealed ? "static " : type.IsAbstract ? "abstract " : type.IsSealed ? "sealed " : "")
          + (type.GetMethod("<Clone>$") is not null ? "record" : "class")
          + (type.BaseType is { } b && b != typeof(object) ? $" : {Name(b)}" : "");

    private static bool IsInit(MethodInfo setter) =>
        setter.ReturnParameter.GetRequiredCustomModifiers().Any(m => m.FullName == "System.Runtime.CompilerServices.IsExternalInit");

    private static string Indexer(PropertyInfo property) =>
        property.GetIndexParameters() is { Length: > 0 } index ? $"[{string.Join(", ", index.Select(p => $"{Name(p.ParameterType)} {p.Name}"))}]" : "";

    private static string Parameters(MethodBase method) =>
        string.Join(", ", method.GetParameters().Select(p =>
            $"{(p.IsOut ? "out " : p.ParameterType.IsByRef ? "ref " : "")}{Name(p.ParameterType)} {p.Name}{(p.HasDefaultValue ? $" = {Value(p.DefaultValue)}" : "")}"));

    private static string Value(object? value) => value is null ? "null" : Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";

    private static string Name(Type type)
    {
        if (type.IsByRef)
        {
            return Name(type.GetElementType()!);
        }

        if (type.IsArray)
        {
            return Name(type.GetElementType()!) + "[" + new string(',', type.GetArrayRank() - 1) + "]";
        }

        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return Name(underlying) + "?";
        }

        if (type.IsGenericParameter)
        {
            return type.Name;
        }

        string name = type.IsNested ? Name(type.DeclaringType!) + "." + type.Name : (type.Namespace is null ? "" : type.Namespace + ".") + type.Name;
        if (!type.IsGenericType)
        {
            return name;
        }

        int tick = name.IndexOf('`', StringComparison.Ordinal);
        var text = new StringBuilder(tick < 0 ? name : name[..tick]);
        Type[] arguments = type.GetGenericArguments();
        if (type.IsNested)
        {
            arguments = arguments.Skip(type.DeclaringType!.GetGenericArguments().Length).ToArray();
        }

        return arguments.Length == 0 ? text.ToString() : text.Append('<').Append(string.Join(", ", arguments.Select(Name))).Append('>').ToString();
    }
}
