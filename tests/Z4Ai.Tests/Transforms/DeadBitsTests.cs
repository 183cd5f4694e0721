using System.Buffers;
using NUnit.Framework;
using Z4Ai.Internal;
using Z4Ai.Transforms;

namespace Z4Ai.Tests.Transforms;

public class DeadBitsTests
{
    private static byte[] F32(params uint[] bits) => bits.SelectMany(BitConverter.GetBytes).ToArray();

    private static void AssertRoundTrip(byte[] raw, DType dtype, in DeadBitsPlan plan)
    {
        var writer = new ArrayBufferWriter<byte>();
        Assert.That(DeadBits.Encode(raw, plan, writer), Is.EqualTo(plan.EstimatedSize));
        var back = new byte[raw.Length];
        DeadBits.Decode(writer.WrittenSpan, dtype, back);
        Assert.That(back, Is.EqualTo(raw));
    }

    [Test]
    public void TryPlan_HalfSpecialValuesInF32_NarrowsToF16BitExact()
    {
        // -0.0, +0.0, smallest and largest F16 subnormal, largest finite, ±inf, NaN payloads in kept bits.
        byte[] raw = F32(0x80000000, 0, 0x33800000, 0x387FC000, 0x477FE000, 0x7F800000, 0xFF800000, 0x7FC02000, 0xFFA00000, 0x3F800000);
        Assert.That(DeadBits.TryPlan(raw, DType.F32, out DeadBitsPlan plan), Is.True);
        Assert.That(plan.Mode, Is.EqualTo(DeadBitsMode.F32AsF16));
        var narrow = new byte[plan.NarrowLength];
        DeadBits.Forward(raw, plan, narrow);
        Assert.That(BitConverter.ToUInt16(narrow, 0), Is.EqualTo(0x8000));
        Assert.That(BitConverter.ToUInt16(narrow, 4), Is.EqualTo(0x0001));
        Assert.That(BitConverter.ToUInt16(narrow, 14), Is.EqualTo(0x7E01));
        AssertRoundTrip(raw, DType.F32, plan);
    }

    [Test]
    public void TryPlan_NaNPayloadInLowBits_NoFormApplies()
    {
        // Every other value is a half, but one NaN keeps its payload in the low 13 bits (and bit 13 is set).
        byte[] raw = F32(0x3F800000, 0x7F802001, 0x40000000, 0xC0000000, 0x3F800000, 0x40000000, 0x3F800000, 0x40000000);
        Assert.That(DeadBits.TryPlan(raw, DType.F32, out _, allowBitPacked: true), Is.False);
    }

    [Test]
    public void TryPlan_F32OutsideHalfRangeWithDeadBits_ShiftsAlignedOrTight()
    {
        // Thirteen dead bits, but 1e10 is beyond F16, so only the shift applies.
        uint big = BitConverter.SingleToUInt32Bits(1e10f) & 0xFFFFE000;
        byte[] raw = F32(Enumerable.Range(0, 64).Select(i => big + ((uint)i << 13)).ToArray());
        Assert.That(DeadBits.TryPlan(raw, DType.F32, out DeadBitsPlan aligned), Is.True);
        Assert.That(aligned.Mode, Is.EqualTo(DeadBitsMode.Shift));
        Assert.That(aligned.Shift, Is.EqualTo(8));
        Assert.That(aligned.NarrowElementSize, Is.EqualTo(3));
        Assert.That(aligned.NarrowDType, Is.Null);
        AssertRoundTrip(raw, DType.F32, aligned);

        Assert.That(DeadBits.TryPlan(raw, DType.F32, out DeadBitsPlan tight, allowBitPacked: true), Is.True);
        Assert.That(tight.Shift, Is.EqualTo(13));
        Assert.That(tight.NarrowBits, Is.EqualTo(19));
        Assert.That(tight.NarrowElementSize, Is.Zero);
        Assert.That(tight.NarrowLength, Is.EqualTo((64 * 19) / 8));
        AssertRoundTrip(raw, DType.F32, tight);
    }

