using NUnit.Framework;
using Z4Ai.Delta;
using Z4Ai.Integrity;

namespace Z4Ai.Tests.Delta;

/// <summary>Damaged and forged deltas: only Z4Ai exceptions escape, and no wrong bytes are ever returned.</summary>
public class DeltaHostileTests
{
    private static readonly byte[] Reference = DeltaTestData.GaussianBf16(320, 0.02f, seed: 21);

    private static readonly byte[] Current = MakeCurrent();

    private static readonly byte[] Sample =
        DeltaCodec.Compress(Current, Reference, DType.BF16, new DeltaOptions { ChunkSize = 64 });

    private static byte[] MakeCurrent()
    {
        // 10 chunks of 64 bytes and a short tail: some identical, some stepped, some past the reference's end.
        byte[] stepped = DeltaTestData.StepBf16(Reference, 0.1, seed: 22);
        byte[] current = new byte[700];
        stepped.CopyTo(current, 0);
        Reference.AsSpan(0, 64).CopyTo(current);
        Reference.AsSpan(192, 64).CopyTo(current.AsSpan(192));
        DeltaTestData.GaussianBf16(30, 0.02f, seed: 23).AsSpan(0, 60).CopyTo(current.AsSpan(640));
        return current;
    }

    private static void AssertOnlyZ4AiOrExact(byte[] delta, string what)
    {
        try
        {
            byte[] result = DeltaCodec.Decompress(delta, Reference);
            Assert.That(result, Is.EqualTo(Current), $"{what}: a damaged delta decoded to wrong bytes");
        }
        catch (Z4AiException)
        {
        }

        try
        {
            DeltaCodec.Inspect(delta);
        }
        catch (Z4AiException)
        {
        }
    }

    [Test]
    public void Sample_CoversEveryModeThatCompressesAndRoundTrips()
    {
        DeltaInfo info = DeltaCodec.Inspect(Sample);
        Assert.That(info.CountChunks(DeltaChunkMode.Copy), Is.GreaterThanOrEqualTo(2));
        Assert.That(info.CountChunks(DeltaChunkMode.Scratch), Is.GreaterThanOrEqualTo(1));
        Assert.That(info.CountChunks(DeltaChunkMode.Sparse), Is.GreaterThanOrEqualTo(1));
        Assert.That(
            info.CountChunks(DeltaChunkMode.Xor) + info.CountChunks(DeltaChunkMode.Subtract) + info.CountChunks(DeltaChunkMode.Sparse),
            Is.GreaterThanOrEqualTo(3));
        Assert.That(DeltaCodec.Decompress(Sample, Reference), Is.EqualTo(Current));
    }

    [Test]
    public void Decompress_EveryTruncation_ThrowsZ4AiException()
    {
        for (int length = 0; length < Sample.Length; length++)
        {
            byte[] truncated = Sample[..length];
            Assert.That(() => DeltaCodec.Decompress(truncated, Reference), Throws.InstanceOf<Z4AiException>(), $"length {length}");
            Assert.That(() => DeltaCodec.Inspect(truncated), Throws.InstanceOf<Z4AiException>(), $"length {length}");
        }
    }

    [Test]
    public void Decompress_EverySingleBitFlip_ThrowsZ4AiExceptionOrRebuildsExactly()
    {
        for (int bit = 0; bit < Sample.Length * 8; bit++)
        {
            byte[] damaged = (byte[])Sample.Clone();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            AssertOnlyZ4AiOrExact(damaged, $"bit {bit}");
        }
    }

    [Test]
    public void Decompress_RandomByteDamage_ThrowsZ4AiExceptionOrRebuildsExactly()
    {
        var random = new Random(1234);
        for (int trial = 0; trial < 400; trial++)
        {
            byte[] damaged = (byte[])Sample.Clone();
            int count = random.Next(1, 6);
            for (int k = 0; k < count; k++)
            {
                damaged[random.Next(damaged.Length)] = (byte)random.Next(256);
            }

            AssertOnlyZ4AiOrExact(damaged, $"trial {trial}");
        }
    }

    [Test]
    public void Decompress_WrongTargetDigest_ThrowsIntegrityExceptionAndClearsDestination()
    {
        byte[] damaged = (byte[])Sample.Clone();
        int targetDigestAt = DeltaCodec.Inspect(Sample).HeaderLength - Sha256Digest.Size;
        damaged[targetDigestAt + 3] ^= 0x01;
        var ex = Assert.Throws<Z4AiIntegrityException>(() => DeltaCodec.Decompress(damaged, Reference));
        Assert.That(ex!.ExpectedDigest, Is.EqualTo(DeltaCodec.Inspect(damaged).TargetSha256));
        Assert.That(ex.ActualDigest, Is.EqualTo(DeltaCodec.Inspect(Sample).TargetSha256));

        byte[] destination = new byte[Current.Length];
        Assert.That(() => DeltaCodec.TryDecompress(damaged, Reference, destination, out _), Throws.InstanceOf<Z4AiIntegrityException>());
        Assert.That(destination, Is.All.EqualTo(0));
    }

    private static byte[] Header(DType dtype, int chunkSize, byte[] reference, long targetLength, byte version = 1)
    {
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        new DeltaHeader(dtype, chunkSize, reference.Length, Sha256Digest.Compute(reference), targetLength, Sha256Digest.Compute([])).Write(writer);
        byte[] header = writer.WrittenSpan.ToArray();
        header[4] = version;
        return header;
    }

