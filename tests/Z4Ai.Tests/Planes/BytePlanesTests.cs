using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Planes;

namespace Z4Ai.Tests.Planes;

public class BytePlanesTests
{
    private const byte Sentinel = 0xA5;

    private delegate int WidthKernel(ReadOnlySpan<byte> source, Span<byte> destination, int elementSize);

    private static WidthKernel SplitAt(KernelWidth width) => width switch
    {
        KernelWidth.Vector128 => BytePlanes.SplitVector128,
        KernelWidth.Vector256 => BytePlanes.SplitVector256,
        _ => BytePlanes.SplitVector512,
    };

    private static WidthKernel MergeAt(KernelWidth width) => width switch
    {
        KernelWidth.Vector128 => BytePlanes.MergeVector128,
        KernelWidth.Vector256 => BytePlanes.MergeVector256,
        _ => BytePlanes.MergeVector512,
    };

    [Test]
    public void SplitVectorWidth_AwkwardLengths_MatchesScalarOracle(
        [Values] KernelWidth width, [Values(2, 4, 8)] int elementSize)
    {
        KernelWidths.RequireAccelerated(width);
        CheckWidthAgainstOracle(width, elementSize, split: true);
    }

    [Test]
    public void MergeVectorWidth_AwkwardLengths_MatchesScalarOracle(
        [Values] KernelWidth width, [Values(2, 4, 8)] int elementSize)
    {
        KernelWidths.RequireAccelerated(width);
        CheckWidthAgainstOracle(width, elementSize, split: false);
    }

    // Runs whatever the hardware, so the portable fallbacks inside the lane helpers (taken when an ISA is
    // disabled with DOTNET_Enable*=0) are checked too; the result must not depend on acceleration.
    [Test]
    public void VectorWidth_SoftwareEmulationOrHardware_MatchesScalarOracle([Values] KernelWidth width)
    {
        foreach (int elementSize in new[] { 2, 4, 8 })
        {
            CheckWidthAgainstOracle(width, elementSize, split: true, counts: [0, 65, 200]);
            CheckWidthAgainstOracle(width, elementSize, split: false, counts: [0, 65, 200]);
        }
    }

    [TestCase(3)]
    [TestCase(16)]
    public void VectorWidth_UnsupportedElementSize_DoesNothing(int elementSize)
    {
        byte[] source = KernelWidths.RandomBytes(elementSize * 100, elementSize);
        var destination = new byte[source.Length];
        foreach (KernelWidth width in Enum.GetValues<KernelWidth>())
        {
            Assert.That(SplitAt(width)(source, destination, elementSize), Is.Zero, width.ToString());
            Assert.That(MergeAt(width)(source, destination, elementSize), Is.Zero, width.ToString());
        }

        Assert.That(destination, Is.All.Zero);
    }

    [Test]
    public void Split_EveryElementSizeAndLength_MatchesScalarOracle([Values(1, 2, 3, 4, 5, 8, 16)] int elementSize)
    {
        foreach (int count in KernelWidths.AwkwardCounts)
        {
            for (int extra = 0; extra < elementSize; extra += Math.Max(1, elementSize - 1))
            {
                byte[] source = KernelWidths.RandomBytes((count * elementSize) + extra, count + extra);
                var expected = new byte[source.Length];
                var actual = new byte[source.Length];
                BytePlanes.SplitScalar(source, expected, elementSize);
                BytePlanes.Split(source, actual, elementSize);
                Assert.That(actual, Is.EqualTo(expected), $"count {count}, extra {extra}");

                var restored = new byte[source.Length];
                BytePlanes.Merge(actual, restored, elementSize);
                Assert.That(restored, Is.EqualTo(source), $"count {count}, extra {extra}");
            }
        }
    }

    [Test]
    public void SplitScalar_KnownInput_ProducesDocumentedLayout()
    {
        // Three 4-byte elements and two trailing bytes: plane k holds byte k of each element, then the tail.
        byte[] source = [0x10, 0x11, 0x12, 0x13, 0x20, 0x21, 0x22, 0x23, 0x30, 0x31, 0x32, 0x33, 0xE1, 0xE2];
        var planes = new byte[source.Length];
        BytePlanes.SplitScalar(source, planes, 4);
        Assert.That(planes, Is.EqualTo(new byte[]
        {
            0x10, 0x20, 0x30, 0x11, 0x21, 0x31, 0x12, 0x22, 0x32, 0x13, 0x23, 0x33, 0xE1, 0xE2,
        }));
    }

    [Test]
    public void Split_LongerDestination_WritesOnlySourceLength()
    {
        byte[] source = KernelWidths.RandomBytes(4 * 300, 7);
        byte[] destination = Enumerable.Repeat(Sentinel, source.Length + 40).ToArray();
        BytePlanes.Split(source, destination, 4);
        Assert.That(destination.AsSpan(source.Length).ToArray(), Is.All.EqualTo(Sentinel));
        var restored = Enumerable.Repeat(Sentinel, source.Length + 40).ToArray();
        BytePlanes.Merge(destination.AsSpan(0, source.Length), restored, 4);
        Assert.That(restored.AsSpan(0, source.Length).ToArray(), Is.EqualTo(source));
        Assert.That(restored.AsSpan(source.Length).ToArray(), Is.All.EqualTo(Sentinel));
    }

