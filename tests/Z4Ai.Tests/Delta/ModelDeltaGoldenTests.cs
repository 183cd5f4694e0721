using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;
using NUnit.Framework;

namespace Z4Ai.Tests.Delta;

/// <summary>
/// A model-delta file assembled byte by byte from docs/delta-format.md section 2 (not by the writer): the reader
/// must accept it and restore the target. If this fails, the format changed and the document, the version and this
/// test must change together.
/// </summary>
[NonParallelizable]
public class ModelDeltaGoldenTests
{
    private static readonly byte[] W = [1, 2, 3, 4];
    private static readonly byte[] X = [9, 8, 7];

    [TestCase(false, TestName = "HandBuiltFile_FollowingTheSpec_RestoresAndInspects")]
    [TestCase(true, TestName = "HandBuiltFile_PackedIndexInRawZstdFrame_RestoresAndInspects")]
    public void HandBuiltFile(bool packed)
    {
        string dir = Path.Combine(Path.GetTempPath(), "z4ai-modeldelta-golden-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string basePath = Path.Combine(dir, "base.safetensors");
            File.WriteAllBytes(basePath, SafeTensors("{\"w\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}", W));
            byte[] targetHeader = Header("{\"w\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},\"x\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[4,7]}}");
            byte[] target = [.. targetHeader, .. W, .. X];

            var file = new List<byte>();
            file.AddRange("Z4AM"u8.ToArray());
            file.AddRange([1, 0, 0, 0]); // version 1, flags 0

            // Data section: tensor x stored on its own, one frames segment: varint frame length, then a Stored
            // codec frame (id 0, varint raw length, the bytes).
            byte[] segment = [5, 0, 3, .. X];
            file.AddRange(segment);

            var index = new List<byte>();
            index.AddRange(U32(64)); // chunk size
            index.AddRange(U32(64)); // frame size
            index.AddRange(U32(64)); // segment size
            index.AddRange(ModelIdentity([("w", W)])); // base model
            index.Add(1); // base tensor count
            index.AddRange(ModelIdentity([("w", W), ("x", X)])); // target model
            index.Add(0); // header origin: the target's own
            index.AddRange(Varint(2 + targetHeader.Length)); // header frame length
            index.Add(0); // Stored codec
            index.AddRange(Varint(targetHeader.Length));
            index.AddRange(targetHeader);
            index.Add(2); // tensor count
            index.AddRange(Tensor("w", W)); // target tensor w ...
            index.Add(2); // ... a copy of ...
            index.AddRange(Tensor("w", W)); // ... base tensor w
            index.AddRange(Tensor("x", X));
            index.Add(0); // scratch
            index.Add(1); // one segment
            index.Add(0); // kind: frames
            index.Add(8); // offset
            index.Add((byte)segment.Length);
            index.AddRange(U64(XxHash3.HashToUInt64(segment)));

            if (packed)
            {
                // Section 2.3a: method 1 (Zstandard), varint unpacked length, then a Zstandard frame (RFC 8878)
                // holding the plain index in one raw block: magic, frame header descriptor 0x60 (single segment,
                // 2-byte content size stored minus 256), the size, a block header (last, raw, its size), the bytes.
                Assert.That(index.Count, Is.InRange(256, 65_791));
                byte[] plain = index.ToArray();
                uint block = ((uint)plain.Length << 3) | 1;
                index.Clear();
                index.Add(1);
                index.AddRange(Varint(plain.Length));
                index.AddRange([0x28, 0xB5, 0x2F, 0xFD, 0x60]);
                index.AddRange([(byte)(plain.Length - 256), (byte)((plain.Length - 256) >> 8)]);
                index.AddRange([(byte)block, (byte)(block >> 8), (byte)(block >> 16)]);
                index.AddRange(plain);
            }

            long indexOffset = file.Count;
            file.AddRange(index);
            byte flags = packed ? (byte)1 : (byte)0; // footer flag bit 0: the index is packed
            byte[] footer = [.. "Z4AM"u8.ToArray(), 1, 0, flags, 0, .. U64((ulong)indexOffset), .. U64((ulong)index.Count), .. U64(XxHash3.HashToUInt64(index.ToArray()))];
            file.AddRange(footer);
            file.AddRange(U64(XxHash3.HashToUInt64(footer)));

            string delta = Path.Combine(dir, "golden.z4delta");
            File.WriteAllBytes(delta, file.ToArray());
            string restored = Path.Combine(dir, "restored.safetensors");
            DeltaCodec.DecompressFile(delta, basePath, restored);
            Assert.That(File.ReadAllBytes(restored), Is.EqualTo(target));

            ModelDeltaInfo info = DeltaCodec.InspectFile(delta);
            Assert.That(info.Tensors.Select(t => (t.Name, t.Mode, t.StoredBytes, t.BaseTensor)), Is.EqualTo(new[]
            {
                ("w", ModelDeltaTensorMode.Copy, 0L, (string?)"w"),
                ("x", ModelDeltaTensorMode.Scratch, (long)segment.Length, (string?)null),
            }));
            Assert.That(info.BaseModelSha256, Is.EqualTo(Convert.ToHexStringLower(ModelIdentity([("w", W)]))));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static byte[] Header(string json)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(json);
        return [.. U64((ulong)bytes.Length), .. bytes];
    }

    private static byte[] SafeTensors(string json, byte[] data) => [.. Header(json), .. data];

    // A tensor record: string name, u8 dtype (U8 = 4), varint rank, varint dims, varint length, SHA-256.
    private static byte[] Tensor(string name, byte[] data) =>
        [(byte)name.Length, .. Encoding.UTF8.GetBytes(name), 4, 1, (byte)data.Length, (byte)data.Length, .. SHA256.HashData(data)];

    // Section 2.5: SHA-256 of the tensor count, then each tensor (sorted by name) as in the index, rank 1 U8.
    private static byte[] ModelIdentity((string Name, byte[] Data)[] tensors)
    {
        var bytes = new List<byte> { (byte)tensors.Length };
        foreach ((string name, byte[] data) in tensors.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            bytes.AddRange(Tensor(name, data));
        }

        return SHA256.HashData(bytes.ToArray());
    }

    private static byte[] U32(uint value)
    {
        byte[] b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        return b;
    }

    private static byte[] U64(ulong value)
    {
        byte[] b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        return b;
    }

    private static byte[] Varint(int value)
    {
        var bytes = new List<byte>();
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        bytes.Add((byte)value);
        return bytes.ToArray();
    }
}
