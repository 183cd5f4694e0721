using System.Buffers;
using Z4Ai.Internal;

namespace Z4Ai.Transforms;

/// <summary>How <see cref="ZeroMask"/> records where the non-zero elements are. The values are part of the file format.</summary>
internal enum ZeroMaskLayout : byte
{
    /// <summary>One bit per element, 1 for non-zero, packed LSB-first (<see cref="BitPacking"/> with k = 1).</summary>
    Bitmap = 0,

    /// <summary>For each non-zero element in order, the unsigned LEB128 count of zero elements before it
    /// (since the previous non-zero element, or since the start).</summary>
    Sparse = 1,
}

/// <summary>The parameters of a <see cref="ZeroMask"/> frame.</summary>
/// <remarks>
/// Parameter block: <c>u8 layout</c>, <c>varint nonZeroCount</c>, and for <see cref="ZeroMaskLayout.Sparse"/>
/// <c>varint positionsLength</c>. Then two streams: the positions (<c>ceil(n/8)</c> bitmap bytes, or
/// <c>positionsLength</c> bytes of gaps) and the values (<c>nonZeroCount * elementSize</c> bytes: the non-zero
/// elements in order, unchanged). An element is zero when all its bytes are zero, so -0.0 counts as non-zero.
/// </remarks>
internal readonly struct ZeroMaskPlan
{
    internal ZeroMaskPlan(ZeroMaskLayout layout, int elementSize, int elementCount, int nonZeroCount, int positionsLength)
    {
        Layout = layout;
        ElementSize = elementSize;
        ElementCount = elementCount;
        NonZeroCount = nonZeroCount;
        PositionsLength = positionsLength;
    }

    /// <summary>How positions are stored.</summary>
    public ZeroMaskLayout Layout { get; }

    /// <summary>Bytes per element.</summary>
    public int ElementSize { get; }

    /// <summary>Elements in the raw data.</summary>
    public int ElementCount { get; }

    /// <summary>Elements that are not all-zero bytes.</summary>
    public int NonZeroCount { get; }

    /// <summary>Bytes of the positions stream.</summary>
    public int PositionsLength { get; }

    /// <summary>Bytes of the values stream: the dense non-zero elements.</summary>
    public int ValuesLength => NonZeroCount * ElementSize;

    /// <summary>Bytes of the parameter block.</summary>
    public int ParametersLength => 1 + VarInt.GetLength((ulong)NonZeroCount)
        + (Layout == ZeroMaskLayout.Sparse ? VarInt.GetLength((ulong)PositionsLength) : 0);

    /// <summary>The exact size of <see cref="ZeroMask.Encode"/>'s output.</summary>
    public int EstimatedSize => ParametersLength + PositionsLength + ValuesLength;

    /// <summary>Appends the parameter block.</summary>
    public void Write(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        Span<byte> span = output.GetSpan(1);
        span[0] = (byte)Layout;
        output.Advance(1);
        VarInt.Write(output, (ulong)NonZeroCount);
        if (Layout == ZeroMaskLayout.Sparse)
        {
            VarInt.Write(output, (ulong)PositionsLength);
        }
    }

    /// <summary>Reads and validates a parameter block for <paramref name="rawLength"/> bytes of <paramref name="dtype"/>.</summary>
    /// <exception cref="Z4AiFormatException">The block is truncated or inconsistent with the dtype and length.</exception>
    public static ZeroMaskPlan Read(ref SpanReader reader, DType dtype, int rawLength)
    {
        int start = reader.Position;
        int size = dtype.ElementSize();
        if (size == 0 || rawLength % size != 0)
        {
            ThrowHelper.CorruptFrame($"zero-mask frame cannot hold {rawLength} bytes of {dtype.GetName()}", start);
        }

        int count = rawLength / size;
        var layout = (ZeroMaskLayout)reader.ReadByte();
        int nonZero = reader.ReadVarInt32(count);
        int positions;
        switch (layout)
        {
            case ZeroMaskLayout.Bitmap:
                positions = (int)BitPacking.GetPackedLength(count, 1);
                break;
            case ZeroMaskLayout.Sparse:
                // Each gap is a varint of at most 5 bytes (gaps are below 2^31) and at least 1.
                positions = reader.ReadVarInt32((int)Math.Min(int.MaxValue, 5L * nonZero));
                if (positions < nonZero)
                {
                    ThrowHelper.CorruptFrame($"zero-mask gap stream of {positions} bytes cannot hold {nonZero} gaps", start);
                }

                break;
            default:
                return ThrowHelper.CorruptFrame<ZeroMaskPlan>($"unknown zero-mask layout {(byte)layout}", start);
        }

        return new ZeroMaskPlan(layout, size, count, nonZero, positions);
    }
}
