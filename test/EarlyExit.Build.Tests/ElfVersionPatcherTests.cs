using System.Security.Cryptography;
using EarlyExit.Build;

namespace EarlyExit.Build.Tests;

/// <summary>
/// The libstdc++ fix of build/ElfPatch/ElfVersionPatcher.cs, on the real libLibTorchSharp.so from the
/// NuGet cache (copied to a temporary folder) and on malformed files.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]   // ELF files and Unix file modes
public sealed class ElfVersionPatcherTests : IDisposable
{
    private const string Library = "libstdc++.so.6";
    private const string Version = "GLIBCXX_3.4.32";
    private readonly string _folder = Directory.CreateTempSubdirectory("elfpatch-tests-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void WeakenVersionRequirement_RealTorchSharpLibrary_ChangesOnlyThatFlag()
    {
        string path = CopyOriginalLibrary();
        byte[] before = File.ReadAllBytes(path);
        var requirementsBefore = ElfVersionPatcher.ReadVersionRequirements(path);
        Assert.Contains((Library, Version, false), requirementsBefore);

        ElfPatchOutcome outcome = ElfVersionPatcher.WeakenVersionRequirement(path, Library, Version);

        Assert.Equal(ElfPatchOutcome.Patched, outcome);
        byte[] after = File.ReadAllBytes(path);
        Assert.Equal(before.Length, after.Length);
        int[] changed = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToArray();
        Assert.Single(changed);
        Assert.Equal(before[changed[0]] | 0x2, after[changed[0]]);
        var requirementsAfter = ElfVersionPatcher.ReadVersionRequirements(path);
        Assert.Equal(requirementsBefore.Select(r => r.Library == Library && r.Version == Version ? r with { Weak = true } : r), requirementsAfter);
    }

    [Fact]
    public void WeakenVersionRequirement_OutputIsALinkToTheCache_ReplacesTheLinkAndLeavesItsTarget()
    {
        // An app built with CreateHardLinksForCopyLocalIfPossible or CreateSymbolicLinksForCopyLocalIfPossible.
        string cached = CopyOriginalLibrary();
        string hash = Sha256(cached);
        string symbolic = Path.Combine(_folder, "symbolic.so");
        File.CreateSymbolicLink(symbolic, cached);
        string hard = Path.Combine(_folder, "hard.so");
        Assert.Equal(0, Link(cached, hard));

        Assert.Equal(ElfPatchOutcome.Patched, ElfVersionPatcher.WeakenVersionRequirement(symbolic, Library, Version));
        Assert.Equal(ElfPatchOutcome.Patched, ElfVersionPatcher.WeakenVersionRequirement(hard, Library, Version));

        Assert.Equal(hash, Sha256(cached));
        Assert.Null(new FileInfo(symbolic).LinkTarget);
        Assert.Contains((Library, Version, true), ElfVersionPatcher.ReadVersionRequirements(symbolic));
        Assert.Contains((Library, Version, true), ElfVersionPatcher.ReadVersionRequirements(hard));
        Assert.Equal(UnixFileMode.UserExecute, File.GetUnixFileMode(hard) & UnixFileMode.UserExecute);
        Assert.Equal(["hard.so", "libLibTorchSharp.so", "symbolic.so"], Directory.GetFiles(_folder).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void WeakenVersionRequirement_SecondRun_IsAlreadyWeakAndWritesNothing()
    {
        string path = CopyOriginalLibrary();
        ElfVersionPatcher.WeakenVersionRequirement(path, Library, Version);
        byte[] once = File.ReadAllBytes(path);

        Assert.Equal(ElfPatchOutcome.AlreadyWeak, ElfVersionPatcher.WeakenVersionRequirement(path, Library, Version));
        Assert.Equal(once, File.ReadAllBytes(path));
    }

    [Fact]
    public void WeakenVersionRequirement_VersionNotRequired_ReportsNotRequired()
    {
        string path = CopyOriginalLibrary();
        string hash = Sha256(path);

        Assert.Equal(ElfPatchOutcome.NotRequired, ElfVersionPatcher.WeakenVersionRequirement(path, Library, "GLIBCXX_9.9.99"));
        Assert.Equal(hash, Sha256(path));
    }

    [Fact]
    public void WeakenVersionRequirement_VersionWithRelocatedSymbols_RefusesAndLeavesFileUntouched()
    {
        // GLIBCXX_3.4.21 versions symbols the library really binds (std::__cxx11 strings), so weakening
        // it would be unsafe: the patcher must refuse and name such a symbol.
        string path = CopyOriginalLibrary();
        string hash = Sha256(path);

        var error = Assert.Throws<ElfPatchException>(() => ElfVersionPatcher.WeakenVersionRequirement(path, Library, "GLIBCXX_3.4.21"));

        Assert.Contains("relocation refers to symbol", error.Message);
        Assert.Contains("not modified", error.Message);
        Assert.Equal(hash, Sha256(path));
    }

    [Fact]
    public void BuildOutput_TorchSharpLibrary_IsPatchedOnlyWhenTheSystemLibStdCxxLacksTheVersion()
    {
        // The build (build/TorchNative.targets) patched the copy next to this test assembly.
        string output = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(output), $"Expected the native bridge library at '{output}'.");
        string? system = ElfVersionPatcher.FindSystemLibrary(Library);
        Assert.NotNull(system);
        bool systemHasVersion = ElfVersionPatcher.ReadVersionDefinitions(system).Contains(Version);

        bool weak = ElfVersionPatcher.ReadVersionRequirements(output).Single(r => r.Library == Library && r.Version == Version).Weak;

        Assert.Equal(!systemHasVersion, weak);
    }

    [Fact]
    public void ReadVersionDefinitions_SystemLibStdCxx_ListsGlibcxxVersions()
    {
        string? system = ElfVersionPatcher.FindSystemLibrary(Library);
        Assert.NotNull(system);

        var definitions = ElfVersionPatcher.ReadVersionDefinitions(system);

        Assert.Contains("GLIBCXX_3.4", definitions);
        Assert.Contains("CXXABI_1.3", definitions);
    }

    public static TheoryData<string, string> MalformedFiles => new()
    {
        { "empty", "not an ELF file" },
        { "text", "not an ELF file" },
        { "elf32", "only 64-bit ELF" },
        { "bigendian", "only little-endian" },
        { "truncated", "lies outside the file" },
        { "sectiontable", "lies outside the file" },
        { "noSections", "no section header table" },
        { "verneedLink", "does not exist" },
    };

    [Theory]
    [MemberData(nameof(MalformedFiles))]
    public void WeakenVersionRequirement_MalformedFile_ThrowsClearlyAndLeavesFileUntouched(string kind, string expected)
    {
        string path = Path.Combine(_folder, kind + ".so");
        File.WriteAllBytes(path, MakeMalformed(kind));
        string hash = Sha256(path);

        var error = Assert.Throws<ElfPatchException>(() => ElfVersionPatcher.WeakenVersionRequirement(path, Library, Version));

        Assert.Contains(expected, error.Message);
        Assert.Contains(path, error.Message);
        Assert.Equal(hash, Sha256(path));
    }

    private byte[] MakeMalformed(string kind)
    {
        byte[] real = File.ReadAllBytes(OriginalLibraryPath());
        switch (kind)
        {
            case "empty":
                return [];
            case "text":
                return "#!/bin/sh\necho not a library\n"u8.ToArray();
            case "elf32":
                return Mutate(real, b => b[4] = 1);
            case "bigendian":
                return Mutate(real, b => b[5] = 2);
            case "truncated":
                return real[..4096];
            case "sectiontable":
                return Mutate(real, b => BitConverter.GetBytes((ulong)real.Length + 4096).CopyTo(b, 0x28));
            case "noSections":
                return Mutate(real, b => BitConverter.GetBytes((ushort)0).CopyTo(b, 0x3c));
            case "verneedLink":
                return Mutate(real, b =>
                {
                    // Point the .gnu.version_r section's sh_link at a section index that does not exist.
                    long table = BitConverter.ToInt64(b, 0x28);
                    int count = BitConverter.ToUInt16(b, 0x3c);
                    for (int i = 0; i < count; i++)
                    {
                        int at = (int)(table + (i * 64));
                        if (BitConverter.ToUInt32(b, at + 4) == 0x6ffffffe)
                        {
                            BitConverter.GetBytes((uint)60000).CopyTo(b, at + 40);
                        }
                    }
                });
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    private static byte[] Mutate(byte[] source, Action<byte[]> change)
    {
        byte[] copy = (byte[])source.Clone();
        change(copy);
        return copy;
    }

    private string CopyOriginalLibrary()
    {
        string path = Path.Combine(_folder, "libLibTorchSharp.so");
        File.Copy(OriginalLibraryPath(), path, overwrite: true);
        File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.UserExecute);   // as NuGet extracts it
        return path;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int Link(string existing, string created);

    /// <summary>The unpatched file as TorchSharp ships it, in the NuGet global packages folder.</summary>
    private static string OriginalLibraryPath()
    {
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string version = typeof(TorchSharp.torch).Assembly.GetName().Version!.ToString(3);
        string path = Path.Combine(packages, "torchsharp", version, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(path), $"The original libLibTorchSharp.so was expected in the NuGet cache at '{path}'.");
        return path;
    }

    private static string Sha256(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
}
