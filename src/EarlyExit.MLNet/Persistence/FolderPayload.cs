// Our trained models save themselves as folders (EarlyExitTextClassifier.Save, EarlyExitTokenClassifier.Save);
// inside an ML.NET model zip the same files become named entries under one prefix.
using EarlyExit.MLNet.Interop;

namespace EarlyExit.MLNet.Persistence;

/// <summary>Moves a saved-model folder into zip entries and back.</summary>
internal static class FolderPayload
{
    /// <summary>Saves with <paramref name="save"/> into a temporary folder and writes every file as entry <c>prefix/name</c>; returns the names.</summary>
    public static string[] Write(ModelWriter writer, string prefix, Action<string> save)
    {
        string folder = Directory.CreateTempSubdirectory("earlyexit-save-").FullName;
        try
        {
            save(folder);
            string[] files = Directory.GetFiles(folder).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
            foreach (string file in files)
            {
                writer.WriteBytes($"{prefix}/{file}", File.ReadAllBytes(Path.Combine(folder, file)));
            }

            return files;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Writes entries <c>prefix/name</c> for <paramref name="files"/> into a temporary folder and loads it with <paramref name="load"/>.</summary>
    public static T Read<T>(ModelReader reader, string prefix, IEnumerable<string> files, Func<string, T> load)
    {
        string folder = Directory.CreateTempSubdirectory("earlyexit-load-").FullName;
        try
        {
            foreach (string file in files)
            {
                ModelPersistence.CheckEntryName(file);
                File.WriteAllBytes(Path.Combine(folder, file), reader.ReadBytes($"{prefix}/{file}"));
            }

            try
            {
                return load(folder);
            }
            catch (Exception e) when (e is InvalidDataException or FileNotFoundException or ArgumentException or FormatException or Checkpoints.CheckpointMismatchException
                && e.Message.Contains(folder, StringComparison.Ordinal))
            {
                // The loaders name the temporary copy; the user knows the zip, so name its entries instead.
                throw new InvalidDataException("In the model zip: " + e.Message.Replace(folder, prefix, StringComparison.Ordinal), e);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// As <see cref="Read{T}"/>, then wraps the loaded model with <paramref name="wrap"/> (e.g. into a
    /// transformer); if wrapping fails the model is disposed, so nothing native is leaked.
    /// </summary>
    public static TResult Read<TModel, TResult>(ModelReader reader, string prefix, IEnumerable<string> files, Func<string, TModel> load, Func<TModel, TResult> wrap)
        where TModel : IDisposable
    {
        TModel model = Read(reader, prefix, files, load);
        try
        {
            return wrap(model);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
