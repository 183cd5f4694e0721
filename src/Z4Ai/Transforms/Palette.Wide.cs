using System.Buffers;

namespace Z4Ai.Transforms;

/// <summary>The search for an F32 scale behind a BF16/F16 group (<see cref="PaletteLayout.GroupedWide"/>).</summary>
internal static partial class Palette
{
    /// <summary>Codes tried for the smallest non-zero magnitude of a group (code 1 may be absent from short groups).</summary>
    private const int MaxFirstCode = 4;

    /// <summary>
    /// Looks for an F32 scale s and integer codes with every value equal to the F32 product code * s rounded to the
    /// group's 16-bit format (<see cref="FloatBits.TryMultiplyWide"/>): integer codes dequantised through F32, as
    /// frameworks do, so no 16-bit scale reproduces them. Every distinct value is checked exactly at the end.
    /// </summary>
    /// <remarks>
    /// Each value v pins the scale to an interval: s lies in [lo(v), hi(v)] / code, where [lo, hi] is the set of
    /// reals that round to v (widened a little for the F32 step). Walking the magnitudes upwards from the smallest
    /// (taken as code 1, 2, 3 or 4), each value's code is the one integer that interval allows, and the interval
    /// narrows; F32 scales inside what is left are then proven.
    /// </remarks>
    internal static bool TryAffineWide(ReadOnlySpan<ulong> sortedKeys, int bits, FloatFormat format, out long c0, out ulong span, out ulong scale)
    {
        c0 = 0;
        span = 0;
        scale = 0;
        ulong sign = 1UL << (bits - 1);
        double[] magnitudes = ArrayPool<double>.Shared.Rent(sortedKeys.Length);
        double[] halfUlps = ArrayPool<double>.Shared.Rent(sortedKeys.Length);
        try
        {
            int n = 0;
            foreach (ulong key in sortedKeys)
            {
                ulong v = FromKey(key, bits, KeyKind.SignMagnitude);
                if (FloatBits.IsNonFinite(v, format) || v == sign)
                {
                    return false; // NaN/Inf are no product; -0.0 is not 0 * a positive scale
                }

                if ((v & ~sign) != 0)
                {
                    magnitudes[n++] = Math.Abs(FloatBits.ToDouble(v, format));
                }
            }

            if (n == 0)
            {
                return false;
            }

            Array.Sort(magnitudes, 0, n);
            for (int i = 0; i < n; i++)
            {
                halfUlps[i] = HalfUlp(magnitudes[i], format);
            }

            for (int first = 1; first <= MaxFirstCode; first++)
            {
                if (TryScaleInterval(magnitudes.AsSpan(0, n), halfUlps.AsSpan(0, n), first, out double low, out double high)
                    && TryProveWide(sortedKeys, bits, format, low, high, out c0, out span, out scale))
                {
                    return true;
                }
            }

            return false;
        }
        finally
        {
            ArrayPool<double>.Shared.Return(magnitudes);
            ArrayPool<double>.Shared.Return(halfUlps);
        }
    }

    // Half the spacing of the format at a positive finite value (its last mantissa bit's unit over two), widened by
    // 2^-20 of the value for the rounding to F32 that precedes the narrowing.
    private static double HalfUlp(double value, FloatFormat format)
    {
        int exponent = Math.ILogB(value);
        int unit = Math.Max(exponent, 1 - format.Bias) - format.MantissaBits;
        return Math.ScaleB(1.0, unit - 1) + (value / 1048576.0);
    }

    private static bool TryScaleInterval(ReadOnlySpan<double> magnitudes, ReadOnlySpan<double> halfUlps, int firstCode, out double low, out double high)
    {
        low = (magnitudes[0] - halfUlps[0]) / firstCode;
        high = (magnitudes[0] + halfUlps[0]) / firstCode;
        for (int i = 1; i < magnitudes.Length; i++)
        {
            double lo = magnitudes[i] - halfUlps[i];
            double hi = magnitudes[i] + halfUlps[i];
            double codeLow = Math.Ceiling(lo / high);
            double codeHigh = Math.Floor(hi / low);
            if (codeLow > codeHigh || codeHigh > MaxCode(FloatFormat.F32))
            {
                return false;
            }

            if (codeLow < codeHigh)
            {
                continue; // not yet pinned down; the exact proof still covers this value
            }

            low = Math.Max(low, lo / codeLow);
            high = Math.Min(high, hi / codeLow);
            if (low > high)
            {
                return false;
            }
        }

        return low > 0;
    }

    private static long MaxCode(FloatFormat format) => FloatBits.MaxCode(format);

    // Tries F32 scales inside the interval, each proven on every value: first the ones with the fewest significant bits
    // (multiples of a power of two near the interval's width, coarsest first, nearest its middle), whose zero low
    // mantissa bits cost the codebook almost nothing; then the middle, a quarter and three quarters of the interval.
    private static bool TryProveWide(
        ReadOnlySpan<ulong> sortedKeys, int bits, FloatFormat format, double low, double high, out long c0, out ulong span, out ulong scale)
    {
        c0 = 0;
        span = 0;
        scale = 0;
        Span<double> candidates = stackalloc double[8];
        int count = 0;
        double middle = low + ((high - low) / 2);
        if (high > low)
        {
            // The interval is at least one unit wide, so the multiple of the unit nearest its middle lies inside it; a
            // multiple of two or four units may too.
            double unit = Math.ScaleB(1.0, Math.ILogB(high - low) + 2);
            for (int i = 0; i < 5; i++, unit /= 2)
            {
                double candidate = Math.Round(middle / unit) * unit;
                if (candidate >= low && candidate <= high)
                {
                    candidates[count++] = candidate;
                }
            }
        }

        candidates[count++] = middle;
        candidates[count++] = low + ((high - low) * 0.25);
        candidates[count++] = low + ((high - low) * 0.75);
        ulong tried = 0;
        foreach (double value in candidates[..count])
        {
            float candidate = (float)value;
            ulong s = BitConverter.SingleToUInt32Bits(candidate);
            if (!float.IsNormal(candidate) || candidate <= 0 || s == tried)
            {
                continue;
            }

            tried = s;
            long min = long.MaxValue;
            long max = long.MinValue;
            bool exact = true;
            foreach (ulong key in sortedKeys)
            {
                if (!TryCodeWide(FromKey(key, bits, KeyKind.SignMagnitude), s, format, out long code))
                {
                    exact = false;
                    break;
                }

                min = Math.Min(min, code);
                max = Math.Max(max, code);
            }

            if (exact && max - min < MaxEntries)
            {
                c0 = min;
                span = (ulong)(max - min);
                scale = s;
                return true;
            }
        }

        return false;
    }
}
