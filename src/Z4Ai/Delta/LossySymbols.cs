using System.Buffers;
using CommunityToolkit.HighPerformance.Buffers;
using Z4Ai.Codecs;
using Z4Ai.Entropy;
using Z4Ai.Internal;
using Z4Ai.Transforms;

namespace Z4Ai.Delta;

/// <summary>
/// The byte-level blocks of a lossy tensor record: symbol streams (bit-packed or entropy-coded, whichever is
/// smaller), sorted index lists (gaps as varints, then a symbol stream), and float scale arrays (a tensor-codec frame).
/// </summary>
/// <remarks>
/// Symbol block: <c>u8 method</c> (0 bit-packed, otherwise the <see cref="EntropyMethod"/> value),
/// <c>varint payload length</c>, payload. Index block: <c>varint byte count</c> of the gap varints, then a symbol
/// block of those bytes (8-bit alphabet); gap 0 is the first index, gap j is <c>index[j] - index[j-1] - 1</c>.
/// Float block: <c>varint frame length</c>, a tensor-codec frame of the little-endian F32 values.
/// </remarks>
internal static class LossySymbols
{
    private const byte PackedMethod = 0;
    private const int PackBlock = 4096;

    /// <summary>Appends a symbol block for <paramref name="symbols"/> (each below 2^<paramref name="bits"/>).</summary>
    public static void WriteSymbols(ReadOnlySpan<byte> symbols, int bits, int rowLength, CompressionEffort effort, IBufferWriter<byte> output)
    {
        int packedLength = (int)BitPacking.GetPackedLength(symbols.Length, bits);
        if (symbols.Length > 0)
        {
            (EntropyMethod method, long estimate) = EntropyCoder.Choose(symbols, effort, bits, rowLength);
            using var coded = new ArrayPoolBufferWriter<byte>(Math.Max(256, (int)Math.Min(int.MaxValue / 2, estimate + 1024)));
            if (estimate < packedLength)
            {
                EntropyCoder.Encode(symbols, method, bits, rowLength, coded);
            }

            // The context-mixing estimate is conservative; at Max effort it is worth coding to find out.
            if (effort == CompressionEffort.Max && method != EntropyMethod.ContextMixing)
            {
                using var mixed = new ArrayPoolBufferWriter<byte>(Math.Max(256, coded.WrittenCount + 1024));
                EntropyCoder.Encode(symbols, EntropyMethod.ContextMixing, bits, rowLength, mixed);
                if (coded.WrittenCount == 0 || mixed.WrittenCount < coded.WrittenCount)
                {
                    coded.Clear();
                    coded.Write(mixed.WrittenSpan);
                    method = EntropyMethod.ContextMixing;
                }
            }

            if (coded.WrittenCount > 0 && coded.WrittenCount < packedLength)
            {
                WriteHeader(output, (byte)method, coded.WrittenCount);
                output.Write(coded.WrittenSpan);
                return;
            }
        }

        WriteHeader(output, PackedMethod, packedLength);
        Span<byte> packed = output.GetSpan(Math.Max(1, packedLength));
        Pack(symbols, bits, packed[..packedLength]);
        output.Advance(packedLength);
    }

    /// <summary>Reads a symbol block of exactly <paramref name="symbols"/>.Length symbols and checks their range.</summary>
    public static void ReadSymbols(ref SpanReader reader, int bits, int rowLength, Span<byte> symbols)
    {
        byte method = reader.ReadByte();
        int length = reader.ReadVarInt32(reader.Remaining);
        ReadOnlySpan<byte> payload = reader.ReadBytes(length);
        if (method == PackedMethod)
        {
            long expected = BitPacking.GetPackedLength(symbols.Length, bits);
            if (length != expected)
            {
                ThrowHelper.CorruptFrame($"packed symbol block holds {length} bytes, expected {expected}");
            }

            Unpack(payload, bits, symbols);
            return;
        }

        if (method is < (byte)EntropyMethod.RansOrder0 or > (byte)EntropyMethod.ContextMixing)
        {
            ThrowHelper.CorruptFrame($"unknown symbol coding method {method}");
        }

        if (symbols.Length == 0)
        {
            if (length != 0)
            {
                ThrowHelper.CorruptFrame("an empty symbol stream has a non-empty payload");
            }

            return;
        }

        EntropyCoder.Decode(payload, (EntropyMethod)method, bits, rowLength, symbols);
        if (bits < 8 && symbols.IndexOfAnyInRange((byte)(1 << bits), byte.MaxValue) >= 0)
        {
            ThrowHelper.CorruptFrame($"a decoded symbol does not fit {bits} bits");
        }
    }

    /// <summary>Appends an index block for ascending, distinct <paramref name="indices"/>.</summary>
    public static void WriteIndices(ReadOnlySpan<int> indices, CompressionEffort effort, IBufferWriter<byte> output)
    {
        using var gaps = new ArrayPoolBufferWriter<byte>(Math.Max(16, indices.Length * 2));
        int previous = -1;
        foreach (int index in indices)
        {
            VarInt.Write(gaps, (ulong)(index - previous - 1));
            previous = index;
        }

        VarInt.Write(output, (ulong)gaps.WrittenCount);
        WriteSymbols(gaps.WrittenSpan, 8, 0, effort, output);
    }

