using NUnit.Framework;
using Z4Ai.Format;

namespace Z4Ai.Tests.Format;

public class ContainerWriterTests
{
    [Test]
    public void WriteTensor_IdenticalTensorTwice_StoresItOnce()
    {
        byte[] data = ContainerKit.Smooth(new Random(1), 30_000);
        ContainerKit.Sample first = new("a", DType.BF16, [15_000], data);
        byte[] once = ContainerKit.Write([first], ContainerKit.Options(4096), null, null).File;
        (byte[] twice, List<ContainerTensorStats> stats) = ContainerKit.Write([first, first with { Name = "b", Shape = [100, 150] }], ContainerKit.Options(4096), null, null);

        Assert.That(stats[1].Deduplicated, Is.True);
        Assert.That(stats[1].StoredLength, Is.Zero);
        Assert.That(stats[1].Codecs, Is.EqualTo(stats[0].Codecs));
        Assert.That(ContainerKit.DataSectionLength(twice), Is.EqualTo(ContainerKit.DataSectionLength(once)));
        using ContainerReader reader = ContainerKit.Open(twice);
        Assert.That(reader.Tensors[1].DuplicateOf, Is.Zero);
        Assert.That(reader.Tensors[1].Chunks, Is.SameAs(reader.Tensors[0].Chunks));
        Assert.That(reader.Tensors[1].Shape, Is.EqualTo(new long[] { 100, 150 }));
        Assert.That(reader.ReadTensor(reader.Tensors[1]), Is.EqualTo(data));
    }

    [Test]
    public void WriteTensor_SameBytesAnotherDType_IsNotDeduplicated()
    {
        byte[] data = ContainerKit.Smooth(new Random(2), 8192);
        (byte[] file, List<ContainerTensorStats> stats) = ContainerKit.Write(
            [new("h", DType.F16, [4096], data), new("b", DType.BF16, [4096], data)], ContainerKit.Options(4096), null, null);
        Assert.That(stats[1].Deduplicated, Is.False);

        // Stored again under its own dtype (the codec may code the two dtypes differently, so sizes can differ).
        Assert.That(stats[1].StoredLength, Is.GreaterThan(0));
        using ContainerReader reader = ContainerKit.Open(file);
        Assert.That(reader.Tensors[1].DuplicateOf, Is.Null);
        Assert.That(reader.ReadTensor(reader.Tensors[1]), Is.EqualTo(data));
    }

    [Test]
    public void WriteTensor_SharedLeadingChunk_StoresOnlyTheNewChunks()
    {
        var rng = new Random(3);
        byte[] a = ContainerKit.RandomBytes(rng, 8192);
        byte[] b = [.. a.AsSpan(0, 4096), .. ContainerKit.RandomBytes(rng, 4096)];
        (byte[] file, List<ContainerTensorStats> stats) = ContainerKit.Write(
            [new("a", DType.U8, [8192], a), new("b", DType.U8, [8192], b)], ContainerKit.Options(4096), null, null);
        using ContainerReader reader = ContainerKit.Open(file);
        Assert.That(stats[1].Deduplicated, Is.False);
        Assert.That(reader.Tensors[1].Chunks[0], Is.SameAs(reader.Tensors[0].Chunks[0]));
        Assert.That(reader.Tensors[1].StoredLength, Is.EqualTo(reader.Tensors[1].Chunks[1].StoredLength));
        Assert.That(stats[1].StoredLength, Is.EqualTo(reader.Tensors[1].StoredLength));
        Assert.That(reader.ReadTensor(reader.Tensors[1]), Is.EqualTo(b));
    }

    [Test]
    public void WriteTensor_RepeatedChunksWithinATensor_StoresOneFrame()
    {
        byte[] zeros = new byte[4096 * 8];
        (byte[] file, List<ContainerTensorStats> stats) = ContainerKit.Write([new("z", DType.F32, [8192], zeros)], ContainerKit.Options(4096, maxDop: 3), null, null);
        using ContainerReader reader = ContainerKit.Open(file);
        Assert.That(reader.Tensors[0].Chunks.Select(c => c.Offset).Distinct().Count(), Is.EqualTo(1));
        Assert.That(stats[0].StoredLength, Is.EqualTo(reader.Tensors[0].Chunks[0].StoredLength));
        Assert.That(reader.ReadTensor(reader.Tensors[0]), Is.EqualTo(zeros));
    }

    [Test]
    public void WriteTensor_TinyTensor_UsesStoredCodec()
    {
        (_, List<ContainerTensorStats> stats) = ContainerKit.Write([new("s", DType.F32, [], [1, 2, 3, 4])], ContainerKit.Options(4096), null, null);
        Assert.That(stats[0].Codecs, Is.EqualTo(new[] { "stored" }));
        Assert.That(stats[0].StoredLength, Is.EqualTo(6));
    }

    [Test]
    public void WriteTensor_LargeStream_HoldsOnlyAFewChunksInMemory()
    {
        const long length = 48L << 20;
        using var writer = new ContainerWriter(Stream.Null, new ContainerWriterOptions { ChunkSize = 1 << 20, MaxDegreeOfParallelism = 2, Effort = CompressionEffort.Fast });
        writer.WriteTensor("warmup", DType.BF16, [4L << 19], new PatternStream(4L << 20), 4L << 20);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        ContainerTensorStats stats = writer.WriteTensor("big", DType.BF16, [length / 2], new PatternStream(length), length);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.That(stats.RawLength, Is.EqualTo(length));
        Assert.That(allocated, Is.LessThan(length / 4), "memory must be bounded by chunks in flight, not by the tensor");
    }