    private static Z4AiErrorKind KindOf(byte[] delta, byte[] reference)
    {
        var ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.Decompress(delta, reference));
        return ex!.Kind;
    }

    [Test]
    public void Decompress_BadMagicVersionDTypeOrChunkSize_ThrowsWithKind()
    {
        byte[] good = Header(DType.BF16, 64, [], 0);
        Assert.That(DeltaCodec.Decompress(good, []), Is.Empty);

        byte[] magic = (byte[])good.Clone();
        magic[0] = (byte)'X';
        Assert.That(KindOf(magic, []), Is.EqualTo(Z4AiErrorKind.InvalidContainer));
        Assert.That(KindOf([], []), Is.EqualTo(Z4AiErrorKind.InvalidContainer));
        Assert.That(KindOf(Header(DType.BF16, 64, [], 0, version: 2), []), Is.EqualTo(Z4AiErrorKind.UnsupportedVersion));
        Assert.That(KindOf(Header(DType.BF16, 64, [], 0, version: 0), []), Is.EqualTo(Z4AiErrorKind.UnsupportedVersion));
        Assert.That(KindOf(Header((DType)DTypeInfo.Count, 64, [], 0), []), Is.EqualTo(Z4AiErrorKind.InvalidContainer));
        foreach (int chunk in new[] { 0, 8, 56, 65, 100, DeltaOptions.MaxChunkSize + 8, int.MaxValue })
        {
            Assert.That(KindOf(Header(DType.BF16, chunk, [], 0), []), Is.EqualTo(Z4AiErrorKind.InvalidContainer), $"chunk {chunk}");
        }
    }

    [Test]
    public void Decompress_HugeDeclaredTargetWithFewBytes_ThrowsBeforeAllocating()
    {
        byte[] delta = [.. Header(DType.BF16, 64, [], 1L << 40), 3, 2, 0, 0];
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.Decompress(delta, []));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.CorruptFrame));
        Assert.That(() => DeltaCodec.Inspect(delta), Throws.InstanceOf<Z4AiFormatException>());
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.LessThan(1 << 20));
        Assert.That(DeltaCodec.GetDecompressedLength(delta), Is.EqualTo(1L << 40));
    }

    [Test]
    public void Decompress_TargetBeyondLargestArray_ThrowsLimitExceededBeforeAllocating()
    {
        // 9 chunks of 2^28 bytes, each claiming a zstd frame of the right raw length with no payload: the entries are
        // well-formed, so only the size limit stops the allocation.
        byte[] entry = [3, 6, 1, 0x80, 0x80, 0x80, 0x80, 0x01];
        byte[] delta = [.. Header(DType.U8, DeltaOptions.MaxChunkSize, [], 9L << 28), .. Enumerable.Repeat(entry, 9).SelectMany(e => e)];
        Assert.That(DeltaCodec.Inspect(delta).Chunks, Has.Count.EqualTo(9));
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.That(KindOf(delta, []), Is.EqualTo(Z4AiErrorKind.LimitExceeded));
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.LessThan(1 << 20));
        Assert.That(DeltaCodec.TryDecompress(delta, [], new byte[16], out _), Is.False);
    }

    [Test]
    public void Decompress_ForgedChunkEntries_ThrowCorruptFrame()
    {
        byte[] reference = new byte[64];
        byte[] Entry(DType dtype, long target, params byte[] entries) => [.. Header(dtype, 64, reference, target), .. entries];

        // Copy past the reference's end.
        Assert.That(KindOf(Entry(DType.BF16, 128, 0, 0), reference), Is.EqualTo(Z4AiErrorKind.CorruptFrame));
        // Xor and Subtract with no reference bytes to work against.
        Assert.That(KindOf(Entry(DType.BF16, 128, 0, 1, 66, 0, 64), reference), Is.EqualTo(Z4AiErrorKind.CorruptFrame));
        // Subtract on a dtype without lanes.
        Assert.That(KindOf(Entry(DType.BOOL, 2, 2, 4, 0, 2, 0, 0), reference), Is.EqualTo(Z4AiErrorKind.CorruptFrame));
        // Unknown mode.
        Assert.That(KindOf(Entry(DType.BF16, 2, 4, 4, 0, 2, 0, 0), reference), Is.EqualTo(Z4AiErrorKind.CorruptFrame));
        // Frame declaring a different raw length than the chunk.
        Assert.That(KindOf(Entry(DType.BF16, 2, 3, 5, 0, 3, 0, 0, 0), reference), Is.EqualTo(Z4AiErrorKind.CorruptFrame));
        // Frame length running past the end.
        Assert.That(KindOf(Entry(DType.BF16, 2, 3, 9, 0, 2, 0, 0), reference), Is.EqualTo(Z4AiErrorKind.CorruptFrame));
        // Unknown codec id inside the frame.
        Assert.That(KindOf(Entry(DType.BF16, 2, 3, 4, 99, 2, 0, 0), reference), Is.EqualTo(Z4AiErrorKind.CorruptFrame));
        // Bytes after the last chunk.
        Assert.That(KindOf(Entry(DType.BF16, 2, 3, 4, 0, 2, 0, 0, 7), reference), Is.EqualTo(Z4AiErrorKind.CorruptFrame));
        // The well-formed version of the same delta is accepted up to the digest check.
        Assert.That(() => DeltaCodec.Decompress(Entry(DType.BF16, 2, 3, 4, 0, 2, 0, 0), reference), Throws.InstanceOf<Z4AiIntegrityException>());
    }
}
