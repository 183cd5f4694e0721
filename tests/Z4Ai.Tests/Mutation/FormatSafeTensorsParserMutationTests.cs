using System.Text;
using NUnit.Framework;
using Z4Ai.Format;
using Z4Ai.Tests.Format;

namespace Z4Ai.Tests.Mutation;

/// <summary>
/// The safetensors reader pinned message by message: every refusal of <see cref="SafeTensorsHeaderParser"/> and
/// <see cref="SafeTensorsFormat"/> with its kind, exact text, tensor and file offset, the order of the offset walk
/// (begin, then end, then name), which duplicate is named, and the limits at their exact boundaries.
/// </summary>
public class FormatSafeTensorsParserMutationTests
{
    private const string U8x4At0 = "{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}";

    private static Z4AiFormatException Fail(string json, int zeros = 0) =>
        Assert.Throws<Z4AiFormatException>(() => SafeTensorsFormat.Parse(StBytes.File(json, zeros)))!;

    private static Z4AiFormatException FailBytes(byte[] file) =>
        Assert.Throws<Z4AiFormatException>(() => SafeTensorsFormat.Parse(file))!;

    private static void AssertFailure(Z4AiFormatException ex, Z4AiErrorKind kind, string detail, string? tensor, long? offset)
    {
        Assert.That(ex.Kind, Is.EqualTo(kind), ex.Message);
        Assert.That(ex.Detail, Is.EqualTo(detail));
        Assert.That(ex.TensorName, Is.EqualTo(tensor), "tensor");
        Assert.That(ex.Offset, Is.EqualTo(offset), "offset");
    }

    // ---- steps 1-3: the length prefix ----

    [Test]
    public void ReadHeaderLength_EveryRefusal_HasItsKindTextAndOffset()
    {
        var small = Assert.Throws<Z4AiFormatException>(() => SafeTensorsFormat.ReadHeaderLength(new byte[7], 7))!;
        AssertFailure(small, Z4AiErrorKind.HeaderTooSmall, "the input has 7 bytes, fewer than the 8-byte header length prefix", null, null);

        var large = Assert.Throws<Z4AiFormatException>(() => SafeTensorsFormat.ReadHeaderLength(StBytes.Le(65), 1000, maxHeaderSize: 64))!;
        AssertFailure(large, Z4AiErrorKind.HeaderTooLarge, "the header length prefix says 65 bytes, above the limit of 64", null, 0);

        var shortFile = Assert.Throws<Z4AiFormatException>(() => SafeTensorsFormat.ReadHeaderLength(StBytes.Le(10), 17))!;
        AssertFailure(shortFile, Z4AiErrorKind.InvalidHeaderLength, "the header length prefix says 10 bytes, but only 9 follow it", null, 0);
    }

