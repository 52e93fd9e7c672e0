namespace EarlyExit.Cli.Output;

/// <summary>
/// Writes a file so that it is either absent (or its old version) or complete: the content goes to a
/// temporary file beside the target, which is renamed over the target only when whole.
/// </summary>
internal static class AtomicFile
{
    /// <summary>
    /// Checks, before any long work, that <paramref name="path"/> can be written: not a folder, not one of the
    /// files the command reads or writes otherwise (<paramref name="others"/>), in a folder that exists or can
    /// be made and that accepts a new file.
    /// </summary>
    /// <param name="path">The target file.</param>
    /// <param name="option">The option that named it, for the message.</param>
    /// <param name="others">The command's other files (inputs, other outputs) with their options; null paths are skipped.</param>
    /// <exception cref="CliException">The path is a folder, is another of the command's files, or its folder cannot be created or written.</exception>
    public static void CheckWritable(string path, string option, params (string? Path, string Option)[] others)
    {
        if (Directory.Exists(path))
        {
            throw new CliException($"{option} '{path}' is a folder; name a file.");
        }

        string full = Path.GetFullPath(path);
        foreach ((string? other, string otherOption) in others)
        {
            if (other is not null && string.Equals(Path.GetFullPath(other), full, OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase))
            {
                throw new CliException($"{option} '{path}' is the same file as {otherOption} '{other}'; writing it would destroy that file. Name another file.", isUsage: true);
            }
        }

        string? folder = Path.GetDirectoryName(full);
        if (folder is null)
        {
            throw new CliException($"{option} '{path}' is not a file path.");
        }

        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{option} '{path}': cannot create its folder '{folder}': {e.Message}");
        }

        // Writing is the only reliable test of permission (modes, ACLs, read-only mounts).
        string probe = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.probe");
        try
        {
            using (File.Create(probe, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{option} '{path}': cannot write in its folder '{folder}' ({e.Message}); choose a writable location.");
        }
    }

    /// <summary>
    /// Calls <paramref name="write"/> with a temporary path beside <paramref name="path"/>, then moves the
    /// result over <paramref name="path"/>. On failure or cancellation the temporary file is removed and
    /// <paramref name="path"/> is untouched.
    /// </summary>
    public static void Write(string path, Action<string> write, CancellationToken cancellationToken)
    {
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        RemoveStaleTemporaries(folder, Path.GetFileName(full));
        string temporary = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            write(temporary);
            cancellationToken.ThrowIfCancellationRequested();
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }

    // A run killed while saving (a second Ctrl+C, a crash) cannot remove its temporary file; the next write of
    // the same target removes what such runs left, once untouched for a minute (a run still writing is spared).
    private static void RemoveStaleTemporaries(string folder, string fileName)
    {
        string prefix = $".{fileName}.";
        foreach (string stale in Directory.EnumerateFiles(folder, prefix + "*.tmp")
            .Where(f => Path.GetFileName(f) is string name && name.Length == prefix.Length + 32 + 4 && name[prefix.Length..^4].All(char.IsAsciiHexDigitLower))
            .Where(f => File.GetLastWriteTimeUtc(f) < DateTime.UtcNow - TimeSpan.FromMinutes(1)))
        {
            try
            {
                File.Delete(stale);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Left for the user: it never replaces the target.
            }
        }
    }

    /// <summary>Writes <paramref name="text"/> (UTF-8, no byte-order mark) to <paramref name="path"/> atomically.</summary>
    public static void WriteText(string path, string text, CancellationToken cancellationToken) =>
        Write(path, temporary => File.WriteAllText(temporary, text), cancellationToken);
}
