// Weakens one ELF version requirement (VER_FLG_WEAK in .gnu.version_r) of a shared library.
//
// Why: libLibTorchSharp.so in TorchSharp 0.107.0 asks libstdc++.so.6 for version GLIBCXX_3.4.32,
// newer than Debian 12's libstdc++ (3.4.30), so the dynamic loader refuses it. The only symbol of
// that version, std::ios_base_library_init, is a link-time anchor that no relocation refers to. A
// weak version requirement that the loaded library lacks is not an error for glibc's loader, so
// flagging that one requirement weak lets the library load, with every symbol bound as before.
//
// The patcher changes two bytes (one vna_flags field) and nothing else, in a copy that then replaces the
// file (so a link into the NuGet cache is replaced, never written through). Before writing it checks
// that the file is a well-formed ELF64 little-endian shared object, that the requirement exists,
// and that no dynamic relocation refers to a symbol of that version (otherwise weakening it could
// leave a symbol unbound at run time, so it refuses). Any problem throws ElfPatchException and the
// file is left untouched.
//
// The file is compiled twice: into the MSBuild inline task of build/NativeRuntime.targets (shipped
// beside it in the EarlyExit.Core package, as buildTransitive/) and into the unit tests
// (test/EarlyExit.Build.Tests), which define EARLYEXIT_ELFPATCH_NO_MSBUILD to leave the MSBuild
// wrapper out. MSBuild compiles inline tasks against netstandard2.0, so this file sticks to that API
// surface.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace EarlyExit.Build
{
    /// <summary>What <see cref="ElfVersionPatcher.WeakenVersionRequirement"/> did.</summary>
    public enum ElfPatchOutcome
    {
        /// <summary>The requirement was strong and is now weak (two bytes written).</summary>
        Patched,
        /// <summary>The requirement was already weak; nothing was written.</summary>
        AlreadyWeak,
        /// <summary>The file does not require that version from that library; nothing was written.</summary>
        NotRequired,
    }

    /// <summary>The file is not an ELF file this patcher can change safely. The file was not modified.</summary>
    public sealed class ElfPatchException : Exception
    {
        /// <summary>Creates the exception for <paramref name="path"/>.</summary>
        public ElfPatchException(string path, string problem)
            : base($"Cannot patch '{path}': {problem}. The file was not modified.")
        {
            Path = path;
        }

        /// <summary>The file that could not be patched.</summary>
        public string Path { get; }
    }

    /// <summary>Reads and patches the symbol-versioning sections of ELF64 little-endian shared objects.</summary>
    public static class ElfVersionPatcher
    {
        private const uint ShtRela = 4;
        private const uint ShtRel = 9;
        private const uint ShtDynsym = 11;
        private const uint ShtGnuVerdef = 0x6ffffffd;
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const uint ShtGnuVersym = 0x6fffffff;
        private const ushort VerFlgWeak = 0x2;
        private const int MaxEntries = 1 << 20;

        /// <summary>
        /// Marks the requirement of <paramref name="version"/> from <paramref name="library"/> weak in the
        /// ELF file at <paramref name="path"/>, changing only that requirement's flags.
        /// </summary>
        /// <exception cref="ElfPatchException">The file is malformed, not ELF64 little-endian, or some
        /// relocation needs a symbol of that version. The file is untouched.</exception>
        public static ElfPatchOutcome WeakenVersionRequirement(string path, string library, string version)
        {
            byte[] bytes = File.ReadAllBytes(path);
            var elf = new ElfImage(path, bytes);
            VersionNeed? need = null;
            foreach (VersionNeed candidate in elf.ReadVersionNeeds())
            {
                if (candidate.File == library && candidate.Name == version)
                {
                    need = candidate;
                    break;
                }
            }

            if (need is null)
            {
                return ElfPatchOutcome.NotRequired;
            }

            if ((need.Flags & VerFlgWeak) != 0)
            {
                return ElfPatchOutcome.AlreadyWeak;
            }

            string? user = elf.FindRelocatedSymbolOfVersion(need.Index);
            if (user is not null)
            {
                throw new ElfPatchException(path,
                    $"a dynamic relocation refers to symbol '{user}' of version {version}; weakening it could leave that symbol unbound");
            }

            // The patched copy replaces the file instead of being written into it: an output file can be a hard or
            // symbolic link into the NuGet cache (CreateHardLinksForCopyLocalIfPossible and the like), which must
            // stay as TorchSharp shipped it. File.Copy keeps the permissions; the rename is atomic.
            ushort newFlags = (ushort)(need.Flags | VerFlgWeak);
            string temporary = path + ".weaken-" + Guid.NewGuid().ToString("N") + ".tmp";
            try
            {
                File.Copy(path, temporary);
                using (var stream = new FileStream(temporary, FileMode.Open, FileAccess.Write, FileShare.None))
                {
                    stream.Position = need.FlagsOffset;
                    stream.WriteByte((byte)(newFlags & 0xff));
                    stream.WriteByte((byte)(newFlags >> 8));
                }

                File.Replace(temporary, path, null);
            }
            finally
            {
                if (File.Exists(temporary))
                {
                    File.Delete(temporary);
                }
            }

            return ElfPatchOutcome.Patched;
        }

        /// <summary>Returns every (library, version, weak) requirement listed in the file's .gnu.version_r.</summary>
        public static IReadOnlyList<(string Library, string Version, bool Weak)> ReadVersionRequirements(string path)
        {
            var elf = new ElfImage(path, File.ReadAllBytes(path));
            var result = new List<(string, string, bool)>();
            foreach (VersionNeed need in elf.ReadVersionNeeds())
            {
                result.Add((need.File, need.Name, (need.Flags & VerFlgWeak) != 0));
            }

            return result;
        }

        /// <summary>Returns the version names a shared library defines (its .gnu.version_d), e.g. GLIBCXX_3.4.30.</summary>
        public static IReadOnlyCollection<string> ReadVersionDefinitions(string path)
        {
            return new ElfImage(path, File.ReadAllBytes(path)).ReadVersionDefinitions();
        }

        /// <summary>
        /// Finds the library the dynamic loader would use for <paramref name="soname"/> among the usual
        /// system directories (after LD_LIBRARY_PATH), or null when none is found.
        /// </summary>
        public static string? FindSystemLibrary(string soname)
        {
            var directories = new List<string>();
            string? ldLibraryPath = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
            if (!string.IsNullOrEmpty(ldLibraryPath))
            {
                directories.AddRange(ldLibraryPath.Split(new[] { ':' }, StringSplitOptions.RemoveEmptyEntries));
            }

            directories.AddRange(new[]
            {
                "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                "/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib64", "/usr/local/lib",
            });
            foreach (string directory in directories)
            {
                string candidate = Path.Combine(directory, soname);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            return null;
        }

        private sealed class VersionNeed
        {
            public VersionNeed(string file, string name, ushort flags, ushort index, long flagsOffset)
            {
                File = file;
                Name = name;
                Flags = flags;
                Index = index;
                FlagsOffset = flagsOffset;
            }

            public string File { get; }
            public string Name { get; }
            public ushort Flags { get; }
            public ushort Index { get; }
            public long FlagsOffset { get; }
        }

        private readonly struct Section
        {
            public Section(uint type, long offset, long size, uint link, uint info, long entrySize)
            {
                Type = type;
                Offset = offset;
                Size = size;
                Link = link;
                Info = info;
                EntrySize = entrySize;
            }

            public uint Type { get; }
            public long Offset { get; }
            public long Size { get; }
            public uint Link { get; }
            public uint Info { get; }
            public long EntrySize { get; }
        }

        /// <summary>A bounds-checked view of an ELF64 little-endian file's section headers.</summary>
        private sealed class ElfImage
        {
            private readonly string _path;
            private readonly byte[] _bytes;
            private readonly Section[] _sections;

            public ElfImage(string path, byte[] bytes)
            {
                _path = path;
                _bytes = bytes;
                if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
                {
                    throw Fail("not an ELF file (no \\x7fELF magic)");
                }

                if (bytes[4] != 2)
                {
                    throw Fail($"ELF class {bytes[4]} is not supported (only 64-bit ELF)");
                }

                if (bytes[5] != 1)
                {
                    throw Fail($"ELF data encoding {bytes[5]} is not supported (only little-endian)");
                }

                long sectionTableOffset = (long)U64(0x28);
                ushort sectionEntrySize = U16(0x3a);
                ushort sectionCount = U16(0x3c);
                if (sectionTableOffset == 0 || sectionCount == 0)
                {
                    throw Fail("the file has no section header table");
                }

                if (sectionEntrySize != 64)
                {
                    throw Fail($"section header size {sectionEntrySize} is not 64");
                }

                Require(sectionTableOffset, (long)sectionCount * 64, "section header table");
                _sections = new Section[sectionCount];
                for (int i = 0; i < sectionCount; i++)
                {
                    long at = sectionTableOffset + (i * 64L);
                    var section = new Section(U32(at + 4), (long)U64(at + 24), (long)U64(at + 32), U32(at + 40), U32(at + 44), (long)U64(at + 56));
                    if (section.Type != 8 /* SHT_NOBITS */ && section.Type != 0)
                    {
                        Require(section.Offset, section.Size, $"section {i}");
                    }

                    _sections[i] = section;
                }
            }

            public List<VersionNeed> ReadVersionNeeds()
            {
                var needs = new List<VersionNeed>();
                int index = FindSection(ShtGnuVerneed);
                if (index < 0)
                {
                    return needs;
                }

                Section section = _sections[index];
                Section strings = LinkedSection(section, "version requirement");
                long at = section.Offset;
                long end = section.Offset + section.Size;
                for (uint n = 0; n < section.Info; n++)
                {
                    RequireWithin(at, 16, end, "version requirement entry");
                    string file = ReadString(strings, U32(at + 4));
                    ushort auxCount = U16(at + 2);
                    long aux = at + U32(at + 8);
                    for (int a = 0; a < auxCount; a++)
                    {
                        RequireWithin(aux, 16, end, "version requirement auxiliary entry");
                        ushort flags = U16(aux + 4);
                        ushort other = U16(aux + 6);
                        string name = ReadString(strings, U32(aux + 8));
                        needs.Add(new VersionNeed(file, name, flags, other, aux + 4));
                        uint nextAux = U32(aux + 12);
                        if (nextAux == 0)
                        {
                            break;
                        }

                        aux += nextAux;
                    }

                    uint next = U32(at + 12);
                    if (next == 0)
                    {
                        break;
                    }

                    at += next;
                    if (needs.Count > MaxEntries)
                    {
                        throw Fail("version requirement list does not terminate");
                    }
                }

                return needs;
            }

            public List<string> ReadVersionDefinitions()
            {
                var names = new List<string>();
                int index = FindSection(ShtGnuVerdef);
                if (index < 0)
                {
                    return names;
                }

                Section section = _sections[index];
                Section strings = LinkedSection(section, "version definition");
                long at = section.Offset;
                long end = section.Offset + section.Size;
                for (uint n = 0; n < section.Info; n++)
                {
                    RequireWithin(at, 20, end, "version definition entry");
                    ushort auxCount = U16(at + 6);
                    if (auxCount > 0)
                    {
                        long aux = at + U32(at + 12);
                        RequireWithin(aux, 8, end, "version definition auxiliary entry");
                        names.Add(ReadString(strings, U32(aux)));
                    }

                    uint next = U32(at + 16);
                    if (next == 0)
                    {
                        break;
                    }

                    at += next;
                }

                return names;
            }

            /// <summary>Name of a dynamic symbol of version index <paramref name="versionIndex"/> that some relocation uses, or null.</summary>
            public string? FindRelocatedSymbolOfVersion(ushort versionIndex)
            {
                int dynsymIndex = FindSection(ShtDynsym);
                int versymIndex = FindSection(ShtGnuVersym);
                if (dynsymIndex < 0 || versymIndex < 0)
                {
                    throw Fail("the file has a version requirement section but no .dynsym or .gnu.version section");
                }

                Section dynsym = _sections[dynsymIndex];
                Section versym = _sections[versymIndex];
                long symbolCount = dynsym.Size / 24;
                if (versym.Size / 2 < symbolCount)
                {
                    throw Fail(".gnu.version has fewer entries than .dynsym");
                }

                var symbolsOfVersion = new HashSet<long>();
                for (long s = 0; s < symbolCount; s++)
                {
                    if ((U16(versym.Offset + (s * 2)) & 0x7fff) == versionIndex)
                    {
                        symbolsOfVersion.Add(s);
                    }
                }

                if (symbolsOfVersion.Count == 0)
                {
                    return null;
                }

                foreach (Section section in _sections)
                {
                    if ((section.Type != ShtRela && section.Type != ShtRel) || section.Link != (uint)dynsymIndex)
                    {
                        continue;
                    }

                    long entrySize = section.Type == ShtRela ? 24 : 16;
                    for (long at = section.Offset; at + entrySize <= section.Offset + section.Size; at += entrySize)
                    {
                        long symbol = (long)(U64(at + 8) >> 32);
                        if (symbolsOfVersion.Contains(symbol))
                        {
                            Section strings = LinkedSection(dynsym, "dynamic symbol");
                            return ReadString(strings, U32(dynsym.Offset + (symbol * 24)));
                        }
                    }
                }

                return null;
            }

            private int FindSection(uint type)
            {
                for (int i = 0; i < _sections.Length; i++)
                {
                    if (_sections[i].Type == type)
                    {
                        return i;
                    }
                }

                return -1;
            }

            private Section LinkedSection(Section section, string what)
            {
                if (section.Link == 0 || section.Link >= _sections.Length)
                {
                    throw Fail($"the {what} section links to string table {section.Link}, which does not exist");
                }

                return _sections[section.Link];
            }

            private string ReadString(Section strings, uint offset)
            {
                if (offset >= strings.Size)
                {
                    throw Fail($"string offset {offset} is outside its string table ({strings.Size} bytes)");
                }

                long start = strings.Offset + offset;
                long end = start;
                long limit = strings.Offset + strings.Size;
                while (end < limit && _bytes[end] != 0)
                {
                    end++;
                }

                if (end == limit)
                {
                    throw Fail($"string at offset {offset} is not terminated inside its string table");
                }

                return Encoding.UTF8.GetString(_bytes, (int)start, (int)(end - start));
            }

            private void Require(long offset, long length, string what)
            {
                if (offset < 0 || length < 0 || offset > _bytes.Length || length > _bytes.Length - offset)
                {
                    throw Fail($"{what} (offset {offset}, {length} bytes) lies outside the file ({_bytes.Length} bytes)");
                }
            }

            private void RequireWithin(long offset, long length, long end, string what)
            {
                if (offset < 0 || offset + length > end)
                {
                    throw Fail($"{what} at offset {offset} runs past the end of its section");
                }
            }

            private ushort U16(long at) => (ushort)(_bytes[at] | (_bytes[at + 1] << 8));

            private uint U32(long at) => (uint)(_bytes[at] | (_bytes[at + 1] << 8) | (_bytes[at + 2] << 16) | (_bytes[at + 3] << 24));

            private ulong U64(long at) => U32(at) | ((ulong)U32(at + 4) << 32);

            private ElfPatchException Fail(string problem) => new ElfPatchException(_path, problem);
        }
    }
}

#if !EARLYEXIT_ELFPATCH_NO_MSBUILD
/// <summary>
/// MSBuild task: weakens the GLIBCXX requirement of TorchSharp's native bridge library in build or
/// publish output when this machine's libstdc++ lacks that version (Mode=auto), always
/// (Mode=always) or never (Mode=never). Prints one line for each file it changes.
/// </summary>
public sealed class WeakenLibStdCxxRequirement : Microsoft.Build.Utilities.Task
{
    /// <summary>Candidate files; those that do not exist are skipped.</summary>
    [Microsoft.Build.Framework.Required]
    public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

    /// <summary>auto (patch only when the system libstdc++ lacks <see cref="Version"/>), always or never.</summary>
    public string Mode { get; set; } = "auto";

    /// <summary>The needed library whose requirement is weakened.</summary>
    public string Library { get; set; } = "libstdc++.so.6";

    /// <summary>The version requirement to weaken.</summary>
    public string Version { get; set; } = "GLIBCXX_3.4.32";

    /// <inheritdoc />
    public override bool Execute()
    {
        string mode = Mode.Trim().ToLowerInvariant();
        if (mode == "never" || mode == "false")
        {
            return true;
        }

        if (mode != "auto" && mode != "always" && mode != "true")
        {
            Log.LogError($"TorchSharpWeakenLibStdCxx='{Mode}' is not valid; use auto, always or never.");
            return false;
        }

        if (mode == "auto")
        {
            if (!System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux))
            {
                return true;
            }

            string? system = EarlyExit.Build.ElfVersionPatcher.FindSystemLibrary(Library);
            if (system is not null)
            {
                try
                {
                    if (System.Linq.Enumerable.Contains(EarlyExit.Build.ElfVersionPatcher.ReadVersionDefinitions(system), Version))
                    {
                        Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, $"{system} defines {Version}; no patch needed.");
                        return true;
                    }
                }
                catch (EarlyExit.Build.ElfPatchException e)
                {
                    Log.LogWarning($"Could not read {system} ({e.Message}); weakening {Version} anyway.");
                }
            }
        }

        foreach (Microsoft.Build.Framework.ITaskItem item in Files)
        {
            string file = item.GetMetadata("FullPath");
            if (!System.IO.File.Exists(file))
            {
                continue;
            }

            try
            {
                EarlyExit.Build.ElfPatchOutcome outcome = EarlyExit.Build.ElfVersionPatcher.WeakenVersionRequirement(file, Library, Version);
                if (outcome == EarlyExit.Build.ElfPatchOutcome.Patched)
                {
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                        $"EarlyExit: marked the {Version} requirement of {System.IO.Path.GetFileName(file)} weak (this machine's {Library} lacks it): {file}");
                }
            }
            catch (EarlyExit.Build.ElfPatchException e)
            {
                Log.LogError(e.Message);
                return false;
            }
        }

        return !Log.HasLoggedErrors;
    }
}
#endif
