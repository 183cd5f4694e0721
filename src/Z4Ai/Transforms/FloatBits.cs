namespace Z4Ai.Transforms;

/// <summary>An IEEE 754-style binary format: one sign bit, <see cref="ExponentBits"/>, <see cref="MantissaBits"/>.</summary>
internal readonly record struct FloatFormat(int ExponentBits, int MantissaBits)
{
    /// <summary>IEEE half precision.</summary>
    public static FloatFormat F16 => new(5, 10);

    /// <summary>bfloat16.</summary>
    public static FloatFormat BF16 => new(8, 7);

    /// <summary>IEEE single precision.</summary>
    public static FloatFormat F32 => new(8, 23);

    /// <summary>IEEE double precision.</summary>
    public static FloatFormat F64 => new(11, 52);

    /// <summary>Sign, exponent and mantissa bits together.</summary>
    public int TotalBits => 1 + ExponentBits + MantissaBits;

    /// <summary>The exponent bias.</summary>
    public int Bias => (1 << (ExponentBits - 1)) - 1;

    /// <summary>The all-ones biased exponent of infinities and NaNs.</summary>
    public int MaxBiasedExponent => (1 << ExponentBits) - 1;

    /// <summary>The exponent of the last mantissa bit of a subnormal: the smallest positive value is 2^this.</summary>
    public int MinUnitExponent => 1 - Bias - MantissaBits;

    /// <summary>The format of a float dtype's elements (a C64 element is two F32 values), or null.</summary>
    public static FloatFormat? Of(DType dtype) => dtype switch
    {
        DType.F16 => F16,
        DType.BF16 => BF16,
        DType.F32 or DType.C64 => F32,
        DType.F64 => F64,
        _ => null,
    };
}

/// <summary>
/// Exact conversions and products on float bit patterns, in integer arithmetic only, so that what a frame means
/// never depends on how a host's floating-point unit rounds or treats NaN payloads.
/// </summary>
internal static class FloatBits
{
    /// <summary>
    /// Converts <paramref name="bits"/> from a narrower format to a wider one (at least as many exponent and
    /// mantissa bits). Every value is exact; a NaN keeps its payload, shifted to the top of the wider mantissa.
    /// </summary>
    public static ulong Widen(ulong bits, FloatFormat from, FloatFormat to)
    {
        int fm = from.MantissaBits;
        int tm = to.MantissaBits;
        ulong sign = (bits >> (from.TotalBits - 1)) & 1;
        int exponent = (int)((bits >> fm) & (ulong)from.MaxBiasedExponent);
        ulong mantissa = bits & Elements.LowMask(fm);
        ulong signOut = sign << (to.TotalBits - 1);
        if (exponent == from.MaxBiasedExponent)
        {
            return signOut | ((ulong)to.MaxBiasedExponent << tm) | (mantissa << (tm - fm));
        }

        if (exponent == 0)
        {
            if (mantissa == 0)
            {
                return signOut;
            }

            // Subnormal: value = mantissa * 2^MinUnitExponent; its leading one is bit p.
            int p = BitPacking.BitsFor(mantissa) - 1;
            int unbiased = p + from.MinUnitExponent;
            if (unbiased >= 1 - to.Bias)
            {
                ulong field = (mantissa - (1UL << p)) << (tm - p);
                return signOut | ((ulong)(unbiased + to.Bias) << tm) | field;
            }

            // Still subnormal in the wider format (same exponent range): only the unit changes.
            return signOut | (mantissa << (from.MinUnitExponent - to.MinUnitExponent));
        }

        return signOut | ((ulong)(exponent - from.Bias + to.Bias) << tm) | (mantissa << (tm - fm));
    }

