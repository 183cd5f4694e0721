using System.Security.Cryptography;
using NUnit.Framework;
using Z4Ai.Format;

namespace Z4Ai.Tests.Format;

public class ContainerReaderTests
{
    private static readonly byte[] Raw = [1, 2, 3, 4];
    private static readonly byte[] Frame = [0, 4, 1, 2, 3, 4];

    [Test]
    public void ReadTensor_OneTensorOfALargeContainer_ReadsUnderTwoPercentOfTheFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"z4ai-{Guid.NewGuid():N}.z4ai");
        try
        {
            var rng = new Random(1);
            byte[] block = new byte[1 << 20];
            byte[]? target = null;
            using (FileStream file = File.Create(path))
            using (var writer = new ContainerWriter(file, new ContainerWriterOptions { Effort = CompressionEffort.Fast, MaxDegreeOfParallelism = 2 }))
            {
                for (int i = 0; i < 64; i++)
                {
                    // Random bytes do not compress, so the container stays about 64 MiB.
                    rng.NextBytes(block);
                    writer.WriteTensor($"block.{i}", DType.U8, [block.Length], block);
                    if (i == 37)
                    {
                        target = (byte[])block.Clone();
                    }
                }

                writer.Complete(null, null);
            }

            using ContainerReader reader = ContainerReader.Open(path);
            Assert.That(reader.FileLength, Is.GreaterThan(64L << 20));
            Assert.That(reader.TryGetTensor("block.37", out ContainerEntry? entry), Is.True);
            Assert.That(reader.ReadTensor(entry!), Is.EqualTo(target));
            Assert.That(reader.BytesRead, Is.LessThan(reader.FileLength / 50));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void ReadRange_EveryAlignmentAroundChunkEdges_MatchesTheTensor()
    {
        byte[] data = ContainerKit.Smooth(new Random(2), (4096 * 3) + 100);
        byte[] file = ContainerKit.Write([new("t", DType.U8, [data.Length], data)], ContainerKit.Options(4096), null, null).File;
        using ContainerReader reader = ContainerKit.Open(file);
        ContainerEntry entry = reader.Tensors[0];
        int[] points = [0, 1, 4095, 4096, 4097, 8191, 8192, 12287, 12288, 12289, data.Length - 1, data.Length];
        foreach (int from in points)
        {
            foreach (int to in points.Where(p => p >= from))
            {
                byte[] part = new byte[to - from];
                reader.ReadRange(entry, from, part);
                Assert.That(part, Is.EqualTo(data[from..to]), $"[{from}, {to})");
            }
        }

        Assert.That(() => reader.ReadRange(entry, -1, new byte[1]), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => reader.ReadRange(entry, data.Length - 1, new byte[2]), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void ReadTensor_DestinationOfTheWrongLength_ThrowsArgumentException()
    {
        using ContainerReader reader = ContainerKit.Open(HandBuilt(Raw));
        Assert.That(() => reader.ReadTensor(reader.Tensors[0], new byte[3]), Throws.ArgumentException);
        Assert.That(() => reader.ReadTensor(reader.Tensors[0], new byte[5]), Throws.ArgumentException);
    }

    [Test]
    public void ReadTensor_EntryOfAnotherReader_ThrowsArgumentException()
    {
        using ContainerReader first = ContainerKit.Open(HandBuilt(Raw));
        using ContainerReader second = ContainerKit.Open(HandBuilt(Raw));
        Assert.That(() => second.ReadTensor(first.Tensors[0]), Throws.ArgumentException);
    }

    [Test]
    public void ReadTensor_BytesNotMatchingTheDigest_ThrowsIntegrityExceptionNamingBoth()
    {
        // A consistent container whose recorded SHA-256 is of other bytes: every checksum passes, the digest does not.
        byte[] claimed = [9, 9, 9, 9];
        using ContainerReader reader = ContainerKit.Open(HandBuilt(claimed));
        ContainerEntry entry = reader.Tensors[0];
        var ex = Assert.Throws<Z4AiIntegrityException>(() => reader.ReadTensor(entry));
        Assert.That(ex!.Subject, Is.EqualTo("t"));
        Assert.That(ex.ExpectedDigest, Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(claimed))));
        Assert.That(ex.ActualDigest, Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(Raw))));
        Assert.That(ex.Message, Does.Contain(ex.ExpectedDigest).And.Contain(ex.ActualDigest));

        using var copy = new MemoryStream();
        Assert.Throws<Z4AiIntegrityException>(() => reader.CopyTensorTo(entry, copy));
        Assert.That(copy.Length, Is.EqualTo(4), "the digest is only known once every byte was written");
        Assert.That(reader.Verify(), Is.EqualTo(new[] { "t" }));
    }

    [Test]
    public void ReadTensor_ChunkBytesFlipped_ThrowsFormatExceptionNamingTensorAndOffset()
    {
        byte[] data = ContainerKit.Smooth(new Random(4), 20_000);
        byte[] file = ContainerKit.Write([new("w", DType.BF16, [10_000], data)], ContainerKit.Options(4096), null, null).File;
        using (ContainerReader clean = ContainerKit.Open(file))
        {
            ContainerChunk third = clean.Tensors[0].Chunks[2];
            file[third.Offset + (third.StoredLength / 2)] ^= 0x40;
        }

        using ContainerReader reader = ContainerReader.Open(new MemoryStream(file), displayName: "m.z4ai");
        var ex = Assert.Throws<Z4AiFormatException>(() => reader.ReadTensor(reader.Tensors[0]));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.CorruptFrame));
        Assert.That(ex.TensorName, Is.EqualTo("w"));
        Assert.That(ex.FilePath, Is.EqualTo("m.z4ai"));
        Assert.That(ex.Offset, Is.EqualTo(reader.Tensors[0].Chunks[2].Offset));
        Assert.That(reader.Verify(), Is.EqualTo(new[] { "w" }));

        // The chunks before the damage are still readable on their own.
        byte[] head = new byte[8192];
        reader.ReadRange(reader.Tensors[0], 0, head);
        Assert.That(head, Is.EqualTo(data[..8192]));
    }

    [Test]
    public void ReadTensor_TensorLargerThanAnArray_ThrowsLimitExceededBeforeDecoding()
    {
        // 32 chunks of 64 MiB that all point at one 1-byte "frame": a 2 GiB tensor described by a tiny file.
        const int chunk = 64 << 20;
        byte[] frame = [0];
        var index = new IndexBuilder().U32(chunk).Var(1).Entry("huge", DType.U8, [32L * chunk], 32L * chunk, Raw).U8(0).Var(32);
        for (int i = 0; i < 32; i++)
        {
            index.Chunk(8, frame, chunk);
        }

        using ContainerReader reader = ContainerKit.Open(ContainerKit.Assemble(frame, index.U8(0).U8(0).ToArray()));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<Z4AiFormatException>(() => reader.ReadTensor(reader.Tensors[0]));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.LimitExceeded));
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.LessThan(1 << 20));
        Assert.That(reader.Tensors[0].StoredLength, Is.EqualTo(1), "a frame shared by many chunk records counts once");
    }

    [Test]
    public void RestoreSafeTensors_WithoutOriginalHeader_ThrowsInvalidOperation()
    {
        using ContainerReader reader = ContainerKit.Open(HandBuilt(Raw));
        Assert.That(reader.OriginalHeader, Is.Null);
        Assert.That(() => reader.RestoreSafeTensors(Stream.Null), Throws.InvalidOperationException.With.Message.Contains("original safetensors header"));
    }

    [Test]
    public void RestoreSafeTensors_PackedFile_IsByteIdentical()
    {
        var rng = new Random(8);
        byte[] a = ContainerKit.Smooth(rng, 9000);
        byte[] b = ContainerKit.RandomBytes(rng, 5000);
        byte[] header = ContainerKit.FakeSafeTensorsHeader(40);
        byte[] file = ContainerKit.Write(
            [new("a", DType.F16, [4500], a), new("b", DType.U8, [5000], b), new("a2", DType.F16, [4500], a), new("z", DType.F32, [0], [])],
            ContainerKit.Options(4096),
            header,
            null).File;
        using ContainerReader reader = ContainerKit.Open(file);
        using var restored = new MemoryStream();
        reader.RestoreSafeTensors(restored);
        Assert.That(restored.ToArray(), Is.EqualTo(header.Concat(a).Concat(b).Concat(a).ToArray()));
        byte[] copy = reader.OriginalHeader!;
        copy[0] ^= 1;
        Assert.That(reader.OriginalHeader, Is.EqualTo(header), "the header handed out is a copy");
    }

    [Test]
    public void HasMagic_ChecksTheFirstFourBytes()
    {
        Assert.That(ContainerReader.HasMagic("Z4AI\x01\0"u8), Is.True);
        Assert.That(ContainerReader.HasMagic("Z4A"u8), Is.False);
        Assert.That(ContainerReader.HasMagic("\x08\0\0\0\0\0\0\0{}"u8), Is.False);
        Assert.That(ContainerReader.HasMagic([]), Is.False);
    }

    [Test]
    public void Open_StreamThatCannotSeek_ThrowsArgumentException() =>
        Assert.That(() => ContainerReader.Open(new ForwardOnlyStream(new MemoryStream())), Throws.ArgumentException);

    [Test]
    public void Dispose_LeaveOpen_KeepsTheStreamAndBlocksFurtherReads()
    {
        var stream = new MemoryStream(HandBuilt(Raw));
        ContainerReader reader = ContainerReader.Open(stream, leaveOpen: true);
        ContainerEntry entry = reader.Tensors[0];
        reader.Dispose();
        Assert.That(stream.CanRead, Is.True);
        Assert.That(() => reader.ReadTensor(entry), Throws.InstanceOf<ObjectDisposedException>());

        ContainerReader owning = ContainerReader.Open(stream);
        owning.Dispose();
        Assert.That(stream.CanRead, Is.False);
    }

    [Test]
    public void Open_InvalidStreamNotLeftOpen_DisposesIt()
    {
        var stream = new MemoryStream(new byte[100]);
        Assert.Throws<Z4AiFormatException>(() => ContainerReader.Open(stream));
        Assert.That(stream.CanRead, Is.False);
    }

    [Test]
    public void ReadTensor_ConcurrentReaders_AllGetTheRightBytes()
    {
        var rng = new Random(9);
        var samples = Enumerable.Range(0, 8).Select(i => new ContainerKit.Sample($"t{i}", DType.BF16, [6000], ContainerKit.Smooth(rng, 12_000))).ToList();
        byte[] file = ContainerKit.Write(samples, ContainerKit.Options(4096), null, null).File;
        using ContainerReader reader = ContainerKit.Open(file);
        Parallel.For(0, 64, i =>
        {
            ContainerEntry entry = reader.Tensors[i % 8];
            Assert.That(reader.ReadTensor(entry), Is.EqualTo(samples[i % 8].Data));
        });
    }

    // One U8 tensor "t" of 4 bytes (Raw) in one Stored frame; the index records the SHA-256 of `digestOf`.
    private static byte[] HandBuilt(byte[] digestOf) => ContainerKit.Assemble(
        Frame,
        new IndexBuilder().U32(4096).Var(1).Entry("t", DType.U8, [4], 4, digestOf).U8(0).Var(1).Chunk(8, Frame, 4).U8(0).U8(0).ToArray());
}
