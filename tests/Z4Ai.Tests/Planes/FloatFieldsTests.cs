using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Planes;

namespace Z4Ai.Tests.Planes;

public class FloatFieldsTests
{
    private const byte Sentinel = 0x5A;

    private delegate int SplitKernel(DType dtype, ReadOnlySpan<byte> source, Span<byte> exponents, Span<byte> signMantissa);

    private delegate int MergeKernel(DType dtype, ReadOnlySpan<byte> exponents, ReadOnlySpan<byte> signMantissa, Span<byte> destination);

    private static SplitKernel SplitAt(KernelWidth width) => width switch
    {
        KernelWidth.Vector128 => FloatFields.SplitVector128,
        KernelWidth.Vector256 => FloatFields.SplitVector256,
        _ => FloatFields.SplitVector512,
    };

    private static MergeKernel MergeAt(KernelWidth width) => width switch
    {
        KernelWidth.Vector128 => FloatFields.MergeVector128,
        KernelWidth.Vector256 => FloatFields.MergeVector256,
        _ => FloatFields.MergeVector512,
    };

    private static int ElementSize(DType dtype) => dtype == DType.F32 ? 4 : 2;

    [Test]
    public void SplitVectorWidth_AwkwardLengths_MatchesScalarOracle(
        [Values] KernelWidth width, [Values(DType.BF16, DType.F16, DType.F32)] DType dtype)
    {
        KernelWidths.RequireAccelerated(width);
        CheckSplitWidth(width, dtype, KernelWidths.AwkwardCounts);
    }

    [Test]
    public void MergeVectorWidth_AwkwardLengths_MatchesScalarOracle(
        [Values] KernelWidth width, [Values(DType.BF16, DType.F16, DType.F32)] DType dtype)
    {
        KernelWidths.RequireAccelerated(width);
        CheckMergeWidth(width, dtype, KernelWidths.AwkwardCounts);
    }

    // Runs whatever the hardware, so the portable fallbacks (taken under DOTNET_Enable*=0) are checked too.
    [Test]
    public void VectorWidth_SoftwareEmulationOrHardware_MatchesScalarOracle([Values] KernelWidth width)
    {
        foreach (DType dtype in new[] { DType.BF16, DType.F16, DType.F32 })
        {
            CheckSplitWidth(width, dtype, [0, 65, 200]);
            CheckMergeWidth(width, dtype, [0, 65, 200]);
        }
    }

    [Test]
    public void Split_AwkwardLengths_MatchesScalarOracleAndRoundTrips([Values(DType.BF16, DType.F16, DType.F32)] DType dtype)
    {
        int planes = FloatFields.GetPlaneCount(dtype);
        foreach (int count in KernelWidths.AwkwardCounts)
        {
            byte[] source = KernelWidths.RandomBytes(count * ElementSize(dtype), count);
            var expectedExponents = new byte[count];
            var expectedPlanes = new byte[count * planes];
            FloatFields.SplitScalar(dtype, source, expectedExponents, expectedPlanes);
            var exponents = new byte[count];
            var signMantissa = new byte[count * planes];
            FloatFields.Split(dtype, source, exponents, signMantissa);
            Assert.That(exponents, Is.EqualTo(expectedExponents), $"count {count}");
            Assert.That(signMantissa, Is.EqualTo(expectedPlanes), $"count {count}");

            var restored = new byte[source.Length];
            FloatFields.Merge(dtype, exponents, signMantissa, restored);
            Assert.That(restored, Is.EqualTo(source), $"count {count}");
        }
    }

