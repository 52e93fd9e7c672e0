namespace EarlyExit.Cli.Output;

/// <summary>
/// Writes a file so that it is either absent (or its old version) or complete: the content goes to a
/// temporary file beside the target, which is renamed over the target only when whole.
/// </summary>
internal static class AtomicFile
{
    /// <summary>Checks, before any long work, that <paramref name="path"/> can be written: not a folder, in a folder that exists or can be made.</summary>
    /// <param name="path">The target file.</param>
    /// <param name="option">The option that named it, for the message.</param>
    /// <exception cref="CliException">The path is a folder or its folder cannot be created.</exception>
    public static void CheckWritable(string path, string option)
    {
        if (Directory.Exists(path))
        {
            throw new CliException($"{option} '{path}' is a folder; name a file.");
        }

        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
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

    /// <summary>Writes <paramref name="text"/> (UTF-8, no byte-order mark) to <paramref name="path"/> atomically.</summary>
    public static void WriteText(string path, string text, CancellationToken cancellationToken) =>
        Write(path, temporary => File.WriteAllText(temporary, text), cancellationToken);
}
