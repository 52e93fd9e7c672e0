using Microsoft.ML.Data;

namespace EarlyExit.MLNet.Scoring;

/// <summary>Writes arrays into ML.NET vectors the way getters must: into the caller's buffer, never handing out ours.</summary>
internal static class VectorValues
{
    /// <summary>Copies <paramref name="source"/> into <paramref name="value"/> (reusing its buffer when large enough).</summary>
    public static void Write<T>(ReadOnlySpan<T> source, ref VBuffer<T> value)
    {
        VBufferEditor<T> editor = VBufferEditor.Create(ref value, source.Length);
        source.CopyTo(editor.Values);
        value = editor.Commit();
    }

    /// <summary>Copies <paramref name="source"/> into <paramref name="value"/>.</summary>
    public static void Write<T>(T[] source, ref VBuffer<T> value) => Write((ReadOnlySpan<T>)source, ref value);
}
