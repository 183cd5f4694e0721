using NUnit.Framework;
using Z4Ai.Transforms;

namespace Z4Ai.Tests.Transforms;

public class FloatBitsTests
{
    [Test]
    public void Widen_EveryHalf_MatchesHardwareConversionAndNarrowsBack()
    {
        for (int h = 0; h <= ushort.MaxValue; h++)
        {
            ulong wide = FloatBits.Widen((ulong)h, FloatFormat.F16, FloatFormat.F32);
            Half half = BitConverter.UInt16BitsToHalf((ushort)h);
            if (Half.IsNaN(half))
            {
                // Payload kept at the top of the F32 mantissa, sign kept, never quietened.
                Assert.That(wide, Is.EqualTo(((ulong)(h & 0x8000) << 16) | 0x7F800000UL | ((ulong)(h & 0x3FF) << 13)));
            }
            else
            {
                Assert.That(wide, Is.EqualTo((ulong)BitConverter.SingleToUInt32Bits((float)half)), $"half 0x{h:X4}");
            }

            Assert.That(FloatBits.TryNarrow(wide, FloatFormat.F32, FloatFormat.F16, out ulong back), Is.True, $"half 0x{h:X4}");
            Assert.That(back, Is.EqualTo((ulong)h));
        }
    }

    [Test]
    public void Widen_EveryBFloat16_IsTheHighHalfOfF32()
    {
        for (int b = 0; b <= ushort.MaxValue; b++)
        {
            Assert.That(FloatBits.Widen((ulong)b, FloatFormat.BF16, FloatFormat.F32), Is.EqualTo((ulong)b << 16));
            Assert.That(FloatBits.TryNarrow((ulong)b << 16, FloatFormat.F32, FloatFormat.BF16, out ulong back), Is.True);
            Assert.That(back, Is.EqualTo((ulong)b));
        }
    }

    [Test]
    public void TryNarrow_RandomF32_AcceptsExactlyTheValuesHalfRepresents()
    {
        var random = new Random(17);
        int accepted = 0;
        for (int i = 0; i < 200_000; i++)
        {
            // Bias towards patterns with many low zero bits so both outcomes are common.
            uint bits = (uint)random.NextInt64() & (i % 2 == 0 ? 0xFFFFE000u : 0xFFFFFFFFu);
            float f = BitConverter.UInt32BitsToSingle(bits);
            bool ok = FloatBits.TryNarrow(bits, FloatFormat.F32, FloatFormat.F16, out ulong h);
            if (float.IsNaN(f))
            {
                Assert.That(ok, Is.EqualTo((bits & 0x1FFF) == 0));
                continue;
            }

            float viaHalf = (float)(Half)f;
            bool exact = BitConverter.SingleToUInt32Bits(viaHalf) == bits;
            Assert.That(ok, Is.EqualTo(exact), $"0x{bits:X8}");
            if (ok)
            {
                accepted++;
                Assert.That(BitConverter.HalfToUInt16Bits((Half)f), Is.EqualTo((ushort)h));
            }
        }

        Assert.That(accepted, Is.GreaterThan(1000));
    }

    [Test]
    public void TryNarrow_RandomF64_AcceptsExactlyTheValuesSingleRepresents()
    {
        var random = new Random(23);
        for (int i = 0; i < 200_000; i++)
        {
            ulong bits = (ulong)random.NextInt64() ^ ((ulong)random.Next(2) << 63);
            if (i % 2 == 0)
            {
                // A float widened, so the exponent is in range; sometimes with one stray low bit.
                float f = BitConverter.UInt32BitsToSingle((uint)random.NextInt64());
                bits = BitConverter.DoubleToUInt64Bits(f) | (i % 6 == 0 ? 1UL << random.Next(29) : 0);
            }

            double d = BitConverter.UInt64BitsToDouble(bits);
            bool ok = FloatBits.TryNarrow(bits, FloatFormat.F64, FloatFormat.F32, out ulong narrow);
            if (double.IsNaN(d))
            {
                Assert.That(ok, Is.EqualTo((bits & ((1UL << 29) - 1)) == 0));
                continue;
            }

            bool exact = BitConverter.DoubleToUInt64Bits((float)d) == bits;
            Assert.That(ok, Is.EqualTo(exact), $"0x{bits:X16}");
            if (ok)
            {
                Assert.That(narrow, Is.EqualTo((ulong)BitConverter.SingleToUInt32Bits((float)d)));
                Assert.That(FloatBits.Widen(narrow, FloatFormat.F32, FloatFormat.F64), Is.EqualTo(bits));
            }
        }
    }

    [Test]
    public void TryNarrow_SpecialValues_KeepBitPatterns()
    {
        // -0.0, smallest F16 subnormal, largest F16 finite, infinities, a NaN with payload in kept bits.
        uint[] exact = [0x80000000, 0x33800000, 0x477FE000, 0x7F800000, 0xFF800000, 0x7FC02000, 0xFFA00000];
        foreach (uint bits in exact)
        {
            Assert.That(FloatBits.TryNarrow(bits, FloatFormat.F32, FloatFormat.F16, out ulong h), Is.True, $"0x{bits:X8}");
            Assert.That(FloatBits.Widen(h, FloatFormat.F16, FloatFormat.F32), Is.EqualTo((ulong)bits));
        }

        // A NaN whose payload is only in dropped bits, F32 subnormals, a value above F16's range, half a subnormal.
        uint[] inexact = [0x7F800001, 0x00000001, 0x00400000, 0x47800000, 0x33000000, 0x3F800001];
        foreach (uint bits in inexact)
        {
            Assert.That(FloatBits.TryNarrow(bits, FloatFormat.F32, FloatFormat.F16, out _), Is.False, $"0x{bits:X8}");
        }
    }

