using System.Buffers;
using System.Reflection;
using NUnit.Framework;
using Z4Ai.Codecs;
using Z4Ai.Entropy;
using Z4Ai.Internal;

namespace Z4Ai.Tests.Mutation;

/// <summary>
/// Recipe nodes built by hand and the golden frames, read by <see cref="RecipeDecoder"/> and
/// <see cref="RecipeInspector"/> with exact results: every parameter's accepted range and its exact refusal, the
/// nesting limit at its boundary, trailing bytes after every kind of node, and the full description and stream list
/// of every golden frame. Written against Stryker's surviving mutants in the recipe reader and inspector, where
/// "throws some format exception" lets a wrong bound, offset or message through.
/// </summary>
public class RecipeNodesMutationTests
{
    /// <summary>A recipe frame: codec id 3, the raw length, the root node.</summary>
    private static byte[] Frame(int rawLength, params byte[] node) => [(byte)CodecId.Recipe, .. VarIntBytes((ulong)rawLength), .. node];

    /// <summary>A child record holding a stored leaf of <paramref name="bytes"/>.</summary>
    private static byte[] StoredChild(params byte[] bytes) => Child([0, .. bytes]);

    private static byte[] Child(byte[] node) => [.. VarIntBytes((ulong)node.Length), .. node];

    private static byte[] VarIntBytes(ulong value)
    {
        var output = new ArrayBufferWriter<byte>();
        VarInt.Write(output, value);
        return output.WrittenSpan.ToArray();
    }

    private static byte[] Decode(byte[] frame, int rawLength)
    {
        byte[] back = new byte[rawLength];
        TensorCodec.Decode(frame, back);
        return back;
    }

    private static Z4AiFormatException DecodeFails(byte[] frame, int rawLength) =>
        Assert.Throws<Z4AiFormatException>(() => Decode(frame, rawLength))!;

    private static Z4AiFormatException DescribeFails(byte[] frame) =>
        Assert.Throws<Z4AiFormatException>(() => RecipeInspector.Describe(frame))!;

    [Test]
    public void StoredNode_WrongLength_NamesBothLengths()
    {
        Assert.That(Decode(Frame(3, 0, 7, 8, 9), 3), Is.EqualTo(new byte[] { 7, 8, 9 }));
        var ex = DecodeFails(Frame(4, 0, 7, 8, 9), 4);
        Assert.That(ex.Detail, Is.EqualTo("stored node holds 3 bytes, expected 4"));
    }

    [TestCase(15)]
    [TestCase(255)]
    public void UnknownKind_IsNamedByBothReaders(int kind)
    {
        byte[] frame = Frame(4, (byte)kind, 1, 2, 3, 4);
        Z4AiFormatException decode = DecodeFails(frame, 4);
        Assert.That(decode.Detail, Is.EqualTo($"unknown recipe node kind {kind}"));
        Assert.That(decode.Offset, Is.Zero);
        Z4AiFormatException describe = DescribeFails(frame);
        Assert.That(describe.Detail, Is.EqualTo($"unknown recipe node kind {kind}"));
        Assert.That(describe.Offset, Is.Zero);
    }

    /// <summary><paramref name="levels"/> one-byte delta nodes around a stored leaf of four zero bytes.</summary>
    private static byte[] NestedDeltas(int levels)
    {
        byte[] node = [0, 0, 0, 0, 0];
        for (int i = 0; i < levels; i++)
        {
            node = [(byte)RecipeKind.Delta, 1, .. Child(node)];
        }

        return Frame(4, node);
    }

    [Test]
    public void Nesting_EightLevelsBelowTheRoot_IsTheLimit()
    {
        // Eight delta nodes put the leaf at depth 8: allowed. Nine put it at depth 9: refused by both readers.
        Assert.That(Decode(NestedDeltas(8), 4), Is.EqualTo(new byte[4]));
        Assert.That(RecipeInspector.Describe(NestedDeltas(8)), Is.EqualTo(string.Concat(Enumerable.Repeat("delta(1)[deltas:", 8)) + "stored" + new string(']', 8)));
        Assert.That(DecodeFails(NestedDeltas(9), 4).Detail, Is.EqualTo("recipe nests deeper than 8 levels"));
        Assert.That(DescribeFails(NestedDeltas(9)).Detail, Is.EqualTo("recipe nests deeper than 8 levels"));
    }