    [Test]
    public void WriteTensor_SourceEndsEarly_ThrowsAndFaultsTheWriter()
    {
        using var writer = new ContainerWriter(new MemoryStream(), ContainerKit.Options(4096, maxDop: 2));
        var ex = Assert.Throws<Z4AiFormatException>(() => writer.WriteTensor("t", DType.U8, [20_000], new MemoryStream(new byte[15_000]), 20_000));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.InvalidTensorView));
        Assert.That(ex.TensorName, Is.EqualTo("t"));
        Assert.That(() => writer.WriteTensor("u", DType.U8, [1], [1]), Throws.InvalidOperationException);
        Assert.That(() => writer.Complete(null, null), Throws.InvalidOperationException);
    }

    [Test]
    public void WriteTensor_SourceThrowsWhileWorkersRun_PropagatesTheError()
    {
        using var writer = new ContainerWriter(new MemoryStream(), ContainerKit.Options(4096, maxDop: 4));
        Assert.Throws<IOException>(() => writer.WriteTensor("t", DType.U8, [100_000], new PatternStream(100_000, failAt: 50_000), 100_000));
        Assert.That(() => writer.Complete(null, null), Throws.InvalidOperationException);
    }

    [Test]
    public void WriteTensor_Cancelled_ThrowsOperationCanceled()
    {
        using var writer = new ContainerWriter(new MemoryStream(), ContainerKit.Options(4096));
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.That(() => writer.WriteTensor("t", DType.U8, [10_000], new PatternStream(10_000), 10_000, cts.Token), Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public void WriteTensor_Misuse_ThrowsArgumentExceptionAndKeepsTheWriterUsable()
    {
        using var output = new MemoryStream();
        using var writer = new ContainerWriter(output, ContainerKit.Options(4096));
        writer.WriteTensor("t", DType.U8, [2], [1, 2]);
        Assert.That(() => writer.WriteTensor("t", DType.U8, [2], [1, 2]), Throws.ArgumentException, "duplicate name");
        Assert.That(() => writer.WriteTensor("u", DType.U8, [3], [1, 2]), Throws.ArgumentException, "length mismatch");
        Assert.That(() => writer.WriteTensor("u", DType.U8, [-2], [1, 2]), Throws.InstanceOf<ArgumentOutOfRangeException>(), "negative dimension");
        Assert.That(() => writer.WriteTensor("u", (DType)99, [2], [1, 2]), Throws.InstanceOf<ArgumentOutOfRangeException>(), "unknown dtype");
        Assert.That(() => writer.WriteTensor("u", DType.F4, [3], [1, 2]), Throws.ArgumentException, "misaligned sub-byte shape");
        Assert.That(() => writer.WriteTensor("bad\ud800", DType.U8, [2], [1, 2]), Throws.ArgumentException, "lone surrogate");
        Assert.That(() => writer.WriteTensor(null!, DType.U8, [2], [1, 2]), Throws.ArgumentNullException);
        Assert.That(() => writer.WriteTensor("u", DType.U8, null!, [1, 2]), Throws.ArgumentNullException);
        Assert.That(() => writer.Complete([1, 0, 0, 0, 0, 0, 0, 0], null), Throws.ArgumentException, "header shorter than its prefix says");
        Assert.That(() => writer.Complete(null, new Dictionary<string, string> { ["k\udc00"] = "v" }), Throws.ArgumentException);

        writer.WriteTensor("u", DType.U8, [1], [3]);
        writer.Complete(null, null);
        Assert.That(() => writer.WriteTensor("v", DType.U8, [1], [3]), Throws.InvalidOperationException);
        Assert.That(() => writer.Complete(null, null), Throws.InvalidOperationException);
        using ContainerReader reader = ContainerKit.Open(output.ToArray());
        Assert.That(reader.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "t", "u" }));
    }

    [TestCase(0)]
    [TestCase(4096)]
    [TestCase(65536 + 1)]
    [TestCase(128 << 20)]
    public void Constructor_ChunkSizeOutOfRange_Throws(int chunkSize) =>
        Assert.That(() => new ContainerWriter(new MemoryStream(), new ContainerWriterOptions { ChunkSize = chunkSize }), Throws.InstanceOf<ArgumentOutOfRangeException>());

    [Test]
    public void Constructor_InvalidOptions_Throw()
    {
        Assert.That(() => new ContainerWriter(new MemoryStream(), new ContainerWriterOptions { MaxDegreeOfParallelism = 0 }), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => new ContainerWriter(new MemoryStream(), new ContainerWriterOptions { ChunkSize = 2048, MinimumChunkSize = 2048 }), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => new ContainerWriter(new MemoryStream(new byte[8], writable: false)), Throws.ArgumentException);
        Assert.That(() => new ContainerWriter(null!), Throws.ArgumentNullException);
    }

    [Test]
    public void Dispose_BeforeComplete_LeavesAContainerReadersReject()
    {
        using var output = new MemoryStream();
        var writer = new ContainerWriter(output, ContainerKit.Options(4096));
        writer.WriteTensor("t", DType.U8, [3], [1, 2, 3]);
        writer.Dispose();
        Assert.That(() => writer.WriteTensor("u", DType.U8, [1], [1]), Throws.InstanceOf<ObjectDisposedException>());
        var ex = Assert.Throws<Z4AiFormatException>(() => ContainerKit.Open(output.ToArray()));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.InvalidContainer));
    }

    /// <summary>A read-only stream of generated bytes, so a large source costs no memory; optionally fails part way.</summary>
    private sealed class PatternStream(long length, long failAt = -1) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (failAt >= 0 && _position >= failAt)
            {
                throw new IOException("the disk went away");
            }

            int n = (int)Math.Min(buffer.Length, length - _position);
            for (int i = 0; i < n; i++)
            {
                long p = _position + i;
                buffer[i] = (byte)((p & 1) == 0 ? (p >> 9) * 31 : 0x3F);
            }

            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
