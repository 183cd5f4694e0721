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
    /// offsets and tables included) in the chunks whose every element went through an exponent stream, chunk by chunk
    /// as the container codes the tensor.</summary>
    public double CodedExponentBits { get; private set; }

    /// <summary>Elements of the chunks counted in <see cref="CodedExponentBits"/>.</summary>
    public long CodedExponentElements { get; private set; }

    /// <summary>How many chunks are counted in <see cref="CodedExponentBits"/> (each codes its exponents with its own tables).</summary>
    public int CodedExponentChunks { get; private set; }

    /// <summary>Order-0 bits of the exponent fields of exactly the elements counted in
    /// <see cref="CodedExponentElements"/>, one histogram per tensor (the like-for-like bound for the coded figure).</summary>
    public double CodedExponentBoundBits { get; private set; }

    /// <summary>Z4Ai's exponent bits per element over the chunks that took an exponent stream, or null when none did.</summary>
    public double? CodedExponentBitsPerElement =>
        CodedExponentElements == 0 ? null : CodedExponentBits / CodedExponentElements;

    /// <summary>The order-0 exponent bits per element of the same elements, or null when no chunk took an exponent stream.</summary>
    public double? CodedExponentBoundPerElement =>
        CodedExponentElements == 0 ? null : CodedExponentBoundBits / CodedExponentElements;

    /// <summary>Share of the float elements whose chunk took an exponent stream.</summary>
    public double CodedExponentShare => FloatElements == 0 ? 0 : (double)CodedExponentElements / FloatElements;

    /// <summary>Every leaf stream of every coded chunk, summed by path (<c>data/exponent</c>, ...) and coder.</summary>
    public SortedDictionary<string, (long Raw, long Encoded, int Leaves)> Streams { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Encodes one tensor with <see cref="TensorCodec"/> in the container's default chunks (row length from the
    /// shape, as the container passes it), tallies every leaf stream, and for float tensors what the exponent streams
    /// cost in the chunks where every element went through one, with the order-0 bound of those same exponents.
    /// </summary>
    public void AddCoded(DType dtype, ReadOnlySpan<byte> data, int rowLength, CompressionEffort effort)
    {
        if (data.IsEmpty)
        {
            return;
        }

        (int Exponent, int Mantissa)? layout = FloatLayout(dtype);
        int elementSize = Math.Max(1, dtype.BitSize() / 8);
        long[]? matched = layout is (int e, _) ? new long[1 << e] : null;
        var writer = new ArrayBufferWriter<byte>(TensorCodec.GetMaxEncodedLength(Math.Min(data.Length, ContainerFormat.DefaultChunkSize)));
        var streams = new List<StreamBreakdown>();
        for (int offset = 0; offset < data.Length; offset += ContainerFormat.DefaultChunkSize)
        {
            ReadOnlySpan<byte> chunk = data.Slice(offset, Math.Min(ContainerFormat.DefaultChunkSize, data.Length - offset));
            writer.ResetWrittenCount();
            streams.Clear();
            TensorCodec.Encode(chunk, dtype, effort, writer, rowLength);
            RecipeInspector.Inspect(writer.WrittenSpan, streams);
            long exponentElements = 0;
            long exponentBytes = 0;
            foreach (StreamBreakdown stream in streams)
            {
                string key = stream.Path + " " + stream.Coder;
                Streams[key] = Streams.TryGetValue(key, out var t)
                    ? (t.Raw + stream.RawBytes, t.Encoded + stream.EncodedBytes, t.Leaves + 1)
                    : (stream.RawBytes, stream.EncodedBytes, 1);
                if (!stream.Path.Contains("/exponent", StringComparison.Ordinal))
                {
                    continue;
                }

                exponentBytes += stream.EncodedBytes;
                if (stream.Path.EndsWith("/exponent", StringComparison.Ordinal) || stream.Path.EndsWith("/exponent/shifted", StringComparison.Ordinal))
                {
                    exponentElements += stream.RawBytes;
                }
            }

            // Only chunks whose exponent node covers every element compare like for like with the chunk's exponents;
            // a node under a zero mask or a palette codes a subset, whose order-0 bound this tally cannot see.
            long chunkElements = chunk.Length / elementSize;
            if (layout is (int exponentBits, int mantissaBits) && exponentElements == chunkElements && chunkElements > 0)
            {
                CodedExponentBits += 8.0 * exponentBytes;
                CodedExponentElements += chunkElements;
                CodedExponentChunks++;
                ExponentHistogram(chunk, elementSize, exponentBits, mantissaBits, matched!);
            }
        }

        if (matched is not null)
        {
            CodedExponentBoundBits += Bits(matched);
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

    /// <summary>Adds the exponent field of every element to <paramref name="histogram"/>.</summary>
    internal static void ExponentHistogram(ReadOnlySpan<byte> data, int elementSize, int exponentBits, int mantissaBits, long[] histogram)
    {
        ulong mask = (1UL << exponentBits) - 1;
        for (int i = 0; i + elementSize <= data.Length; i += elementSize)
        {
            histogram[(int)((Read(data[i..], elementSize) >> mantissaBits) & mask)]++;
        }
    }

    private static ulong Read(ReadOnlySpan<byte> data, int elementSize) => elementSize switch
    {
        2 => BinaryPrimitives.ReadUInt16LittleEndian(data),
        4 => BinaryPrimitives.ReadUInt32LittleEndian(data),
        _ => BinaryPrimitives.ReadUInt64LittleEndian(data),
    };

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
            ulong v = Read(data[i..], elementSize);
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
