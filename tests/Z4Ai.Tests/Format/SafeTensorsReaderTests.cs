using System.Text;
using NUnit.Framework;
using Z4Ai.Format;

namespace Z4Ai.Tests.Format;

/// <summary>The reader's edge cases (reference A5) and its deliberate strictness, plus the stream and handle entry points.</summary>
public class SafeTensorsReaderTests
{
    private const string I32x4 = "{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}";

    private static Z4AiErrorKind JsonKind(string json, int zeros = 0) => StBytes.ParseKind(StBytes.File(json, zeros));

    private static SafeTensorsHeader ParseJson(string json, int zeros = 0) => SafeTensorsFormat.Parse(StBytes.File(json, zeros));

    [Test]
    public void Parse_DuplicateTensorKey_IsDuplicateKey()
    {
        // The reference keeps the last entry and, with identical offsets, accepts this file.
        var ex = Assert.Throws<Z4AiFormatException>(() => ParseJson($"{{\"a\":{I32x4},\"a\":{I32x4}}}", 16))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.DuplicateKey));
        Assert.That(ex.TensorName, Is.EqualTo("a"));
    }

    [Test]
    public void Parse_DuplicateKeyThenBrokenJson_IsInvalidHeaderDeserialization() =>
        Assert.That(JsonKind($"{{\"a\":{I32x4},\"a\":{I32x4},\"b\":1}}", 16), Is.EqualTo(Z4AiErrorKind.InvalidHeaderDeserialization));

    [Test]
    public void Parse_DuplicateMetadataField_IsInvalidHeaderDeserialization() =>
        Assert.That(JsonKind("{\"__metadata__\":{},\"__metadata__\":{}}"), Is.EqualTo(Z4AiErrorKind.InvalidHeaderDeserialization));

    [Test]
    public void Parse_DuplicateMetadataKey_IsDuplicateKey() =>
        Assert.That(JsonKind("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}"), Is.EqualTo(Z4AiErrorKind.DuplicateKey));

    [Test]
    public void Parse_UnknownFieldsInEntry_AreIgnored()
    {
        SafeTensorsHeader h = ParseJson(
            "{\"a\":{\"foo\":1,\"dtype\":\"I32\",\"bar\":{\"x\":[1,{\"y\":null}]},\"shape\":[2,2],\"data_offsets\":[0,16],\"z\":\"s\"}}", 16);
        Assert.That(h.GetTensor("a").Shape, Is.EqualTo(new long[] { 2, 2 }));
    }

    [Test]
    public void Parse_NullMetadata_IsNoMetadata() =>
        Assert.That(ParseJson("{\"__metadata__\":null}").Metadata, Is.Null);

    [Test]
    public void Parse_EmptyMetadata_IsEmptyMap()
    {
        SafeTensorsHeader h = ParseJson("{\"__metadata__\":{}}");
        Assert.That(h.Metadata, Is.Not.Null.And.Empty);
    }

    [Test]
    public void Parse_EscapedNamesAndValues_AreUnescaped()
    {
        SafeTensorsHeader h = ParseJson(
            "{\"__metadata__\":{\"k\\u00e9\":\"v\\n\\/\\\"\"},\"\\u0061\\ud83d\\ude00\":" + I32x4 + "}", 16);
        Assert.That(h.Metadata!["k\u00e9"], Is.EqualTo("v\n/\""));
        Assert.That(h.TryGetTensor("a\U0001F600", out _), Is.True);
    }

    [Test]
    public void Parse_UnalignedHeaderLength_IsAccepted()
    {
        SafeTensorsHeader h = ParseJson("{\"test\":" + I32x4 + "}", 16);
        Assert.That(h.HeaderLength, Is.EqualTo(60));
    }

    [Test]
    public void Parse_ZeroSizedTensorsSharingAnOffset_AreAccepted()
    {
        SafeTensorsHeader h = ParseJson(
            "{\"z1\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[16,16]},\"a\":" + I32x4 +
            ",\"z2\":{\"dtype\":\"BF16\",\"shape\":[3,0,2],\"data_offsets\":[16,16]},\"z0\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}",
            16);
        Assert.That(h.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "z0", "a", "z1", "z2" }));
        Assert.That(h.DataLength, Is.EqualTo(16));
    }

    [Test]
    public void Parse_TensorsInAnyJsonOrder_AreReturnedInOffsetOrder()
    {
        SafeTensorsHeader h = ParseJson(
            "{\"b\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[16,19]},\"a\":" + I32x4 + "}", 19);
        Assert.That(h.Tensors.Select(t => (t.Name, t.Begin, t.End)), Is.EqualTo(new[] { ("a", 0L, 16L), ("b", 16L, 19L) }));
    }

    [TestCase("{\"__metadata__\":{\"k\":1}}", TestName = "Parse_MetadataIntegerValue_IsInvalidHeaderDeserialization")]
    [TestCase("{\"__metadata__\":{\"k\":null}}", TestName = "Parse_MetadataNullValue_IsInvalidHeaderDeserialization")]
    [TestCase("{\"__metadata__\":{\"k\":[\"v\"]}}", TestName = "Parse_MetadataArrayValue_IsInvalidHeaderDeserialization")]
    [TestCase("{\"__metadata__\":[]}", TestName = "Parse_MetadataArray_IsInvalidHeaderDeserialization")]
    [TestCase("{\"__metadata__\":\"x\"}", TestName = "Parse_MetadataString_IsInvalidHeaderDeserialization")]
    [TestCase("[]", TestName = "Parse_TopLevelArray_IsInvalidHeaderDeserialization")]
    [TestCase("\"x\"", TestName = "Parse_TopLevelString_IsInvalidHeaderDeserialization")]
    [TestCase("null", TestName = "Parse_TopLevelNull_IsInvalidHeaderDeserialization")]
    [TestCase("   ", TestName = "Parse_WhitespaceOnly_IsInvalidHeaderDeserialization")]
    [TestCase("{}x", TestName = "Parse_TrailingGarbage_IsInvalidHeaderDeserialization")]
    [TestCase("{}{}", TestName = "Parse_TwoObjects_IsInvalidHeaderDeserialization")]
    [TestCase("{} // c", TestName = "Parse_TrailingComment_IsInvalidHeaderDeserialization")]
    [TestCase("{\"a\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16],}}", TestName = "Parse_TrailingComma_IsInvalidHeaderDeserialization")]
    [TestCase("{\"a\":{\"dtype\":\"F8_E4M3FN\",\"shape\":[16],\"data_offsets\":[0,16]}}", TestName = "Parse_TorchDTypeName_IsInvalidHeaderDeserialization")]
    [TestCase("{\"a\":{\"dtype\":\"i32\",\"shape\":[4],\"data_offsets\":[0,16]}}", TestName = "Parse_LowercaseDType_IsInvalidHeaderDeserialization")]
    [TestCase("{\"a\":{\"dtype\":{\"I32\":null},\"shape\":[4],\"data_offsets\":[0,16]}}", TestName = "Parse_DTypeAsMap_IsInvalidHeaderDeserialization")]
    [TestCase("{\"a\":{\"dtype\":5,\"shape\":[4],\"data_offsets\":[0,16]}}", TestName = "Parse_DTypeNumber_IsInvalidHeaderDeserialization")]
    [TestCase("{\"a\":{\"shape\":[4],\"data_offsets\":[0,16]}}", TestName = "Parse_MissingDType_IsInvalidHeaderDeserialization")]
    [TestCase("{\"a\":{\"dtype\":\"I32\",\"data_offsets\":[0,16]}}", TestName = "Parse_MissingShape_IsInvalidHeaderDeserialization")]
    [TestCase("{\"a\":{\"dtype\":\"I32\",\"shape\":[4]}}", TestName = "Parse_MissingOffsets_IsInvalidHeaderDeserialization")]
    [TestCase("{\"a\":{\"dtype\":\"I32\",\"shape\":[4],\"data_offsets\":[]}}", TestName = "Parse_NoOffsets_IsInvalidHeaderDeserialization")]
    [TestCase("{\"a\":{\"dtype\":\"I32\",\"shape\":[4],\"data_offsets\":[0]}}", TestName = "Parse_OneOffset_IsInvalidHeaderDeserialization")]
    [TestCase("{\"a\":{\"dtype\":\"I32\",\"shape\":[4],\"data_offsets\":[0,16,16]}}", TestName = "Parse_ThreeOffsets_IsInvalidHeaderDeserialization")]
    [TestCase("{\"a\":{\"dtype\":\"I32\",\"shape\":[4],\"data_offsets\":{\"0\":16}}}", TestName = "Parse_OffsetsAsMap_IsInvalidHeaderDeserialization")]
    [TestCase("{\"a\":{\"dtype\":\"I32\",\"shape\":[-4],\"data_offsets\":[0,16]}}", TestName = "Parse_NegativeDimension_IsInvalidHeaderDeserialization")]
    [TestCase("{\"a\":{\"dtype\":\"I32\",\"shape\":[-0],\"data_offsets\":[0,0]}}", TestName = "Parse_NegativeZeroDimension_IsInvalidHeaderDeserialization")]
    [TestCase("{\"a\":{\"dtype\":\"I32\",\"shape\":[4.0],\"data_offsets\":[0,16]}}", TestName = "Parse_FractionalDimension_IsInvalidHeaderDeserialization")]
    [TestCase("{\"a\":{\"dtype\":\"I32\",\"shape\":[4e0],\"data_offsets\":[0,16]}}", TestName = "Parse_ExponentDimension_IsInvalidHeaderDeserialization")]
    [TestCase("{\"a\":{\"dtype\":\"I32\",\"shape\":[\"4\"],\"data_offsets\":[0,16]}}", TestName = "Parse_StringDimension_IsInvalidHeaderDeserialization")]
    [TestCase("{\"a\":{\"dtype\":\"I32\",\"shape\":[null],\"data_offsets\":[0,16]}}", TestName = "Parse_NullDimension_IsInvalidHeaderDeserialization")]
    [TestCase("{\"a\":{\"dtype\":\"I32\",\"shape\":4,\"data_offsets\":[0,16]}}", TestName = "Parse_ShapeNotArray_IsInvalidHeaderDeserialization")]
    [TestCase("{\"a\":{\"dtype\":\"I32\",\"shape\":[18446744073709551616],\"data_offsets\":[0,16]}}", TestName = "Parse_DimensionAboveU64_IsInvalidHeaderDeserialization")]
    [TestCase("{\"a\":{\"dtype\":\"I32\",\"shape\":[4],\"data_offsets\":[0,18446744073709551616]}}", TestName = "Parse_OffsetAboveU64_IsInvalidHeaderDeserialization")]
    [TestCase("{\"a\":{\"dtype\":\"I32\",\"shape\":[4],\"data_offsets\":[-0,16]}}", TestName = "Parse_NegativeOffset_IsInvalidHeaderDeserialization")]
    [TestCase("{\"a\":{\"dtype\":\"I32\",\"dtype\":\"I32\",\"shape\":[4],\"data_offsets\":[0,16]}}", TestName = "Parse_DuplicateFieldInEntry_IsInvalidHeaderDeserialization")]
    [TestCase("{\"a\":[\"I32\",[4],[0,16]]}", TestName = "Parse_EntryAsArray_IsInvalidHeaderDeserialization")]
    [TestCase("{\"a\":null}", TestName = "Parse_EntryNull_IsInvalidHeaderDeserialization")]
    [TestCase("{\"\\ud800\":{\"dtype\":\"I32\",\"shape\":[4],\"data_offsets\":[0,16]}}", TestName = "Parse_LoneSurrogateEscape_IsInvalidHeaderDeserialization")]
    [TestCase("{\"a\":{\"dtype\":\"I32\",\"shape\":[4],\"data_offsets\":[0,16]}", TestName = "Parse_UnclosedObject_IsInvalidHeaderDeserialization")]
    [TestCase("{'a':1}", TestName = "Parse_SingleQuotes_IsInvalidHeaderDeserialization")]
    public void Parse_MalformedJson_IsInvalidHeaderDeserialization(string json) =>
        Assert.That(JsonKind(json, 16), Is.EqualTo(Z4AiErrorKind.InvalidHeaderDeserialization));

    [Test]
    public void Parse_ByteOrderMark_IsInvalidHeaderDeserialization() =>
        Assert.That(JsonKind("\uFEFF{}"), Is.EqualTo(Z4AiErrorKind.InvalidHeaderDeserialization));

    [Test]
    public void Parse_DeeplyNestedUnknownField_IsInvalidHeaderDeserialization()
    {
        string deep = new string('[', 10_000) + new string(']', 10_000);
        Assert.That(
            JsonKind("{\"a\":{\"x\":" + deep + ",\"dtype\":\"I32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16),
            Is.EqualTo(Z4AiErrorKind.InvalidHeaderDeserialization));
    }

    [TestCase(new byte[] { 0xC0, 0x80 }, TestName = "Parse_OverlongNul_IsInvalidHeaderUtf8")]
    [TestCase(new byte[] { 0xED, 0xA0, 0x80 }, TestName = "Parse_EncodedSurrogate_IsInvalidHeaderUtf8")]
    [TestCase(new byte[] { 0xF4, 0x90, 0x80, 0x80 }, TestName = "Parse_AboveU10FFFF_IsInvalidHeaderUtf8")]
    [TestCase(new byte[] { 0xE2, 0x82 }, TestName = "Parse_TruncatedSequence_IsInvalidHeaderUtf8")]
    public void Parse_BadUtf8InString_IsInvalidHeaderUtf8(byte[] bad)
    {
        byte[] json = StBytes.Cat(StBytes.Utf8("{\"__metadata__\":{\"k\":\""), bad, StBytes.Utf8("\"}}"));
        var ex = Assert.Throws<Z4AiFormatException>(() => SafeTensorsFormat.Parse(StBytes.Cat(StBytes.Le((ulong)json.Length), json)))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.InvalidHeaderUtf8));
        Assert.That(ex.Offset, Is.EqualTo(8 + 22));
    }

    [Test]
    public void Parse_OffsetAboveLongButWithinU64_IsTensorInvalidInfo()
    {
        // Offsets stay u64 through validation, so this fails where the reference fails: at the size check.
        Assert.That(
            JsonKind("{\"a\":{\"dtype\":\"I32\",\"shape\":[4],\"data_offsets\":[0,18446744073709551615]}}", 16),
            Is.EqualTo(Z4AiErrorKind.TensorInvalidInfo));
    }

    [Test]
    public void Parse_HugeDimensionBesideZero_IsValidationOverflow()
    {
        // The reference accepts this zero-size shape; Z4Ai keeps dimensions in long (docs/safetensors-compat.md).
        Assert.That(
            JsonKind("{\"a\":{\"dtype\":\"I32\",\"shape\":[0,18446744073709551615],\"data_offsets\":[0,0]}}"),
            Is.EqualTo(Z4AiErrorKind.ValidationOverflow));
    }

    [Test]
    public void Parse_DimensionOfLongMaxBesideZero_IsAccepted()
    {
        SafeTensorsHeader h = ParseJson("{\"a\":{\"dtype\":\"U8\",\"shape\":[0,9223372036854775807],\"data_offsets\":[0,0]}}");
        Assert.That(h.GetTensor("a").Shape, Is.EqualTo(new[] { 0L, long.MaxValue }));
    }

    [Test]
    public void Parse_RankAboveLimit_IsLimitExceeded()
    {
        string shape = string.Join(",", Enumerable.Repeat("1", SafeTensorsHeaderParser.MaxRank + 1));
        Assert.That(
            JsonKind("{\"a\":{\"dtype\":\"U8\",\"shape\":[" + shape + "],\"data_offsets\":[0,1]}}", 1),
            Is.EqualTo(Z4AiErrorKind.LimitExceeded));
        string atLimit = string.Join(",", Enumerable.Repeat("1", SafeTensorsHeaderParser.MaxRank));
        Assert.That(ParseJson("{\"a\":{\"dtype\":\"U8\",\"shape\":[" + atLimit + "],\"data_offsets\":[0,1]}}", 1).GetTensor("a").Shape,
            Has.Length.EqualTo(SafeTensorsHeaderParser.MaxRank));
    }

    [Test]
    public void Parse_F6WithUnalignedCount_IsMisalignedSlice() =>
        Assert.That(
            JsonKind("{\"a\":{\"dtype\":\"F6_E2M3\",\"shape\":[3],\"data_offsets\":[0,2]}}", 2),
            Is.EqualTo(Z4AiErrorKind.MisalignedSlice));

    [Test]
    public void Parse_EndBeforeBegin_IsInvalidOffset()
    {
        var ex = Assert.Throws<Z4AiFormatException>(() =>
            ParseJson("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},\"c\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,0]}}", 4))!;
        Assert.That((ex.Kind, ex.TensorName), Is.EqualTo((Z4AiErrorKind.InvalidOffset, "c")));
    }

    [Test]
    public void Parse_GapBetweenTensors_IsInvalidOffsetNamingTheSecond()
    {
        var ex = Assert.Throws<Z4AiFormatException>(() =>
            ParseJson("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[5,9]}}", 9))!;
        Assert.That((ex.Kind, ex.TensorName), Is.EqualTo((Z4AiErrorKind.InvalidOffset, "b")));
        Assert.That(ex.Message, Does.Contain("'b'").And.Contain("begin at 4"));
    }

    [Test]
    public void Parse_NonZeroFirstOffset_IsInvalidOffset() =>
        Assert.That(JsonKind("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]}}", 8), Is.EqualTo(Z4AiErrorKind.InvalidOffset));

    [Test]
    public void Parse_ChecksRunPerTensorInOffsetOrder_FirstFailureWins()
    {
        // a (first in the walk) has a size mismatch; b (second) has bad offsets: the reference reports a's error.
        Assert.That(
            JsonKind("{\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[9,13]},\"a\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,8]}}", 13),
            Is.EqualTo(Z4AiErrorKind.TensorInvalidInfo));

        // and the other way round: a's offsets are bad, b's shape overflows.
        Assert.That(
            JsonKind("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[1,5]},\"b\":{\"dtype\":\"I32\",\"shape\":[18446744073709551615,2],\"data_offsets\":[5,9]}}", 9),
            Is.EqualTo(Z4AiErrorKind.InvalidOffset));
    }

    [Test]
    public void Parse_ErrorMessages_NameTheTensorAndTheExpectation()
    {
        var ex = Assert.Throws<Z4AiFormatException>(() =>
            ParseJson("{\"layer.0.weight\":{\"dtype\":\"BF16\",\"shape\":[3,5],\"data_offsets\":[0,16]}}", 16))!;
        Assert.That(ex.TensorName, Is.EqualTo("layer.0.weight"));
        Assert.That(ex.Message, Does.Contain("layer.0.weight").And.Contain("BF16[3,5]").And.Contain("30 bytes").And.Contain("16"));
    }

    [Test]
    public void GetTensor_UnknownName_ThrowsTensorNotFound()
    {
        SafeTensorsHeader h = ParseJson("{\"a\":" + I32x4 + "}", 16);
        var ex = Assert.Throws<Z4AiTensorNotFoundException>(() => h.GetTensor("b"))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.TensorNotFound));
        Assert.That(h.TryGetTensor("A", out _), Is.False);
        Assert.That(h.TryGetTensor("a", out SafeTensorsEntry? e) && e.Length == 16, Is.True);
    }

    [Test]
    public void Parse_CustomHeaderLimit_IsApplied()
    {
        byte[] file = StBytes.File("{\"a\":" + I32x4 + "}", 16);
        int n = file.Length - 8 - 16;
        Assert.That(StBytes.KindOf(() => SafeTensorsFormat.Parse(file, maxHeaderSize: n - 1)), Is.EqualTo(Z4AiErrorKind.HeaderTooLarge));
        Assert.That(SafeTensorsFormat.Parse(file, maxHeaderSize: n).Tensors, Has.Count.EqualTo(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => SafeTensorsFormat.Parse(file, maxHeaderSize: -1));
    }

    [Test]
    public void ReadHeaderLength_ShortPrefixWithLongTotal_ThrowsArgumentException() =>
        Assert.Throws<ArgumentException>(() => SafeTensorsFormat.ReadHeaderLength([1, 2, 3], 100));

    [TestCase(0, TestName = "ReadHeaderLength_ZeroBytes_IsHeaderTooSmall")]
    [TestCase(7, TestName = "ReadHeaderLength_SevenBytes_IsHeaderTooSmall")]
    public void ReadHeaderLength_TooShort_IsHeaderTooSmall(int length) =>
        Assert.That(StBytes.KindOf(() => SafeTensorsFormat.ReadHeaderLength(new byte[length], length)), Is.EqualTo(Z4AiErrorKind.HeaderTooSmall));

    [Test]
    public void ReadHeaderLength_ExactFit_ReturnsN()
    {
        Assert.That(SafeTensorsFormat.ReadHeaderLength(StBytes.Le(10), 18), Is.EqualTo(10));
        Assert.That(StBytes.KindOf(() => SafeTensorsFormat.ReadHeaderLength(StBytes.Le(10), 17)), Is.EqualTo(Z4AiErrorKind.InvalidHeaderLength));
        Assert.That(StBytes.KindOf(() => SafeTensorsFormat.ReadHeaderLength(StBytes.Le(ulong.MaxValue), long.MaxValue)), Is.EqualTo(Z4AiErrorKind.HeaderTooLarge));
    }

    [Test]
    public void ReadHeader_StreamAtAnyPosition_ReadsFromStartAndStopsAtData()
    {
        byte[] file = StBytes.Serialize([("w", DType.F32, [2], StBytes.Floats(1, 2))], new Dictionary<string, string> { ["k"] = "v" });
        using var ms = new MemoryStream(file);
        ms.Position = file.Length - 3;
        SafeTensorsHeader h = SafeTensorsFormat.ReadHeader(ms);
        Assert.That(ms.Position, Is.EqualTo(h.DataOffset));
        Assert.That(h.GetTensor("w").Length, Is.EqualTo(8));
        Assert.That(h.TotalLength, Is.EqualTo(file.Length));
    }

    [Test]
    public void ReadHeader_StreamErrors_MatchInMemoryParse()
    {
        byte[][] files =
        [
            [],
            [1, 2, 3],
            StBytes.File(60, "{}", 0),
            StBytes.File("{\"a\":" + I32x4 + "}", 15),
            StBytes.Le(200_000_000),
        ];
        foreach (byte[] file in files)
        {
            Z4AiErrorKind expected = StBytes.ParseKind(file);
            using var ms = new MemoryStream(file);
            Assert.That(StBytes.KindOf(() => SafeTensorsFormat.ReadHeader(ms)), Is.EqualTo(expected));
        }
    }

    [Test]
    public void ReadHeader_NonSeekableStream_ThrowsArgumentException()
    {
        using var inner = new MemoryStream(StBytes.File("{}"));
        using var stream = new ForwardOnlyStream(inner, lengthOverride: null);
        Assert.Throws<ArgumentException>(() => SafeTensorsFormat.ReadHeader(stream));
    }

    [Test]
    public void ReadHeader_StreamShorterThanItsLength_IsInvalidHeaderLength()
    {
        // The stream claims 1000 bytes but holds only 20: the header read comes up short.
        byte[] file = StBytes.Cat(StBytes.Le(100), StBytes.Utf8("{\"a\":1}   "), new byte[2]);
        using var inner = new MemoryStream(file);
        using var stream = new SeekableLyingStream(inner, 1000);
        Assert.That(StBytes.KindOf(() => SafeTensorsFormat.ReadHeader(stream)), Is.EqualTo(Z4AiErrorKind.InvalidHeaderLength));
    }

    [Test]
    public void ReadHeader_HugePrefix_ReadsOnlyEightBytes()
    {
        // attacks/safetensors_abuse_attempt_2.py: 10M tensors make an ~800 MB header, rejected from the prefix alone.
        const int count = 10_000_000;
        long entryWithoutIndex = "\"weight_\": {\"dtype\": \"F32\", \"shape\": [2, 2], \"data_offsets\": [0, 16]}".Length;
        long digits = 0;
        for (long from = 1, width = 1; from <= count; from *= 10, width++)
        {
            digits += width * (Math.Min(count, from * 10) - (from == 1 ? 0 : from));
        }

        long n = 2 + (count * entryWithoutIndex) + digits + (2L * (count - 1)); // braces, entries, ", " separators
        Assert.That(n, Is.GreaterThan(100_000_000));

        byte[] prefix = StBytes.Le((ulong)n);
        using var inner = new MemoryStream(prefix);
        using var stream = new SeekableLyingStream(inner, 8 + n + n);
        Assert.That(StBytes.KindOf(() => SafeTensorsFormat.ReadHeader(stream)), Is.EqualTo(Z4AiErrorKind.HeaderTooLarge));
        Assert.That(stream.BytesRead, Is.EqualTo(8));
    }

    [Test]
    public void ReadHeader_FileHandle_ReadsWithoutMovingAnything()
    {
        byte[] file = StBytes.Serialize([("a", DType.U8, [3], [1, 2, 3]), ("b", DType.F64, [1], new byte[8])]);
        string path = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"st-{Guid.NewGuid():N}.safetensors");
        try
        {
            System.IO.File.WriteAllBytes(path, file);
            using Microsoft.Win32.SafeHandles.SafeFileHandle handle = System.IO.File.OpenHandle(path);
            SafeTensorsHeader h = SafeTensorsFormat.ReadHeader(handle);
            Assert.That(h.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "b", "a" }));
            Assert.That(h.TotalLength, Is.EqualTo(file.Length));

            System.IO.File.WriteAllBytes(path, file.AsSpan(0, file.Length - 1).ToArray());
            using Microsoft.Win32.SafeHandles.SafeFileHandle shorter = System.IO.File.OpenHandle(path);
            Assert.That(StBytes.KindOf(() => SafeTensorsFormat.ReadHeader(shorter)), Is.EqualTo(Z4AiErrorKind.MetadataIncompleteBuffer));
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }

    [Test]
    public void LooksLikeSafeTensors_ClassifiesFirstBytes()
    {
        byte[] file = StBytes.Serialize([("a", DType.U8, [3], [1, 2, 3])]);
        Assert.That(SafeTensorsFormat.LooksLikeSafeTensors(file), Is.True);
        Assert.That(SafeTensorsFormat.LooksLikeSafeTensors(file.AsSpan(0, 9)), Is.True);
        Assert.That(SafeTensorsFormat.LooksLikeSafeTensors([6, 0, 0, 0, 0, 0, 0, 0, (byte)'\t']), Is.True);
        Assert.That(SafeTensorsFormat.LooksLikeSafeTensors(file.AsSpan(0, 8)), Is.False);
        Assert.That(SafeTensorsFormat.LooksLikeSafeTensors(Encoding.ASCII.GetBytes("Z4AI\x01\0\0\0{")), Is.False);
        Assert.That(SafeTensorsFormat.LooksLikeSafeTensors([0, 0, 0, 0, 0, 0, 0, 0, (byte)'{']), Is.False);
        Assert.That(SafeTensorsFormat.LooksLikeSafeTensors(StBytes.Cat(StBytes.Le(100_000_001), [(byte)'{'])), Is.False);
        Assert.That(SafeTensorsFormat.LooksLikeSafeTensors(StBytes.Cat(StBytes.Le(64), [(byte)'x'])), Is.False);
    }

    /// <summary>A read-only stream that cannot seek.</summary>
    private sealed class ForwardOnlyStream(Stream inner, long? lengthOverride) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => lengthOverride ?? throw new NotSupportedException();

        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A seekable stream that reports a length larger than the bytes it holds, and counts reads.</summary>
    private sealed class SeekableLyingStream(Stream inner, long length) : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get => inner.Position; set => inner.Position = value; }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = inner.Read(buffer, offset, count);
            BytesRead += n;
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
