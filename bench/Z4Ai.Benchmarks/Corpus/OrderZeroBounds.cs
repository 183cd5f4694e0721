using System.Buffers;
using System.Buffers.Binary;
using Z4Ai.Codecs;
using Z4Ai.Format;

namespace Z4Ai.Benchmarks.Corpus;

/// <summary>
/// Order-0 (memoryless) entropy of a file's tensors, per tensor: the size a coder would reach that codes every
/// symbol of a stream with that stream's own frequencies and nothing else (no context, no repeats, tables free).
/// Two decompositions are tallied: byte planes (byte k of every element) and float fields (sign, exponent, and
/// the mantissa's top <c>m mod 8</c> bits then its whole bytes). A codec can only beat these with context or
/// long-range structure.
/// </summary>
internal sealed class OrderZeroBounds
{
    /// <summary>Tensor bytes tallied.</summary>
    public long TensorBytes { get; private set; }

    /// <summary>Order-0 bits of all byte planes.</summary>
    public double PlaneBits { get; private set; }

    /// <summary>Order-0 bits of the float fields (byte planes for tensors that are not floats).</summary>
    public double FieldBits { get; private set; }

    /// <summary>Order-0 bits of the exponent fields of the float tensors.</summary>
    public double ExponentBits { get; private set; }

    /// <summary>Elements of the float tensors.</summary>
    public long FloatElements { get; private set; }

    /// <summary>Mean order-0 bits per element of the exponent field, or null when no tensor is a float.</summary>
    public double? ExponentBitsPerElement => FloatElements == 0 ? null : ExponentBits / FloatElements;

    /// <summary>Bits Z4Ai spends on exponent streams (every leaf under a <c>fields/exponent</c> node, group-shift
    /// offsets included), chunk by chunk as the container codes the tensor.</summary>
    public double CodedExponentBits { get; private set; }

    /// <summary>Elements whose exponents Z4Ai coded as an exponent stream.</summary>
    public long CodedExponentElements { get; private set; }

    /// <summary>Z4Ai's exponent bits per element, when every float element went through an exponent stream (so the
    /// figure compares with <see cref="ExponentBitsPerElement"/>); otherwise null.</summary>
    public double? CodedExponentBitsPerElement =>
        FloatElements > 0 && CodedExponentElements == FloatElements ? CodedExponentBits / FloatElements : null;

    /// <summary>
    /// Encodes one tensor with <see cref="TensorCodec"/> in the container's default chunks (row length from the
    /// shape, as the container passes it) and tallies what its exponent streams cost.
    /// </summary>
    public void AddCoded(DType dtype, ReadOnlySpan<byte> data, int rowLength, CompressionEffort effort)
    {
        if (FloatLayout(dtype) is null || data.IsEmpty)
        {
            return;
        }

        var writer = new ArrayBufferWriter<byte>(TensorCodec.GetMaxEncodedLength(Math.Min(data.Length, ContainerFormat.DefaultChunkSize)));
        var streams = new List<StreamBreakdown>();
        for (int offset = 0; offset < data.Length; offset += ContainerFormat.DefaultChunkSize)
        {
            writer.ResetWrittenCount();
            streams.Clear();
            TensorCodec.Encode(data.Slice(offset, Math.Min(ContainerFormat.DefaultChunkSize, data.Length - offset)), dtype, effort, writer, rowLength);
            RecipeInspector.Inspect(writer.WrittenSpan, streams);
            foreach (StreamBreakdown stream in streams)
            {
                if (!stream.Path.Contains("/exponent", StringComparison.Ordinal))
                {
                    continue;
                }

                CodedExponentBits += 8.0 * stream.EncodedBytes;
                if (stream.Path.EndsWith("/exponent", StringComparison.Ordinal) || stream.Path.EndsWith("/exponent/shifted", StringComparison.Ordinal))
                {
                    CodedExponentElements += stream.RawBytes;
                }
            }
        }
    }

    /// <summary>Order-0 entropy, in bits, of a stream with this histogram: <c>n log2 n - sum c log2 c</c>.</summary>
    public static double Bits(ReadOnlySpan<long> histogram)
    {
        long n = 0;
        double sum = 0;
        foreach (long c in histogram)
        {
            if (c > 0)
            {
                n += c;
                sum += c * Math.Log2(c);
            }
        }

        return n == 0 ? 0 : (n * Math.Log2(n)) - sum;
    }

    /// <summary>The (exponent, mantissa) widths of the IEEE-style float dtypes; null for any other dtype.</summary>
    public static (int Exponent, int Mantissa)? FloatLayout(DType dtype) => dtype switch
    {
        DType.F16 => (5, 10),
        DType.BF16 => (8, 7),
        DType.F32 => (8, 23),
        DType.F64 => (11, 52),
        _ => null,
    };

    /// <summary>Adds one tensor's bytes.</summary>
    public void Add(DType dtype, ReadOnlySpan<byte> data)
    {
        TensorBytes += data.Length;
        int bits = dtype.BitSize();
        int elementSize = bits >= 8 ? bits / 8 : 1;
        double planes = PlaneEntropy(data, elementSize);
        PlaneBits += planes;
        if (FloatLayout(dtype) is not (int exponent, int mantissa) || data.Length % elementSize != 0)
        {
            FieldBits += planes;
            return;
        }

        (double fields, double exponentBits) = FieldEntropy(data, elementSize, exponent, mantissa);
        FieldBits += fields;
        ExponentBits += exponentBits;
        FloatElements += data.Length / elementSize;
    }

    private static double PlaneEntropy(ReadOnlySpan<byte> data, int elementSize)
    {
        long[] histogram = new long[256 * elementSize];
        for (int i = 0; i < data.Length; i++)
        {
            histogram[(256 * (i % elementSize)) + data[i]]++;
        }

        double total = 0;
        for (int plane = 0; plane < elementSize; plane++)
        {
            total += Bits(histogram.AsSpan(256 * plane, 256));
        }

        return total;
    }

    private static (double Fields, double Exponent) FieldEntropy(ReadOnlySpan<byte> data, int elementSize, int exponentBits, int mantissaBits)
    {
        int highBits = mantissaBits % 8;
        int lowBytes = mantissaBits / 8;
        long[] sign = new long[2];
        long[] exponent = new long[1 << exponentBits];
        long[] high = new long[1 << highBits];
        long[] low = new long[256 * Math.Max(lowBytes, 1)];
        ulong exponentMask = (1UL << exponentBits) - 1;
        ulong highMask = (1UL << highBits) - 1;
        for (int i = 0; i + elementSize <= data.Length; i += elementSize)
        {
            ulong v = elementSize switch
            {
                2 => BinaryPrimitives.ReadUInt16LittleEndian(data[i..]),
                4 => BinaryPrimitives.ReadUInt32LittleEndian(data[i..]),
                _ => BinaryPrimitives.ReadUInt64LittleEndian(data[i..]),
            };
            sign[(int)(v >> ((8 * elementSize) - 1))]++;
            exponent[(int)((v >> mantissaBits) & exponentMask)]++;
            high[(int)((v >> (8 * lowBytes)) & highMask)]++;
            for (int b = 0; b < lowBytes; b++)
            {
                low[(256 * b) + (int)((v >> (8 * b)) & 0xFF)]++;
            }
        }

        double exponentEntropy = Bits(exponent);
        double total = Bits(sign) + exponentEntropy + Bits(high);
        for (int b = 0; b < lowBytes; b++)
        {
            total += Bits(low.AsSpan(256 * b, 256));
        }

        return (total, exponentEntropy);
    }
}
