using NUnit.Framework;
using Z4Ai.Format;
using Z4Ai.Tests.Format;

namespace Z4Ai.Tests.Mutation;

/// <summary>
/// The one surface over both formats pinned: <see cref="TensorFile"/> (format sniffing, stream checks, file names in
/// errors, range checks), <see cref="ContainerTensorFile"/>, <see cref="PlainTensorFile"/> (limits, lazy positional
/// reads, byte counts, truncation after opening) and <see cref="TensorSetWriter"/> (canonical order, both formats).
/// </summary>
public class FormatContainerTensorFileMutationTests
{
    private static readonly Dictionary<string, Tensor> Set = new()
    {
        ["b"] = new Tensor(DType.U8, [4], new byte[] { 1, 2, 3, 4 }),
        ["a"] = new Tensor(DType.I16, [2, 1], new byte[] { 5, 6, 7, 8 }),
        ["e"] = new Tensor(DType.F32, [0], Array.Empty<byte>()),
    };

    private static byte[] Save(StorageFormat format, IReadOnlyDictionary<string, Tensor>? tensors = null, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var output = new MemoryStream();
        TensorSetWriter.Write(tensors ?? Set, metadata, new SaveOptions { Format = format, ChunkSize = 64 << 10, MaxDegreeOfParallelism = 1 }, output, default);
        return output.ToArray();
    }

