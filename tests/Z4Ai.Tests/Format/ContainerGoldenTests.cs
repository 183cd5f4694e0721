using NUnit.Framework;
using Z4Ai.Format;

namespace Z4Ai.Tests.Format;

/// <summary>
/// Pins the container byte layout (docs/format.md) so it cannot drift silently. If this fails, the format changed:
/// bump the version and update the spec; never just paste the new bytes in.
/// </summary>
public class ContainerGoldenTests
{
    // Every field, in file order, as docs/format.md lays it out.
    private static readonly string[] Expected =
    [
        // file header: "Z4AI", version 1, flags 0
        "5A344149", "0100", "0000",
        // data @8: tensor "a" = one Stored frame: codec 0, varint raw length 8, the 8 raw bytes
        "00", "08", "0100000002000000",
        // index @18: u32 chunk size 4096, varint tensor count 3
        "00100000", "03",
        // entry 0 "a": name, dtype I32 (15), rank 1, dim 2, raw length 8, SHA-256, kind 0 (chunks), 1 chunk
        "0161", "0F", "01", "02", "08", "34fb5c825de7ca4aea6e712f19d439c1da0c92c37b423936c5f618545ca4fa1f", "00", "01",
        //   chunk: varint offset 8, varint stored 10, varint raw 8, codec 0, u64 XxHash3 of the 10 frame bytes
        "08", "0A", "08", "00", "E4962D867EE8B02F",
        // entry 1 "b": same dtype, shape and bytes as "a": kind 1 (duplicate) of entry 0
        "0162", "0F", "01", "02", "08", "34fb5c825de7ca4aea6e712f19d439c1da0c92c37b423936c5f618545ca4fa1f", "01", "00",
        // entry 2 "c": U8 (4), rank 1, dim 0, raw length 0, SHA-256 of nothing, kind 0, 0 chunks
        "0163", "04", "01", "00", "00", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "00", "00",
        // original header present: varint length 16, then the safetensors bytes (N = 8, "{}" and 6 spaces)
        "01", "10", "0800000000000000", "7B7D202020202020",
        // metadata present: 1 pair, "k" -> "v"
        "01", "01", "016B", "0176",
        // footer @179: "Z4AI", version 1, flags 0, u64 index offset 18, u64 index length, u64 index checksum, u64 footer checksum
        "5A344149", "0100", "0000", "1200000000000000", "A100000000000000", "ED9FCD3CFDFBE1D1", "F6916CD079507784",
    ];

    [Test]
    public void Write_FixedTinyInputs_ProducesTheSpecifiedBytes()
    {
        byte[] a = [1, 0, 0, 0, 2, 0, 0, 0];
        using var output = new MemoryStream();
        using (var writer = new ContainerWriter(output, ContainerKit.Options(4096, maxDop: 1, CompressionEffort.Default)))
        {
            writer.WriteTensor("a", DType.I32, [2], a);
            writer.WriteTensor("b", DType.I32, [2], a);
            writer.WriteTensor("c", DType.U8, [0], []);
            writer.Complete(ContainerKit.FakeSafeTensorsHeader(8), new Dictionary<string, string> { ["k"] = "v" });
        }

        string expected = string.Concat(Expected);
        Assert.That(Convert.ToHexString(output.ToArray()), Is.EqualTo(expected.ToUpperInvariant()));
        using ContainerReader reader = ContainerKit.Open(output.ToArray());
        Assert.That(reader.Tensors.Select(t => t.DuplicateOf), Is.EqualTo(new int?[] { null, 0, null }));
        Assert.That(reader.ReadTensor(reader.Tensors[1]), Is.EqualTo(a));
    }

    [Test]
    public void Checksum_EmptyInput_IsTheXxHash3ReferenceValue() =>
        // XXH3_64bits("") with seed 0, from the xxHash reference: pins the checksum algorithm itself.
        Assert.That(ContainerFormat.Checksum([]), Is.EqualTo(0x2D06800538D394C2UL));
}
