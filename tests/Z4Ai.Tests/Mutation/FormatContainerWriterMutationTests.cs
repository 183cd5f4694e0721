using System.Buffers.Binary;
using System.Security.Cryptography;
using NUnit.Framework;
using Z4Ai.Codecs;
using Z4Ai.Format;
using Z4Ai.Tests.Format;

namespace Z4Ai.Tests.Mutation;

/// <summary>
/// <see cref="ContainerWriter"/> pinned: option and argument refusals with their messages and parameter names, the
/// state machine (completed, failed part way, disposed), the exact bytes of the header, frames, index and footer it
/// writes, the statistics per tensor, chunk and tensor deduplication, and the row length handed to the codec.
/// </summary>
public class FormatContainerWriterMutationTests
{
    private static readonly byte[] Raw = [1, 2, 3, 4];

    private static ContainerWriterOptions Small(int maxDop = 1, bool pack = false) =>
        new() { ChunkSize = 4096, MinimumChunkSize = 4096, MaxDegreeOfParallelism = maxDop, Effort = CompressionEffort.Fast, PackIndex = pack };

    [Test]
    public void Constructor_WritesTheEightByteHeaderAtOnce()
    {
        var output = new MemoryStream();
        using var writer = new ContainerWriter(output, Small());
        Assert.That(Convert.ToHexString(output.ToArray()), Is.EqualTo("5A34414901000000"));
    }

    [Test]
    public void Constructor_BadArguments_AreRefusedWithTheirRange()
    {
        Assert.Throws<ArgumentNullException>(() => _ = new ContainerWriter(null!));
        ArgumentException notWritable = Assert.Throws<ArgumentException>(() => _ = new ContainerWriter(new MemoryStream([], writable: false)))!;
        Assert.That(notWritable.ParamName, Is.EqualTo("output"));
        Assert.That(notWritable.Message, Does.StartWith("the output stream is not writable"));

        void Range(ContainerWriterOptions options, string message, object actual)
        {
            ArgumentOutOfRangeException ex = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ContainerWriter(new MemoryStream(), options))!;
            Assert.That(ex.ParamName, Is.EqualTo("options"));
            Assert.That(ex.Message, Does.StartWith(message));
            Assert.That(ex.ActualValue, Is.EqualTo(actual));
        }

