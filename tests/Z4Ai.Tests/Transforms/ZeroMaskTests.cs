using System.Buffers;
using NUnit.Framework;
using Z4Ai.Transforms;

namespace Z4Ai.Tests.Transforms;

public class ZeroMaskTests
{
    private static void AssertRoundTrip(byte[] raw, DType dtype, in ZeroMaskPlan plan)
    {
        var writer = new ArrayBufferWriter<byte>();
        Assert.That(ZeroMask.Encode(raw, plan, writer), Is.EqualTo(plan.EstimatedSize));
        var back = new byte[raw.Length];
        ZeroMask.Decode(writer.WrittenSpan, dtype, back);
        Assert.That(back, Is.EqualTo(raw));
    }

    [Test]
    public void TryPlan_NegativeZero_CountsAsNonZero()
    {
        var raw = new byte[4 * 64];
        BitConverter.TryWriteBytes(raw.AsSpan(12), -0.0f);
        BitConverter.TryWriteBytes(raw.AsSpan(40), 1.5f);
        Assert.That(ZeroMask.TryPlan(raw, DType.F32, out ZeroMaskPlan plan), Is.True);
        Assert.That(plan.NonZeroCount, Is.EqualTo(2));
        var positions = new byte[plan.PositionsLength];
        var values = new byte[plan.ValuesLength];
        ZeroMask.Forward(raw, plan, positions, values);
        Assert.That(BitConverter.ToUInt32(values, 0), Is.EqualTo(0x80000000u));
        AssertRoundTrip(raw, DType.F32, plan);
    }

    [Test]
    public void TryPlan_VerySparse_StoresGapsNotBitmap()
    {
        var raw = new byte[2 * 10_000];
        foreach (int i in new[] { 0, 1, 500, 9_999 })
        {
            raw[(i * 2) + 1] = 0x3C;
        }

        Assert.That(ZeroMask.TryPlan(raw, DType.F16, out ZeroMaskPlan plan), Is.True);
        Assert.That(plan.Layout, Is.EqualTo(ZeroMaskLayout.Sparse));
        var positions = new byte[plan.PositionsLength];
        ZeroMask.Forward(raw, plan, positions, new byte[plan.ValuesLength]);
        Assert.That(positions, Is.EqualTo(new byte[] { 0, 0, 0xF2, 0x03, 0x9A, 0x4A }), "gaps 0, 0, 498, 9498 as LEB128");
        AssertRoundTrip(raw, DType.F16, plan);
    }

    [Test]
    public void TryPlan_AllZero_CostsOnlyTheParameters()
    {
        var raw = new byte[8 * 1000];
        Assert.That(ZeroMask.TryPlan(raw, DType.C64, out ZeroMaskPlan plan), Is.True);
        Assert.That(plan.Layout, Is.EqualTo(ZeroMaskLayout.Sparse));
        Assert.That(plan.EstimatedSize, Is.EqualTo(3));
        AssertRoundTrip(raw, DType.C64, plan);
    }

    [Test]
    public void TryPlan_DenseBytes_DoesNotPay()
    {
        byte[] raw = [.. Enumerable.Range(0, 800).Select(i => (byte)(i % 8 == 0 ? 0 : i))];
        Assert.That(ZeroMask.TryPlan(raw, DType.I8, out _), Is.False, "7/8 non-zero bytes: bitmap plus values is larger");
    }

    [Test]
    public void Inverse_SparseGapPastTheEnd_ThrowsFormatException()
    {
        var plan = new ZeroMaskPlan(ZeroMaskLayout.Sparse, 4, 10, 2, 2);
        var raw = new byte[40];
        ZeroMask.Inverse([3, 5], new byte[8], plan, raw);
        Assert.Throws<Z4AiFormatException>(() => ZeroMask.Inverse([3, 6], new byte[8], plan, raw));
        Assert.Throws<Z4AiFormatException>(() => ZeroMask.Inverse([3, 0x80], new byte[8], plan, raw));
    }

    [Test]
    public void Inverse_BitmapCountMismatch_ThrowsFormatException()
    {
        var plan = new ZeroMaskPlan(ZeroMaskLayout.Bitmap, 2, 12, 3, 2);
        var raw = new byte[24];
        ZeroMask.Inverse([0b1000_0011, 0], new byte[6], plan, raw);
        Assert.Throws<Z4AiFormatException>(() => ZeroMask.Inverse([0b1000_0111, 0], new byte[6], plan, raw));
        Assert.Throws<Z4AiFormatException>(() => ZeroMask.Inverse([0b0000_0011, 0b0001_0000], new byte[6], plan, raw), "bit past the last element");
    }
}