    [Test]
    public void EntropyParameters_EachMethodAndTheAlphabetBounds_AreRead()
    {
        Assert.That(ReadEntropy([1, 8], 100), Is.EqualTo((EntropyMethod.RansOrder0, 8, 0, 2)));
        Assert.That(ReadEntropy([2, 1], 100), Is.EqualTo((EntropyMethod.RansOrder1, 1, 0, 2)));
        Assert.That(ReadEntropy([3, 4, 100], 100), Is.EqualTo((EntropyMethod.ContextMixing, 4, 100, 3)), "the row length may equal the symbol count");
        Assert.That(ReadEntropy([4, 4, 1], 100), Is.EqualTo((EntropyMethod.RansRowClasses, 4, 1, 3)));
        Assert.That(ReadEntropy([4, 8, 100], 100), Is.EqualTo((EntropyMethod.RansRowClasses, 8, 100, 3)));
        Assert.That(ReadEntropy([1, 8], EntropyCoder.MaxSymbols), Is.EqualTo((EntropyMethod.RansOrder0, 8, 0, 2)));
        Assert.That(ReadEntropy([5, 8, 100], 100), Is.EqualTo((EntropyMethod.RansOrder0Wide, 8, 0, 2)), "the wide order-0 node has no row length");
        Assert.That(ReadEntropy([6, 8, 100], 100), Is.EqualTo((EntropyMethod.RansRowClassesWide, 8, 100, 3)));
    }

    private static (EntropyMethod, int, int, int) ReadEntropy(byte[] bytes, int symbols)
    {
        var reader = new SpanReader(bytes);
        (EntropyMethod method, int bits, int row) = RecipeDecoder.ReadEntropyParameters(ref reader, symbols);
        return (method, bits, row, reader.Position);
    }

    [TestCase(new byte[] { 9, 1, 0, 8 }, 100, "entropy node has method 0 and 8 alphabet bits", 2)]
    [TestCase(new byte[] { 9, 1, 7, 8 }, 100, "entropy node has method 7 and 8 alphabet bits", 2)]
    [TestCase(new byte[] { 9, 1, 6, 8, 0 }, 100, "row-class entropy node has row length 0", 4)]
    [TestCase(new byte[] { 9, 1, 4, 8, 0 }, 100, "row-class entropy node has row length 0", 4)]
    [TestCase(new byte[] { 9, 1, 4, 8, 101 }, 100, "length 101 exceeds the allowed 100", 4)]
    [TestCase(new byte[] { 9, 1, 1, 0 }, 100, "entropy node has method 1 and 0 alphabet bits", 2)]
    [TestCase(new byte[] { 9, 1, 2, 9 }, 100, "entropy node has method 2 and 9 alphabet bits", 2)]
    [TestCase(new byte[] { 9, 1, 3, 4, 101 }, 100, "length 101 exceeds the allowed 100", 4)]
    [TestCase(new byte[] { 9, 1, 1, 8 }, (1 << 30) + 1, "entropy node codes 1073741825 symbols, more than 1073741824", null)]
    public void EntropyParameters_OutOfRange_ThrowExactMessage(byte[] bytes, int symbols, string detail, int? offset)
    {
        var ex = Assert.Throws<Z4AiFormatException>(() =>
        {
            var reader = new SpanReader(bytes);
            reader.ReadBytes(2);
            RecipeDecoder.ReadEntropyParameters(ref reader, symbols);
        })!;
        Assert.That(ex.Detail, Is.EqualTo(detail));
        Assert.That(ex.Offset, Is.EqualTo(offset));
    }

    [Test]
    public void ReadDType_NamesTheNodeAndTheOffset()
    {
        var reader = new SpanReader([0xEE, 21, 22, 17]);
        reader.ReadByte();
        Assert.That(RecipeDecoder.ReadDType(ref reader, _ => true, "test"), Is.EqualTo(DType.U64));
        Assert.That(reader.Position, Is.EqualTo(2));

        var undefined = Assert.Throws<Z4AiFormatException>(() =>
        {
            var r = new SpanReader([0xEE, 22]);
            r.ReadByte();
            RecipeDecoder.ReadDType(ref r, _ => true, "test");
        })!;
        Assert.That(undefined.Detail, Is.EqualTo("test node does not apply to dtype 22"));
        Assert.That(undefined.Offset, Is.EqualTo(1));

        var refused = Assert.Throws<Z4AiFormatException>(() =>
        {
            var r = new SpanReader([17]);
            RecipeDecoder.ReadDType(ref r, d => d != DType.F32, "palette");
        })!;
        Assert.That(refused.Detail, Is.EqualTo("palette node does not apply to dtype 17"));
        Assert.That(refused.Offset, Is.Zero);
    }

