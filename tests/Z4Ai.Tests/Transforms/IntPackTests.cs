using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Transforms;

namespace Z4Ai.Tests.Transforms;

public class IntPackTests
{
    private static byte[] AssertRoundTrip(byte[] raw, DType dtype, in IntPackPlan plan)
    {
        var writer = new ArrayBufferWriter<byte>();
        Assert.That(IntPack.Encode(raw, plan, writer), Is.EqualTo(plan.EstimatedSize));
        var back = new byte[raw.Length];
        IntPack.Decode(writer.WrittenSpan, dtype, back);
        Assert.That(back, Is.EqualTo(raw));
        return writer.WrittenSpan.ToArray();
    }

    [Test]
    public void RoundTrip_RandomNarrowRangeInt64_IsExactIncludingExtremes()
    {
        Prop.ForAll(
            Gen.Choose(1, 62).SelectMany(bits => Gen.Choose(1, 200).Select(n => (bits, n))).ToArbitrary(),
            ArbMap.Default.GeneratorFor<int>().ToArbitrary(),
            (shape, seed) =>
            {
                var random = new Random(seed);
                long baseValue = random.Next(3) switch { 0 => long.MinValue, 1 => long.MaxValue - (1L << shape.bits), _ => random.NextInt64() >> 2 };
                byte[] raw = Enumerable.Range(0, shape.n)
                    .SelectMany(_ => BitConverter.GetBytes(baseValue + (random.NextInt64() & ((1L << shape.bits) - 1))))
                    .ToArray();
                if (IntPack.TryPlan(raw, DType.I64, out IntPackPlan plan))
                {
                    Assert.That(plan.Bits, Is.LessThanOrEqualTo(shape.bits));
                    AssertRoundTrip(raw, DType.I64, plan);
                }
            }).Check(Config.QuickThrowOnFailure.WithMaxTest(200));
    }

    [Test]
    public void RoundTrip_TypeExtremes_AreExact()
    {
        // MIN, MAX, MIN: the modular deltas are -1 and +1, so two bits suffice and the pair comes back exactly.
        byte[] i64 = [.. BitConverter.GetBytes(long.MinValue), .. BitConverter.GetBytes(long.MaxValue), .. BitConverter.GetBytes(long.MinValue)];
        Assert.That(IntPack.TryPlan(i64, DType.I64, out IntPackPlan plan), Is.True);
        Assert.That((plan.Mode, plan.Bits), Is.EqualTo((IntPackMode.Delta, 2)));
        AssertRoundTrip(i64, DType.I64, plan);

        byte[] u64 = [.. BitConverter.GetBytes(ulong.MaxValue), .. BitConverter.GetBytes(0UL), .. BitConverter.GetBytes(ulong.MaxValue - 1), .. BitConverter.GetBytes(1UL)];
        Assert.That(IntPack.TryPlan(u64, DType.U64, out IntPackPlan u), Is.True);
        AssertRoundTrip(u64, DType.U64, u);

        // Alternating I8 extremes with a zero: both forms need all 8 bits, so nothing pays.
        byte[] i8 = [0x80, 0x7F, 0x80, 0x7F, 0x00, 0x80, 0x7F, 0x80];
        Assert.That(IntPack.TryPlan(i8, DType.I8, out _), Is.False);
    }

    [Test]
    public void TryPlan_SignedMinAndNeighbours_UsesSignedRange()
    {
        // -2..2 as I8 is a range of 4 (3 bits); as U8 (0xFE..0x02) the frame of reference needs 8 bits.
        byte[] raw = [.. Enumerable.Range(0, 64).Select(i => (byte)(sbyte)((i % 5) - 2))];
        Assert.That(IntPack.TryPlan(raw, DType.I8, out IntPackPlan signed), Is.True);
        Assert.That(signed.Bits, Is.EqualTo(3));
        Assert.That((sbyte)signed.Reference, Is.EqualTo(-2));
        AssertRoundTrip(raw, DType.I8, signed);
        Assert.That(IntPack.TryPlan(raw, DType.U8, out IntPackPlan unsigned), Is.True);
        Assert.That((unsigned.Mode, unsigned.Bits), Is.EqualTo((IntPackMode.Delta, 3)), "as U8 the range wraps; the modular deltas do not");
        AssertRoundTrip(raw, DType.U8, unsigned);
    }

    [Test]
    public void TryPlan_DescendingAndWrappingProgressions_DeltaWithZeroBits()
    {
        byte[] descending = Enumerable.Range(0, 1000).SelectMany(i => BitConverter.GetBytes(5000 - (3 * i))).ToArray();
        Assert.That(IntPack.TryPlan(descending, DType.I32, out IntPackPlan plan), Is.True);
        Assert.That((plan.Mode, plan.Bits), Is.EqualTo((IntPackMode.Delta, 0)));
        Assert.That(AssertRoundTrip(descending, DType.I32, plan), Has.Length.EqualTo(10));

        // 32760, 32761, ... wraps through -32768: the modular delta stays 1.
        byte[] wrapping = Enumerable.Range(0, 100).SelectMany(i => BitConverter.GetBytes((short)(32760 + i))).ToArray();
        Assert.That(IntPack.TryPlan(wrapping, DType.I16, out IntPackPlan wrap), Is.True);
        Assert.That((wrap.Mode, wrap.Bits), Is.EqualTo((IntPackMode.Delta, 0)));
        AssertRoundTrip(wrapping, DType.I16, wrap);
    }

    [Test]
    public void TryPlan_RepeatedRowsOfPositions_DeltaStoresTheResets()
    {
        byte[] raw = Enumerable.Range(0, 4096).SelectMany(i => BitConverter.GetBytes((long)(i % 512))).ToArray();
        Assert.That(IntPack.TryPlan(raw, DType.I64, out IntPackPlan plan), Is.True);
        Assert.That(plan.Mode, Is.EqualTo(IntPackMode.FrameOfReference), "range 0..511 (9 bits) beats deltas 1 and -511 (10 bits)");
        Assert.That(plan.Bits, Is.EqualTo(9));
        AssertRoundTrip(raw, DType.I64, plan);
    }

    [Test]
    public void TryPlan_FloatOrBoolDType_IsNotApplicable()
    {
        var raw = new byte[64];
        Assert.That(IntPack.TryPlan(raw, DType.F32, out _), Is.False);
        Assert.That(IntPack.TryPlan(raw, DType.BOOL, out _), Is.False);
        Assert.That(IntPack.TryPlan(raw, DType.BF16, out _), Is.False);
    }
}
