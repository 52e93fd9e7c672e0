// An ONNX graph under construction, and its ModelProto bytes. The modules write their own ONNX
// form into it (Modeling/*Onnx.cs) next to their TorchSharp forward, so the two stay one definition
// of the arithmetic; Checkpoints/OnnxFolder.cs cuts the network into graphs with it.
//
// Only standard ONNX operators at opset 17 (the first with LayerNormalization), float32 weights as
// raw little-endian initializers. Node outputs get generated names; graph inputs and outputs get the
// names callers give. The same weight tensor used twice (ALBERT's shared layer in a full-depth graph)
// becomes one initializer.
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace EarlyExit.Onnx;

/// <summary>The element types the exported graphs use (ONNX TensorProto.DataType values).</summary>
internal enum OnnxType
{
    Float = 1,
    Int64 = 7,
}

/// <summary>One node attribute: an int, a float or a list of ints.</summary>
internal sealed record OnnxAttribute(string Name, long? Int = null, float? Float = null, long[]? Ints = null)
{
    public static OnnxAttribute Of(string name, long value) => new(name, Int: value);

    public static OnnxAttribute Of(string name, float value) => new(name, Float: value);

    public static OnnxAttribute Of(string name, params long[] values) => new(name, Ints: values);
}

/// <summary>Builds one ONNX graph and writes it as a model file.</summary>
internal sealed class OnnxGraph
{
    /// <summary>The default-domain opset the graphs import.</summary>
    public const int Opset = 17;

    /// <summary>The IR version written (8, of ONNX 1.10; opset 17 came with ONNX 1.12, IR version 8).</summary>
    public const int IrVersion = 8;

    private readonly List<Node> _nodes = [];
    private readonly List<Initializer> _initializers = [];
    private readonly List<ValueInfo> _inputs = [];
    private readonly List<ValueInfo> _outputs = [];
    private readonly Dictionary<(IntPtr Handle, bool Transposed), string> _weights = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private int _counter;

    public OnnxGraph(string name)
    {
        Name = name;
    }

    /// <summary>The graph's name.</summary>
    public string Name { get; }

    /// <summary>Declares a graph input; <paramref name="dims"/> are numbers or symbolic names ("batch", "tokens").</summary>
    public string Input(string name, OnnxType type, params string[] dims)
    {
        Claim(name);
        _inputs.Add(new ValueInfo(name, type, dims));
        return name;
    }

    /// <summary>Makes <paramref name="value"/> a graph output called <paramref name="name"/>.</summary>
    public void Output(string value, string name, OnnxType type, params string[] dims)
    {
        Claim(name);
        _nodes.Add(new Node("Identity", [value], [name], []));
        _outputs.Add(new ValueInfo(name, type, dims));
    }

    /// <summary>A node with one output; returns the output's name.</summary>
    public string Op(string opType, string[] inputs, params OnnxAttribute[] attributes) => Op(opType, inputs, 1, attributes)[0];

    /// <summary>A node with <paramref name="outputs"/> outputs; returns their names.</summary>
    public string[] Op(string opType, string[] inputs, int outputs, params OnnxAttribute[] attributes)
    {
        string[] names = Enumerable.Range(0, outputs).Select(_ => Fresh(opType)).ToArray();
        _nodes.Add(new Node(opType, inputs, names, attributes));
        return names;
    }

    /// <summary>A float32 weight, as an initializer; <paramref name="transpose"/> swaps a matrix's axes (Linear's [out, in] to MatMul's [in, out]).</summary>
    public string Weight(Tensor weight, string hint, bool transpose = false)
    {
        var key = (weight.Handle, transpose);
        if (_weights.TryGetValue(key, out string? existing))
        {
            return existing;
        }

        using var scope = NewDisposeScope();
        Tensor value = weight.detach().to(ScalarType.Float32).cpu();
        if (transpose)
        {
            value = value.t();
        }

        value = value.contiguous();
        string name = Floats(hint, value.data<float>().ToArray(), value.shape);
        _weights[key] = name;
        return name;
    }

    /// <summary>A float32 initializer of the given shape.</summary>
    public string Floats(string hint, float[] values, params long[] dims)
    {
        string name = Fresh(hint);
        _initializers.Add(new Initializer(name, OnnxType.Float, dims, MemoryMarshal.AsBytes(values.AsSpan()).ToArray()));
        return name;
    }

    /// <summary>A float32 scalar initializer.</summary>
    public string Scalar(float value) => Floats("scalar", [value]);

