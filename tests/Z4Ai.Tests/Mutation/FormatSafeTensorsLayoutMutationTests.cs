using System.Collections;
using System.Text;
using NUnit.Framework;
using Z4Ai.Format;
using Z4Ai.Tests.Format;

namespace Z4Ai.Tests.Mutation;

/// <summary>
/// The safetensors write side pinned byte by byte: <see cref="SafeTensorsFormat.CreateLayout"/> and
/// <see cref="SafeTensorsFormat.TryCreateHeader"/> (exact compact JSON and padding for every residue of its length,
/// both metadata positions, every refusal with its text), the serde-compatible string and number writer, the
/// UTF-8 name order, the streaming writer's length check, and the small records around them.
/// </summary>
public class FormatSafeTensorsLayoutMutationTests
{
    private static byte[] Padded(string json)
    {
        byte[] text = Encoding.UTF8.GetBytes(json);
        int n = (text.Length + 7) / 8 * 8;
        byte[] header = new byte[8 + n];
        BitConverter.TryWriteBytes(header.AsSpan(0, 8), (ulong)n);
        text.CopyTo(header, 8);
        header.AsSpan(8 + text.Length).Fill((byte)' ');
        return header;
    }

    private static string Entry(string name, string dtype, long[] shape, long begin, long end) =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{begin},{end}]}}";

    // ---- CreateLayout: exact bytes ----

    [Test]
    public void CreateLayout_EveryPaddingResidue_WritesTheExactCompactJson()
    {
        // Name, shape and metadata lengths are varied so the JSON length takes every value mod 8: a length counted
        // one byte short or long anywhere shows up as a wrong prefix or padding, or as a write past the end.
        for (int nameLength = 1; nameLength <= 8; nameLength++)
        {
            for (int rank = 0; rank <= 2; rank++)
            {
                for (int metaCount = -1; metaCount <= 2; metaCount++)
                {
                    string name = new('n', nameLength);
                    long[] shape = [.. Enumerable.Repeat(3L, rank)];
                    long bytes = 4 * (long)Math.Pow(3, rank);
                    Dictionary<string, string>? meta = metaCount < 0
                        ? null
                        : Enumerable.Range(0, metaCount).ToDictionary(i => $"k{i}", i => new string('v', nameLength + i));

                    SafeTensorsLayout layout = SafeTensorsFormat.CreateLayout(
                        [new SafeTensorsLayoutInput(name, DType.F32, shape, bytes), new SafeTensorsLayoutInput("z", DType.U8, [10], 10)],
                        meta);

                    string metaJson = meta is null ? "" : "\"__metadata__\":{" + string.Join(",", meta.Select(kv => $"\"{kv.Key}\":\"{kv.Value}\"")) + "},";
                    string json = "{" + metaJson + Entry(name, "F32", shape, 0, bytes) + "," + Entry("z", "U8", [10], bytes, bytes + 10) + "}";
                    Assert.That(layout.HeaderBytes, Is.EqualTo(Padded(json)), json);
                    Assert.That(layout.DataLength, Is.EqualTo(bytes + 10));
                    Assert.That(layout.TotalLength, Is.EqualTo(layout.HeaderBytes.Length + bytes + 10));
                    Assert.That(layout.Tensors.Select(t => (t.Name, t.Begin, t.End)), Is.EqualTo(new[] { (name, 0L, bytes), ("z", bytes, bytes + 10) }));
                }
            }
        }
    }

    [Test]
    public void CreateLayout_NoTensors_WritesOnlyTheMetadataOrAnEmptyObject()
    {
        Assert.That(SafeTensorsFormat.CreateLayout([], null).HeaderBytes, Is.EqualTo(Padded("{}")));
        Assert.That(SafeTensorsFormat.CreateLayout([], new Dictionary<string, string>()).HeaderBytes, Is.EqualTo(Padded("{\"__metadata__\":{}}")));
        Assert.That(
            SafeTensorsFormat.CreateLayout([], new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" }).HeaderBytes,
            Is.EqualTo(Padded("{\"__metadata__\":{\"a\":\"1\",\"b\":\"2\"}}")));
        Assert.That(SafeTensorsFormat.CreateLayout([], null).TotalLength, Is.EqualTo(16));
    }

    [Test]
    public void CreateLayout_LargeNumbers_AreMeasuredDigitByDigit()
    {
        // Shapes whose digit counts step at 9/10, 99/100 and so on.
        foreach (long d in new long[] { 9, 10, 99, 100, 999_999_999, 1_000_000_000, 1L << 40 })
        {
            SafeTensorsLayout layout = SafeTensorsFormat.CreateLayout([new SafeTensorsLayoutInput("t", DType.U8, [d, 0], 0)], null);
            Assert.That(layout.HeaderBytes, Is.EqualTo(Padded("{" + Entry("t", "U8", [d, 0], 0, 0) + "}")), d.ToString());
        }
    }

    [Test]
    public void CreateLayout_SortsByDTypeDescendingThenUtf8Name()
    {
        SafeTensorsLayout layout = SafeTensorsFormat.CreateLayout(
            [
                new SafeTensorsLayoutInput("b", DType.U8, [1], 1),
                new SafeTensorsLayoutInput("\U00010000", DType.F16, [1], 2),
                new SafeTensorsLayoutInput("a", DType.U8, [1], 1),
                new SafeTensorsLayoutInput("\uE000", DType.F16, [1], 2),
                new SafeTensorsLayoutInput("w", DType.F64, [1], 8),
            ],
            null);
        Assert.That(layout.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "w", "\uE000", "\U00010000", "a", "b" }));
        Assert.That(layout.Tensors.Select(t => t.Begin), Is.EqualTo(new long[] { 0, 8, 10, 12, 13 }));
    }

    [Test]
    public void CreateLayout_MetadataKeys_AreSortedInUtf8Order()
    {
        var meta = new Dictionary<string, string> { ["\U00010000"] = "4", ["b"] = "2", ["\uE000"] = "3", ["ab"] = "1", ["a"] = "0" };
        byte[] header = SafeTensorsFormat.CreateLayout([], meta).HeaderBytes;
        Assert.That(
            header,
            Is.EqualTo(Padded("{\"__metadata__\":{\"a\":\"0\",\"ab\":\"1\",\"b\":\"2\",\"\uE000\":\"3\",\"\U00010000\":\"4\"}}")));
    }

    // Strings are given as code points in hex, so that test names stay ASCII (the test adapter's protocol mangles others).
    [TestCase("61", "62", -1)]
    [TestCase("62", "61", 1)]
    [TestCase("61", "61 62", -1)]
    [TestCase("61 62", "61", 1)]
    [TestCase("61 62", "61 62", 0)]
    [TestCase("", "", 0)]
    [TestCase("D7FF", "E000", -1)]
    [TestCase("E000", "10000", -1)]
    [TestCase("10000", "E000", 1)]
    [TestCase("FFFF", "10000", -1)]
    [TestCase("D7FF", "10000", -1)]
    [TestCase("10000", "10FFFF", -1)]
    [TestCase("1F600", "1F600", 0)]
    public void CompareUtf8_OrdersByCodePoint(string a, string b, int sign) =>
        Assert.That(Math.Sign(SafeTensorsFormat.CompareUtf8(CodePoints(a), CodePoints(b))), Is.EqualTo(sign));

    private static string CodePoints(string hex) =>
        string.Concat(hex.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(h => char.ConvertFromUtf32(Convert.ToInt32(h, 16))));

    // ---- CreateLayout: refusals ----

    [Test]
    public void CreateLayout_NameRefusals_HaveTheirExactText()
    {
        var reserved = Assert.Throws<Z4AiFormatException>(() =>
            SafeTensorsFormat.CreateLayout([new SafeTensorsLayoutInput("__metadata__", DType.U8, [1], 1)], null))!;
        Assert.That((reserved.Kind, reserved.Detail, reserved.TensorName),
            Is.EqualTo((Z4AiErrorKind.ReservedName, "the name __metadata__ is reserved for the header's metadata map", "__metadata__")));

        var duplicate = Assert.Throws<Z4AiFormatException>(() => SafeTensorsFormat.CreateLayout(
            [new SafeTensorsLayoutInput("x", DType.U8, [1], 1), new SafeTensorsLayoutInput("x", DType.F32, [1], 4)], null))!;
        Assert.That((duplicate.Kind, duplicate.Detail, duplicate.TensorName), Is.EqualTo((Z4AiErrorKind.DuplicateKey, "two tensors have this name", "x")));
    }

    [Test]
    public void CreateLayout_LengthMismatch_HasItsExactText()
    {
        var ex = Assert.Throws<Z4AiFormatException>(() =>
            SafeTensorsFormat.CreateLayout([new SafeTensorsLayoutInput("t", DType.I16, [2, 2], 9)], null))!;
        Assert.That((ex.Kind, ex.Detail, ex.TensorName), Is.EqualTo((Z4AiErrorKind.TensorInvalidInfo, "I16[2,2] needs 8 bytes, but the tensor has 9", "t")));
    }

    [Test]
    public void CreateLayout_DataOfExactlyLongMaxValueBytes_IsAcceptedAndOneMoreOverflows()
    {
        // U8 tensors hold at most 2^61 - 1 bytes (the bit count must fit 64 bits): four of them plus 3 bytes end at long.MaxValue.
        const long big = (1L << 61) - 1;
        SafeTensorsLayoutInput[] Inputs(long last) =>
        [
            new("a", DType.U8, [big], big), new("b", DType.U8, [big], big), new("c", DType.U8, [big], big),
            new("d", DType.U8, [big], big), new("e", DType.U8, [last], last),
        ];

        SafeTensorsLayout layout = SafeTensorsFormat.CreateLayout(Inputs(3), null);
        Assert.That(layout.DataLength, Is.EqualTo(long.MaxValue));
        Assert.That(layout.Tensors[^1].Begin, Is.EqualTo(long.MaxValue - 3));

        var ex = Assert.Throws<Z4AiFormatException>(() => SafeTensorsFormat.CreateLayout(Inputs(4), null))!;
        Assert.That((ex.Kind, ex.Detail, ex.TensorName),
            Is.EqualTo((Z4AiErrorKind.ValidationOverflow, "the tensors add up to more bytes than a file can hold", "e")));
    }

    [Test]
    public void CreateLayout_HeaderLimit_IsInclusiveAndNamesThePaddedSize()
    {
        SafeTensorsLayoutInput[] one = [new("t", DType.U8, [1], 1)];
        int padded = SafeTensorsFormat.CreateLayout(one, null).HeaderBytes.Length - 8;
        Assert.That(padded, Is.EqualTo(56));
        Assert.That(SafeTensorsFormat.CreateLayout(one, null, maxHeaderSize: 56).HeaderBytes, Has.Length.EqualTo(64));
        var ex = Assert.Throws<Z4AiFormatException>(() => SafeTensorsFormat.CreateLayout(one, null, maxHeaderSize: 55))!;
        Assert.That((ex.Kind, ex.Detail), Is.EqualTo((Z4AiErrorKind.HeaderTooLarge, "the header would be 56 bytes, above the limit of 55")));
        Assert.Throws<ArgumentOutOfRangeException>(() => SafeTensorsFormat.CreateLayout(one, null, maxHeaderSize: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => SafeTensorsFormat.CreateLayout(one, null, SafeTensorsFormat.MaxSupportedHeaderSize + 1));
        Assert.That(SafeTensorsFormat.CreateLayout(one, null, SafeTensorsFormat.MaxSupportedHeaderSize).HeaderBytes, Has.Length.EqualTo(64));
        Assert.Throws<ArgumentNullException>(() => SafeTensorsFormat.CreateLayout(null!, null));
    }

    [Test]
    public void CreateLayout_InvalidInputs_AreNamedInTheirMessages()
    {
        AssertArgument(new SafeTensorsLayoutInput(null!, DType.U8, [1], 1), "A tensor has a null name.");
        AssertArgument(new SafeTensorsLayoutInput("x", DType.U8, null!, 1), "Tensor 'x' has a null shape.");
        AssertArgument(new SafeTensorsLayoutInput("x", DType.U8, [1], -1), "Tensor 'x' has a negative byte length.");
        AssertArgument(new SafeTensorsLayoutInput("x", (DType)DTypeInfo.Count, [1], 1), $"Tensor 'x' has the undefined dtype {DTypeInfo.Count}.");
        AssertArgument(new SafeTensorsLayoutInput("x", DType.U8, [2, -1], 1), "Tensor 'x' has the negative dimension -1.");

        // The boundaries of each check are valid: zero length, zero dimension, the last dtype.
        SafeTensorsLayout ok = SafeTensorsFormat.CreateLayout(
            [new SafeTensorsLayoutInput("e", DType.U8, [0], 0), new SafeTensorsLayoutInput("u", (DType)(DTypeInfo.Count - 1), [1], 8)], null);
        Assert.That(ok.Tensors.Select(t => (t.Name, t.Length)), Is.EqualTo(new[] { ("u", 8L), ("e", 0L) }));

        static void AssertArgument(SafeTensorsLayoutInput input, string message)
        {
            var ex = Assert.Throws<ArgumentException>(() => SafeTensorsFormat.CreateLayout([input], null))!;
            Assert.That(ex.Message, Is.EqualTo(message + " (Parameter 't')"));
        }
    }

    [Test]
    public void CreateLayout_BadMetadata_IsAnArgumentError()
    {
        var nullValue = Assert.Throws<ArgumentException>(() =>
            SafeTensorsFormat.CreateLayout([], new Dictionary<string, string> { ["k"] = null! }))!;
        Assert.That(nullValue.Message, Is.EqualTo("Metadata key 'k' has a null value. (Parameter 'metadata')"));

        var more = Assert.Throws<ArgumentException>(() => SafeTensorsFormat.CreateLayout([], new MiscountedMap(3, 2)))!;
        Assert.That(more.Message, Is.EqualTo("The metadata enumerates more entries than its Count. (Parameter 'metadata')"));
        var fewer = Assert.Throws<ArgumentException>(() => SafeTensorsFormat.CreateLayout([], new MiscountedMap(1, 2)))!;
        Assert.That(fewer.Message, Is.EqualTo("The metadata enumerates fewer entries than its Count. (Parameter 'metadata')"));
        Assert.That(SafeTensorsFormat.CreateLayout([], new MiscountedMap(2, 2)).HeaderBytes, Is.EqualTo(Padded("{\"__metadata__\":{\"k0\":\"v\",\"k1\":\"v\"}}")));

        var lone = Assert.Throws<ArgumentException>(() => SafeTensorsFormat.CreateLayout([], new Dictionary<string, string> { ["k"] = "\uD800" }))!;
        Assert.That(lone.ParamName, Is.EqualTo("metadata"));
        var loneName = Assert.Throws<ArgumentException>(() => SafeTensorsFormat.CreateLayout([new SafeTensorsLayoutInput("\uDC00", DType.U8, [0], 0)], null))!;
        Assert.That(loneName.ParamName, Is.EqualTo("tensors"));
    }

    // ---- TryCreateHeader ----

    [Test]
    public void TryCreateHeader_MetadataFirstOrLast_ExactBytes()
    {
        (string, DType, long[], long)[] tensors = [("b", DType.F32, [2], 8), ("a", DType.U8, [3], 3)];
        KeyValuePair<string, string>[] meta = [new("z", "1"), new("a", "2")];
        string entries = Entry("b", "F32", [2], 0, 8) + "," + Entry("a", "U8", [3], 8, 11);
        const string metaJson = "\"__metadata__\":{\"z\":\"1\",\"a\":\"2\"}";

        Assert.That(SafeTensorsFormat.TryCreateHeader(tensors, meta, metadataLast: false, 1000), Is.EqualTo(Padded("{" + metaJson + "," + entries + "}")));
        Assert.That(SafeTensorsFormat.TryCreateHeader(tensors, meta, metadataLast: true, 1000), Is.EqualTo(Padded("{" + entries + "," + metaJson + "}")));
        Assert.That(SafeTensorsFormat.TryCreateHeader(tensors, null, metadataLast: true, 1000), Is.EqualTo(Padded("{" + entries + "}")));
        Assert.That(SafeTensorsFormat.TryCreateHeader([], meta, metadataLast: true, 1000), Is.EqualTo(Padded("{" + metaJson + "}")));
        Assert.That(SafeTensorsFormat.TryCreateHeader([], [], metadataLast: true, 1000), Is.EqualTo(Padded("{\"__metadata__\":{}}")));
        Assert.That(
            SafeTensorsFormat.TryCreateHeader(tensors, [], metadataLast: true, 1000),
            Is.EqualTo(Padded("{" + entries + ",\"__metadata__\":{}}")));
    }

    [Test]
    public void TryCreateHeader_MetadataLast_EveryPaddingResidue()
    {
        for (int valueLength = 0; valueLength < 8; valueLength++)
        {
            (string, DType, long[], long)[] tensors = [("t", DType.U8, [4], 4)];
            KeyValuePair<string, string>[] meta = [new("k", new string('v', valueLength))];
            string json = "{" + Entry("t", "U8", [4], 0, 4) + ",\"__metadata__\":{\"k\":\"" + new string('v', valueLength) + "\"}}";
            Assert.That(SafeTensorsFormat.TryCreateHeader(tensors, meta, metadataLast: true, 1000), Is.EqualTo(Padded(json)), json);
        }
    }

    [Test]
    public void TryCreateHeader_LimitAndOffsetOverflow_GiveNull()
    {
        (string, DType, long[], long)[] one = [("t", DType.U8, [4], 4)];
        int padded = Padded("{" + Entry("t", "U8", [4], 0, 4) + "}").Length - 8;
        Assert.That(SafeTensorsFormat.TryCreateHeader(one, null, false, padded), Has.Length.EqualTo(8 + padded));
        Assert.That(SafeTensorsFormat.TryCreateHeader(one, null, false, padded - 1), Is.Null);

        (string, DType, long[], long)[] fits = [("a", DType.U8, [1], long.MaxValue - 1), ("b", DType.U8, [1], 1)];
        Assert.That(
            SafeTensorsFormat.TryCreateHeader(fits, null, false, 1000),
            Is.EqualTo(Padded("{" + Entry("a", "U8", [1], 0, long.MaxValue - 1) + "," + Entry("b", "U8", [1], long.MaxValue - 1, long.MaxValue) + "}")));
        (string, DType, long[], long)[] overflows = [("a", DType.U8, [1], long.MaxValue), ("b", DType.U8, [1], 1)];
        Assert.That(SafeTensorsFormat.TryCreateHeader(overflows, null, false, 1000), Is.Null);
    }

    // ---- the JSON writer ----

    [Test]
    public void JsonWriter_Strings_EscapeOnlyWhatSerdeEscapes()
    {
        var input = new StringBuilder();
        var expected = new StringBuilder("\"");
        for (char c = '\0'; c < ' '; c++)
        {
            input.Append(c);
            expected.Append(c switch
            {
                '\b' => "\\b",
                '\t' => "\\t",
                '\n' => "\\n",
                '\f' => "\\f",
                '\r' => "\\r",
                _ => $"\\u{(int)c:x4}",
            });
        }

        input.Append("\"\\/ ~\u007f");
        expected.Append("\\\"\\\\/ ~\u007f\"");
        AssertWritten(input.ToString(), Encoding.UTF8.GetBytes(expected.ToString()));
        Assert.That(expected.ToString(), Does.Contain("\\u001f").And.Contain("\\u000b"), "lowercase hex, four digits");
    }

    [TestCase("80", new byte[] { 0xC2, 0x80 })]
    [TestCase("7FF", new byte[] { 0xDF, 0xBF })]
    [TestCase("800", new byte[] { 0xE0, 0xA0, 0x80 })]
    [TestCase("D7FF", new byte[] { 0xED, 0x9F, 0xBF })]
    [TestCase("E000", new byte[] { 0xEE, 0x80, 0x80 })]
    [TestCase("FFFF", new byte[] { 0xEF, 0xBF, 0xBF })]
    [TestCase("10000", new byte[] { 0xF0, 0x90, 0x80, 0x80 })]
    [TestCase("10FFFF", new byte[] { 0xF4, 0x8F, 0xBF, 0xBF })]
    [TestCase("61 E9 1F600 7A", new byte[] { 0x61, 0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80, 0x7A })]
    public void JsonWriter_NonAscii_IsRawUtf8(string codePoints, byte[] utf8) =>
        AssertWritten(CodePoints(codePoints), [(byte)'"', .. utf8, (byte)'"']);

    private static IEnumerable<TestCaseData> LoneSurrogates()
    {
        // Built from chars: NUnit would turn a lone surrogate in an attribute string into U+FFFD.
        const char high = '\uD800', low = '\uDC00';
        yield return new TestCaseData(new string([.. "a", high]), 1).SetName("JsonWriter_HighSurrogateAtTheEnd_IsRefused");
        yield return new TestCaseData(new string([.. "a", high, 'b']), 1).SetName("JsonWriter_HighSurrogateBeforeALetter_IsRefused");
        yield return new TestCaseData(new string([low]), 0).SetName("JsonWriter_LowSurrogateAlone_IsRefused");
        yield return new TestCaseData(new string([high, high, low]), 0).SetName("JsonWriter_HighSurrogateBeforeAPair_IsRefused");
        yield return new TestCaseData(new string([high, low, low]), 2).SetName("JsonWriter_LowSurrogateAfterAPair_IsRefused");
    }

    [TestCaseSource(nameof(LoneSurrogates))]
    public void JsonWriter_LoneSurrogate_IsRefusedWithItsIndex(string value, int index)
    {
        Assert.That(value.Any(char.IsSurrogate), Is.True);
        var ex = Assert.Throws<ArgumentException>(() => SafeTensorsJsonWriter.MeasureString(value, "names"))!;
        Assert.That(ex.ParamName, Is.EqualTo("names"));
        Assert.That(ex.Message, Is.EqualTo($"The string '{value}' holds a lone surrogate at index {index}; it cannot be written as UTF-8. (Parameter 'names')"));
    }

    [TestCase(0UL, 1)]
    [TestCase(9UL, 1)]
    [TestCase(10UL, 2)]
    [TestCase(99UL, 2)]
    [TestCase(100UL, 3)]
    [TestCase(9_999_999_999_999_999_999UL, 19)]
    [TestCase(10_000_000_000_000_000_000UL, 20)]
    [TestCase(ulong.MaxValue, 20)]
    public void JsonWriter_Numbers_AreMeasuredAndWrittenInDecimal(ulong value, int digits)
    {
        Assert.That(SafeTensorsJsonWriter.MeasureUInt64(value), Is.EqualTo(digits));
        byte[] buffer = new byte[24];
        Assert.That(SafeTensorsJsonWriter.WriteUInt64(buffer, value), Is.EqualTo(digits));
        Assert.That(Encoding.ASCII.GetString(buffer, 0, digits), Is.EqualTo(value.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Test]
    public void JsonWriter_Raw_CopiesTheLiteral()
    {
        byte[] buffer = new byte[6];
        Assert.That(SafeTensorsJsonWriter.WriteRaw(buffer, "ab\"c"u8), Is.EqualTo(4));
        Assert.That(buffer, Is.EqualTo(new byte[] { (byte)'a', (byte)'b', (byte)'"', (byte)'c', 0, 0 }));
    }

    // ---- the streaming writer ----

    [Test]
    public void Write_PayloadsInFileOrder_AfterTheHeader()
    {
        SafeTensorsLayout layout = SafeTensorsFormat.CreateLayout(
            [new SafeTensorsLayoutInput("a", DType.U8, [2], 2), new SafeTensorsLayoutInput("b", DType.I16, [1], 2)], null);
        var asked = new List<string>();
        using var ms = new MemoryStream();
        SafeTensorsWriter.Write(ms, layout, e =>
        {
            asked.Add(e.Name);
            return e.Name == "a" ? new byte[] { 1, 2 } : new byte[] { 3, 4 };
        });
        Assert.That(asked, Is.EqualTo(new[] { "b", "a" }));
        Assert.That(ms.ToArray(), Is.EqualTo(StBytes.Cat(layout.HeaderBytes, [3, 4, 1, 2])));
    }

    [Test]
    public void Write_WrongPayloadLength_StopsWithTheExactText()
    {
        SafeTensorsLayout layout = SafeTensorsFormat.CreateLayout(
            [new SafeTensorsLayoutInput("a", DType.I16, [2], 4), new SafeTensorsLayoutInput("b", DType.U8, [2, 2], 4)], null);
        using var ms = new MemoryStream();
        var ex = Assert.Throws<Z4AiFormatException>(() =>
            SafeTensorsWriter.Write(ms, layout, e => e.Name == "a" ? new byte[4] : new byte[3]))!;
        Assert.That((ex.Kind, ex.Detail, ex.TensorName),
            Is.EqualTo((Z4AiErrorKind.InvalidTensorView, "U8[2,2] needs 4 bytes, but 3 were given", "b")));
        Assert.That(ms.Length, Is.EqualTo(layout.HeaderBytes.Length + 4), "the header and the first payload only");

        var longer = Assert.Throws<Z4AiFormatException>(() => SafeTensorsWriter.Write(new MemoryStream(), layout, e => new byte[5]))!;
        Assert.That((longer.Detail, longer.TensorName), Is.EqualTo(("I16[2] needs 4 bytes, but 5 were given", "a")));
    }

    [Test]
    public void WriteAsync_WrongPayloadLength_StopsWithTheExactText()
    {
        SafeTensorsLayout layout = SafeTensorsFormat.CreateLayout(
            [new SafeTensorsLayoutInput("a", DType.I16, [2], 4), new SafeTensorsLayoutInput("b", DType.U8, [2, 2], 4)], null);
        using var ms = new MemoryStream();
        var ex = Assert.ThrowsAsync<Z4AiFormatException>(async () =>
            await SafeTensorsWriter.WriteAsync(ms, layout, e => e.Name == "a" ? new byte[4] : new byte[3]))!;
        Assert.That((ex.Kind, ex.Detail, ex.TensorName),
            Is.EqualTo((Z4AiErrorKind.InvalidTensorView, "U8[2,2] needs 4 bytes, but 3 were given", "b")));
        Assert.That(ms.Length, Is.EqualTo(layout.HeaderBytes.Length + 4));
    }

    [Test]
    public void Write_NullArguments_AreNamed()
    {
        SafeTensorsLayout layout = SafeTensorsFormat.CreateLayout([], null);
        using var ms = new MemoryStream();
        Func<SafeTensorsEntry, ReadOnlyMemory<byte>> data = _ => Array.Empty<byte>();
        Assert.That(Assert.Throws<ArgumentNullException>(() => SafeTensorsWriter.Write(null!, layout, data))!.ParamName, Is.EqualTo("output"));
        Assert.That(Assert.Throws<ArgumentNullException>(() => SafeTensorsWriter.Write(ms, null!, data))!.ParamName, Is.EqualTo("layout"));
        Assert.That(Assert.Throws<ArgumentNullException>(() => SafeTensorsWriter.Write(ms, layout, null!))!.ParamName, Is.EqualTo("data"));
        Assert.That(Assert.ThrowsAsync<ArgumentNullException>(async () => await SafeTensorsWriter.WriteAsync(null!, layout, data))!.ParamName, Is.EqualTo("output"));
        Assert.That(Assert.ThrowsAsync<ArgumentNullException>(async () => await SafeTensorsWriter.WriteAsync(ms, null!, data))!.ParamName, Is.EqualTo("layout"));
        Assert.That(Assert.ThrowsAsync<ArgumentNullException>(async () => await SafeTensorsWriter.WriteAsync(ms, layout, null!))!.ParamName, Is.EqualTo("data"));
        Assert.That(ms.Length, Is.Zero);
    }

    // ---- the records ----

    [Test]
    public void Records_LengthsOffsetsAndText()
    {
        var entry = new SafeTensorsEntry("w", DType.BF16, [2, 3], 10, 22);
        Assert.That(entry.Length, Is.EqualTo(12));
        Assert.That(entry.ToString(), Is.EqualTo("w: BF16[2,3] data_offsets [10,22]"));

        SafeTensorsHeader h = SafeTensorsFormat.Parse(StBytes.Serialize([("a", DType.U8, [3], [1, 2, 3])]));
        Assert.That(h.HeaderLength, Is.EqualTo(56));
        Assert.That((h.DataOffset, h.DataLength, h.TotalLength), Is.EqualTo((64L, 3L, 67L)));
        Assert.That(h.TryGetTensor("b", out SafeTensorsEntry? missing), Is.False);
        Assert.That(missing, Is.Null);
        Assert.Throws<ArgumentNullException>(() => h.TryGetTensor(null!, out _));
        var ex = Assert.Throws<Z4AiTensorNotFoundException>(() => h.GetTensor("b"))!;
        Assert.That(ex.TensorName, Is.EqualTo("b"));
        Assert.That(h.GetTensor("a").End, Is.EqualTo(3));
    }

    private static void AssertWritten(string value, byte[] expected)
    {
        Assert.That(SafeTensorsJsonWriter.MeasureString(value, "v"), Is.EqualTo(expected.Length), "measured length");
        byte[] buffer = new byte[expected.Length + 4];
        Assert.That(SafeTensorsJsonWriter.WriteString(buffer, value), Is.EqualTo(expected.Length), "written length");
        Assert.That(buffer.AsSpan(0, expected.Length).ToArray(), Is.EqualTo(expected));
        Assert.That(buffer.AsSpan(expected.Length).ToArray(), Is.All.EqualTo(0), "nothing written past the string");
    }

    /// <summary>A read-only map whose Count disagrees with what it enumerates.</summary>
    private sealed class MiscountedMap(int enumerated, int count) : IReadOnlyDictionary<string, string>
    {
        public int Count => count;

        public IEnumerable<string> Keys => this.Select(kv => kv.Key);

        public IEnumerable<string> Values => this.Select(kv => kv.Value);

        public string this[string key] => throw new KeyNotFoundException(key);

        public bool ContainsKey(string key) => false;

        public bool TryGetValue(string key, out string value)
        {
            value = null!;
            return false;
        }

        public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
        {
            for (int i = 0; i < enumerated; i++)
            {
                yield return new KeyValuePair<string, string>($"k{i}", "v");
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
