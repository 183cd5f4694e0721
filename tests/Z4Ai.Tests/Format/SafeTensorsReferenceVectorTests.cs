using System.Buffers.Binary;
using System.Text;
using NUnit.Framework;
using Z4Ai.Format;

namespace Z4Ai.Tests.Format;

/// <summary>Byte builders shared by the safetensors format tests.</summary>
internal static class StBytes
{
    public static byte[] Le(ulong n)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, n);
        return b;
    }

    public static byte[] Cat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>An 8-byte prefix saying <paramref name="n"/>, the JSON text, then <paramref name="zeros"/> zero bytes.</summary>
    public static byte[] File(ulong n, string json, int zeros = 0) => Cat(Le(n), Utf8(json), new byte[zeros]);

    /// <summary>A file whose prefix is the exact JSON length.</summary>
    public static byte[] File(string json, int zeros = 0) => File((ulong)Encoding.UTF8.GetByteCount(json), json, zeros);

    public static byte[] Floats(params float[] values) =>
        values.SelectMany(v => BitConverter.GetBytes(v)).ToArray();

    /// <summary>Lays out and writes a file, as the reference's <c>serialize</c> does.</summary>
    public static byte[] Serialize(
        IEnumerable<(string Name, DType DType, long[] Shape, byte[] Data)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        SafeTensorsLayout layout = SafeTensorsFormat.CreateLayout(
            list.Select(t => new SafeTensorsLayoutInput(t.Name, t.DType, t.Shape, t.Data.Length)), metadata);
        var byName = list.ToDictionary(t => t.Name, t => t.Data, StringComparer.Ordinal);
        using var ms = new MemoryStream();
        SafeTensorsWriter.Write(ms, layout, e => byName[e.Name]);
        byte[] bytes = ms.ToArray();
        Assert.That(bytes, Has.Length.EqualTo(layout.TotalLength));
        return bytes;
    }

    public static Z4AiErrorKind KindOf(TestDelegate action) =>
        Assert.Throws(Is.InstanceOf<Z4AiFormatException>(), action) is Z4AiFormatException e
            ? e.Kind
            : throw new AssertionException("no exception");

    public static Z4AiErrorKind ParseKind(byte[] file) => KindOf(() => SafeTensorsFormat.Parse(file));
}

/// <summary>
/// Every vector of the reference implementation's own tests (safetensors/src/tensor.rs, bindings/python/tests/
/// test_simple.py, attacks/), ported as byte literals with the result the reference gives.
/// </summary>
public class SafeTensorsReferenceVectorTests
{
    private static readonly Dictionary<string, string> FrameworkPt = new() { ["framework"] = "pt" };

    // ---- safetensors/src/tensor.rs ----

    [Test]
    public void Serialize_F32Attn0_MatchesReferenceBytes()
    {
        byte[] expected =
        [
            64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
            116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
            58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
            101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
            0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
        ];
        byte[] data = StBytes.Floats(0, 1, 2, 3, 4, 5);
        byte[] actual = StBytes.Serialize([("attn.0", DType.F32, [1, 2, 3], data)]);
        Assert.That(actual, Is.EqualTo(expected));
        Assert.That(SafeTensorsFormat.Parse(actual).GetTensor("attn.0").Length, Is.EqualTo(24));
    }

    [Test]
    public void Serialize_F4TwoValues_PadsWithFourSpaces()
    {
        byte[] expected =
        [
            64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
            116, 121, 112, 101, 34, 58, 34, 70, 52, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58,
            91, 49, 44, 50, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116,
            115, 34, 58, 91, 48, 44, 49, 93, 125, 125, 32, 32, 32, 32, 0,
        ];
        byte[] actual = StBytes.Serialize([("attn.0", DType.F4, [1, 2], [0])]);
        Assert.That(actual, Is.EqualTo(expected));

        SafeTensorsEntry e = SafeTensorsFormat.Parse(actual).GetTensor("attn.0");
        Assert.That((e.DType, e.Shape, e.Begin, e.End), Is.EqualTo((DType.F4, new long[] { 1, 2 }, 0L, 1L)));
    }

    [Test]
    public void CheckTensorView_F4OddCount_IsMisalignedSlice()
    {
        Assert.That(StBytes.KindOf(() => SafeTensorsFormat.CheckTensorView(DType.F4, [1, 3], 2)), Is.EqualTo(Z4AiErrorKind.MisalignedSlice));
        Assert.That(
            StBytes.KindOf(() => SafeTensorsFormat.CreateLayout([new SafeTensorsLayoutInput("attn.0", DType.F4, [1, 3], 2)], null)),
            Is.EqualTo(Z4AiErrorKind.MisalignedSlice));
    }

