using System.Buffers;
using NUnit.Framework;
using Z4Ai.Entropy;
using Z4Ai.Internal;

namespace Z4Ai.Tests.Mutation;

/// <summary>
/// Exact behaviour of row-class rANS (entropy method 4) written against Stryker's surviving mutants of
/// <c>RowClassModel.cs</c> and <c>RowClassCodec.cs</c>: every refusal with its message and offset, the argument checks
/// of the encoder side, the memory limit at equality, which class counts <c>Build</c> tries, the three tie rules (a
/// class count no smaller stops the search, a row stays in its class, ids stay packed), and fitted plans pinned class
/// by class (Lloyd moves, a class emptied in the middle, the one-class fallback, a zero-cost table, ids coded with
/// rANS). A round trip alone lets a worse but still decodable plan through; these do not.
/// </summary>
public class RowClassMutationTests
{
    /// <summary>
    /// Rows of <paramref name="rowLength"/> symbols around the middle of the alphabet, each row with its own width
    /// (half the alphabet shifted right by 0 to 3); integer arithmetic only, so the plans pinned below do not depend
    /// on floating point.
    /// </summary>
    internal static byte[] IntegerRows(int count, int rowLength, int alphabetBits, uint seed)
    {
        uint state = (seed * 2654435761u) + 1;
        int size = 1 << alphabetBits;
        byte[] symbols = new byte[count];
        int width = 1;
        for (int i = 0; i < count; i++)
        {
            if (i % rowLength == 0)
            {
                width = Math.Max(1, (size / 2) >> (int)(Next(ref state) % 4));
            }

            int value = (size / 2) + (int)(Next(ref state) % (uint)width) - (int)(Next(ref state) % (uint)width);
            symbols[i] = (byte)Math.Clamp(value, 0, size - 1);
        }

        return symbols;
    }

    [Test]
    public void Encode_NoSymbols_WritesNothing()
    {
        RowClassModel model = RowClassModel.Fit(IntegerRows(64, 16, 3, 1), 3, 16, 2);
        var writer = new ArrayBufferWriter<byte>();
        Assert.That(RowClassCodec.Encode([], model, writer), Is.Zero);
        Assert.That(writer.WrittenCount, Is.Zero);
    }

    [Test]
    public void Encode_SymbolsMakingAnotherRowCount_ThrowsNamingBoth()
    {
        byte[] symbols = IntegerRows(64, 16, 3, 1);
        RowClassModel model = RowClassModel.Fit(symbols, 3, 16, 2);
        var ex = Assert.Throws<ArgumentException>(() => RowClassCodec.Encode(symbols.AsSpan(0, 48), model, new ArrayBufferWriter<byte>()));
        Assert.That(ex!.ParamName, Is.EqualTo("model"));
        Assert.That(ex.Message, Does.StartWith("the model has 4 rows, the symbols make 3"));

        // One symbol more starts a fifth row.
        Assert.Throws<ArgumentException>(() => RowClassCodec.Encode([.. symbols, 0], model, new ArrayBufferWriter<byte>()));
    }

