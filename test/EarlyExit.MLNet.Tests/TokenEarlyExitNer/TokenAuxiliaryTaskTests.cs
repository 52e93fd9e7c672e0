using EarlyExit.MLNet.Interop;
using EarlyExit.MLNet.Tests.TestSupport;
using EarlyExit.MLNet.TokenEarlyExitNer;
using EarlyExit.Sequence;
using EarlyExit.Tests.TestSupport;
using EarlyExit.Tests.Training;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EarlyExit.MLNet.Tests.TokenEarlyExitNer;

/// <summary>A sentence row with a second tag column: each word's entity type without its B/I prefix (O, PER, LOC, ORG).</summary>
public sealed class EntityRow
{
    public string[] Tokens { get; set; } = [];

    public string[] Label { get; set; } = [];

    public string[] Entity { get; set; } = [];
}

/// <summary>A row labelled with tags and the auxiliary task's tags.</summary>
public sealed class EntityTaggedRow
{
    public string[] PredictedLabel { get; set; } = [];

    public string[] PredictedEntity { get; set; } = [];

    public int[] TokenExitLayers { get; set; } = [];
}

/// <summary>A token-exit NER pipeline with an auxiliary task (entity type at layer 1), fitted once on the toy NER task.</summary>
public sealed class AuxiliaryNerFixture : IDisposable
{
    public AuxiliaryNerFixture()
    {
        Context = new MLContext(seed: 1);
        Test = Rows(60, seed: 52);
        // Validation rows without the task's column: the trainer validates on the tags alone.
        IDataView validation = Context.Data.LoadFromEnumerable(NerFixture.Rows(40, seed: 53));
        IDataView training = Context.Data.LoadFromEnumerable(Rows(400, seed: 51));
        var labelKeys = Context.Transforms.Conversion.MapValueToKey("Label").Fit(training);
        Keys = labelKeys.Append(Context.Transforms.Conversion.MapValueToKey("Entity").Fit(labelKeys.Transform(training)));
        Ner = Context.MulticlassClassification.Trainers.TokenEarlyExitNer(Options()).Fit(Keys.Transform(training), labelKeys.Transform(validation));
        Model = new TransformerChain<ITransformer>(Keys, Ner, Context.Transforms.Conversion.MapKeyToValue("PredictedLabel")
            .Append(Context.Transforms.Conversion.MapKeyToValue("PredictedEntity")).Fit(Ner.Transform(Keys.Transform(training))));
    }

    public MLContext Context { get; }

    public List<EntityRow> Test { get; }

    public ITransformer Keys { get; }

    public TokenEarlyExitNerTransformer Ner { get; }

    public TransformerChain<ITransformer> Model { get; }

    public static List<EntityRow> Rows(int count, int seed) => NerFixture.Rows(count, seed)
        .Select(r => new EntityRow { Tokens = r.Tokens, Label = r.Label, Entity = r.Label.Select(t => t.Length > 2 ? t[2..] : t).ToArray() }).ToList();

    public static TokenEarlyExitNerTrainer.Options Options(params TokenAuxiliaryTask[] tasks)
    {
        TokenEarlyExitNerTrainer.Options options = NerFixture.Options();
        options.AuxiliaryTasks = tasks.Length == 0 ? [new TokenAuxiliaryTask("Entity", layer: 1)] : tasks;
        return options;
    }

    public List<EntityTaggedRow> Tag(IEnumerable<EntityRow> rows, ITransformer? model = null) =>
        Context.Data.CreateEnumerable<EntityTaggedRow>((model ?? Model).Transform(Context.Data.LoadFromEnumerable(rows)), reuseRowObject: false).ToList();

    public void Dispose() => Ner.Dispose();
}

