// The part of transformers' slow `PreTrainedTokenizer.tokenize()` that runs before any model:
//   1. with do_lower_case, every character outside the special tokens is lower-cased on its own;
//   2. the text is cut at every added token (special tokens included), matched case-sensitively,
//      earliest match first and the longest one where several start at the same place;
//   3. a token with lstrip/rstrip eats the whitespace (Python str.isspace) of its neighbours, and a
//      single_word token that touches a word on one side is glued back into that text;
//   4. empty pieces are dropped; the others go to the family's model one piece at a time.
using System.Text;

namespace EarlyExit.Tokenization;

/// <summary>An added token of a Hugging Face tokenizer (a special token or one from added_tokens_decoder).</summary>
/// <param name="Content">The token's text, matched literally.</param>
/// <param name="Id">The token's id.</param>
/// <param name="LStrip">Whether the token swallows the whitespace on its left.</param>
/// <param name="RStrip">Whether the token swallows the whitespace on its right.</param>
/// <param name="SingleWord">Whether the token only counts when it is not glued to a word.</param>
/// <param name="Special">Whether the token is a special token (protected from lower-casing).</param>
/// <param name="Normalized">Whether a non-special token is subject to lower-casing.</param>
internal sealed record AddedToken(string Content, int Id, bool LStrip, bool RStrip, bool SingleWord, bool Special, bool Normalized)
{
    /// <summary>Transformers protects special tokens and normalised non-special added tokens from lower-casing.</summary>
    public bool ProtectedFromLowerCasing => Special || Normalized;
}

/// <summary>One piece of a text cut at added tokens: either plain text or one added token.</summary>
/// <param name="Text">The piece's text (the token's content for an added token).</param>
/// <param name="Token">The added token, or null for plain text.</param>
internal readonly record struct TextPiece(string Text, AddedToken? Token);

/// <summary>Cuts text at added tokens the way the slow Hugging Face tokenizers do.</summary>
internal sealed class AddedTokenSplitter
{
    private readonly AddedToken[] _byLength;
    private readonly AddedToken[] _protected;

    public AddedTokenSplitter(IEnumerable<AddedToken> tokens)
    {
        // Longest first, so that the first match at a position is the longest one.
        _byLength = tokens.Where(t => t.Content.Length > 0)
            .GroupBy(t => t.Content, StringComparer.Ordinal).Select(g => g.Last())
            .OrderByDescending(t => t.Content.Length).ThenBy(t => t.Content, StringComparer.Ordinal).ToArray();
        _protected = _byLength.Where(t => t.ProtectedFromLowerCasing).ToArray();
    }

    /// <summary>Every added token, longest content first.</summary>
    public IReadOnlyList<AddedToken> Tokens => _byLength;

    /// <summary>The token whose content is exactly <paramref name="content"/>, if any.</summary>
    public AddedToken? Find(string content) => _byLength.FirstOrDefault(t => t.Content == content);

    /// <summary>Lower-cases every code point that is not inside a protected added token (step 1).</summary>
    public string LowerCaseOutsideTokens(string text)
    {
        var builder = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length;)
        {
            AddedToken? token = MatchAt(_protected, text, i);
            if (token is not null)
            {
                builder.Append(token.Content);
                i += token.Content.Length;
                continue;
            }

            int cp = PythonText.CodePointAt(text, i, out int length);
            PythonText.AppendLowerCodePoint(builder, cp);
            i += length;
        }

        return builder.ToString();
    }

    /// <summary>Cuts <paramref name="text"/> at added tokens and applies their strip rules (steps 2-4).</summary>
    public List<TextPiece> Split(string text)
    {
        var pieces = new List<TextPiece>();
        int start = 0;
        for (int i = 0; i < text.Length;)
        {
            AddedToken? token = MatchAt(_byLength, text, i);
            if (token is null)
            {
                i++;
                continue;
            }

            if (i > start)
            {
                pieces.Add(new TextPiece(text[start..i], null));
            }

            pieces.Add(new TextPiece(token.Content, token));
            i += token.Content.Length;
            start = i;
        }

        if (start < text.Length || pieces.Count == 0)
        {
            pieces.Add(new TextPiece(text[start..], null));
        }

        ApplyStripRules(pieces);
        return pieces.Where(p => p.Text.Length > 0).ToList();
    }

    // Mirrors the neighbour edits of transformers: each token edits the (possibly already edited)
    // piece on its left and right; a single_word token glued to a word becomes plain text.
    private static void ApplyStripRules(List<TextPiece> pieces)
    {
        for (int i = 0; i < pieces.Count; i++)
        {
            AddedToken? token = pieces[i].Token;
            if (token is null)
            {
                continue;
            }

            string? left = i > 0 ? pieces[i - 1].Text : null;
            string? right = i < pieces.Count - 1 ? pieces[i + 1].Text : null;
            if (token.RStrip && !string.IsNullOrEmpty(right))
            {
                pieces[i + 1] = pieces[i + 1] with { Text = PythonText.LStrip(right) };
            }

            if (token.LStrip && !string.IsNullOrEmpty(left))
            {
                pieces[i - 1] = pieces[i - 1] with { Text = PythonText.RStrip(left) };
            }

            if (token.SingleWord && !string.IsNullOrEmpty(left) && left[^1] != ' ')
            {
                pieces[i - 1] = new TextPiece(pieces[i - 1].Text + token.Content, null);
                pieces[i] = new TextPiece(string.Empty, null);
            }
            else if (token.SingleWord && !string.IsNullOrEmpty(right) && right[0] != ' ')
            {
                pieces[i + 1] = new TextPiece(token.Content + pieces[i + 1].Text, null);
                pieces[i] = new TextPiece(string.Empty, null);
            }
        }
    }

    private static AddedToken? MatchAt(AddedToken[] tokens, string text, int index)
    {
        foreach (AddedToken token in tokens)
        {
            if (text.AsSpan(index).StartsWith(token.Content, StringComparison.Ordinal))
            {
                return token;
            }
        }

        return null;
    }
}
