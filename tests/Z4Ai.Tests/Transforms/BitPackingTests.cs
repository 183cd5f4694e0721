using NUnit.Framework;
using Z4Ai.Transforms;

namespace Z4Ai.Tests.Transforms;

public class BitPackingTests
{
    internal static readonly int[] AwkwardLengths = [0, 1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256, 511, 512, 513, 1023, 1024, 1025, 3000];

    private static IEnumerable<int> Widths32 => Enumerable.Range(0, 33);

    private static IEnumerable<int> Widths64 => Enumerable.Range(0, 65);

    private static ulong[] RandomValues(int count, int bits, int seed)
    {
        var random = new Random(seed);
        var values = new ulong[count];
        for (int i = 0; i < count; i++)
        {
            ulong v = (ulong)random.NextInt64() ^ ((ulong)random.NextInt64() << 1);

            // Mix in the extremes of the width so both all-ones and zero fields are exercised.
            values[i] = (i % 5) switch
            {
                0 => 0,
                1 => Elements.LowMask(bits),
                _ => v & Elements.LowMask(bits),
            };
        }

        return values;
    }

    [TestCaseSource(nameof(Widths32))]
    public void Pack_EveryWidthUpTo32AtAwkwardLengths_MatchesScalarOracle(int bits)
    {
        foreach (int count in AwkwardLengths)
        {
            ulong[] wide = RandomValues(count, bits, (bits * 7919) + count);
            uint[] values = wide.Select(v => (uint)v).ToArray();
            int length = (int)BitPacking.GetPackedLength(count, bits);

            var expected = new byte[length];
            BitPacking.PackScalar(wide, bits, expected);
            var actual = new byte[length];
            BitPacking.Pack(values, bits, actual);
            Assert.That(actual, Is.EqualTo(expected), $"k={bits} n={count}");
            Assert.That(BitPacking.HasZeroPadding(actual, count, bits), Is.True);

            var back = new uint[count];
            BitPacking.Unpack(actual, bits, back);
            Assert.That(back, Is.EqualTo(values), $"k={bits} n={count}");

            var oracleBack = new ulong[count];
            BitPacking.UnpackScalar(actual, bits, oracleBack);
            Assert.That(oracleBack, Is.EqualTo(wide));
        }
    }

    [TestCaseSource(nameof(Widths64))]
    public void Pack64_EveryWidthAtAwkwardLengths_MatchesScalarOracle(int bits)
    {
        foreach (int count in AwkwardLengths)
        {
            ulong[] values = RandomValues(count, bits, (bits * 104729) + count);
            int length = (int)BitPacking.GetPackedLength(count, bits);
            var expected = new byte[length];
            BitPacking.PackScalar(values, bits, expected);
            var actual = new byte[length];
            BitPacking.Pack64(values, bits, actual);
            Assert.That(actual, Is.EqualTo(expected), $"k={bits} n={count}");

            var back = new ulong[count];
            BitPacking.Unpack64(actual, bits, back);
            Assert.That(back, Is.EqualTo(values), $"k={bits} n={count}");
        }
    }

    [Test]
    public void Pack_BlocksOfEightPackedSeparately_EqualOneSequence()
    {
        ulong[] values = RandomValues(4096, 13, 5);
        var whole = new byte[BitPacking.GetPackedLength(values.Length, 13)];
        BitPacking.Pack64(values, 13, whole);
        var pieces = new byte[whole.Length];
        for (int start = 0; start < values.Length; start += 1000)
        {
            int n = Math.Min(1000, values.Length - start);
            BitPacking.Pack64(values.AsSpan(start, n), 13, pieces.AsSpan(start * 13 / 8));
        }

        Assert.That(pieces, Is.EqualTo(whole));
    }

    [Test]
    public void Pack_ValueWiderThanWidth_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => BitPacking.Pack([0u, 8u], 3, new byte[1]));
        Assert.Throws<ArgumentException>(() => BitPacking.Pack([256u], 8, new byte[1]));
        Assert.Throws<ArgumentException>(() => BitPacking.Pack([1u], 0, []));
        Assert.Throws<ArgumentException>(() => BitPacking.Pack64([1UL << 40], 40, new byte[5]));
        Assert.Throws<ArgumentException>(() => BitPacking.PackScalar([4UL], 2, new byte[1]));
    }

    [Test]
    public void Pack_DestinationOneByteShort_ThrowsArgumentException()
    {
        uint[] values = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        int length = (int)BitPacking.GetPackedLength(values.Length, 5);
        Assert.DoesNotThrow(() => BitPacking.Pack(values, 5, new byte[length]));
        Assert.Throws<ArgumentException>(() => BitPacking.Pack(values, 5, new byte[length - 1]));
        Assert.Throws<ArgumentException>(() => BitPacking.Unpack(new byte[length - 1], 5, new uint[values.Length]));
        Assert.Throws<ArgumentException>(() => BitPacking.Unpack64(new byte[length - 1], 5, new ulong[values.Length]));
    }

    [Test]
    public void HasZeroPadding_BitSetAfterLastValue_ReturnsFalse()
    {
        var packed = new byte[2];
        BitPacking.Pack([7u, 7u, 7u], 3, packed);
        Assert.That(BitPacking.HasZeroPadding(packed, 3, 3), Is.True);
        packed[1] |= 0x80;
        Assert.That(BitPacking.HasZeroPadding(packed, 3, 3), Is.False);
    }

    [Test]
    public void GetPackedLength_RoundsUpToWholeBytes()
    {
        Assert.That(BitPacking.GetPackedLength(0, 7), Is.EqualTo(0));
        Assert.That(BitPacking.GetPackedLength(1, 1), Is.EqualTo(1));
        Assert.That(BitPacking.GetPackedLength(8, 3), Is.EqualTo(3));
        Assert.That(BitPacking.GetPackedLength(9, 3), Is.EqualTo(4));
        Assert.That(BitPacking.GetPackedLength(int.MaxValue, 64), Is.EqualTo((long)int.MaxValue * 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => BitPacking.GetPackedLength(1, 65));
    }

    [Test]
    public void BitsFor_PowersOfTwo_AreExact()
    {
        Assert.That(BitPacking.BitsFor(0), Is.EqualTo(0));
        Assert.That(BitPacking.BitsFor(1), Is.EqualTo(1));
        Assert.That(BitPacking.BitsFor(255), Is.EqualTo(8));
        Assert.That(BitPacking.BitsFor(256), Is.EqualTo(9));
        Assert.That(BitPacking.BitsFor(ulong.MaxValue), Is.EqualTo(64));
    }
}