    [Test]
    public void SplitThenMerge_RandomBytesAndElementSizes_IsIdentity()
    {
        Arbitrary<(byte[] Data, int ElementSize)> arb =
            (from data in ArbMap.Default.GeneratorFor<byte[]>()
             from elementSize in Gen.Choose(1, 9)
             select (data, elementSize)).ToArbitrary();
        Prop.ForAll(arb, input =>
        {
            var planes = new byte[input.Data.Length];
            var restored = new byte[input.Data.Length];
            BytePlanes.Split(input.Data, planes, input.ElementSize);
            BytePlanes.Merge(planes, restored, input.ElementSize);
            return restored.AsSpan().SequenceEqual(input.Data);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(300));
    }

    [Test]
    public void Split_RandomLongerInputs_MatchesScalarOracle()
    {
        // Lengths up to a few vector blocks of 8-byte elements, so the vector paths are exercised, not only tails.
        Arbitrary<(int Length, int ElementSize, int Seed)> arb =
            (from length in Gen.Choose(0, 1700)
             from elementSize in Gen.Elements(2, 4, 8)
             from seed in Gen.Choose(0, int.MaxValue)
             select (length, elementSize, seed)).ToArbitrary();
        Prop.ForAll(arb, input =>
        {
            byte[] data = KernelWidths.RandomBytes(input.Length, input.Seed);
            var expected = new byte[data.Length];
            var actual = new byte[data.Length];
            BytePlanes.SplitScalar(data, expected, input.ElementSize);
            BytePlanes.Split(data, actual, input.ElementSize);

            // The same bytes read as planes: Merge must agree with its oracle on any input, not only on its inverse.
            var expectedMerge = new byte[data.Length];
            var actualMerge = new byte[data.Length];
            BytePlanes.MergeScalar(data, expectedMerge, input.ElementSize);
            BytePlanes.Merge(data, actualMerge, input.ElementSize);
            return actual.AsSpan().SequenceEqual(expected) && actualMerge.AsSpan().SequenceEqual(expectedMerge);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(200));
    }

    [Test]
    public void Split_ElementSizeZero_ThrowsArgumentOutOfRange() =>
        Assert.That(() => BytePlanes.Split(new byte[4], new byte[4], 0), Throws.InstanceOf<ArgumentOutOfRangeException>());

    [Test]
    public void Merge_DestinationOneByteShort_ThrowsArgumentOutOfRange() =>
        Assert.That(() => BytePlanes.Merge(new byte[64], new byte[63], 2), Throws.InstanceOf<ArgumentOutOfRangeException>());

    [Test]
    public void SplitVector256_DestinationOneByteShort_ThrowsArgumentOutOfRange() =>
        Assert.That(() => BytePlanes.SplitVector256(new byte[256], new byte[255], 4), Throws.InstanceOf<ArgumentOutOfRangeException>());

    [Test]
    public void Split_OverlappingSpans_ThrowsArgumentException()
    {
        var buffer = new byte[200];
        Assert.That(() => BytePlanes.Split(buffer.AsSpan(0, 100), buffer.AsSpan(50, 100), 2), Throws.ArgumentException);
        Assert.That(() => BytePlanes.MergeVector128(buffer.AsSpan(0, 100), buffer.AsSpan(0, 100), 2), Throws.ArgumentException);
    }

    private static void CheckWidthAgainstOracle(KernelWidth width, int elementSize, bool split, int[]? counts = null)
    {
        WidthKernel kernel = split ? SplitAt(width) : MergeAt(width);
        int block = KernelWidths.BlockElements(width);
        foreach (int count in counts ?? KernelWidths.AwkwardCounts)
        {
            // Whole elements plus a misfit tail of elementSize - 1 bytes (the tail must be left to the caller).
            foreach (int extra in new[] { 0, elementSize - 1 })
            {
                int length = (count * elementSize) + extra;
                byte[] source = KernelWidths.RandomBytes(length, (count * 31) + extra + elementSize);
                var expected = new byte[length];
                if (split)
                {
                    BytePlanes.SplitScalar(source, expected, elementSize);
                }
                else
                {
                    BytePlanes.MergeScalar(source, expected, elementSize);
                }

                byte[] actual = Enumerable.Repeat(Sentinel, length + 16).ToArray();
                int done = kernel(source, actual, elementSize);
                string where = $"{width}, element size {elementSize}, count {count}, extra {extra}";
                Assert.That(done, Is.EqualTo(count / block * block), where);

                // The width method writes exactly its blocks: in plane order for split, element order for merge.
                for (int k = 0; k < elementSize; k++)
                {
                    for (int i = 0; i < count; i++)
                    {
                        int at = split ? (k * count) + i : (i * elementSize) + k;
                        byte want = i < done ? expected[at] : Sentinel;
                        if (actual[at] != want)
                        {
                            Assert.Fail($"{where}: byte {at} (plane {k}, element {i}) is {actual[at]:X2}, expected {want:X2}");
                        }
                    }
                }

                Assert.That(actual.AsSpan(count * elementSize).ToArray(), Is.All.EqualTo(Sentinel), where);

                if (split)
                {
                    BytePlanes.SplitScalarFrom(source, actual, elementSize, done);
                }
                else
                {
                    BytePlanes.MergeScalarFrom(source, actual, elementSize, done);
                }

                Assert.That(actual.AsSpan(0, length).ToArray(), Is.EqualTo(expected), where);
            }
        }
    }
}