    /// <summary>
    /// Reads an index block of exactly <paramref name="indices"/>.Length ascending indices, each below
    /// <paramref name="limit"/>.
    /// </summary>
    public static void ReadIndices(ref SpanReader reader, int limit, Span<int> indices)
    {
        // Each gap is a varint of at most 5 bytes for indices below 2^31.
        int byteCount = reader.ReadVarInt32((int)Math.Min(int.MaxValue, (long)indices.Length * 5));
        if (byteCount < indices.Length)
        {
            ThrowHelper.CorruptFrame($"{indices.Length} indices need at least {indices.Length} gap bytes, the block declares {byteCount}");
        }

        using SpanOwner<byte> gaps = SpanOwner<byte>.Allocate(byteCount);
        ReadSymbols(ref reader, 8, 0, gaps.Span);
        var gapReader = new SpanReader(gaps.Span);
        long previous = -1;
        for (int j = 0; j < indices.Length; j++)
        {
            long index = previous + 1 + (long)gapReader.ReadVarUInt64();
            if (index >= limit || index < 0)
            {
                ThrowHelper.CorruptFrame($"index {j} is {index}, beyond the tensor's {limit} elements");
            }

            indices[j] = (int)index;
            previous = index;
        }

        if (gapReader.Remaining != 0)
        {
            ThrowHelper.CorruptFrame($"the index block has {gapReader.Remaining} bytes after its last index");
        }
    }

    /// <summary>Appends a float block.</summary>
    public static void WriteFloats(ReadOnlySpan<float> values, CompressionEffort effort, IBufferWriter<byte> output)
    {
        ReadOnlySpan<byte> raw = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("lossy deltas are written on little-endian machines only");
        }

        using var frame = new ArrayPoolBufferWriter<byte>(TensorCodec.GetMaxEncodedLength(raw.Length));
        TensorCodec.Encode(raw, DType.F32, effort, frame);
        VarInt.Write(output, (ulong)frame.WrittenCount);
        output.Write(frame.WrittenSpan);
    }

    /// <summary>Reads a float block of exactly <paramref name="values"/>.Length values, each finite and non-negative.</summary>
    public static void ReadScales(ref SpanReader reader, Span<float> values)
    {
        ReadBytesFrame(ref reader, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));
        foreach (float v in values)
        {
            if (!float.IsFinite(v) || v < 0)
            {
                ThrowHelper.CorruptFrame($"a scale is {v}; scales are finite and non-negative");
            }
        }
    }

    /// <summary>Appends raw bytes as a tensor-codec frame, length-prefixed.</summary>
    public static void WriteBytesFrame(ReadOnlySpan<byte> raw, DType dtype, CompressionEffort effort, IBufferWriter<byte> output)
    {
        using var frame = new ArrayPoolBufferWriter<byte>(TensorCodec.GetMaxEncodedLength(raw.Length));
        TensorCodec.Encode(raw, dtype, effort, frame);
        VarInt.Write(output, (ulong)frame.WrittenCount);
        output.Write(frame.WrittenSpan);
    }

    /// <summary>Reads a length-prefixed tensor-codec frame into exactly <paramref name="destination"/>.</summary>
    public static void ReadBytesFrame(ref SpanReader reader, Span<byte> destination)
    {
        int length = reader.ReadVarInt32(reader.Remaining);
        TensorCodec.Decode(reader.ReadBytes(length), destination);
    }

    private static void WriteHeader(IBufferWriter<byte> output, byte method, int length)
    {
        output.GetSpan(1)[0] = method;
        output.Advance(1);
        VarInt.Write(output, (ulong)length);
    }

    // Packs block by block: a block of a multiple of 8 values ends on a byte boundary.
    private static void Pack(ReadOnlySpan<byte> symbols, int bits, Span<byte> destination)
    {
        Span<uint> block = stackalloc uint[PackBlock];
        int written = 0;
        for (int start = 0; start < symbols.Length; start += PackBlock)
        {
            int count = Math.Min(PackBlock, symbols.Length - start);
            for (int i = 0; i < count; i++)
            {
                block[i] = symbols[start + i];
            }

            int bytes = (int)BitPacking.GetPackedLength(count, bits);
            BitPacking.Pack(block[..count], bits, destination.Slice(written, bytes));
            written += bytes;
        }
    }

    private static void Unpack(ReadOnlySpan<byte> source, int bits, Span<byte> symbols)
    {
        Span<uint> block = stackalloc uint[PackBlock];
        int read = 0;
        for (int start = 0; start < symbols.Length; start += PackBlock)
        {
            int count = Math.Min(PackBlock, symbols.Length - start);
            int bytes = (int)BitPacking.GetPackedLength(count, bits);
            BitPacking.Unpack(source.Slice(read, bytes), bits, block[..count]);
            for (int i = 0; i < count; i++)
            {
                symbols[start + i] = (byte)block[i];
            }

            read += bytes;
        }
    }
}
