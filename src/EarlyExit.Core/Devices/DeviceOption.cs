using System.Globalization;
using TorchSharp;

namespace EarlyExit.Devices;

/// <summary>
/// Where a model runs: <c>auto</c> (the first CUDA device when one is usable, else the CPU),
/// <c>cpu</c>, <c>cuda</c> (= <c>cuda:0</c>) or <c>cuda:N</c>. Every API that runs a model takes one;
/// <see cref="Resolve"/> turns it into a TorchSharp device and fails clearly when CUDA is asked for
/// and absent.
/// </summary>
public sealed record DeviceOption
{
    private DeviceOption(DeviceOptionKind kind, int index)
    {
        Kind = kind;
        Index = index;
    }

    /// <summary>The first CUDA device when usable, else the CPU. The default.</summary>
    public static DeviceOption Auto { get; } = new(DeviceOptionKind.Auto, 0);

    /// <summary>The CPU.</summary>
    public static DeviceOption Cpu { get; } = new(DeviceOptionKind.Cpu, 0);

    /// <summary>What was asked for.</summary>
    public DeviceOptionKind Kind { get; }

    /// <summary>The CUDA device index (0 unless <c>cuda:N</c> named another).</summary>
    public int Index { get; }

    /// <summary>The environment variable that <see cref="FromEnvironment"/> reads: where models loaded from files run.</summary>
    public const string EnvironmentVariable = "EARLYEXIT_DEVICE";

    /// <summary>
    /// The device named by <c>$EARLYEXIT_DEVICE</c> (auto, cpu, cuda, cuda:N), or <see cref="Auto"/> when
    /// it is unset. Used where no code can pass an option, e.g. models that <c>mlContext.Model.Load</c> creates.
    /// </summary>
    /// <exception cref="FormatException">The variable holds something else; the message names it.</exception>
    public static DeviceOption FromEnvironment()
    {
        string? value = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(value))
        {
            return Auto;
        }

        return TryParse(value, out DeviceOption? option)
            ? option
            : throw new FormatException($"{EnvironmentVariable}='{value}' is not a device; use auto, cpu, cuda or cuda:N (N = 0, 1, ...).");
    }

    /// <summary>CUDA device <paramref name="index"/>.</summary>
    public static DeviceOption Cuda(int index = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return new DeviceOption(DeviceOptionKind.Cuda, index);
    }

    /// <summary>Parses <c>auto</c>, <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c> (case-insensitive, surrounding spaces ignored).</summary>
    /// <exception cref="FormatException">The text is none of those; the message lists them.</exception>
    public static DeviceOption Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (TryParse(text, out DeviceOption? option))
        {
            return option;
        }

        throw new FormatException($"Device '{text}' is not valid; use auto, cpu, cuda or cuda:N (N = 0, 1, ...).");
    }

    /// <summary>Parses like <see cref="Parse"/>, returning false instead of throwing.</summary>
    public static bool TryParse(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out DeviceOption? option)
    {
        option = null;
        string value = text?.Trim().ToLowerInvariant() ?? string.Empty;
        switch (value)
        {
            case "auto":
                option = Auto;
                return true;
            case "cpu":
                option = Cpu;
                return true;
            case "cuda":
                option = Cuda();
                return true;
        }

        if (value.StartsWith("cuda:", StringComparison.Ordinal)
            && int.TryParse(value.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out int index))
        {
            option = Cuda(index);
            return true;
        }

        return false;
    }

    /// <summary>
    /// The TorchSharp device to use. <c>auto</c> picks <c>cuda:0</c> when CUDA is usable, else the CPU.
    /// </summary>
    /// <exception cref="InvalidOperationException">CUDA was asked for but is not usable, or the index is
    /// past the last device; the message says what is present and how to fix it.</exception>
    public torch.Device Resolve()
    {
        switch (Kind)
        {
            case DeviceOptionKind.Cpu:
                return torch.CPU;
            case DeviceOptionKind.Auto:
                return torch.cuda.is_available() ? new torch.Device(DeviceType.CUDA, 0) : torch.CPU;
        }

        if (!torch.cuda.is_available())
        {
            throw new InvalidOperationException(
                $"Device '{this}' was requested but CUDA is not available: either this machine has no usable NVIDIA GPU/driver, " +
                "or the program was built with the CPU backend (the default). Build with -p:TorchBackend=cuda on a machine with an NVIDIA GPU, " +
                "or use device 'cpu' or 'auto'.");
        }

        int count = torch.cuda.device_count();
        if (Index >= count)
        {
            throw new InvalidOperationException($"Device '{this}' was requested but this machine has {count} CUDA device(s) (cuda:0 to cuda:{count - 1}).");
        }

        return new torch.Device(DeviceType.CUDA, Index);
    }

    /// <summary>The option as text: auto, cpu or cuda:N.</summary>
    public override string ToString() => Kind switch
    {
        DeviceOptionKind.Auto => "auto",
        DeviceOptionKind.Cpu => "cpu",
        _ => $"cuda:{Index}",
    };
}

/// <summary>The kinds of <see cref="DeviceOption"/>.</summary>
public enum DeviceOptionKind
{
    /// <summary>CUDA when usable, else CPU.</summary>
    Auto,
    /// <summary>The CPU.</summary>
    Cpu,
    /// <summary>A CUDA device.</summary>
    Cuda,
}
