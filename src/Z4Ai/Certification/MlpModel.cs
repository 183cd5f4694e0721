using System.Numerics;
using Z4Ai.Delta;
using Z4Ai.Format;

namespace Z4Ai.Certification;

/// <summary>
/// A ReLU multilayer perceptron stored as <c>fc1.weight [out, in]</c>, <c>fc1.bias [out]</c>, <c>fc2...</c>, as
/// PyTorch's Linear layers are. In memory each weight is kept transposed (<c>[in][out]</c>) so the forward pass
/// is a sequence of element-wise <c>y += x_j · w_j</c> updates: every output element sees the same operations in the
/// same order whatever the vector width, so predictions and training are reproducible bit for bit.
/// </summary>
internal sealed class MlpModel
{
    public MlpModel(int[] sizes)
    {
        if (sizes.Length < 2)
        {
            throw new ArgumentException("a model needs at least an input and an output size", nameof(sizes));
        }

        Sizes = sizes;
        WeightsT = new float[sizes.Length - 1][];
        Biases = new float[sizes.Length - 1][];
        for (int l = 0; l < sizes.Length - 1; l++)
        {
            WeightsT[l] = new float[sizes[l] * sizes[l + 1]];
            Biases[l] = new float[sizes[l + 1]];
        }
    }

    /// <summary>Layer widths, input first.</summary>
    public int[] Sizes { get; }

    /// <summary>Per layer, the weights as [in][out], row-major.</summary>
    public float[][] WeightsT { get; }

    public float[][] Biases { get; }

    public int Layers => Sizes.Length - 1;

    public static string WeightName(int layer) => $"fc{layer + 1}.weight";

    public static string BiasName(int layer) => $"fc{layer + 1}.bias";

    /// <summary>Glorot-uniform weights from a SplitMix64 stream, zero biases.</summary>
    public static MlpModel CreateRandom(int[] sizes, ulong seed)
    {
        var model = new MlpModel(sizes);
        ulong state = seed;
        for (int l = 0; l < model.Layers; l++)
        {
            float limit = MathF.Sqrt(6f / (sizes[l] + sizes[l + 1]));
            float[] w = model.WeightsT[l];
            for (int i = 0; i < w.Length; i++)
            {
                state += 0x9E37_79B9_7F4A_7C15;
                float unit = (LossyQuantizer.Mix(state) >> 40) * (1f / (1 << 24));
                w[i] = ((2 * unit) - 1) * limit;
            }
        }

        return model;
    }

    /// <summary>Loads fc1..fcN from a .safetensors or .z4ai file (F32, F16 or BF16).</summary>
    public static MlpModel Load(string path, int inputs, int outputs)
    {
        using TensorFile file = TensorFile.Open(path);
        var sizes = new List<int> { inputs };
        for (int l = 0; file.TryGetInfo(WeightName(l), out TensorInfo w); l++)
        {
            if (w.Shape.Count != 2 || w.Shape[1] != sizes[^1] || w.Shape[0] <= 0 || w.Shape[0] > 1 << 16)
            {
                throw Failed(path, $"{WeightName(l)} is [{string.Join(",", w.Shape)}], expected [out, {sizes[^1]}]");
            }

            sizes.Add((int)w.Shape[0]);
        }

        if (sizes.Count < 2 || sizes[^1] != outputs)
        {
            throw Failed(path, $"the layers fc1..fcN end with {sizes[^1]} outputs (or are missing), expected {outputs}");
        }

        var model = new MlpModel([.. sizes]);
        for (int l = 0; l < model.Layers; l++)
        {
            int inSize = sizes[l];
            int outSize = sizes[l + 1];
            float[] w = ReadFloats(file, WeightName(l), [outSize, inSize], path);
            float[] wt = model.WeightsT[l];
            for (int o = 0; o < outSize; o++)
            {
                for (int j = 0; j < inSize; j++)
                {
                    wt[(j * outSize) + o] = w[(o * inSize) + j];
                }
            }

            ReadFloats(file, BiasName(l), [outSize], path).CopyTo(model.Biases[l], 0);
        }

        return model;
    }

