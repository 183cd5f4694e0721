using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Entropy;

namespace Z4Ai.Tests.Entropy;

/// <summary>
/// Row-class rANS (entropy method 4): round trips at every K, id coding and awkward length, the exact payload layout,
/// and hostile payloads (wrong K, class ids out of range or unused, bad tables, truncations, bit flips) that may
/// only raise <see cref="Z4AiFormatException"/>.
/// </summary>
public class RowClassCodecTests
{
    private const EntropyMethod Method = EntropyMethod.RansRowClasses;

    private static readonly int[] AwkwardLengths = [0, 1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256, 511, 512, 513];

    /// <summary>Rows of <paramref name="rowLength"/> symbols around the middle of the alphabet, each row with its own
    /// spread drawn from a few levels (the structure row classes exist for).</summary>
    internal static byte[] SpreadRows(int count, int rowLength, int alphabetBits, int seed)
    {
        var random = new Random(seed);
        int size = 1 << alphabetBits;
        byte[] symbols = new byte[count];
        double spread = 1;
        for (int i = 0; i < count; i++)
        {
            if (i % rowLength == 0)
            {
                spread = 0.3 + (random.Next(4) * size / 10.0);
            }

            double g = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            symbols[i] = (byte)Math.Clamp((size / 2) + (int)Math.Round(spread * g), 0, size - 1);
        }

        return symbols;
    }

    private static byte[] Encode(byte[] symbols, RowClassModel model)
    {
        var writer = new ArrayBufferWriter<byte>();
        int written = RowClassCodec.Encode(symbols, model, writer);
        Assert.That(written, Is.EqualTo(writer.WrittenCount));
        return writer.WrittenSpan.ToArray();
    }

    private static byte[] Decode(byte[] payload, int count, int alphabetBits, int rowLength)
    {
        byte[] symbols = new byte[count];
        EntropyCoder.Decode(payload, Method, alphabetBits, rowLength, symbols);
        return symbols;
    }

