using System.Buffers.Binary;

namespace Z4Ai.Benchmarks.Corpus;

/// <summary>One generated case: a model (tensors by name) built from a size in bytes and a seeded generator.</summary>
/// <param name="Name">Short name, used by <c>--only</c> and in the tables.</param>
/// <param name="Description">What the data is, for the docs.</param>
/// <param name="Floor">The best published ratio for this scenario type, or null when none is published.</param>
/// <param name="Build">Builds the tensors for a target size in bytes.</param>
/// <param name="Quantised">For a quantised case, how its integer codes were made (so the runner can regenerate them).</param>
internal sealed record Scenario(
    string Name, string Description, double? Floor, Func<long, ScenarioRandom, Dictionary<string, Tensor>> Build, Quantisation? Quantised = null);

/// <summary>How a quantised scenario's single tensor was made: symmetric codes in ±<paramref name="QMax"/>, one FP32
/// scale per row of the matrix or one for the whole tensor, dequantised into <paramref name="DType"/>.</summary>
internal sealed record Quantisation(DType DType, int QMax, bool PerRow);

/// <summary>The integer codes of a quantised scenario, row-major, and its FP32 scales (one per row, or one).</summary>
internal sealed record QuantisedCodes(sbyte[] Codes, int Columns, float[] Scales);

/// <summary>
/// The documented synthetic scenario suite. Weights are Gaussian with a per-row scale drawn log-normally around
/// 0.02 (rows of a trained matrix differ in magnitude, which moves the exponent from row to row); every other
/// scenario is derived from such weights by rounding, pruning, quantising or repeating them.
/// </summary>
internal static class CorpusScenarios
{
    private const double BaseStd = 0.02;

    // Standard deviation of the natural log of the per-row scale: rows span roughly 0.5x to 2x the base std.
    private const double RowScaleSigma = 0.35;

    /// <summary>Every scenario, in table order. Floors are the published figures quoted in issue 3.</summary>
    public static IReadOnlyList<Scenario> All { get; } =
    [
        new("dense-bf16", "Gaussian-like weights with per-row scales, rounded to BF16", 1.417,
            (bytes, rng) => One(DType.BF16, bytes, rng, w => ToBf16(w))),
        new("dense-fp16", "the same kind of weights rounded to FP16", null,
            (bytes, rng) => One(DType.F16, bytes, rng, w => ToF16(w))),
        new("dense-fp32", "the same kind of weights as FP32 (full 23-bit mantissas)", 1.172,
            (bytes, rng) => One(DType.F32, bytes, rng, w => ToF32(w))),
        new("fp32-holding-bf16", "FP32 tensor whose values are BF16 values widened (low 16 bits zero)", 3.02,
            (bytes, rng) => One(DType.F32, bytes, rng, w => ToF32(RoundThroughBf16(w)))),
        new("zeros50-bf16", "BF16 weights with 50% of the elements set to zero at random positions", 2.47,
            (bytes, rng) => One(DType.BF16, bytes, rng, w => ToBf16(Prune(w, rng)))),
        new("zeros50-fp32", "FP32 weights with 50% of the elements set to zero at random positions", 2.21,
            (bytes, rng) => One(DType.F32, bytes, rng, w => ToF32(Prune(w, rng)))),
        new("int8-tensor-bf16", "INT8 codes (symmetric, one scale per tensor) dequantised into BF16", 2.39,
            (bytes, rng) => Quantised(DType.BF16, bytes, rng, 127, perRow: false), new(DType.BF16, 127, false)),
        new("int8-row-bf16", "INT8 codes with one scale per row dequantised into BF16", 2.39,
            (bytes, rng) => Quantised(DType.BF16, bytes, rng, 127, perRow: true), new(DType.BF16, 127, true)),
        new("int8-tensor-fp32", "INT8 codes, one scale per tensor, dequantised into FP32", 4.72,
            (bytes, rng) => Quantised(DType.F32, bytes, rng, 127, perRow: false), new(DType.F32, 127, false)),
        new("int8-row-fp32", "INT8 codes, one scale per row, dequantised into FP32", 4.72,
            (bytes, rng) => Quantised(DType.F32, bytes, rng, 127, perRow: true), new(DType.F32, 127, true)),
        new("int4-tensor-bf16", "INT4 codes (-7..7, one scale per tensor) dequantised into BF16", 5.41,
            (bytes, rng) => Quantised(DType.BF16, bytes, rng, 7, perRow: false), new(DType.BF16, 7, false)),
        new("int4-row-bf16", "INT4 codes with one scale per row dequantised into BF16", 5.41,
            (bytes, rng) => Quantised(DType.BF16, bytes, rng, 7, perRow: true), new(DType.BF16, 7, true)),
        new("int4-tensor-fp32", "INT4 codes, one scale per tensor, dequantised into FP32", 10.77,
            (bytes, rng) => Quantised(DType.F32, bytes, rng, 7, perRow: false), new(DType.F32, 7, false)),
        new("int4-row-fp32", "INT4 codes, one scale per row, dequantised into FP32", 10.77,
            (bytes, rng) => Quantised(DType.F32, bytes, rng, 7, perRow: true), new(DType.F32, 7, true)),
        new("repeated-bf16", "one BF16 layer (two tensors) repeated 64 times under different names (duplicated layers)", 58.1,
            Repeated),
    ];

