using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Codecs;
using Z4Ai.Entropy;

namespace Z4Ai.Tests.Entropy;

/// <summary>
/// The 64-state rANS body (entropy methods 5 and 6): the vector and grouped scalar decoders against the one-symbol
/// oracle at awkward lengths
/// and row layouts, round trips through the entropy layer, committed golden payloads, hostile payloads that may only
/// raise <see cref="Z4AiFormatException"/>, and where the encoder chooses it.
/// </summary>
public class WideRansTests
{
    private static readonly int[] AwkwardLengths = [1, 2, 15, 16, 17, 63, 64, 65, 127, 128, 129, 191, 255, 256, 257, 1000, 4095, 4096, 4097, 20_003];

    private static readonly int[] RowLengths = [1, 3, 16, 17, 63, 64, 100, 1000];

    private static IEnumerable<WideRans.Path> Paths() => WideRans.Available();

    /// <summary>Encodes with the body coder alone (no table section) and one table per class of rows.</summary>
    private static (byte[] Body, uint[] Entries) EncodeBody(byte[] symbols, uint[] freqs, int bits, byte[] classes, int rowLength)
    {
        int size = 1 << bits;
        int tables = freqs.Length / size;
        var encode = new RansCodec.EncodeEntry[tables * size];
        uint[] entries = new uint[tables * FrequencyTable.ProbScale];
        for (int t = 0; t < tables; t++)
        {
            uint start = 0;
            for (int s = 0; s < size; s++)
            {
                encode[(t * size) + s] = new RansCodec.EncodeEntry(freqs[(t * size) + s], start);
                start += freqs[(t * size) + s];
            }

            RansCodec.FillEntries(freqs.AsSpan(t * size, size), entries.AsSpan(t * FrequencyTable.ProbScale, FrequencyTable.ProbScale));
        }

        var writer = new ArrayBufferWriter<byte>();
        int written = WideRans.Encode(symbols, [], encode, bits, classes, rowLength, writer);
        Assert.That(written, Is.EqualTo(writer.WrittenCount));
        return (writer.WrittenSpan.ToArray(), entries);
    }

    private static byte[] DecodeBody(byte[] body, uint[] entries, byte[] classes, int rowLength, int count, WideRans.Path path)
    {
        byte[] symbols = new byte[count];
        WideRans.Decode(body, entries, classes, rowLength, symbols, path);
        return symbols;
    }

    [Test]
    public void Decode_EveryPathAtAwkwardLengthsAndRowLayouts_MatchesTheScalarOracle()
    {
        foreach (int n in AwkwardLengths)
        {
            foreach (int rowLength in RowLengths.Where(r => r <= n).Append(n))
            {
                byte[] symbols = RowClassCodecTests.SpreadRows(n, rowLength, 6, seed: n + rowLength);
                RowClassModel? model = n / rowLength >= RowClassModel.MinClasses ? RowClassModel.Build(symbols, 6, rowLength) : null;
                (byte[] classes, uint[] freqs) = model is null
                    ? ([0], RansCodec.BuildModel(symbols, order1: false, 6).Freqs)
                    : (model.Classes, model.Freqs);
                int rows = model is null ? n : rowLength;
                (byte[] body, uint[] entries) = EncodeBody(symbols, freqs, 6, classes, rows);
                Assert.That(body, Has.Length.GreaterThanOrEqualTo(WideRans.StateBytes));
                foreach (WideRans.Path path in Paths())
                {
                    Assert.That(DecodeBody(body, entries, classes, rows, n, path), Is.EqualTo(symbols), $"n {n}, rows of {rows}, {path}");
                }
            }
        }
    }