    [Test]
    public void SplitThenMerge_RandomElementStreams_IsIdentity()
    {
        Arbitrary<(byte[] Data, DType DType)> arb =
            (from data in ArbMap.Default.GeneratorFor<byte[]>()
             from dtype in Gen.Elements(DType.BF16, DType.F16, DType.F32)
             select (data, dtype)).ToArbitrary();
        Prop.ForAll(arb, input =>
        {
            int size = ElementSize(input.DType);
            byte[] data = input.Data[..(input.Data.Length / size * size)];
            int count = data.Length / size;
            var exponents = new byte[count];
            var signMantissa = new byte[count * FloatFields.GetPlaneCount(input.DType)];
            var restored = new byte[data.Length];
            FloatFields.Split(input.DType, data, exponents, signMantissa);
            FloatFields.Merge(input.DType, exponents, signMantissa, restored);
            return restored.AsSpan().SequenceEqual(data);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(300));
    }

    [Test]
    public void Merge_RandomFieldStreams_MatchesScalarOracle()
    {
        // Arbitrary field bytes, including F16 bits the format cannot hold: every path must ignore them alike.
        Arbitrary<(int Count, DType DType, int Seed)> arb =
            (from count in Gen.Choose(0, 600)
             from dtype in Gen.Elements(DType.BF16, DType.F16, DType.F32)
             from seed in Gen.Choose(0, int.MaxValue)
             select (count, dtype, seed)).ToArbitrary();
        Prop.ForAll(arb, input =>
        {
            byte[] exponents = KernelWidths.RandomBytes(input.Count, input.Seed);
            byte[] signMantissa = KernelWidths.RandomBytes(input.Count * FloatFields.GetPlaneCount(input.DType), ~input.Seed);
            var expected = new byte[input.Count * ElementSize(input.DType)];
            var actual = new byte[expected.Length];
            FloatFields.MergeScalar(input.DType, exponents, signMantissa, expected);
            FloatFields.Merge(input.DType, exponents, signMantissa, actual);
            return actual.AsSpan().SequenceEqual(expected);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(200));
    }

    [Test]
    public void SplitThenMerge_SpecialValues_RoundTripBitExact([Values(DType.BF16, DType.F16, DType.F32)] DType dtype)
    {
        uint[] bits = dtype switch
        {
            // ±0, ±inf, quiet and signalling NaNs with payloads, smallest/largest subnormal, smallest normal, max.
            DType.F32 =>
            [
                0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00001, 0x7F800001, 0x7FBFFFFF,
                0xFFFFFFFF, 0x00000001, 0x807FFFFF, 0x00800000, 0x7F7FFFFF, 0xFF7FFFFF, 0x3F800000, 0xBFC00000,
            ],
            DType.F16 =>
            [
                0x0000, 0x8000, 0x7C00, 0xFC00, 0x7E00, 0xFE01, 0x7C01, 0x7DFF, 0xFFFF, 0x0001, 0x83FF, 0x0400,
                0x7BFF, 0xFBFF, 0x3C00, 0xBE00,
            ],
            _ =>
            [
                0x0000, 0x8000, 0x7F80, 0xFF80, 0x7FC0, 0xFFC1, 0x7F81, 0x7FBF, 0xFFFF, 0x0001, 0x807F, 0x0080,
                0x7F7F, 0xFF7F, 0x3F80, 0xBFC0,
            ],
        };

        // Repeat the values past a 64-element block so every vector width sees them, not only the scalar tail.
        int size = ElementSize(dtype);
        int count = bits.Length * 9;
        var source = new byte[count * size];
        for (int i = 0; i < count; i++)
        {
            WriteElement(source, dtype, i, bits[i % bits.Length]);
        }

        var exponents = new byte[count];
        var signMantissa = new byte[count * FloatFields.GetPlaneCount(dtype)];
        FloatFields.Split(dtype, source, exponents, signMantissa);
        var restored = new byte[source.Length];
        FloatFields.Merge(dtype, exponents, signMantissa, restored);
        Assert.That(restored, Is.EqualTo(source));

        var scalarRestored = new byte[source.Length];
        FloatFields.MergeScalar(dtype, exponents, signMantissa, scalarRestored);
        Assert.That(scalarRestored, Is.EqualTo(source));
    }

    [Test]
    public void Split_RandomF32_FieldsMatchIeeeDecomposition()
    {
        const int count = 3000;
        byte[] source = KernelWidths.RandomBytes(count * 4, 17);
        var exponents = new byte[count];
        var planes = new byte[count * 3];
        FloatFields.Split(DType.F32, source, exponents, planes);
        for (int i = 0; i < count; i++)
        {
            float value = BitConverter.UInt32BitsToSingle(BinaryPrimitives.ReadUInt32LittleEndian(source.AsSpan(i * 4)));
            int mantissa = planes[i] | (planes[count + i] << 8) | ((planes[(2 * count) + i] >> 1) << 16);
            bool negative = (planes[(2 * count) + i] & 1) != 0;
            CheckDecomposition(value, float.IsNaN(value) || float.IsInfinity(value), float.IsNegative(value), float.IsNormal(value),
                float.IsNormal(value) ? float.ILogB(value) : 0, exponents[i], negative, mantissa, 23, 127, $"element {i}");
        }
    }

    [Test]
    public void Split_RandomBF16_FieldsMatchIeeeDecomposition()
    {
        const int count = 3000;
        byte[] source = KernelWidths.RandomBytes(count * 2, 18);
        var exponents = new byte[count];
        var planes = new byte[count];
        FloatFields.Split(DType.BF16, source, exponents, planes);
        for (int i = 0; i < count; i++)
        {
            // BF16 is the top half of an F32, so the F32 decomposition of the widened value is the reference.
            float value = BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(source.AsSpan(i * 2)) << 16);
            CheckDecomposition(value, float.IsNaN(value) || float.IsInfinity(value), float.IsNegative(value), float.IsNormal(value),
                float.IsNormal(value) ? float.ILogB(value) : 0, exponents[i], (planes[i] & 1) != 0, planes[i] >> 1, 7, 127, $"element {i}");
        }
    }

    [Test]
    public void Split_RandomF16_FieldsMatchIeeeDecomposition()
    {
        const int count = 3000;
        byte[] source = KernelWidths.RandomBytes(count * 2, 19);
        var exponents = new byte[count];
        var planes = new byte[count * 2];
        FloatFields.Split(DType.F16, source, exponents, planes);
        for (int i = 0; i < count; i++)
        {
            Half value = BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(source.AsSpan(i * 2)));
            Assert.That(planes[count + i], Is.LessThan(8), $"element {i}");
            int mantissa = planes[i] | ((planes[count + i] & 3) << 8);
            CheckDecomposition((float)value, Half.IsNaN(value) || Half.IsInfinity(value), Half.IsNegative(value), Half.IsNormal(value),
                Half.IsNormal(value) ? Half.ILogB(value) : 0, exponents[i], (planes[count + i] & 4) != 0, mantissa, 10, 15, $"element {i}");
        }
    }

