// Options more than one command takes: the backbone and its files, the exit criterion of classifiers,
// the device, and factories for checked integers, numbers, choices and files. Values are checked while
// parsing, so a bad value is a usage error (exit code 2) before any file is read.
using System.CommandLine;
using EarlyExit.Devices;
using EarlyExit.ExitCriteria;
using EarlyExit.Hub;

namespace EarlyExit.Cli;

/// <summary>--backbone, --from-scratch, --assets and --offline: the transformer a train command starts from and where its files come from.</summary>
internal sealed class BackboneOptions
{
    private readonly Option<string> _backbone = new("--backbone")
    {
        Description = "The transformer to fine-tune: a hub id (sentence-transformers/all-MiniLM-L6-v2, or minilm for short; albert-base-v2), a local Hugging Face folder, or a preset (tiny-bert, ...) with --from-scratch.",
        HelpName = "ID|DIR|preset",
        Required = true,
    };

    private readonly Option<bool> _fromScratch = new("--from-scratch") { Description = "Start the backbone from random weights (its config and tokenizer only)." };

    private readonly Option<string> _assets = new("--assets")
    {
        Description = $"A local hub mirror (models/<id>/ folders), searched before the cache and the network; as ${HubOptions.MirrorVariable}.",
        HelpName = "DIR",
    };

    private readonly Option<bool> _offline = new("--offline") { Description = $"Never use the network for the backbone; as ${HubOptions.OfflineVariable}=1." };

    public void AddTo(Command command)
    {
        command.Add(_backbone);
        command.Add(_fromScratch);
        command.Add(_assets);
        command.Add(_offline);
    }

    public string Backbone(ParseResult result) => result.GetRequiredValue(_backbone);

    public bool FromScratch(ParseResult result) => result.GetValue(_fromScratch);

    /// <summary>The hub settings: --assets as the mirror, --offline; the environment's otherwise.</summary>
    /// <exception cref="CliException">--assets is not a folder.</exception>
    public HubOptions Hub(ParseResult result)
    {
        var hub = new HubOptions();
        if (result.GetValue(_assets) is string assets)
        {
            if (!Directory.Exists(assets))
            {
                throw new CliException($"--assets '{assets}' is not a folder.", isUsage: true);
            }

            hub.MirrorDirectory = assets;
        }

        if (result.GetValue(_offline))
        {
            hub.Offline = true;
        }

        return hub;
    }
}

/// <summary>Option factories shared by the classify and ner commands.</summary>
internal static class CommonOptions
{
    /// <summary>--exit-criterion, parsed with <see cref="ExitCriterion.Parse"/>.</summary>
    public static Option<ExitCriterion?> ExitCriterion(string description) =>
        Parsed("--exit-criterion", $"{description} Forms: {ExitCriteria.ExitCriterion.Syntax}.", "CRITERION", ExitCriteria.ExitCriterion.Parse);

    /// <summary>
    /// An option whose value <paramref name="parse"/> reads; a <see cref="FormatException"/> becomes a
    /// usage error "NAME: message" at parse time, before any work.
    /// </summary>
    public static Option<T?> Parsed<T>(string name, string description, string helpName, Func<string, T> parse)
        where T : class => new(name)
    {
        Description = description,
        HelpName = helpName,
        CustomParser = result =>
        {
            try
            {
                return parse(result.Tokens[0].Value);
            }
            catch (FormatException e)
            {
                result.AddError($"{name}: {e.Message}");
                return null;
            }
        },
    };

    /// <summary>--device: auto, cpu, cuda or cuda:N.</summary>
    public static Option<DeviceOption?> Device(string what) => new("--device")
    {
        Description = $"{what}: auto (CUDA when usable, else CPU), cpu, cuda or cuda:N. Default: auto.",
        HelpName = "auto|cpu|cuda|cuda:N",
        CustomParser = result =>
        {
            if (DeviceOption.TryParse(result.Tokens[0].Value, out DeviceOption? device))
            {
                return device;
            }

            result.AddError($"--device '{result.Tokens[0].Value}' is not valid; use auto, cpu, cuda or cuda:N.");
            return null;
        },
    };

    /// <summary>An integer option that must be at least <paramref name="minimum"/>.</summary>
    public static Option<int?> Integer(string name, string description, int minimum, string helpName = "N")
    {
        var option = new Option<int?>(name) { Description = description, HelpName = helpName };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is int value && value < minimum)
            {
                result.AddError($"{name} is {value}; it must be at least {minimum}.");
            }
        });
        return option;
    }

    /// <summary>A number option that must be positive.</summary>
    public static Option<double?> Positive(string name, string description, string helpName = "X")
    {
        var option = new Option<double?>(name) { Description = description, HelpName = helpName };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double?>() is double value && !(value > 0))
            {
                result.AddError($"{name} is {value.ToString(System.Globalization.CultureInfo.InvariantCulture)}; it must be positive.");
            }
        });
        return option;
    }

    /// <summary>An option with a fixed set of words, each mapped to a value.</summary>
    public static Option<T?> Choice<T>(string name, string description, IReadOnlyDictionary<string, T> choices)
        where T : struct
    {
        string words = string.Join("|", choices.Keys);
        var option = new Option<T?>(name)
        {
            Description = description,
            HelpName = words,
            CustomParser = result =>
            {
                string text = result.Tokens[0].Value;
                if (choices.TryGetValue(text.ToLowerInvariant(), out T value))
                {
                    return value;
                }

                result.AddError($"{name} '{text}' is not valid; use one of: {string.Join(", ", choices.Keys)}.");
                return null;
            },
        };
        option.CompletionSources.Add(choices.Keys.ToArray());
        return option;
    }

    /// <summary>The value of a required file option that must name an existing file, as given.</summary>
    public static Option<string> File(string name, string description, bool required = true) => new(name)
    {
        Description = description,
        HelpName = "FILE",
        Required = required,
    };

    /// <summary>A number as help text shows defaults: invariant, no trailing zeros.</summary>
    public static string Invariant(double value) => value.ToString("0.##########", System.Globalization.CultureInfo.InvariantCulture);
}