    [Test]
    public void Decode_RowsShorterThanAVectorWithEveryClassChanging_MatchesTheScalarOracle()
    {
        // Rows of 1 to 5 symbols put several row boundaries inside each 16-lane vector.
        var random = new Random(7);
        foreach (int rowLength in new[] { 1, 2, 5 })
        {
            int n = 3000;
            byte[] classes = new byte[(n + rowLength - 1) / rowLength];
            for (int r = 0; r < classes.Length; r++)
            {
                classes[r] = (byte)random.Next(3);
            }

            // Class c only uses symbols c*4 .. c*4+3, so a wrong table for a lane decodes visibly wrong symbols.
            byte[] symbols = new byte[n];
            for (int i = 0; i < n; i++)
            {
                symbols[i] = (byte)((classes[i / rowLength] * 4) + random.Next(4));
            }

            uint[] freqs = new uint[3 * 16];
            for (int c = 0; c < 3; c++)
            {
                for (int s = 0; s < 4; s++)
                {
                    freqs[(c * 16) + (c * 4) + s] = FrequencyTable.ProbScale / 4;
                }
            }

            (byte[] body, uint[] entries) = EncodeBody(symbols, freqs, 4, classes, rowLength);
            foreach (WideRans.Path path in Paths())
            {
                Assert.That(DecodeBody(body, entries, classes, rowLength, n, path), Is.EqualTo(symbols), $"rows of {rowLength}, {path}");
            }
        }
    }

    [Test]
    public void DecodeSegments_RandomSegmentsIncludingEmptyOnes_EveryPathMatchesTheInput()
    {
        Arbitrary<(int Length, int Segments, int Seed)> cases =
            (from length in Gen.Choose(1, 6000)
             from segments in Gen.Choose(1, 12)
             from seed in Gen.Choose(0, int.MaxValue - 1)
             select (length, segments, seed)).ToArbitrary();
        Prop.ForAll(cases, c =>
        {
            // Segment t holds symbols 8t .. 8t + 7 only, so a token decoded with another segment's table shows.
            var random = new Random(c.Seed);
            int[] ends = [.. Enumerable.Range(0, c.Segments - 1).Select(_ => random.Next(c.Length + 1)).Order().Append(c.Length)];
            byte[] symbols = new byte[c.Length];
            int segment = 0;
            for (int i = 0; i < c.Length; i++)
            {
                while (i >= ends[segment])
                {
                    segment++;
                }

                symbols[i] = (byte)((segment * 8) + random.Next(8));
            }

            uint[] freqs = new uint[c.Segments * 128];
            for (int t = 0; t < c.Segments; t++)
            {
                freqs.AsSpan((t * 128) + (t * 8), 8).Fill(FrequencyTable.ProbScale / 8);
            }

            var encode = new RansCodec.EncodeEntry[c.Segments * 128];
            uint[] entries = new uint[c.Segments * FrequencyTable.ProbScale];
            for (int t = 0; t < c.Segments; t++)
            {
                uint start = 0;
                for (int s = 0; s < 128; s++)
                {
                    encode[(t * 128) + s] = new RansCodec.EncodeEntry(freqs[(t * 128) + s], start);
                    start += freqs[(t * 128) + s];
                }

                RansCodec.FillEntries(freqs.AsSpan(t * 128, 128), entries.AsSpan(t * FrequencyTable.ProbScale, FrequencyTable.ProbScale));
            }

            var writer = new ArrayBufferWriter<byte>();
            WideRans.EncodeSegments(symbols, [], encode, 7, ends, writer);
            foreach (WideRans.Path path in Paths())
            {
                byte[] back = new byte[c.Length];
                WideRans.DecodeSegments(writer.WrittenSpan, entries, ends, back, path);
                if (!back.AsSpan().SequenceEqual(symbols))
                {
                    return false;
                }
            }

            return true;
        }).QuickCheckThrowOnFailure();
    }

    [Test]
    public void RoundTrip_RandomStreams_BothWideMethods()
    {
        Arbitrary<(int Bits, int Length, int RowLength, int Seed)> cases =
            (from bits in Gen.Choose(1, 8)
             from length in Gen.Choose(1, 5000)
             from rowLength in Gen.Choose(1, 300)
             from seed in Gen.Choose(0, int.MaxValue - 1)
             select (bits, length, rowLength, seed)).ToArbitrary();
        Prop.ForAll(cases, c =>
        {
            byte[] symbols = RowClassCodecTests.SpreadRows(c.Length, c.RowLength, c.Bits, c.Seed);
            bool order0 = EntropyTestHelpers.RoundTrips(symbols, EntropyMethod.RansOrder0Wide, c.Bits);
            bool rows = RowClassModel.Build(symbols, c.Bits, c.RowLength) is null
                || EntropyTestHelpers.RoundTrips(symbols, EntropyMethod.RansRowClassesWide, c.Bits, c.RowLength);
            return order0 && rows;
        }).QuickCheckThrowOnFailure();
    }

