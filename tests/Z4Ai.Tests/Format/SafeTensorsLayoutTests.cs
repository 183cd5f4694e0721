using System.Text;
using NUnit.Framework;
using Z4Ai.Format;

namespace Z4Ai.Tests.Format;

/// <summary>The canonical writer: ordering, JSON escaping, padding and the write-side checks.</summary>
public class SafeTensorsLayoutTests
{
    private static string Json(SafeTensorsLayout layout) => Encoding.UTF8.GetString(layout.HeaderBytes.AsSpan(8)).TrimEnd(' ');

    private static SafeTensorsLayoutInput Scalar(string name, DType dtype = DType.U8) =>
        new(name, dtype, [], dtype.BitSize() / 8);

    [Test]
    public void CreateLayout_OneTensorPerDType_SortsByDTypeDescending()
    {
        var inputs = Enum.GetValues<DType>().Select(d => new SafeTensorsLayoutInput(d.GetName(), d, [8], d.BitSize()));
        SafeTensorsLayout layout = SafeTensorsFormat.CreateLayout(inputs, null);
        string[] expected =
        [
            "U64", "I64", "F64", "C64", "F32", "U32", "I32", "BF16", "F16", "U16", "I16", "F8_E5M2FNUZ",
            "F8_E4M3FNUZ", "F8_E8M0", "F8_E4M3", "F8_E5M2", "I8", "U8", "F6_E3M2", "F6_E2M3", "F4", "BOOL",
        ];
        Assert.That(layout.Tensors.Select(t => t.Name), Is.EqualTo(expected));

        // Every tensor is naturally aligned once the data section starts 8-aligned.
        foreach (SafeTensorsEntry e in layout.Tensors)
        {
            int align = Math.Max(1, e.DType.BitSize() / 8);
            Assert.That((layout.HeaderBytes.Length + e.Begin) % align, Is.Zero, e.Name);
        }
    }

