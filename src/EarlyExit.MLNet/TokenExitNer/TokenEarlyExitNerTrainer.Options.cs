using EarlyExit.Devices;
using EarlyExit.ExitCriteria;
using EarlyExit.Hub;
using EarlyExit.Training;

namespace EarlyExit.MLNet.TokenExitNer;

public sealed partial class TokenEarlyExitNerTrainer
{
    /// <summary>Everything <see cref="TokenEarlyExitNerTrainer"/> can be told; checked when the trainer is created, all problems together.</summary>
    public sealed class Options
    {
        /// <summary>The tag column: a vector of keys, one per word (MapValueToKey over a vector of tag strings).</summary>
        /// <value>The default value is "Label".</value>
        public string LabelColumnName { get; set; } = DefaultColumnNames.Label;

        /// <summary>The words: a vector of strings (pre-split words), or one string split on whitespace.</summary>
        /// <value>The default value is "Tokens".</value>
        public string TokensColumnName { get; set; } = DefaultColumnNames.Tokens;

        /// <summary>The output column of the predicted tags: a vector of keys, one per word, with the label's key values.</summary>
        /// <value>The default value is "PredictedLabel".</value>
        public string PredictedLabelColumnName { get; set; } = DefaultColumnNames.PredictedLabel;

        /// <summary>The output column of each word's exit layer (vector of Int32, 1-based).</summary>
        /// <value>The default value is "TokenExitLayers".</value>
        public string TokenExitLayersColumnName { get; set; } = DefaultColumnNames.TokenExitLayers;

        /// <summary>The output column of the deepest layer any word of the row reached (Int32).</summary>
        /// <value>The default value is "ExitLayer".</value>
        public string ExitLayerColumnName { get; set; } = DefaultColumnNames.ExitLayer;

        /// <summary>The backbone: a hub id, a local Hugging Face folder, or a preset (with <see cref="FromScratch"/>).</summary>
        /// <value>The default value is <see cref="TokenExitDefaults.Backbone"/> ("albert-base-v2").</value>
        public string Backbone { get; set; } = TokenExitDefaults.Backbone;

        /// <summary>Build the backbone with random weights from its config.</summary>
        /// <value>The default value is false.</value>
        public bool FromScratch { get; set; }

        /// <summary>Hub mirror, cache and offline settings; null reads them from the environment.</summary>
        /// <value>The default value is null.</value>
        public HubOptions? Hub { get; set; }

        /// <summary>Longest chunk of a sentence in tokens; longer sentences are labelled in chunks of whole words.</summary>
        /// <value>The default value is <see cref="TokenExitDefaults.MaxSequenceLength"/> (128).</value>
        public int MaxSequenceLength { get; set; } = TokenExitDefaults.MaxSequenceLength;

        /// <summary>Sentences (chunks) per batch.</summary>
        /// <value>The default value is <see cref="TokenExitDefaults.BatchSize"/> (32).</value>
        public int BatchSize { get; set; } = TokenExitDefaults.BatchSize;

        /// <summary>Epochs of joint training of every off-ramp.</summary>
        /// <value>The default value is <see cref="TokenExitDefaults.Epochs"/> (3).</value>
        public int Epochs { get; set; } = TokenExitDefaults.Epochs;

        /// <summary>Epochs of self-sampling training after the joint epochs (the paper's second stage); 0 skips it.</summary>
        /// <value>The default value is <see cref="TokenExitDefaults.SelfSamplingEpochs"/> (1).</value>
        public int SelfSamplingEpochs { get; set; } = TokenExitDefaults.SelfSamplingEpochs;

        /// <summary>Peak learning rate.</summary>
        /// <value>The default value is <see cref="TokenExitDefaults.LearningRate"/> (2e-5).</value>
        public double LearningRate { get; set; } = TokenExitDefaults.LearningRate;

        /// <summary>Fraction of steps of linear warm-up, then linear decay.</summary>
        /// <value>The default value is <see cref="TokenExitDefaults.WarmupFraction"/> (0.1).</value>
        public double WarmupFraction { get; set; } = TokenExitDefaults.WarmupFraction;

        /// <summary>AdamW weight decay.</summary>
        /// <value>The default value is <see cref="TokenExitDefaults.WeightDecay"/> (0.01).</value>
        public double WeightDecay { get; set; } = TokenExitDefaults.WeightDecay;

