using static TorchSharp.torch;

namespace EarlyExit.Tests.Modeling;

/// <summary>Max-abs-diff comparisons that remember the first tensor over tolerance, for parity reports.</summary>
internal sealed class TensorComparison(double tolerance)
{
    private readonly List<string> _lines = [];

    public double Tolerance { get; } = tolerance;

    /// <summary>The largest difference seen so far, over every compared tensor.</summary>
    public double MaxDiff { get; private set; }

    /// <summary>The name of the tensor with <see cref="MaxDiff"/>.</summary>
    public string? MaxDiffName { get; private set; }

    /// <summary>The first tensor over tolerance, with its max diff; null while all pass.</summary>
    public string? FirstFailure { get; private set; }

    public int Compared { get; private set; }

    /// <summary>Compares two tensors of equal shape (optionally only where <paramref name="keep"/> is true, broadcast over trailing dims).</summary>
    public void Compare(string name, Tensor actual, Tensor expected, Tensor? keep = null)
    {
        using var scope = NewDisposeScope();
        if (!actual.shape.SequenceEqual(expected.shape))
        {
            Fail(name, $"shape [{string.Join(", ", actual.shape)}], reference [{string.Join(", ", expected.shape)}]");
            return;
        }

        Tensor diff = (actual.to_type(ScalarType.Float64) - expected.to_type(ScalarType.Float64)).abs();
        if (keep is not null)
        {
            Tensor mask = keep.to_type(ScalarType.Bool);
            while (mask.ndim < diff.ndim)
            {
                mask = mask.unsqueeze(-1);
            }

            diff = diff.masked_select(mask.expand_as(diff));
        }

        double max = diff.numel() == 0 ? 0 : diff.max().item<double>();
        Compared++;
        if (double.IsNaN(max) || max > MaxDiff)
        {
            MaxDiff = double.IsNaN(max) ? double.NaN : max;
            MaxDiffName = name;
        }

        if (double.IsNaN(max) || max > Tolerance)
        {
            Fail(name, $"max abs diff {max:G4} > {Tolerance:G4}");
        }
    }

    public void Fail(string name, string why)
    {
        string line = $"{name}: {why}";
        _lines.Add(line);
        FirstFailure ??= line;
    }

    public string Summary => $"{Compared} tensors compared, max abs diff {MaxDiff:G4} ({MaxDiffName}); {_lines.Count} over tolerance {Tolerance:G4}"
        + (FirstFailure is null ? "" : $"; first: {FirstFailure}");

    /// <summary>Max abs difference of two tensors (test helper).</summary>
    public static double MaxAbsDiff(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        Assert.Equal(a.shape, b.shape);
        return (a.to_type(ScalarType.Float64) - b.to_type(ScalarType.Float64)).abs().max().item<double>();
    }
}
