using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Codecs;

namespace Z4Ai.Tests.Mutation;

/// <summary>
/// Exact values for the small codec kernels (zigzag delta, group shift, negative zeros, codec names), written against
/// Stryker's surviving mutants: a round trip alone lets a wrong-but-invertible mapping through, fixed bytes do not.
/// </summary>
public class CodecKernelsMutationTests
{
    [Test]
    public void ZigZagDelta_Forward_KnownBytes()
    {
        // 8-bit: 5, 7 (+2), 6 (-1), 6 (0), 0 (-6), 255 (-1 wrapped) -> 5, 4, 1, 0, 11, 1.
        byte[] source = [5, 7, 6, 6, 0, 255];
        byte[] deltas = new byte[source.Length];
        ZigZagDelta.Forward(source, deltas, 1);
        Assert.That(deltas, Is.EqualTo(new byte[] { 5, 4, 1, 0, 11, 1 }));

        // 16-bit little-endian: 0x0100, 0x00FF (-1), 0x8000 (+0x7F01 -> zigzag 0xFE02).
        byte[] words = [0x00, 0x01, 0xFF, 0x00, 0x00, 0x80];
        byte[] wordDeltas = new byte[6];
        ZigZagDelta.Forward(words, wordDeltas, 2);
        Assert.That(wordDeltas, Is.EqualTo(new byte[] { 0x00, 0x01, 0x01, 0x00, 0x02, 0xFE }));
    }

    [TestCase(4)]
    [TestCase(8)]
    public void ZigZagDelta_Forward_WideElements_KnownValues(int size)
    {
        // Elements 10, 7 (-3 -> 5), 12 (+5 -> 10), 0 (-12 -> 23), max (-1 wrapped -> 1).
        ulong max = size == 8 ? ulong.MaxValue : uint.MaxValue;
        ulong[] values = [10, 7, 12, 0, max];
        byte[] source = new byte[values.Length * size];
        for (int i = 0; i < values.Length; i++)
        {
            BitConverter.GetBytes(values[i]).AsSpan(0, size).CopyTo(source.AsSpan(i * size));
        }

        byte[] deltas = new byte[source.Length];
        ZigZagDelta.Forward(source, deltas, size);
        ulong[] expected = [10, 5, 10, 23, 1];
        for (int i = 0; i < expected.Length; i++)
        {
            ulong actual = size == 8 ? BitConverter.ToUInt64(deltas, i * size) : BitConverter.ToUInt32(deltas, i * size);
            Assert.That(actual, Is.EqualTo(expected[i]), $"element {i}");
        }

        byte[] back = new byte[source.Length];
        ZigZagDelta.Inverse(deltas, back, size);
        Assert.That(back, Is.EqualTo(source));
    }

    [Test]
    public void ZigZagDelta_Extremes_RoundTripInEveryWidth()
    {
        foreach (int size in new[] { 1, 2, 4, 8 })
        {
            // Signed min, max, 0, max, min, 1 as little-endian patterns: the largest jumps either way.
            byte[] min = new byte[size];
            min[size - 1] = 0x80;
            byte[] max = Enumerable.Repeat((byte)0xFF, size).ToArray();
            max[size - 1] = 0x7F;
            byte[] one = new byte[size];
            one[0] = 1;
            byte[] source = [.. min, .. max, .. new byte[size], .. max, .. min, .. one];
            byte[] deltas = new byte[source.Length];
            byte[] back = new byte[source.Length];
            ZigZagDelta.Forward(source, deltas, size);
            ZigZagDelta.Inverse(deltas, back, size);
            Assert.That(back, Is.EqualTo(source), $"size {size}");
        }
    }