    [Test]
    public void Decode_EmptyStreamWithPayload_NamesTheByteCount()
    {
        RowClassCodec.Decode([], 3, 16, []);
        var ex = Assert.Throws<Z4AiFormatException>(() => RowClassCodec.Decode([1, 2], 3, 16, []));
        Assert.That(ex!.Detail, Is.EqualTo("an empty row-class rANS stream must have no payload, found 2 bytes"));
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.CorruptFrame));
    }

    [TestCase(0)]
    [TestCase(-3)]
    public void Decode_RowLengthBelowOne_NamesIt(int rowLength)
    {
        (byte[] symbols, byte[] payload) = Valid();
        var ex = Assert.Throws<Z4AiFormatException>(() => RowClassCodec.Decode(payload, 3, rowLength, new byte[symbols.Length]));
        Assert.That(ex!.Detail, Is.EqualTo($"row-class rANS stream has row length {rowLength}"));
    }

    [Test]
    public void Decode_ClassCountOutOfRange_IsReportedAtOffsetZero()
    {
        (byte[] symbols, byte[] payload) = Valid();
        payload[0] = 5;
        var ex = Assert.Throws<Z4AiFormatException>(() => Decode(payload, symbols.Length));
        Assert.That(ex!.Detail, Is.EqualTo("row-class rANS stream declares 5 classes for 4 rows (2 to 16, at most one per row)"));
        Assert.That(ex.Offset, Is.Zero);
    }

    [Test]
    public void Decode_FewerThanSixteenBytesAfterTheTables_NamesTheCount()
    {
        (byte[] symbols, byte[] payload) = Valid();
        RowClassModel model = RowClassModel.Fit(symbols, 3, 16, 2);
        int prefix = model.Prefix.Length;
        Assert.That(payload.AsSpan(0, prefix).SequenceEqual(model.Prefix), Is.True, "the payload starts with the plan's prefix");

        var ex = Assert.Throws<Z4AiFormatException>(() => Decode(payload[..(prefix + 15)], symbols.Length));
        Assert.That(ex!.Detail, Is.EqualTo("row-class rANS stream has 15 bytes after its tables, fewer than the 16 state bytes"));

        // Exactly the 16 state bytes pass that check; the missing words are found by the rANS steps.
        var atStates = Assert.Throws<Z4AiFormatException>(() => Decode(payload[..(prefix + 16)], symbols.Length));
        Assert.That(atStates!.Detail, Does.Not.Contain("after its tables"));
    }

    [Test]
    public void Decode_NonZeroPadding_IsReportedAtTheLastIdByte()
    {
        // Four rows at one bit: the ids byte is payload[2], its top four bits padding.
        (byte[] symbols, byte[] payload) = Valid();
        payload[2] |= 0x10;
        var ex = Assert.Throws<Z4AiFormatException>(() => Decode(payload, symbols.Length));
        Assert.That(ex!.Detail, Is.EqualTo("row-class ids have non-zero padding bits"));
        Assert.That(ex.Offset, Is.EqualTo(2));
    }

    [Test]
    public void Decode_UnknownIdCoding_IsReportedAtItsByte()
    {
        (byte[] symbols, byte[] payload) = Valid();
        payload[1] = 7;
        var ex = Assert.Throws<Z4AiFormatException>(() => Decode(payload, symbols.Length));
        Assert.That(ex!.Detail, Is.EqualTo("row-class ids have unknown coding 7"));
        Assert.That(ex.Offset, Is.EqualTo(1));
    }

    [Test]
    public void Decode_EmptyRansIdPayload_IsRefusedBeforeDecodingIt()
    {
        (byte[] symbols, byte[] payload) = Valid();
        byte[] empty = [2, RowClassModel.IdsRans, 0, .. payload[3..]];
        var ex = Assert.Throws<Z4AiFormatException>(() => Decode(empty, symbols.Length));
        Assert.That(ex!.Detail, Is.EqualTo("row-class ids have an empty rANS payload"));
        Assert.That(ex.Offset, Is.EqualTo(3), "just after the varint length");
    }

    [Test]
    public void Decode_ClassIdsNotBelowKOrNotAllUsed_HaveExactMessages()
    {
        (byte[] symbols, byte[] payload) = Valid();
        byte[] unused = payload.ToArray();
        unused[2] = 0b1111;
        Assert.That(Assert.Throws<Z4AiFormatException>(() => Decode(unused, symbols.Length))!.Detail, Is.EqualTo("row-class rANS stream declares 2 classes but its rows use 1"));

        // Three rows in class 1 of K = 3 leave class 2 unused; two bits per id.
        byte[] three = [3, RowClassModel.IdsPacked, 0b01_01_01_00, .. payload[3..]];
        Assert.That(Assert.Throws<Z4AiFormatException>(() => Decode(three, symbols.Length))!.Detail, Is.EqualTo("row-class rANS stream declares 3 classes but its rows use 2"));
        byte[] outOfRange = [3, RowClassModel.IdsPacked, 0b10_11_01_00, .. payload[3..]];
        var ex = Assert.Throws<Z4AiFormatException>(() => Decode(outOfRange, symbols.Length));
        Assert.That(ex!.Detail, Is.EqualTo("row class 3 is not below the 3 classes"));
    }

    [TestCase(0, 16, "alphabetBits")]
    [TestCase(9, 16, "alphabetBits")]
    [TestCase(3, 0, "rowLength")]
    public void Build_ArgumentsOutOfRange_Throw(int alphabetBits, int rowLength, string parameter)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => RowClassModel.Build(new byte[64], alphabetBits, rowLength));
        Assert.That(ex!.ParamName, Is.EqualTo(parameter));
    }

    [Test]
    public void Build_AlphabetBitsAtTheirBounds_Plan()
    {
        Assert.That(RowClassModel.Build(IntegerRows(64, 16, 1, 2), 1, 16), Is.Not.Null);
        Assert.That(RowClassModel.Build(IntegerRows(4096, 1024, 8, 2), 8, 1024), Is.Not.Null);
    }

    [Test]
    public void Fit_FewerThanTwoOrMoreThanSixteenClasses_Throws()
    {
        byte[] symbols = IntegerRows(20 * 8, 8, 3, 3);
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => RowClassModel.Fit(symbols, 3, 8, 1))!.ParamName, Is.EqualTo("classes"));
        Assert.Throws<ArgumentOutOfRangeException>(() => RowClassModel.Fit(symbols, 3, 8, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => RowClassModel.Fit(symbols, 3, 8, 17));
        Assert.That(RowClassModel.Fit(symbols, 3, 8, 16).ClassCount, Is.InRange(2, 16));
    }

    [Test]
    public void Build_SymbolOutsideTheAlphabet_ThrowsNamingIt()
    {
        byte[] symbols = IntegerRows(64, 16, 4, 4);
        symbols[40] = 16;
        var ex = Assert.Throws<ArgumentException>(() => RowClassModel.Build(symbols, 4, 16));
        Assert.That(ex!.ParamName, Is.EqualTo("symbols"));
        Assert.That(ex.Message, Does.StartWith("symbol 16 does not fit 4 bits"));
        Assert.Throws<ArgumentException>(() => RowClassModel.Fit(symbols, 4, 16, 2));

        symbols[40] = 15;
        Assert.That(RowClassModel.Build(symbols, 4, 16), Is.Not.Null);
    }

    [Test]
    public void Build_RowHistogramsAtTheMemoryLimit_PlanUpToItAndNotBeyond()
    {
        // One-symbol rows at two bits: 4·rows against 2·n + 65536 is equal at n = 32768 and one over at 32769.
        byte[] symbols = new byte[32769];
        for (int i = 0; i < symbols.Length; i++)
        {
            symbols[i] = (byte)(i * 7 % 4);
        }

        Assert.That(RowClassModel.Build(symbols.AsSpan(0, 32768), 2, 1), Is.Not.Null, "at the limit");
        Assert.That(RowClassModel.Build(symbols, 2, 1), Is.Null, "one row over");
    }

    [Test]
    public void Build_ThreeRows_TriesTwoClassesOnly()
    {
        // Three rows on disjoint symbol ranges: three tables would be smaller, but 4 (the next count Build tries)
        // exceeds the rows, so the plan is the two-class fit.
        byte[] symbols = new byte[3 * 64];
        uint state = 5;
        for (int i = 0; i < symbols.Length; i++)
        {
            symbols[i] = (byte)((i / 64 * 5) + (int)(Next(ref state) % 4));
        }

        RowClassModel two = RowClassModel.Fit(symbols, 4, 64, 2);
        Assert.That(RowClassModel.Fit(symbols, 4, 64, 3).EstimatedBytes, Is.LessThan(two.EstimatedBytes));
        RowClassModel built = RowClassModel.Build(symbols, 4, 64)!;
        Assert.That(built.ClassCount, Is.EqualTo(2));
        Assert.That(built.Prefix, Is.EqualTo(two.Prefix));
    }

    [Test]
    public void Build_NextClassCountNoSmaller_KeepsTheFewerClasses()
    {
        // Four rows: the four-class fit is estimated at exactly the two-class fit's size, and a tie stops the search.
        byte[] symbols = IntegerRows(23, 6, 2, 3634);
        RowClassModel two = RowClassModel.Fit(symbols, 2, 6, 2);
        Assert.That(RowClassModel.Fit(symbols, 2, 6, 4).EstimatedBytes, Is.EqualTo(two.EstimatedBytes));
        RowClassModel built = RowClassModel.Build(symbols, 2, 6)!;
        Assert.That(built.ClassCount, Is.EqualTo(2));
        Assert.That(built.Prefix, Is.EqualTo(two.Prefix));
    }

    [Test]
    public void Fit_RowCostingTheSameUnderAnotherTable_KeepsItsClass()
    {
        // Five identical rows: every table codes every row at the same cost, so no row leaves the initial split.
        byte[] symbols = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
        RowClassModel model = RowClassModel.Fit(symbols, 1, 2, 3);
        Assert.That(model.ClassCount, Is.EqualTo(3));
        Assert.That(model.Classes, Is.EqualTo(new byte[] { 0, 0, 1, 1, 2 }));
        AssertRoundTrip(symbols, model, 1);
    }

    [Test]
    public void Build_RansIdsExactlyAsLongAsPacked_KeepsThemPacked()
    {
        byte[] symbols = SkewedRows(359);
        RowClassModel model = RowClassModel.Build(symbols, 3, 4)!;
        int bits = BitOperationsLength(model.ClassCount - 1);
        var coded = new ArrayBufferWriter<byte>();
        RansCodec.Encode(model.Classes, RansCodec.BuildModel(model.Classes, order1: false, bits), coded);
        int packed = ((model.Classes.Length * bits) + 7) / 8;
        Assert.That(VarInt.GetLength((ulong)coded.WrittenCount) + coded.WrittenCount, Is.EqualTo(packed), "a tie");
        Assert.That(model.Prefix[1], Is.EqualTo(RowClassModel.IdsPacked));
        Assert.That(model.Prefix.Length, Is.GreaterThan(2 + packed));
        AssertRoundTrip(symbols, model, 3);
    }

    [Test]
    public void Fit_EveryRowPrefersOneTable_KeepsTwoClassesWithTheLastRowInTheSecond()
    {
        // The initial split gives the third row its own coarse table; the first round moves it to the other class,
        // leaving one: the plan still declares two, the last row alone in the second.
        byte[] symbols = [1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 1, 0, 1, 0];
        RowClassModel model = RowClassModel.Fit(symbols, 1, 10, 2);
        Assert.That(model.ClassCount, Is.EqualTo(2));
        Assert.That(model.Classes, Is.EqualTo(new byte[] { 0, 0, 1 }));
        AssertRoundTrip(symbols, model, 1);
    }

    [Test]
    public void Fit_LastRowInTheFirstClass_StaysThere()
    {
        byte[] symbols = IntegerRows(108, 22, 3, 110);
        RowClassModel model = RowClassModel.Fit(symbols, 3, 22, 2);
        Assert.That(model.Classes, Is.EqualTo(new byte[] { 1, 0, 0, 0, 0 }));
        AssertRoundTrip(symbols, model, 3);
    }

    [Test]
    public void Fit_ClassEmptiedInTheMiddle_IsDroppedAndTheRestRenumbered()
    {
        byte[] symbols = IntegerRows(183, 23, 4, 113);
        RowClassModel model = RowClassModel.Fit(symbols, 4, 23, 4);
        Assert.That(model.ClassCount, Is.EqualTo(3));
        Assert.That(model.Classes, Is.EqualTo(new byte[] { 1, 2, 0, 2, 1, 0, 1, 0 }));
        AssertRoundTrip(symbols, model, 4);
    }

    [Test]
    public void Build_GoldenStream_GivesGoldenPlan()
    {
        byte[] symbols = IntegerRows(183, 23, 4, 113);
        RowClassModel model = RowClassModel.Build(symbols, 4, 23)!;
        Assert.That(model.ClassCount, Is.EqualTo(3));
        Assert.That(model.Classes, Is.EqualTo(new byte[] { 1, 2, 0, 2, 1, 0, 1, 0 }));
        Assert.That(model.CodeCostQ16, Is.EqualTo(GoldenCodeCostQ16));
        Assert.That(model.EstimatedBytes, Is.EqualTo(GoldenEstimatedBytes));
        Assert.That(Convert.ToHexString(model.Prefix), Is.EqualTo(GoldenPrefix));
        byte[] payload = AssertRoundTrip(symbols, model, 4);
        Assert.That(payload.Length, Is.EqualTo(GoldenPayloadLength));
    }

    private const long GoldenCodeCostQ16 = 14453890;

    private const long GoldenEstimatedBytes = 56;

    private const string GoldenPrefix = "0300891180202732954DBC3A";

    private const int GoldenPayloadLength = 52;

    [Test]
    public void Fit_ConstantRows_GetATableOfOneSymbol()
    {
        // Rows 1, 3 and 5 are set to symbol 4 alone, and rows 0 and 2 are drawn at width one (symbol 4 too): their
        // class's table holds that symbol alone, at cost 0, which is a cost and not an absent symbol.
        byte[] symbols = IntegerRows(6 * 20, 20, 3, 7);
        for (int i = 0; i < symbols.Length; i++)
        {
            if (i / 20 % 2 == 1)
            {
                symbols[i] = 4;
            }
        }

        RowClassModel model = RowClassModel.Fit(symbols, 3, 20, 2);
        Assert.That(model.Classes, Is.EqualTo(new byte[] { 0, 0, 0, 0, 1, 0 }));
        Assert.That(model.Freqs.AsSpan(0, 8).ToArray(), Is.EqualTo(new uint[] { 0, 0, 0, 0, FrequencyTable.ProbScale, 0, 0, 0 }), "class 0 is symbol 4 alone");
        AssertRoundTrip(symbols, model, 3);
    }

    [Test]
    public void Build_SkewedClassesOverManyRows_CodesTheIdsAsOrderZeroRans()
    {
        // Constant rows among spread ones over many rows: the ids are skewed, and order-0 rANS beats packing them.
        byte[] symbols = SkewedRows(1250);
        RowClassModel model = RowClassModel.Build(symbols, 3, 4)!;
        int k = model.ClassCount;
        int bits = BitOperationsLength(k - 1);
        Assert.That(model.Prefix[0], Is.EqualTo(k));
        Assert.That(model.Prefix[1], Is.EqualTo(RowClassModel.IdsRans));
        var reader = new SpanReader(model.Prefix.AsSpan(2));
        int length = reader.ReadVarInt32(model.Prefix.Length);
        ReadOnlySpan<byte> ids = model.Prefix.AsSpan(2 + reader.Position, length);

        var expected = new ArrayBufferWriter<byte>();
        RansCodec.Encode(model.Classes, RansCodec.BuildModel(model.Classes, order1: false, bits), expected);
        Assert.That(ids.ToArray(), Is.EqualTo(expected.WrittenSpan.ToArray()), "order 0 at bitlen(K - 1) bits");
        Assert.That(2 + reader.Position + length, Is.LessThan(2 + ((model.Classes.Length * bits) + 7) / 8), "shorter than packed");
        AssertRoundTrip(symbols, model, 3);
    }

    // Rows of four three-bit symbols: every eighth and every thirteenth row constant, the rest spread (a hash).
    private static byte[] SkewedRows(int rows)
    {
        byte[] symbols = new byte[rows * 4];
        for (int i = 0; i < symbols.Length; i++)
        {
            int row = i / 4;
            symbols[i] = row % 8 == 0 || row % 13 == 0 ? (byte)4 : (byte)(((uint)i * 2654435761u) >> 29);
        }

        return symbols;
    }

    private static int BitOperationsLength(int value) => 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)value);

    private static uint Next(ref uint state)
    {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        return state;
    }

    private static byte[] AssertRoundTrip(byte[] symbols, RowClassModel model, int alphabetBits)
    {
        var writer = new ArrayBufferWriter<byte>();
        RowClassCodec.Encode(symbols, model, writer);
        byte[] payload = writer.WrittenSpan.ToArray();
        byte[] decoded = new byte[symbols.Length];
        RowClassCodec.Decode(payload, alphabetBits, model.RowLength, decoded);
        Assert.That(decoded, Is.EqualTo(symbols));
        return payload;
    }

    private static void Decode(byte[] payload, int count) => RowClassCodec.Decode(payload, 3, 16, new byte[count]);

    private static (byte[] Symbols, byte[] Payload) Valid()
    {
        // The golden stream of RowClassCodecTests: four rows of 16 three-bit symbols, K = 2, ids 0b0101 packed.
        byte[] symbols = Z4Ai.Tests.Entropy.RowClassCodecTests.SpreadRows(4 * 16, 16, 3, 2);
        var writer = new ArrayBufferWriter<byte>();
        RowClassCodec.Encode(symbols, RowClassModel.Fit(symbols, 3, 16, 2), writer);
        return (symbols, writer.WrittenSpan.ToArray());
    }
}
