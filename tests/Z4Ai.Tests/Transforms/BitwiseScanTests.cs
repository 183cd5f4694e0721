using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NUnit.Framework;
using Z4Ai.Transforms;

namespace Z4Ai.Tests.Transforms;

public class BitwiseScanTests
{
    private static byte[] Sparse(int length, int seed)
    {
        // Mostly zero bytes with a few set bits, so a lane mix-up would change the answer.
        var random = new Random(seed);
        var data = new byte[length];
        for (int i = 0; i < length / 9; i++)
        {
            data[random.Next(length)] = (byte)(1 << random.Next(8));
        }

        return data;
    }

    [Test]
    public void OrWords_AwkwardLengths_MatchesScalarOracle()
    {
        foreach (int length in BitPackingTests.AwkwardLengths.Concat([2, 3, 5, 6, 9, 12, 100]))
        {
            byte[] data = Sparse(length, length);
            Assert.That(BitwiseScan.OrWords(data), Is.EqualTo(BitwiseScan.OrWordsScalar(data)), $"length {length}");
        }
    }

    [Test]
    public void VectorWidths_CalledDirectly_MatchScalarOracle()
    {
        foreach (int length in BitPackingTests.AwkwardLengths)
        {
            byte[] data = Sparse(length, length + 1);
            nuint end = (nuint)length;
            if (Vector256.IsHardwareAccelerated && length >= 32)
            {
                nuint offset = 0;
                ulong r = BitwiseScan.OrVector256(ref MemoryMarshal.GetArrayDataReference(data), end, ref offset);
                Assert.That((int)offset % 32, Is.Zero);
                Assert.That(r | BitwiseScan.OrWordsScalar(data.AsSpan((int)offset)), Is.EqualTo(BitwiseScan.OrWordsScalar(data)));
            }

            if (Vector128.IsHardwareAccelerated && length >= 16)
            {
                nuint offset = 0;
                ulong r = BitwiseScan.OrVector128(ref MemoryMarshal.GetArrayDataReference(data), end, ref offset);
                Assert.That(r | BitwiseScan.OrWordsScalar(data.AsSpan((int)offset)), Is.EqualTo(BitwiseScan.OrWordsScalar(data)));
            }
        }
    }

    [Test]
    public void FoldToLane_TailBytes_KeepTheirLane()
    {
        // 6 bytes of 2-byte elements: the third element's high byte is in the tail and must stay the high byte.
        byte[] data = [0, 0, 0, 0, 0, 0x80];
        Assert.That(BitwiseScan.FoldToLane(BitwiseScan.OrWords(data), 2), Is.EqualTo(0x8000UL));
        Assert.That(BitwiseScan.FoldToLane(BitwiseScan.OrWords(data), 1), Is.EqualTo(0x80UL));
        byte[] four = [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2];
        Assert.That(BitwiseScan.FoldToLane(BitwiseScan.OrWords(four), 4), Is.EqualTo(0x0201_0000UL));
    }
}