    [Test]
    public void TryMultiply_RandomF32_MatchesHardwareProduct()
    {
        var random = new Random(31);
        int checkedCount = 0;
        for (int i = 0; i < 300_000; i++)
        {
            uint scale = (uint)random.NextInt64();
            if (i % 3 == 0)
            {
                scale &= 0x807FFFFF; // subnormal scales
            }
            else if (i % 3 == 1)
            {
                scale = (scale & 0x807FFFFF) | ((uint)random.Next(1, 30) << 23); // products that underflow
            }

            long code = random.Next(-300, 301);
            float s = BitConverter.UInt32BitsToSingle(scale);
            bool ok = FloatBits.TryMultiply(code, scale, FloatFormat.F32, out ulong product);
            if (!float.IsFinite(s) || s == 0)
            {
                Assert.That(ok, Is.False);
                continue;
            }

            float expected = code * s;
            if (float.IsInfinity(expected))
            {
                Assert.That(ok, Is.False);
                continue;
            }

            Assert.That(ok, Is.True);
            Assert.That(product, Is.EqualTo((ulong)BitConverter.SingleToUInt32Bits(expected)), $"{code} * 0x{scale:X8}");
            checkedCount++;
        }

        Assert.That(checkedCount, Is.GreaterThan(100_000));
    }

    [Test]
    public void TryMultiplyWide_RandomCodesAndScales_MatchF32ProductRoundedToBf16AndHalf()
    {
        var random = new Random(37);
        int checkedCount = 0;
        for (int i = 0; i < 200_000; i++)
        {
            uint scale = (uint)random.NextInt64();
            scale = (i % 4) switch
            {
                0 => scale & 0x807FFFFFu, // subnormal scales: products round to zero or subnormals
                1 => (scale & 0x807FFFFFu) | ((uint)random.Next(90, 160) << 23), // the range of weight scales
                2 => (scale & 0x807FFFFFu) | ((uint)random.Next(100, 118) << 23), // F16 subnormal products
                _ => scale,
            };

            long code = random.Next(-300, 301);
            float s = BitConverter.UInt32BitsToSingle(scale);
            float product = code * s;
            bool bfOk = FloatBits.TryMultiplyWide(code, scale, FloatFormat.BF16, out ulong bf);
            bool halfOk = FloatBits.TryMultiplyWide(code, scale, FloatFormat.F16, out ulong half);
            if (!float.IsFinite(s) || s == 0 || !float.IsFinite(product))
            {
                Assert.That(bfOk || halfOk, Is.False, $"{code} * 0x{scale:X8}");
                continue;
            }

            ushort expectedBf = (ushort)((BitConverter.SingleToUInt32Bits(product) + 0x7FFFu + ((BitConverter.SingleToUInt32Bits(product) >> 16) & 1u)) >> 16);
            Assert.That(bfOk, Is.EqualTo((expectedBf & 0x7F80) != 0x7F80), $"bf16 {code} * 0x{scale:X8}");
            if (bfOk)
            {
                Assert.That(bf, Is.EqualTo((ulong)expectedBf), $"bf16 {code} * 0x{scale:X8}");
            }

            Half expectedHalf = (Half)product;
            Assert.That(halfOk, Is.EqualTo(Half.IsFinite(expectedHalf)), $"f16 {code} * 0x{scale:X8}");
            if (halfOk)
            {
                Assert.That(half, Is.EqualTo((ulong)BitConverter.HalfToUInt16Bits(expectedHalf)), $"f16 {code} * 0x{scale:X8}");
                checkedCount++;
            }
        }

        Assert.That(checkedCount, Is.GreaterThan(50_000));
    }

    [Test]
    public void TryMultiply_RandomF64AndF16_MatchHardwareProduct()
    {
        var random = new Random(37);
        for (int i = 0; i < 100_000; i++)
        {
            ulong scale = (ulong)random.NextInt64() ^ ((ulong)random.Next(2) << 63);
            long code = random.Next(-1023, 1024);
            double s = BitConverter.UInt64BitsToDouble(scale);
            if (double.IsFinite(s) && s != 0 && double.IsFinite(code * s))
            {
                Assert.That(FloatBits.TryMultiply(code, scale, FloatFormat.F64, out ulong p), Is.True);
                Assert.That(p, Is.EqualTo(BitConverter.DoubleToUInt64Bits(code * s)));
            }

            ushort h = (ushort)random.Next(65536);
            Half hs = BitConverter.UInt16BitsToHalf(h);
            long c16 = random.Next(-2000, 2001);

            // The double product of a small integer and a half is exact, so one rounding to half is the reference.
            Half expected = (Half)(c16 * (double)hs);
            if (Half.IsFinite(hs) && hs != Half.Zero && Half.IsFinite(expected))
            {
                Assert.That(FloatBits.TryMultiply(c16, h, FloatFormat.F16, out ulong p16), Is.True);
                Assert.That(p16, Is.EqualTo((ulong)BitConverter.HalfToUInt16Bits(expected)), $"{c16} * 0x{h:X4}");
            }
        }
    }

    [Test]
    public void TryMultiply_CodeZero_GivesZeroWithTheScaleSign()
    {
        Assert.That(FloatBits.TryMultiply(0, 0x3F800000, FloatFormat.F32, out ulong p), Is.True);
        Assert.That(p, Is.EqualTo(0UL));
        Assert.That(FloatBits.TryMultiply(0, 0xBF800000, FloatFormat.F32, out p), Is.True);
        Assert.That(p, Is.EqualTo(0x80000000UL));
        Assert.That(FloatBits.TryMultiply(FloatBits.MaxCode(FloatFormat.F32) + 1, 0x3F800000, FloatFormat.F32, out _), Is.False);
    }
}
