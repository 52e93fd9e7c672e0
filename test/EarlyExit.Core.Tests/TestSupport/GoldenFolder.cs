using System.Text.Json;
using EarlyExit.Checkpoints;

namespace EarlyExit.Tests.TestSupport;

/// <summary>One tokenizer golden example: its key (text00, pair03, words11) and its inputs.</summary>
/// <param name="Key">The tensor-name prefix in golden.safetensors.</param>
/// <param name="Text">The first text (null for word lists).</param>
/// <param name="TextPair">The second text of a pair, else null.</param>
/// <param name="Words">The pre-split words of a word list, else null.</param>
/// <param name="Tokens">The reference tokens as strings (to see where a difference starts).</param>
public sealed record GoldenExample(string Key, string? Text, string? TextPair, IReadOnlyList<string>? Words, IReadOnlyList<string> Tokens)
{
    /// <inheritdoc />
    public override string ToString() => Key;
}

/// <summary>
/// A <c>golden/</c> folder produced by the Hugging Face reference implementation (format
/// <c>encoder-golden-v1</c>, described in each folder's README.md): manifest.json plus
/// golden.safetensors, next to the model folder it describes.
/// </summary>
internal sealed class GoldenFolder : IDisposable
{
    /// <summary>The only manifest format these tests know how to check.</summary>
    public const string SupportedFormat = "encoder-golden-v1";

    private readonly JsonDocument _manifest;
    private readonly Lazy<SafeTensorsFile> _tensors;

    private GoldenFolder(string goldenDirectory)
    {
        GoldenDirectory = goldenDirectory;
        ModelDirectory = Path.GetDirectoryName(Path.GetFullPath(goldenDirectory).TrimEnd(Path.DirectorySeparatorChar))!;
        string manifestPath = Path.Combine(goldenDirectory, "manifest.json");
        _manifest = JsonDocument.Parse(File.ReadAllText(manifestPath));
        string format = Manifest.TryGetProperty("format", out JsonElement f) ? f.GetString() ?? "" : "";
        if (format != SupportedFormat)
        {
            throw new InvalidDataException($"Golden folder '{goldenDirectory}' has manifest format '{format}'; these tests check '{SupportedFormat}' only.");
        }

        _tensors = new Lazy<SafeTensorsFile>(() => SafeTensorsFile.Open(Path.Combine(goldenDirectory, "golden.safetensors")));
    }

    /// <summary>The golden folder itself.</summary>
    public string GoldenDirectory { get; }

    /// <summary>The model folder the goldens describe (the golden folder's parent).</summary>
    public string ModelDirectory { get; }

    /// <summary>The model folder's name, e.g. random-bert-tiny.</summary>
    public string Name => Path.GetFileName(ModelDirectory);

    /// <summary>The parsed manifest.json root.</summary>
    public JsonElement Manifest => _manifest.RootElement;

    /// <summary>The golden tensors.</summary>
    public SafeTensorsFile Tensors => _tensors.Value;

    /// <summary>The max_length every tokenizer call used.</summary>
    public int MaxLength => Manifest.GetProperty("max_length").GetInt32();

    /// <summary>Whether the folder also holds model activations (the random-* checkpoints).</summary>
    public bool HasModelOutputs => Manifest.TryGetProperty("model", out JsonElement model) && model.ValueKind == JsonValueKind.Object;

    /// <summary>The manifest's <c>model</c> section (only when <see cref="HasModelOutputs"/>).</summary>
    public JsonElement Model => Manifest.GetProperty("model");

    /// <summary>The manifest's <c>tokenizer</c> section.</summary>
    public JsonElement Tokenizer => Manifest.GetProperty("tokenizer");

    /// <summary>Single texts, sentence pairs and pre-split word lists, in manifest order.</summary>
    public IReadOnlyList<GoldenExample> Examples()
    {
        var examples = new List<GoldenExample>();
        foreach (JsonElement item in Manifest.GetProperty("texts").EnumerateArray())
        {
            examples.Add(new GoldenExample(item.GetProperty("key").GetString()!, item.GetProperty("text").GetString()!, null, null, Strings(item.GetProperty("tokens"))));
        }

        foreach (JsonElement item in Manifest.GetProperty("pairs").EnumerateArray())
        {
            examples.Add(new GoldenExample(item.GetProperty("key").GetString()!, item.GetProperty("text").GetString()!,
                item.GetProperty("text_pair").GetString()!, null, Strings(item.GetProperty("tokens"))));
        }

        foreach (JsonElement item in Manifest.GetProperty("words").GetProperty("items").EnumerateArray())
        {
            examples.Add(new GoldenExample(item.GetProperty("key").GetString()!, null, null, Strings(item.GetProperty("words")), Strings(item.GetProperty("tokens"))));
        }

        return examples;
    }

    /// <summary>An integer golden tensor (input_ids, word_ids, ...) as int64 values.</summary>
    public long[] Ints(string name) => Tensors.ReadInt64s(name);

    /// <summary>Whether golden.safetensors holds <paramref name="name"/>.</summary>
    public bool Has(string name) => Tensors.Contains(name);

    /// <summary>
    /// Every <c>golden/</c> folder (a folder named golden holding manifest.json) under
    /// <paramref name="root"/>, sorted by path. An empty result is an error: a parity run that
    /// checks nothing must not pass.
    /// </summary>
    public static IReadOnlyList<string> Discover(string root)
    {
        var found = Directory.EnumerateDirectories(root, "golden", SearchOption.AllDirectories)
            .Where(d => File.Exists(Path.Combine(d, "manifest.json")))
            .OrderBy(d => d, StringComparer.Ordinal)
            .ToList();
        if (found.Count == 0)
        {
            throw new InvalidOperationException($"No golden/ folder with a manifest.json was found under '{root}'.");
        }

        return found;
    }

    /// <summary>Opens a golden folder; throws when its manifest is missing or of an unknown format.</summary>
    public static GoldenFolder Open(string goldenDirectory) => new(goldenDirectory);

    /// <inheritdoc />
    public void Dispose()
    {
        if (_tensors.IsValueCreated)
        {
            _tensors.Value.Dispose();
        }

        _manifest.Dispose();
    }

    private static IReadOnlyList<string> Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToList();
}