    [Test]
    public void RoundTrip_RandomRowsAndAlphabets_RestoresSymbols()
    {
        Arbitrary<(int Bits, int Rows, int RowLength, int Seed, bool Noise)> cases =
            (from bits in Gen.Choose(1, 8)
             from rows in Gen.Choose(2, 40)
             from rowLength in Gen.Choose(1, 300)
             from seed in Gen.Choose(0, int.MaxValue)
             from noise in ArbMap.Default.GeneratorFor<bool>()
             select (bits, rows, rowLength, seed, noise)).ToArbitrary();
        Prop.ForAll(cases, c =>
        {
            // A ragged last row: the stream ends part-way through it.
            int count = Math.Max(c.RowLength + 1, (c.Rows * c.RowLength) - (c.Seed % c.RowLength));
            byte[] symbols = c.Noise ? Noise(count, c.Bits, c.Seed) : SpreadRows(count, c.RowLength, c.Bits, c.Seed);
            RowClassModel? model = RowClassModel.Build(symbols, c.Bits, c.RowLength);
            if (model is null)
            {
                // Only when the row histograms would outgrow the stream (long alphabets, short rows).
                return (long)RowClassModel.RowCount(count, c.RowLength) << c.Bits > (2L * count) + (1 << 16);
            }

            return Decode(Encode(symbols, model), count, c.Bits, c.RowLength).AsSpan().SequenceEqual(symbols);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(200));
    }

    [Test]
    public void RoundTrip_EveryClassCountAndBothIdCodings_RestoresSymbols()
    {
        var codings = new HashSet<byte>();
        foreach (int rows in new[] { 16, 200 })
        {
            byte[] symbols = SpreadRows(rows * 64, 64, 5, rows);
            for (int k = RowClassModel.MinClasses; k <= RowClassModel.MaxClasses; k++)
            {
                RowClassModel model = RowClassModel.Fit(symbols, 5, 64, k);
                Assert.That(model.ClassCount, Is.InRange(RowClassModel.MinClasses, k));
                Assert.That(model.Classes.Max(), Is.EqualTo(model.ClassCount - 1), "every class is used");
                byte[] payload = Encode(symbols, model);
                Assert.That(payload[0], Is.EqualTo(model.ClassCount));
                codings.Add(payload[1]);
                Assert.That(Decode(payload, symbols.Length, 5, 64), Is.EqualTo(symbols), $"K = {k}, {rows} rows");
            }
        }

        Assert.That(codings, Is.EquivalentTo(new byte[] { RowClassModel.IdsPacked, RowClassModel.IdsRans }));
    }

    [Test]
    public void RoundTrip_AwkwardLengthsAndRowLengths_RestoresSymbols()
    {
        foreach (int n in AwkwardLengths.Where(n => n >= 2))
        {
            foreach (int rowLength in new[] { 1, 3, 4, 5, 16, n - 1 }.Where(r => r >= 1 && r < n).Distinct())
            {
                byte[] symbols = SpreadRows(n, rowLength, 4, n + rowLength);
                RowClassModel? model = RowClassModel.Build(symbols, 4, rowLength);
                Assert.That(model, Is.Not.Null, $"{n} symbols in rows of {rowLength}");
                Assert.That(Decode(Encode(symbols, model!), n, 4, rowLength), Is.EqualTo(symbols), $"{n} symbols in rows of {rowLength}");
            }
        }
    }

    [Test]
    public void Build_OneRowOrNoSymbols_GivesNoPlan()
    {
        Assert.That(RowClassModel.Build(SpreadRows(100, 100, 4, 1), 4, 100), Is.Null, "one row");
        Assert.That(RowClassModel.Build(SpreadRows(100, 100, 4, 1), 4, 1000), Is.Null, "a row longer than the stream");
        Assert.That(RowClassModel.Build([], 4, 10), Is.Null);
        Assert.Throws<ArgumentException>(() => Encode(SpreadRows(100, 100, 4, 1), Method, 4, 100));
        Assert.Throws<ArgumentOutOfRangeException>(() => Encode(SpreadRows(100, 100, 4, 1), Method, 4, 0));
        Assert.That(Encode([], Method, 4, 0), Is.Empty);
        Assert.That(Decode([], 0, 4, 0), Is.Empty);
    }

    [Test]
    public void Fit_MoreClassesThanRows_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => RowClassModel.Fit(SpreadRows(300, 100, 4, 1), 4, 100, 4));

    [Test]
    public void Build_RowsOfDifferentSpread_BeatsOrder0ByTheDivergence()
    {
        byte[] symbols = SpreadRows(256 * 512, 512, 4, 3);
        RowClassModel model = RowClassModel.Build(symbols, 4, 512)!;
        RansModel order0 = RansCodec.BuildModel(symbols, order1: false, 4);
        Assert.That(model.ClassCount, Is.GreaterThanOrEqualTo(4), "four spreads need four tables");
        Assert.That(model.EstimatedBytes * 10, Is.LessThan(order0.EstimatedBytes * 9), "at least 10% smaller");
        Assert.That(Encode(symbols, model).Length, Is.EqualTo(model.EstimatedBytes).Within(8), "the estimate is the ideal code length");
    }

    [Test]
    public void Build_SameBytes_SamePayload()
    {
        byte[] symbols = SpreadRows(64 * 300, 300, 6, 8);
        byte[] first = Encode(symbols, RowClassModel.Build(symbols, 6, 300)!);
        byte[] second = Encode(symbols.ToArray(), RowClassModel.Build(symbols.ToArray(), 6, 300)!);
        Assert.That(second, Is.EqualTo(first));
    }

