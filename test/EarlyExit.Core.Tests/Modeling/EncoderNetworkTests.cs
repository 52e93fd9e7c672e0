using EarlyExit.Checkpoints;
using EarlyExit.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace EarlyExit.Tests.Modeling;

/// <summary>The early-exit API contract (docs/design.md) on every family, without goldens.</summary>
[Collection("Torch")]
public class EncoderNetworkTests
{
    // The same arithmetic on a different batch shape may take other kernel paths: allow float32 noise.
    private const double ReshapeTolerance = 1e-5;

    public static TheoryData<string> TinyEncoders() => EncoderTestKit.TinyEncoders();

    public static TheoryData<string> TinyFamilies() => EncoderTestKit.TinyFamilies();

    [Theory]
    [MemberData(nameof(TinyEncoders))]
    public void EmbedThenForwardLayer_OneLayerAtATime_EqualsForward(string name)
    {
        using EncoderNetwork encoder = EncoderTestKit.Create(name);
        using EncoderInputs inputs = EncoderTestKit.Inputs(encoder.Config);
        using var scope = NewDisposeScope();

        using EncoderOutput full = encoder.Forward(inputs.InputIds, inputs.TokenTypeIds, inputs.AttentionMask);
        Tensor hidden = encoder.Embed(inputs.InputIds, inputs.TokenTypeIds, inputs.AttentionMask);
        using AttentionMask mask = encoder.PrepareMask(inputs.AttentionMask);
        Assert.Equal(0, TensorComparison.MaxAbsDiff(full.HiddenStates[0], hidden));
        for (int layer = 0; layer < encoder.NumLayers; layer++)
        {
            hidden = encoder.ForwardLayer(layer, hidden, mask);
            Assert.Equal(0, TensorComparison.MaxAbsDiff(full.HiddenStates[layer + 1], hidden));
        }

        Assert.Equal(encoder.NumLayers + 1, full.HiddenStates.Count);
        Assert.Equal(encoder.HasPooler, full.PoolerOutput is not null);
        if (encoder.HasPooler)
        {
            Assert.Equal(0, TensorComparison.MaxAbsDiff(full.PoolerOutput!, encoder.Pool(hidden)!));
        }
    }

    [Theory]
    [MemberData(nameof(TinyEncoders))]
    public void ForwardLayer_RowSubset_EqualsThoseRowsOfTheFullBatch(string name)
    {
        using EncoderNetwork encoder = EncoderTestKit.Create(name);
        using EncoderInputs inputs = EncoderTestKit.Inputs(encoder.Config);
        using var scope = NewDisposeScope();
        Tensor hidden = encoder.Embed(inputs.InputIds, inputs.TokenTypeIds, inputs.AttentionMask);
        using AttentionMask mask = encoder.PrepareMask(inputs.AttentionMask);
        Tensor rows = tensor(new long[] { 2, 0 });

        for (int layer = 0; layer < encoder.NumLayers; layer++)
        {
            Tensor fullOutput = encoder.ForwardLayer(layer, hidden, mask);
            using AttentionMask subsetMask = mask.IndexSelect(rows);
            Tensor subsetOutput = encoder.ForwardLayer(layer, hidden.index_select(0, rows), subsetMask);

            Assert.True(TensorComparison.MaxAbsDiff(fullOutput.index_select(0, rows), subsetOutput) <= ReshapeTolerance, $"layer {layer}");
            hidden = fullOutput;
        }
    }

    [Theory]
    [MemberData(nameof(TinyEncoders))]
    public void ForwardLayer_QueryIndex_EqualsThosePositionsOfTheFullLayer(string name)
    {
        using EncoderNetwork encoder = EncoderTestKit.Create(name);
        using EncoderInputs inputs = EncoderTestKit.Inputs(encoder.Config);
        using var scope = NewDisposeScope();
        Tensor hidden = encoder.Embed(inputs.InputIds, inputs.TokenTypeIds, inputs.AttentionMask);
        using AttentionMask mask = encoder.PrepareMask(inputs.AttentionMask);
        // Per-row positions, unordered and including a padding position in the short row.
        Tensor queryIndex = tensor(new long[] { 0, 8, 3, 5, 1, 0, 2, 7, 1 }, [3, 3]);

        for (int layer = 0; layer < encoder.NumLayers; layer++)
        {
            Tensor fullOutput = encoder.ForwardLayer(layer, hidden, mask);
            Tensor queried = encoder.ForwardLayer(layer, hidden, mask, queryIndex);

            Assert.Equal(new long[] { 3, 3, encoder.HiddenSize }, queried.shape);
            Tensor expected = fullOutput.gather(1, queryIndex.unsqueeze(-1).expand(3, 3, encoder.HiddenSize));
            Assert.True(TensorComparison.MaxAbsDiff(expected, queried) <= ReshapeTolerance, $"layer {layer}");
            hidden = fullOutput;
        }
    }