    [Test]
    public void CheckTensorView_F4WrongLength_IsInvalidTensorView()
    {
        Assert.That(StBytes.KindOf(() => SafeTensorsFormat.CheckTensorView(DType.F4, [1, 2], 2)), Is.EqualTo(Z4AiErrorKind.InvalidTensorView));

        // The layout reports the same mismatch as the reference's write-path validation does.
        Assert.That(
            StBytes.KindOf(() => SafeTensorsFormat.CreateLayout([new SafeTensorsLayoutInput("attn.0", DType.F4, [1, 2], 2)], null)),
            Is.EqualTo(Z4AiErrorKind.TensorInvalidInfo));
    }

    [Test]
    public void Serialize_Empty_IsSixteenBytes()
    {
        byte[] actual = StBytes.Serialize([]);
        Assert.That(actual, Is.EqualTo(new byte[] { 8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32 }));
        SafeTensorsHeader h = SafeTensorsFormat.Parse(actual);
        Assert.That((h.Tensors.Count, h.Metadata, h.DataLength), Is.EqualTo((0, (IReadOnlyDictionary<string, string>?)null, 0L)));
    }

    [Test]
    public void Serialize_EmptyWithMetadata_HasN40()
    {
        byte[] expected =
        [
            40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95,
            95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112,
            116, 34, 125, 125, 32, 32, 32, 32, 32,
        ];
        byte[] actual = StBytes.Serialize([], FrameworkPt);
        Assert.That(actual, Is.EqualTo(expected));
        Assert.That(SafeTensorsFormat.Parse(actual).Metadata, Is.EqualTo(FrameworkPt));
    }

    [Test]
    public void Serialize_ShorterName_ForcesSevenPaddingSpaces()
    {
        byte[] expected =
        [
            72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116,
            121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58,
            91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102,
            115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32,
            32, 32, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0,
            160, 64,
        ];
        byte[] actual = StBytes.Serialize([("attn0", DType.F32, [1, 1, 2, 3], StBytes.Floats(0, 1, 2, 3, 4, 5))]);
        Assert.That(actual, Is.EqualTo(expected));
        SafeTensorsHeader h = SafeTensorsFormat.Parse(actual);
        Assert.That((h.DataOffset + h.GetTensor("attn0").Begin) % 4, Is.Zero);
    }

    [Test]
    public void Serialize_ThenLocate_GivesTheSlicingTestBytes()
    {
        // test_slicing: the slice machinery lives above this layer; here the tensor's bytes must sit at its offsets,
        // and the reference's first slice (.., ..1) of [1,2,3] is the first 3 floats.
        byte[] file = StBytes.Serialize([("attn.0", DType.F32, [1, 2, 3], StBytes.Floats(0, 1, 2, 3, 4, 5))]);
        SafeTensorsHeader h = SafeTensorsFormat.Parse(file);
        SafeTensorsEntry e = h.GetTensor("attn.0");
        byte[] bytes = file.AsSpan((int)(h.DataOffset + e.Begin), (int)e.Length).ToArray();
        Assert.That(bytes.AsSpan(0, 12).ToArray(), Is.EqualTo(new byte[] { 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64 }));
        Assert.That(bytes, Is.EqualTo(StBytes.Floats(0, 1, 2, 3, 4, 5)));
    }