    /// <summary>Columns of a generated matrix: 4096 when the size allows at least four rows, fewer otherwise.</summary>
    internal static int Columns(long elements)
    {
        int columns = 4096;
        while (columns > 1 && (elements % columns != 0 || elements / columns < 4))
        {
            columns /= 2;
        }

        return columns;
    }

    /// <summary>Gaussian weights, row-major, each row with its own log-normal scale around <see cref="BaseStd"/>.</summary>
    internal static float[] Weights(long elements, int columns, ScenarioRandom rng)
    {
        float[] w = new float[checked((int)elements)];
        for (int row = 0; row < w.Length / columns; row++)
        {
            double scale = BaseStd * Math.Exp(RowScaleSigma * rng.NextGaussian());
            Span<float> values = w.AsSpan(row * columns, columns);
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = (float)(scale * rng.NextGaussian());
            }
        }

        return w;
    }

    /// <summary>Round to nearest even BF16 (finite inputs), returned as the 16-bit pattern.</summary>
    internal static ushort Bf16Bits(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
    }

    /// <summary>Symmetric quantise-dequantise: integer codes <c>q = clamp(round(w / s), -qmax, qmax)</c>, value
    /// <c>(float)q * s</c> in FP32 (then rounded to the tensor's dtype), as dequantising an INT8/INT4 tensor does.</summary>
    internal static float[] Dequantise(float[] w, int columns, int qmax, bool perRow)
    {
        QuantisedCodes codes = Quantise(w, columns, qmax, perRow);
        float[] result = new float[w.Length];
        for (int i = 0; i < result.Length; i++)
        {
            // The code is an integer (as an INT8/INT4 tensor stores it), so code 0 dequantises to +0.0.
            result[i] = codes.Codes[i] * codes.Scales[perRow ? i / columns : 0];
        }

        return result;
    }

    /// <summary>The integer codes and scales of <see cref="Dequantise"/>: scale <c>absmax / qmax</c> (per row or per
    /// tensor, 1 for an all-zero one), codes rounded half to even and clamped.</summary>
    internal static QuantisedCodes Quantise(float[] w, int columns, int qmax, bool perRow)
    {
        int rows = w.Length / columns;
        sbyte[] codes = new sbyte[w.Length];
        float[] scales = new float[perRow ? rows : 1];
        float tensorMax = MaxAbs(w);
        for (int row = 0; row < rows; row++)
        {
            ReadOnlySpan<float> source = w.AsSpan(row * columns, columns);
            float max = perRow ? MaxAbs(source) : tensorMax;
            float scale = max == 0 ? 1f : max / qmax;
            scales[perRow ? row : 0] = scale;
            Span<sbyte> target = codes.AsSpan(row * columns, columns);
            for (int i = 0; i < source.Length; i++)
            {
                target[i] = (sbyte)Math.Clamp((int)MathF.Round(source[i] / scale, MidpointRounding.ToEven), -qmax, qmax);
            }
        }

        return new QuantisedCodes(codes, columns, scales);
    }

    /// <summary>Regenerates a quantised scenario's codes: <paramref name="rng"/> must be seeded as it was for
    /// <see cref="Scenario.Build"/>, which draws the same weights in the same order.</summary>
    internal static QuantisedCodes Codes(Quantisation quantisation, long bytes, ScenarioRandom rng)
    {
        long elements = bytes / (quantisation.DType.BitSize() / 8);
        int columns = Columns(elements);
        return Quantise(Weights(elements, columns, rng), columns, quantisation.QMax, quantisation.PerRow);
    }

    private static Dictionary<string, Tensor> One(DType dtype, long bytes, ScenarioRandom rng, Func<float[], byte[]> encode)
    {
        long elements = bytes / (dtype.BitSize() / 8);
        int columns = Columns(elements);
        byte[] data = encode(Weights(elements, columns, rng));
        return new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            ["weight"] = new Tensor(dtype, [elements / columns, columns], data),
        };
    }

    private static Dictionary<string, Tensor> Quantised(DType dtype, long bytes, ScenarioRandom rng, int qmax, bool perRow)
    {
        long elements = bytes / (dtype.BitSize() / 8);
        int columns = Columns(elements);
        float[] values = Dequantise(Weights(elements, columns, rng), columns, qmax, perRow);
        byte[] data = dtype == DType.BF16 ? ToBf16(values) : ToF32(values);
        return new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            ["weight"] = new Tensor(dtype, [elements / columns, columns], data),
        };
    }

    // 64 layers, each two tensors of 1/128 of the size, all holding the same bytes: only a codec or container that
    // finds repeats across tensors (or across more than a zstd window) gets past the ratio of one layer.
    private static Dictionary<string, Tensor> Repeated(long bytes, ScenarioRandom rng)
    {
        const int layers = 64;
        long elements = bytes / layers / 2 / 2;
        int columns = Columns(elements);
        byte[] attention = ToBf16(Weights(elements, columns, rng));
        byte[] mlp = ToBf16(Weights(elements, columns, rng));
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (int layer = 0; layer < layers; layer++)
        {
            tensors[$"layers.{layer:D2}.attn.weight"] = new Tensor(DType.BF16, [elements / columns, columns], attention);
            tensors[$"layers.{layer:D2}.mlp.weight"] = new Tensor(DType.BF16, [elements / columns, columns], mlp);
        }

        return tensors;
    }

    private static float[] RoundThroughBf16(float[] w)
    {
        for (int i = 0; i < w.Length; i++)
        {
            w[i] = BitConverter.UInt32BitsToSingle((uint)Bf16Bits(w[i]) << 16);
        }

        return w;
    }

    // Each element is zeroed with probability 1/2, independently (unstructured magnitude-free pruning).
    private static float[] Prune(float[] w, ScenarioRandom rng)
    {
        for (int i = 0; i < w.Length; i += 64)
        {
            ulong mask = rng.NextUInt64();
            for (int j = 0; j < 64 && i + j < w.Length; j++)
            {
                if (((mask >> j) & 1) != 0)
                {
                    w[i + j] = 0f;
                }
            }
        }

        return w;
    }

    private static float MaxAbs(ReadOnlySpan<float> values)
    {
        float max = 0;
        foreach (float v in values)
        {
            max = Math.Max(max, Math.Abs(v));
        }

        return max;
    }

    private static byte[] ToBf16(float[] values)
    {
        byte[] bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), Bf16Bits(values[i]));
        }

        return bytes;
    }

    private static byte[] ToF16(float[] values)
    {
        byte[] bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
        {
            // The explicit conversion rounds to nearest even.
            BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(2 * i), (Half)values[i]);
        }

        return bytes;
    }

    private static byte[] ToF32(float[] values)
    {
        byte[] bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        }

        return bytes;
    }
}
