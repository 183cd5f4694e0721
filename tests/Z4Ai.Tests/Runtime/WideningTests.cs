using System.Runtime.InteropServices;
using NUnit.Framework;
using Z4Ai.Runtime;
using Z4Ai.Tests.Planes;

namespace Z4Ai.Tests.Runtime;

public class WideningTests
{
    private delegate int Kernel(ReadOnlySpan<ushort> source, Span<float> destination);

    private static Kernel At(KernelWidth width) => width switch
    {
        KernelWidth.Vector128 => Widening.Bf16ToSingleVector128,
        KernelWidth.Vector256 => Widening.Bf16ToSingleVector256,
        _ => Widening.Bf16ToSingleVector512,
    };

    private static void CheckWidth(KernelWidth width, int[] counts)
    {
        foreach (int count in counts)
        {
            ushort[] source = MemoryMarshal.Cast<byte, ushort>(KernelWidths.RandomBytes(count * 2, count)).ToArray();
            float[] expected = new float[count];
            Widening.Bf16ToSingleScalar(source, expected);
            float[] actual = new float[count];
            int done = At(width)(source, actual);
            Assert.That(done, Is.LessThanOrEqualTo(count).And.GreaterThan(count - (KernelWidths.BlockElements(width) / 2)));
            Widening.Bf16ToSingleScalar(source.AsSpan(done), actual.AsSpan(done));
            Assert.That(Bits(actual), Is.EqualTo(Bits(expected)), $"{width}, {count} elements");
        }
    }

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    [Test]
    public void Bf16ToSingleVectorWidth_AwkwardLengths_MatchesScalarOracle([Values] KernelWidth width)
    {
        KernelWidths.RequireAccelerated(width);
        CheckWidth(width, KernelWidths.AwkwardCounts);
    }

    [Test]
    public void Bf16ToSingleVectorWidth_SoftwareEmulationOrHardware_MatchesScalarOracle([Values] KernelWidth width) =>
        CheckWidth(width, [0, 1, 33, 200]);

    [Test]
    public void Bf16ToSingle_EveryBitPattern_IsTheUpperHalfOfTheFloat()
    {
        ushort[] all = Enumerable.Range(0, 65536).Select(i => (ushort)i).ToArray();
        float[] widened = new float[all.Length + 3];
        Widening.Bf16ToSingle(all, widened);
        for (int i = 0; i < all.Length; i++)
        {
            Assert.That(BitConverter.SingleToInt32Bits(widened[i]), Is.EqualTo(i << 16));
        }
    }

    [Test]
    public void HalfToSingle_EveryBitPattern_MatchesTheBclConversion()
    {
        Half[] all = Enumerable.Range(0, 65536).Select(i => BitConverter.UInt16BitsToHalf((ushort)i)).ToArray();
        float[] widened = new float[all.Length];
        Widening.HalfToSingle(all, widened);
        for (int i = 0; i < all.Length; i++)
        {
            Assert.That(BitConverter.SingleToInt32Bits(widened[i]), Is.EqualTo(BitConverter.SingleToInt32Bits((float)all[i])));
        }
    }

    [Test]
    public void Widen_DestinationTooShort_ThrowsArgumentException()
    {
        Assert.That(() => Widening.Bf16ToSingle(new ushort[4], new float[3]), Throws.ArgumentException);
        Assert.That(() => Widening.HalfToSingle(new Half[4], new float[3]), Throws.ArgumentException);
    }
}
