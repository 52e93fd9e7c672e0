// Makes a short, named list of internal types and members of a .NET assembly public, in a copy used
// only as a compile-time reference.
//
// Why: EarlyExit.MLNet must reach a few internal members of Microsoft.ML (ModelSaveContext's
// writers, ModelLoadContext, LoadableClassAttribute, SchemaShape.Column's constructor, the catalog's
// environment; src/EarlyExit.MLNet/Interop/MLNetInternals.cs says why and lists them). The C# compiler
// only binds to members it can see, so the project compiles against a copy in which exactly those
// members are public. At run time the real, unchanged Microsoft.ML assemblies are loaded, and the
// assembly's [IgnoresAccessChecksTo] attributes make CoreCLR allow the access.
//
// The publicizer changes only accessibility bits: the Flags column of TypeDef, MethodDef and Field rows
// (fixed-size columns, patched in place; no table, heap or offset moves). Every name asked for must
// match: a name that matches nothing fails the build, which is also how a Microsoft.ML upgrade that
// renames or removes a relied-on member shows up first. The copy's strong-name signature no longer
// matches its bytes; compilers do not check signatures of references, and the copy is never loaded.
//
// Member names: "Namespace.Type" (the type), "Namespace.Outer/Inner" (a nested type),
// "Namespace.Type::Member" (every method or field of that name, ".ctor" for constructors; the
// declaring type and its enclosing types become visible too).
//
// The file is compiled twice: into the MSBuild inline task in build/Publicize.targets and into the
// unit tests (test/EarlyExit.Build.Tests), which define EARLYEXIT_PUBLICIZE_NO_MSBUILD. MSBuild
// compiles inline tasks against netstandard2.0 without System.Reflection.Metadata, so the ECMA-335
// tables are read here by hand; the tests check this reader against System.Reflection.Metadata.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace EarlyExit.Build
{
    /// <summary>A file the publicizer cannot read or a name that matches nothing. No file was written.</summary>
    public sealed class PublicizeException : Exception
    {
        /// <summary>Creates the exception.</summary>
        public PublicizeException(string message)
            : base(message)
        {
        }
    }

    /// <summary>One TypeDef, MethodDef or Field row: its table, 1-based row, full name and flags.</summary>
    public readonly struct MetadataRow
    {
        /// <summary>Creates a row description.</summary>
        public MetadataRow(int table, int row, string name, int flags, int flagsOffset, int flagsSize)
        {
            Table = table;
            Row = row;
            Name = name;
            Flags = flags;
            FlagsOffset = flagsOffset;
            FlagsSize = flagsSize;
        }

        /// <summary>ECMA-335 table number: 0x02 TypeDef, 0x04 Field, 0x06 MethodDef.</summary>
        public int Table { get; }

        /// <summary>1-based row number.</summary>
        public int Row { get; }

        /// <summary>"Ns.Type", "Ns.Outer/Inner", or "Ns.Type::Member".</summary>
        public string Name { get; }

        /// <summary>The Flags column.</summary>
        public int Flags { get; }

        /// <summary>File offset of the Flags column.</summary>
        public int FlagsOffset { get; }

        /// <summary>2 or 4 bytes.</summary>
        public int FlagsSize { get; }
    }

    /// <summary>Reads the type, method and field rows of a PE file and makes chosen ones public.</summary>
    public static class MetadataPublicizer
    {
        /// <summary>TypeDef table number.</summary>
        public const int TypeDefTable = 0x02;
        /// <summary>Field table number.</summary>
        public const int FieldTable = 0x04;
        /// <summary>MethodDef table number.</summary>
        public const int MethodDefTable = 0x06;

        private const int NestedClassTable = 0x29;
        private const int TableCount = 0x2D;
        private const int VisibilityMask = 0x7;
        private const int TypePublic = 0x1;
        private const int TypeNestedPublic = 0x2;
        private const int MemberPublic = 0x6;

        /// <summary>
        /// Writes to <paramref name="outputPath"/> a copy of <paramref name="inputPath"/> in which the named
        /// types and members are public. The output is rewritten only when its bytes would change.
        /// </summary>
        /// <returns>The names of the rows made public (already-public ones included).</returns>
        /// <exception cref="PublicizeException">The file is not a metadata file this reader supports, or a name matched nothing.</exception>
        public static IReadOnlyList<string> Publicize(string inputPath, string outputPath, IEnumerable<string> names)
        {
            byte[] bytes = File.ReadAllBytes(inputPath);
            IReadOnlyList<string> changed = Publicize(bytes, names, inputPath);
            if (!File.Exists(outputPath) || !File.ReadAllBytes(outputPath).SequenceEqual(bytes))
            {
                string? dir = Path.GetDirectoryName(outputPath);
                if (!string.IsNullOrEmpty(dir))
                {
                    Directory.CreateDirectory(dir);
                }

                File.WriteAllBytes(outputPath, bytes);
            }

            return changed;
        }

        /// <summary>Makes the named rows of the PE image in <paramref name="bytes"/> public, in place.</summary>
        public static IReadOnlyList<string> Publicize(byte[] bytes, IEnumerable<string> names, string fileName = "assembly")
        {
            List<MetadataRow> rows = ReadRows(bytes, fileName);
            var byName = new Dictionary<string, List<MetadataRow>>(StringComparer.Ordinal);
            foreach (MetadataRow row in rows)
            {
                if (!byName.TryGetValue(row.Name, out List<MetadataRow>? list))
                {
                    byName[row.Name] = list = new List<MetadataRow>();
                }

                list.Add(row);
            }

            var done = new List<string>();
            var missing = new List<string>();
            foreach (string raw in names)
            {
                string name = raw.Trim();
                if (name.Length == 0)
                {
                    continue;
                }

                if (!byName.TryGetValue(name, out List<MetadataRow>? matches))
                {
                    missing.Add(name);
                    continue;
                }

                foreach (MetadataRow row in matches)
                {
                    MakePublic(bytes, row);
                }

                // The declaring type and its enclosing types must be visible for the member to be.
                string typeName = name.Contains("::") ? name.Substring(0, name.IndexOf("::", StringComparison.Ordinal)) : name;
                while (true)
                {
                    if (!byName.TryGetValue(typeName, out List<MetadataRow>? types))
                    {
                        missing.Add(typeName);
                        break;
                    }

                    foreach (MetadataRow type in types)
                    {
                        MakePublic(bytes, type);
                    }

                    int slash = typeName.LastIndexOf('/');
                    if (slash < 0)
                    {
                        break;
                    }

                    typeName = typeName.Substring(0, slash);
                }

                done.Add(name);
            }

            if (missing.Count > 0)
            {
                throw new PublicizeException(
                    $"'{fileName}' has no {string.Join(", ", missing.Distinct().Select(m => "'" + m + "'"))}. " +
                    "The list of internal members to publicize was written for another version of this assembly: " +
                    "reference the version the list names, or update the list and the code that uses it for this one.");
            }

            return done;
        }

        /// <summary>
        /// Parses a list file: one "Assembly: Name" a line; '#' starts a comment; blank lines are skipped.
        /// </summary>
        /// <returns>(assembly, name) pairs in file order.</returns>
        public static IReadOnlyList<KeyValuePair<string, string>> ReadList(IEnumerable<string> lines, string fileName = "list")
        {
            var entries = new List<KeyValuePair<string, string>>();
            int number = 0;
            foreach (string raw in lines)
            {
                number++;
                int hash = raw.IndexOf('#');
                string line = (hash >= 0 ? raw.Substring(0, hash) : raw).Trim();
                if (line.Length == 0)
                {
                    continue;
                }

                int colon = line.IndexOf(": ", StringComparison.Ordinal);
                if (colon <= 0 || colon + 2 >= line.Length)
                {
                    throw new PublicizeException($"{fileName}({number}): expected 'Assembly: Name', found '{line}'.");
                }

                entries.Add(new KeyValuePair<string, string>(line.Substring(0, colon).Trim(), line.Substring(colon + 2).Trim()));
            }

            return entries;
        }

        /// <summary>Every TypeDef, MethodDef and Field row of the image, with full names.</summary>
        public static List<MetadataRow> ReadRows(byte[] bytes, string fileName = "assembly")
        {
            var reader = new TableReader(bytes, fileName);
            return reader.ReadRows();
        }

        private static void MakePublic(byte[] bytes, MetadataRow row)
        {
            int flags = row.Flags;
            int access = flags & VisibilityMask;
            int wanted;
            if (row.Table == TypeDefTable)
            {
                // Top-level: NotPublic (0) -> Public (1). Nested: NestedPrivate..NestedFamORAssem (3..7) -> NestedPublic (2).
                wanted = access <= TypePublic ? TypePublic : TypeNestedPublic;
            }
            else
            {
                if (access == 0)
                {
                    throw new PublicizeException($"'{row.Name}' is compiler-controlled and cannot be made public.");
                }

                wanted = MemberPublic;
            }

            // Read the current bytes: a row matched twice (a member and its type) is patched once per match.
            int current = row.FlagsSize == 4 ? BitConverter.ToInt32(bytes, row.FlagsOffset) : BitConverter.ToUInt16(bytes, row.FlagsOffset);
            int patched = (current & ~VisibilityMask) | wanted;
            if (row.FlagsSize == 4)
            {
                WriteUInt32(bytes, row.FlagsOffset, (uint)patched);
            }
            else
            {
                bytes[row.FlagsOffset] = (byte)(patched & 0xFF);
                bytes[row.FlagsOffset + 1] = (byte)((patched >> 8) & 0xFF);
            }
        }

        private static void WriteUInt32(byte[] bytes, int offset, uint value)
        {
            bytes[offset] = (byte)value;
            bytes[offset + 1] = (byte)(value >> 8);
            bytes[offset + 2] = (byte)(value >> 16);
            bytes[offset + 3] = (byte)(value >> 24);
        }

        /// <summary>Reads ECMA-335 (Partition II, §24) metadata tables from a PE image.</summary>
        private sealed class TableReader
        {
            // Column kinds of the table schemas below.
            private const int U16 = -2, U32 = -4, U8X2 = -3, Str = -10, Guid = -11, Blob = -12;
            private const int CTypeDefOrRef = -20, CHasConstant = -21, CHasCustomAttribute = -22, CHasFieldMarshal = -23,
                CHasDeclSecurity = -24, CMemberRefParent = -25, CHasSemantics = -26, CMethodDefOrRef = -27,
                CMemberForwarded = -28, CImplementation = -29, CCustomAttributeType = -30, CResolutionScope = -31,
                CTypeOrMethodDef = -32;

            // Columns of tables 0x00..0x2C; a non-negative entry is a simple index into that table.
            private static readonly int[][] Schemas =
            {
                new[] { U16, Str, Guid, Guid, Guid },                          // 0x00 Module
                new[] { CResolutionScope, Str, Str },                          // 0x01 TypeRef
                new[] { U32, Str, Str, CTypeDefOrRef, 0x04, 0x06 },            // 0x02 TypeDef
                new[] { 0x04 },                                                // 0x03 FieldPtr
                new[] { U16, Str, Blob },                                      // 0x04 Field
                new[] { 0x06 },                                                // 0x05 MethodPtr
                new[] { U32, U16, U16, Str, Blob, 0x08 },                      // 0x06 MethodDef
                new[] { 0x08 },                                                // 0x07 ParamPtr
                new[] { U16, U16, Str },                                       // 0x08 Param
                new[] { 0x02, CTypeDefOrRef },                                 // 0x09 InterfaceImpl
                new[] { CMemberRefParent, Str, Blob },                         // 0x0A MemberRef
                new[] { U8X2, CHasConstant, Blob },                            // 0x0B Constant
                new[] { CHasCustomAttribute, CCustomAttributeType, Blob },     // 0x0C CustomAttribute
                new[] { CHasFieldMarshal, Blob },                              // 0x0D FieldMarshal
                new[] { U16, CHasDeclSecurity, Blob },                         // 0x0E DeclSecurity
                new[] { U16, U32, 0x02 },                                      // 0x0F ClassLayout
                new[] { U32, 0x04 },                                           // 0x10 FieldLayout
                new[] { Blob },                                                // 0x11 StandAloneSig
                new[] { 0x02, 0x14 },                                          // 0x12 EventMap
                new[] { 0x14 },                                                // 0x13 EventPtr
                new[] { U16, Str, CTypeDefOrRef },                             // 0x14 Event
                new[] { 0x02, 0x17 },                                          // 0x15 PropertyMap
                new[] { 0x17 },                                                // 0x16 PropertyPtr
                new[] { U16, Str, Blob },                                      // 0x17 Property
                new[] { U16, 0x06, CHasSemantics },                            // 0x18 MethodSemantics
                new[] { 0x02, CMethodDefOrRef, CMethodDefOrRef },              // 0x19 MethodImpl
                new[] { Str },                                                 // 0x1A ModuleRef
                new[] { Blob },                                                // 0x1B TypeSpec
                new[] { U16, CMemberForwarded, Str, 0x1A },                    // 0x1C ImplMap
                new[] { U32, 0x04 },                                           // 0x1D FieldRVA
                new[] { U32, U32 },                                            // 0x1E EncLog
                new[] { U32 },                                                 // 0x1F EncMap
                new[] { U32, U16, U16, U16, U16, U32, Blob, Str, Str },        // 0x20 Assembly
                new[] { U32 },                                                 // 0x21 AssemblyProcessor
                new[] { U32, U32, U32 },                                       // 0x22 AssemblyOS
                new[] { U16, U16, U16, U16, U32, Blob, Str, Str, Blob },       // 0x23 AssemblyRef
                new[] { U32, 0x23 },                                           // 0x24 AssemblyRefProcessor
                new[] { U32, U32, U32, 0x23 },                                 // 0x25 AssemblyRefOS
                new[] { U32, Str, Blob },                                      // 0x26 File
                new[] { U32, U32, Str, Str, CImplementation },                 // 0x27 ExportedType
                new[] { U32, U32, Str, CImplementation },                      // 0x28 ManifestResource
                new[] { 0x02, 0x02 },                                          // 0x29 NestedClass
                new[] { U16, U16, CTypeOrMethodDef, Str },                     // 0x2A GenericParam
                new[] { CMethodDefOrRef, Blob },                               // 0x2B MethodSpec
                new[] { 0x2A, CTypeDefOrRef },                                 // 0x2C GenericParamConstraint
            };

            // Coded index kinds: tag bits and the tables they can point to (-1: unused tag value).
            private static readonly Dictionary<int, (int Bits, int[] Tables)> Coded = new Dictionary<int, (int, int[])>
            {
                [CTypeDefOrRef] = (2, new[] { 0x02, 0x01, 0x1B }),
                [CHasConstant] = (2, new[] { 0x04, 0x08, 0x17 }),
                [CHasCustomAttribute] = (5, new[] { 0x06, 0x04, 0x01, 0x02, 0x08, 0x09, 0x0A, 0x00, 0x0E, 0x17, 0x14, 0x11, 0x1A, 0x1B, 0x20, 0x23, 0x26, 0x27, 0x28, 0x2A, 0x2C, 0x2B }),
                [CHasFieldMarshal] = (1, new[] { 0x04, 0x08 }),
                [CHasDeclSecurity] = (2, new[] { 0x02, 0x06, 0x20 }),
                [CMemberRefParent] = (3, new[] { 0x02, 0x01, 0x1A, 0x06, 0x1B }),
                [CHasSemantics] = (1, new[] { 0x14, 0x17 }),
                [CMethodDefOrRef] = (1, new[] { 0x06, 0x0A }),
                [CMemberForwarded] = (1, new[] { 0x04, 0x06 }),
                [CImplementation] = (2, new[] { 0x26, 0x23, 0x27 }),
                [CCustomAttributeType] = (3, new[] { -1, -1, 0x06, 0x0A, -1 }),
                [CResolutionScope] = (2, new[] { 0x00, 0x1A, 0x23, 0x01 }),
                [CTypeOrMethodDef] = (1, new[] { 0x02, 0x06 }),
            };

            private readonly byte[] _bytes;
            private readonly string _fileName;
            private readonly int[] _rowCounts = new int[TableCount];
            private readonly int[] _tableOffsets = new int[TableCount];
            private readonly int[] _rowSizes = new int[TableCount];
            private readonly int[][] _columnOffsets = new int[TableCount][];
            private readonly int[][] _columnSizes = new int[TableCount][];
            private int _stringsOffset;
            private int _stringsSize;
            private int _stringIndexSize = 2, _guidIndexSize = 2, _blobIndexSize = 2;

            public TableReader(byte[] bytes, string fileName)
            {
                _bytes = bytes;
                _fileName = fileName;
                Parse();
            }

            public List<MetadataRow> ReadRows()
            {
                int typeCount = _rowCounts[TypeDefTable];
                var enclosing = new Dictionary<int, int>();
                for (int r = 1; r <= _rowCounts[NestedClassTable]; r++)
                {
                    enclosing[Column(NestedClassTable, r, 0)] = Column(NestedClassTable, r, 1);
                }

                var typeNames = new string[typeCount + 1];
                string TypeName(int row)
                {
                    if (typeNames[row] != null)
                    {
                        return typeNames[row];
                    }

                    string name = String(Column(TypeDefTable, row, 1));
                    string ns = String(Column(TypeDefTable, row, 2));
                    string full = enclosing.TryGetValue(row, out int outer)
                        ? TypeName(outer) + "/" + name
                        : (ns.Length == 0 ? name : ns + "." + name);
                    return typeNames[row] = full;
                }

                var rows = new List<MetadataRow>();
                for (int t = 1; t <= typeCount; t++)
                {
                    string typeName = TypeName(t);
                    rows.Add(Row(TypeDefTable, t, typeName, 0, 4));

                    int fieldStart = Column(TypeDefTable, t, 4);
                    int fieldEnd = t < typeCount ? Column(TypeDefTable, t + 1, 4) : _rowCounts[FieldTable] + 1;
                    for (int f = fieldStart; f < fieldEnd; f++)
                    {
                        rows.Add(Row(FieldTable, f, typeName + "::" + String(Column(FieldTable, f, 1)), 0, 2));
                    }

                    int methodStart = Column(TypeDefTable, t, 5);
                    int methodEnd = t < typeCount ? Column(TypeDefTable, t + 1, 5) : _rowCounts[MethodDefTable] + 1;
                    for (int m = methodStart; m < methodEnd; m++)
                    {
                        rows.Add(Row(MethodDefTable, m, typeName + "::" + String(Column(MethodDefTable, m, 3)), 2, 2));
                    }
                }

                return rows;
            }

            private MetadataRow Row(int table, int row, string name, int column, int size)
            {
                int offset = _tableOffsets[table] + (row - 1) * _rowSizes[table] + _columnOffsets[table][column];
                int flags = size == 4 ? (int)U32At(offset) : U16At(offset);
                return new MetadataRow(table, row, name, flags, offset, size);
            }

            private int Column(int table, int row, int column)
            {
                if (row < 1 || row > _rowCounts[table])
                {
                    throw Fail($"row {row} of table 0x{table:X2} is out of range");
                }

                int offset = _tableOffsets[table] + (row - 1) * _rowSizes[table] + _columnOffsets[table][column];
                return _columnSizes[table][column] == 4 ? (int)U32At(offset) : U16At(offset);
            }

            private string String(int index)
            {
                if (index < 0 || index >= _stringsSize)
                {
                    throw Fail($"string index {index} is outside #Strings");
                }

                int start = _stringsOffset + index;
                int end = start;
                while (end < _stringsOffset + _stringsSize && _bytes[end] != 0)
                {
                    end++;
                }

                return Encoding.UTF8.GetString(_bytes, start, end - start);
            }

            private void Parse()
            {
                // PE/COFF: e_lfanew -> "PE\0\0" -> COFF header -> optional header -> CLI header directory.
                int pe = (int)U32At(0x3C);
                if (U32At(pe) != 0x00004550)
                {
                    throw Fail("no PE signature");
                }

                int sectionCount = U16At(pe + 6);
                int optionalSize = U16At(pe + 20);
                int optional = pe + 24;
                int magic = U16At(optional);
                int directories = magic == 0x10B ? optional + 96 : magic == 0x20B ? optional + 112 : throw Fail("unknown optional-header magic");
                int cliRva = (int)U32At(directories + 14 * 8);
                if (cliRva == 0)
                {
                    throw Fail("not a .NET assembly (no CLI header)");
                }

                int sections = optional + optionalSize;
                int ToOffset(int rva)
                {
                    for (int s = 0; s < sectionCount; s++)
                    {
                        int header = sections + s * 40;
                        int virtualSize = (int)U32At(header + 8);
                        int virtualAddress = (int)U32At(header + 12);
                        int rawSize = (int)U32At(header + 16);
                        int rawPointer = (int)U32At(header + 20);
                        if (rva >= virtualAddress && rva < virtualAddress + Math.Max(virtualSize, rawSize))
                        {
                            return rva - virtualAddress + rawPointer;
                        }
                    }

                    throw Fail($"RVA 0x{rva:X} is in no section");
                }

                int cli = ToOffset(cliRva);
                int metadata = ToOffset((int)U32At(cli + 8));
                if (U32At(metadata) != 0x424A5342)
                {
                    throw Fail("no metadata signature (BSJB)");
                }

                int versionLength = (int)U32At(metadata + 12);
                int p = metadata + 16 + versionLength;
                int streamCount = U16At(p + 2);
                p += 4;
                int tables = -1;
                for (int s = 0; s < streamCount; s++)
                {
                    int offset = (int)U32At(p);
                    int size = (int)U32At(p + 4);
                    int nameStart = p + 8;
                    int nameEnd = nameStart;
                    while (_bytes[nameEnd] != 0)
                    {
                        nameEnd++;
                    }

                    string name = Encoding.ASCII.GetString(_bytes, nameStart, nameEnd - nameStart);
                    p = nameStart + ((nameEnd - nameStart + 1 + 3) & ~3);
                    if (name == "#~")
                    {
                        tables = metadata + offset;
                    }
                    else if (name == "#-")
                    {
                        throw Fail("uncompressed metadata tables (#-) are not supported");
                    }
                    else if (name == "#Strings")
                    {
                        _stringsOffset = metadata + offset;
                        _stringsSize = size;
                    }
                }

                if (tables < 0 || _stringsSize == 0)
                {
                    throw Fail("no #~ or #Strings stream");
                }

                int heapSizes = _bytes[tables + 6];
                _stringIndexSize = (heapSizes & 0x01) != 0 ? 4 : 2;
                _guidIndexSize = (heapSizes & 0x02) != 0 ? 4 : 2;
                _blobIndexSize = (heapSizes & 0x04) != 0 ? 4 : 2;
                ulong valid = U64At(tables + 8);
                p = tables + 24;
                for (int t = 0; t < 64; t++)
                {
                    if ((valid & (1UL << t)) == 0)
                    {
                        continue;
                    }

                    if (t >= TableCount)
                    {
                        throw Fail($"unknown metadata table 0x{t:X2}");
                    }

                    _rowCounts[t] = (int)U32At(p);
                    p += 4;
                }

                if ((heapSizes & 0x40) != 0)
                {
                    p += 4; // extra data after the row counts
                }

                if (_rowCounts[0x03] > 0 || _rowCounts[0x05] > 0)
                {
                    throw Fail("FieldPtr/MethodPtr tables are not supported");
                }

                for (int t = 0; t < TableCount; t++)
                {
                    int[] schema = Schemas[t];
                    _columnOffsets[t] = new int[schema.Length];
                    _columnSizes[t] = new int[schema.Length];
                    int size = 0;
                    for (int c = 0; c < schema.Length; c++)
                    {
                        _columnOffsets[t][c] = size;
                        _columnSizes[t][c] = ColumnSize(schema[c]);
                        size += _columnSizes[t][c];
                    }

                    _rowSizes[t] = size;
                    _tableOffsets[t] = p;
                    p += size * _rowCounts[t];
                }

                if (p > _bytes.Length)
                {
                    throw Fail("metadata tables run past the end of the file");
                }
            }

            private int ColumnSize(int kind)
            {
                switch (kind)
                {
                    case U16: return 2;
                    case U32: return 4;
                    case U8X2: return 2;
                    case Str: return _stringIndexSize;
                    case Guid: return _guidIndexSize;
                    case Blob: return _blobIndexSize;
                }

                if (kind >= 0)
                {
                    return _rowCounts[kind] > 0xFFFF ? 4 : 2;
                }

                (int bits, int[] targets) = Coded[kind];
                int max = targets.Where(t => t >= 0).Select(t => _rowCounts[t]).DefaultIfEmpty(0).Max();
                return max < (1 << (16 - bits)) ? 2 : 4;
            }

            private int U16At(int offset) => Check(offset, 2) | _bytes[offset] | (_bytes[offset + 1] << 8);

            private uint U32At(int offset) =>
                (uint)(Check(offset, 4) | _bytes[offset] | (_bytes[offset + 1] << 8) | (_bytes[offset + 2] << 16) | (_bytes[offset + 3] << 24));

            private ulong U64At(int offset) => U32At(offset) | ((ulong)U32At(offset + 4) << 32);

            private int Check(int offset, int size)
            {
                if (offset < 0 || offset + size > _bytes.Length)
                {
                    throw Fail($"offset {offset} is outside the file");
                }

                return 0;
            }

            private PublicizeException Fail(string problem) =>
                new PublicizeException($"Cannot read metadata of '{_fileName}': {problem}.");
        }
    }
}

