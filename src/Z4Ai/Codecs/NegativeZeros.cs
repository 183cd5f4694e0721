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
        return elementSize switch
        {
            2 => SplitTyped<ushort>(MemoryMarshal.Cast<byte, ushort>(cleaned), 0x7FFF, signs),
            4 => SplitTyped<uint>(MemoryMarshal.Cast<byte, uint>(cleaned), 0x7FFF_FFFFu, signs),
            _ => SplitTyped<ulong>(MemoryMarshal.Cast<byte, ulong>(cleaned), 0x7FFF_FFFF_FFFF_FFFFUL, signs),
        };
    }

    /// <summary>
    /// Sets the sign of the zero elements of <paramref name="values"/> from <paramref name="signs"/>; returns false
    /// when the values do not hold exactly <paramref name="zeros"/> elements equal to +0.0.
    /// </summary>
    public static bool Restore(Span<byte> values, int elementSize, ReadOnlySpan<byte> signs, int zeros) => elementSize switch
    {
        2 => RestoreTyped<ushort>(MemoryMarshal.Cast<byte, ushort>(values), 0x8000, signs, zeros),
        4 => RestoreTyped<uint>(MemoryMarshal.Cast<byte, uint>(values), 0x8000_0000u, signs, zeros),
        _ => RestoreTyped<ulong>(MemoryMarshal.Cast<byte, ulong>(values), 0x8000_0000_0000_0000UL, signs, zeros),
    };

    // Visits only the zero elements of either sign: a vectorised search for the elements whose magnitude bits are
    // all zero would need a masked compare, so both patterns are searched for with IndexOfAny.
    private static int SplitTyped<T>(Span<T> values, T magnitude, Span<byte> signs)
        where T : unmanaged, IEquatable<T>, System.Numerics.IBinaryInteger<T>
    {
        T negativeZero = ~magnitude;
        int zeros = 0;
        int at = 0;
        while (true)
        {
            int next = values[at..].IndexOfAny(default(T), negativeZero);
            if (next < 0)
            {
                return zeros;
            }

            at += next;
            if (values[at] != default)
            {
                signs[zeros >> 3] |= (byte)(1 << (zeros & 7));
                values[at] = default;
            }

            zeros++;
            at++;
        }
    }

    private static bool RestoreTyped<T>(Span<T> values, T negativeZero, ReadOnlySpan<byte> signs, int zeros)
        where T : unmanaged, IEquatable<T>, System.Numerics.IBinaryInteger<T>
    {
        int seen = 0;
        int at = 0;
        while (true)
        {
            int next = values[at..].IndexOf(default(T));
            if (next < 0)
            {
                return seen == zeros;
            }

            if (seen == zeros)
            {
                return false;
            }

            at += next;
            if (((signs[seen >> 3] >> (seen & 7)) & 1) != 0)
            {
                values[at] = negativeZero;
            }

            seen++;
            at++;
        }
    }
}