    /// <summary>
    /// Converts <paramref name="bits"/> to a narrower format when that is exact, that is when
    /// <see cref="Widen"/> of the result gives back <paramref name="bits"/> (checked before returning true).
    /// </summary>
    public static bool TryNarrow(ulong bits, FloatFormat from, FloatFormat to, out ulong narrow)
    {
        narrow = 0;
        int fm = from.MantissaBits;
        int tm = to.MantissaBits;
        ulong sign = (bits >> (from.TotalBits - 1)) & 1;
        int exponent = (int)((bits >> fm) & (ulong)from.MaxBiasedExponent);
        ulong mantissa = bits & Elements.LowMask(fm);
        ulong signOut = sign << (to.TotalBits - 1);
        int drop = fm - tm;
        ulong candidate;

        // The common case, a normal value that stays normal: exact exactly when the dropped mantissa bits are zero.
        int unbiasedNormal = exponent - from.Bias;
        if (exponent != 0 && exponent != from.MaxBiasedExponent
            && unbiasedNormal >= 1 - to.Bias && unbiasedNormal <= to.MaxBiasedExponent - 1 - to.Bias)
        {
            if ((mantissa & Elements.LowMask(drop)) != 0)
            {
                return false;
            }

            narrow = signOut | ((ulong)(unbiasedNormal + to.Bias) << tm) | (mantissa >> drop);
            return true;
        }

        if (exponent == from.MaxBiasedExponent)
        {
            // Infinity, or a NaN whose payload survives the shift (a payload only in dropped bits does not).
            if ((mantissa & Elements.LowMask(drop)) != 0)
            {
                return false;
            }

            candidate = signOut | ((ulong)to.MaxBiasedExponent << tm) | (mantissa >> drop);
        }
        else if (exponent == 0 && mantissa == 0)
        {
            candidate = signOut;
        }
        else
        {
            // value = significand * 2^unit with the implicit one made explicit for normals.
            ulong significand = exponent == 0 ? mantissa : mantissa | (1UL << fm);
            int unit = exponent == 0 ? from.MinUnitExponent : exponent - from.Bias - fm;
            int p = BitPacking.BitsFor(significand) - 1;
            int unbiased = p + unit;
            if (unbiased > to.MaxBiasedExponent - 1 - to.Bias)
            {
                return false;
            }

            int targetUnit = unbiased >= 1 - to.Bias ? unbiased - tm : to.MinUnitExponent;
            int shift = targetUnit - unit;
            ulong field;
            if (shift <= 0)
            {
                field = significand << -shift;
            }
            else
            {
                if (shift >= 64 || (significand & Elements.LowMask(shift)) != 0)
                {
                    return false;
                }

                field = significand >> shift;
            }

            candidate = unbiased >= 1 - to.Bias
                ? signOut | ((ulong)(unbiased + to.Bias) << tm) | (field & Elements.LowMask(tm))
                : signOut | field;
        }

        if (Widen(candidate, to, from) != bits)
        {
            return false;
        }

        narrow = candidate;
        return true;
    }

    /// <summary>The largest |code| <see cref="TryMultiply"/> accepts for a format: the product of the code and a
    /// significand must stay below 2^63, and codes come from small integer quantisers.</summary>
    public static long MaxCode(FloatFormat format) => Math.Min(1L << 20, (1L << (62 - format.MantissaBits)) - 1);

    /// <summary>
    /// The correctly rounded (round half to even) product of an integer <paramref name="code"/> and a float
    /// <paramref name="scaleBits"/> in <paramref name="format"/>, which is what an IEEE multiply of the code
    /// (converted exactly) by the scale returns. Computed with integers only.
    /// </summary>
    /// <returns>False when the scale is zero, infinite or NaN, |code| exceeds <see cref="MaxCode"/>, or the product
    /// overflows to infinity.</returns>
    public static bool TryMultiply(long code, ulong scaleBits, FloatFormat format, out ulong product)
    {
        product = 0;
        int fm = format.MantissaBits;
        int exponent = (int)((scaleBits >> fm) & (ulong)format.MaxBiasedExponent);
        ulong mantissa = scaleBits & Elements.LowMask(fm);
        if (exponent == format.MaxBiasedExponent || (exponent == 0 && mantissa == 0) || code < -MaxCode(format) || code > MaxCode(format))
        {
            return false;
        }

        ulong sign = ((scaleBits >> (format.TotalBits - 1)) & 1) ^ (code < 0 ? 1UL : 0UL);
        ulong signOut = sign << (format.TotalBits - 1);
        if (code == 0)
        {
            product = signOut;
            return true;
        }

        ulong significand = exponent == 0 ? mantissa : mantissa | (1UL << fm);
        int unit = exponent == 0 ? format.MinUnitExponent : exponent - format.Bias - fm;
        return TryRound(signOut, (ulong)Math.Abs(code) * significand, unit, format, out product);
    }

