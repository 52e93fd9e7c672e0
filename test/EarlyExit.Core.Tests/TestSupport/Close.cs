namespace EarlyExit.Tests.TestSupport;

/// <summary>Floats equal within a tolerance (NaN equals NaN: halting distributions mark the layers not computed with it).</summary>
internal sealed class Close(float tolerance) : IEqualityComparer<float>
{
    public bool Equals(float x, float y) => (float.IsNaN(x) && float.IsNaN(y)) || Math.Abs(x - y) <= tolerance;

    public int GetHashCode(float obj) => 0;
}
