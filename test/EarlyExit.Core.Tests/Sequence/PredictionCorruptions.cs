using EarlyExit.Sequence;

namespace EarlyExit.Tests.Sequence;

/// <summary>
/// Seeded, deterministic prediction sets made from gold tags, for the conlleval parity tests. The
/// random source is our own SplitMix64 so the sets never change with the .NET version. Changing
/// anything here changes the predictions, and the expected numbers in ConllevalParityTests (from
/// running conlleval.pl and seqeval on the written predictions) must then be produced again.
/// </summary>
internal static class PredictionCorruptions
{
    public static readonly string[] Types = ["LOC", "MISC", "ORG", "PER"];

    /// <summary>
    /// Entity-level noise: each gold entity is dropped (5%), gets another type (8%) or moves one
    /// boundary by one token (8%); 5% of sentences get a spurious one- or two-token entity on O tokens.
    /// The result is written in <paramref name="scheme"/>.
    /// </summary>
    public static string[][] EntityNoise(IReadOnlyList<IReadOnlyList<string>> goldIob1, ulong seed, TagScheme scheme)
    {
        var random = new SplitMix64(seed);
        var predictions = new string[goldIob1.Count][];
        for (int s = 0; s < goldIob1.Count; s++)
        {
            int length = goldIob1[s].Count;
            IReadOnlyList<EntitySpan> gold = TagSchemes.Decode(goldIob1[s], TagScheme.Iob1);
            var predicted = new List<EntitySpan>();
            for (int k = 0; k < gold.Count; k++)
            {
                EntitySpan span = gold[k];
                double r = random.NextDouble();
                if (r < 0.05)
                {
                    continue;
                }

                if (r < 0.13)
                {
                    string other = Types.Where(t => t != span.Type).ElementAt(random.Next(Types.Length - 1));
                    span = new EntitySpan(other, span.Start, span.End);
                }
                else if (r < 0.21)
                {
                    int previousEnd = predicted.Count > 0 ? predicted[^1].End : 0;
                    int nextStart = k + 1 < gold.Count ? gold[k + 1].Start : length;
                    (int start, int end) = random.Next(4) switch
                    {
                        0 => (span.Start - 1, span.End),
                        1 => (span.Start + 1, span.End),
                        2 => (span.Start, span.End - 1),
                        _ => (span.Start, span.End + 1),
                    };
                    if (start >= previousEnd && end <= nextStart && end > start)
                    {
                        span = new EntitySpan(span.Type, start, end);
                    }
                }

                predicted.Add(span);
            }

            if (random.NextDouble() < 0.05)
            {
                int at = random.Next(length);
                int end = Math.Min(length, at + 1 + random.Next(2));
                if (predicted.All(p => p.End <= at || p.Start >= end))
                {
                    predicted.Add(new EntitySpan(Types[random.Next(Types.Length)], at, end));
                    predicted.Sort((a, b) => a.Start.CompareTo(b.Start));
                }
            }

            predictions[s] = TagSchemes.Encode(predicted, length, scheme);
        }

        return predictions;
    }

    /// <summary>
    /// Token-level noise: each tag is replaced, with probability <paramref name="rate"/>, by a tag drawn
    /// uniformly from the labels of <paramref name="scheme"/> (O and every prefix with every type), which
    /// makes the odd sequences a model emits: O I-PER, B-PER I-LOC, I-PER B-PER, E-PER after O.
    /// </summary>
    public static string[][] TokenNoise(IReadOnlyList<IReadOnlyList<string>> tags, ulong seed, TagScheme scheme, double rate)
    {
        string[] labels = TagSchemes.Prefixes(scheme)
            .SelectMany(p => p == TagPrefix.Outside ? ["O"] : Types.Select(t => Tag.Create(p, t).ToString()))
            .ToArray();
        var random = new SplitMix64(seed);
        var noisy = new string[tags.Count][];
        for (int s = 0; s < tags.Count; s++)
        {
            noisy[s] = tags[s].ToArray();
            for (int i = 0; i < noisy[s].Length; i++)
            {
                if (random.NextDouble() < rate)
                {
                    noisy[s][i] = labels[random.Next(labels.Length)];
                }
            }
        }

        return noisy;
    }

    /// <summary>SplitMix64 (Steele, Lea and Flood 2014): a tiny generator whose output is fixed by its seed.</summary>
    internal sealed class SplitMix64(ulong seed)
    {
        private ulong _state = seed;

        public ulong NextUInt64()
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
        public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

        /// <summary>Uniform in [0, n).</summary>
        public int Next(int n) => (int)(NextUInt64() % (ulong)n);
    }
}