    [Test]
    public void SplitScalar_KnownValues_ProduceDocumentedLayout()
    {
        // BF16: 1.0 = 0x3F80, -2.0 = 0xC000, 1.9921875 = 0x3FFF.
        AssertFields(DType.BF16, [0x80, 0x3F, 0x00, 0xC0, 0xFF, 0x3F], [0x7F, 0x80, 0x7F], [0x00, 0x01, 0xFE]);

        // F16: -65504 = 0xFBFF (exponent 30, mantissa 0x3FF, sign), 1.0 = 0x3C00.
        AssertFields(DType.F16, [0xFF, 0xFB, 0x00, 0x3C], [0x1E, 0x0F], [0xFF, 0x00, 0x07, 0x00]);

        // F32: 1.0f = 0x3F800000; -1.5f = 0xBFC00000 (mantissa bit 22 set, sign).
        AssertFields(DType.F32, [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0xC0, 0xBF], [0x7F, 0x7F], [0x00, 0x00, 0x00, 0x00, 0x00, 0x81]);
    }

    [Test]
    public void MergeScalar_F16BitsOutsideTheFields_AreIgnored()
    {
        var withJunk = new byte[2];
        var clean = new byte[2];
        FloatFields.MergeScalar(DType.F16, [0xFE], [0x12, 0xFD], withJunk);
        FloatFields.MergeScalar(DType.F16, [0x1E], [0x12, 0x05], clean);
        Assert.That(withJunk, Is.EqualTo(clean));
    }