    [Test]
    public void Encode_SameSymbols_OnlyTheStatesDifferFromFourStatesInSize()
    {
        byte[] symbols = RowClassCodecTests.SpreadRows(200_000, 500, 8, seed: 3);
        int narrow = EntropyTestHelpers.Encode(symbols, EntropyMethod.RansOrder0).Length;
        int wide = EntropyTestHelpers.Encode(symbols, EntropyMethod.RansOrder0Wide).Length;

        // 60 more states of 4 bytes, and at most one more word per state for its final renormalisation.
        Assert.That(wide - narrow, Is.InRange(0, (WideRans.Lanes - RansCodec.Lanes) * (4 + 2)));
    }

    // Order 0, 8 bits, symbols i*i mod 7 for i < 100; row classes, 4 bits, rows of 10, row r holding (r mod 2)*8 + i mod 3.
    private static byte[] GoldenOrder0Input() => [.. Enumerable.Range(0, 100).Select(i => (byte)(i * i % 7))];

    private static byte[] GoldenRowsInput() => [.. Enumerable.Range(0, 60).Select(i => (byte)((i / 10 % 2 * 8) + (i % 3)))];

    private const string GoldenOrder0 =
        "024020290010100000341000002C10000028100000381000001C1000000410000010100000341000002C10000028100000381000001C1000"
        + "000410000010100000341000002C10000028100000381000001C1000000410000010100000341000002C10000028100000381000001C1000"
        + "000410000010100000341000002C10000028100000381000001C1000000410000010100000040400000C04000008040000080400000C0400"
        + "000404000000040000040400000C04000008040000080400000C0400000404000000040000040400000C04000008040000080400000C0400"
        + "000404000000040000040400000C04000008040000080400000C04000004040000000400";

    private const string GoldenRows =
        "02002A02E205C5030000020000080400000C04000000020000080400000C04000000020000080400000C04000000020000080400000C0400"
        + "0000020000080400000C04000000020000080400000C04000000020000080400000C04000000020000080400000C04000000020000080400"
        + "000C04000000020000080400000C04000000020000080400000C04000000020000080400000C04000000020000080400000C040000000200"
        + "00080400000C04000000020000080400000C04000000020000080400000C04000000020000080400000C04000000020000080400000C0400"
        + "0000020000080400000C04000000020000080400000C040000000100000001000000010000000100";

    [Test]
    public void Golden_CommittedPayloads_DecodeToTheirInputsAndEncodingReproducesThem()
    {
        byte[] order0 = GoldenOrder0Input();
        byte[] encoded = EntropyTestHelpers.Encode(order0, EntropyMethod.RansOrder0Wide);
        Assert.That(Convert.ToHexString(encoded), Is.EqualTo(GoldenOrder0), "the encoder's bytes are a format");
        Assert.That(EntropyTestHelpers.Decode(Convert.FromHexString(GoldenOrder0), order0.Length, EntropyMethod.RansOrder0Wide), Is.EqualTo(order0));

        byte[] rows = GoldenRowsInput();
        byte[] rowsEncoded = EntropyTestHelpers.Encode(rows, EntropyMethod.RansRowClassesWide, 4, 10);
        Assert.That(Convert.ToHexString(rowsEncoded), Is.EqualTo(GoldenRows), "the encoder's bytes are a format");
        Assert.That(EntropyTestHelpers.Decode(Convert.FromHexString(GoldenRows), rows.Length, EntropyMethod.RansRowClassesWide, 4, 10), Is.EqualTo(rows));
    }

