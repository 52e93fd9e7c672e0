using EarlyExit.Devices;
using EarlyExit.ExitCriteria;
using EarlyExit.Hub;
using EarlyExit.Modeling;
using EarlyExit.Training;

namespace EarlyExit.MLNet.TokenEarlyExitNer;

public sealed partial class TokenEarlyExitNerTrainer
{
    /// <summary>
    /// What <see cref="TokenEarlyExitNerTrainer"/> can be told, beyond what every early-exit trainer can
    /// (<see cref="EarlyExitTrainerOptions"/>); checked when the trainer is created, all problems together.
    /// Defaults: <see cref="TokenExitDefaults"/>.
    /// </summary>
    public sealed class Options : EarlyExitTrainerOptions
    {
        /// <summary>The words: a vector of strings (pre-split words), or one string split on whitespace.</summary>
        /// <value>The default value is "Tokens".</value>
        public string TokensColumnName { get; set; } = DefaultColumnNames.Tokens;

        /// <summary>The output column of the predicted tags: a vector of keys, one per word, with the label's key values.</summary>
        /// <value>The default value is "PredictedLabel".</value>
        public string PredictedLabelColumnName { get; set; } = DefaultColumnNames.PredictedLabel;

        /// <summary>The output column of each word's exit layer (vector of Int32, 1-based).</summary>
        /// <value>The default value is "TokenExitLayers".</value>
        public string TokenExitLayersColumnName { get; set; } = DefaultColumnNames.TokenExitLayers;

        /// <summary>Epochs of self-sampling training after the joint epochs (the paper's second stage); 0 skips it.</summary>
        /// <value>The default value is <see cref="TokenExitDefaults.SelfSamplingEpochs"/> (1).</value>
        public int SelfSamplingEpochs { get; set; } = TokenExitDefaults.SelfSamplingEpochs;

        /// <summary>Dropout before each off-ramp.</summary>
        /// <value>The default value is <see cref="TokenExitDefaults.Dropout"/> (0.1).</value>
        public double Dropout { get; set; } = TokenExitDefaults.Dropout;

        /// <summary>The exit criterion of the fitted transformer and of validation (SENTEE, TOKEE, fixed layer, full).</summary>
        /// <value>The default value is <c>tokee:0.3:5</c>.</value>
        public TokenExitCriterion ExitCriterion { get; set; } = TokenExitCriterion.Tokee(TokenExitDefaults.TokeeThreshold);

        /// <summary>
        /// What each off-ramp reads after layer i: layer i's state (the paper's off-ramps), or a learned attention over
        /// the token's states after layers 1..i (<see cref="TokenOffRampInput.LayerAttention"/>) or over what each of
        /// those layers added (<see cref="TokenOffRampInput.DifferenceAttention"/>). Scored on TorchSharp only.
        /// </summary>
        /// <value>The default value is <see cref="TokenOffRampInput.Layer"/>.</value>
        public TokenOffRampInput OffRampInput { get; set; } = TokenOffRampInput.Layer;

        /// <summary>
        /// The peak learning rate of the layer-attention pools when <see cref="OffRampInput"/> is not
        /// <see cref="TokenOffRampInput.Layer"/>. The pools start as a plain average of the layers; at the backbone's
        /// learning rate they barely move in an epoch, so a higher rate of their own lets them choose layers.
        /// </summary>
        /// <value>The default value is null: <see cref="EarlyExitTrainerOptions.LearningRate"/>.</value>
        public double? LayerAttentionLearningRate { get; set; }

        /// <summary>
        /// The first layer (1-based) that runs on words: before it, each word's pieces are averaged into one position,
        /// so that layer and the ones after it compute attention and feed-forward over words instead of pieces (and the
        /// special tokens). 0 runs every layer on pieces. Scored on TorchSharp only.
        /// </summary>
        /// <value>The default value is 0 (no pooling).</value>
        public int WordPoolingLayer { get; set; }

        /// <summary>
        /// Auxiliary tag tasks learnt beside the label, each from its own tag column by a head after its
        /// layer (hierarchical multi-task learning: e.g. part of speech after layer 1, chunks after layer 2).
        /// Each task's predicted tags become an output column.
        /// </summary>
        /// <value>The default value is empty (no auxiliary tasks).</value>
        public IList<TokenAuxiliaryTask> AuxiliaryTasks { get; set; } = [];

        /// <inheritdoc />
        internal override IEnumerable<string> OutputColumnNames() =>
            new[] { PredictedLabelColumnName, TokenExitLayersColumnName }.Concat((AuxiliaryTasks ?? []).Select(t => t?.OutputColumnName ?? ""));

        internal TokenTrainingOptions ToTrainingOptions() => WithFineTuning(new TokenTrainingOptions
        {
            SelfSamplingEpochs = SelfSamplingEpochs,
            ValidationCriterion = ExitCriterion,
            LayerAttentionLearningRate = LayerAttentionLearningRate,
        });

        private protected override FineTuningOptions FineTuning() => ToTrainingOptions();

        private protected override IEnumerable<(string Name, string Option)> InputColumns() => [(TokensColumnName, nameof(TokensColumnName))];

        /// <summary>The auxiliary tasks (empty for none; the options were checked when the trainer was created).</summary>
        internal IReadOnlyList<TokenAuxiliaryTask> Tasks => AuxiliaryTasks is null ? [] : [.. AuxiliaryTasks];

        private protected override IEnumerable<string> LineProblems()
        {
            if (!(Dropout is >= 0 and < 1))
            {
                yield return $"Dropout is {Dropout}; it must be in [0, 1).";
            }

            if (!Enum.IsDefined(OffRampInput))
            {
                yield return $"OffRampInput is {OffRampInput}; use {string.Join(", ", Enum.GetNames<TokenOffRampInput>())}.";
            }

            if (LayerAttentionLearningRate is not null && OffRampInput == TokenOffRampInput.Layer)
            {
                yield return "LayerAttentionLearningRate is set but OffRampInput is Layer, which has no attention pools; set OffRampInput to LayerAttention or DifferenceAttention, or leave the rate null.";
            }

            if (WordPoolingLayer < 0)
            {
                yield return $"WordPoolingLayer is {WordPoolingLayer}; use the first layer to run on words (1 or more), or 0 for none.";
            }

            if (AuxiliaryTasks is null)
            {
                yield return "AuxiliaryTasks is null; leave it empty for no auxiliary tasks.";
                yield break;
            }

            for (int i = 0; i < AuxiliaryTasks.Count; i++)
            {
                if (AuxiliaryTasks[i] is not TokenAuxiliaryTask task)
                {
                    yield return $"AuxiliaryTasks[{i}] is null.";
                    continue;
                }

                foreach (string problem in task.Problems(i, LabelColumnName))
                {
                    yield return problem;
                }
            }

            // Columns differ by case in ML.NET, but the task names (the columns) must differ ignoring case, as the saved labeller's do.
            foreach (string column in AuxiliaryTasks.OfType<TokenAuxiliaryTask>().Select(t => t.LabelColumnName).GroupBy(c => c, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1).Select(g => g.Key))
            {
                yield return $"Two auxiliary tasks read column '{column}' (task names ignore case); give each task its own tag column.";
            }

            foreach (string output in OutputColumnNames().Append(ExitLayerColumnName).Where(c => !string.IsNullOrWhiteSpace(c)).GroupBy(c => c).Where(g => g.Count() > 1).Select(g => g.Key))
            {
                yield return $"Two output columns are named '{output}'; give each output (predicted tags, exit layers, each auxiliary task's predictions) its own name.";
            }
        }
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
