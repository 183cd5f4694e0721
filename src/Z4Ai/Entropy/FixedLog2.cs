using System.Numerics;

namespace Z4Ai.Entropy;

/// <summary>
/// Base-2 logarithms in Q16 fixed point computed with integer arithmetic only, so the encoder's cost estimates (and
/// therefore its choices and output bytes) are the same on every machine, unlike <see cref="Math.Log2(double)"/>,
/// whose last bit depends on the C runtime.
/// </summary>
internal static class FixedLog2
{
    /// <summary>One bit in the Q16 scale of <see cref="Log2Q16"/>.</summary>
    public const int One = 1 << 16;

    /// <summary>Returns floor(log2(<paramref name="x"/>) * 65536) for x ≥ 1 (0 for x = 0, which callers never weigh).</summary>
    public static int Log2Q16(ulong x)
    {
        if (x <= 1)
        {
            return 0;
        }

        int integerPart = 63 - BitOperations.LeadingZeroCount(x);

        // Normalise the mantissa to [2^31, 2^32) (1.0 is 2^31) and extract fraction bits by repeated squaring:
        // squaring doubles the logarithm, so each time the square reaches 2.0 the next fraction bit is 1.
        ulong m = integerPart >= 31 ? x >> (integerPart - 31) : x << (31 - integerPart);
        int fraction = 0;
        for (int bit = 15; bit >= 0; bit--)
        {
            m = (m * m) >> 31;
            if (m >= 1UL << 32)
            {
                m >>= 1;
                fraction |= 1 << bit;
            }
        }

        return (integerPart << 16) | fraction;
    }
}