    /// <summary>The committed payload of a small stream: K, id coding, ids, tables, states, words (docs/format.md 3.4).</summary>
    [Test]
    public void Encode_GoldenStream_GivesGoldenPayload()
    {
        byte[] symbols = SpreadRows(4 * 16, 16, 3, 2);
        RowClassModel model = RowClassModel.Fit(symbols, 3, 16, 2);
        byte[] payload = Encode(symbols, model);
        TestContext.Out.WriteLine(Convert.ToHexString(payload));
        Assert.That(Convert.ToHexString(payload), Is.EqualTo(GoldenPayload));
        Assert.That(payload[0], Is.EqualTo(2), "K");
        Assert.That(payload[1], Is.EqualTo(RowClassModel.IdsPacked), "ids packed at one bit");
        Assert.That(payload[2], Is.EqualTo(0b0101), "rows 0 and 2 in class 1, LSB first, zero padding");
        Assert.That(Decode(Convert.FromHexString(GoldenPayload), symbols.Length, 3, 16), Is.EqualTo(symbols));
    }

    private const string GoldenPayload = "020005B48C70C9321D3599D9008CAD23030F89360042466C00003E0041004F00AA";

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(5, Description = "more classes than the 4 rows")]
    [TestCase(17)]
    [TestCase(255)]
    public void Decode_ClassCountOutOfRange_Throws(int k)
    {
        (byte[] symbols, byte[] payload) = Valid();
        payload[0] = (byte)k;
        Assert.That(Assert.Throws<Z4AiFormatException>(() => Decode(payload, symbols.Length, 3, 16))!.Detail, Does.Contain($"declares {k} classes for 4 rows"));
    }

    [Test]
    public void Decode_ClassIdNotBelowK_Throws()
    {
        // K = 3 takes two bits per id: id 3 is out of range.
        byte[] symbols = SpreadRows(4 * 16, 16, 3, 2);
        RowClassModel model = RowClassModel.Fit(symbols, 3, 16, 3);
        Assume.That(model.ClassCount, Is.EqualTo(3));
        byte[] payload = Encode(symbols, model);
        Assume.That(payload[1], Is.EqualTo(RowClassModel.IdsPacked));
        payload[2] |= 0b11;
        Assert.That(Assert.Throws<Z4AiFormatException>(() => Decode(payload, symbols.Length, 3, 16))!.Detail, Does.Contain("row class 3 is not below the 3 classes"));
    }

    [Test]
    public void Decode_UnusedClassOrUnknownIdCodingOrNonZeroPadding_Throws()
    {
        (byte[] symbols, byte[] payload) = Valid();

        // Four rows, one bit each: all rows in class 0 leaves class 1 unused.
        byte[] unused = payload.ToArray();
        unused[2] = 0;
        Assert.That(Assert.Throws<Z4AiFormatException>(() => Decode(unused, symbols.Length, 3, 16))!.Detail, Does.Contain("declares 2 classes but its rows use 1"));

        byte[] padding = payload.ToArray();
        padding[2] |= 0x80;
        Assert.That(Assert.Throws<Z4AiFormatException>(() => Decode(padding, symbols.Length, 3, 16))!.Detail, Does.Contain("padding"));

        byte[] coding = payload.ToArray();
        coding[1] = 2;
        Assert.That(Assert.Throws<Z4AiFormatException>(() => Decode(coding, symbols.Length, 3, 16))!.Detail, Does.Contain("unknown coding 2"));

        // Coding 1 with an empty or overlong rANS payload for the ids.
        Assert.Throws<Z4AiFormatException>(() => Decode([2, 1, 0, .. payload[3..]], symbols.Length, 3, 16));
        Assert.Throws<Z4AiFormatException>(() => Decode([2, 1, 200, .. payload[3..]], symbols.Length, 3, 16));
    }

    [Test]
    public void Decode_TableFrequenciesExceedTheirTotal_Throws()
    {
        // K = 2, four rows in classes 0, 1, 0, 1, then a table at precision 4 whose first frequency is the whole 16.
        var tables = new BitWriter();
        tables.Write(4, 4);
        tables.Write(0, 3);
        tables.Write(1, 3);
        tables.WriteExpGolomb(16, 2);
        byte[] payload = [2, RowClassModel.IdsPacked, 0b1010, .. tables.Finish(), .. new byte[32]];
        Assert.That(Assert.Throws<Z4AiFormatException>(() => Decode(payload, 64, 3, 16))!.Detail, Does.Contain("exceed their total"));
    }

    [Test]
    public void Decode_RowLengthZeroOrCountOff_Throws()
    {
        (byte[] symbols, byte[] payload) = Valid();
        Assert.Throws<Z4AiFormatException>(() => Decode(payload, symbols.Length, 3, 0));
        Assert.Throws<Z4AiFormatException>(() => Decode(payload, symbols.Length - 1, 3, 16));
        Assert.Throws<Z4AiFormatException>(() => Decode(payload, symbols.Length + 1, 3, 16));
        Assert.Throws<Z4AiFormatException>(() => Decode([1, 2], 0, 3, 16));
    }

    [Test]
    public void Decode_EveryTruncationAndEveryBitFlip_ThrowsOnlyFormatExceptions()
    {
        byte[] symbols = SpreadRows(12 * 40, 40, 4, 6);
        byte[] payload = Encode(symbols, RowClassModel.Fit(symbols, 4, 40, 3));
        for (int length = 0; length < payload.Length; length++)
        {
            AssertOnlyFormatErrors(payload.AsSpan(0, length).ToArray(), symbols.Length, 4, 40);
        }

        Assert.Throws<Z4AiFormatException>(() => Decode([.. payload, 0], symbols.Length, 4, 40));
        for (int bit = 0; bit < payload.Length * 8; bit++)
        {
            byte[] mutated = payload.ToArray();
            mutated[bit / 8] ^= (byte)(1 << (bit % 8));
            AssertOnlyFormatErrors(mutated, symbols.Length, 4, 40);
        }
    }

    [Test]
    public void Decode_RandomGarbage_ThrowsOnlyFormatExceptions()
    {
        var random = new Random(41);
        for (int trial = 0; trial < 500; trial++)
        {
            byte[] garbage = new byte[random.Next(0, 120)];
            random.NextBytes(garbage);
            if (garbage.Length > 0 && trial % 2 == 0)
            {
                garbage[0] = (byte)random.Next(2, 17);
            }

            AssertOnlyFormatErrors(garbage, random.Next(0, 2000), 1 + random.Next(8), 1 + random.Next(300));
        }
    }

    [Test]
    public void Decode_TinyPayloadForHugeCount_FailsFast()
    {
        (_, byte[] payload) = Valid();
        byte[] symbols = new byte[16 << 20];
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.Throws<Z4AiFormatException>(() => EntropyCoder.Decode(payload, Method, 3, 16, symbols));
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(20)));
    }

    private static (byte[] Symbols, byte[] Payload) Valid()
    {
        byte[] symbols = SpreadRows(4 * 16, 16, 3, 2);
        return (symbols, Encode(symbols, RowClassModel.Fit(symbols, 3, 16, 2)));
    }

    private static byte[] Encode(byte[] symbols, EntropyMethod method, int alphabetBits, int rowLength) =>
        EntropyTestHelpers.Encode(symbols, method, alphabetBits, rowLength);

    private static byte[] Noise(int count, int alphabetBits, int seed)
    {
        var random = new Random(seed);
        byte[] symbols = new byte[count];
        for (int i = 0; i < count; i++)
        {
            symbols[i] = (byte)random.Next(1 << alphabetBits);
        }

        return symbols;
    }

    private static void AssertOnlyFormatErrors(byte[] payload, int count, int alphabetBits, int rowLength)
    {
        try
        {
            byte[] decoded = Decode(payload, count, alphabetBits, rowLength);
            Assert.That(decoded.All(s => s < 1 << alphabetBits), Is.True, "decoded symbols stay inside the alphabet");
        }
        catch (Z4AiFormatException ex)
        {
            Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.CorruptFrame));
        }
    }
}