    /// <summary>A 1-D int64 initializer (shapes, axes, indices).</summary>
    public string Ints(params long[] values)
    {
        string name = Fresh("ints");
        _initializers.Add(new Initializer(name, OnnxType.Int64, [values.Length], MemoryMarshal.AsBytes(values.AsSpan()).ToArray()));
        return name;
    }

    /// <summary>An int64 scalar initializer.</summary>
    public string IntScalar(long value)
    {
        string name = Fresh("int");
        _initializers.Add(new Initializer(name, OnnxType.Int64, [], BitConverter.GetBytes(value)));
        return name;
    }

    /// <summary>The model file: this graph with the opset import and <paramref name="metadata"/> as metadata_props.</summary>
    public byte[] ToModel(IReadOnlyDictionary<string, string>? metadata = null)
    {
        var model = new ProtoWriter();
        model.Int(1, IrVersion); // ir_version
        model.String(2, "EarlyExit.MLNet"); // producer_name
        model.String(3, typeof(OnnxGraph).Assembly.GetName().Version?.ToString() ?? "0"); // producer_version
        model.Message(7, WriteGraph); // graph
        model.Message(8, opset => opset.Int(2, Opset)); // opset_import { version } (domain "" is the default)
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
        {
            model.Message(14, entry => // metadata_props
            {
                entry.String(1, key);
                entry.String(2, value);
            });
        }

        return model.ToArray();
    }

    private void WriteGraph(ProtoWriter graph)
    {
        foreach (Node node in _nodes)
        {
            graph.Message(1, node.Write); // node
        }

        graph.String(2, Name); // name
        foreach (Initializer initializer in _initializers)
        {
            graph.Message(5, initializer.Write); // initializer
        }

        foreach (ValueInfo input in _inputs)
        {
            graph.Message(11, input.Write); // input
        }

        foreach (ValueInfo output in _outputs)
        {
            graph.Message(12, output.Write); // output
        }
    }

    private string Fresh(string hint)
    {
        string name;
        do
        {
            name = $"{hint}_{_counter++}";
        }
        while (!_names.Add(name));
        return name;
    }

    private void Claim(string name)
    {
        if (!_names.Add(name))
        {
            throw new InvalidOperationException($"The graph already has a value named '{name}'.");
        }
    }

    private sealed record Node(string OpType, string[] Inputs, string[] Outputs, OnnxAttribute[] Attributes)
    {
        public void Write(ProtoWriter node)
        {
            foreach (string input in Inputs)
            {
                node.String(1, input); // input
            }

            foreach (string output in Outputs)
            {
                node.String(2, output); // output
            }

            node.String(4, OpType); // op_type
            foreach (OnnxAttribute attribute in Attributes)
            {
                node.Message(5, a => WriteAttribute(a, attribute)); // attribute
            }
        }

        // AttributeProto: name 1, f 2, i 3, ints 8, type 20 (FLOAT 1, INT 2, INTS 7).
        private static void WriteAttribute(ProtoWriter writer, OnnxAttribute attribute)
        {
            writer.String(1, attribute.Name);
            if (attribute.Int is long i)
            {
                writer.Int(3, i);
                writer.Int(20, 2);
            }
            else if (attribute.Float is float f)
            {
                writer.Float(2, f);
                writer.Int(20, 1);
            }
            else
            {
                writer.PackedInts(8, attribute.Ints ?? []);
                writer.Int(20, 7);
            }
        }
    }

    // TensorProto: dims 1, data_type 2, name 8, raw_data 9.
    private sealed record Initializer(string Name, OnnxType Type, long[] Dims, byte[] Raw)
    {
        public void Write(ProtoWriter tensor)
        {
            if (Dims.Length > 0)
            {
                tensor.PackedInts(1, Dims);
            }

            tensor.Int(2, (int)Type);
            tensor.String(8, Name);
            tensor.Bytes(9, Raw);
        }
    }

    // ValueInfoProto { name 1, type 2 } / TypeProto { tensor_type 1 } / TypeProto.Tensor { elem_type 1, shape 2 }
    // / TensorShapeProto { dim 1 } / Dimension { dim_value 1 | dim_param 2 }.
    private sealed record ValueInfo(string Name, OnnxType Type, string[] Dims)
    {
        public void Write(ProtoWriter info)
        {
            info.String(1, Name);
            info.Message(2, type => type.Message(1, tensor =>
            {
                tensor.Int(1, (int)Type);
                tensor.Message(2, shape =>
                {
                    foreach (string dim in Dims)
                    {
                        shape.Message(1, d =>
                        {
                            if (long.TryParse(dim, out long size))
                            {
                                d.Int(1, size);
                            }
                            else
                            {
                                d.String(2, dim);
                            }
                        });
                    }
                });
            }));
        }
    }
}