    [Test]
    public void ZigZagDelta_RandomInput_RoundTrips()
    {
        Prop.ForAll(
            Gen.Elements(1, 2, 4, 8).SelectMany(size => Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>()).Select(b => (size, b))).ToArbitrary(),
            t =>
            {
                (int size, byte[] raw) = t;
                byte[] source = raw[..(raw.Length / size * size)];
                byte[] deltas = new byte[source.Length];
                byte[] back = new byte[source.Length];
                ZigZagDelta.Forward(source, deltas, size);
                ZigZagDelta.Inverse(deltas, back, size);
                return back.AsSpan().SequenceEqual(source);
            }).Check(Config.QuickThrowOnFailure.WithMaxTest(200));
    }

    [TestCase(3, 6, 6)]
    [TestCase(2, 3, 3)]
    [TestCase(2, 4, 6)]
    [TestCase(16, 16, 16)]
    public void ZigZagDelta_BadSizes_Throw(int elementSize, int sourceLength, int destinationLength)
    {
        var error = Assert.Throws<ArgumentException>(() => ZigZagDelta.Forward(new byte[sourceLength], new byte[destinationLength], elementSize));
        Assert.That(error!.Message, Does.Contain($"whole {elementSize}-byte elements"));
        Assert.Throws<ArgumentException>(() => ZigZagDelta.Inverse(new byte[sourceLength], new byte[destinationLength], elementSize));
    }

    [Test]
    public void ZigZagDelta_IsSupported_ExactlyOneTwoFourEight()
    {
        int[] supported = [.. Enumerable.Range(0, 17).Where(ZigZagDelta.IsSupported)];
        Assert.That(supported, Is.EqualTo(new[] { 1, 2, 4, 8 }));
    }

    [Test]
    public void GroupShift_Forward_AddsEachGroupsOffsetModulo256()
    {
        // Long enough for the vector path in each group, plus a short tail group.
        int groupLength = 70;
        byte[] symbols = [.. Enumerable.Range(0, 150).Select(i => (byte)(i * 7))];
        byte[] offsets = [3, 0, 250];
        byte[] shifted = new byte[symbols.Length];
        GroupShift.Forward(symbols, offsets, groupLength, shifted);
        for (int i = 0; i < symbols.Length; i++)
        {
            Assert.That(shifted[i], Is.EqualTo((byte)(symbols[i] + offsets[i / groupLength])), $"symbol {i}");
        }

        GroupShift.Inverse(shifted, offsets, groupLength);
        Assert.That(shifted, Is.EqualTo(symbols));
    }

    [Test]
    public void GroupShift_RandomGroups_RoundTrip()
    {
        Prop.ForAll(
            ArbMap.Default.ArbFor<byte[]>(),
            ArbMap.Default.ArbFor<PositiveInt>(),
            (symbols, group) =>
            {
                int groupLength = (group.Get % 97) + 1;
                byte[] offsets = [.. Enumerable.Range(0, (symbols.Length / groupLength) + 1).Select(g => (byte)((g * 37) + 1))];
                byte[] shifted = new byte[symbols.Length];
                GroupShift.Forward(symbols, offsets, groupLength, shifted);
                bool forwardRight = Enumerable.Range(0, symbols.Length).All(i => shifted[i] == (byte)(symbols[i] + offsets[i / groupLength]));
                GroupShift.Inverse(shifted, offsets, groupLength);
                return forwardRight && shifted.AsSpan().SequenceEqual(symbols);
            }).Check(Config.QuickThrowOnFailure.WithMaxTest(200));
    }

    [Test]
    public void NegativeZeros_Count_SeparatesSignsPerWidth()
    {
        byte[] halves = [0x00, 0x80, 0x00, 0x00, 0x00, 0x80, 0x01, 0x00, 0x00, 0x3C];
        Assert.That(NegativeZeros.Count(halves, 2), Is.EqualTo((2, 1)));

        byte[] singles = [.. BitConverter.GetBytes(-0f), .. BitConverter.GetBytes(0f), .. BitConverter.GetBytes(0f), .. BitConverter.GetBytes(1f)];
        Assert.That(NegativeZeros.Count(singles, 4), Is.EqualTo((1, 2)));

        byte[] doubles = [.. BitConverter.GetBytes(-0d), .. BitConverter.GetBytes(-0d), .. BitConverter.GetBytes(2d), .. BitConverter.GetBytes(0d)];
        Assert.That(NegativeZeros.Count(doubles, 8), Is.EqualTo((2, 1)));

        Assert.That(NegativeZeros.Count([0, 0, 0x80], 1), Is.EqualTo((0, 0)));
    }

    [Test]
    public void NegativeZeros_SplitAndRestore_KnownSignBitsLsbFirst()
    {
        // f32: -0, 1, +0, -0, -0, +0, +0, +0, +0, -0 -> zeros in order: -,+,-,-,+,+,+,+,- -> bits 1,0,1,1,0,0,0,0 | 1.
        float[] values = [-0f, 1f, 0f, -0f, -0f, 0f, 0f, 0f, 0f, -0f];
        byte[] data = [.. values.SelectMany(BitConverter.GetBytes)];
        byte[] cleaned = new byte[data.Length];
        byte[] signs = [0xFF, 0xFF];
        int zeros = NegativeZeros.Split(data, 4, cleaned, signs);
        Assert.That(zeros, Is.EqualTo(9));
        Assert.That(signs, Is.EqualTo(new byte[] { 0b0000_1101, 0b0000_0001 }));
        Assert.That(NegativeZeros.Count(cleaned, 4), Is.EqualTo((0, 9)));
        Assert.That(BitConverter.ToSingle(cleaned, 4), Is.EqualTo(1f));

        byte[] restored = (byte[])cleaned.Clone();
        Assert.That(NegativeZeros.Restore(restored, 4, signs, zeros), Is.True);
        Assert.That(restored, Is.EqualTo(data));
    }

    [TestCase(2)]
    [TestCase(8)]
    public void NegativeZeros_SplitAndRestore_OtherWidths(int size)
    {
        byte[] data = new byte[size * 5];
        data[size - 1] = 0x80;          // -0
        data[(2 * size) - 1] = 0x3F;    // nonzero
        data[(4 * size) - 1] = 0x80;    // -0 (elements 2 and 4 are +0)
        byte[] cleaned = new byte[data.Length];
        byte[] signs = new byte[1];
        Assert.That(NegativeZeros.Split(data, size, cleaned, signs), Is.EqualTo(4));
        Assert.That(signs[0], Is.EqualTo(0b0101));
        Assert.That(NegativeZeros.Count(cleaned, size), Is.EqualTo((0, 4)));
        Assert.That(NegativeZeros.Restore(cleaned, size, signs, 4), Is.True);
        Assert.That(cleaned, Is.EqualTo(data));
    }

    [Test]
    public void NegativeZeros_Restore_WrongZeroCount_ReturnsFalse()
    {
        byte[] values = [.. new[] { 0f, 1f, 0f }.SelectMany(BitConverter.GetBytes)];
        Assert.That(NegativeZeros.Restore((byte[])values.Clone(), 4, [0b11], 1), Is.False, "more zeros than recorded");
        Assert.That(NegativeZeros.Restore((byte[])values.Clone(), 4, [0b11], 3), Is.False, "fewer zeros than recorded");
        Assert.That(NegativeZeros.Restore((byte[])values.Clone(), 4, [0b11], 2), Is.True);
    }

    [Test]
    public void CodecNames_EveryIdAndUnknown()
    {
        Assert.That(CodecNames.Get(0), Is.EqualTo("stored"));
        Assert.That(CodecNames.Get(1), Is.EqualTo("zstd"));
        Assert.That(CodecNames.Get(2), Is.EqualTo("planes+zstd"));
        Assert.That(CodecNames.Get(3), Is.EqualTo("recipe"));
        Assert.That(CodecNames.Get(77), Is.EqualTo("codec-77"));
        Assert.That((byte)CodecId.Recipe, Is.EqualTo(3), "ids are part of the file format");
    }
}