    [Test]
    public void TensorSetWriter_SafeTensors_IsTheLayoutHeaderThenTheDataInCanonicalOrder()
    {
        var metadata = new Dictionary<string, string> { ["m"] = "1" };
        byte[] file = Save(StorageFormat.SafeTensors, metadata: metadata);
        SafeTensorsLayout layout = SafeTensorsFormat.CreateLayout(
            Set.Select(p => new SafeTensorsLayoutInput(p.Key, p.Value.DType, p.Value.GetShape(), p.Value.Data.Length)), metadata);
        byte[] data = layout.Tensors.SelectMany(t => Set[t.Name].Data.ToArray()).ToArray();
        Assert.That(file, Is.EqualTo(layout.HeaderBytes.Concat(data).ToArray()));
        Assert.That(layout.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "e", "a", "b" }));
    }

    [Test]
    public void TensorSetWriter_Container_KeepsTheHeaderAndOrderAndRestoresTheSafeTensorsFile()
    {
        var metadata = new Dictionary<string, string> { ["m"] = "1" };
        byte[] file = Save(StorageFormat.Z4Ai, metadata: metadata);
        using ContainerReader reader = ContainerKit.Open(file);
        Assert.That(reader.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "e", "a", "b" }));
        Assert.That(reader.ChunkSize, Is.EqualTo(64 << 10));
        Assert.That(reader.Metadata, Is.EqualTo(metadata));
        var restored = new MemoryStream();
        reader.RestoreSafeTensors(restored);
        Assert.That(restored.ToArray(), Is.EqualTo(Save(StorageFormat.SafeTensors, metadata: metadata)));
        Assert.That(reader.Tensors[1].Shape, Is.EqualTo(new long[] { 2, 1 }));
    }

    [Test]
    public void TensorSetWriter_NullTensorOrCancellation_IsRefused()
    {
        var withNull = new Dictionary<string, Tensor> { ["x"] = null! };
        ArgumentNullException ex = Assert.Throws<ArgumentNullException>(() => Save(StorageFormat.Z4Ai, withNull))!;
        Assert.That(ex.ParamName, Is.EqualTo("tensors"));

        using var cts = new CancellationTokenSource();
        cts.Cancel();
        foreach (StorageFormat format in new[] { StorageFormat.SafeTensors, StorageFormat.Z4Ai })
        {
            var output = new MemoryStream();
            Assert.That(
                () => TensorSetWriter.Write(Set, null, new SaveOptions { Format = format }, output, cts.Token),
                Throws.InstanceOf<OperationCanceledException>());
        }
    }

    [Test]
    public void TensorSetWriter_ToContainerOptions_CopiesEverySetting()
    {
        ContainerWriterOptions options = TensorSetWriter.ToContainerOptions(
            new SaveOptions { Effort = CompressionEffort.Fast, ChunkSize = 128 << 10, MaxDegreeOfParallelism = 3 });
        Assert.That((options.Effort, options.ChunkSize, options.MaxDegreeOfParallelism, options.PackIndex),
            Is.EqualTo((CompressionEffort.Fast, 128 << 10, 3, true)));
    }

    [TestCase(StorageFormat.SafeTensors)]
    [TestCase(StorageFormat.Z4Ai)]
    public void Open_EitherFormat_GivesTheSameTensors(StorageFormat format)
    {
        var metadata = new Dictionary<string, string> { ["m"] = "1" };
        var stream = new MemoryStream(Save(format, metadata: metadata));
        stream.Position = 5;
        using TensorFile file = TensorFile.Open(stream, leaveOpen: true, "f");
        Assert.That(file.Format, Is.EqualTo(format));
        Assert.That(file.FilePath, Is.EqualTo("f"));
        Assert.That(file.Metadata, Is.EqualTo(metadata));
        Assert.That(file.Tensors.Select(t => (t.Name, t.DType, t.ByteLength)), Is.EqualTo(new[] { ("e", DType.F32, 0L), ("a", DType.I16, 4L), ("b", DType.U8, 4L) }));
        Assert.That(file.Tensors[1].Shape, Is.EqualTo(new long[] { 2, 1 }));
        Assert.That(file.GetInfo("b"), Is.SameAs(file.Tensors[2]));
        Assert.That(file.TryGetInfo("zz", out _), Is.False);
        Assert.Throws<ArgumentNullException>(() => file.TryGetInfo(null!, out _));
        Z4AiTensorNotFoundException missing = Assert.Throws<Z4AiTensorNotFoundException>(() => file.GetInfo("zz"))!;
        Assert.That((missing.TensorName, missing.FilePath), Is.EqualTo(("zz", "f")));
        Assert.Throws<Z4AiTensorNotFoundException>(() => file.ReadTensor("zz"));
        Assert.Throws<Z4AiTensorNotFoundException>(() => file.CopyTensorTo("zz", new MemoryStream(), default));

        Assert.That(file.ReadTensor("b"), Is.EqualTo(new byte[] { 1, 2, 3, 4 }));
        Assert.That(file.ReadTensor("e"), Is.Empty);
        byte[] part = new byte[2];
        file.ReadRange("a", 2, part);
        Assert.That(part, Is.EqualTo(new byte[] { 7, 8 }));
        file.ReadRange("a", 4, []);
        var copy = new MemoryStream();
        file.CopyTensorTo("a", copy, default);
        file.CopyTensorTo("e", copy, default);
        Assert.That(copy.ToArray(), Is.EqualTo(new byte[] { 5, 6, 7, 8 }));
        Assert.Throws<ArgumentNullException>(() => file.CopyTensorTo("a", null!, default));

        ArgumentOutOfRangeException outside = Assert.Throws<ArgumentOutOfRangeException>(() => file.ReadRange("a", 3, new byte[2]))!;
        Assert.That(outside.ParamName, Is.EqualTo("offset"));
        Assert.That(outside.Message, Does.StartWith("bytes [3, 5) are outside tensor 'a' of 4 bytes"));
        Assert.Throws<ArgumentOutOfRangeException>(() => file.ReadRange("a", -1, new byte[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => file.ReadRange("a", 5, []));
        Assert.Throws<Z4AiTensorNotFoundException>(() => file.ReadRange("zz", 0, []));
    }

    [TestCase(StorageFormat.SafeTensors)]
    [TestCase(StorageFormat.Z4Ai)]
    public void Dispose_ClosesTheStreamUnlessLeftOpen(StorageFormat format)
    {
        byte[] bytes = Save(format);
        var closed = new MemoryStream(bytes);
        TensorFile.Open(closed, leaveOpen: false, null).Dispose();
        Assert.That(closed.CanRead, Is.False);
        var kept = new MemoryStream(bytes);
        TensorFile.Open(kept, leaveOpen: true, null).Dispose();
        Assert.That(kept.CanRead, Is.True);
    }

    [Test]
    public void Open_Container_IsAContainerTensorFileOverTheReader()
    {
        using TensorFile file = TensorFile.Open(new MemoryStream(Save(StorageFormat.Z4Ai)), false, null);
        var container = (ContainerTensorFile)file;
        Assert.That(container.Reader.Tensors, Has.Count.EqualTo(3));
        long before = file.BytesRead;
        Assert.That(before, Is.EqualTo(container.Reader.BytesRead).And.GreaterThan(48));
        file.ReadTensor("b");
        Assert.That(file.BytesRead, Is.GreaterThan(before));
    }

    [Test]
    public void ReadTensor_ContainerTensorTooLargeForAnArray_IsLimitExceededNamingTheFile()
    {
        // 2^31 bytes in 32 chunks of 64 MiB that all point at one tiny frame.
        byte[] frame = [0, 4, 1, 2, 3, 4];
        const int chunk = 64 << 20;
        var b = new IndexBuilder().U32(chunk).Var(1).Entry("big", DType.U8, [1L << 31], 1L << 31, frame).U8(0).Var(32);
        for (int i = 0; i < 32; i++)
        {
            b.Chunk(8, frame, chunk);
        }

        using TensorFile file = TensorFile.Open(new MemoryStream(ContainerKit.Assemble(frame, b.U8(0).U8(0).ToArray())), false, "huge");
        Z4AiFormatException ex = Assert.Throws<Z4AiFormatException>(() => file.ReadTensor("big"))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.LimitExceeded));
        Assert.That(ex.Detail, Is.EqualTo("the tensor is 2147483648 bytes, more than one .NET array holds; stream it with CopyTensorTo or read slices"));
        Assert.That((ex.FilePath, ex.TensorName), Is.EqualTo(("huge", "big")));
    }

    [Test]
    public void PlainTensorFile_WithoutLimits_UsesTheDefaults()
    {
        using var file = new PlainTensorFile(new MemoryStream(Save(StorageFormat.SafeTensors)), false, "p");
        Assert.That(file.Tensors, Has.Count.EqualTo(3));
        Assert.That(file.ReadTensor("b"), Is.EqualTo(new byte[] { 1, 2, 3, 4 }));
    }

    [Test]
    public void Open_Plain_CountsTheHeaderAndEveryByteRead()
    {
        byte[] bytes = Save(StorageFormat.SafeTensors);
        using TensorFile file = TensorFile.Open(new MemoryStream(bytes), false, null);
        var plain = (PlainTensorFile)file;
        long dataOffset = plain.Header.DataOffset;
        Assert.That(dataOffset, Is.EqualTo(bytes.Length - 8));
        Assert.That(file.BytesRead, Is.EqualTo(dataOffset));
        file.ReadTensor("b");
        Assert.That(file.BytesRead, Is.EqualTo(dataOffset + 4));
        file.ReadRange("a", 1, new byte[3]);
        Assert.That(file.BytesRead, Is.EqualTo(dataOffset + 7));
        file.CopyTensorTo("a", Stream.Null, default);
        Assert.That(file.BytesRead, Is.EqualTo(dataOffset + 11));
    }

    [Test]
    public void Open_PlainWithMoreTensorsThanTheLimit_IsLimitExceededNamingTheFile()
    {
        var stream = new MemoryStream(Save(StorageFormat.SafeTensors));
        Z4AiFormatException ex = Assert.Throws<Z4AiFormatException>(() => TensorFile.Open(stream, false, "p.safetensors", new ReadLimits { MaxTensorCount = 2 }))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.LimitExceeded));
        Assert.That(ex.Detail, Is.EqualTo("the header declares 3 tensors, more than the read limit of 2"));
        Assert.That((ex.FilePath, ex.Offset), Is.EqualTo(("p.safetensors", (long?)0)));
        using TensorFile atLimit = TensorFile.Open(new MemoryStream(Save(StorageFormat.SafeTensors)), false, null, new ReadLimits { MaxTensorCount = 3 });
        Assert.That(atLimit.Tensors, Has.Count.EqualTo(3));
    }

    [Test]
    public void Open_PlainLargeTensor_CopiesInPiecesOfAMebibyte()
    {
        byte[] big = new byte[(1 << 20) + 3];
        new Random(12).NextBytes(big);
        byte[] bytes = Save(StorageFormat.SafeTensors, new Dictionary<string, Tensor> { ["big"] = new Tensor(DType.U8, [big.Length], big) });
        var source = new ReadCountingStream(bytes);
        using TensorFile file = TensorFile.Open(source, false, null);
        int readsBefore = source.Reads;
        var output = new WriteCountingStream();
        file.CopyTensorTo("big", output, default);
        Assert.That(output.ToArray(), Is.EqualTo(big));
        Assert.That(output.Writes, Is.EqualTo(new[] { 1 << 20, 3 }));
        Assert.That(source.Reads - readsBefore, Is.GreaterThanOrEqualTo(2));

        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.That(() => file.CopyTensorTo("big", new MemoryStream(), cts.Token), Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public void Open_PlainTruncatedAfterOpening_IsMetadataIncompleteBufferAtTheEnd()
    {
        byte[] bytes = Save(StorageFormat.SafeTensors);
        var stream = new MemoryStream();
        stream.Write(bytes);
        using TensorFile file = TensorFile.Open(stream, false, "p");
        long dataOffset = ((PlainTensorFile)file).Header.DataOffset;
        stream.SetLength(dataOffset + 5);
        Z4AiFormatException ex = Assert.Throws<Z4AiFormatException>(() => file.ReadTensor("b"))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.MetadataIncompleteBuffer));
        Assert.That(ex.Detail, Is.EqualTo("the file ended after 1 of 4 bytes; it was truncated after it was opened"));
        Assert.That((ex.FilePath, ex.TensorName, ex.Offset), Is.EqualTo(("p", "b", (long?)(dataOffset + 5))));
        Assert.That(file.BytesRead, Is.EqualTo(dataOffset + 1));
    }

    [Test]
    public void Open_StreamChecksAndSniffing()
    {
        ArgumentException ex = Assert.Throws<ArgumentException>(() => TensorFile.Open(new ForwardOnlyStream(new MemoryStream()), false, null))!;
        Assert.That(ex.ParamName, Is.EqualTo("stream"));
        Assert.That(ex.Message, Does.StartWith("the stream must be readable and seekable; copy it to a file or MemoryStream first"));
        Assert.Throws<ArgumentNullException>(() => TensorFile.Open((Stream)null!, false, null));

        // Shorter than the sniff: read as safetensors, which names the file.
        Z4AiFormatException tiny = Assert.Throws<Z4AiFormatException>(() => TensorFile.Open(new MemoryStream("Z4AI"u8.ToArray()), false, "tiny"))!;
        Assert.That(tiny.FilePath, Is.EqualTo("tiny"));

        // A container whose footer is broken: the container reader's error, named.
        byte[] broken = Save(StorageFormat.Z4Ai);
        broken[^1] ^= 1;
        Z4AiFormatException named = Assert.Throws<Z4AiFormatException>(() => TensorFile.Open(new MemoryStream(broken), false, "n"))!;
        Assert.That(named.Detail, Is.EqualTo("the footer checksum does not match"));
        Assert.That(named.FilePath, Is.EqualTo("n"));
        Z4AiFormatException unnamed = Assert.Throws<Z4AiFormatException>(() => TensorFile.Open(new MemoryStream(broken), false, null))!;
        Assert.That(unnamed.FilePath, Is.Null);
    }

    [Test]
    public void Open_Path_ReadsAndNamesTheFile()
    {
        string path = Path.Combine(Path.GetTempPath(), "z4ai-mutA-" + Guid.NewGuid().ToString("N"));
        try
        {
            File.WriteAllBytes(path, Save(StorageFormat.Z4Ai));
            using (TensorFile file = TensorFile.Open(path))
            {
                Assert.That(file.FilePath, Is.EqualTo(path));
                Assert.That(file.ReadTensor("a"), Is.EqualTo(new byte[] { 5, 6, 7, 8 }));
            }

            File.WriteAllBytes(path, [1, 2, 3]);
            Z4AiFormatException ex = Assert.Throws<Z4AiFormatException>(() => TensorFile.Open(path, ReadLimits.Default))!;
            Assert.That(ex.FilePath, Is.EqualTo(path));
            File.Delete(path);
            Assert.Throws<FileNotFoundException>(() => TensorFile.Open(path));
            Assert.Throws<ArgumentException>(() => TensorFile.Open(string.Empty));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private sealed class ReadCountingStream(byte[] bytes) : MemoryStream(bytes)
    {
        public int Reads { get; private set; }

        public override int Read(Span<byte> buffer)
        {
            Reads++;
            return base.Read(buffer);
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            Reads++;
            return base.Read(buffer, offset, count);
        }
    }

    private sealed class WriteCountingStream : MemoryStream
    {
        public List<int> Writes { get; } = [];

        public override void Write(byte[] buffer, int offset, int count)
        {
            Writes.Add(count);
            base.Write(buffer, offset, count);
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Writes.Add(buffer.Length);
            base.Write(buffer);
        }
    }
}
