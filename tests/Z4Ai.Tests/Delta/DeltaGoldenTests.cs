using NUnit.Framework;

namespace Z4Ai.Tests.Delta;

/// <summary>
/// Literal delta frames, so the format cannot drift: old deltas must keep decoding to the same bytes, and the encoder
/// must keep writing the same header and entries. Never regenerate these to make a failing test pass.
/// </summary>
public class DeltaGoldenTests
{
    // BF16, chunk size 64, reference 200 bytes, target 266 bytes, hand-assembled with every mode:
    // chunk 0 Copy; chunk 1 Xor; chunk 2 Subtract; chunk 3 Subtract over the 8 bytes the reference still covers
    // (the other 56 kept as they are); chunk 4 (10 bytes past the reference) Scratch. Every frame is a stored
    // tensor-codec frame (00, raw length, bytes), so this vector depends on no compressor.
    private const string EveryModeHex =
        "5a344144010e40c8012c7e18c942ef065b526a2d4e5546283749cd3ddfb51d8fc71f42717363685f468a029c8ccc47a591425d2dfb"
        + "478daaa8021c9cef3a2ec65b712b91d7472300ae4fd900014200400001000000000300000000010000000007000000000100000000"
        + "030000000001000000007f00000000010000000003000000000100000000070000000001000002420040000001000000ff01000000"
        + "0001000000ff01000000000200000000020000000002000000ff010000000001000000ff0100000000010000000002000000000200"
        + "0242004000000002000000002835424f5c697683909daab7c4d1deebf805121f2c394653606d7a8794a1aebbc8d5e2effc09162330"
        + "3d4a5764717e8b98a5b2bfccd9e6f3030c000a000d1a2734414e5b6875";

    // F32, chunk size 64: current = the reference's first 128 bytes then 10 new bytes; reference 160 bytes.
    // Expected entries: Copy, Copy, Scratch (a stored 10-byte frame: every candidate ties and Scratch wins ties).
    private const string EncoderHex =
        "5a344144011140a00153733181e26ade19fde95d5dfbbab11b3ae6b03fa8886352fba69bd929a319328a0103f15cec6be008e5014626"
        + "e7b2acb7329ffc3774dd805ad0f97e52bd825088490000030c000a000d1a2734414e5b6875";

    private static byte[] Reference()
    {
        byte[] reference = new byte[200];
        for (int i = 0; i < reference.Length; i++)
        {
            reference[i] = (byte)((i * 7) + 3);
        }

        return reference;
    }

    private static byte[] Target()
    {
        byte[] reference = Reference();
        byte[] target = new byte[266];
        for (int i = 0; i < target.Length; i++)
        {
            target[i] = i < 64 ? reference[i] : i < 200 ? (byte)(reference[i] + (i % 5 == 0 ? 1 : 0)) : (byte)(i * 13);
        }

        return target;
    }

    [Test]
    public void Decompress_GoldenFrameWithEveryMode_RebuildsTheTarget() =>
        Assert.That(DeltaCodec.Decompress(Convert.FromHexString(EveryModeHex), Reference()), Is.EqualTo(Target()));

    [Test]
    public void Inspect_GoldenFrameWithEveryMode_ReportsHeaderAndChunks()
    {
        DeltaInfo info = DeltaCodec.Inspect(Convert.FromHexString(EveryModeHex));
        Assert.That(info.FormatVersion, Is.EqualTo(1));
        Assert.That(info.DType, Is.EqualTo(DType.BF16));
        Assert.That(info.ChunkSize, Is.EqualTo(64));
        Assert.That(info.ReferenceLength, Is.EqualTo(200));
        Assert.That(info.TargetLength, Is.EqualTo(266));
        Assert.That(info.ReferenceSha256, Is.EqualTo(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Reference()))));
        Assert.That(info.TargetSha256, Is.EqualTo(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Target()))));
        Assert.That(info.HeaderLength, Is.EqualTo(4 + 1 + 1 + 1 + 2 + 32 + 2 + 32));
        Assert.That(info.Chunks.Select(c => c.Mode), Is.EqualTo(new[]
        {
            DeltaChunkMode.Copy, DeltaChunkMode.Xor, DeltaChunkMode.Subtract, DeltaChunkMode.Subtract, DeltaChunkMode.Scratch,
        }));
        Assert.That(info.Chunks.Select(c => c.StoredLength), Is.EqualTo(new[] { 0, 66, 66, 66, 12 }));
        Assert.That(info.Chunks.Select(c => c.Length), Is.EqualTo(new[] { 64, 64, 64, 64, 10 }));
    }

    [Test]
    public void Compress_CopyAndScratchChunks_WritesGoldenBytes()
    {
        byte[] reference = Reference();
        byte[] current = [.. reference.AsSpan(0, 128), .. Target().AsSpan(256, 10)];
        byte[] delta = DeltaCodec.Compress(current, reference.AsSpan(0, 160), DType.F32, new DeltaOptions { ChunkSize = 64 });
        Assert.That(Convert.ToHexStringLower(delta), Is.EqualTo(EncoderHex));
    }
}
