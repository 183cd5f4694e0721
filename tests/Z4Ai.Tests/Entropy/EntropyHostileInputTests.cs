using NUnit.Framework;
using Z4Ai.Entropy;
using static Z4Ai.Tests.Entropy.EntropyTestHelpers;

namespace Z4Ai.Tests.Entropy;

/// <summary>
/// Truncated, bit-flipped and random payloads: decoding may succeed with wrong symbols (integrity is checked by
/// SHA-256 above this layer) but the only exception allowed out is <see cref="Z4AiFormatException"/>.
/// </summary>
public class EntropyHostileInputTests
{
    private static IEnumerable<TestCaseData> Cases() =>
        from m in AllMethodIds from bits in new[] { 5, 8 } select new TestCaseData(m, bits);

    [TestCaseSource(nameof(Cases))]
    public void Decode_EveryTruncation_ThrowsOnlyFormatExceptions(int methodId, int alphabetBits)
    {
        var method = (EntropyMethod)methodId;
        byte[] symbols = SmallStream(alphabetBits, 600);
        byte[] encoded = Encode(symbols, method, alphabetBits, 20);
        for (int length = 0; length < encoded.Length; length++)
        {
            AssertOnlyFormatErrors(encoded.AsSpan(0, length).ToArray(), symbols.Length, method, alphabetBits);
        }

        // The payload is exactly consumed: one byte more is as corrupt as one byte less.
        byte[] longer = [.. encoded, 0];
        Assert.Throws<Z4AiFormatException>(() => Decode(longer, symbols.Length, method, alphabetBits, 20));
    }

    [TestCaseSource(nameof(Cases))]
    public void Decode_RandomBitFlips_ThrowOnlyFormatExceptions(int methodId, int alphabetBits)
    {
        var method = (EntropyMethod)methodId;
        byte[] symbols = SmallStream(alphabetBits, 2000);
        byte[] encoded = Encode(symbols, method, alphabetBits, 20);
        var random = new Random(alphabetBits * 31 + methodId);
        for (int trial = 0; trial < 400; trial++)
        {
            byte[] mutated = encoded.ToArray();
            int flips = 1 + random.Next(3);
            for (int f = 0; f < flips; f++)
            {
                // Flips near the front hit the tables and states, the most sensitive parts.
                int at = trial % 2 == 0 ? random.Next(Math.Min(mutated.Length, 48)) : random.Next(mutated.Length);
                mutated[at] ^= (byte)(1 << random.Next(8));
            }

            AssertOnlyFormatErrors(mutated, symbols.Length, method, alphabetBits);
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void Decode_RandomGarbage_ThrowsOnlyFormatExceptions(int methodId, int alphabetBits)
    {
        var method = (EntropyMethod)methodId;
        var random = new Random(methodId * 7 + alphabetBits);
        for (int trial = 0; trial < 300; trial++)
        {
            byte[] garbage = new byte[random.Next(0, 200)];
            random.NextBytes(garbage);
            int count = trial % 3 == 0 ? random.Next(0, 5) : random.Next(0, 3000);
            AssertOnlyFormatErrors(garbage, count, method, alphabetBits);
        }
    }

    [TestCaseSource(typeof(EntropyTestHelpers), nameof(AllMethodIds))]
    public void Decode_TinyPayloadForHugeCount_FailsFast(int methodId)
    {
        var method = (EntropyMethod)methodId;
        byte[] encoded = Encode(SmallStream(8, 100), method);
        byte[] symbols = new byte[16 << 20];
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.Throws<Z4AiFormatException>(() => EntropyCoder.Decode(encoded, method, 8, 0, symbols));
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(20)));
    }

    [TestCase((int)EntropyMethod.RansOrder0)]
    [TestCase((int)EntropyMethod.RansOrder1)]
    public void Decode_RansCountOneShortOrOneLong_Throws(int methodId)
    {
        var method = (EntropyMethod)methodId;
        byte[] symbols = SmallStream(8, 1001);
        byte[] encoded = Encode(symbols, method);
        Assert.That(Decode(encoded, symbols.Length, method), Is.EqualTo(symbols));
        Assert.Throws<Z4AiFormatException>(() => Decode(encoded, symbols.Length - 1, method));
        Assert.Throws<Z4AiFormatException>(() => Decode(encoded, symbols.Length + 1, method));
    }

    [Test]
    public void Decode_ContextMixingWrongCount_ThrowsOnlyFormatExceptions()
    {
        // The arithmetic coder may end on a byte boundary one symbol early, so a wrong count is not always
        // detectable here (the frame's SHA-256 is); it must still never escape as another exception.
        byte[] symbols = SmallStream(8, 1001);
        byte[] encoded = Encode(symbols, EntropyMethod.ContextMixing);
        AssertOnlyFormatErrors(encoded, symbols.Length - 1, EntropyMethod.ContextMixing, 8);
        Assert.Throws<Z4AiFormatException>(() => Decode(encoded, symbols.Length + 100, EntropyMethod.ContextMixing, 8, 20));
    }

    [TestCaseSource(typeof(EntropyTestHelpers), nameof(AllMethodIds))]
    public void Decode_EmptyCountWithPayload_Throws(int methodId) =>
        Assert.Throws<Z4AiFormatException>(() => Decode([1, 2, 3], 0, (EntropyMethod)methodId));

    [Test]
    public void Decode_RansTableWithOversizedFrequencies_Throws()
    {
        // Order 0, precision 4, symbols 0..1, first frequency 16 (= the whole total, leaving nothing for the last).
        var writer = new BitWriter();
        writer.Write(4, 4);
        writer.Write(0, 8);
        writer.Write(1, 8);
        writer.WriteExpGolomb(16, 0);
        byte[] payload = [.. writer.Finish(), .. new byte[16]];
        var ex = Assert.Throws<Z4AiFormatException>(() => Decode(payload, 10, EntropyMethod.RansOrder0));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.CorruptFrame));
    }

    [Test]
    public void Decode_RansOrder1WithMoreTablesThanSymbols_Throws()
    {
        // Every one of 256 contexts claims its own table, for a 3-symbol stream.
        var writer = new BitWriter();
        writer.Write(1, 1);
        writer.Write(0, 8);
        writer.Write(255, 8);
        for (int c = 0; c < 256; c++)
        {
            writer.Write(1, 1);
        }

        writer.Write(0, 1);
        byte[] payload = [.. writer.Finish(), .. new byte[64]];
        Assert.Throws<Z4AiFormatException>(() => Decode(payload, 3, EntropyMethod.RansOrder1));
    }

    private static byte[] SmallStream(int alphabetBits, int length)
    {
        byte[] symbols = ExponentStreams.Geometric(length, 0.3, alphabetBits, length + alphabetBits);
        for (int i = 0; i < symbols.Length; i += 37)
        {
            symbols[i] = (byte)((1 << alphabetBits) - 1 - (i % 3));
        }

        return symbols;
    }

    private static void AssertOnlyFormatErrors(byte[] payload, int count, EntropyMethod method, int alphabetBits)
    {
        try
        {
            byte[] decoded = Decode(payload, count, method, alphabetBits, 20);
            Assert.That(decoded.All(s => s < 1 << alphabetBits), Is.True, "decoded symbols stay inside the alphabet");
        }
        catch (Z4AiFormatException ex)
        {
            Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.CorruptFrame));
        }
    }
}