    [Test]
    public void ReadHeaderLength_Boundaries_EightBytesAndTheLimitItselfAreAccepted()
    {
        Assert.That(SafeTensorsFormat.ReadHeaderLength(StBytes.Le(0), 8), Is.EqualTo(0), "an 8-byte input is long enough for the prefix");
        Assert.That(SafeTensorsFormat.ReadHeaderLength(StBytes.Le(64), 72, maxHeaderSize: 64), Is.EqualTo(64), "N equal to the limit");
        Assert.That(SafeTensorsFormat.ReadHeaderLength(StBytes.Le(0), 8, maxHeaderSize: 0), Is.EqualTo(0), "a limit of 0 admits N = 0");
        Assert.That(
            SafeTensorsFormat.ReadHeaderLength(StBytes.Le(5), 13, SafeTensorsFormat.MaxSupportedHeaderSize),
            Is.EqualTo(5),
            "the largest configurable limit is itself allowed");
        Assert.Throws<ArgumentOutOfRangeException>(() => SafeTensorsFormat.ReadHeaderLength(StBytes.Le(5), 13, SafeTensorsFormat.MaxSupportedHeaderSize + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => SafeTensorsFormat.ReadHeaderLength(StBytes.Le(5), 13, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => SafeTensorsFormat.ReadHeaderLength(StBytes.Le(5), -1));
        var ex = Assert.Throws<ArgumentException>(() => SafeTensorsFormat.ReadHeaderLength(new byte[7], 8))!;
        Assert.That((ex.ParamName, ex.Message), Is.EqualTo(("prefix", "The prefix must hold the first 8 bytes of the file. (Parameter 'prefix')")));
        Assert.That(SafeTensorsFormat.MaxSupportedHeaderSize, Is.EqualTo(Array.MaxLength - 8L));
    }

    [Test]
    public void Parse_TotalLengthShorterThanPrefixAndHeader_IsAnArgumentError()
    {
        byte[] json = StBytes.Utf8("{}");
        Assert.That(SafeTensorsFormat.ParseHeader(json, 10).TotalLength, Is.EqualTo(10));
        Assert.Throws<ArgumentOutOfRangeException>(() => SafeTensorsFormat.ParseHeader(json, 9));
    }

    // ---- step 4: UTF-8 ----

    [TestCase(new byte[] { 0xFF }, 0, TestName = "Parse_InvalidUtf8AtTheFirstByte_NamesByteZero")]
    [TestCase(new byte[] { (byte)'{', (byte)' ', 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0x80 }, 7, TestName = "Parse_InvalidUtf8AfterMultiByteCharacters_NamesItsByte")]
    [TestCase(new byte[] { (byte)'{', 0xF0, 0x9F, 0x98, 0x80, 0xC3 }, 5, TestName = "Parse_TruncatedUtf8AfterAFourByteCharacter_NamesItsByte")]
    public void Parse_InvalidUtf8_NamesTheFirstBadByte(byte[] json, int at)
    {
        Z4AiFormatException ex = FailBytes(StBytes.Cat(StBytes.Le((ulong)json.Length), json));
        AssertFailure(ex, Z4AiErrorKind.InvalidHeaderUtf8, $"the header is not valid UTF-8 (bad sequence at header byte {at})", null, 8 + at);
    }

    // ---- step 5: JSON ----

    [Test]
    public void Parse_SyntaxErrors_AreReportedAsNotValidJson()
    {
        Z4AiFormatException ex = Fail("{\"a\" 1}");
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.InvalidHeaderDeserialization));
        Assert.That(ex.Detail, Does.StartWith("the header is not valid JSON: "));
        Assert.That(ex.InnerException, Is.InstanceOf<System.Text.Json.JsonException>());

        Z4AiFormatException surrogate = Fail("{\"\\udc00\":" + U8x4At0 + "}", 4);
        Assert.That(surrogate.Kind, Is.EqualTo(Z4AiErrorKind.InvalidHeaderDeserialization));
        Assert.That(surrogate.Detail, Does.StartWith("the header has a string that is not valid Unicode: "));
        Assert.That(surrogate.InnerException, Is.InstanceOf<InvalidOperationException>());
    }

    [Test]
    public void Parse_TopLevelShape_EveryRefusalHasItsOffset()
    {
        AssertFailure(Fail("\uFEFF{}"), Z4AiErrorKind.InvalidHeaderDeserialization, "the header starts with a UTF-8 byte order mark", null, 8);
        AssertFailure(Fail("  [1]"), Z4AiErrorKind.InvalidHeaderDeserialization, "the header must be a JSON object", null, 10);
        AssertFailure(Fail("\"x\""), Z4AiErrorKind.InvalidHeaderDeserialization, "the header must be a JSON object", null, 8);
        AssertFailure(
            Fail("{\"__metadata__\":{}, \"__metadata__\":null}"),
            Z4AiErrorKind.InvalidHeaderDeserialization,
            "duplicate field `__metadata__`",
            null,
            8 + 35);
    }

    [Test]
    public void Parse_ByteOrderMarkAlone_IsStillNamedAsAByteOrderMark() =>
        AssertFailure(
            FailBytes(StBytes.Cat(StBytes.Le(3), [0xEF, 0xBB, 0xBF])),
            Z4AiErrorKind.InvalidHeaderDeserialization,
            "the header starts with a UTF-8 byte order mark",
            null,
            8);

    [Test]
    public void Parse_Metadata_EveryRefusalHasItsTextAndOffset()
    {
        AssertFailure(
            Fail("{\"__metadata__\": 5}"),
            Z4AiErrorKind.InvalidHeaderDeserialization,
            "`__metadata__` must be an object of string values or null",
            null,
            8 + 17);
        AssertFailure(
            Fail("{\"__metadata__\":{\"k\":\"v\",\"n\": 12}}"),
            Z4AiErrorKind.InvalidHeaderDeserialization,
            "`__metadata__` value for key 'n' must be a string, found Number",
            null,
            8 + 30);
        AssertFailure(
            Fail("{\"__metadata__\":{\"t\":true}}"),
            Z4AiErrorKind.InvalidHeaderDeserialization,
            "`__metadata__` value for key 't' must be a string, found True",
            null,
            8 + 21);
    }

