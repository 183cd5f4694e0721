using System.Runtime.InteropServices;

namespace Z4Ai.Codecs;

/// <summary>
/// Moves the signs of zero floats out of the values: every -0.0 becomes +0.0, and one bit per zero element (in
/// element order, LSB-first) records which were negative. Rounding small negative weights to zero (fake
/// quantisation, <c>round(w / s) * s</c>) leaves -0.0 behind, which no integer-code palette can express; without it
/// the values are exact products again.
/// </summary>
internal static class NegativeZeros
{
    /// <summary>Counts the elements equal to -0.0 and to +0.0 (all bytes zero).</summary>
    public static (int Negative, int Positive) Count(ReadOnlySpan<byte> data, int elementSize)
    {
        return elementSize switch
        {
            2 => CountTyped<ushort>(MemoryMarshal.Cast<byte, ushort>(data), 0x8000),
            4 => CountTyped<uint>(MemoryMarshal.Cast<byte, uint>(data), 0x8000_0000u),
            8 => CountTyped<ulong>(MemoryMarshal.Cast<byte, ulong>(data), 0x8000_0000_0000_0000UL),
            _ => (0, 0),
        };

        static (int, int) CountTyped<T>(ReadOnlySpan<T> values, T negativeZero)
            where T : unmanaged, IEquatable<T> => (values.Count(negativeZero), values.Count(default(T)));
    }

    /// <summary>
    /// Writes <paramref name="data"/> with -0.0 replaced by +0.0 into <paramref name="cleaned"/> and the sign bits of
    /// its zero elements into <paramref name="signs"/> (cleared first, ceil(zeros / 8) bytes).
    /// </summary>
    /// <returns>The number of zero elements (of either sign).</returns>
    public static int Split(ReadOnlySpan<byte> data, int elementSize, Span<byte> cleaned, Span<byte> signs)
    {
        data.CopyTo(cleaned);
        signs.Clear();
        int count = data.Length / elementSize;
        int zeros = 0;
        int top = elementSize - 1;
        for (int i = 0; i < count; i++)
        {
            Span<byte> element = cleaned.Slice(i * elementSize, elementSize);
            if (element[..top].IndexOfAnyExcept((byte)0) >= 0 || (element[top] & 0x7F) != 0)
            {
                continue;
            }

            if (element[top] != 0)
            {
                signs[zeros >> 3] |= (byte)(1 << (zeros & 7));
                element[top] = 0;
            }

            zeros++;
        }

        return zeros;
    }

    /// <summary>
    /// Sets the sign of the zero elements of <paramref name="values"/> from <paramref name="signs"/>; returns false
    /// when the values do not hold exactly <paramref name="zeros"/> elements equal to +0.0.
    /// </summary>
    public static bool Restore(Span<byte> values, int elementSize, ReadOnlySpan<byte> signs, int zeros)
    {
        int count = values.Length / elementSize;
        int top = elementSize - 1;
        int seen = 0;
        for (int i = 0; i < count; i++)
        {
            Span<byte> element = values.Slice(i * elementSize, elementSize);
            if (element.IndexOfAnyExcept((byte)0) >= 0)
            {
                continue;
            }

            if (seen == zeros)
            {
                return false;
            }

            if (((signs[seen >> 3] >> (seen & 7)) & 1) != 0)
            {
                element[top] = 0x80;
            }

            seen++;
        }

        return seen == zeros;
    }
}