#if !EARLYEXIT_PUBLICIZE_NO_MSBUILD
/// <summary>
/// MSBuild task: for each assembly named in <see cref="ListFile"/>, writes a
/// publicized copy of that compile reference into <see cref="OutputDirectory"/> and returns the copies
/// (with the original items' metadata) and the originals they replace.
/// </summary>
public sealed class PublicizeReferences : Microsoft.Build.Utilities.Task
{
    /// <summary>The compile references (ReferencePathWithRefAssemblies).</summary>
    [Microsoft.Build.Framework.Required]
    public Microsoft.Build.Framework.ITaskItem[] References { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

    /// <summary>
    /// The list file: one "Assembly: Name" a line (Assembly is the reference's file name without extension);
    /// '#' starts a comment.
    /// </summary>
    [Microsoft.Build.Framework.Required]
    public string ListFile { get; set; } = "";

    /// <summary>Where the copies go (under obj/).</summary>
    [Microsoft.Build.Framework.Required]
    public string OutputDirectory { get; set; } = "";

    /// <summary>The publicized copies.</summary>
    [Microsoft.Build.Framework.Output]
    public Microsoft.Build.Framework.ITaskItem[] Publicized { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

    /// <summary>The references the copies replace.</summary>
    [Microsoft.Build.Framework.Output]
    public Microsoft.Build.Framework.ITaskItem[] Replaced { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

    /// <inheritdoc />
    public override bool Execute()
    {
        var publicized = new List<Microsoft.Build.Framework.ITaskItem>();
        var replaced = new List<Microsoft.Build.Framework.ITaskItem>();
        IReadOnlyList<KeyValuePair<string, string>> entries;
        try
        {
            entries = EarlyExit.Build.MetadataPublicizer.ReadList(File.ReadAllLines(ListFile), ListFile);
        }
        catch (Exception e) when (e is EarlyExit.Build.PublicizeException || e is IOException)
        {
            Log.LogError(e.Message);
            return false;
        }

        foreach (IGrouping<string, KeyValuePair<string, string>> group in entries.GroupBy(m => m.Key))
        {
            Microsoft.Build.Framework.ITaskItem? reference = References.FirstOrDefault(
                r => string.Equals(r.GetMetadata("Filename"), group.Key, StringComparison.OrdinalIgnoreCase));
            if (reference == null)
            {
                Log.LogError($"{ListFile} names assembly '{group.Key}', which is not a compile reference of this project.");
                return false;
            }

            string output = Path.Combine(OutputDirectory, Path.GetFileName(reference.ItemSpec));
            try
            {
                IReadOnlyList<string> done = EarlyExit.Build.MetadataPublicizer.Publicize(reference.ItemSpec, output, group.Select(m => m.Value));
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, $"Publicized {done.Count} names of {reference.ItemSpec} into {output}.");
            }
            catch (Exception e) when (e is EarlyExit.Build.PublicizeException || e is IOException)
            {
                Log.LogError(e.Message);
                return false;
            }

            var copy = new Microsoft.Build.Utilities.TaskItem(Path.GetFullPath(output));
            reference.CopyMetadataTo(copy);
            publicized.Add(copy);
            replaced.Add(reference);
        }

        Publicized = publicized.ToArray();
        Replaced = replaced.ToArray();
        return true;
    }
}
#endif