    [Test]
    public void Parse_Metadata_ValuesAndNullAreKept()
    {
        SafeTensorsHeader h = SafeTensorsFormat.Parse(StBytes.File("{\"__metadata__\":{\"b\":\"2\",\"a\":\"1\"}}"));
        Assert.That(h.Metadata, Is.EquivalentTo(new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" }));
        Assert.That(SafeTensorsFormat.Parse(StBytes.File("{\"__metadata__\":null,\"a\":" + U8x4At0 + "}", 4)).Metadata, Is.Null);
        Assert.That(SafeTensorsFormat.Parse(StBytes.File("{}")).Metadata, Is.Null, "no member, no map");
    }

    [Test]
    public void Parse_Duplicates_TheFirstDuplicatedNameIsReported()
    {
        string a = "{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}";
        AssertFailure(
            Fail("{\"x\":" + a + ",\"x\":" + a + ",\"y\":" + a + ",\"y\":" + a + "}"),
            Z4AiErrorKind.DuplicateKey,
            "the header names this tensor more than once; each tensor name must be unique",
            "x",
            null);
        AssertFailure(
            Fail("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\",\"j\":\"1\",\"j\":\"2\"}}"),
            Z4AiErrorKind.DuplicateKey,
            "`__metadata__` has the key 'k' more than once",
            null,
            null);

        // A duplicated tensor is named before a duplicated metadata key.
        Z4AiFormatException both = Fail("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"},\"x\":" + a + ",\"x\":" + a + "}");
        Assert.That((both.Kind, both.TensorName), Is.EqualTo((Z4AiErrorKind.DuplicateKey, "x")));
    }

    [Test]
    public void Parse_TensorEntry_EveryShapeRefusalHasItsTextAndOffset()
    {
        // {"a": null}: the value starts at header byte 6.
        AssertFailure(
            Fail("{\"a\": null}"),
            Z4AiErrorKind.InvalidHeaderDeserialization,
            "tensor 'a' must be an object with dtype, shape and data_offsets, found Null",
            null,
            8 + 6);

        // {"a":{"dtype":"U8","dtype":"U8",...}: the second "dtype" key starts at header byte 19.
        AssertFailure(
            Fail("{\"a\":{\"dtype\":\"U8\",\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4),
            Z4AiErrorKind.InvalidHeaderDeserialization,
            "duplicate field `dtype` in tensor 'a'",
            null,
            8 + 19);
        AssertFailure(
            Fail("{\"a\":{\"shape\":[4],\"shape\":[4],\"dtype\":\"U8\",\"data_offsets\":[0,4]}}", 4),
            Z4AiErrorKind.InvalidHeaderDeserialization,
            "duplicate field `shape` in tensor 'a'",
            null,
            8 + 18);
        AssertFailure(
            Fail("{\"a\":{\"data_offsets\":[0,4],\"data_offsets\":[0,4],\"dtype\":\"U8\",\"shape\":[4]}}", 4),
            Z4AiErrorKind.InvalidHeaderDeserialization,
            "duplicate field `data_offsets` in tensor 'a'",
            null,
            8 + 27);
        AssertFailure(
            Fail("{\"a\":{\"dtype\": 7}}"),
            Z4AiErrorKind.InvalidHeaderDeserialization,
            "dtype of tensor 'a' must be a string",
            null,
            8 + 15);
        AssertFailure(
            Fail("{\"a\":{\"dtype\":\"U9\"}}"),
            Z4AiErrorKind.InvalidHeaderDeserialization,
            "unknown dtype 'U9' for tensor 'a'",
            null,
            8 + 14);
        AssertFailure(
            Fail("{\"a\":{\"shape\": {}}}"),
            Z4AiErrorKind.InvalidHeaderDeserialization,
            "shape of tensor 'a' must be an array",
            null,
            8 + 15);
    }

    [Test]
    public void Parse_MissingFields_NameTheFirstMissingOneAtTheObjectStart()
    {
        // The entry object starts at header byte 5 in each case.
        AssertFailure(Fail("{\"a\":{}}"), Z4AiErrorKind.InvalidHeaderDeserialization, "missing field `dtype` in tensor 'a'", null, 8 + 5);
        AssertFailure(
            Fail("{\"a\":{\"shape\":[1],\"data_offsets\":[0,1]}}"),
            Z4AiErrorKind.InvalidHeaderDeserialization,
            "missing field `dtype` in tensor 'a'",
            null,
            8 + 5);
        AssertFailure(
            Fail("{\"a\":{\"dtype\":\"U8\",\"data_offsets\":[0,1]}}"),
            Z4AiErrorKind.InvalidHeaderDeserialization,
            "missing field `shape` in tensor 'a'",
            null,
            8 + 5);
        AssertFailure(
            Fail("{\"a\":{\"dtype\":\"U8\",\"shape\":[1]}}"),
            Z4AiErrorKind.InvalidHeaderDeserialization,
            "missing field `data_offsets` in tensor 'a'",
            null,
            8 + 5);
    }

    [Test]
    public void Parse_DataOffsets_EveryArityRefusalHasItsTextAndTheArrayOffset()
    {
        // "data_offsets": value starts at header byte 21 (after {"a":{"data_offsets":).
        const string prefix = "{\"a\":{\"data_offsets\":";
        AssertFailure(
            Fail(prefix + "5}}"),
            Z4AiErrorKind.InvalidHeaderDeserialization,
            "data_offsets of tensor 'a' must be an array [begin, end]",
            null,
            8 + 21);
        AssertFailure(
            Fail(prefix + "[]}}"),
            Z4AiErrorKind.InvalidHeaderDeserialization,
            "data_offsets of tensor 'a' must have 2 elements, found 0",
            null,
            8 + 21);
        AssertFailure(
            Fail(prefix + "[3]}}"),
            Z4AiErrorKind.InvalidHeaderDeserialization,
            "data_offsets of tensor 'a' must have 2 elements, found 1",
            null,
            8 + 21);
        AssertFailure(
            Fail(prefix + "[3,4,5]}}"),
            Z4AiErrorKind.InvalidHeaderDeserialization,
            "data_offsets of tensor 'a' must have 2 elements, found more",
            null,
            8 + 21);
    }

    [Test]
    public void Parse_Integers_EveryRefusalNamesTheFieldAndTheNumber()
    {
        // {"a":{"shape":[ then the element at header byte 15.
        AssertFailure(
            Fail("{\"a\":{\"shape\":[\"4\"]}}"),
            Z4AiErrorKind.InvalidHeaderDeserialization,
            "shape of tensor 'a' must hold integers, found String",
            null,
            8 + 15);
        AssertFailure(
            Fail("{\"a\":{\"shape\":[-4]}}"),
            Z4AiErrorKind.InvalidHeaderDeserialization,
            "shape of tensor 'a' must hold non-negative integers, found -4",
            null,
            8 + 15);
        AssertFailure(
            Fail("{\"a\":{\"shape\":[1.5]}}"),
            Z4AiErrorKind.InvalidHeaderDeserialization,
            "shape of tensor 'a' must hold non-negative integers, found 1.5",
            null,
            8 + 15);
        AssertFailure(
            Fail("{\"a\":{\"shape\":[18446744073709551616]}}"),
            Z4AiErrorKind.InvalidHeaderDeserialization,
            "shape of tensor 'a' holds 18446744073709551616, which is above 18446744073709551615",
            null,
            8 + 15);

        // {"a":{"data_offsets":[0, then the second element at header byte 24.
        AssertFailure(
            Fail("{\"a\":{\"data_offsets\":[0,1e3]}}"),
            Z4AiErrorKind.InvalidHeaderDeserialization,
            "data_offsets of tensor 'a' must hold non-negative integers, found 1e3",
            null,
            8 + 24);
        AssertFailure(
            Fail("{\"a\":{\"data_offsets\":[null,1]}}"),
            Z4AiErrorKind.InvalidHeaderDeserialization,
            "data_offsets of tensor 'a' must hold integers, found Null",
            null,
            8 + 22);
    }

    [Test]
    public void Parse_Integers_U64MaxIsAcceptedAsANumber()
    {
        // 2^64 - 1 parses; the entry then fails only at the size check, with the full value in the message.
        Z4AiFormatException ex = Fail("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,18446744073709551615]}}", 4);
        AssertFailure(
            ex,
            Z4AiErrorKind.TensorInvalidInfo,
            "U8[4] needs 4 bytes but data_offsets [0,18446744073709551615] give 18446744073709551615",
            "a",
            null);
    }

    [Test]
    public void Parse_RankLimit_IsCountedPerTensorAndReportedAtTheFirstExtraDimension()
    {
        string ones = string.Join(",", Enumerable.Repeat("1", SafeTensorsHeaderParser.MaxRank));
        string json = "{\"a\":{\"dtype\":\"U8\",\"shape\":[" + ones + ",1],\"data_offsets\":[0,1]}}";
        int extra = json.IndexOf("],", StringComparison.Ordinal) - 1;
        AssertFailure(Fail(json, 1), Z4AiErrorKind.LimitExceeded, "the shape has more than 1024 dimensions", "a", 8 + extra);

        // The dimension list is reused between tensors and cleared for each: two tensors of 1024 dimensions are fine.
        string full = "{\"dtype\":\"U8\",\"shape\":[" + ones + "],\"data_offsets\":[";
        SafeTensorsHeader h = SafeTensorsFormat.Parse(StBytes.File("{\"a\":" + full + "0,1]},\"b\":" + full + "1,2]}}", 2));
        Assert.That(h.Tensors.Select(t => t.Shape.Length), Is.EqualTo(new[] { 1024, 1024 }));
    }

    [Test]
    public void Parse_ShapesOfSeveralTensors_AreKeptApart()
    {
        SafeTensorsHeader h = SafeTensorsFormat.Parse(StBytes.File(
            "{\"a\":{\"dtype\":\"U8\",\"shape\":[2,3],\"data_offsets\":[0,6]},\"b\":{\"dtype\":\"I16\",\"shape\":[5],\"data_offsets\":[6,16]},\"c\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[16,17]}}",
            17));
        Assert.That(h.GetTensor("a").Shape, Is.EqualTo(new long[] { 2, 3 }));
        Assert.That(h.GetTensor("b").Shape, Is.EqualTo(new long[] { 5 }));
        Assert.That(h.GetTensor("c").Shape, Is.Empty);
        Assert.That(h.GetTensor("b").DType, Is.EqualTo(DType.I16));
    }

    // ---- step 6: the offset walk ----

    [Test]
    public void Parse_WalkOrder_IsBeginThenEndThenName()
    {
        // z is empty at [4,4] and b covers [4,8]: only (begin, end) order lets both pass; by name b would come first.
        SafeTensorsHeader h = SafeTensorsFormat.Parse(StBytes.File(
            "{\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]},\"z\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,4]}," +
            "\"y\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,4]},\"a\":" + U8x4At0 + "}",
            8));
        Assert.That(h.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "a", "y", "z", "b" }));

        // The name index follows the sort: every name finds its own entry.
        foreach (string name in new[] { "a", "b", "y", "z" })
        {
            Assert.That(h.GetTensor(name).Name, Is.EqualTo(name));
        }

        Assert.That(h.GetTensor("b").Begin, Is.EqualTo(4));
        Assert.That((h.HeaderLength, h.DataOffset, h.DataLength, h.TotalLength), Is.EqualTo((h.HeaderLength, 8 + h.HeaderLength, 8L, 16 + h.HeaderLength)));
    }