    [Test]
    public void Parse_EmptyShape_IsAScalar()
    {
        byte[] file = StBytes.File(56, "{\"test\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4);
        SafeTensorsHeader h = SafeTensorsFormat.Parse(file);
        Assert.That(h.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "test" }));
        SafeTensorsEntry e = h.GetTensor("test");
        Assert.That((e.Shape, e.DType, e.Length), Is.EqualTo((Array.Empty<long>(), DType.I32, 4L)));
    }

    [Test]
    public void Parse_DeserializationVector_GivesOneI32Tensor()
    {
        // test_deserialization and test_lifetimes (and test_simple.py test_deserialization).
        byte[] file = StBytes.File(60, "{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 16);
        SafeTensorsHeader h = SafeTensorsFormat.Parse(file);
        Assert.That(h.Tensors, Has.Count.EqualTo(1));
        SafeTensorsEntry e = h.GetTensor("test");
        Assert.That((e.Shape, e.DType, e.Begin, e.End), Is.EqualTo((new long[] { 2, 2 }, DType.I32, 0L, 16L)));
        Assert.That((h.HeaderLength, h.DataOffset, h.DataLength), Is.EqualTo((60L, 68L, 16L)));
    }

    [Test]
    public void Parse_JsonAttackTenTensorsAtSameRange_IsInvalidOffset()
    {
        string json = "{" + string.Join(",", Enumerable.Range(0, 10).Select(i =>
            $"\"weight_{i}\":{{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}")) + "}";
        Assert.That(StBytes.ParseKind(StBytes.File(json, 16)), Is.EqualTo(Z4AiErrorKind.InvalidOffset));
    }

    [Test]
    public void Parse_PolyglotTrailer_IsMetadataIncompleteBuffer()
    {
        byte[] file = StBytes.Cat(
            StBytes.File(60, "{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 16),
            StBytes.Utf8("extra_bogus_data_for_polyglot_file"));
        Assert.That(StBytes.ParseKind(file), Is.EqualTo(Z4AiErrorKind.MetadataIncompleteBuffer));
    }

    [Test]
    public void Parse_TwoDataBytesMissing_IsMetadataIncompleteBuffer()
    {
        byte[] file = StBytes.File(60, "{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 14);
        Assert.That(StBytes.ParseKind(file), Is.EqualTo(Z4AiErrorKind.MetadataIncompleteBuffer));
    }

    [Test]
    public void Parse_HugeLengthPrefix_IsHeaderTooLarge()
    {
        byte[] file = StBytes.Cat(
            [(byte)'<', 0, 0, 0, 0, 0xff, 0xff, 0xff],
            StBytes.Utf8("{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}"),
            new byte[16]);
        Assert.That(StBytes.ParseKind(file), Is.EqualTo(Z4AiErrorKind.HeaderTooLarge));
    }

    [Test]
    public void Parse_EmptyInput_IsHeaderTooSmall() =>
        Assert.That(StBytes.ParseKind([]), Is.EqualTo(Z4AiErrorKind.HeaderTooSmall));

    [Test]
    public void Parse_PrefixOnly_IsInvalidHeaderLength() =>
        Assert.That(StBytes.ParseKind([(byte)'<', 0, 0, 0, 0, 0, 0, 0]), Is.EqualTo(Z4AiErrorKind.InvalidHeaderLength));

    [Test]
    public void Parse_NonUtf8Header_IsInvalidHeaderUtf8() =>
        Assert.That(StBytes.ParseKind([1, 0, 0, 0, 0, 0, 0, 0, 0xff]), Is.EqualTo(Z4AiErrorKind.InvalidHeaderUtf8));

    [Test]
    public void Parse_UnclosedBrace_IsInvalidHeaderDeserialization() =>
        Assert.That(StBytes.ParseKind([1, 0, 0, 0, 0, 0, 0, 0, (byte)'{']), Is.EqualTo(Z4AiErrorKind.InvalidHeaderDeserialization));

    [Test]
    public void Parse_TrailingWhitespacePadding_IsAccepted()
    {
        SafeTensorsHeader h = SafeTensorsFormat.Parse([6, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'}', 0x0D, 0x20, 0x09, 0x0A]);
        Assert.That(h.Tensors, Is.Empty);
    }

    [Test]
    public void Parse_LeadingWhitespacePadding_IsAccepted()
    {
        SafeTensorsHeader h = SafeTensorsFormat.Parse([6, 0, 0, 0, 0, 0, 0, 0, 0x09, 0x0A, (byte)'{', (byte)'}', 0x0D, 0x20]);
        Assert.That(h.Tensors, Is.Empty);
    }

    [Test]
    public void Parse_ZeroSizedTensor_IsAccepted()
    {
        byte[] file = StBytes.File(60, "{\"test\":{\"dtype\":\"I32\",\"shape\":[2,0],\"data_offsets\":[0, 0]}}");
        SafeTensorsHeader h = SafeTensorsFormat.Parse(file);
        SafeTensorsEntry e = h.GetTensor("test");
        Assert.That((e.Shape, e.DType, e.Length), Is.EqualTo((new long[] { 2, 0 }, DType.I32, 0L)));
    }

    [Test]
    public void Parse_RangeShorterThanShape_IsTensorInvalidInfoBeforeIncompleteBuffer()
    {
        // The file also lacks the 4 data bytes: TensorInvalidInfo is still what the reference reports.
        byte[] file = StBytes.File(60, "{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0, 4]}}");
        Assert.That(StBytes.ParseKind(file), Is.EqualTo(Z4AiErrorKind.TensorInvalidInfo));
    }

    [Test]
    public void Parse_ShapeProductOverflows_IsValidationOverflow()
    {
        byte[] file = StBytes.File(
            (byte)'O', "{\"test\":{\"dtype\":\"I32\",\"shape\":[2,18446744073709551614],\"data_offsets\":[0,16]}}", 16);
        Assert.That(StBytes.ParseKind(file), Is.EqualTo(Z4AiErrorKind.ValidationOverflow));
    }

    [Test]
    public void Parse_ShapeBitCountOverflows_IsValidationOverflow()
    {
        // 2 * (2^63 - 1) elements fits u64; only the bit count (times 32) overflows.
        byte[] file = StBytes.File(
            (byte)'N', "{\"test\":{\"dtype\":\"I32\",\"shape\":[2,9223372036854775807],\"data_offsets\":[0,16]}}", 16);
        Assert.That(StBytes.ParseKind(file), Is.EqualTo(Z4AiErrorKind.ValidationOverflow));
    }

    [Test]
    public void CreateLayout_HundredMillionBytesOfMetadata_IsHeaderTooLarge()
    {
        var metadata = new Dictionary<string, string> { ["very_large_metadata"] = new string('a', 100_000_000) };
        Assert.That(StBytes.KindOf(() => SafeTensorsFormat.CreateLayout([], metadata)), Is.EqualTo(Z4AiErrorKind.HeaderTooLarge));
    }

    // ---- bindings/python/tests/test_simple.py ----

    [TestCase(0, TestName = "Serialize_PythonI32Zeros_MatchesReferenceBytes")]
    [TestCase(1, TestName = "Serialize_PythonI32WithOne_MatchesReferenceBytes")]
    public void Serialize_PythonI32_MatchesReferenceBytes(int last)
    {
        byte[] data = new byte[16];
        data[12] = (byte)last;
        byte[] expected = StBytes.Cat(
            StBytes.Utf8("@\0\0\0\0\0\0\0{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}   "),
            StBytes.Utf8(" "),
            data);
        Assert.That(StBytes.Serialize([("test", DType.I32, [2, 2], data)]), Is.EqualTo(expected));
    }

    [Test]
    public void Parse_PythonMetadataVectorWithN102_ReturnsMetadata()
    {
        byte[] file = StBytes.Cat(
            StBytes.Utf8("f\0\0\0\0\0\0\0{\"__metadata__\":{\"framework\":\"pt\"},\"test1\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}"),
            StBytes.Utf8("       "),
            new byte[16]);
        SafeTensorsHeader h = SafeTensorsFormat.Parse(file);
        Assert.That(h.HeaderLength, Is.EqualTo(102));
        Assert.That(h.Metadata, Is.EqualTo(FrameworkPt));
    }

    [Test]
    public void Serialize_PythonTwoTensorsEitherOrder_IsTheSame()
    {
        byte[] data = new byte[16];
        byte[] a = StBytes.Serialize([("test1", DType.I32, [2, 2], data), ("test2", DType.I32, [2, 2], data)]);
        byte[] b = StBytes.Serialize([("test2", DType.I32, [2, 2], data), ("test1", DType.I32, [2, 2], data)]);
        Assert.That(a, Is.EqualTo(b));
    }

    [Test]
    public void Serialize_PythonI32AndF16_AlignsDataAt136()
    {
        byte[] expected = StBytes.Cat(
            StBytes.Le(0x80),
            StBytes.Utf8("{\"test1\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]},\"test2\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[16,24]}}"),
            StBytes.Utf8("      "),
            new byte[24]);
        byte[] out1 = StBytes.Serialize([("test1", DType.I32, [2, 2], new byte[16]), ("test2", DType.F16, [2, 2], new byte[8])]);
        byte[] out2 = StBytes.Serialize([("test2", DType.F16, [2, 2], new byte[8]), ("test1", DType.I32, [2, 2], new byte[16])]);
        Assert.That(out1, Is.EqualTo(expected));
        Assert.That(out2, Is.EqualTo(expected));
        Assert.That(Array.IndexOf(out1, (byte)0, 8), Is.EqualTo(136));
        Assert.That(SafeTensorsFormat.Parse(out1).DataOffset, Is.EqualTo(136));
    }

    [Test]
    public void Serialize_PythonMetadata_HasN96()
    {
        // Also test_serialization_no_big_endian: the payload bytes are written as given (little-endian).
        byte[] expected = StBytes.Cat(
            StBytes.Utf8("`\0\0\0\0\0\0\0{\"__metadata__\":{\"framework\":\"pt\"},\"test1\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}"),
            StBytes.Utf8(" "),
            new byte[16]);
        byte[] actual = StBytes.Serialize([("test1", DType.I32, [2, 2], new byte[16])], FrameworkPt);
        Assert.That(actual, Is.EqualTo(expected));
        Assert.That(Array.IndexOf(actual, (byte)0, 8), Is.EqualTo(104));
    }

    // ---- attacks/ ----

    [Test]
    public void Parse_Abuse1PrefixSaysThousand_IsInvalidHeaderLength()
    {
        byte[] file = StBytes.Serialize([("weight", DType.F32, [2, 2], new byte[16])]);
        BinaryPrimitives.WriteUInt64LittleEndian(file, 1000);
        Assert.That(StBytes.ParseKind(file), Is.EqualTo(Z4AiErrorKind.InvalidHeaderLength));
    }
}
