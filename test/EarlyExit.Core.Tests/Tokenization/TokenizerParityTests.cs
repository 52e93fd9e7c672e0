using System.Text;
using System.Text.Json;
using EarlyExit.Tests.TestSupport;
using EarlyExit.Tokenization;

namespace EarlyExit.Tests.Tokenization;

/// <summary>
/// The issue's parity requirement: for every golden folder under the golden root, every example
/// (texts, pairs, pre-split word lists) must give exactly the reference input_ids, token_type_ids,
/// attention_mask, special_tokens_mask, word_ids and full_input_ids. A folder that cannot be checked
/// (unknown manifest format, missing tokenizer files, unknown family) fails; nothing is skipped.
/// </summary>
[Trait("Category", "Parity")]
public class TokenizerParityTests
{
    private static readonly string[] s_encodingKeys = ["input_ids", "token_type_ids", "attention_mask", "special_tokens_mask"];

    /// <summary>Every golden folder, named relative to the golden root so the report names the model.</summary>
    public static TheoryData<string> GoldenFolders()
    {
        var data = new TheoryData<string>();
        foreach (string directory in GoldenFolder.Discover(SharedAssets.GoldenRoot))
        {
            data.Add(Path.GetRelativePath(SharedAssets.GoldenRoot, directory));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(GoldenFolders))]
    public void Encode_EveryGoldenExample_MatchesReferenceExactly(string folder)
    {
        using GoldenFolder golden = GoldenFolder.Open(Path.Combine(SharedAssets.GoldenRoot, folder));
        TextTokenizer tokenizer = TextTokenizer.FromFolder(golden.ModelDirectory);
        IReadOnlyList<GoldenExample> examples = golden.Examples();
        Assert.NotEmpty(examples);

        var failures = new List<string>();
        CheckTokenizerFacts(golden, tokenizer, failures);
        int maxLength = golden.MaxLength;
        foreach (GoldenExample example in examples)
        {
            TokenizedInput truncated;
            TokenizedInput full;
            try
            {
                (truncated, full) = example.Words is { } words
                    ? (tokenizer.EncodeWords(words, maxLength), tokenizer.EncodeWords(words))
                    : (tokenizer.Encode(example.Text!, example.TextPair, maxLength), tokenizer.Encode(example.Text!, example.TextPair));
            }
            catch (Exception e)
            {
                failures.Add($"{folder} {example.Key}: encoding threw {e.GetType().Name}: {e.Message}");
                continue;
            }

            var actual = new Dictionary<string, int[]>
            {
                ["input_ids"] = truncated.InputIds,
                ["token_type_ids"] = truncated.TokenTypeIds,
                ["attention_mask"] = truncated.AttentionMask,
                ["special_tokens_mask"] = truncated.SpecialTokensMask,
                ["full_input_ids"] = full.InputIds,
            };
            if (example.Words is not null)
            {
                actual["word_ids"] = truncated.WordIds ?? [];
            }

            foreach ((string key, int[] values) in actual)
            {
                string name = $"{example.Key}.{key}";
                if (!golden.Has(name))
                {
                    failures.Add($"{folder} {name}: the golden file has no such tensor.");
                    continue;
                }

                if (Describe(folder, name, example, golden.Ints(name), values) is { } failure)
                {
                    failures.Add(failure);
                }
            }
        }

        Assert.True(failures.Count == 0,
            $"{failures.Count} mismatch(es) in {folder} ({examples.Count} examples, keys {string.Join(", ", s_encodingKeys)}, word_ids, full_input_ids):\n" +
            string.Join("\n", failures.Take(25)));
    }

    // The manifest's tokenizer facts that the public API exposes.
    private static void CheckTokenizerFacts(GoldenFolder golden, TextTokenizer tokenizer, List<string> failures)
    {
        JsonElement facts = golden.Tokenizer;
        void Expect(string what, long expected, long actual)
        {
            if (expected != actual)
            {
                failures.Add($"{golden.Name} tokenizer: {what} is {actual}, the reference says {expected}.");
            }
        }

        Expect("vocab_size", facts.GetProperty("vocab_size").GetInt64(), tokenizer.VocabularySize);
        if (facts.TryGetProperty("model_max_length", out JsonElement max) && max.ValueKind == JsonValueKind.Number)
        {
            Expect("model_max_length", max.GetInt64(), tokenizer.ModelMaxLength);
        }

        JsonElement ids = facts.GetProperty("special_token_ids");
        Expect("cls id", ids.GetProperty("cls_token").GetInt64(), tokenizer.SpecialTokens.Cls);
        Expect("sep id", ids.GetProperty("sep_token").GetInt64(), tokenizer.SpecialTokens.Sep);
        Expect("pad id", ids.GetProperty("pad_token").GetInt64(), tokenizer.SpecialTokens.Pad);
        Expect("unk id", ids.GetProperty("unk_token").GetInt64(), tokenizer.SpecialTokens.Unk);
        Expect("mask id", ids.GetProperty("mask_token").GetInt64(), tokenizer.SpecialTokens.Mask);
        Expect("special tokens (single)", facts.GetProperty("num_special_tokens_single").GetInt64(), tokenizer.SpecialTokenCount(pair: false));
        Expect("special tokens (pair)", facts.GetProperty("num_special_tokens_pair").GetInt64(), tokenizer.SpecialTokenCount(pair: true));
    }

    // Null when equal; else folder, tensor, first differing position, and both sides around it
    // with the reference tokens (manifest `tokens`, which describe the truncated input_ids).
    private static string? Describe(string folder, string name, GoldenExample example, long[] expected, int[] actual)
    {
        int n = Math.Min(expected.Length, actual.Length);
        int first = 0;
        while (first < n && expected[first] == actual[first])
        {
            first++;
        }

        if (first == n && expected.Length == actual.Length)
        {
            return null;
        }

        int from = Math.Max(0, first - 3);
        string Window<T>(IReadOnlyList<T> values) =>
            string.Join(" ", values.Skip(from).Take(7).Select((v, i) => from + i == first ? $"[{v}]" : $"{v}"));

        var message = new StringBuilder()
            .Append($"{folder} {name}: first difference at position {first} (reference length {expected.Length}, ours {actual.Length}); ")
            .Append($"reference ids ...{Window(expected)}..., ours ...{Window(actual)}...; ")
            .Append($"reference tokens ...{Window(example.Tokens.Select(Escape).ToList())}...; ")
            .Append($"input {Escape(example.Text ?? string.Join(" | ", example.Words ?? []))}");
        if (example.TextPair is not null)
        {
            message.Append($" || {Escape(example.TextPair)}");
        }

        return message.ToString();
    }

    private static string Escape(string text)
    {
        var builder = new StringBuilder();
        foreach (char c in text.Length > 80 ? text[..80] + "…" : text)
        {
            builder.Append(c is < ' ' or (>= '\u007f' and <= '\u00a0') or '\u200b' or '\u2028' or '\ufeff' ? $"\\u{(int)c:x4}" : c.ToString());
        }

        return builder.ToString();
    }
}