[Collection("Torch")]
public sealed class TokenAuxiliaryTaskTests(AuxiliaryNerFixture fixture) : IClassFixture<AuxiliaryNerFixture>, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ner-aux-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Fit_EntityTypeAtLayerOne_PredictsItAsAColumn()
    {
        List<EntityTaggedRow> tagged = fixture.Tag(fixture.Test);

        string[] gold = fixture.Test.SelectMany(r => r.Entity).ToArray();
        string[] predicted = tagged.SelectMany(r => r.PredictedEntity).ToArray();
        double accuracy = gold.Zip(predicted).Count(p => p.First == p.Second) / (double)gold.Length;
        double majority = gold.GroupBy(g => g).Max(g => g.Count()) / (double)gold.Length;
        Assert.Equal(gold.Length, predicted.Length);
        Assert.True(accuracy > 0.9 && accuracy > majority + 0.1, $"entity-type accuracy {accuracy:0.000}, majority class {majority:0.000}");
        Assert.Equal(["Entity"], fixture.Ner.Classifier.AuxiliaryTasks.Select(t => t.Name));
        Assert.Equal(1, fixture.Ner.Classifier.AuxiliaryTasks[0].Layer);
    }

    [Fact]
    public void OutputSchema_TaskColumnIsAKeyVectorWithTheTasksValues_AsDeclared()
    {
        DataViewSchema keyed = fixture.Keys.GetOutputSchema(fixture.Context.Data.LoadFromEnumerable(fixture.Test).Schema);

        DataViewSchema output = fixture.Ner.GetOutputSchema(keyed);
        SchemaShape declared = fixture.Context.MulticlassClassification.Trainers.TokenEarlyExitNer(AuxiliaryNerFixture.Options()).GetOutputSchema(MLNetInternals.ShapeOf(keyed));

        DataViewSchema.Column column = output["PredictedEntity"];
        VBuffer<ReadOnlyMemory<char>> values = default;
        column.GetKeyValues(ref values);
        Assert.Equal(new VectorDataViewType(new KeyDataViewType(typeof(uint), 4)), column.Type);
        Assert.Equal(["LOC", "O", "ORG", "PER"], values.DenseValues().Select(v => v.ToString()).Order());
        SchemaShape.Column shape = declared.Single(c => c.Name == "PredictedEntity");
        Assert.True(shape.IsKey && shape.Kind == SchemaShape.Column.VectorKind.VariableVector);
        Assert.Contains(shape.Annotations, a => a.Name == "KeyValues");
        Assert.Equal(MLNetInternals.ShapeOf(output).Select(c => c.Name).Order(), declared.Select(c => c.Name).Order());
    }

    [Fact]
    public void SaveLoad_Zip_TagsAndTaskTagsTheSame()
    {
        string path = Path.Combine(_folder, "ner-aux.zip");
        fixture.Context.Model.Save(fixture.Model, fixture.Context.Data.LoadFromEnumerable(fixture.Test).Schema, path);

        var loaded = (TransformerChain<ITransformer>)new MLContext(seed: 3).Model.Load(path, out _);
        List<EntityTaggedRow> expected = fixture.Tag(fixture.Test);
        List<EntityTaggedRow> actual = fixture.Tag(fixture.Test, loaded);
        (loaded as IDisposable)?.Dispose();

        Assert.Equal(expected.Select(r => r.PredictedEntity), actual.Select(r => r.PredictedEntity));
        Assert.Equal(expected.Select(r => r.PredictedLabel), actual.Select(r => r.PredictedLabel));
        Assert.Equal(expected.Select(r => r.TokenExitLayers), actual.Select(r => r.TokenExitLayers));
    }

    [Fact]
    public void WithExitCriterion_KeepsTheTaskColumn()
    {
        using TokenEarlyExitNerTransformer first = fixture.Ner.WithExitCriterion(ExitCriteria.TokenExitCriterion.FixedLayer(1));
        var chain = new TransformerChain<ITransformer>(fixture.Model.ElementAt(0), first, fixture.Model.ElementAt(2));

        List<EntityTaggedRow> atLayerOne = fixture.Tag(fixture.Test, chain);

        // The task is read at layer 1 whatever the criterion, and every word stops there: the same task tags.
        Assert.Equal(fixture.Tag(fixture.Test).Select(r => r.PredictedEntity), atLayerOne.Select(r => r.PredictedEntity));
        Assert.All(atLayerOne, r => Assert.All(r.TokenExitLayers, l => Assert.Equal(1, l)));
    }

    [Fact]
    public void Defaults_NoTasks_TaskWeightOneAtLayerOne_OutputNamedAfterTheColumn()
    {
        var task = new TokenAuxiliaryTask { LabelColumnName = "Pos" };
        IDataView rows = fixture.Context.Data.LoadFromEnumerable(fixture.Test);
        DataViewSchema keyed = fixture.Context.Transforms.Conversion.MapValueToKey("Pos", "Entity").Fit(fixture.Keys.Transform(rows)).GetOutputSchema(fixture.Keys.GetOutputSchema(rows.Schema));

        SchemaShape declared = fixture.Context.MulticlassClassification.Trainers.TokenEarlyExitNer(AuxiliaryNerFixture.Options(task)).GetOutputSchema(MLNetInternals.ShapeOf(keyed));

        Assert.Empty(new TokenEarlyExitNerTrainer.Options().AuxiliaryTasks);
        Assert.Equal((1, 1.0, null), (task.Layer, task.Weight, task.PredictedLabelColumnName));
        Assert.Contains(declared, c => c.Name == "PredictedPos" && c.IsKey);
    }

    [Fact]
    public void Options_BadTasks_AllReportedTogether()
    {
        TokenEarlyExitNerTrainer.Options options = AuxiliaryNerFixture.Options(
            new TokenAuxiliaryTask("Pos", layer: 0, weight: -1),
            new TokenAuxiliaryTask("Pos", layer: 1, weight: double.PositiveInfinity),
            new TokenAuxiliaryTask("Label", layer: 1),
            new TokenAuxiliaryTask("Chunk", layer: 1, predictedLabelColumnName: "PredictedLabel"),
            new TokenAuxiliaryTask("", layer: 1));

        var error = Assert.Throws<ArgumentException>(() => fixture.Context.MulticlassClassification.Trainers.TokenEarlyExitNer(options));

        Assert.Contains("AuxiliaryTasks[0] ('Pos') has Layer 0", error.Message);
        Assert.Contains("AuxiliaryTasks[0] ('Pos') has Weight -1", error.Message);
        Assert.Contains("AuxiliaryTasks[1] ('Pos') has Weight Infinity", error.Message);
        Assert.Contains("Two auxiliary tasks read column 'Pos'", error.Message);
        Assert.Contains("AuxiliaryTasks[2].LabelColumnName is 'Label', the main label", error.Message);
        Assert.Contains("Two output columns are named 'PredictedLabel'", error.Message);
        Assert.Contains("AuxiliaryTasks[4].LabelColumnName is empty", error.Message);
    }

    [Fact]
    public void Fit_TaskLayerPastTheBackbone_NamesTheTaskAndTheRange()
    {
        TokenEarlyExitNerTrainer.Options options = AuxiliaryNerFixture.Options(new TokenAuxiliaryTask("Entity", layer: 9));

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Fit(options, AuxiliaryNerFixture.Rows(8, seed: 1)));

        Assert.Contains("AuxiliaryTasks[0] ('Entity') has Layer 9, but the backbone has 2 layers; use 1 to 2.", error.Message);
    }

    [Fact]
    public void Fit_TaskColumnMissingOrNotKeys_NamesTheColumnAndTheFix()
    {
        var ml = new MLContext(seed: 1);
        IDataView rows = ml.Data.LoadFromEnumerable(AuxiliaryNerFixture.Rows(8, seed: 1));
        IDataView keyedLabel = ml.Transforms.Conversion.MapValueToKey("Label").Fit(rows).Transform(rows);

        var missing = Assert.Throws<ArgumentOutOfRangeException>(() =>
            ml.MulticlassClassification.Trainers.TokenEarlyExitNer(AuxiliaryNerFixture.Options(new TokenAuxiliaryTask("Pos", layer: 1))).Fit(keyedLabel));
        var notKeys = Assert.Throws<ArgumentOutOfRangeException>(() =>
            ml.MulticlassClassification.Trainers.TokenEarlyExitNer(AuxiliaryNerFixture.Options()).Fit(keyedLabel));

        Assert.Contains("'Pos'", missing.Message);
        Assert.Contains("AuxiliaryTasks[0].LabelColumnName", missing.Message);
        Assert.Contains("Column 'Entity' (AuxiliaryTasks[0].LabelColumnName) must be a vector of Key<UInt32>", notKeys.Message);
        Assert.Contains("MapValueToKey(\"Entity\")", notKeys.Message);
    }

    [Fact]
    public void Fit_TaskTagsOfTheWrongLengthOrMissing_NamesTheRowOrSkipsIt()
    {
        List<EntityRow> rows = AuxiliaryNerFixture.Rows(20, seed: 9);
        List<EntityRow> shortRow = AuxiliaryNerFixture.Rows(20, seed: 9);
        shortRow[5].Entity = shortRow[5].Entity[..^1];
        rows[3].Entity = [.. rows[3].Entity];
        rows[3].Entity[0] = "";   // MapValueToKey maps an empty tag to key 0
        var log = new List<string>();
        TokenEarlyExitNerTrainer.Options options = AuxiliaryNerFixture.Options();
        options.Epochs = 1;
        options.SelfSamplingEpochs = 0;

        var error = Assert.Throws<ArgumentException>(() => Fit(options, shortRow));
        Fit(options, rows, log).Dispose();

        Assert.Contains($"Row 5 of the training has {shortRow[5].Tokens.Length} words in 'Tokens' but {shortRow[5].Entity.Length} tags in 'Entity'", error.Message);
        string warning = Assert.Single(log, m => m.Contains("missing tag", StringComparison.Ordinal));
        Assert.Contains($"Skipped 1 training sentence(s)", warning);
        Assert.Contains($"row 3, word 0 ('{rows[3].Tokens[0]}') of 'Entity'", warning);
    }

    [Fact]
    public void Fit_ValidationTaskColumn_IsNotRead()
    {
        // Validation scores the tags alone: its task column may be anything (here strings, not keys), and its
        // task tags unknown to the training keys would otherwise skip validation sentences.
        var ml = new MLContext(seed: 1);
        IDataView training = ml.Data.LoadFromEnumerable(AuxiliaryNerFixture.Rows(16, seed: 1));
        IDataView validation = ml.Data.LoadFromEnumerable(AuxiliaryNerFixture.Rows(8, seed: 2));
        var keys = ml.Transforms.Conversion.MapValueToKey("Label").Fit(training);
        var taskKeys = ml.Transforms.Conversion.MapValueToKey("Entity").Fit(keys.Transform(training));
        TokenEarlyExitNerTrainer.Options options = AuxiliaryNerFixture.Options();
        options.Epochs = 1;
        options.SelfSamplingEpochs = 0;

        using TokenEarlyExitNerTransformer ner = ml.MulticlassClassification.Trainers.TokenEarlyExitNer(options)
            .Fit(taskKeys.Transform(keys.Transform(training)), keys.Transform(validation));

        Assert.NotNull(ner.TrainingReport!.Epochs[0].ValidationScore);
    }

    [Fact]
    public void WithBackend_OnnxRuntime_RefusesTheTasksByName()
    {
        var error = Assert.Throws<NotSupportedException>(() => fixture.Ner.WithBackend(ScoringBackend.OnnxRuntime));

        Assert.Contains("auxiliary tag tasks (Entity)", error.Message);
    }

    [Fact]
    public void LoadFromConllFile_Conll2003Columns_ReadsPartOfSpeechAndChunksPerWord()
    {
        IDataView data = fixture.Context.Data.LoadFromConllFile(SharedAssets.Data("conll2003/valid.txt"), convertTo: TagScheme.Iob2, otherColumns: ConllDataLoader.Conll2003Columns);

        string[][] words = data.GetColumn<string[]>("Tokens").ToArray();
        string[][] pos = data.GetColumn<string[]>("PartOfSpeech").ToArray();
        string[][] chunks = data.GetColumn<string[]>("Chunk").ToArray();
        var rows = fixture.Context.Data.CreateEnumerable<ConllSentenceRow>(data, reuseRowObject: false).ToList();

        Assert.Equal(3250, words.Length);
        Assert.All(Enumerable.Range(0, words.Length), i => Assert.Equal((words[i].Length, words[i].Length), (pos[i].Length, chunks[i].Length)));
        // valid.txt's first sentence: CRICKET NNP I-NP O / - : O O / LEICESTERSHIRE NNP I-NP B-ORG ...
        Assert.Equal(["NNP", ":", "NNP"], pos[0][..3]);
        Assert.Equal(["I-NP", "O", "I-NP"], chunks[0][..3]);
        Assert.Equal("B-ORG", rows[0].Label[2]);
        Assert.Equal(rows.Select(r => r.Tokens), words);
        Assert.Equal(45, pos.SelectMany(p => p).Distinct().Count());
    }

    [Fact]
    public void LoadFromConllFile_BadOtherColumns_NameTheFileLineOrColumn()
    {
        string path = Path.Combine(_folder, "two-columns.txt");
        File.WriteAllLines(path, ["John B-PER", "runs O", "", "Mary B-PER"]);

        var pastTheEnd = Assert.Throws<ConllFormatException>(() => fixture.Context.Data.LoadFromConllFile(path, otherColumns: ConllDataLoader.Conll2003Columns));
        var reserved = Assert.Throws<ArgumentException>(() => fixture.Context.Data.LoadFromConllFile(path, otherColumns: new Dictionary<string, int> { ["Label"] = 0 }));

        Assert.Contains($"'{path}' line 1", pastTheEnd.Message);
        Assert.Contains("column 'Chunk' reads file column 2, but the sentence's lines have 2 columns", pastTheEnd.Message);
        Assert.Contains("'Label'", reserved.Message);
    }

    private static TokenEarlyExitNerTransformer Fit(TokenEarlyExitNerTrainer.Options options, List<EntityRow> rows, List<string>? log = null)
    {
        var ml = new MLContext(seed: 1);
        ml.Log += (_, e) =>
        {
            if (log is not null)
            {
                lock (log)
                {
                    log.Add(e.Message);
                }
            }
        };
        IDataView data = ml.Data.LoadFromEnumerable(rows);
        IDataView keyed = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.Conversion.MapValueToKey("Entity")).Fit(data).Transform(data);
        return ml.MulticlassClassification.Trainers.TokenEarlyExitNer(options).Fit(keyed);
    }
}
