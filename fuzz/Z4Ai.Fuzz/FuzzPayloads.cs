using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Z4Ai.Fuzz;

/// <summary>
/// The denial-of-service payloads kept under tests/Z4Ai.Tests/TestData/hostile/: small files that declare huge sizes,
/// huge counts or overlapping ranges. Each must be refused with a Z4AiException before anything large is allocated.
/// Written by <c>Z4Ai.Fuzz dos DIR</c>; the files are committed, this is how they were made. Each name starts with the
/// <see cref="Z4AiErrorKind"/> its reader must raise.
/// </summary>
internal static class FuzzPayloads
{
    public static void Write(string dir)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "InvalidOffset_DoSOverlappingTensors4096OnOneRange.safetensors"), OverlappingTensors(4096));
        File.WriteAllBytes(Path.Combine(dir, "ValidationOverflow_DoSShapeBytesF32FourDims2pow20.safetensors"), SafeTensors(
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[1048576,1048576,1048576,1048576],\"data_offsets\":[0,4]}}", 4));
        File.WriteAllBytes(Path.Combine(dir, "InvalidContainer_DoSIndexDeclares2pow40Tensors.z4ai"), ContainerWithIndex(Index(1L << 40)));
        File.WriteAllBytes(Path.Combine(dir, "LimitExceeded_DoSIndexLengthAbove1GiB.z4ai"), ContainerFooterOnly(indexLength: (1L << 30) + 1));
        File.WriteAllBytes(Path.Combine(dir, "CorruptFrame_DoSDeclares2pow62Bytes.frame"), CodecFrame(1L << 62, rank: 0));
        File.WriteAllBytes(Path.Combine(dir, "CorruptFrame_DoSShapeOverflows.frame"), CodecFrame(16, rank: 4));
        File.WriteAllBytes(Path.Combine(dir, "CorruptFrame_DoSTargetLength2pow62.delta"), DeltaFrame(1L << 62));
    }

    /// <summary>A valid-looking safetensors header whose tensors all claim the same four data bytes.</summary>
    public static byte[] OverlappingTensors(int count)
    {
        var json = new StringBuilder("{");
        for (int i = 0; i < count; i++)
        {
            json.Append(i == 0 ? "" : ",").Append("\"t").Append(i.ToString("x", System.Globalization.CultureInfo.InvariantCulture))
                .Append("\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}");
        }

        return SafeTensors(json.Append('}').ToString(), 4);
    }

    private static byte[] SafeTensors(string header, int dataBytes)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        byte[] file = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)json.Length);
        json.CopyTo(file, 8);
        return file;
    }

    private static byte[] Index(long tensorCount)
    {
        var index = new List<byte>();
        index.AddRange(BitConverter.GetBytes(4096u));
        Varint(index, (ulong)tensorCount);
        index.AddRange(new byte[64]);
        return [.. index];
    }

    private static byte[] ContainerWithIndex(byte[] index)
    {
        var file = new List<byte>(Header());
        long offset = file.Count;
        file.AddRange(index);
        file.AddRange(Footer(offset, index.Length, XxHash3.HashToUInt64(index)));
        return [.. file];
    }

    private static byte[] ContainerFooterOnly(long indexLength)
    {
        var file = new List<byte>(Header());
        file.AddRange(Footer(8, indexLength, 0));
        return [.. file];
    }

    private static byte[] Header() => [(byte)'Z', (byte)'4', (byte)'A', (byte)'I', 1, 0, 0, 0];

    private static byte[] Footer(long indexOffset, long indexLength, ulong indexChecksum)
    {
        byte[] footer = new byte[40];
        Header().CopyTo(footer, 0);
        BinaryPrimitives.WriteInt64LittleEndian(footer.AsSpan(8), indexOffset);
        BinaryPrimitives.WriteInt64LittleEndian(footer.AsSpan(16), indexLength);
        BinaryPrimitives.WriteUInt64LittleEndian(footer.AsSpan(24), indexChecksum);
        BinaryPrimitives.WriteUInt64LittleEndian(footer.AsSpan(32), XxHash3.HashToUInt64(footer.AsSpan(0, 32)));
        return footer;
    }

    private static byte[] CodecFrame(long rawLength, int rank)
    {
        var frame = new List<byte> { (byte)'Z', (byte)'4', (byte)'A', (byte)'F', 1, (byte)(rank > 0 ? 1 : 0), (byte)DType.F32 };
        Varint(frame, (ulong)rawLength);
        Varint(frame, 4096);
        if (rank > 0)
        {
            Varint(frame, (ulong)rank);
            for (int i = 0; i < rank; i++)
            {
                Varint(frame, 1UL << 20);
            }
        }

        frame.AddRange([5, 0, 16, 0, 0, 0, 0]);
        frame.AddRange(new byte[32]);
        return [.. frame];
    }

    private static byte[] DeltaFrame(long targetLength)
    {
        var delta = new List<byte> { (byte)'Z', (byte)'4', (byte)'A', (byte)'D', 1, (byte)DType.BF16 };
        Varint(delta, 64);
        Varint(delta, (ulong)FuzzModels.DeltaReference.Length);
        delta.AddRange(System.Security.Cryptography.SHA256.HashData(FuzzModels.DeltaReference));
        Varint(delta, (ulong)targetLength);
        delta.AddRange(new byte[32]);
        delta.AddRange([0, 0, 0, 0]);
        return [.. delta];
    }

    private static void Varint(List<byte> output, ulong value)
    {
        while (value >= 0x80)
        {
            output.Add((byte)(value | 0x80));
            value >>= 7;
        }

        output.Add((byte)value);
    }
}