    [Test]
    public void GetPlaneCountAndIsSupported_EveryDType_AgreeWithTheLayout()
    {
        foreach (DType dtype in Enum.GetValues<DType>())
        {
            bool supported = dtype is DType.BF16 or DType.F16 or DType.F32;
            Assert.That(FloatFields.IsSupported(dtype), Is.EqualTo(supported), dtype.ToString());
            if (supported)
            {
                Assert.That(FloatFields.GetPlaneCount(dtype), Is.EqualTo(dtype switch { DType.BF16 => 1, DType.F16 => 2, _ => 3 }), dtype.ToString());
            }
            else
            {
                Assert.That(() => FloatFields.GetPlaneCount(dtype), Throws.InstanceOf<ArgumentOutOfRangeException>(), dtype.ToString());
            }
        }
    }

    [Test]
    public void Split_UnsupportedDType_ThrowsArgumentOutOfRange() =>
        Assert.That(() => FloatFields.Split(DType.F64, new byte[8], new byte[1], new byte[7]), Throws.InstanceOf<ArgumentOutOfRangeException>());

    [Test]
    public void Split_SourceNotMultipleOfElementSize_ThrowsArgumentException()
    {
        Assert.That(() => FloatFields.Split(DType.F32, new byte[10], new byte[3], new byte[9]), Throws.ArgumentException);
        Assert.That(() => FloatFields.Merge(DType.BF16, new byte[3], new byte[3], new byte[5]), Throws.ArgumentException);
    }

    [Test]
    public void SplitAndMerge_OutputsOneByteShort_ThrowArgumentException()
    {
        Assert.That(() => FloatFields.Split(DType.F16, new byte[200], new byte[99], new byte[200]), Throws.ArgumentException);
        Assert.That(() => FloatFields.Split(DType.F16, new byte[200], new byte[100], new byte[199]), Throws.ArgumentException);
        Assert.That(() => FloatFields.MergeVector256(DType.F32, new byte[64], new byte[191], new byte[256]), Throws.ArgumentException);
        Assert.That(() => FloatFields.Split(DType.F16, new byte[200], new byte[100], new byte[200]), Throws.Nothing);
    }

    [Test]
    public void Split_OverlappingSpans_ThrowsArgumentException()
    {
        var buffer = new byte[400];
        Assert.That(() => FloatFields.Split(DType.BF16, buffer.AsSpan(0, 200), buffer.AsSpan(150, 100), buffer.AsSpan(300, 100)), Throws.ArgumentException);
        Assert.That(() => FloatFields.SplitVector512(DType.BF16, buffer.AsSpan(0, 200), buffer.AsSpan(200, 100), buffer.AsSpan(250, 100)), Throws.ArgumentException);
    }

    private static void CheckDecomposition(
        float value, bool allOnes, bool isNegative, bool isNormal, int unbiased, byte exponent, bool sign, int mantissa,
        int mantissaBits, int bias, string where)
    {
        int expected = allOnes ? (2 * bias) + 1 : isNormal ? unbiased + bias : 0;
        Assert.That(exponent, Is.EqualTo(expected), where);
        Assert.That(sign, Is.EqualTo(isNegative), where);
        if (isNormal)
        {
            // value = ±(1 + m / 2^bits) * 2^(e - bias), exact in double for these widths.
            double rebuilt = (1 + (mantissa / Math.Pow(2, mantissaBits))) * Math.Pow(2, exponent - bias) * (sign ? -1 : 1);
            Assert.That(rebuilt, Is.EqualTo((double)value), where);
        }
        else if (!allOnes)
        {
            double rebuilt = mantissa / Math.Pow(2, mantissaBits) * Math.Pow(2, 1 - bias) * (sign ? -1 : 1);
            Assert.That(rebuilt, Is.EqualTo((double)value), where);
        }
    }