    [Theory]
    [MemberData(nameof(TinyFamilies))]
    public void Forward_RepeatedCalls_LeaksNoTensors(string name)
    {
        using EncoderNetwork encoder = EncoderTestKit.Create(name);
        using EncoderInputs inputs = EncoderTestKit.Inputs(encoder.Config);
        RunEverything(encoder, inputs); // warm-up: lazily created state is not a leak
        long baseline = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        for (int i = 0; i < 3; i++)
        {
            RunEverything(encoder, inputs);
        }

        Assert.Equal(baseline, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Theory]
    [MemberData(nameof(TinyFamilies))]
    public void StateDict_Names_AreTheBareModelCheckpointKeys(string name)
    {
        using EncoderNetwork encoder = EncoderTestKit.Create(name);

        string[] names = encoder.state_dict().Keys.ToArray();

        Assert.Contains("embeddings.word_embeddings.weight", names);
        Assert.Contains("embeddings.LayerNorm.weight", names);
        Assert.All(names, n => Assert.DoesNotContain("dropout", n));
        switch (encoder.Config.Family)
        {
            case EncoderFamily.Albert:
                Assert.Contains("encoder.embedding_hidden_mapping_in.weight", names);
                Assert.Contains("encoder.albert_layer_groups.0.albert_layers.0.attention.query.weight", names);
                Assert.Contains("encoder.albert_layer_groups.0.albert_layers.0.full_layer_layer_norm.bias", names);
                Assert.Contains("pooler.weight", names);
                break;
            case EncoderFamily.Electra:
                Assert.Contains("embeddings_project.weight", names);
                Assert.Contains("encoder.layer.1.attention.self.query.weight", names);
                Assert.DoesNotContain(names, n => n.StartsWith("pooler.", StringComparison.Ordinal));
                break;
            default:
                Assert.Contains("encoder.layer.1.attention.self.query.weight", names);
                Assert.Contains("encoder.layer.1.output.LayerNorm.bias", names);
                Assert.Contains("pooler.dense.weight", names);
                Assert.DoesNotContain("embeddings_project.weight", names);
                break;
        }
    }

    [Fact]
    public void ForwardLayer_AlbertSharing_StepsOfOneGroupUseTheSameParameters()
    {
        using var albert = (AlbertEncoder)EncoderTestKit.Create(EncoderTestKit.SharedAlbert);

        Assert.Equal([0, 0, 1, 1], Enumerable.Range(0, 4).Select(albert.GroupOf));
        Assert.Equal(2 * 2, albert.state_dict().Keys.Count(n => n.EndsWith("attention.query.weight", StringComparison.Ordinal)));
        using EncoderInputs inputs = EncoderTestKit.Inputs(albert.Config);
        using var scope = NewDisposeScope();
        Tensor hidden = albert.Embed(inputs.InputIds, inputs.TokenTypeIds, inputs.AttentionMask);
        using AttentionMask mask = albert.PrepareMask(inputs.AttentionMask);
        // Steps 0 and 1 run group 0: the same function of their input.
        Assert.Equal(0, TensorComparison.MaxAbsDiff(albert.ForwardLayer(0, hidden, mask), albert.ForwardLayer(1, hidden, mask)));
        Assert.NotEqual(0, TensorComparison.MaxAbsDiff(albert.ForwardLayer(0, hidden, mask), albert.ForwardLayer(2, hidden, mask)));
    }

    [Fact]
    public void ForwardLayer_LayerOutOfRange_NamesTheRange()
    {
        using EncoderNetwork encoder = EncoderTestKit.Create("tiny-bert");
        using EncoderInputs inputs = EncoderTestKit.Inputs(encoder.Config);
        using Tensor hidden = encoder.Embed(inputs.InputIds, inputs.TokenTypeIds, inputs.AttentionMask);
        using AttentionMask mask = encoder.PrepareMask(inputs.AttentionMask);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => encoder.ForwardLayer(2, hidden, mask));

        Assert.Contains("[0, 2)", error.Message);
    }

