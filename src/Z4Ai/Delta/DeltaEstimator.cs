using System.Numerics;

namespace Z4Ai.Delta;

/// <summary>
/// A cheap guess at how well a transformed chunk will compress, so the encoder can code only the more promising of
/// XOR and Subtract instead of both: the order-0 entropy of each byte position within a lane (the byte planes the
/// codec splits), summed. Integer fixed-point arithmetic throughout, so the encoder's choice, and therefore its
/// output, is the same on every machine.
/// </summary>
internal static class DeltaEstimator
{
    /// <summary>Fractional bits of the fixed-point results.</summary>
    public const int FractionBits = 16;

    /// <summary>
    /// Estimates the compressed size of <paramref name="data"/>, in bits scaled by 2^<see cref="FractionBits"/>, as the
    /// sum over byte planes (byte position modulo <paramref name="laneSize"/>) of each plane's order-0 entropy.
    /// </summary>
    public static long EstimateBits(ReadOnlySpan<byte> data, int laneSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(laneSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(laneSize, 8);
        Span<int> counts = stackalloc int[256 * 8];
        counts.Clear();
        int whole = data.Length - (data.Length % laneSize);
        for (int i = 0; i < whole; i += laneSize)
        {
            for (int k = 0; k < laneSize; k++)
            {
                counts[(k << 8) + data[i + k]]++;
            }
        }

        long total = 0;
        for (int k = 0; k < laneSize; k++)
        {
            total += PlaneBits(counts.Slice(k << 8, 256), whole / laneSize);
        }

        // Tail bytes are stored as they are.
        return total + ((long)(data.Length - whole) * 8 << FractionBits);
    }

    /// <summary><c>n log2 n - sum c log2 c</c>: the order-0 entropy of a plane of <paramref name="n"/> symbols, in fixed point.</summary>
    private static long PlaneBits(ReadOnlySpan<int> counts, int n)
    {
        if (n == 0)
        {
            return 0;
        }

        long bits = n * Log2(n);
        foreach (int c in counts)
        {
            if (c > 1)
            {
                bits -= c * Log2(c);
            }
        }

        return bits;
    }

    /// <summary>
    /// log2 of a positive integer with <see cref="FractionBits"/> fractional bits: the integer part from the leading
    /// bit, the fraction digit by digit by repeated squaring of the normalised mantissa.
    /// </summary>
    internal static long Log2(long x)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(x, 1);
        int integer = BitOperations.Log2((ulong)x);
        // Mantissa in [1, 2) as a Q31 fixed-point number.
        ulong m = integer >= 31 ? (ulong)x >> (integer - 31) : (ulong)x << (31 - integer);
        long result = (long)integer << FractionBits;
        for (int bit = FractionBits - 1; bit >= 0; bit--)
        {
            m = (m * m) >> 31;
            if (m >= 1UL << 32)
            {
                m >>= 1;
                result |= 1L << bit;
            }
        }

        return result;
    }
}
