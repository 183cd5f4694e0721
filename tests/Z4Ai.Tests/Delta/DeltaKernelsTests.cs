using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.Intrinsics;
using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Delta;

namespace Z4Ai.Tests.Delta;

public class DeltaKernelsTests
{
    private static readonly int[] AwkwardLengths = [0, 1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256, 511, 512, 513, 1021, 1030];

    private static readonly (int LaneSize, bool Ordered)[] Lanes =
        [(1, false), (1, true), (2, false), (2, true), (4, false), (4, true), (8, false), (8, true)];

    private delegate int WidthPath(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y, Span<byte> destination, int start);

    private delegate void ScalarPath(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y, Span<byte> destination, int start);

    private delegate void FullPath(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y, Span<byte> destination);

    private sealed record Kernel(string Name, FullPath Dispatch, ScalarPath Scalar, WidthPath? V128, WidthPath? V256, WidthPath? V512);

    private static Kernel Make<T, TOp>(string name)
        where T : unmanaged, IBinaryInteger<T>
        where TOp : IElementOperator<T> =>
        new(
            name,
            DeltaKernels.Apply<T, TOp>,
            DeltaKernels.ApplyScalar<T, TOp>,
            Vector128.IsHardwareAccelerated ? DeltaKernels.ApplyVector128<T, TOp> : null,
            Vector256.IsHardwareAccelerated ? DeltaKernels.ApplyVector256<T, TOp> : null,
            Vector512.IsHardwareAccelerated ? DeltaKernels.ApplyVector512<T, TOp> : null);

    private static IEnumerable<Kernel> Kernels()
    {
        yield return Make<byte, XorOperator<byte>>("xor");
        yield return Make<sbyte, SubtractOperator<sbyte>>("sub8");
        yield return Make<sbyte, AddOperator<sbyte>>("add8");
        yield return Make<sbyte, OrderedSubtractOperator<sbyte>>("osub8");
        yield return Make<sbyte, OrderedAddOperator<sbyte>>("oadd8");
        yield return Make<short, SubtractOperator<short>>("sub16");
        yield return Make<short, AddOperator<short>>("add16");
        yield return Make<short, OrderedSubtractOperator<short>>("osub16");
        yield return Make<short, OrderedAddOperator<short>>("oadd16");
        yield return Make<int, SubtractOperator<int>>("sub32");
        yield return Make<int, AddOperator<int>>("add32");
        yield return Make<int, OrderedSubtractOperator<int>>("osub32");
        yield return Make<int, OrderedAddOperator<int>>("oadd32");
        yield return Make<long, SubtractOperator<long>>("sub64");
        yield return Make<long, AddOperator<long>>("add64");
        yield return Make<long, OrderedSubtractOperator<long>>("osub64");
        yield return Make<long, OrderedAddOperator<long>>("oadd64");
    }

    private static (byte[] X, byte[] Y) RandomPair(int length, int seed)
    {
        var random = new Random(seed);
        byte[] x = new byte[length];
        byte[] y = new byte[length];
        random.NextBytes(x);
        random.NextBytes(y);
        // Make part of the pair close, so small differences and equal elements (and sign crossings) are exercised too.
        for (int i = 0; i < length / 2; i++)
        {
            y[i] = random.Next(4) == 0 ? (byte)(x[i] + random.Next(-2, 3)) : x[i];
        }

        return (x, y);
    }

    [Test]
    public void VectorWidths_AtAwkwardLengths_MatchScalarOracle()
    {
        foreach (Kernel kernel in Kernels())
        {
            foreach (int length in AwkwardLengths)
            {
                (byte[] x, byte[] y) = RandomPair(length, length);
                byte[] expected = new byte[length];
                kernel.Scalar(x, y, expected, 0);

                byte[] dispatched = new byte[length];
                kernel.Dispatch(x, y, dispatched);
                Assert.That(dispatched, Is.EqualTo(expected), $"{kernel.Name} dispatch, length {length}");

                foreach ((string width, WidthPath? path) in new[] { ("128", kernel.V128), ("256", kernel.V256), ("512", kernel.V512) })
                {
                    if (path is null)
                    {
                        continue;
                    }

                    byte[] actual = new byte[length];
                    int next = path(x, y, actual, 0);
                    kernel.Scalar(x, y, actual, next);
                    Assert.That(actual, Is.EqualTo(expected), $"{kernel.Name} vector{width}, length {length}");
                }
            }
        }
    }

    [Test]
    public void VectorWidths_FromNonZeroStart_LeaveEarlierElementsAlone()
    {
        Assume.That(Vector128.IsHardwareAccelerated, Is.True);
        (byte[] x, byte[] y) = RandomPair(200, 7);
        byte[] actual = new byte[200];
        int next = DeltaKernels.ApplyVector128<short, OrderedSubtractOperator<short>>(x, y, actual, 3);
        Assert.That(next, Is.EqualTo(3 + 96));
        Assert.That(actual.AsSpan(0, 6).ToArray(), Is.All.EqualTo(0));
        DeltaKernels.ApplyScalar<short, OrderedSubtractOperator<short>>(x, y, actual, 0);
        byte[] expected = new byte[200];
        DeltaKernels.ApplyScalar<short, OrderedSubtractOperator<short>>(x, y, expected, 0);
        Assert.That(actual, Is.EqualTo(expected));
    }