    [Theory]
    [MemberData(nameof(TinyEncoders))]
    public void ForwardLayerPacked_PackIndex_EqualsThoseSlotsOfTheQueriedLayer(string name)
    {
        using EncoderNetwork encoder = EncoderTestKit.Create(name);
        using EncoderInputs inputs = EncoderTestKit.Inputs(encoder.Config);
        using var scope = NewDisposeScope();
        Tensor hidden = encoder.Embed(inputs.InputIds, inputs.TokenTypeIds, inputs.AttentionMask);
        using AttentionMask mask = encoder.PrepareMask(inputs.AttentionMask);
        // Rows with 3, 1 and 2 real queries, padded by repeating a row's last; the packed slots skip the padding.
        Tensor queryIndex = tensor(new long[] { 0, 8, 3, 5, 5, 5, 2, 7, 7 }, [3, 3]);
        Tensor packIndex = tensor(new long[] { 0, 1, 2, 3, 6, 7 });

        for (int layer = 0; layer < encoder.NumLayers; layer++)
        {
            Tensor queried = encoder.ForwardLayer(layer, hidden, mask, queryIndex);
            Tensor packed = encoder.ForwardLayerPacked(layer, hidden, mask, queryIndex, packIndex);

            Assert.Equal(new long[] { 6, encoder.HiddenSize }, packed.shape);
            Tensor expected = queried.reshape(-1, encoder.HiddenSize).index_select(0, packIndex);
            Assert.True(TensorComparison.MaxAbsDiff(expected, packed) <= ReshapeTolerance, $"layer {layer}");
            hidden = encoder.ForwardLayer(layer, hidden, mask);
        }
    }

    [Fact]
    public void ForwardLayerPacked_BadIndices_NameTheShapeOrRangeWanted()
    {
        using EncoderNetwork encoder = EncoderTestKit.Create("tiny-bert");
        using EncoderInputs inputs = EncoderTestKit.Inputs(encoder.Config);
        using var scope = NewDisposeScope();
        Tensor hidden = encoder.Embed(inputs.InputIds, inputs.TokenTypeIds, inputs.AttentionMask);
        using AttentionMask mask = encoder.PrepareMask(inputs.AttentionMask);
        Tensor queryIndex = tensor(new long[] { 0, 1, 0 }, [3, 1]);

        var error = Assert.Throws<ArgumentException>(() => encoder.ForwardLayerPacked(0, hidden, mask, queryIndex, tensor(new long[] { 0, 1 }, [1, 2])));
        var wrongRows = Assert.Throws<ArgumentException>(() => encoder.ForwardLayerPacked(0, hidden, mask, queryIndex.narrow(0, 0, 2), tensor(new long[] { 0 })));
        var pastTheSlots = Assert.Throws<ArgumentOutOfRangeException>(() => encoder.ForwardLayerPacked(0, hidden, mask, queryIndex, tensor(new long[] { 0, 3 })));
        var pastTheRow = Assert.Throws<ArgumentOutOfRangeException>(() => encoder.ForwardLayer(0, hidden, mask, tensor(new long[] { 0, 9, 1 }, [3, 1])));

        Assert.Contains("packIndex must be int64 [N]", error.Message);
        Assert.Contains("queryIndex must be int64 [B, Q] with B = 3", wrongRows.Message);
        Assert.Contains("packIndex holds values 0 .. 3, but each must be a query slot b * Q + q, below 3", pastTheSlots.Message);
        Assert.Contains("queryIndex holds values 0 .. 9, but each must be a position of its row (0 .. T - 1), below 9", pastTheRow.Message);
    }

