using System.Buffers.Binary;
using NUnit.Framework;
using Z4Ai.Delta;

namespace Z4Ai.Tests.Delta;

public class DeltaEstimatorTests
{
    private const double One = 1 << DeltaEstimator.FractionBits;

    [Test]
    public void Log2_PowersOfTwo_AreExact()
    {
        for (int k = 0; k < 62; k++)
        {
            Assert.That(DeltaEstimator.Log2(1L << k), Is.EqualTo((long)k << DeltaEstimator.FractionBits), $"2^{k}");
        }
    }

    [Test]
    public void Log2_RandomValues_IsWithinTwoUnitsOfTheLastPlaceBelowTheTrueValue()
    {
        var random = new Random(5);
        for (int i = 0; i < 5000; i++)
        {
            long x = random.NextInt64(1, long.MaxValue >> random.Next(0, 62));
            double exact = Math.Log2(x) * One;
            long actual = DeltaEstimator.Log2(x);
            Assert.That(actual, Is.InRange(exact - 2, exact + 0.5), $"log2({x})");
        }
    }

    [Test]
    public void EstimateBits_ConstantUniformAndTail_MatchOrderZeroEntropy()
    {
        Assert.That(DeltaEstimator.EstimateBits(new byte[4096], 2), Is.Zero);

        // Every byte value once in each plane: 8 bits per byte.
        byte[] uniform = Enumerable.Range(0, 512).Select(i => (byte)(i % 2 == 0 ? i / 2 : 255 - (i / 2))).ToArray();
        Assert.That(DeltaEstimator.EstimateBits(uniform, 2) / One, Is.EqualTo(512 * 8).Within(0.01));
        Assert.That(DeltaEstimator.EstimateBits(uniform, 1) / One, Is.EqualTo(512 * 8).Within(0.01));

        // Low plane alternates two values (1 bit each), high plane constant (0 bits), and 1 tail byte at 8 bits.
        byte[] data = new byte[(2 * 64) + 1];
        for (int i = 0; i < 64; i++)
        {
            data[2 * i] = (byte)(i % 2);
            data[(2 * i) + 1] = 0x3F;
        }

        Assert.That(DeltaEstimator.EstimateBits(data, 2) / One, Is.EqualTo(64 + 8).Within(0.01));
    }

    [Test]
    public void Compress_LowBitFlipsBelowMaxEffort_PicksXorOverSubtract()
    {
        // Flipping the lowest bit is an XOR of exactly 1, but a difference of +1 or -1: XOR has less entropy.
        var random = new Random(9);
        byte[] reference = new byte[8192];
        random.NextBytes(reference);
        byte[] current = (byte[])reference.Clone();
        for (int i = 0; i < current.Length; i += 2)
        {
            if (random.Next(2) == 0)
            {
                current[i] ^= 1;
            }
        }

        byte[] delta = DeltaCodec.Compress(current, reference, DType.I16);
        Assert.That(DeltaCodec.Inspect(delta).Chunks.Select(c => c.Mode), Is.All.EqualTo(DeltaChunkMode.Xor));
        Assert.That(DeltaCodec.Decompress(delta, reference), Is.EqualTo(current));
    }

    [Test]
    public void Compress_SmallFloatStepsBelowMaxEffort_PicksSubtract()
    {
        byte[] reference = DeltaTestData.GaussianBf16(4096, 0.02f, seed: 12);
        byte[] current = (byte[])reference.Clone();
        for (int i = 0; i < current.Length; i += 2)
        {
            // One step down in value everywhere: borrows through the mantissa make the XOR ragged.
            ushort bits = BinaryPrimitives.ReadUInt16LittleEndian(current.AsSpan(i));
            BinaryPrimitives.WriteUInt16LittleEndian(current.AsSpan(i), (ushort)((bits & 0x8000) != 0 ? bits + 1 : bits - 1));
        }

        foreach (CompressionEffort effort in new[] { CompressionEffort.Fast, CompressionEffort.Default, CompressionEffort.Max })
        {
            byte[] delta = DeltaCodec.Compress(current, reference, DType.BF16, new DeltaOptions { Effort = effort, ChunkSize = 2048 });
            Assert.That(DeltaCodec.Inspect(delta).Chunks.Select(c => c.Mode), Is.All.EqualTo(DeltaChunkMode.Subtract), effort.ToString());
            Assert.That(DeltaCodec.Decompress(delta, reference), Is.EqualTo(current));
        }
    }
}
