using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Entropy;
using static Z4Ai.Tests.Entropy.EntropyTestHelpers;

namespace Z4Ai.Tests.Entropy;

public class EntropyCoderTests
{
    // Around the lane split (4 states) and the usual vector boundaries.
    private static readonly int[] s_awkwardLengths =
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256, 511, 512, 513];

    private static IEnumerable<TestCaseData> MethodsAndLengths() =>
        from m in AllMethodIds from n in s_awkwardLengths select new TestCaseData(m, n);

    [TestCaseSource(nameof(MethodsAndLengths))]
    public void Decode_AwkwardLengths_RestoresSkewedAndUniformSymbols(int methodId, int length)
    {
        var method = (EntropyMethod)methodId;
        Assert.That(RoundTrips(ExponentStreams.Geometric(length, 0.4, 8, length), method, 8, 7), Is.True);
        Assert.That(RoundTrips(ExponentStreams.Uniform(length, 8, length + 1), method), Is.True);
        Assert.That(RoundTrips(ExponentStreams.Uniform(length, 5, length + 2), method, 5, 3), Is.True);
    }

    [TestCaseSource(typeof(EntropyTestHelpers), nameof(AllMethodIds))]
    public void Decode_RandomStreams_RoundTrip(int methodId)
    {
        var method = (EntropyMethod)methodId;
        Gen<(byte[] Symbols, int Bits, int Row)> cases =
            from length in Gen.Choose(0, 5000)
            from bits in Gen.Choose(1, 8)
            from kind in Gen.Choose(0, 2)
            from seed in Gen.Choose(0, int.MaxValue)
            from row in Gen.Choose(0, 300)
            select (kind switch
            {
                0 => ExponentStreams.Uniform(length, bits, seed),
                1 => ExponentStreams.Geometric(length, 0.05 + (seed % 90 / 100.0), bits, seed),
                _ => Enumerable.Repeat((byte)(seed & ((1 << bits) - 1)), length).ToArray(),
            }, bits, row);
        Prop.ForAll(cases.ToArbitrary(), c => RoundTrips(c.Symbols, method, c.Bits, c.Row))
            .Check(Config.QuickThrowOnFailure.WithMaxTest(150));
    }

    [TestCaseSource(typeof(EntropyTestHelpers), nameof(AllMethodIds))]
    public void Decode_ArbitraryBytes_RoundTrip(int methodId)
    {
        var method = (EntropyMethod)methodId;
        Prop.ForAll(ArbMap.Default.GeneratorFor<byte>().ArrayOf().ToArbitrary(), symbols => RoundTrips(symbols, method))
            .Check(Config.QuickThrowOnFailure.WithMaxTest(200));
    }

    [TestCaseSource(typeof(EntropyTestHelpers), nameof(AllMethodIds))]
    public void Decode_SingleSymbolStreams_RoundTripInAFewBytes(int methodId)
    {
        var method = (EntropyMethod)methodId;
        foreach (byte s in new byte[] { 0, 1, 127, 255 })
        {
            byte[] symbols = Enumerable.Repeat(s, 100_000).ToArray();
            byte[] encoded = Encode(symbols, method);
            Assert.That(Decode(encoded, symbols.Length, method), Is.EqualTo(symbols));
            // The wide method's body always starts with its 64 states.
            int limit = method switch
            {
                EntropyMethod.ContextMixing => 200,
                EntropyMethod.RansOrder0Wide => WideRans.StateBytes + 24,
                _ => 40,
            };
            Assert.That(encoded, Has.Length.LessThan(limit), $"symbol {s}");
        }
    }

    [TestCaseSource(typeof(EntropyTestHelpers), nameof(AllMethodIds))]
    public void Decode_All256Symbols_RoundTrip(int methodId)
    {
        var method = (EntropyMethod)methodId;
        byte[] symbols = new byte[256 * 40];
        var random = new Random(256);
        for (int i = 0; i < symbols.Length; i++)
        {
            symbols[i] = (byte)(i < 256 ? i : random.Next(256));
        }

        Assert.That(RoundTrips(symbols, method), Is.True);
        Assert.That(RoundTrips(symbols.Reverse().ToArray(), method, 8, 256), Is.True);
    }

    [TestCaseSource(typeof(EntropyTestHelpers), nameof(AllMethodIds))]
    public void Decode_OneMebibyteStreams_RoundTrip(int methodId)
    {
        var method = (EntropyMethod)methodId;
        const int Length = 1 << 20;
        Assert.That(RoundTrips(ExponentStreams.Uniform(Length, 8, 1), method), Is.True);
        Assert.That(RoundTrips(ExponentStreams.Geometric(Length, 0.3, 8, 2), method, 8, 1024), Is.True);
        Assert.That(RoundTrips(ExponentStreams.GaussianBf16Exponents(1024, 1024, 3, 3), method, 8, 1024), Is.True);
    }

    [TestCaseSource(typeof(EntropyTestHelpers), nameof(AllMethodIds))]
    public void Encode_EmptyInput_WritesNothingAndDecodes(int methodId)
    {
        var method = (EntropyMethod)methodId;
        Assert.That(Encode([], method), Is.Empty);
        Assert.That(Decode([], 0, method), Is.Empty);
    }

    [TestCaseSource(typeof(EntropyTestHelpers), nameof(AllMethodIds))]
    public void Encode_SymbolOutsideAlphabet_ThrowsArgumentException(int methodId)
    {
        var method = (EntropyMethod)methodId;
        byte[] symbols = [1, 2, 3, 32, 4];
        Assert.Throws<ArgumentException>(() => Encode(symbols, method, alphabetBits: 5));
        Assert.Throws<ArgumentException>(() => EntropyCoder.Choose(symbols, CompressionEffort.Max, 5, 0));
        Assert.That(RoundTrips(symbols, method, alphabetBits: 6), Is.True);
    }

    [Test]
    public void Encode_BadArguments_ThrowArgumentExceptions()
    {
        var writer = new ArrayBufferWriter<byte>();
        Assert.Throws<ArgumentOutOfRangeException>(() => EntropyCoder.Encode([1], EntropyMethod.RansOrder0, 0, 0, writer));
        Assert.Throws<ArgumentOutOfRangeException>(() => EntropyCoder.Encode([1], EntropyMethod.RansOrder0, 9, 0, writer));
        Assert.Throws<ArgumentOutOfRangeException>(() => EntropyCoder.Encode([1], EntropyMethod.RansOrder0, 8, -1, writer));
        Assert.Throws<ArgumentOutOfRangeException>(() => EntropyCoder.Encode([1], (EntropyMethod)9, 8, 0, writer));
        Assert.Throws<ArgumentOutOfRangeException>(() => EntropyCoder.Decode([1], (EntropyMethod)0, 8, 0, new byte[1]));
        Assert.Throws<ArgumentNullException>(() => EntropyCoder.Encode([1], EntropyMethod.RansOrder0, 8, 0, null!));
    }

    [TestCaseSource(typeof(EntropyTestHelpers), nameof(AllMethodIds))]
    public void Encode_SameInputTwice_GivesIdenticalBytes(int methodId)
    {
        var method = (EntropyMethod)methodId;
        byte[] symbols = ExponentStreams.GaussianBf16Exponents(64, 256, 3, 11);
        Assert.That(Encode(symbols, method, 8, 256), Is.EqualTo(Encode(symbols.ToArray(), method, 8, 256)));
    }

    [Test]
    public void Encode_AppendsAfterExistingOutput()
    {
        var writer = new ArrayBufferWriter<byte>();
        writer.Write(new byte[] { 0xAA, 0xBB });
        byte[] symbols = ExponentStreams.Geometric(1000, 0.3, 8, 5);
        int written = EntropyCoder.Encode(symbols, EntropyMethod.RansOrder1, 8, 0, writer);
        Assert.That(writer.WrittenCount, Is.EqualTo(written + 2));
        Assert.That(Decode(writer.WrittenSpan[2..], symbols.Length, EntropyMethod.RansOrder1), Is.EqualTo(symbols));
    }

    [Test]
    public void Choose_FastEffort_PicksOrder0WithAccurateEstimate()
    {
        byte[] symbols = ExponentStreams.GaussianBf16Exponents(256, 512, 3, 7);
        (EntropyMethod method, long estimate) = EntropyCoder.Choose(symbols, CompressionEffort.Fast, 8, 512);
        Assert.That(method, Is.EqualTo(EntropyMethod.RansOrder0));
        Assert.That(estimate, Is.EqualTo(Encode(symbols, method).Length).Within(0.5).Percent);
    }

    [Test]
    public void Choose_RowScaledExponents_PicksOrder1ByDefaultAndMixingAtMax()
    {
        byte[] symbols = ExponentStreams.GaussianBf16Exponents(256, 1024, 3, 8);
        (EntropyMethod method, long estimate) = EntropyCoder.Choose(symbols, CompressionEffort.Default, 8, 1024);
        Assert.That(method, Is.EqualTo(EntropyMethod.RansOrder1));
        Assert.That(estimate, Is.EqualTo(Encode(symbols, method, 8, 1024).Length).Within(0.5).Percent);

        (method, estimate) = EntropyCoder.Choose(symbols, CompressionEffort.Max, 8, 1024);
        Assert.That(method, Is.EqualTo(EntropyMethod.ContextMixing));
        Assert.That(Encode(symbols, method, 8, 1024), Has.Length.LessThanOrEqualTo(estimate));
    }

    [Test]
    public void Choose_UniformBytes_PicksOrder0AtEveryEffort()
    {
        byte[] symbols = ExponentStreams.Uniform(20_000, 8, 9);
        foreach (CompressionEffort effort in Enum.GetValues<CompressionEffort>())
        {
            Assert.That(EntropyCoder.Choose(symbols, effort, 8, 0).Method, Is.EqualTo(EntropyMethod.RansOrder0), effort.ToString());
        }
    }

    [Test]
    public void Choose_EmptyInput_ReturnsZeroBytes() =>
        Assert.That(EntropyCoder.Choose([], CompressionEffort.Max, 8, 0), Is.EqualTo((EntropyMethod.RansOrder0, 0L)));

    [Test]
    public void Order1Rans_SmallAlphabetTables_CostLessThanByteAlphabetTables()
    {
        byte[] symbols = ExponentStreams.Geometric(3000, 0.35, 5, 12);
        Assert.That(Encode(symbols, EntropyMethod.RansOrder1, 5).Length, Is.LessThanOrEqualTo(Encode(symbols, EntropyMethod.RansOrder1, 8).Length));
    }

    [Test]
    public void Order1Rans_ShortStreamOverWideAlphabet_DecodesWithSharedTables()
    {
        // A codebook's byte plane: a few thousand symbols whose successor depends on the symbol before, over all 256
        // values. The decoder builds one block per table instead of one per context.
        var random = new Random(17);
        byte[] symbols = new byte[3000];
        for (int i = 1; i < symbols.Length; i++)
        {
            symbols[i] = (byte)((symbols[i - 1] * 7) + random.Next(4) + (random.Next(50) == 0 ? random.Next(256) : 0));
        }

        Assert.That(RansCodec.UsesSharedTables(256, 256, symbols.Length), Is.True, "every table count takes the shared layout here");
        Assert.That(RoundTrips(symbols, EntropyMethod.RansOrder1), Is.True);
    }

    [Test]
    public void Order1Rans_LongStreamOverSmallAlphabet_DecodesWithPerSymbolTables()
    {
        byte[] symbols = ExponentStreams.Geometric(300_000, 0.3, 4, 23);
        Assert.That(RansCodec.UsesSharedTables(16, 1, symbols.Length), Is.False, "no table count takes the shared layout here");
        Assert.That(RoundTrips(symbols, EntropyMethod.RansOrder1, 4), Is.True);
        Assert.That(RoundTrips(symbols, EntropyMethod.RansOrder1, 8), Is.True);
    }

    [Test]
    public void FillEntries_VectorFill_MatchesTheScalarOracle()
    {
        // Runs of every length around the eight-slot store, tables that end exactly at the array's end or short of
        // it, and zero frequencies in between.
        Gen<(uint[] Freqs, int Slack)> cases =
            from count in Gen.Choose(1, 256)
            from freqs in Gen.Frequency(
                (3, Gen.Choose(0, 20)),
                (1, Gen.Choose(0, 300)),
                (1, Gen.Elements(0, 1, 7, 8, 9, 15, 16, 17))).Select(f => (uint)f).ArrayOf(count)
            from slack in Gen.Elements(0, 1, 7, 8, 9, 100)
            select (freqs, slack);
        Prop.ForAll(cases.ToArbitrary(), c =>
        {
            int total = (int)c.Freqs.Sum(f => (long)f);
            uint[] expected = new uint[total + c.Slack];
            uint[] actual = new uint[total + c.Slack];
            RansCodec.FillEntriesScalar(c.Freqs, expected);
            RansCodec.FillEntries(c.Freqs, actual);
            return expected.AsSpan(0, total).SequenceEqual(actual.AsSpan(0, total));
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(300));
    }

    [Test]
    public void FillEntries_FrequenciesBeyondTheTable_ThrowArgumentException() =>
        Assert.That(() => RansCodec.FillEntries([3000, 1200], new uint[4096]), Throws.InstanceOf<ArgumentException>());
}
