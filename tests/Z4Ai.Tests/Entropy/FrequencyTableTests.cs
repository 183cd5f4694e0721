using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Entropy;

namespace Z4Ai.Tests.Entropy;

public class FrequencyTableTests
{
    private static Gen<uint[]> Counts(int size) =>
        from kind in Gen.Choose(0, 2)
        from raw in Gen.Choose(0, 1_000_000).ArrayOf(size)
        from keep in Gen.Choose(0, 100).ArrayOf(size)
        select raw.Select((c, i) => kind switch
        {
            0 => (uint)c,
            1 => keep[i] < 70 ? 0u : (uint)(c % 50),
            _ => keep[i] < 95 ? 0u : (uint)(c + 1),
        }).ToArray();

    [Test]
    public void Normalize_AnyCounts_SumsToScaleAndKeepsEveryPresentSymbol()
    {
        Gen<(uint[] Counts, int Precision)> cases =
            from counts in Counts(256)
            from precision in Gen.Choose(8, 12)
            where counts.Any(c => c != 0)
            select (counts, precision);
        Prop.ForAll(cases.ToArbitrary(), c =>
        {
            uint[] freqs = new uint[256];
            long total = c.Counts.Sum(x => (long)x);
            FrequencyTable.Normalize(c.Counts, total, c.Precision, freqs);
            return freqs.Sum(f => (long)f) == 1L << c.Precision
                && Enumerable.Range(0, 256).All(s => (c.Counts[s] == 0) == (freqs[s] == 0));
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(200));
    }

    [Test]
    public void Normalize_ProportionalCounts_GivesExactShares()
    {
        uint[] counts = new uint[8];
        counts[1] = 3000;
        counts[2] = 1000;
        uint[] freqs = new uint[8];
        FrequencyTable.Normalize(counts, 4000, 12, freqs);
        Assert.That(freqs[1], Is.EqualTo(3072));
        Assert.That(freqs[2], Is.EqualTo(1024));
    }

    [Test]
    public void Normalize_TinyCounts_GetOneAndLeaveTheRestProportional()
    {
        uint[] counts = new uint[4];
        counts[0] = 1;
        counts[1] = 1_000_000;
        counts[3] = 2;
        uint[] freqs = new uint[4];
        FrequencyTable.Normalize(counts, 1_000_003, 12, freqs);
        Assert.That(freqs, Is.EqualTo(new uint[] { 1, 4094, 0, 1 }));
    }

    [Test]
    public void WriteRead_BuiltTables_RoundTrip()
    {
        Gen<(uint[] Counts, int Bits)> cases =
            from bits in Gen.Choose(1, 8)
            from counts in Counts(1 << bits)
            where counts.Any(c => c != 0)
            select (counts, bits);
        Prop.ForAll(cases.ToArbitrary(), c =>
        {
            int size = 1 << c.Bits;
            uint[] freqs = new uint[size];
            FrequencyTable.Build(c.Counts, c.Bits, freqs, out int precision);
            var writer = new BitWriter();
            FrequencyTable.Write(writer, freqs, precision, c.Bits, FrequencyTable.ProbBits - precision);
            byte[] bytes = writer.Finish().ToArray();
            uint[] read = new uint[size];
            var reader = new BitReader(bytes);
            FrequencyTable.Read(ref reader, c.Bits, read);
            return read.SequenceEqual(freqs) && reader.BytesConsumed == bytes.Length && freqs.Sum(f => (long)f) == FrequencyTable.ProbScale;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(200));
    }

    [Test]
    public void Build_FewObservations_StoresALowPrecisionTable()
    {
        uint[] counts = new uint[256];
        counts[10] = 3;
        counts[11] = 5;
        uint[] freqs = new uint[256];
        FrequencyTable.Build(counts, 8, freqs, out int precision);
        Assert.That(precision, Is.LessThan(FrequencyTable.ProbBits));
        Assert.That(freqs[10] + freqs[11], Is.EqualTo((uint)FrequencyTable.ProbScale));
    }

    [Test]
    public void Log2Q16_MatchesMathLog2()
    {
        Assert.That(FixedLog2.Log2Q16(1), Is.Zero);
        Assert.That(FixedLog2.Log2Q16(4096), Is.EqualTo(12 << 16));
        Assert.That(FixedLog2.Log2Q16(1UL << 63), Is.EqualTo(63 << 16));
        var random = new Random(3);
        for (int i = 0; i < 10_000; i++)
        {
            ulong x = (ulong)random.NextInt64(1, long.MaxValue) >> random.Next(63);
            x = Math.Max(1, x);
            double expected = Math.Log2(x) * 65536;
            Assert.That(FixedLog2.Log2Q16(x), Is.InRange(expected - 2, expected + 0.001), $"x={x}");
        }
    }

    [Test]
    public void BitReader_GammaAndExpGolomb_RoundTripAndRejectOverlongCodes()
    {
        var writer = new BitWriter();
        uint[] values = [1, 2, 3, 100, 4096, uint.MaxValue >> 1];
        foreach (uint v in values)
        {
            writer.WriteGamma(v);
            writer.WriteExpGolomb(v - 1, 3);
        }

        byte[] bytes = writer.Finish().ToArray();
        var reader = new BitReader(bytes);
        foreach (uint v in values)
        {
            Assert.That(reader.ReadGamma(), Is.EqualTo(v));
            Assert.That(reader.ReadExpGolomb(3, 32), Is.EqualTo(v - 1));
        }

        byte[] zeros = new byte[8];
        Assert.Throws<Z4AiFormatException>(() => new BitReader(zeros).ReadGamma(13));
        Assert.Throws<Z4AiFormatException>(() => new BitReader([0x01]).Read(9));
    }
}