    [Test]
    public void SubtractThenAdd_AtAwkwardLengthsForEveryLane_RestoresCurrent()
    {
        foreach ((int laneSize, bool ordered) in Lanes)
        {
            foreach (int length in AwkwardLengths)
            {
                (byte[] current, byte[] reference) = RandomPair(length, (length * 31) + laneSize);
                byte[] delta = new byte[length];
                DeltaKernels.Subtract(current, reference, delta, laneSize, ordered);
                byte[] restored = new byte[length];
                DeltaKernels.Add(delta, reference, restored, laneSize, ordered);
                Assert.That(restored, Is.EqualTo(current), $"lane {laneSize}, ordered {ordered}, length {length}");
            }
        }
    }

    [Test]
    public void SubtractThenAdd_RandomBuffers_RestoresCurrent()
    {
        Gen<(byte[], byte[], int)> gen =
            from length in Gen.Choose(0, 300)
            from current in ArbMap.Default.GeneratorFor<byte>().ArrayOf(length)
            from reference in ArbMap.Default.GeneratorFor<byte>().ArrayOf(length)
            from lane in Gen.Choose(0, Lanes.Length - 1)
            select (current, reference, lane);
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            (byte[] current, byte[] reference, int lane) = t;
            (int laneSize, bool ordered) = Lanes[lane];
            byte[] buffer = new byte[current.Length];
            DeltaKernels.Subtract(current, reference, buffer, laneSize, ordered);
            // In place, as the decoder does it.
            DeltaKernels.Add(buffer, reference, buffer, laneSize, ordered);
            return buffer.AsSpan().SequenceEqual(current);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(300));
    }

    [Test]
    public void Xor_AppliedTwiceInPlace_RestoresCurrent()
    {
        Gen<(byte[], byte[])> gen =
            from length in Gen.Choose(0, 300)
            from current in ArbMap.Default.GeneratorFor<byte>().ArrayOf(length)
            from reference in ArbMap.Default.GeneratorFor<byte>().ArrayOf(length)
            select (current, reference);
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            (byte[] current, byte[] reference) = t;
            byte[] buffer = new byte[current.Length];
            DeltaKernels.Xor(current, reference, buffer);
            bool matchesBytewise = Enumerable.Range(0, current.Length).All(i => buffer[i] == (byte)(current[i] ^ reference[i]));
            DeltaKernels.Xor(buffer, reference, buffer);
            return matchesBytewise && buffer.AsSpan().SequenceEqual(current);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(200));
    }

    [Test]
    public void Map_OfSingleFloats_PreservesOrderAsUnsignedIntegers()
    {
        var random = new Random(11);
        for (int i = 0; i < 20000; i++)
        {
            float a = RandomFloat(random);
            float b = RandomFloat(random);
            uint ma = (uint)OrderedBits.Map(BitConverter.SingleToInt32Bits(a));
            uint mb = (uint)OrderedBits.Map(BitConverter.SingleToInt32Bits(b));
            if (a < b)
            {
                Assert.That(ma, Is.LessThan(mb), $"{a} < {b}");
            }
            else if (a > b)
            {
                Assert.That(ma, Is.GreaterThan(mb), $"{a} > {b}");
            }
        }

        Assert.That(
            (uint)OrderedBits.Map(BitConverter.SingleToInt32Bits(0.0f)),
            Is.EqualTo((uint)OrderedBits.Map(BitConverter.SingleToInt32Bits(-0.0f)) + 1),
            "-0 sits just below +0");
    }

    [Test]
    public void MapAndZigZag_OverEveryShortAndSbyte_AreBijectionsWithExactInverses()
    {
        for (int v = short.MinValue; v <= short.MaxValue; v++)
        {
            short s = (short)v;
            Assert.That(OrderedBits.Unmap(OrderedBits.Map(s)), Is.EqualTo(s));
            Assert.That(OrderedBits.UnZigZag(OrderedBits.ZigZag(s)), Is.EqualTo(s));
        }

        for (int v = sbyte.MinValue; v <= sbyte.MaxValue; v++)
        {
            sbyte s = (sbyte)v;
            Assert.That(OrderedBits.Unmap(OrderedBits.Map(s)), Is.EqualTo(s));
            Assert.That(OrderedBits.UnZigZag(OrderedBits.ZigZag(s)), Is.EqualTo(s));
        }

        long[] samples = [0, 1, -1, 2, -2, long.MaxValue, long.MinValue, 0x0123456789ABCDEF, -0x0123456789ABCDEF];
        foreach (long s in samples)
        {
            Assert.That(OrderedBits.Unmap(OrderedBits.Map(s)), Is.EqualTo(s));
            Assert.That(OrderedBits.UnZigZag(OrderedBits.ZigZag(s)), Is.EqualTo(s));
        }
    }

    [TestCase(0, 0)]
    [TestCase(-1, 1)]
    [TestCase(1, 2)]
    [TestCase(-2, 3)]
    [TestCase(2, 4)]
    [TestCase(int.MaxValue, -2)]
    [TestCase(int.MinValue, -1)]
    public void ZigZag_SmallStepsEitherWay_BecomeSmallNumbers(int d, int z) => Assert.That(OrderedBits.ZigZag(d), Is.EqualTo(z));

    // Hand-computed: BF16 1.0 is 0x3F80, the next value up 0x3F81; -1.0 is 0xBF80, the next value down 0xBF81.
    [TestCase((ushort)0x3F81, (ushort)0x3F80, (ushort)2)] // one step up: +1 -> zigzag 2
    [TestCase((ushort)0x3F7F, (ushort)0x3F80, (ushort)1)] // one step down: -1 -> zigzag 1
    [TestCase((ushort)0xBF81, (ushort)0xBF80, (ushort)1)] // -1.0078 is below -1.0: -1 -> zigzag 1
    [TestCase((ushort)0xBF7F, (ushort)0xBF80, (ushort)2)] // -0.996 is above -1.0: +1 -> zigzag 2
    [TestCase((ushort)0x0001, (ushort)0x8001, (ushort)6)] // smallest positive minus smallest negative: 3 steps (via -0, +0)
    [TestCase((ushort)0x0000, (ushort)0x8000, (ushort)2)] // +0 is one step above -0
    public void Subtract_Bf16Steps_AreHandComputedZigZagDifferences(ushort current, ushort reference, ushort expected)
    {
        byte[] c = new byte[2];
        byte[] r = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(c, current);
        BinaryPrimitives.WriteUInt16LittleEndian(r, reference);
        byte[] d = new byte[2];
        DeltaKernels.Subtract(c, r, d, 2, ordered: true);
        Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(d), Is.EqualTo(expected));
    }

    [Test]
    public void Subtract_IntegerLanesAndTailBytes_AreHandComputed()
    {
        // Two I16 lanes (5 - 7 = -2 -> 3; 0x1234 - 0x1200 = 0x34 -> 0x68) and one tail byte XORed (0xF0 ^ 0x0F).
        byte[] current = [5, 0, 0x34, 0x12, 0xF0];
        byte[] reference = [7, 0, 0x00, 0x12, 0x0F];
        byte[] delta = new byte[5];
        DeltaKernels.Subtract(current, reference, delta, 2, ordered: false);
        Assert.That(delta, Is.EqualTo(new byte[] { 3, 0, 0x68, 0, 0xFF }));
    }

    [Test]
    public void Kernels_WithUnequalLengthsOrBadLane_ThrowArgumentException()
    {
        byte[] a = new byte[8];
        byte[] b = new byte[7];
        Assert.That(() => DeltaKernels.Xor(a, b, a), Throws.ArgumentException);
        Assert.That(() => DeltaKernels.Subtract(a, a, b, 2, ordered: true), Throws.ArgumentException);
        Assert.That(() => DeltaKernels.Add(a, a, a, 3, ordered: false), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [TestCase(DType.BF16, 2, true)]
    [TestCase(DType.F16, 2, true)]
    [TestCase(DType.F32, 4, true)]
    [TestCase(DType.C64, 4, true)]
    [TestCase(DType.F64, 8, true)]
    [TestCase(DType.F8_E4M3, 1, true)]
    [TestCase(DType.U8, 1, false)]
    [TestCase(DType.I16, 2, false)]
    [TestCase(DType.U32, 4, false)]
    [TestCase(DType.I64, 8, false)]
    public void TryGetSubtractLanes_ForNumericDTypes_ReturnsLaneLayout(DType dtype, int laneSize, bool ordered)
    {
        Assert.That(DeltaLanes.TryGetSubtractLanes(dtype, out int size, out bool isOrdered), Is.True);
        Assert.That((size, isOrdered), Is.EqualTo((laneSize, ordered)));
    }

    [TestCase(DType.BOOL)]
    [TestCase(DType.F4)]
    [TestCase(DType.F6_E2M3)]
    [TestCase(DType.F6_E3M2)]
    public void TryGetSubtractLanes_ForBoolAndSubByteDTypes_ReturnsFalse(DType dtype) =>
        Assert.That(DeltaLanes.TryGetSubtractLanes(dtype, out _, out _), Is.False);

    private static float RandomFloat(Random random)
    {
        float f;
        do
        {
            // Mostly random bit patterns (every exponent), sometimes small integers to get equal values and zeros.
            f = random.Next(8) == 0 ? random.Next(-3, 4) * (random.Next(2) == 0 ? 1f : -0f) : BitConverter.Int32BitsToSingle(random.Next() ^ (random.Next(2) << 31));
        }
        while (float.IsNaN(f));
        return f;
    }
}