    private static void AssertFields(DType dtype, byte[] source, byte[] exponents, byte[] planes)
    {
        var e = new byte[exponents.Length];
        var p = new byte[planes.Length];
        FloatFields.SplitScalar(dtype, source, e, p);
        Assert.That(e, Is.EqualTo(exponents), dtype.ToString());
        Assert.That(p, Is.EqualTo(planes), dtype.ToString());
        var restored = new byte[source.Length];
        FloatFields.MergeScalar(dtype, e, p, restored);
        Assert.That(restored, Is.EqualTo(source), dtype.ToString());
    }

    private static void WriteElement(byte[] target, DType dtype, int index, uint bits)
    {
        if (dtype == DType.F32)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(target.AsSpan(index * 4), bits);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(target.AsSpan(index * 2), (ushort)bits);
        }
    }

    private static void CheckSplitWidth(KernelWidth width, DType dtype, int[] counts)
    {
        int planes = FloatFields.GetPlaneCount(dtype);
        int block = KernelWidths.BlockElements(width);
        foreach (int count in counts)
        {
            byte[] source = KernelWidths.RandomBytes(count * ElementSize(dtype), count + (int)dtype);
            var expectedExponents = new byte[count];
            var expectedPlanes = new byte[count * planes];
            FloatFields.SplitScalar(dtype, source, expectedExponents, expectedPlanes);

            byte[] exponents = Enumerable.Repeat(Sentinel, count + 8).ToArray();
            byte[] signMantissa = Enumerable.Repeat(Sentinel, (count * planes) + 8).ToArray();
            int done = SplitAt(width)(dtype, source, exponents, signMantissa);
            string where = $"{width}, {dtype}, count {count}";
            Assert.That(done, Is.EqualTo(count / block * block), where);
            for (int i = 0; i < count; i++)
            {
                Assert.That(exponents[i], Is.EqualTo(i < done ? expectedExponents[i] : Sentinel), $"{where}, exponent {i}");
                for (int k = 0; k < planes; k++)
                {
                    int at = (k * count) + i;
                    Assert.That(signMantissa[at], Is.EqualTo(i < done ? expectedPlanes[at] : Sentinel), $"{where}, plane {k}, element {i}");
                }
            }

            Assert.That(exponents.AsSpan(count).ToArray(), Is.All.EqualTo(Sentinel), where);
            Assert.That(signMantissa.AsSpan(count * planes).ToArray(), Is.All.EqualTo(Sentinel), where);

            FloatFields.SplitScalarFrom(dtype, source, exponents, signMantissa, count, done);
            Assert.That(exponents.AsSpan(0, count).ToArray(), Is.EqualTo(expectedExponents), where);
            Assert.That(signMantissa.AsSpan(0, count * planes).ToArray(), Is.EqualTo(expectedPlanes), where);
        }
    }

    private static void CheckMergeWidth(KernelWidth width, DType dtype, int[] counts)
    {
        int planes = FloatFields.GetPlaneCount(dtype);
        int size = ElementSize(dtype);
        int block = KernelWidths.BlockElements(width);
        foreach (int count in counts)
        {
            // Random field bytes, so the F16 bits outside the fields are present and must be ignored alike.
            byte[] exponents = KernelWidths.RandomBytes(count, count + 1);
            byte[] signMantissa = KernelWidths.RandomBytes(count * planes, count + 2);
            var expected = new byte[count * size];
            FloatFields.MergeScalar(dtype, exponents, signMantissa, expected);

            byte[] actual = Enumerable.Repeat(Sentinel, (count * size) + 8).ToArray();
            int done = MergeAt(width)(dtype, exponents, signMantissa, actual.AsSpan(0, count * size));
            string where = $"{width}, {dtype}, count {count}";
            Assert.That(done, Is.EqualTo(count / block * block), where);
            Assert.That(actual.AsSpan(0, done * size).ToArray(), Is.EqualTo(expected.AsSpan(0, done * size).ToArray()), where);
            Assert.That(actual.AsSpan(done * size).ToArray(), Is.All.EqualTo(Sentinel), where);

            FloatFields.MergeScalarFrom(dtype, exponents, signMantissa, actual, count, done);
            Assert.That(actual.AsSpan(0, count * size).ToArray(), Is.EqualTo(expected), where);
        }
    }
}