    [Test]
    public void Parse_SameBeginDifferentEnd_ReportsTheLongerAsTheOverlap()
    {
        // Both begin at 0; sorted by end, c [0,2] passes and d [0,4] overlaps it.
        Z4AiFormatException ex = Fail(
            "{\"d\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},\"c\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}", 4);
        AssertFailure(
            ex,
            Z4AiErrorKind.InvalidOffset,
            "data_offsets [0,4] should begin at 2, where the previous tensor ends (gap or overlap)",
            "d",
            null);
    }

    [Test]
    public void Parse_OffsetRefusals_HaveTheirExactText()
    {
        AssertFailure(
            Fail("{\"a\":" + U8x4At0 + ",\"c\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,0]}}", 4),
            Z4AiErrorKind.InvalidOffset,
            "data_offsets [4,0] end before they begin",
            "c",
            null);

        // An empty tensor after a gap is a gap, not an "end before begin".
        AssertFailure(
            Fail("{\"a\":" + U8x4At0 + ",\"z\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[5,5]}}", 5),
            Z4AiErrorKind.InvalidOffset,
            "data_offsets [5,5] should begin at 4, where the previous tensor ends (gap or overlap)",
            "z",
            null);
        AssertFailure(
            Fail("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2),
            Z4AiErrorKind.InvalidOffset,
            "data_offsets [1,2] should begin at 0, where the previous tensor ends (gap or overlap)",
            "a",
            null);
    }

    [Test]
    public void Parse_SizeRefusals_HaveTheirExactText()
    {
        AssertFailure(
            Fail("{\"a\":{\"dtype\":\"I32\",\"shape\":[18446744073709551615,2],\"data_offsets\":[0,8]}}", 8),
            Z4AiErrorKind.ValidationOverflow,
            "the element or bit count of I32[18446744073709551615,2] overflows 64 bits",
            "a",
            null);
        AssertFailure(
            Fail("{\"a\":{\"dtype\":\"F6_E2M3\",\"shape\":[3],\"data_offsets\":[0,2]}}", 2),
            Z4AiErrorKind.MisalignedSlice,
            "F6_E2M3[3] is not a whole number of bytes",
            "a",
            null);
        AssertFailure(
            Fail("{\"a\":{\"dtype\":\"I32\",\"shape\":[0,18446744073709551615],\"data_offsets\":[0,0]}}"),
            Z4AiErrorKind.ValidationOverflow,
            "dimension 18446744073709551615 of I32[0,18446744073709551615] is above 9223372036854775807",
            "a",
            null);
        AssertFailure(
            Fail("{\"a\":{\"dtype\":\"BF16\",\"shape\":[3,5],\"data_offsets\":[0,16]}}", 16),
            Z4AiErrorKind.TensorInvalidInfo,
            "BF16[3,5] needs 30 bytes but data_offsets [0,16] give 16",
            "a",
            null);

        // The length given is end minus begin, for a tensor that does not start at 0.
        AssertFailure(
            Fail("{\"a\":" + U8x4At0 + ",\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,7]}}", 7),
            Z4AiErrorKind.TensorInvalidInfo,
            "U8[4] needs 4 bytes but data_offsets [4,7] give 3",
            "b",
            null);
    }

    [Test]
    public void Parse_F6WithAWholeNumberOfBytes_IsAccepted()
    {
        // 4 x 6 bits = 3 bytes: the bit count decides, not the element count.
        SafeTensorsHeader h = SafeTensorsFormat.Parse(StBytes.File("{\"a\":{\"dtype\":\"F6_E3M2\",\"shape\":[4],\"data_offsets\":[0,3]}}", 3));
        Assert.That(h.GetTensor("a").Length, Is.EqualTo(3));
    }

    // ---- step 7: coverage ----

    [Test]
    public void Parse_Coverage_TruncatedAndTrailingHaveTheirExactText()
    {
        string json = "{\"a\":" + U8x4At0 + "}";
        AssertFailure(
            Fail(json, 3),
            Z4AiErrorKind.MetadataIncompleteBuffer,
            "the tensors need 4 data bytes but the file has 3 after the header (truncated)",
            null,
            null);
        AssertFailure(
            Fail(json, 6),
            Z4AiErrorKind.MetadataIncompleteBuffer,
            "the tensors cover 4 data bytes but the file has 6 after the header (trailing bytes)",
            null,
            null);
        AssertFailure(
            Fail("{}", 1),
            Z4AiErrorKind.MetadataIncompleteBuffer,
            "the tensors cover 0 data bytes but the file has 1 after the header (trailing bytes)",
            null,
            null);
        Assert.That(SafeTensorsFormat.Parse(StBytes.File(json, 4)).DataLength, Is.EqualTo(4));
    }

    // ---- the stream and handle entry points ----

    [Test]
    public void ReadHeader_StreamShorterThanItClaims_NamesTheHeaderLengthAtOffsetEight()
    {
        byte[] file = StBytes.Cat(StBytes.Le(92), StBytes.Utf8("{}"));
        using var stream = new ClaimingStream(file, 200);
        var ex = Assert.Throws<Z4AiFormatException>(() => SafeTensorsFormat.ReadHeader(stream))!;
        AssertFailure(ex, Z4AiErrorKind.InvalidHeaderLength, "the stream ended before the 92-byte header did (it shrank while being read)", null, 8);
    }

    [Test]
    public void ReadHeader_StreamWithFewerThanEightBytes_IsTooSmallAtTheBytesItHas()
    {
        using var stream = new ClaimingStream([1, 2, 3, 4, 5], 100);
        var ex = Assert.Throws<Z4AiFormatException>(() => SafeTensorsFormat.ReadHeader(stream))!;
        AssertFailure(ex, Z4AiErrorKind.HeaderTooSmall, "the input has 5 bytes, fewer than the 8-byte header length prefix", null, null);

        // Exactly eight bytes: the stream's own length is used, so an empty header is read.
        using var eight = new MemoryStream(StBytes.Le(0));
        Assert.That(StBytes.KindOf(() => SafeTensorsFormat.ReadHeader(eight)), Is.EqualTo(Z4AiErrorKind.InvalidHeaderDeserialization));
        using var nine = new MemoryStream(StBytes.File("{}", 1));
        Assert.That(
            Assert.Throws<Z4AiFormatException>(() => SafeTensorsFormat.ReadHeader(nine))!.Detail,
            Is.EqualTo("the tensors cover 0 data bytes but the file has 1 after the header (trailing bytes)"));
    }

    [Test]
    public void ReadHeader_Arguments_AreChecked()
    {
        Assert.Throws<ArgumentNullException>(() => SafeTensorsFormat.ReadHeader((Stream)null!));
        Assert.Throws<ArgumentNullException>(() => SafeTensorsFormat.ReadHeader((Microsoft.Win32.SafeHandles.SafeFileHandle)null!));
        using var writeOnly = new WriteOnlyStream();
        var ex = Assert.Throws<ArgumentException>(() => SafeTensorsFormat.ReadHeader(writeOnly))!;
        Assert.That((ex.ParamName, ex.Message), Is.EqualTo(("stream", "The stream must be readable and seekable. (Parameter 'stream')")));
        using var ms = new MemoryStream(StBytes.File("{}"));
        Assert.Throws<ArgumentOutOfRangeException>(() => SafeTensorsFormat.ReadHeader(ms, maxHeaderSize: -1));
        Assert.That(ms.Position, Is.EqualTo(0), "the limit is checked before anything is read");
    }

    [Test]
    public void ReadHeader_FileHandle_ShortFilesAndLimits()
    {
        string path = Path.Combine(Path.GetTempPath(), $"z4ai-st-mut-{Guid.NewGuid():N}.safetensors");
        try
        {
            File.WriteAllBytes(path, [1, 2, 3, 4, 5]);
            using (Microsoft.Win32.SafeHandles.SafeFileHandle five = File.OpenHandle(path))
            {
                var ex = Assert.Throws<Z4AiFormatException>(() => SafeTensorsFormat.ReadHeader(five))!;
                AssertFailure(ex, Z4AiErrorKind.HeaderTooSmall, "the input has 5 bytes, fewer than the 8-byte header length prefix", null, null);
            }

            byte[] file = StBytes.File("{\"a\":" + U8x4At0 + "}", 4);
            File.WriteAllBytes(path, file);
            using (Microsoft.Win32.SafeHandles.SafeFileHandle handle = File.OpenHandle(path))
            {
                int n = file.Length - 12;
                Assert.That(SafeTensorsFormat.ReadHeader(handle, maxHeaderSize: n).GetTensor("a").End, Is.EqualTo(4));
                Assert.That(StBytes.KindOf(() => SafeTensorsFormat.ReadHeader(handle, maxHeaderSize: n - 1)), Is.EqualTo(Z4AiErrorKind.HeaderTooLarge));
                Assert.Throws<ArgumentOutOfRangeException>(() => SafeTensorsFormat.ReadHeader(handle, maxHeaderSize: -1));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void ReadHeader_StreamWithCustomLimit_AppliesIt()
    {
        byte[] file = StBytes.File("{\"a\":" + U8x4At0 + "}", 4);
        int n = file.Length - 12;
        using var ms = new MemoryStream(file);
        Assert.That(SafeTensorsFormat.ReadHeader(ms, maxHeaderSize: n).DataOffset, Is.EqualTo(8 + n));
        Assert.That(StBytes.KindOf(() => SafeTensorsFormat.ReadHeader(ms, maxHeaderSize: n - 1)), Is.EqualTo(Z4AiErrorKind.HeaderTooLarge));
    }

    [Test]
    public void ReadHeader_StreamThatYieldsOneByteAtATime_IsReadCompletely()
    {
        byte[] file = StBytes.File("{\"a\":" + U8x4At0 + "}", 4);
        using var stream = new TrickleStream(file);
        SafeTensorsHeader h = SafeTensorsFormat.ReadHeader(stream);
        Assert.That(h.GetTensor("a").Length, Is.EqualTo(4));
        Assert.That(stream.Position, Is.EqualTo(h.DataOffset));
    }

    // ---- LooksLikeSafeTensors ----

    [TestCase(2UL, (byte)'{', true)]
    [TestCase(1UL, (byte)'{', false)]
    [TestCase(100_000_000UL, (byte)'{', true)]
    [TestCase(100_000_001UL, (byte)'{', false)]
    [TestCase(8UL, (byte)' ', true)]
    [TestCase(8UL, (byte)'\t', true)]
    [TestCase(8UL, (byte)'\n', true)]
    [TestCase(8UL, (byte)'\r', true)]
    [TestCase(8UL, (byte)'[', false)]
    [TestCase(8UL, (byte)'"', false)]
    [TestCase(8UL, (byte)0, false)]
    public void LooksLikeSafeTensors_LengthAndFirstJsonByte_Decide(ulong n, byte first, bool expected) =>
        Assert.That(SafeTensorsFormat.LooksLikeSafeTensors(StBytes.Cat(StBytes.Le(n), [first])), Is.EqualTo(expected));

    // ---- CheckTensorView / GetByteLength ----

    [Test]
    public void CheckTensorView_ReturnsTheLengthOrNamesTheMismatch()
    {
        Assert.That(SafeTensorsFormat.CheckTensorView(DType.F32, [2, 3], 24), Is.EqualTo(24));
        Assert.That(SafeTensorsFormat.CheckTensorView(DType.F4, [3, 2], 3, "t"), Is.EqualTo(3));
        var ex = Assert.Throws<Z4AiFormatException>(() => SafeTensorsFormat.CheckTensorView(DType.F32, [2, 3], 23, "t"))!;
        AssertFailure(ex, Z4AiErrorKind.InvalidTensorView, "F32[2,3] needs 24 bytes, but 23 were given", "t", null);
    }

    [Test]
    public void GetByteLength_ArgumentsAndResults()
    {
        Assert.That(SafeTensorsFormat.GetByteLength(DType.U64, [3]), Is.EqualTo(24));
        Assert.That(SafeTensorsFormat.GetByteLength(DType.BOOL, []), Is.EqualTo(1));
        Assert.That(SafeTensorsFormat.GetByteLength(DType.U8, [0, 5]), Is.EqualTo(0));
        Assert.That(SafeTensorsFormat.GetByteLength((DType)(DTypeInfo.Count - 1), [2]), Is.EqualTo(16));
        Assert.Throws<ArgumentOutOfRangeException>(() => SafeTensorsFormat.GetByteLength((DType)DTypeInfo.Count, [2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => SafeTensorsFormat.GetByteLength(DType.U8, [2, -1]));
        Assert.That(SafeTensorsFormat.GetByteLength(DType.U8, [(1L << 61) - 1]), Is.EqualTo((1L << 61) - 1), "the largest U8 tensor whose bit count fits 64 bits");
        var ex = Assert.Throws<Z4AiFormatException>(() => SafeTensorsFormat.GetByteLength(DType.U8, [1L << 61], "big"))!;
        Assert.That((ex.Kind, ex.TensorName), Is.EqualTo((Z4AiErrorKind.ValidationOverflow, "big")));
    }

    /// <summary>A seekable stream over a buffer that reports a larger length than it holds.</summary>
    private sealed class ClaimingStream(byte[] bytes, long claimedLength) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => claimedLength;

        public override long Position { get => _inner.Position; set => _inner.Position = value; }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

        public override long Seek(long offset, SeekOrigin origin) => _inner.Seek(offset, origin);

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            _inner.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>A seekable stream that hands out at most one byte per read.</summary>
    private sealed class TrickleStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => _inner.Length;

        public override long Position { get => _inner.Position; set => _inner.Position = value; }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 1));

        public override int Read(Span<byte> buffer) => _inner.Read(buffer[..Math.Min(buffer.Length, 1)]);

        public override long Seek(long offset, SeekOrigin origin) => _inner.Seek(offset, origin);

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            _inner.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>A seekable stream that cannot be read.</summary>
    private sealed class WriteOnlyStream : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => true;

        public override bool CanWrite => true;

        public override long Length => 0;

        public override long Position { get; set; }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => 0;

        public override void SetLength(long value)
        {
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
        }
    }
}