    [Fact]
    public void ForwardLayer_MaskOfOtherRows_SaysToSelectTheSameRows()
    {
        using EncoderNetwork encoder = EncoderTestKit.Create("tiny-bert");
        using EncoderInputs inputs = EncoderTestKit.Inputs(encoder.Config);
        using var scope = NewDisposeScope();
        Tensor hidden = encoder.Embed(inputs.InputIds, inputs.TokenTypeIds, inputs.AttentionMask);
        using AttentionMask mask = encoder.PrepareMask(inputs.AttentionMask);

        var error = Assert.Throws<ArgumentException>(() => encoder.ForwardLayer(0, hidden.index_select(0, tensor(new long[] { 1 })), mask));

        Assert.Contains("3 rows", error.Message);
        Assert.Contains("[1, 9, 32]", error.Message);
    }

    [Fact]
    public void Embed_InputLongerThanPositions_NamesLengthAndLimit()
    {
        using EncoderNetwork encoder = EncoderNetwork.Create(EncoderPresets.Get("tiny-roberta") with { MaxPositionEmbeddings = 10 });
        using Tensor ids = ones(1, 9, ScalarType.Int64) * 5;
        using Tensor mask = ones(1, 9, ScalarType.Int64);

        var error = Assert.Throws<ArgumentException>(() => encoder.Embed(ids, null, mask));

        Assert.Contains("9 tokens", error.Message);
        Assert.Contains("at most 8", error.Message);
    }

    [Fact]
    public void Embed_RobertaPadding_PositionsStartAfterPadAndSkipPadding()
    {
        // Two rows that differ only by trailing padding embed their real tokens identically, and a
        // padding token gets position pad_token_id, as transformers' create_position_ids_from_input_ids.
        using EncoderNetwork encoder = EncoderTestKit.Create("tiny-roberta");
        using var scope = NewDisposeScope();
        Tensor ids = tensor(new long[] { 0, 100, 200, 2, 0, 100, 200, 2 }, [2, 4]);
        Tensor padded = tensor(new long[] { 0, 100, 200, 2, 1, 1, 0, 100, 200, 2, 1, 1 }, [2, 6]);

        Tensor plain = encoder.Embed(ids, null, ones_like(ids));
        Tensor withPads = encoder.Embed(padded, null, padded.ne(1).to_type(ScalarType.Int64));

        Assert.True(TensorComparison.MaxAbsDiff(plain, withPads.narrow(1, 0, 4)) < 1e-6);
    }

    [Fact]
    public void Forward_TrainingMode_AppliesDropoutAndEvalModeDoesNot()
    {
        using EncoderNetwork encoder = EncoderTestKit.Create("tiny-bert");
        using EncoderInputs inputs = EncoderTestKit.Inputs(encoder.Config);

        using (EncoderOutput first = encoder.Forward(inputs.InputIds, inputs.TokenTypeIds, inputs.AttentionMask))
        using (EncoderOutput second = encoder.Forward(inputs.InputIds, inputs.TokenTypeIds, inputs.AttentionMask))
        {
            Assert.Equal(0, TensorComparison.MaxAbsDiff(first.LastHiddenState, second.LastHiddenState));
        }

        encoder.train();
        using (EncoderOutput first = encoder.Forward(inputs.InputIds, inputs.TokenTypeIds, inputs.AttentionMask))
        using (EncoderOutput second = encoder.Forward(inputs.InputIds, inputs.TokenTypeIds, inputs.AttentionMask))
        {
            Assert.NotEqual(0, TensorComparison.MaxAbsDiff(first.LastHiddenState, second.LastHiddenState));
        }
    }