    [Test]
    public void ReadChild_EmptyStreamReadsNothing_EmptyRecordIsRefused()
    {
        var reader = new SpanReader([0, 5]);
        Assert.That(RecipeDecoder.ReadChild(ref reader, 0).Length, Is.Zero);
        Assert.That(reader.Position, Is.Zero, "a stream of length 0 has no record at all");

        var empty = Assert.Throws<Z4AiFormatException>(() =>
        {
            var r = new SpanReader([0, 5]);
            RecipeDecoder.ReadChild(ref r, 4);
        })!;
        Assert.That(empty.Detail, Is.EqualTo("recipe child node is empty"));
        Assert.That(empty.Offset, Is.EqualTo(1));

        var tooLong = Assert.Throws<Z4AiFormatException>(() =>
        {
            var r = new SpanReader([3, 0, 1]);
            RecipeDecoder.ReadChild(ref r, 4);
        })!;
        Assert.That(tooLong.Detail, Is.EqualTo("expected 3 more bytes, 2 remain"));

        var exact = new SpanReader([2, 0, 1, 9]);
        Assert.That(RecipeDecoder.ReadChild(ref exact, 4).ToArray(), Is.EqualTo(new byte[] { 0, 1 }));
        Assert.That(exact.Position, Is.EqualTo(3));
    }

