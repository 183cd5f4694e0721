using System.Buffers.Binary;

namespace Z4Ai.Codecs;

/// <summary>
/// Element-wise delta with zigzag: element 0 is kept, element i becomes <c>zigzag(x[i] - x[i-1])</c> in the
/// element's width, so sorted or slowly varying integers (a sorted palette codebook, index lists, counters) turn into
/// small unsigned numbers whose high bytes are mostly zero.
/// </summary>
/// <remarks>
/// Arithmetic is modulo 2^(8·size): the difference is taken as a wrapped unsigned value, read as signed, and
/// zigzag-mapped (0, -1, 1, -2, ... to 0, 1, 2, 3, ...). Every input, including the extremes of the type, round-trips.
/// Elements are little-endian; the input must be whole elements.
/// </remarks>
internal static class ZigZagDelta
{
    /// <summary>True for the element sizes the transform handles: 1, 2, 4 and 8 bytes.</summary>
    public static bool IsSupported(int elementSize) => elementSize is 1 or 2 or 4 or 8;

    /// <summary>Writes the deltas of <paramref name="source"/> into <paramref name="destination"/> (same length).</summary>
    public static void Forward(ReadOnlySpan<byte> source, Span<byte> destination, int elementSize)
    {
        Check(source.Length, destination.Length, elementSize);
        int count = source.Length / elementSize;
        int bits = elementSize * 8;
        ulong previous = 0;
        for (int i = 0; i < count; i++)
        {
            ulong x = Read(source, i, elementSize);
            ulong d = i == 0 ? x : ZigZag(x - previous, bits);
            Write(destination, i, elementSize, d);
            previous = x;
        }
    }

    /// <summary>Rebuilds the elements from their deltas (same length).</summary>
    public static void Inverse(ReadOnlySpan<byte> deltas, Span<byte> destination, int elementSize)
    {
        Check(deltas.Length, destination.Length, elementSize);
        int count = deltas.Length / elementSize;
        int bits = elementSize * 8;
        ulong previous = 0;
        for (int i = 0; i < count; i++)
        {
            ulong d = Read(deltas, i, elementSize);
            ulong x = i == 0 ? d : previous + UnZigZag(d);
            Write(destination, i, elementSize, x);
            previous = x;
        }
    }

    private static void Check(int sourceLength, int destinationLength, int elementSize)
    {
        if (!IsSupported(elementSize) || sourceLength % elementSize != 0 || destinationLength != sourceLength)
        {
            throw new ArgumentException($"zigzag delta needs whole {elementSize}-byte elements and equal lengths");
        }
    }

    private static ulong ZigZag(ulong wrapped, int bits)
    {
        long signed = ((long)(wrapped << (64 - bits))) >> (64 - bits);
        ulong z = (ulong)((signed << 1) ^ (signed >> 63));
        return bits == 64 ? z : z & ((1UL << bits) - 1);
    }

    private static ulong UnZigZag(ulong z) => (z >> 1) ^ (0UL - (z & 1));

    private static ulong Read(ReadOnlySpan<byte> data, int index, int size) => size switch
    {
        1 => data[index],
        2 => BinaryPrimitives.ReadUInt16LittleEndian(data[(index * 2)..]),
        4 => BinaryPrimitives.ReadUInt32LittleEndian(data[(index * 4)..]),
        _ => BinaryPrimitives.ReadUInt64LittleEndian(data[(index * 8)..]),
    };

    private static void Write(Span<byte> data, int index, int size, ulong value)
    {
        switch (size)
        {
            case 1:
                data[index] = (byte)value;
                break;
            case 2:
                BinaryPrimitives.WriteUInt16LittleEndian(data[(index * 2)..], (ushort)value);
                break;
            case 4:
                BinaryPrimitives.WriteUInt32LittleEndian(data[(index * 4)..], (uint)value);
                break;
            default:
                BinaryPrimitives.WriteUInt64LittleEndian(data[(index * 8)..], value);
                break;
        }
    }
}
