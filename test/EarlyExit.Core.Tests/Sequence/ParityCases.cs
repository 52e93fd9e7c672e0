using EarlyExit.Sequence;

namespace EarlyExit.Tests.Sequence;

/// <summary>One prediction set for the parity tests: gold and predicted tags per sentence.</summary>
/// <param name="Name">The case's name, also the key of its expected numbers.</param>
/// <param name="Gold">Gold tags per sentence.</param>
/// <param name="Predicted">Predicted tags per sentence.</param>
/// <param name="HasIobesLetters">Whether the tags use E-/S-, where conlleval.pl 2004 and seqeval differ.</param>
internal sealed record ParityCase(string Name, string[][] Gold, string[][] Predicted, bool HasIobesLetters);

/// <summary>
/// The prediction sets whose conlleval.pl and seqeval numbers ConllevalParityTests pins. Built from
/// the shared CoNLL-2003 valid and test files with the seeds below; see PredictionCorruptions.
/// </summary>
internal static class ParityCases
{
    public static IReadOnlyList<ParityCase> All(ConllCorpus valid, ConllCorpus test)
    {
        string[][] validIob1 = valid.Tags.Select(t => t.ToArray()).ToArray();
        string[][] validIob2 = TagSchemes.Convert(validIob1, TagScheme.Iob1, TagScheme.Iob2);
        string[][] validIobes = TagSchemes.Convert(validIob1, TagScheme.Iob1, TagScheme.Iobes);
        string[][] testIob1 = test.Tags.Select(t => t.ToArray()).ToArray();
        string[][] testIobes = TagSchemes.Convert(testIob1, TagScheme.Iob1, TagScheme.Iobes);
        string[][] allOutside = validIob1.Select(s => Enumerable.Repeat("O", s.Length).ToArray()).ToArray();

        return
        [
            // Same entities, other scheme: entity scores 100, token accuracy below 100.
            new("valid-iob1-vs-iob2-copy", validIob1, validIob2, false),
            new("valid-iob2-entity-noise", validIob2, PredictionCorruptions.EntityNoise(validIob1, 11, TagScheme.Iob2), false),
            new("valid-iob1-entity-noise", validIob1, PredictionCorruptions.EntityNoise(validIob1, 12, TagScheme.Iob1), false),
            new("valid-iob2-token-noise", validIob2, PredictionCorruptions.TokenNoise(validIob2, 13, TagScheme.Iob2, 0.1), false),
            new("valid-iob1-token-noise", validIob1, PredictionCorruptions.TokenNoise(validIob1, 14, TagScheme.Iob1, 0.1), false),
            new("valid-iob1-vs-iob2-entity-and-token-noise", validIob1,
                PredictionCorruptions.TokenNoise(PredictionCorruptions.EntityNoise(validIob1, 15, TagScheme.Iob2), 16, TagScheme.Iob2, 0.05), false),
            new("valid-all-outside", validIob1, allOutside, false),
            new("test-iob1-entity-noise", testIob1, PredictionCorruptions.EntityNoise(testIob1, 17, TagScheme.Iob1), false),
            new("valid-iobes-entity-noise", validIobes, PredictionCorruptions.EntityNoise(validIob1, 18, TagScheme.Iobes), true),
            new("valid-iobes-token-noise", validIobes, PredictionCorruptions.TokenNoise(validIobes, 19, TagScheme.Iobes, 0.1), true),
            new("test-iob1-vs-iobes-copy", testIob1, testIobes, true),
        ];
    }
}
