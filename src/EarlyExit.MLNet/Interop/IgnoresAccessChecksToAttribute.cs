namespace System.Runtime.CompilerServices;

/// <summary>
/// Read by CoreCLR (matched by name; the runtime defines no such type): the assembly that carries it may
/// access the non-public members of the named assembly. See Interop/MLNetInternals.cs.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
internal sealed class IgnoresAccessChecksToAttribute : Attribute
{
    /// <summary>Creates the attribute for <paramref name="assemblyName"/> (a simple name).</summary>
    public IgnoresAccessChecksToAttribute(string assemblyName)
    {
        AssemblyName = assemblyName;
    }

    /// <summary>The simple name of the assembly whose non-public members may be accessed.</summary>
    public string AssemblyName { get; }
}