    [Test]
    public void TryPlan_IntegersWithZeroLowHalf_NarrowToSignedHalfWidth()
    {
        byte[] raw = Enumerable.Range(-32, 64).SelectMany(i => BitConverter.GetBytes(i * 65536)).ToArray();
        Assert.That(DeadBits.TryPlan(raw, DType.I32, out DeadBitsPlan plan), Is.True);
        Assert.That(plan.NarrowDType, Is.EqualTo(DType.I16));
        var narrow = new byte[plan.NarrowLength];
        DeadBits.Forward(raw, plan, narrow);
        Assert.That(BitConverter.ToInt16(narrow, 0), Is.EqualTo(-32), "the narrow stream holds value >> 16 as I16");
        AssertRoundTrip(raw, DType.I32, plan);
    }

    [Test]
    public void TryPlan_ComplexOfHalves_NarrowsBothParts()
    {
        var random = new Random(3);
        byte[] raw = Enumerable.Range(0, 100)
            .SelectMany(_ => BitConverter.GetBytes((float)(Half)random.NextSingle()).Concat(BitConverter.GetBytes((float)(Half)(-random.NextSingle()))))
            .ToArray();
        Assert.That(DeadBits.TryPlan(raw, DType.C64, out DeadBitsPlan plan), Is.True);
        Assert.That(plan.Mode, Is.EqualTo(DeadBitsMode.F32AsF16));
        Assert.That(plan.LaneCount, Is.EqualTo(200));
        Assert.That(plan.NarrowLength, Is.EqualTo(400));
        AssertRoundTrip(raw, DType.C64, plan);
    }

    [Test]
    public void TryPlan_AllZeroF32_NarrowsToNothing()
    {
        var raw = new byte[400];
        Assert.That(DeadBits.TryPlan(raw, DType.F32, out DeadBitsPlan plan), Is.True);
        Assert.That(plan.Shift, Is.EqualTo(32));
        Assert.That(plan.NarrowLength, Is.Zero);
        Assert.That(plan.EstimatedSize, Is.EqualTo(2));
        AssertRoundTrip(raw, DType.F32, plan);
    }

    [Test]
    public void TryPlan_F64OfBFloat16Values_PrefersTypedF32OverWiderUntypedShift()
    {
        // F64 with 45 dead bits: a shift keeps 24 untyped bits, the F32 conversion keeps a typed stream the codec
        // narrows again to BF16.
        byte[] raw = Enumerable.Range(1, 64).SelectMany(i => BitConverter.GetBytes((double)BitConverter.UInt32BitsToSingle((uint)(0x3F80 + i) << 16))).ToArray();
        Assert.That(DeadBits.TryPlan(raw, DType.F64, out DeadBitsPlan plan), Is.True);
        Assert.That(plan.Mode, Is.EqualTo(DeadBitsMode.F64AsF32));
        var narrow = new byte[plan.NarrowLength];
        DeadBits.Forward(raw, plan, narrow);
        Assert.That(DeadBits.TryPlan(narrow, DType.F32, out DeadBitsPlan second), Is.True);
        Assert.That(second.NarrowDType, Is.EqualTo(DType.BF16));
    }

    [Test]
    public void Plan_WriteThenRead_GivesTheSamePlan()
    {
        byte[] raw = F32(Enumerable.Range(0, 32).Select(i => (uint)i << 20).ToArray());
        Assert.That(DeadBits.TryPlan(raw, DType.F32, out DeadBitsPlan plan, allowBitPacked: true), Is.True);
        var writer = new ArrayBufferWriter<byte>();
        plan.Write(writer);
        Assert.That(writer.WrittenCount, Is.EqualTo(plan.ParametersLength));
        var reader = new SpanReader(writer.WrittenSpan);
        DeadBitsPlan read = DeadBitsPlan.Read(ref reader, DType.F32, raw.Length);
        Assert.That((read.Mode, read.Shift, read.LaneCount, read.NarrowLength), Is.EqualTo((plan.Mode, plan.Shift, plan.LaneCount, plan.NarrowLength)));
    }

    [Test]
    public void Inverse_NonZeroPaddingBits_ThrowsFormatException()
    {
        byte[] raw = F32(0x00100000, 0x00200000, 0x00300000); // 20 dead bits: 3 x 12 bits = 36 bits in 5 bytes
        Assert.That(DeadBits.TryPlan(raw, DType.F32, out DeadBitsPlan plan, allowBitPacked: true), Is.True);
        var narrow = new byte[plan.NarrowLength];
        DeadBits.Forward(raw, plan, narrow);
        narrow[^1] |= 0x80;
        Assert.Throws<Z4AiFormatException>(() => DeadBits.Inverse(narrow, plan, new byte[raw.Length]));
    }
}