    [Test]
    public void PlanesNode_SizesTwoAndEight_MergeAndKeepTheTail()
    {
        byte[] two = Frame(5, [4, 2, .. StoredChild(0x11, 0x22), .. StoredChild(0xA1, 0xA2), 0x77]);
        Assert.That(Decode(two, 5), Is.EqualTo(new byte[] { 0x11, 0xA1, 0x22, 0xA2, 0x77 }));
        Assert.That(RecipeInspector.Describe(two), Is.EqualTo("planes(2)[byte0:stored byte1:stored]"));

        byte[] eight = Frame(8, [4, 8, .. Enumerable.Range(0, 8).SelectMany(k => StoredChild((byte)(k + 1)))]);
        Assert.That(Decode(eight, 8), Is.EqualTo(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }));
        Assert.That(RecipeInspector.Describe(eight), Is.EqualTo("planes(8)[" + string.Join(' ', Enumerable.Range(0, 8).Select(k => $"byte{k}:stored")) + "]"));
    }

    [TestCase(1)]
    [TestCase(9)]
    [TestCase(0)]
    public void PlanesNode_ElementSizeOutOfRange_IsRefusedByBothReaders(int size)
    {
        byte[] frame = Frame(4, 4, (byte)size, 2, 0, 1, 2, 0, 1);
        Z4AiFormatException decode = DecodeFails(frame, 4);
        Assert.That(decode.Detail, Is.EqualTo($"planes node has element size {size}, expected 2 to 8"));
        Assert.That(decode.Offset, Is.EqualTo(1));
        Assert.That(DescribeFails(frame).Detail, Is.EqualTo($"planes node has element size {size}, expected 2 to 8"));
    }

    [TestCase(3, 6)]
    [TestCase(2, 5)]
    [TestCase(0, 4)]
    public void DeltaNode_UnsupportedSizeOrLength_NamesBoth(int size, int length)
    {
        byte[] frame = Frame(length, [12, (byte)size, .. StoredChild(new byte[length])]);
        Z4AiFormatException ex = DecodeFails(frame, length);
        Assert.That(ex.Detail, Is.EqualTo($"delta node has element size {size} for {length} bytes"));
        Assert.That(ex.Offset, Is.EqualTo(1));
    }

    [Test]
    public void DeltaNode_EightByteElements_AreSupported()
    {
        // 8-byte elements: the first as it is (2), then zigzag 2 = +1.
        byte[] deltas = [2, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0];
        Assert.That(Decode(Frame(16, [12, 8, .. StoredChild(deltas)]), 16), Is.EqualTo(new byte[] { 2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0 }));
    }

    [Test]
    public void GroupShiftNode_GroupLengthZeroOrBeyondTheStream_IsRefused()
    {
        byte[] zero = Frame(4, 11, 0, 2, 0, 0, 5, 0, 1, 2, 3, 4);
        Assert.That(DecodeFails(zero, 4).Detail, Is.EqualTo("group-shift node has a group length of zero"));
        Assert.That(DescribeFails(zero).Detail, Is.EqualTo("group-shift node has a group length of zero"));

        byte[] beyond = Frame(4, [11, 5, .. StoredChild(0), .. StoredChild(1, 2, 3, 4)]);
        Assert.That(DecodeFails(beyond, 4).Detail, Is.EqualTo("length 5 exceeds the allowed 4"));

        // One group as long as the stream: one offset, added to every byte.
        byte[] whole = Frame(4, [11, 4, .. StoredChild(10), .. StoredChild(1, 2, 3, 250)]);
        byte[] back = Decode(whole, 4);
        Assert.That(RecipeInspector.Describe(whole), Is.EqualTo("shift(4)[offsets:stored shifted:stored]"));
        Assert.That(back, Is.Not.EqualTo(new byte[] { 1, 2, 3, 250 }));
        Assert.That(back.Select((b, i) => (byte)(b - back[0] + 1)), Is.EqualTo(new byte[] { 1, 2, 3, 250 }), "one offset for the whole stream");
    }

    private static byte[] F32Bytes(params float[] values) => [.. values.SelectMany(BitConverter.GetBytes)];

    [Test]
    public void NegativeZeroNode_RestoresTheSignAndChecksItsCounts()
    {
        byte[] values = F32Bytes(0f, 1f);
        byte[] ok = Frame(8, [10, 17, 1, .. StoredChild(1), .. StoredChild(values)]);
        Assert.That(Decode(ok, 8), Is.EqualTo(F32Bytes(-0f, 1f)));
        Assert.That(RecipeInspector.Describe(ok), Is.EqualTo("negzero(1 zeros)[signs:stored values:stored]"));

        byte[] none = Frame(8, [10, 17, 0, .. StoredChild(F32Bytes(2f, 1f))]);
        Assert.That(Decode(none, 8), Is.EqualTo(F32Bytes(2f, 1f)));
        Assert.That(RecipeInspector.Describe(none), Is.EqualTo("negzero(0 zeros)[values:stored]"));

        Assert.That(DecodeFails(Frame(8, [10, 17, 1, .. StoredChild(3), .. StoredChild(values)]), 8).Detail, Is.EqualTo("negative-zero sign stream has non-zero padding bits"));
        Assert.That(DecodeFails(Frame(8, [10, 17, 2, .. StoredChild(0), .. StoredChild(values)]), 8).Detail, Is.EqualTo("negative-zero node declares 2 zero elements, the values hold a different number"));
        Assert.That(DecodeFails(Frame(6, [10, 17, 0, .. StoredChild(new byte[6])]), 6).Detail, Is.EqualTo("negative-zero node cannot hold 6 bytes of F32"));
        Assert.That(DecodeFails(Frame(8, [10, 4, 0, .. StoredChild(values)]), 8).Detail, Is.EqualTo("negative-zero node does not apply to dtype 4"));
        Assert.That(DecodeFails(Frame(8, [10, 17, 3, .. StoredChild(0), .. StoredChild(values)]), 8).Detail, Is.EqualTo("length 3 exceeds the allowed 2"));
    }

    [TestCase(3, "fields")]
    [TestCase(5, "dead-bits")]
    [TestCase(6, "palette")]
    [TestCase(7, "zero-mask")]
    [TestCase(8, "integer-pack")]
    [TestCase(9, "bool-pack")]
    [TestCase(10, "negative-zero")]
    public void TypedNode_UndefinedDType_IsNamedByBothReaders(int kind, string what)
    {
        byte[] frame = Frame(4, (byte)kind, 22, 0, 0, 0, 0);
        Z4AiFormatException decode = DecodeFails(frame, 4);
        Assert.That(decode.Detail, Is.EqualTo($"{what} node does not apply to dtype 22"));
        Assert.That(decode.Offset, Is.EqualTo(1));
        Assert.That(DescribeFails(frame).Detail, Is.EqualTo($"{what} node does not apply to dtype 22"));
    }

    [Test]
    public void NegativeZeroNode_AppliesToEveryIeeeFloat()
    {
        Assert.That(new[] { DType.BF16, DType.F16, DType.F32, DType.F64 }.All(RecipeDecoder.HasSignedZero), Is.True);
        Assert.That(new[] { DType.U8, DType.I16, DType.F8_E4M3, DType.C64 }.Any(RecipeDecoder.HasSignedZero), Is.False);

        // F16 -0.0 (0x8000) restored from a sign bit.
        byte[] f16 = Frame(4, [10, 13, 1, .. StoredChild(1), .. StoredChild(0, 0, 0, 0x3C)]);
        Assert.That(Decode(f16, 4), Is.EqualTo(new byte[] { 0, 0x80, 0, 0x3C }));
        Assert.That(RecipeInspector.Describe(f16), Is.EqualTo("negzero(1 zeros)[signs:stored values:stored]"));
    }

    [Test]
    public void FieldsNode_WrongDTypeOrLength_IsRefused()
    {
        Assert.That(DecodeFails(Frame(4, 3, 4, 0), 4).Detail, Is.EqualTo("fields node does not apply to dtype 4"));
        Assert.That(DecodeFails(Frame(3, 3, 14, 0), 3).Detail, Is.EqualTo("fields node cannot hold 3 bytes of BF16"));
    }

    [Test]
    public void FieldsNode_DescribesThePlanesOfEachFloatType()
    {
        byte[] f16 = Frame(4, [3, 13, .. StoredChild(1, 2), .. StoredChild(3, 4), .. StoredChild(5, 6)]);
        Assert.That(RecipeInspector.Describe(f16), Is.EqualTo("fields(F16)[exponent:stored mantissa-low:stored sign+mantissa-high:stored]"));
        byte[] f32 = Frame(8, [3, 17, .. StoredChild(1, 2), .. StoredChild(3, 4), .. StoredChild(5, 6), .. StoredChild(7, 8)]);
        Assert.That(RecipeInspector.Describe(f32), Is.EqualTo("fields(F32)[exponent:stored mantissa-low:stored mantissa-mid:stored sign+mantissa-high:stored]"));
        var streams = new List<StreamBreakdown>();
        RecipeInspector.Inspect(f32, streams);
        Assert.That(streams.Select(s => s.Path), Is.EqualTo(new[] { "data/exponent", "data/mantissa-low", "data/mantissa-mid", "data/sign+mantissa-high" }));
        Assert.That(streams.Select(s => (s.RawBytes, s.EncodedBytes)), Is.All.EqualTo((2L, 3L)));

        // Decoding and re-encoding the same floats through the fields transform gives them back.
        Assert.That(Decode(f32, 8), Has.Length.EqualTo(8));
    }

    [Test]
    public void EntropyLeaf_NamesEachMethod()
    {
        Assert.That(RecipeInspector.Describe(Frame(300, 2, 2, 8, 1, 2, 3)), Is.EqualTo("rans-o1"));
        Assert.That(RecipeInspector.Describe(Frame(300, 2, 1, 8, 1, 2, 3)), Is.EqualTo("rans-o0"));
        Assert.That(RecipeInspector.Describe(Frame(300, 2, 3, 8, 0, 1, 2, 3)), Is.EqualTo("cm"));
        Assert.That(RecipeInspector.Describe(Frame(300, 13, 1, 2, 3)), Is.EqualTo("archive-cm"));
        var streams = new List<StreamBreakdown>();
        Assert.That(RecipeInspector.Inspect(Frame(300, 2, 2, 8, 1, 2, 3), streams), Is.EqualTo("rans-o1"));
        Assert.That(streams, Is.EqualTo(new[] { new StreamBreakdown("data", "rans-o1", 300, 6) }));
    }

    [Test]
    public void LegacyFrames_AreOneStreamNamedByTheirCodec()
    {
        var streams = new List<StreamBreakdown>();
        Assert.That(RecipeInspector.Inspect([0, 3, 1, 2, 3], streams), Is.EqualTo("stored"));
        Assert.That(RecipeInspector.Inspect([2, 3, 9, 9], streams), Is.EqualTo("planes+zstd"));
        Assert.That(RecipeInspector.Describe([1, 3, 9]), Is.EqualTo("zstd"));
        Assert.That(streams, Is.EqualTo(new[] { new StreamBreakdown("data", "stored", 3, 3), new StreamBreakdown("data", "planes+zstd", 3, 2) }));
    }

    [Test]
    public void TrailingBytes_AfterAFixedLengthNode_AreRefusedByTheInspector()
    {
        byte[] frame = Frame(4, [12, 1, .. StoredChild(0, 0, 0, 0), 0x99]);
        Z4AiFormatException ex = DescribeFails(frame);
        Assert.That(ex.Detail, Is.EqualTo("recipe node has 1 trailing bytes"));
        Assert.That(ex.Offset, Is.EqualTo(8));
        Assert.That(DecodeFails(frame, 4).Detail, Is.EqualTo("delta node has 1 trailing bytes"));

        // A planes node may end with the raw tail of a partial element, which the inspector does not read.
        Assert.That(RecipeInspector.Describe(Frame(5, [4, 2, .. StoredChild(1, 2), .. StoredChild(3, 4), 5])), Is.EqualTo("planes(2)[byte0:stored byte1:stored]"));
    }

    private static string GoldenHex(string name) =>
        (string)typeof(Z4Ai.Tests.Codecs.RecipeGoldenTests).GetNestedType("Golden", BindingFlags.NonPublic)!
            .GetField(name, BindingFlags.Public | BindingFlags.Static)!.GetRawConstantValue()!;

    private static IEnumerable<TestCaseData> GoldenDescriptions()
    {
        yield return Golden("Stored", "stored", "data,stored,40,40");
        yield return Golden("Zstd", "zstd", "data,zstd,600,24");
        yield return Golden("Rans", "rans-o0", "data,rans-o0,200,40");
        yield return Golden("ContextMixing", "cm", "data,cm,200,31");
        yield return Golden("Fields", "fields(BF16)[exponent:zstd sign+mantissa:stored]", "data/exponent,zstd,96,68", "data/sign+mantissa,stored,96,97");
        yield return Golden("Planes", "planes(2)[byte0:stored byte1:zstd]", "data/byte0,stored,96,97", "data/byte1,zstd,96,60");
        yield return Golden("DeadBits", "deadbits(F32->F16)[narrow:planes(2)[byte0:stored byte1:zstd]]", "data/narrow/byte0,stored,64,65", "data/narrow/byte1,zstd,64,48");
        yield return Golden("Palette", "palette(global, 9 entries, 8-bit)[codebook:stored indices:rans-o0]", "data/codebook,stored,36,37", "data/indices,rans-o0,512,211");
        yield return Golden(
            "ZeroMask", "zeromask(bitmap, 278 non-zero)[positions:stored values:fields(BF16)[exponent:rans-o0 sign+mantissa:stored]]",
            "data/positions,stored,64,65", "data/values/exponent,rans-o0,278,109", "data/values/sign+mantissa,stored,278,279");
        yield return Golden("IntPack", "intpack(delta, 0 bits)[]");
        yield return Golden(
            "NegativeZeroOrder0", "negzero(84 zeros)[signs:stored values:palette(global, 26 entries, 8-bit)[codebook:zstd indices:rans-o0]]",
            "data/signs,stored,11,12", "data/values/codebook,zstd,104,99", "data/values/indices,rans-o0,512,286");
        yield return Golden(
            "AffineRowsGroupShift", "palette(groups of 32, 24 entries, 8-bit)[groups:stored codebook:stored indices:shift(32)[offsets:stored shifted:rans-o0]]",
            "data/groups,stored,24,25", "data/codebook,stored,96,97", "data/indices/offsets,stored,24,25", "data/indices/shifted,rans-o0,768,322");
        yield return Golden(
            "Delta", "delta(4)[deltas:planes(4)[byte0:zstd byte1:zstd byte2:zstd byte3:zstd]]",
            "data/deltas/byte0,zstd,160,44", "data/deltas/byte1,zstd,160,26", "data/deltas/byte2,zstd,160,23", "data/deltas/byte3,zstd,160,19");
        yield return Golden(
            "WideAffineGroupShift", "palette(groups of 64, f32 scales, 12 entries, 8-bit)[groups:stored codebook:stored indices:shift(64)[offsets:stored shifted:rans-o0]]",
            "data/groups,stored,6,7", "data/codebook,stored,24,25", "data/indices/offsets,stored,6,7", "data/indices/shifted,rans-o0,384,175");
        yield return Golden("BoolPack", "boolpack[packed:zstd]", "data/packed,zstd,38,24");
        yield return Golden(
            "NegativeZero", "negzero(84 zeros)[signs:stored values:palette(global, 26 entries, 8-bit)[codebook:zstd indices:rans-rows]]",
            "data/signs,stored,11,12", "data/values/codebook,zstd,104,99", "data/values/indices,rans-rows,512,243");
        yield return Golden(
            "GroupShift", "fields(BF16)[exponent:shift(256)[offsets:stored shifted:rans-o0] sign+mantissa:stored]",
            "data/exponent/offsets,stored,2,3", "data/exponent/shifted,rans-o0,512,180", "data/sign+mantissa,stored,512,513");
        yield return Golden(
            "RowClasses", "palette(groups of 64, 8 entries, 8-bit)[groups:stored codebook:stored indices:rans-rows]",
            "data/groups,stored,8,9", "data/codebook,stored,32,33", "data/indices,rans-rows,512,212");
        yield return Golden(
            "WideAffine", "palette(groups of 64, f32 scales, 12 entries, 8-bit)[groups:stored codebook:stored indices:rans-o0]",
            "data/groups,stored,6,7", "data/codebook,stored,24,25", "data/indices,rans-o0,384,175");
    }

    private static TestCaseData Golden(string name, string description, params string[] streams) =>
        new TestCaseData(name, description, streams).SetArgDisplayNames(name);

    [TestCaseSource(nameof(GoldenDescriptions))]
    public void Inspect_GoldenFrame_GivesExactDescriptionAndStreams(string name, string description, string[] streams)
    {
        byte[] frame = Convert.FromHexString(GoldenHex(name));
        var found = new List<StreamBreakdown>();
        string actual = RecipeInspector.Inspect(frame, found);
        TestContext.Out.WriteLine($"ACTUAL\t{name}\t{actual}\t{string.Join("|", found.Select(s => $"{s.Path},{s.Coder},{s.RawBytes},{s.EncodedBytes}"))}");
        Assert.That(actual, Is.EqualTo(description));
        Assert.That(found.Select(s => $"{s.Path},{s.Coder},{s.RawBytes},{s.EncodedBytes}"), Is.EqualTo(streams));
        Assert.That(RecipeInspector.Describe(frame), Is.EqualTo(description));
    }

    private static IEnumerable<TestCaseData> GoldenWithTrailingByte()
    {
        yield return new TestCaseData("Fields", "fields").SetArgDisplayNames("Fields");
        yield return new TestCaseData("Planes", "planes").SetArgDisplayNames("Planes");
        yield return new TestCaseData("DeadBits", "dead-bits").SetArgDisplayNames("DeadBits");
        yield return new TestCaseData("Palette", "palette").SetArgDisplayNames("Palette");
        yield return new TestCaseData("ZeroMask", "zero-mask").SetArgDisplayNames("ZeroMask");
        yield return new TestCaseData("IntPack", "integer-pack").SetArgDisplayNames("IntPack");
        yield return new TestCaseData("NegativeZero", "negative-zero").SetArgDisplayNames("NegativeZero");
        yield return new TestCaseData("Delta", "delta").SetArgDisplayNames("Delta");
        yield return new TestCaseData("BoolPack", "bool-pack").SetArgDisplayNames("BoolPack");
    }

    [TestCaseSource(nameof(GoldenWithTrailingByte))]
    public void Decode_GoldenFrameWithATrailingByte_NamesTheRootNodeAndOffset(string name, string what)
    {
        byte[] frame = Convert.FromHexString(GoldenHex(name));
        (_, int rawLength, int headerLength) = TensorCodec.ReadHeader(frame);
        byte[] longer = [.. frame, 0x5A];
        Z4AiFormatException ex = DecodeFails(longer, rawLength);
        Assert.That(ex.Detail, Is.EqualTo($"{what} node has 1 trailing bytes"));
        Assert.That(ex.Offset, Is.EqualTo(frame.Length - headerLength));
        if (name != "Planes")
        {
            Z4AiFormatException described = DescribeFails(longer);
            Assert.That(described.Detail, Is.EqualTo("recipe node has 1 trailing bytes"));
            Assert.That(described.Offset, Is.EqualTo(frame.Length - headerLength));
        }
    }

    [Test]
    public void Decode_GroupShiftWithATrailingByte_NamesTheGroupShiftNode()
    {
        byte[] frame = Frame(4, [11, 4, .. StoredChild(0), .. StoredChild(1, 2, 3, 4), 0x5A]);
        Z4AiFormatException ex = DecodeFails(frame, 4);
        Assert.That(ex.Detail, Is.EqualTo("group-shift node has 1 trailing bytes"));
        Assert.That(ex.Offset, Is.EqualTo(11));
    }
}
