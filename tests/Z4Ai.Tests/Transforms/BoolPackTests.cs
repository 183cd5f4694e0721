using System.Buffers;
using NUnit.Framework;
using Z4Ai.Transforms;

namespace Z4Ai.Tests.Transforms;

public class BoolPackTests
{
    [Test]
    public void Forward_AwkwardLengths_MatchesOneBitScalarPacking()
    {
        foreach (int length in BitPackingTests.AwkwardLengths.Where(n => n >= 2))
        {
            var random = new Random(length);
            byte[] raw = [.. Enumerable.Range(0, length).Select(_ => (byte)random.Next(2))];
            Assert.That(BoolPack.TryPlan(raw, DType.BOOL, out BoolPackPlan plan), Is.True);
            var packed = new byte[plan.PackedLength];
            BoolPack.Forward(raw, plan, packed);
            var oracle = new byte[plan.PackedLength];
            BitPacking.PackScalar(raw.Select(b => (ulong)b).ToArray(), 1, oracle);
            Assert.That(packed, Is.EqualTo(oracle), $"length {length}");

            var back = new byte[length];
            BoolPack.Inverse(packed, plan, back);
            Assert.That(back, Is.EqualTo(raw));

            var writer = new ArrayBufferWriter<byte>();
            BoolPack.Encode(raw, plan, writer);
            Array.Clear(back);
            BoolPack.Decode(writer.WrittenSpan, DType.U8, back);
            Assert.That(back, Is.EqualTo(raw));
        }
    }

    [Test]
    public void TryPlan_ByteOtherThanZeroOrOne_ReturnsFalse()
    {
        byte[] raw = [0, 1, 1, 0, 2, 0, 1, 1, 0];
        Assert.That(BoolPack.TryPlan(raw, DType.BOOL, out _), Is.False);
        raw[4] = 1;
        Assert.That(BoolPack.TryPlan(raw, DType.I8, out _), Is.True);
        Assert.That(BoolPack.TryPlan(raw, DType.F16, out _), Is.False);
        Assert.That(BoolPack.TryPlan([1], DType.BOOL, out _), Is.False, "one byte cannot shrink");
    }

    [Test]
    public void Inverse_PaddingBitSet_ThrowsFormatException()
    {
        var plan = new BoolPackPlan(10);
        Assert.Throws<Z4AiFormatException>(() => BoolPack.Inverse([0xFF, 0x04], plan, new byte[10]));
        Assert.Throws<Z4AiFormatException>(() => BoolPack.Inverse([0xFF], plan, new byte[10]));
    }
}