        Range(new ContainerWriterOptions { ChunkSize = 32 << 10 }, "ChunkSize must be a power of two from 65536 to 67108864", 32 << 10);
        Range(new ContainerWriterOptions { ChunkSize = 128 << 20 }, "ChunkSize must be a power of two from 65536 to 67108864", 128 << 20);
        Range(new ContainerWriterOptions { ChunkSize = 96 << 10 }, "ChunkSize must be a power of two from 65536 to 67108864", 96 << 10);
        Range(new ContainerWriterOptions { ChunkSize = 4096, MinimumChunkSize = 2048 }, "ChunkSize must be a power of two from 4096 to 67108864", 4096);
        Range(new ContainerWriterOptions { ChunkSize = 8192, MinimumChunkSize = 16384 }, "ChunkSize must be a power of two from 16384 to 67108864", 8192);
        Range(new ContainerWriterOptions { Effort = (CompressionEffort)99 }, "unknown compression effort", (CompressionEffort)99);
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ContainerWriter(new MemoryStream(), new ContainerWriterOptions { MaxDegreeOfParallelism = 0 }));

        Assert.DoesNotThrow(() => _ = new ContainerWriter(new MemoryStream(), new ContainerWriterOptions { ChunkSize = 64 << 10 }));
        Assert.DoesNotThrow(() => _ = new ContainerWriter(new MemoryStream(), new ContainerWriterOptions { ChunkSize = 64 << 20 }));
        Assert.DoesNotThrow(() => _ = new ContainerWriter(new MemoryStream(), new ContainerWriterOptions { ChunkSize = 4096, MinimumChunkSize = 4096, MaxDegreeOfParallelism = 1 }));
    }

    [Test]
    public void Constructor_NoOptions_UsesTheDefaultChunkSize()
    {
        var output = new MemoryStream();
        using (var writer = new ContainerWriter(output))
        {
            writer.WriteTensor("t", DType.U8, [4], Raw);
            writer.Complete(null, null);
        }

        using ContainerReader reader = ContainerKit.Open(output.ToArray());
        Assert.That(reader.ChunkSize, Is.EqualTo(4 << 20));
        Assert.That(reader.ReadTensor(reader.Tensors[0]), Is.EqualTo(Raw));
    }

    [Test]
    public void Options_Defaults_AreTheDocumentedOnes()
    {
        var options = new ContainerWriterOptions();
        Assert.That((options.ChunkSize, options.MinimumChunkSize, options.Effort, options.PackIndex, options.MaxDegreeOfParallelism),
            Is.EqualTo((4 << 20, 64 << 10, CompressionEffort.Default, true, Environment.ProcessorCount)));
    }

    [Test]
    public void WriteTensor_BadArguments_AreRefusedAndLeaveTheWriterUsable()
    {
        using var writer = new ContainerWriter(new MemoryStream(), Small());
        writer.WriteTensor("t", DType.U8, [4], Raw);

        Assert.Throws<ArgumentNullException>(() => writer.WriteTensor(null!, DType.U8, [4], Raw));
        Assert.Throws<ArgumentNullException>(() => writer.WriteTensor("u", DType.U8, null!, Raw));
        Assert.Throws<ArgumentNullException>(() => writer.WriteTensor("u", DType.U8, [4], null!, 4));

        ArgumentOutOfRangeException dtype = Assert.Throws<ArgumentOutOfRangeException>(() => writer.WriteTensor("u", (DType)22, [4], Raw))!;
        Assert.That((dtype.ParamName, dtype.ActualValue), Is.EqualTo(("dtype", (object)(DType)22)));
        Assert.That(dtype.Message, Does.StartWith("unknown dtype"));

        ArgumentException surrogate = Assert.Throws<ArgumentException>(() => writer.WriteTensor("u\uDC00", DType.U8, [4], Raw))!;
        Assert.That(surrogate.ParamName, Is.EqualTo("name"));

        ArgumentException taken = Assert.Throws<ArgumentException>(() => writer.WriteTensor("t", DType.U8, [4], Raw))!;
        Assert.That(taken.ParamName, Is.EqualTo("name"));
        Assert.That(taken.Message, Does.StartWith("a tensor named 't' was already written"));

        ArgumentOutOfRangeException negative = Assert.Throws<ArgumentOutOfRangeException>(() => writer.WriteTensor("u", DType.U8, [2, -2], Raw))!;
        Assert.That(negative.ParamName, Is.EqualTo("shape"));

        ArgumentException overflow = Assert.Throws<ArgumentException>(() => writer.WriteTensor("u", DType.F32, [1L << 62, 1L << 62], Raw))!;
        Assert.That(overflow.ParamName, Is.EqualTo("shape"));
        Assert.That(overflow.Message, Does.StartWith("F32[4611686018427387904,4611686018427387904] has no valid byte length"));
        ArgumentException misaligned = Assert.Throws<ArgumentException>(() => writer.WriteTensor("u", DType.F4, [3], Raw))!;
        Assert.That(misaligned.Message, Does.StartWith("F4[3] has no valid byte length"));

        ArgumentException length = Assert.Throws<ArgumentException>(() => writer.WriteTensor("u", DType.U8, [2, 2], [1, 2, 3]))!;
        Assert.That(length.ParamName, Is.EqualTo("length"));
        Assert.That(length.Message, Does.StartWith("U8[2,2] is 4 bytes, but 3 were given"));
        ArgumentException longer = Assert.Throws<ArgumentException>(() => writer.WriteTensor("u", DType.U8, [3], new MemoryStream(Raw), 4))!;
        Assert.That(longer.Message, Does.StartWith("U8[3] is 3 bytes, but 4 were given"));

        ContainerTensorStats ok = writer.WriteTensor("u", DType.U8, [2, 2], [5, 6, 7, 8]);
        Assert.That(ok.Name, Is.EqualTo("u"));
    }

    [Test]
    public void WriteTensor_SourceEndingEarly_FaultsTheWriter()
    {
        using var writer = new ContainerWriter(new MemoryStream(), Small());
        Z4AiFormatException ex = Assert.Throws<Z4AiFormatException>(() => writer.WriteTensor("t", DType.U8, [4], new MemoryStream([1, 2, 3]), 4))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.InvalidTensorView));
        Assert.That(ex.Detail, Is.EqualTo("the source ended after 3 of the tensor's 4 bytes"));
        Assert.That(ex.TensorName, Is.EqualTo("t"));
        Assert.That(ex.Offset, Is.Null);

        InvalidOperationException faulted = Assert.Throws<InvalidOperationException>(() => writer.WriteTensor("u", DType.U8, [4], Raw))!;
        Assert.That(faulted.Message, Is.EqualTo("an earlier write failed part way; the output is incomplete and must be discarded"));
        Assert.Throws<InvalidOperationException>(() => writer.Complete(null, null));
    }

    [TestCase(1)]
    [TestCase(2)]
    public void WriteTensor_SourceEndingInALaterChunk_CountsTheBytesRead(int maxDop)
    {
        using var writer = new ContainerWriter(new MemoryStream(), Small(maxDop));
        Z4AiFormatException ex = Assert.Throws<Z4AiFormatException>(() => writer.WriteTensor("t", DType.U8, [10000], new MemoryStream(new byte[9000]), 10000))!;
        Assert.That(ex.Detail, Is.EqualTo("the source ended after 9000 of the tensor's 10000 bytes"));
        Assert.Throws<InvalidOperationException>(() => writer.WriteTensor("u", DType.U8, [4], Raw));
    }

    [Test]
    public void WriteTensor_Cancelled_FaultsTheWriter()
    {
        using var writer = new ContainerWriter(new MemoryStream(), Small());
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.That(() => writer.WriteTensor("t", DType.U8, [4], new MemoryStream(Raw), 4, cts.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.Throws<InvalidOperationException>(() => writer.WriteTensor("u", DType.U8, [4], Raw));
    }

    [Test]
    public void States_CompletedAndDisposed_RefuseEveryCall()
    {
        var writer = new ContainerWriter(new MemoryStream(), Small());
        writer.Complete(null, null);
        InvalidOperationException done = Assert.Throws<InvalidOperationException>(() => writer.WriteTensor("t", DType.U8, [4], Raw))!;
        Assert.That(done.Message, Is.EqualTo("the container is already completed"));
        Assert.Throws<InvalidOperationException>(() => writer.Complete(null, null));
        writer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => writer.WriteTensor("t", DType.U8, [4], Raw));
        Assert.Throws<ObjectDisposedException>(() => writer.Complete(null, null));
    }

    [Test]
    public void Complete_BadHeaderOrMetadata_IsRefusedAndTheWriterStaysOpen()
    {
        var output = new MemoryStream();
        using var writer = new ContainerWriter(output, Small());
        writer.WriteTensor("t", DType.U8, [4], Raw);
        byte[] header = ContainerKit.FakeSafeTensorsHeader(4);
        header[0] = 5;
        ArgumentException ex = Assert.Throws<ArgumentException>(() => writer.Complete(header, null))!;
        Assert.That(ex.ParamName, Is.EqualTo("originalSafetensorsHeader"));
        Assert.That(ex.Message, Does.StartWith("a safetensors header is an 8-byte little-endian length N followed by N bytes, at most 100000008 in all"));

        ArgumentNullException nullValue = Assert.Throws<ArgumentNullException>(() => writer.Complete(null, new Dictionary<string, string> { ["k"] = null! }))!;
        Assert.That(nullValue.ParamName, Is.EqualTo("metadata"));
        Assert.Throws<ArgumentException>(() => writer.Complete(null, new Dictionary<string, string> { ["k"] = "\uD800" }));

        writer.Complete(ContainerKit.FakeSafeTensorsHeader(4), new Dictionary<string, string> { ["k"] = "v" });
        using ContainerReader reader = ContainerKit.Open(output.ToArray());
        Assert.That(reader.OriginalHeader, Is.EqualTo(ContainerKit.FakeSafeTensorsHeader(4)));
        Assert.That(reader.Metadata, Is.EqualTo(new Dictionary<string, string> { ["k"] = "v" }));
    }

    [Test]
    public void Complete_SmallTensor_WritesTheExactFile()
    {
        var output = new MemoryStream();
        ContainerTensorStats stats;
        using (var writer = new ContainerWriter(output, Small()))
        {
            stats = writer.WriteTensor("t", DType.U8, [4], Raw);
            writer.Complete(null, null);
        }

        // 4 incompressible bytes are stored: codec 0, varint length, the bytes.
        byte[] frame = [0, 4, 1, 2, 3, 4];
        byte[] index = new IndexBuilder().U32(4096).Var(1).Entry("t", DType.U8, [4], 4, Raw).U8(0).Var(1).Chunk(8, frame, 4).U8(0).U8(0).ToArray();
        Assert.That(output.ToArray(), Is.EqualTo(ContainerKit.Assemble(frame, index)));
        Assert.That(stats, Is.EqualTo(new ContainerTensorStats("t", 4, 6, false, stats.Codecs) { Sha256 = stats.Sha256 }));
        Assert.That(stats.Codecs, Is.EqualTo(new[] { CodecNames.Get(0) }));
        Assert.That(stats.Sha256, Is.EqualTo(SHA256.HashData(Raw)));
        Assert.That(stats.DuplicateOf, Is.Null);
    }

    [Test]
    public void Complete_OutputThatCannotSeek_GetsTheSameBytes()
    {
        var plain = new MemoryStream();
        var piped = new MemoryStream();
        foreach (Stream target in new Stream[] { plain, new ForwardOnlyStream(piped) })
        {
            using var writer = new ContainerWriter(target, Small());
            writer.WriteTensor("a", DType.BF16, [2, 3000], ContainerKit.Smooth(new Random(1), 12000));
            writer.WriteTensor("b", DType.U8, [4], Raw);
            writer.Complete(null, null);
        }

        Assert.That(piped.ToArray(), Is.EqualTo(plain.ToArray()));
        Assert.That(BinaryPrimitives.ReadInt64LittleEndian(plain.ToArray().AsSpan((int)plain.Length - 32)), Is.EqualTo(8 + ContainerKit.DataSectionLength(plain.ToArray())));
    }

    [Test]
    public void WriteTensor_RepeatedChunksAndTensors_AreStoredOnce()
    {
        byte[] block = ContainerKit.Smooth(new Random(2), 4096);
        byte[] twoBlocks = [.. block, .. block];
        byte[] blockAndTail = [.. block, 7, 7, 7, 7];
        var output = new MemoryStream();
        var stats = new List<ContainerTensorStats>();
        using (var writer = new ContainerWriter(output, Small()))
        {
            stats.Add(writer.WriteTensor("a", DType.U8, [8192], twoBlocks));
            stats.Add(writer.WriteTensor("b", DType.U8, [8192], twoBlocks));
            stats.Add(writer.WriteTensor("c", DType.U8, [4100], blockAndTail));
            stats.Add(writer.WriteTensor("d", DType.I8, [8192], twoBlocks));
            stats.Add(writer.WriteTensor("e", DType.U8, [0], []));
            stats.Add(writer.WriteTensor("f", DType.U8, [0], []));
            writer.Complete(null, null);
        }

        long frame = stats[0].StoredLength;
        Assert.That(frame, Is.GreaterThan(0).And.LessThan(4096), "the second chunk of a shares the first one's frame");
        Assert.That((stats[1].Deduplicated, stats[1].StoredLength, stats[1].DuplicateOf), Is.EqualTo((true, 0L, "a")));
        Assert.That(stats[1].Sha256, Is.EqualTo(SHA256.HashData(twoBlocks)));
        Assert.That((stats[2].Deduplicated, stats[2].DuplicateOf), Is.EqualTo((false, (string?)null)));
        Assert.That(stats[2].StoredLength, Is.EqualTo(6), "only the 4-byte tail is new");
        Assert.That(stats[3].Deduplicated, Is.False, "another dtype is another tensor");
        Assert.That(stats[3].StoredLength, Is.GreaterThan(0), "and its chunks are keyed by dtype too");
        Assert.That((stats[4].Deduplicated, stats[4].StoredLength, stats[4].Codecs.Count), Is.EqualTo((false, 0L, 0)));
        Assert.That((stats[5].Deduplicated, stats[5].DuplicateOf), Is.EqualTo((false, (string?)null)), "empty tensors are never duplicates");

        using ContainerReader reader = ContainerKit.Open(output.ToArray());
        Assert.That(reader.Tensors.Select(t => t.DuplicateOf), Is.EqualTo(new int?[] { null, 0, null, null, null, null }));
        Assert.That(reader.Tensors[0].Chunks[1], Is.SameAs(reader.Tensors[0].Chunks[0]));
        Assert.That(reader.Tensors[2].Chunks[0], Is.SameAs(reader.Tensors[0].Chunks[0]));
        Assert.That(reader.Tensors.Select(t => t.StoredLength), Is.EqualTo(stats.Select(s => s.StoredLength)));
        Assert.That(ContainerKit.DataSectionLength(output.ToArray()), Is.EqualTo(stats.Sum(s => s.StoredLength)));
        Assert.That(reader.ReadTensor(reader.Tensors[2]), Is.EqualTo(blockAndTail));
    }

    [Test]
    public void WriteTensor_SameBytesInOtherChunks_IsNotADuplicate()
    {
        // Same dtype, length and digest but written with another chunk split cannot happen in one writer, so the
        // chunk tables always agree; a tensor equal to an earlier one's prefix is not a duplicate.
        byte[] data = ContainerKit.Smooth(new Random(4), 6000);
        using var writer = new ContainerWriter(new MemoryStream(), Small());
        ContainerTensorStats a = writer.WriteTensor("a", DType.U8, [6000], data);
        ContainerTensorStats b = writer.WriteTensor("b", DType.U8, [4096], data.AsSpan(0, 4096));
        Assert.That(b.Deduplicated, Is.False);
        Assert.That(b.StoredLength, Is.EqualTo(0));
        Assert.That(a.Codecs, Is.Not.Empty);
    }

    [Test]
    public void WriteTensor_Codecs_AreListedOncePerNameInChunkOrder()
    {
        byte[] smooth = ContainerKit.Smooth(new Random(6), 4096);
        byte[] noise = new byte[4096];
        new Random(7).NextBytes(noise);
        using var writer = new ContainerWriter(new MemoryStream(), Small());
        ContainerTensorStats stats = writer.WriteTensor("m", DType.U8, [16384], [.. noise, .. smooth, .. noise.Reverse(), .. smooth.Reverse()]);
        string stored = CodecNames.Get(0);
        Assert.That(stats.Codecs[0], Is.EqualTo(stored));
        Assert.That(stats.Codecs, Is.Unique);
        Assert.That(stats.Codecs, Has.Count.EqualTo(2));
    }

    [TestCase(1)]
    [TestCase(3)]
    public void WriteTensor_FramesAreTheCodecsOutputForTheRowLength(int maxDop)
    {
        // At Max effort the context models use the row length (the last dimension of a matrix, else 0).
        var rng = new Random(8);
        byte[] data = new byte[4 * 4096];
        for (int i = 0; i < data.Length / 4; i++)
        {
            BitConverter.TryWriteBytes(data.AsSpan(i * 4), (float)((rng.NextDouble() - 0.5) * 0.02 * (1 + ((i % 64) / 8))));
        }

        var cases = new (long[] Shape, int RowLength)[] { ([4096], 0), ([16, 256], 256), ([2, 2048], 2048), ([1, 1, 4096], 4096), ([64, 64], 64), ([4096, 1], 1) };
        foreach ((long[] shape, int rowLength) in cases)
        {
            var output = new MemoryStream();
            var options = new ContainerWriterOptions { ChunkSize = 4096, MinimumChunkSize = 4096, MaxDegreeOfParallelism = maxDop, Effort = CompressionEffort.Max, PackIndex = false };
            using (var writer = new ContainerWriter(output, options))
            {
                writer.WriteTensor("w", DType.F32, shape, data);
                writer.Complete(null, null);
            }

            byte[] file = output.ToArray();
            using ContainerReader reader = ContainerKit.Open(file);
            IReadOnlyList<ContainerChunk> chunks = reader.Tensors[0].Chunks;
            Assert.That(chunks, Has.Count.EqualTo(4));
            for (int i = 0; i < chunks.Count; i++)
            {
                var expected = new System.Buffers.ArrayBufferWriter<byte>();
                TensorCodec.Encode(data.AsSpan(i * 4096, 4096), DType.F32, CompressionEffort.Max, expected, rowLength);
                Assert.That(file.AsSpan((int)chunks[i].Offset, chunks[i].StoredLength).ToArray(), Is.EqualTo(expected.WrittenSpan.ToArray()), $"shape [{string.Join(",", shape)}], chunk {i}");
                Assert.That(chunks[i].Offset, Is.EqualTo(8 + chunks.Take(i).Sum(c => c.StoredLength)));
            }
        }
    }

    [Test]
    public void WriteTensor_RowLengthChangesTheMaxEffortFrame()
    {
        var rng = new Random(8);
        byte[] data = new byte[4096];
        for (int i = 0; i < data.Length / 4; i++)
        {
            BitConverter.TryWriteBytes(data.AsSpan(i * 4), (float)((rng.NextDouble() - 0.5) * 0.02 * (1 + ((i % 64) / 8))));
        }

        byte[] Frame(int rowLength)
        {
            var w = new System.Buffers.ArrayBufferWriter<byte>();
            TensorCodec.Encode(data, DType.F32, CompressionEffort.Max, w, rowLength);
            return w.WrittenSpan.ToArray();
        }

        Assert.That(Frame(256), Is.Not.EqualTo(Frame(0)), "otherwise the test above could not tell row lengths apart");
        Assert.That(Frame(64), Is.Not.EqualTo(Frame(0)));
    }

    [Test]
    public void WriteTensor_StreamAndSpan_GiveTheSameFile()
    {
        byte[] data = ContainerKit.Smooth(new Random(10), 9000);
        byte[] File(bool stream, int maxDop)
        {
            var output = new MemoryStream();
            using var writer = new ContainerWriter(output, Small(maxDop));
            if (stream)
            {
                writer.WriteTensor("w", DType.U8, [9000], new MemoryStream(data), 9000);
            }
            else
            {
                writer.WriteTensor("w", DType.U8, [9000], data);
            }

            writer.Complete(null, null);
            return output.ToArray();
        }

        byte[] reference = File(false, 1);
        Assert.That(File(true, 1), Is.EqualTo(reference));
        Assert.That(File(true, 2), Is.EqualTo(reference));
        Assert.That(File(false, 4), Is.EqualTo(reference));
    }

    [Test]
    public void Complete_PackIndex_PacksOnlyWhenAllowedAndLargeEnough()
    {
        byte[] Write(bool pack, int tensors)
        {
            var output = new MemoryStream();
            using var writer = new ContainerWriter(output, Small(pack: pack));
            for (int i = 0; i < tensors; i++)
            {
                writer.WriteTensor($"layer.{i}.weight", DType.U8, [4], [(byte)i, 2, 3, 4]);
            }

            writer.Complete(null, null);
            return output.ToArray();
        }

        Assert.That(ContainerKit.StoredIndex(Write(true, 40)).Flags, Is.EqualTo(ContainerFormat.FlagPackedIndex));
        Assert.That(ContainerKit.StoredIndex(Write(false, 40)).Flags, Is.EqualTo(0));
        byte[] few = Write(true, 4);
        Assert.That(ContainerKit.StoredIndex(few).Stored.Length, Is.LessThan(ContainerFormat.MinPackedIndexSource));
        Assert.That(ContainerKit.StoredIndex(few).Flags, Is.EqualTo(0));

        // At the threshold: a plain index of 512 bytes may be packed, one of 511 may not.
        int baseLength = ContainerKit.StoredIndex(WriteEmpties(false, 0)).Stored.Length;
        Assert.That(baseLength, Is.InRange(400, 500));
        byte[] plain512 = WriteEmpties(false, 512 - baseLength);
        Assert.That(ContainerKit.StoredIndex(plain512).Stored.Length, Is.EqualTo(512));
        Assert.That(ContainerKit.StoredIndex(WriteEmpties(true, 512 - baseLength)).Flags, Is.EqualTo(ContainerFormat.FlagPackedIndex));
        byte[] plain511 = WriteEmpties(true, 511 - baseLength);
        Assert.That(ContainerKit.StoredIndex(plain511).Flags, Is.EqualTo(0));
        Assert.That(ContainerKit.StoredIndex(plain511).Stored.Length, Is.EqualTo(511));
    }

    // Ten empty tensors and one metadata value of `extra` bytes (fewer than 128, so each byte adds one index byte).
    private static byte[] WriteEmpties(bool pack, int extra)
    {
        var output = new MemoryStream();
        using var writer = new ContainerWriter(output, Small(pack: pack));
        for (int i = 0; i < 10; i++)
        {
            writer.WriteTensor($"block.{i}.w", DType.U8, [0], []);
        }

        writer.Complete(null, new Dictionary<string, string> { ["k"] = new string('a', extra) });
        return output.ToArray();
    }
}