    [Test]
    public void Decode_EveryTruncation_RaisesOnlyFormatErrors()
    {
        byte[] symbols = RowClassCodecTests.SpreadRows(5000, 100, 8, seed: 11);
        byte[] order0 = EntropyTestHelpers.Encode(symbols, EntropyMethod.RansOrder0Wide);
        byte[] rows = EntropyTestHelpers.Encode(symbols, EntropyMethod.RansRowClassesWide, 8, 100);
        for (int length = 0; length < order0.Length; length += 1 + (length / 64))
        {
            Assert.Throws<Z4AiFormatException>(() => EntropyTestHelpers.Decode(order0.AsSpan(0, length), symbols.Length, EntropyMethod.RansOrder0Wide), $"order 0 cut at {length}");
        }

        for (int length = 0; length < rows.Length; length += 1 + (length / 64))
        {
            Assert.Throws<Z4AiFormatException>(() => EntropyTestHelpers.Decode(rows.AsSpan(0, length), symbols.Length, EntropyMethod.RansRowClassesWide, 8, 100), $"rows cut at {length}");
        }
    }

    [Test]
    public void Decode_BitFlipsAndByteChanges_RaiseOnlyFormatErrorsOnEveryPath()
    {
        byte[] symbols = RowClassCodecTests.SpreadRows(20_000, 128, 8, seed: 5);
        (byte[] body, uint[] entries) = EncodeBody(symbols, RansCodec.BuildModel(symbols, order1: false, 8).Freqs, 8, [0], symbols.Length);
        Arbitrary<(int Position, int Bit, bool Flip, byte Value)> mutations =
            (from position in Gen.Choose(0, body.Length - 1)
             from bit in Gen.Choose(0, 7)
             from flip in ArbMap.Default.GeneratorFor<bool>()
             from value in ArbMap.Default.GeneratorFor<byte>()
             select (position, bit, flip, value)).ToArbitrary();
        Prop.ForAll(mutations, m =>
        {
            byte[] damaged = (byte[])body.Clone();
            damaged[m.Position] = m.Flip ? (byte)(damaged[m.Position] ^ (1 << m.Bit)) : m.Value;
            foreach (WideRans.Path path in Paths())
            {
                try
                {
                    DecodeBody(damaged, entries, [0], symbols.Length, symbols.Length, path);
                }
                catch (Z4AiFormatException)
                {
                }
            }

            return true;
        }).QuickCheckThrowOnFailure();

        // A damaged state word must not decode to the original symbols and pass: the end check catches it.
        byte[] flipped = (byte[])body.Clone();
        flipped[WideRans.StateBytes + 10] ^= 0x40;
        foreach (WideRans.Path path in Paths())
        {
            Assert.Throws<Z4AiFormatException>(() => DecodeBody(flipped, entries, [0], symbols.Length, symbols.Length, path), path.ToString());
        }
    }

    [Test]
    public void Encoder_FastDecodeProfileOnLongStreams_ChoosesTheWideMethodsAndOthersDoNot()
    {
        // A zigzagged step stream of one changed element in five: a palette of a few entries, byte indices, 1 MiB.
        var random = new Random(2);
        byte[] raw = new byte[1 << 20];
        for (int i = 0; i < raw.Length; i += 2)
        {
            raw[i] = random.Next(5) == 0 ? (byte)(1 + random.Next(6)) : (byte)0;
        }

        string fast = Describe(raw, EffortProfile.ForFastDecode(CompressionEffort.Default));
        string standard = Describe(raw, EffortProfile.For(CompressionEffort.Default));
        Assert.That(fast, Does.Contain("x64"), fast);
        Assert.That(standard, Does.Not.Contain("x64"), standard);

        // Short streams keep four states: the extra states would cost more than they save.
        string small = Describe(raw.AsSpan(0, 4096).ToArray(), EffortProfile.ForFastDecode(CompressionEffort.Default));
        Assert.That(small, Does.Not.Contain("x64"), small);
    }

    private static string Describe(byte[] raw, EffortProfile profile)
    {
        var writer = new ArrayBufferWriter<byte>();
        TensorCodec.Encode(raw, DType.BF16, profile, writer);
        byte[] frame = writer.WrittenSpan.ToArray();
        byte[] back = new byte[raw.Length];
        TensorCodec.Decode(frame, back);
        Assert.That(back, Is.EqualTo(raw));
        return RecipeInspector.Describe(frame);
    }
}