    /// <summary>
    /// The correctly rounded (round half to even) product of an integer <paramref name="code"/> and an F32 scale
    /// <paramref name="scaleBits"/>, computed in F32 and then rounded to <paramref name="format"/> (BF16 or F16):
    /// what <c>(narrow)((float)code * scale)</c> returns, the usual way integer codes are dequantised into a
    /// 16-bit float tensor. Integer arithmetic only.
    /// </summary>
    /// <returns>False when <see cref="TryMultiply"/> fails in F32 or the narrowed value overflows to infinity.</returns>
    public static bool TryMultiplyWide(long code, ulong scaleBits, FloatFormat format, out ulong product)
    {
        product = 0;
        if (!TryMultiply(code, scaleBits, FloatFormat.F32, out ulong wide))
        {
            return false;
        }

        return TryRoundNarrow(wide, FloatFormat.F32, format, out product);
    }

    /// <summary>Rounds a finite value of <paramref name="from"/> to the narrower <paramref name="to"/> (round half to
    /// even, as an IEEE conversion does); false when it is not finite or overflows to infinity.</summary>
    public static bool TryRoundNarrow(ulong bits, FloatFormat from, FloatFormat to, out ulong narrow)
    {
        narrow = 0;
        int fm = from.MantissaBits;
        int exponent = (int)((bits >> fm) & (ulong)from.MaxBiasedExponent);
        if (exponent == from.MaxBiasedExponent)
        {
            return false;
        }

        ulong mantissa = bits & Elements.LowMask(fm);
        ulong signOut = ((bits >> (from.TotalBits - 1)) & 1) << (to.TotalBits - 1);
        if (exponent == 0 && mantissa == 0)
        {
            narrow = signOut;
            return true;
        }

        ulong significand = exponent == 0 ? mantissa : mantissa | (1UL << fm);
        int unit = exponent == 0 ? from.MinUnitExponent : exponent - from.Bias - fm;
        return TryRound(signOut, significand, unit, to, out narrow);
    }

    // value = p * 2^unit (p > 0, p < 2^63) rounded half to even into the format, with the sign bits given; false on
    // overflow to infinity.
    private static bool TryRound(ulong signOut, ulong p, int unit, FloatFormat format, out ulong result)
    {
        result = 0;
        int fm = format.MantissaBits;

        // Choose the unit of the result's last mantissa bit: normalised to fm+1 significant bits, but never below
        // the subnormal unit.
        int resultUnit = Math.Max(unit + BitPacking.BitsFor(p) - (fm + 1), format.MinUnitExponent);
        int shift = resultUnit - unit;
        ulong r;
        if (shift <= 0)
        {
            r = p << -shift;
        }
        else if (shift >= 64)
        {
            r = 0; // p < 2^63 <= half a unit: rounds to zero
        }
        else
        {
            r = p >> shift;
            ulong rest = p & Elements.LowMask(shift);
            ulong half = 1UL << (shift - 1);
            if (rest > half || (rest == half && (r & 1) != 0))
            {
                r++;
            }
        }

        if (r == 1UL << (fm + 1))
        {
            r >>= 1;
            resultUnit++;
        }

        int biased;
        ulong field;
        if (r >= 1UL << fm)
        {
            biased = resultUnit - format.MinUnitExponent + 1;
            field = r - (1UL << fm);
        }
        else
        {
            biased = 0;
            field = r;
        }

        if (biased >= format.MaxBiasedExponent)
        {
            return false;
        }

        result = signOut | ((ulong)biased << fm) | field;
        return true;
    }

    /// <summary>The value of a finite float bit pattern as a double (exact for formats no wider than F64).</summary>
    public static double ToDouble(ulong bits, FloatFormat format) =>
        BitConverter.UInt64BitsToDouble(format == FloatFormat.F64 ? bits : Widen(bits, format, FloatFormat.F64));

    /// <summary>True when the bit pattern is an infinity or a NaN.</summary>
    public static bool IsNonFinite(ulong bits, FloatFormat format) =>
        (int)((bits >> format.MantissaBits) & (ulong)format.MaxBiasedExponent) == format.MaxBiasedExponent;
}