    [Test]
    public void CreateLayout_NamesSortInUtf8ByteOrder()
    {
        // UTF-16 ordinal order would put the emoji (a surrogate pair) before U+FF21; UTF-8 order puts it last.
        string[] names = ["\U0001F600", "\uFF21", "b", "B", "a", "ab", "", "\u00e9", "\uE000"];
        SafeTensorsLayout layout = SafeTensorsFormat.CreateLayout(names.Select(n => Scalar(n)), null);
        string[] actual = layout.Tensors.Select(t => t.Name).ToArray();
        string[] byUtf8 = names.OrderBy(n => n, Comparer<string>.Create((x, y) =>
            Encoding.UTF8.GetBytes(x).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(y)))).ToArray();
        Assert.That(actual, Is.EqualTo(byUtf8));
        Assert.That(actual, Is.EqualTo(new[] { "", "B", "a", "ab", "b", "\u00e9", "\uE000", "\uFF21", "\U0001F600" }));
    }

    [Test]
    public void CreateLayout_MetadataKeys_AreSortedAndFirst()
    {
        var metadata = new Dictionary<string, string> { ["\U0001F600"] = "4", ["b"] = "2", ["\uFF21"] = "3", ["a"] = "1" };
        SafeTensorsLayout layout = SafeTensorsFormat.CreateLayout([Scalar("t")], metadata);
        Assert.That(
            Json(layout),
            Is.EqualTo("{\"__metadata__\":{\"a\":\"1\",\"b\":\"2\",\"\uFF21\":\"3\",\"\U0001F600\":\"4\"},\"t\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[0,1]}}"));
    }

    [Test]
    public void CreateLayout_EmptyMetadata_IsWrittenAsEmptyObject() =>
        Assert.That(Json(SafeTensorsFormat.CreateLayout([], new Dictionary<string, string>())), Is.EqualTo("{\"__metadata__\":{}}"));

    [Test]
    public void CreateLayout_Strings_EscapeLikeSerdeJson()
    {
        string name = "q\"b\\s/\b\f\n\r\t\u0000\u0001\u001f\u007f\u00e9\u4e2d\U0001F600<>&'+";
        SafeTensorsLayout layout = SafeTensorsFormat.CreateLayout([Scalar(name)], new Dictionary<string, string> { ["k"] = "\u001e\u000b" });
        string expected = "{\"__metadata__\":{\"k\":\"\\u001e\\u000b\"},\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0000\\u0001\\u001f\u007f\u00e9\u4e2d\U0001F600<>&'+\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[0,1]}}";
        Assert.That(Json(layout), Is.EqualTo(expected));

        SafeTensorsHeader parsed = SafeTensorsFormat.Parse(StBytes.Cat(layout.HeaderBytes, [7]));
        Assert.That(parsed.Tensors[0].Name, Is.EqualTo(name));
        Assert.That(parsed.Metadata!["k"], Is.EqualTo("\u001e\u000b"));
    }

    [Test]
    public void CreateLayout_AnyNameLength_PadsToMultipleOfEight()
    {
        for (int len = 0; len < 24; len++)
        {
            SafeTensorsLayout layout = SafeTensorsFormat.CreateLayout([Scalar(new string('x', len))], null);
            Assert.That(layout.HeaderBytes.Length % 8, Is.Zero);
            int json = Json(layout).Length;
            Assert.That(layout.HeaderBytes.Length - 8 - json, Is.InRange(0, 7));
            Assert.That(BitConverter.ToUInt64(layout.HeaderBytes), Is.EqualTo((ulong)layout.HeaderBytes.Length - 8));
        }
    }

    [Test]
    public void CreateLayout_LargeNumbers_AreWrittenInFull()
    {
        SafeTensorsLayout layout = SafeTensorsFormat.CreateLayout(
            [new SafeTensorsLayoutInput("z", DType.U8, [0, long.MaxValue], 0), new SafeTensorsLayoutInput("big", DType.U64, [1L << 40], 8L << 40)],
            null);
        Assert.That(Json(layout), Does.Contain("\"shape\":[0,9223372036854775807]").And.Contain("\"data_offsets\":[0,8796093022208]"));
        Assert.That(layout.DataLength, Is.EqualTo(8L << 40));
    }

    [Test]
    public void CreateLayout_TensorNamedMetadata_IsReservedName()
    {
        var ex = Assert.Throws<Z4AiFormatException>(() => SafeTensorsFormat.CreateLayout([Scalar("__metadata__")], null))!;
        Assert.That((ex.Kind, ex.TensorName), Is.EqualTo((Z4AiErrorKind.ReservedName, "__metadata__")));
    }

    [Test]
    public void CreateLayout_SameNameTwice_IsDuplicateKey()
    {
        var ex = Assert.Throws<Z4AiFormatException>(() => SafeTensorsFormat.CreateLayout([Scalar("w"), Scalar("w", DType.F32)], null))!;
        Assert.That((ex.Kind, ex.TensorName), Is.EqualTo((Z4AiErrorKind.DuplicateKey, "w")));
    }

    [Test]
    public void CreateLayout_LengthMismatch_IsTensorInvalidInfo()
    {
        var ex = Assert.Throws<Z4AiFormatException>(() =>
            SafeTensorsFormat.CreateLayout([new SafeTensorsLayoutInput("w", DType.BF16, [3, 5], 31)], null))!;
        Assert.That((ex.Kind, ex.TensorName), Is.EqualTo((Z4AiErrorKind.TensorInvalidInfo, "w")));
        Assert.That(ex.Message, Does.Contain("BF16[3,5]").And.Contain("30").And.Contain("31"));
    }

    [Test]
    public void CreateLayout_ShapeOverflow_IsValidationOverflow()
    {
        Assert.That(
            StBytes.KindOf(() => SafeTensorsFormat.CreateLayout([new SafeTensorsLayoutInput("w", DType.I32, [2, long.MaxValue], 0)], null)),
            Is.EqualTo(Z4AiErrorKind.ValidationOverflow));

        // Fits u64 bytes but not a long: still more than a file can hold.
        Assert.That(
            StBytes.KindOf(() => SafeTensorsFormat.CreateLayout([new SafeTensorsLayoutInput("w", DType.U8, [long.MaxValue, 2], 0)], null)),
            Is.EqualTo(Z4AiErrorKind.ValidationOverflow));

        // Each fits, the sum does not.
        Assert.That(
            StBytes.KindOf(() => SafeTensorsFormat.CreateLayout(
                [new SafeTensorsLayoutInput("a", DType.U8, [long.MaxValue], long.MaxValue), new SafeTensorsLayoutInput("b", DType.U8, [1], 1)], null)),
            Is.EqualTo(Z4AiErrorKind.ValidationOverflow));
    }

    [Test]
    public void CreateLayout_HeaderAboveCustomLimit_IsHeaderTooLarge()
    {
        SafeTensorsLayout fits = SafeTensorsFormat.CreateLayout([Scalar("t")], null, maxHeaderSize: 56);
        Assert.That(fits.HeaderBytes, Has.Length.EqualTo(64));
        Assert.That(
            StBytes.KindOf(() => SafeTensorsFormat.CreateLayout([Scalar("t")], null, maxHeaderSize: 55)),
            Is.EqualTo(Z4AiErrorKind.HeaderTooLarge));
    }

    [Test]
    public void CreateLayout_InvalidArguments_ThrowArgumentException()
    {
        Assert.Throws<ArgumentNullException>(() => SafeTensorsFormat.CreateLayout(null!, null));
        Assert.Throws<ArgumentException>(() => SafeTensorsFormat.CreateLayout([new SafeTensorsLayoutInput(null!, DType.U8, [], 1)], null));
        Assert.Throws<ArgumentException>(() => SafeTensorsFormat.CreateLayout([new SafeTensorsLayoutInput("a", DType.U8, null!, 1)], null));
        Assert.Throws<ArgumentException>(() => SafeTensorsFormat.CreateLayout([new SafeTensorsLayoutInput("a", DType.U8, [-1], 0)], null));
        Assert.Throws<ArgumentException>(() => SafeTensorsFormat.CreateLayout([new SafeTensorsLayoutInput("a", DType.U8, [1], -1)], null));
        Assert.Throws<ArgumentException>(() => SafeTensorsFormat.CreateLayout([new SafeTensorsLayoutInput("a", (DType)22, [1], 1)], null));
        Assert.Throws<ArgumentException>(() => SafeTensorsFormat.CreateLayout([Scalar("bad\uD800")], null));
        Assert.Throws<ArgumentException>(() => SafeTensorsFormat.CreateLayout([Scalar("bad\uDC00x")], null));
        Assert.Throws<ArgumentException>(() => SafeTensorsFormat.CreateLayout([], new Dictionary<string, string> { ["k"] = null! }));
        Assert.Throws<ArgumentException>(() => SafeTensorsFormat.CreateLayout([], new Dictionary<string, string> { ["k\uD83D"] = "v" }));
    }

    [Test]
    public void CreateLayout_CopiesShapes_SoCallerChangesDoNotLeakIn()
    {
        long[] shape = [4];
        SafeTensorsLayout layout = SafeTensorsFormat.CreateLayout([new SafeTensorsLayoutInput("a", DType.U8, shape, 4)], null);
        shape[0] = 99;
        Assert.That(layout.Tensors[0].Shape, Is.EqualTo(new long[] { 4 }));
    }

    [Test]
    public void Write_WrongPayloadLength_IsInvalidTensorView()
    {
        SafeTensorsLayout layout = SafeTensorsFormat.CreateLayout([new SafeTensorsLayoutInput("attn.0", DType.F4, [1, 2], 1)], null);
        using var ms = new MemoryStream();
        var ex = Assert.Throws<Z4AiFormatException>(() => SafeTensorsWriter.Write(ms, layout, _ => new byte[2]))!;
        Assert.That((ex.Kind, ex.TensorName), Is.EqualTo((Z4AiErrorKind.InvalidTensorView, "attn.0")));
    }

    [Test]
    public async Task WriteAsync_SameInput_WritesTheSameBytesAsWrite()
    {
        SafeTensorsLayout layout = SafeTensorsFormat.CreateLayout(
            [new SafeTensorsLayoutInput("a", DType.U8, [3], 3), new SafeTensorsLayoutInput("b", DType.F16, [2], 4)],
            new Dictionary<string, string> { ["format"] = "pt" });
        var data = new Dictionary<string, byte[]> { ["a"] = [1, 2, 3], ["b"] = [4, 5, 6, 7] };
        using var sync = new MemoryStream();
        SafeTensorsWriter.Write(sync, layout, e => data[e.Name]);
        using var async = new MemoryStream();
        await SafeTensorsWriter.WriteAsync(async, layout, e => data[e.Name]);
        Assert.That(async.ToArray(), Is.EqualTo(sync.ToArray()));
        Assert.That(sync.ToArray().AsSpan((int)layout.TotalLength - 7).ToArray(), Is.EqualTo(new byte[] { 4, 5, 6, 7, 1, 2, 3 }));

        using var cancelled = new MemoryStream();
        Assert.ThrowsAsync<TaskCanceledException>(async () =>
            await SafeTensorsWriter.WriteAsync(cancelled, layout, e => data[e.Name], new CancellationToken(canceled: true)));
    }
}