    /// <summary>Writes the model as F32 safetensors (weights [out, in]), atomically.</summary>
    public void Save(string path, IReadOnlyDictionary<string, string>? metadata)
    {
        var tensors = new Dictionary<string, (long[] Shape, byte[] Bytes)>(StringComparer.Ordinal);
        for (int l = 0; l < Layers; l++)
        {
            int inSize = Sizes[l];
            int outSize = Sizes[l + 1];
            float[] w = new float[inSize * outSize];
            for (int o = 0; o < outSize; o++)
            {
                for (int j = 0; j < inSize; j++)
                {
                    w[(o * inSize) + j] = WeightsT[l][(j * outSize) + o];
                }
            }

            tensors[WeightName(l)] = ([outSize, inSize], ToBytes(w));
            tensors[BiasName(l)] = ([outSize], ToBytes(Biases[l]));
        }

        SafeTensorsLayout layout = SafeTensorsFormat.CreateLayout(
            tensors.Select(t => new SafeTensorsLayoutInput(t.Key, DType.F32, t.Value.Shape, t.Value.Bytes.Length)), metadata);
        using var file = AtomicFile.Create(path);
        SafeTensorsWriter.Write(file.Stream, layout, e => tensors[e.Name].Bytes);
        file.Commit();
    }

    /// <summary>Runs the model on one input; <paramref name="activations"/> receives every layer's output (post-ReLU except the last).</summary>
    public void Forward(ReadOnlySpan<float> input, float[][] activations)
    {
        ReadOnlySpan<float> x = input;
        for (int l = 0; l < Layers; l++)
        {
            float[] y = activations[l];
            int outSize = Sizes[l + 1];
            Biases[l].CopyTo(y, 0);
            float[] wt = WeightsT[l];
            for (int j = 0; j < x.Length; j++)
            {
                float v = x[j];
                if (v != 0)
                {
                    Axpy(y, v, wt.AsSpan(j * outSize, outSize));
                }
            }

            if (l < Layers - 1)
            {
                for (int i = 0; i < y.Length; i++)
                {
                    y[i] = Math.Max(y[i], 0f);
                }
            }

            x = y;
        }
    }

    /// <summary>Buffers for <see cref="Forward"/>.</summary>
    public float[][] CreateActivations()
    {
        float[][] a = new float[Layers][];
        for (int l = 0; l < Layers; l++)
        {
            a[l] = new float[Sizes[l + 1]];
        }

        return a;
    }

    /// <summary>The index of the first largest value.</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>The input vector of an image: each pixel divided by 255.</summary>
    public static void Normalize(ReadOnlySpan<byte> pixels, Span<float> input)
    {
        for (int i = 0; i < pixels.Length; i++)
        {
            input[i] = PixelScale[pixels[i]];
        }
    }

    /// <summary><c>y[i] = y[i] + a · x[i]</c>: a multiply, then an add, per element (never fused), any width.</summary>
    public static void Axpy(Span<float> y, float a, ReadOnlySpan<float> x)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && y.Length >= Vector<float>.Count)
        {
            var va = new Vector<float>(a);
            for (; i <= y.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector<float> product = va * new Vector<float>(x[i..]);
                (new Vector<float>(y[i..]) + product).CopyTo(y[i..]);
            }
        }

        for (; i < y.Length; i++)
        {
            float product = a * x[i];
            y[i] += product;
        }
    }

    private static readonly float[] PixelScale = Enumerable.Range(0, 256).Select(i => i / 255f).ToArray();

    private static float[] ReadFloats(TensorFile file, string name, long[] shape, string path)
    {
        if (!file.TryGetInfo(name, out TensorInfo info) || !info.Shape.SequenceEqual(shape) || !LossyElements.IsSupported(info.DType))
        {
            throw Failed(path, $"{name} must be an F32, F16 or BF16 tensor of shape [{string.Join(",", shape)}]");
        }

        byte[] bytes = file.ReadTensor(name);
        float[] values = new float[bytes.Length / info.DType.ElementSize()];
        LossyElements.ToFloat(bytes, info.DType, values);
        return values;
    }

    private static byte[] ToBytes(float[] values)
    {
        byte[] bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        }

        return bytes;
    }

    private static Z4AiCertificationException Failed(string path, string message) =>
        new(Z4AiErrorKind.EvaluatorFailed, $"{path} is not a model the Fashion-MNIST task can run: {message}");
}