    [Fact]
    public void Create_ElectraWithPooler_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => EncoderNetwork.Create(EncoderPresets.Get("tiny-electra"), withPooler: true));

        Assert.Contains("electra has no pooler", error.Message);
    }

    [Fact]
    public void Create_PerFamily_PicksTheEncoderClass()
    {
        using EncoderNetwork albert = EncoderTestKit.Create("tiny-albert");
        using EncoderNetwork roberta = EncoderTestKit.Create("tiny-roberta");

        Assert.IsType<AlbertEncoder>(albert);
        Assert.IsType<BertEncoder>(roberta);
    }

    [Fact]
    public void Create_SameSeed_GivesSameWeightsAndOtherSeedDiffers()
    {
        using EncoderNetwork a = EncoderTestKit.Create("tiny-bert", seed: 3);
        using EncoderNetwork b = EncoderTestKit.Create("tiny-bert", seed: 3);
        using EncoderNetwork c = EncoderTestKit.Create("tiny-bert", seed: 4);

        Dictionary<string, Tensor> sa = a.state_dict();
        Dictionary<string, Tensor> sb = b.state_dict();
        Dictionary<string, Tensor> sc = c.state_dict();

        Assert.All(sa.Keys, k => Assert.Equal(0, TensorComparison.MaxAbsDiff(sa[k], sb[k])));
        Assert.NotEqual(0, TensorComparison.MaxAbsDiff(sa["encoder.layer.0.attention.self.query.weight"], sc["encoder.layer.0.attention.self.query.weight"]));
    }

    [Fact]
    public void Create_WithSeed_LeavesTheGlobalGeneratorUntouched()
    {
        using Tensor before = torch.random.get_rng_state();

        using (EncoderNetwork encoder = EncoderTestKit.Create("tiny-albert", seed: 5))
        {
            encoder.InitializeWeights(6);
        }

        using Tensor after = torch.random.get_rng_state();
        Assert.Equal(before.data<byte>().ToArray(), after.data<byte>().ToArray());
    }

    [Theory]
    [MemberData(nameof(TinyFamilies))]
    public void InitializeWeights_Statistics_MatchTransformersInitWeights(string name)
    {
        EncoderConfig config = EncoderPresets.Get(name) with { InitializerRange = 0.05 };
        using EncoderNetwork encoder = EncoderNetwork.Create(config, seed: 1);
        Dictionary<string, Tensor> weights = encoder.state_dict();
        using var scope = NewDisposeScope();

        Tensor words = weights["embeddings.word_embeddings.weight"];
        Tensor real = cat([words.narrow(0, 0, config.PadTokenId), words.narrow(0, config.PadTokenId + 1, words.shape[0] - config.PadTokenId - 1)]);
        Assert.InRange(real.std().item<float>(), 0.049, 0.051);
        Assert.InRange(real.mean().item<float>(), -0.001, 0.001);
        Assert.Equal(0f, words[config.PadTokenId].abs().max().item<float>());
        if (config.Family == EncoderFamily.Roberta)
        {
            Assert.Equal(0f, weights["embeddings.position_embeddings.weight"][config.PadTokenId].abs().max().item<float>());
        }

        foreach (var (key, value) in weights)
        {
            bool layerNorm = key.Contains("LayerNorm", StringComparison.Ordinal) || key.Contains("layer_norm", StringComparison.Ordinal);
            if (layerNorm && key.EndsWith(".weight", StringComparison.Ordinal))
            {
                Assert.True(value.eq(1).all().item<bool>(), $"{key} should be all ones");
            }
            else if (key.EndsWith(".bias", StringComparison.Ordinal))
            {
                Assert.True(value.eq(0).all().item<bool>(), $"{key} should be all zeros");
            }
            else if (value.numel() >= 1000)
            {
                Assert.InRange(value.std().item<float>(), 0.045, 0.055);
            }
        }
    }

    // Forward, plus the step API with a query subset and a row subset, disposing everything.
    private static void RunEverything(EncoderNetwork encoder, EncoderInputs inputs)
    {
        using (EncoderOutput output = encoder.Forward(inputs.InputIds, inputs.TokenTypeIds, inputs.AttentionMask))
        {
            Assert.NotNull(output.LastHiddenState);
        }

        using Tensor hidden = encoder.Embed(inputs.InputIds, inputs.TokenTypeIds, inputs.AttentionMask);
        using AttentionMask mask = encoder.PrepareMask(inputs.AttentionMask);
        using Tensor queryIndex = tensor(new long[] { 0, 1, 0, 2, 0, 1 }, [3, 2]);
        using Tensor layerOut = encoder.ForwardLayer(0, hidden, mask);
        using Tensor queried = encoder.ForwardLayer(encoder.NumLayers - 1, layerOut, mask, queryIndex);
        using Tensor rows = tensor(new long[] { 1 });
        using AttentionMask rowMask = mask.IndexSelect(rows);
        using Tensor rowHidden = hidden.index_select(0, rows);
        using Tensor rowOut = encoder.ForwardLayer(0, rowHidden, rowMask);
        using Tensor? pooled = encoder.Pool(layerOut);
    }
}
