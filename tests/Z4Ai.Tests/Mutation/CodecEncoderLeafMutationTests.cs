using System.Buffers;
using NUnit.Framework;
using Z4Ai.Codecs;
using Z4Ai.Entropy;

namespace Z4Ai.Tests.Mutation;

/// <summary>
/// The recipe encoder's leaf writers and its saving test, with exact bytes and boundaries: the stored leaf, the
/// entropy header of each method (the row length only for context mixing), and <see cref="RecipeEncoder.Saves"/> at
/// exactly the required percentage, one unit either side, and at equal sizes. Aimed at Stryker's
/// mutants in the encoder (written from the code; the encoder had no mutation report yet).
/// </summary>
public class CodecEncoderLeafMutationTests
{
    [TestCase(97, 100, 3, true)]
    [TestCase(98, 100, 3, false)]
    [TestCase(96, 100, 3, true)]
    [TestCase(99, 100, 0, true)]
    [TestCase(100, 100, 0, false)]
    [TestCase(101, 100, 0, false)]
    [TestCase(99, 100, 1, true)]
    [TestCase(100, 100, 1, false)]
    [TestCase(0, 1, 100, true)]
    [TestCase(1, 1, 100, false)]
    [TestCase(2_000_000_000L, 2_100_000_000L, 3, true)]
    [TestCase(2_040_000_000L, 2_100_000_000L, 3, false)]
    public void Saves_AtAndAroundThePercentage_IsExact(long candidate, long current, int percent, bool expected) =>
        Assert.That(RecipeEncoder.Saves(candidate, current, percent), Is.EqualTo(expected));

    [Test]
    public void WriteStored_AppendsKindThenBytes_ReturnsLengthPlusOne()
    {
        var output = new ArrayBufferWriter<byte>();
        output.Write(new byte[] { 0xEE });
        int written = RecipeEncoder.WriteStored(new byte[] { 5, 6, 7 }, output);
        Assert.That(written, Is.EqualTo(4));
        Assert.That(output.WrittenSpan.ToArray(), Is.EqualTo(new byte[] { 0xEE, 0, 5, 6, 7 }));

        var empty = new ArrayBufferWriter<byte>();
        Assert.That(RecipeEncoder.WriteStored(ReadOnlySpan<byte>.Empty, empty), Is.EqualTo(1));
        Assert.That(empty.WrittenSpan.ToArray(), Is.EqualTo(new byte[] { 0 }));
    }

    [TestCase(1, 8, 300, new byte[] { 2, 1, 8 })]
    [TestCase(2, 5, 300, new byte[] { 2, 2, 5 })]
    [TestCase(3, 8, 0, new byte[] { 2, 3, 8, 0 })]
    [TestCase(3, 3, 127, new byte[] { 2, 3, 3, 127 })]
    [TestCase(3, 8, 300, new byte[] { 2, 3, 8, 0xAC, 0x02 })]
    [TestCase(4, 4, 4096, new byte[] { 2, 4, 4, 0x80, 0x20 })]
    [TestCase(4, 8, 64, new byte[] { 2, 4, 8, 64 })]
    public void WriteEntropyHeader_EachMethod_WritesKindMethodBitsAndRowOnlyForContextMixing(int method, int bits, int row, byte[] expected)
    {
        var output = new ArrayBufferWriter<byte>();
        output.Write(new byte[] { 0xEE });
        int written = RecipeEncoder.WriteEntropyHeader((EntropyMethod)method, bits, row, output);
        Assert.That(written, Is.EqualTo(expected.Length));
        Assert.That(output.WrittenSpan.ToArray(), Is.EqualTo(new byte[] { 0xEE }.Concat(expected).ToArray()));
    }
}