        /// <summary>Gradient clipping norm; 0 disables it.</summary>
        /// <value>The default value is <see cref="TokenExitDefaults.MaxGradientNorm"/> (1.0).</value>
        public double MaxGradientNorm { get; set; } = TokenExitDefaults.MaxGradientNorm;

        /// <summary>Dropout before each off-ramp.</summary>
        /// <value>The default value is <see cref="TokenExitDefaults.Dropout"/> (0.1).</value>
        public double Dropout { get; set; } = TokenExitDefaults.Dropout;

        /// <summary>The exit criterion of the fitted transformer and of validation (SENTEE, TOKEE, fixed layer, full).</summary>
        /// <value>The default value is <c>tokee:0.3:5</c>.</value>
        public TokenExitCriterion ExitCriterion { get; set; } = TokenExitCriterion.Tokee(0.3);

        /// <summary>Fraction of the training sentences held out (seeded) for best-epoch selection and early stopping; 0 uses none.</summary>
        /// <value>The default value is 0.</value>
        public double ValidationFraction { get; set; }

        /// <summary>Epochs without a better validation entity F1 before stopping; 0 trains every epoch.</summary>
        /// <value>The default value is 0.</value>
        public int EarlyStoppingPatience { get; set; }

        /// <summary>Seed of weights, dropout, data order, self-sampling and the validation split.</summary>
        /// <value>The default value is <see cref="TokenExitDefaults.Seed"/> (42).</value>
        public int Seed { get; set; } = TokenExitDefaults.Seed;

        /// <summary>Where training and scoring run.</summary>
        /// <value>The default value is <see cref="DeviceOption.Auto"/>.</value>
        public DeviceOption Device { get; set; } = DeviceOption.Auto;

        /// <summary>Receives training progress, or null.</summary>
        /// <value>The default value is null.</value>
        public IProgress<TrainingProgress>? Progress { get; set; }

        /// <summary>Cancels training.</summary>
        /// <value>The default value is <see cref="CancellationToken.None"/>.</value>
        public CancellationToken CancellationToken { get; set; }

        /// <summary>Every problem with the options, each naming the option.</summary>
        internal IReadOnlyList<string> Validate()
        {
            var problems = new List<string>(ToTrainingOptions().Validate());
            void Require(bool ok, string problem)
            {
                if (!ok)
                {
                    problems.Add(problem);
                }
            }

            Require(!string.IsNullOrWhiteSpace(LabelColumnName), "LabelColumnName is empty.");
            Require(!string.IsNullOrWhiteSpace(TokensColumnName), "TokensColumnName is empty.");
            foreach (string output in new[] { PredictedLabelColumnName, TokenExitLayersColumnName, ExitLayerColumnName })
            {
                Require(!string.IsNullOrWhiteSpace(output), "An output column name is empty.");
            }

            Require(!string.IsNullOrWhiteSpace(Backbone), "Backbone is empty; name a hub id, a folder or a preset.");
            Require(MaxSequenceLength >= 8, $"MaxSequenceLength is {MaxSequenceLength}; it must be at least 8.");
            Require(Dropout is >= 0 and < 1, $"Dropout is {Dropout}; it must be in [0, 1).");
            Require(ValidationFraction is >= 0 and < 1, $"ValidationFraction is {ValidationFraction}; it must be in [0, 1).");
            Require(Device is not null, "Device is null; use DeviceOption.Auto, Cpu or Cuda(n).");
            return problems;
        }

        internal TokenTrainingOptions ToTrainingOptions() => new()
        {
            Epochs = Epochs,
            SelfSamplingEpochs = SelfSamplingEpochs,
            BatchSize = BatchSize,
            LearningRate = LearningRate,
            WarmupFraction = WarmupFraction,
            WeightDecay = WeightDecay,
            MaxGradientNorm = MaxGradientNorm,
            Seed = Seed,
            ValidationCriterion = ExitCriterion,
            EarlyStoppingPatience = EarlyStoppingPatience,
        };
    }

    /// <summary>The token-exit NER trainer's default column names.</summary>
    public static class DefaultColumnNames
    {
        /// <summary>"Label".</summary>
        public const string Label = "Label";

        /// <summary>"Tokens".</summary>
        public const string Tokens = "Tokens";

        /// <summary>"PredictedLabel".</summary>
        public const string PredictedLabel = "PredictedLabel";

        /// <summary>"TokenExitLayers".</summary>
        public const string TokenExitLayers = "TokenExitLayers";

        /// <summary>"ExitLayer".</summary>
        public const string ExitLayer = "ExitLayer";
    }
}
