using System.IO.Compression;

namespace EarlyExit.Cli.Tests.TestSupport;

/// <summary>Copies of saved model zips with one entry replaced, to test what the commands make of damaged files.</summary>
internal static class ModelZipCopy
{
    /// <summary>Copies <paramref name="source"/> to <paramref name="target"/> with the entry named <paramref name="entryName"/> holding <paramref name="content"/> instead.</summary>
    public static string WithEntry(string source, string target, string entryName, ReadOnlySpan<byte> content)
    {
        File.Copy(source, target);
        using ZipArchive zip = ZipFile.Open(target, ZipArchiveMode.Update);
        ZipArchiveEntry entry = zip.Entries.Single(e => e.Name == entryName);
        string fullName = entry.FullName;
        entry.Delete();
        using Stream stream = zip.CreateEntry(fullName).Open();
        stream.Write(content);
        return target;
    }
}
