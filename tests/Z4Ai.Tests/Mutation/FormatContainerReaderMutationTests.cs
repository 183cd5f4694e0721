using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using NUnit.Framework;
using Z4Ai.Format;
using Z4Ai.Tests.Format;

namespace Z4Ai.Tests.Mutation;

/// <summary>
/// <see cref="ContainerReader"/> and <see cref="ContainerIndexPacking"/> pinned: every refusal while opening (kind,
/// offset, message, file name), the reads of whole tensors, ranges and streams across chunk boundaries, the chunk
/// checks before decoding, verification and restore, and the packed index's prefix checks and method choice.
/// </summary>
public class FormatContainerReaderMutationTests
{
    private static readonly byte[] Raw = [1, 2, 3, 4];
    private static readonly byte[] Frame = [0, 4, 1, 2, 3, 4];

    // One U8 tensor "t" of 4 bytes in a Stored frame; the index is 59 bytes at offset 14, the footer at 73.
    private static byte[] Index(ReadOnlySpan<byte> shaOf, byte codec = 0) =>
        new IndexBuilder().U32(4096).Var(1).Entry("t", DType.U8, [4], 4, shaOf).U8(0).Var(1)
            .Var(8).Var(6).Var(4).U8(codec).U64(XxHash3.HashToUInt64(Frame)).U8(0).U8(0).ToArray();

    private static byte[] Small() => ContainerKit.Assemble(Frame, Index(Raw));

    private static Z4AiFormatException OpenRefused(byte[] file, ReadLimits? limits = null, string? name = null) =>
        Assert.Throws<Z4AiFormatException>(() => ContainerReader.Open(new MemoryStream(file), false, name, limits ?? ReadLimits.Default))!;

    private static void AssertRefusal(Z4AiFormatException ex, Z4AiErrorKind kind, long offset, string detail)
    {
        Assert.That(ex.Kind, Is.EqualTo(kind), ex.Message);
        Assert.That(ex.Detail, Is.EqualTo(detail));
        Assert.That(ex.Offset, Is.EqualTo(offset), ex.Message);
    }

    private static void SetFooter(byte[] file, int field, ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(file.Length - 40 + field), value);
        ContainerKit.ResealFooter(file);
    }

    [Test]
    public void Open_Small_ReportsTheFileAndCountsTheBytesRead()
    {
        byte[] file = Small();
        using ContainerReader reader = ContainerReader.Open(new MemoryStream(file), false, "m.z4ai");
        Assert.That(reader.FilePath, Is.EqualTo("m.z4ai"));
        Assert.That(reader.FileLength, Is.EqualTo(113));
        Assert.That(reader.FormatVersion, Is.EqualTo(1));
        Assert.That(reader.ChunkSize, Is.EqualTo(4096));
        Assert.That(reader.BytesRead, Is.EqualTo(8 + 40 + 59), "header, footer and index");
        Assert.That(reader.OriginalHeader, Is.Null);
        Assert.That(reader.Metadata, Is.Null);
        Assert.That(reader.ReadTensor(reader.Tensors[0]), Is.EqualTo(Raw));
        Assert.That(reader.BytesRead, Is.EqualTo(8 + 40 + 59 + 6));
    }

    [Test]
    public void Open_TooShort_IsRefusedAndTheMinimumPasses()
    {
        AssertRefusal(OpenRefused(new byte[47]), Z4AiErrorKind.InvalidContainer, 0, "47 bytes is too short for a container (at least 48)");
        AssertRefusal(OpenRefused([]), Z4AiErrorKind.InvalidContainer, 0, "0 bytes is too short for a container (at least 48)");

        // 48 bytes: a header, an empty index and a footer get as far as parsing the index.
        Z4AiFormatException ex = OpenRefused(ContainerKit.Assemble([], []));
        Assert.That(ex.Detail, Is.EqualTo("expected 4 more bytes, 0 remain"));
        Assert.That(ex.Offset, Is.EqualTo(8));
    }

    [Test]
    public void Open_BadMagicOrVersionOrFlags_AreRefusedWhereTheyAre()
    {
        byte[] noMagic = Small();
        noMagic[3] = (byte)'J';
        AssertRefusal(OpenRefused(noMagic), Z4AiErrorKind.InvalidContainer, 0, "the file does not start with the container magic \"Z4AI\"");

        AssertRefusal(OpenRefused(ContainerKit.Assemble(Frame, Index(Raw), version: 2)), Z4AiErrorKind.UnsupportedVersion, 4, "container format version 2; this reader knows version 1");
        AssertRefusal(OpenRefused(ContainerKit.Assemble(Frame, Index(Raw), version: 0)), Z4AiErrorKind.UnsupportedVersion, 4, "container format version 0; this reader knows version 1");

        byte[] headerFlag = Small();
        headerFlag[6] = 1;
        AssertRefusal(OpenRefused(headerFlag), Z4AiErrorKind.UnsupportedVersion, 6, "container flags 0x0001 name features this reader does not know");

        byte[] footerVersion = Small();
        footerVersion[^36] = 3;
        ContainerKit.ResealFooter(footerVersion);
        AssertRefusal(OpenRefused(footerVersion), Z4AiErrorKind.UnsupportedVersion, 73 + 4, "container format version 3; this reader knows version 1");

        byte[] footerFlag = Small();
        footerFlag[^34] = 0x02;
        footerFlag[^33] = 0x80;
        ContainerKit.ResealFooter(footerFlag);
        AssertRefusal(OpenRefused(footerFlag), Z4AiErrorKind.UnsupportedVersion, 73 + 6, "container flags 0x8002 name features this reader does not know");
    }

    [Test]
    public void Open_FooterDamage_IsRefusedAtTheFooter()
    {
        byte[] noMagic = Small();
        noMagic[^40] = (byte)'X';
        AssertRefusal(OpenRefused(noMagic), Z4AiErrorKind.InvalidContainer, 73, "no footer magic at the end: the file is truncated or was never completed");

        byte[] badChecksum = Small();
        badChecksum[^1] ^= 1;
        AssertRefusal(OpenRefused(badChecksum), Z4AiErrorKind.InvalidContainer, 73, "the footer checksum does not match");
    }

    [Test]
    public void Open_IndexLengthLimits_AreCheckedBeforeReading()
    {
        byte[] huge = Small();
        SetFooter(huge, 16, (1UL << 30) + 1);
        AssertRefusal(OpenRefused(huge), Z4AiErrorKind.LimitExceeded, 73 + 16, "the index is 1073741825 bytes, more than the 1073741824 allowed");

        byte[] atFormatLimit = Small();
        SetFooter(atFormatLimit, 16, 1UL << 30);
        Assert.That(OpenRefused(atFormatLimit).Detail, Does.StartWith("the footer places the index at [14, 14+1073741824)"));

        AssertRefusal(OpenRefused(Small(), new ReadLimits { MaxIndexBytes = 58 }), Z4AiErrorKind.LimitExceeded, 73 + 16, "the index is 59 bytes, more than the read limit of 58");
        using ContainerReader atLimit = ContainerReader.Open(new MemoryStream(Small()), false, null, new ReadLimits { MaxIndexBytes = 59 });
        Assert.That(atLimit.Tensors, Has.Count.EqualTo(1));
    }

    [TestCase(7UL, 59UL)]
    [TestCase(15UL, 59UL)]
    [TestCase(13UL, 59UL)]
    [TestCase(74UL, 0UL)]
    [TestCase(14UL, 58UL)]
    public void Open_IndexNotEndingAtTheFooter_IsRefused(ulong offset, ulong length)
    {
        byte[] file = Small();
        SetFooter(file, 8, offset);
        SetFooter(file, 16, length);
        AssertRefusal(OpenRefused(file), Z4AiErrorKind.InvalidContainer, 73 + 8,
            $"the footer places the index at [{offset}, {offset}+{length}), but it must end where the footer starts, at 73");
    }

    [Test]
    public void Open_IndexChecksumMismatch_IsRefusedAtTheIndex()
    {
        byte[] file = Small();
        file[20] ^= 0x40;
        AssertRefusal(OpenRefused(file), Z4AiErrorKind.InvalidContainer, 14, "the index checksum does not match");
    }

    [Test]
    public void Open_Failure_NamesTheFileAndClosesTheStreamUnlessLeftOpen()
    {
        byte[] file = Small();
        file[0] = 0;
        var closing = new MemoryStream(file);
        Z4AiFormatException named = Assert.Throws<Z4AiFormatException>(() => ContainerReader.Open(closing, false, "bad.z4ai"))!;
        Assert.That(named.FilePath, Is.EqualTo("bad.z4ai"));
        Assert.That(named.Message, Does.StartWith("bad.z4ai, offset 0: "));
        Assert.That(closing.CanRead, Is.False, "the stream is closed");

        var kept = new MemoryStream(file);
        Z4AiFormatException unnamed = Assert.Throws<Z4AiFormatException>(() => ContainerReader.Open(kept, true))!;
        Assert.That(unnamed.FilePath, Is.Null);
        Assert.That(kept.CanRead, Is.True, "left open");

        var limits = new ReadLimits { MaxIndexBytes = 1 };
        var other = new MemoryStream(Small());
        Assert.Throws<Z4AiFormatException>(() => ContainerReader.Open(other, false, null, limits));
        Assert.That(other.CanRead, Is.False, "closed on an unnamed failure too");
    }

    [Test]
    public void Open_File_NamesThePathInErrorsAndReads()
    {
        string path = Path.Combine(Path.GetTempPath(), "z4ai-mutA-" + Guid.NewGuid().ToString("N") + ".z4ai");
        try
        {
            File.WriteAllBytes(path, Small());
            using (ContainerReader reader = ContainerReader.Open(path))
            {
                Assert.That(reader.FilePath, Is.EqualTo(path));
                Assert.That(reader.ReadTensor(reader.Tensors[0]), Is.EqualTo(Raw));
                Assert.That(reader.BytesRead, Is.EqualTo(113));
            }

            byte[] broken = Small();
            broken[^1] ^= 1;
            File.WriteAllBytes(path, broken);
            Z4AiFormatException ex = Assert.Throws<Z4AiFormatException>(() => ContainerReader.Open(path))!;
            Assert.That(ex.FilePath, Is.EqualTo(path));
            File.Delete(path);
            Assert.Throws<ArgumentException>(() => ContainerReader.Open(string.Empty));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Open_StreamThatCannotSeekOrRead_IsRefusedByName()
    {
        ArgumentException ex = Assert.Throws<ArgumentException>(() => ContainerReader.Open(new ForwardOnlyStream(new MemoryStream())))!;
        Assert.That(ex.ParamName, Is.EqualTo("seekableStream"));
        Assert.That(ex.Message, Does.StartWith("a container is read at random offsets; the stream must be readable and seekable"));
        using var writeOnly = new FileStream(Path.Combine(Path.GetTempPath(), "z4ai-mutA-" + Guid.NewGuid().ToString("N")), FileMode.CreateNew, FileAccess.Write, FileShare.None, 16, FileOptions.DeleteOnClose);
        Assert.Throws<ArgumentException>(() => ContainerReader.Open(writeOnly));
        Assert.Throws<ArgumentNullException>(() => ContainerReader.Open((Stream)null!));
        Assert.Throws<ArgumentNullException>(() => ContainerReader.Open(new MemoryStream(Small()), false, null, null!));
    }

    [Test]
    public void HasMagic_NeedsAllFourBytes()
    {
        Assert.That(ContainerReader.HasMagic("Z4AI"u8), Is.True);
        Assert.That(ContainerReader.HasMagic("Z4AIxx"u8), Is.True);
        Assert.That(ContainerReader.HasMagic("Z4A"u8), Is.False);
        Assert.That(ContainerReader.HasMagic("Z4AJ"u8), Is.False);
    }

    [Test]
    public void Entries_FromAnotherReaderOrDisposed_AreRefused()
    {
        using ContainerReader a = ContainerKit.Open(Small());
        using ContainerReader b = ContainerKit.Open(Small());
        ContainerEntry foreign = b.Tensors[0];
        ArgumentException ex = Assert.Throws<ArgumentException>(() => a.ReadTensor(foreign))!;
        Assert.That(ex.Message, Does.StartWith("tensor 't' is not an entry of this container reader"));
        Assert.That(ex.ParamName, Is.EqualTo("entry"));
        Assert.Throws<ArgumentNullException>(() => a.ReadTensor(null!));
        Assert.Throws<ArgumentNullException>(() => a.TryGetTensor(null!, out _));
        Assert.That(a.TryGetTensor("t", out ContainerEntry? t), Is.True);
        Assert.That(t, Is.SameAs(a.Tensors[0]));
        Assert.That(a.TryGetTensor("T", out _), Is.False);

        b.Dispose();
        b.Dispose();
        Assert.Throws<ObjectDisposedException>(() => b.ReadTensor(foreign));
        Assert.Throws<ObjectDisposedException>(() => b.RestoreSafeTensors(Stream.Null));
    }

    [Test]
    public void Dispose_ClosesTheStreamUnlessLeftOpen()
    {
        var closed = new MemoryStream(Small());
        ContainerReader.Open(closed).Dispose();
        Assert.That(closed.CanRead, Is.False);
        var kept = new MemoryStream(Small());
        ContainerReader.Open(kept, leaveOpen: true).Dispose();
        Assert.That(kept.CanRead, Is.True);
    }

    [Test]
    public void ReadTensor_DestinationOfAnotherLength_IsRefused()
    {
        using ContainerReader reader = ContainerKit.Open(Small());
        ArgumentException ex = Assert.Throws<ArgumentException>(() => reader.ReadTensor(reader.Tensors[0], new byte[3]))!;
        Assert.That(ex.Message, Does.StartWith("tensor 't' is 4 bytes; the destination holds 3"));
        Assert.That(ex.ParamName, Is.EqualTo("destination"));
        Assert.Throws<ArgumentException>(() => reader.ReadTensor(reader.Tensors[0], new byte[5]));
    }

    [Test]
    public void ReadTensor_TooLargeForAnArray_IsLimitExceededBeforeAllocating()
    {
        // 2^31 bytes in 32 chunks of 64 MiB that all point at one tiny frame: the index is valid, the array is not.
        const int chunk = 64 << 20;
        var b = new IndexBuilder().U32(chunk).Var(1).Entry("big", DType.U8, [1L << 31], 1L << 31, Raw).U8(0).Var(32);
        for (int i = 0; i < 32; i++)
        {
            b.Chunk(8, Frame, chunk);
        }

        using ContainerReader reader = ContainerKit.Open(ContainerKit.Assemble(Frame, b.U8(0).U8(0).ToArray()));
        Z4AiFormatException ex = Assert.Throws<Z4AiFormatException>(() => reader.ReadTensor(reader.Tensors[0]))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.LimitExceeded));
        Assert.That(ex.Detail, Is.EqualTo($"the tensor is 2147483648 bytes, more than an array holds ({Array.MaxLength}); stream it instead"));
        Assert.That(ex.TensorName, Is.EqualTo("big"));
    }

    [Test]
    public void ReadTensor_DigestMismatch_IsAnIntegrityErrorWithBothDigests()
    {
        using ContainerReader reader = ContainerReader.Open(new MemoryStream(ContainerKit.Assemble(Frame, Index(Frame))), false, "d.z4ai");
        Z4AiIntegrityException ex = Assert.Throws<Z4AiIntegrityException>(() => reader.ReadTensor(reader.Tensors[0]))!;
        Assert.That(ex.Subject, Is.EqualTo("t"));
        Assert.That(ex.ExpectedDigest, Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(Frame))));
        Assert.That(ex.ActualDigest, Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(Raw))));
        Assert.That(ex.FilePath, Is.EqualTo("d.z4ai"));
        Assert.Throws<Z4AiIntegrityException>(() => reader.CopyTensorTo(reader.Tensors[0], new MemoryStream()));
        Assert.That(reader.Verify(), Is.EqualTo(new[] { "t" }));
    }

    [Test]
    public void DecodeChunk_ChecksumAndCodecMismatches_AreCorruptFramesAtTheChunk()
    {
        byte[] corrupt = Small();
        corrupt[10] ^= 1;
        using (ContainerReader reader = ContainerReader.Open(new MemoryStream(corrupt), false, "c.z4ai"))
        {
            Z4AiFormatException ex = Assert.Throws<Z4AiFormatException>(() => reader.ReadTensor(reader.Tensors[0]))!;
            ulong actual = XxHash3.HashToUInt64(corrupt.AsSpan(8, 6));
            Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.CorruptFrame));
            Assert.That(ex.Detail, Is.EqualTo($"chunk 0 fails its checksum (expected {XxHash3.HashToUInt64(Frame):x16}, got {actual:x16}); the file is corrupt"));
            Assert.That((ex.FilePath, ex.TensorName, ex.Offset), Is.EqualTo(("c.z4ai", "t", (long?)8)));
        }

        using (ContainerReader reader = ContainerKit.Open(ContainerKit.Assemble(Frame, Index(Raw, codec: 1))))
        {
            Z4AiFormatException ex = Assert.Throws<Z4AiFormatException>(() => reader.ReadRange(reader.Tensors[0], 1, new byte[2]))!;
            Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.CorruptFrame));
            Assert.That(ex.Detail, Is.EqualTo("chunk 0 frame starts with codec 0, but the index records codec 1"));
            Assert.That((ex.TensorName, ex.Offset), Is.EqualTo(("t", (long?)8)));
        }
    }

    [Test]
    public void DecodeChunk_FrameThatDoesNotDecode_KeepsTheCodecKindAndNamesTheChunk()
    {
        byte[] bad = [0, 5, 1, 2, 3, 4];
        byte[] index = new IndexBuilder().U32(4096).Var(1).Entry("t", DType.U8, [4], 4, Raw).U8(0).Var(1).Chunk(8, bad, 4).U8(0).U8(0).ToArray();
        using ContainerReader reader = ContainerKit.Open(ContainerKit.Assemble(bad, index));
        Z4AiFormatException ex = Assert.Throws<Z4AiFormatException>(() => reader.ReadTensor(reader.Tensors[0]))!;
        var direct = Assert.Throws<Z4AiFormatException>(() => Z4Ai.Codecs.TensorCodec.Decode(bad, new byte[4]))!;
        Assert.That(ex.Kind, Is.EqualTo(direct.Kind));
        Assert.That(ex.Detail, Is.EqualTo("chunk 0: " + direct.Detail));
        Assert.That((ex.TensorName, ex.Offset), Is.EqualTo(("t", (long?)8)));
        Assert.That(ex.InnerException, Is.InstanceOf<Z4AiFormatException>());
    }

    // A U8 tensor of 3 chunks (4096 + 4096 + 100 bytes) and a one-chunk tensor, plain index, 4 KiB chunks.
    private static (byte[] File, byte[] Data) ThreeChunks(int maxDop = 1)
    {
        var rng = new Random(5);
        byte[] data = ContainerKit.Smooth(rng, 8292);
        byte[] file = ContainerKit.Write(
            [new("x", DType.U8, [8292], data), new("one", DType.U8, [4], Raw), new("empty", DType.U8, [0], [])],
            ContainerKit.Options(4096, maxDop),
            null,
            null).File;
        return (file, data);
    }

    [TestCase(1)]
    [TestCase(2)]
    public void ReadTensor_SeveralChunks_PutsEachChunkAtItsPlace(int maxDop)
    {
        (byte[] file, byte[] data) = ThreeChunks(maxDop);
        using ContainerReader reader = ContainerKit.Open(file);
        Assert.That(reader.ReadTensor(reader.Tensors[0]), Is.EqualTo(data));
        byte[] into = new byte[data.Length];
        reader.ReadTensor(reader.Tensors[0], into);
        Assert.That(into, Is.EqualTo(data));
    }

    [TestCase(0, 8292)]
    [TestCase(0, 1)]
    [TestCase(0, 4096)]
    [TestCase(4096, 4096)]
    [TestCase(8192, 100)]
    [TestCase(8291, 1)]
    [TestCase(4095, 2)]
    [TestCase(100, 8000)]
    [TestCase(4096, 4196)]
    [TestCase(1, 4095)]
    [TestCase(5000, 0)]
    [TestCase(8292, 0)]
    public void ReadRange_AnyRange_GivesThoseBytes(int offset, int length)
    {
        (byte[] file, byte[] data) = ThreeChunks();
        using ContainerReader reader = ContainerKit.Open(file);
        byte[] part = new byte[length];
        reader.ReadRange(reader.Tensors[0], offset, part);
        Assert.That(part, Is.EqualTo(data.AsSpan(offset, length).ToArray()));
    }

    [Test]
    public void ReadRange_OutsideTheTensor_IsRefused()
    {
        (byte[] file, _) = ThreeChunks();
        using ContainerReader reader = ContainerKit.Open(file);
        ContainerEntry x = reader.Tensors[0];
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.ReadRange(x, -1, new byte[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.ReadRange(x, 8292, new byte[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.ReadRange(x, 1, new byte[8292]));
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.ReadRange(x, 8293, []));
        Assert.Throws<ObjectDisposedException>(() =>
        {
            reader.Dispose();
            reader.ReadRange(x, 0, new byte[1]);
        });
    }

    [TestCase(1)]
    [TestCase(2)]
    public void CopyTensorTo_EveryTensor_WritesItsBytes(int maxDop)
    {
        (byte[] file, byte[] data) = ThreeChunks(maxDop);
        using ContainerReader reader = ContainerKit.Open(file);
        var output = new MemoryStream();
        reader.CopyTensorTo(reader.Tensors[0], output);
        Assert.That(output.ToArray(), Is.EqualTo(data));
        output.SetLength(0);
        reader.CopyTensorTo(reader.Tensors[1], output);
        Assert.That(output.ToArray(), Is.EqualTo(Raw));
        output.SetLength(0);
        reader.CopyTensorTo(reader.Tensors[2], output);
        Assert.That(output.Length, Is.EqualTo(0));
        Assert.That(reader.ReadTensor(reader.Tensors[2]), Is.Empty);
        Assert.Throws<ArgumentNullException>(() => reader.CopyTensorTo(reader.Tensors[0], null!));
    }

    [Test]
    public void CopyTensorTo_Cancelled_StopsBeforeWriting()
    {
        (byte[] file, _) = ThreeChunks();
        using ContainerReader reader = ContainerKit.Open(file);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var output = new MemoryStream();
        Assert.That(() => reader.CopyTensorTo(reader.Tensors[0], output, cts.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(() => reader.CopyTensorTo(reader.Tensors[1], output, cts.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(output.Length, Is.EqualTo(0));
        Assert.That(() => reader.Verify(cts.Token), Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public void CopyTensorTo_CorruptMiddleChunk_FailsAfterTheChunksBeforeIt()
    {
        (byte[] file, byte[] data) = ThreeChunks();
        byte[] corrupt = (byte[])file.Clone();
        using (ContainerReader probe = ContainerKit.Open(file))
        {
            ContainerChunk middle = probe.Tensors[0].Chunks[1];
            corrupt[middle.Offset + middle.StoredLength - 1] ^= 0x10;
        }

        using ContainerReader reader = ContainerKit.Open(corrupt);
        var output = new MemoryStream();
        Z4AiFormatException ex = Assert.Throws<Z4AiFormatException>(() => reader.CopyTensorTo(reader.Tensors[0], output))!;
        Assert.That(ex.Detail, Does.StartWith("chunk 1 fails its checksum"));
        Assert.That(output.ToArray(), Is.EqualTo(data.AsSpan(0, output.ToArray().Length).ToArray()), "whatever was written is the tensor's start");
        Assert.That(reader.Verify(), Is.EqualTo(new[] { "x" }));
        Assert.That(reader.ReadTensor(reader.Tensors[1]), Is.EqualTo(Raw), "the other tensors still read");
    }

    [Test]
    public void Verify_DuplicateOfACorruptTensor_IsReportedToo()
    {
        var samples = new List<ContainerKit.Sample> { new("a", DType.U8, [4], Raw), new("b", DType.U8, [4], [5, 6, 7, 8]), new("a2", DType.U8, [4], Raw) };
        byte[] file = ContainerKit.Write(samples, ContainerKit.Options(4096), null, null).File;
        using (ContainerReader good = ContainerKit.Open(file))
        {
            Assert.That(good.Tensors[2].DuplicateOf, Is.EqualTo(0));
            Assert.That(good.Verify(), Is.Empty);
            byte[] corrupt = (byte[])file.Clone();
            corrupt[good.Tensors[0].Chunks[0].Offset + 2] ^= 1;
            using ContainerReader bad = ContainerKit.Open(corrupt);
            Assert.That(bad.Verify(), Is.EqualTo(new[] { "a", "a2" }));
        }
    }

    [Test]
    public void RestoreSafeTensors_WritesTheHeaderThenEveryTensorOrRefusesWithoutOne()
    {
        byte[] header = ContainerKit.FakeSafeTensorsHeader(6);
        var samples = new List<ContainerKit.Sample> { new("a", DType.U8, [4], Raw), new("b", DType.U8, [2], [9, 9]) };
        byte[] file = ContainerKit.Write(samples, ContainerKit.Options(4096), header, null).File;
        using (ContainerReader reader = ContainerKit.Open(file))
        {
            var output = new MemoryStream();
            reader.RestoreSafeTensors(output);
            Assert.That(output.ToArray(), Is.EqualTo(header.Concat(Raw).Concat(new byte[] { 9, 9 }).ToArray()));
            byte[] copy = reader.OriginalHeader!;
            copy[0] ^= 0xFF;
            Assert.That(reader.OriginalHeader, Is.EqualTo(header), "a copy is handed out");
            Assert.Throws<ArgumentNullException>(() => reader.RestoreSafeTensors(null!));
        }

        using ContainerReader plain = ContainerKit.Open(ContainerKit.Write(samples, ContainerKit.Options(4096), null, null).File);
        InvalidOperationException ex = Assert.Throws<InvalidOperationException>(() => plain.RestoreSafeTensors(new MemoryStream()))!;
        Assert.That(ex.Message, Is.EqualTo("this container keeps no original safetensors header (it was built from tensors, not packed from a .safetensors file), so there is no original file to restore"));
    }

    [Test]
    public void Metadata_IsReadOnlyAndComplete()
    {
        byte[] file = ContainerKit.Write([new("a", DType.U8, [4], Raw)], ContainerKit.Options(4096), null, new Dictionary<string, string> { ["k"] = "v", ["a"] = "b" }).File;
        using ContainerReader reader = ContainerKit.Open(file);
        Assert.That(reader.Metadata, Is.EqualTo(new Dictionary<string, string> { ["a"] = "b", ["k"] = "v" }));
        Assert.That(reader.Metadata, Is.InstanceOf<System.Collections.ObjectModel.ReadOnlyDictionary<string, string>>());
    }

    [Test]
    public void ContainerSource_TruncatedWhileOpen_IsAFormatErrorAtTheEnd()
    {
        (byte[] file, _) = ThreeChunks();
        var stream = new MemoryStream();
        stream.Write(file);
        using ContainerReader reader = ContainerReader.Open(stream, false, "t.z4ai");
        ContainerChunk last = reader.Tensors[0].Chunks[2];
        stream.SetLength(last.Offset + 3);
        Z4AiFormatException ex = Assert.Throws<Z4AiFormatException>(() => reader.ReadRange(reader.Tensors[0], 8200, new byte[10]))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.InvalidContainer));
        Assert.That(ex.Detail, Is.EqualTo($"the file ended after 3 of {last.StoredLength} bytes; it was truncated while open"));
        Assert.That((ex.FilePath, ex.Offset), Is.EqualTo(("t.z4ai", (long?)(last.Offset + 3))));
    }

    [Test]
    public void ContainerSource_FileTruncatedWhileOpen_IsAFormatErrorAtTheEnd()
    {
        (byte[] file, _) = ThreeChunks();
        string path = Path.Combine(Path.GetTempPath(), "z4ai-mutA-" + Guid.NewGuid().ToString("N") + ".z4ai");
        try
        {
            File.WriteAllBytes(path, file);
            using ContainerReader reader = ContainerReader.Open(path);
            ContainerChunk last = reader.Tensors[0].Chunks[2];
            long before = reader.BytesRead;
            using (var shrink = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
            {
                shrink.SetLength(last.Offset + 3);
            }

            Z4AiFormatException ex = Assert.Throws<Z4AiFormatException>(() => reader.ReadRange(reader.Tensors[0], 8200, new byte[10]))!;
            Assert.That(ex.Detail, Is.EqualTo($"the file ended after 3 of {last.StoredLength} bytes; it was truncated while open"));
            Assert.That((ex.FilePath, ex.Offset), Is.EqualTo((path, (long?)(last.Offset + 3))));
            Assert.That(reader.BytesRead, Is.EqualTo(before + 3));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Unpack_PrefixRefusals_NameTheFieldAndItsOffset()
    {
        Z4AiFormatException Refused(byte[] packed, long readLimit = 1L << 30) =>
            Assert.Throws<Z4AiFormatException>(() => ContainerIndexPacking.Unpack(packed, 100, 1L << 30, readLimit))!;

        AssertRefusal(Refused([]), Z4AiErrorKind.InvalidContainer, 100, "the packed index is cut short: expected 1 more bytes, 0 remain");
        AssertRefusal(Refused([1, 0x80]), Z4AiErrorKind.InvalidContainer, 100, "the packed index is cut short: expected 1 more bytes, 0 remain");
        AssertRefusal(Refused([3, 10, 0]), Z4AiErrorKind.UnsupportedVersion, 100, "the index is packed with method 3, which this reader does not know");
        AssertRefusal(Refused([0, 10, 0]), Z4AiErrorKind.UnsupportedVersion, 100, "the index is packed with method 0, which this reader does not know");

        byte[] over = new IndexBuilder().U8(1).Var((1UL << 30) + 1).ToArray();
        AssertRefusal(Refused(over), Z4AiErrorKind.LimitExceeded, 101, "the packed index unpacks to 1073741825 bytes, more than the 1073741824 allowed");
        AssertRefusal(Refused([1, 100, 0], readLimit: 99), Z4AiErrorKind.LimitExceeded, 101, "the packed index unpacks to 100 bytes, more than the read limit of 99");
        AssertRefusal(Refused([1, 0, 0]), Z4AiErrorKind.InvalidContainer, 101, "the packed index declares an empty index");

        byte[] cm = new IndexBuilder().U8(2).Var((1UL << 20) + 1).Bytes(new byte[2000]).ToArray();
        AssertRefusal(Refused(cm), Z4AiErrorKind.LimitExceeded, 101, "a context-mixing packed index unpacks to 1048577 bytes, more than the 1048576 allowed");
        byte[] zstdSame = new IndexBuilder().U8(1).Var((1UL << 20) + 1).Bytes(new byte[2000]).ToArray();
        Assert.That(Refused(zstdSame).Detail, Does.StartWith("the packed index does not unpack to its declared 1048577 bytes: "), "zstd has no such bound");
        byte[] cmAtLimit = new IndexBuilder().U8(2).Var(1UL << 20).Bytes(new byte[2000]).ToArray();
        Assert.That(Refused(cmAtLimit).Detail, Does.StartWith("the packed index does not unpack to its declared 1048576 bytes: "));

        AssertRefusal(Refused([1, 0x80, 0x10, 0]), Z4AiErrorKind.LimitExceeded, 101, "the packed index declares 2048 bytes from a 1-byte payload, more than 1024 times it");
        AssertRefusal(Refused([1, 0x81, 0x10, 0]), Z4AiErrorKind.LimitExceeded, 101, "the packed index declares 2049 bytes from a 1-byte payload, more than 1024 times it");
        Z4AiFormatException atRatio = Refused([1, 0x80, 0x10, 0, 0]);
        Assert.That(atRatio.Kind, Is.EqualTo(Z4AiErrorKind.InvalidContainer), "2048 bytes from 2: the ratio itself is allowed");
        Assert.That(atRatio.Detail, Does.StartWith("the packed index does not unpack to its declared 2048 bytes: "));
        Assert.That(atRatio.Offset, Is.EqualTo(103), "after the 3-byte prefix");
        Assert.That(atRatio.InnerException, Is.InstanceOf<Z4AiFormatException>());
        Assert.That(Refused([2, 0x80, 0x10, 0, 0]).Detail, Does.StartWith("the packed index does not unpack to its declared 2048 bytes: "));
    }

    [Test]
    public void Unpack_ReadLimitsOverload_UsesTheIndexLimit()
    {
        byte[] plain = new byte[600];
        new Random(3).NextBytes(plain.AsSpan(0, 100));
        byte[] packed = ContainerIndexPacking.TryPack(plain, long.MaxValue)!;
        Assert.That(ContainerIndexPacking.Unpack(packed, 0, new ReadLimits { MaxIndexBytes = 600 }), Is.EqualTo(plain));
        Z4AiFormatException ex = Assert.Throws<Z4AiFormatException>(() => ContainerIndexPacking.Unpack(packed, 7, new ReadLimits { MaxIndexBytes = 599 }))!;
        AssertRefusal(ex, Z4AiErrorKind.LimitExceeded, 8, "the packed index unpacks to 600 bytes, more than the read limit of 599");
    }

    [Test]
    public void TryPack_PicksTheSmallerMethodAndBeatsTheGivenSize()
    {
        // A small index-like input: context mixing wins; the prefix is the method and the plain length.
        byte[] plain = new byte[3000];
        var rng = new Random(9);
        for (int i = 0; i < plain.Length; i++)
        {
            plain[i] = (byte)(rng.Next(4) + (i % 7 == 0 ? 100 : 0));
        }

        byte[] best = ContainerIndexPacking.TryPack(plain, long.MaxValue)!;
        Assert.That(best[0], Is.EqualTo(ContainerFormat.IndexPackContextMixing));
        Assert.That(best.AsSpan(1, 2).ToArray(), Is.EqualTo(new byte[] { 0xB8, 0x17 }), "varint 3000");
        Assert.That(ContainerIndexPacking.Unpack(best, 0, ReadLimits.Default), Is.EqualTo(plain));

        byte[]? again = ContainerIndexPacking.TryPack(plain, best.Length);
        Assert.That(again is null || again.Length < best.Length, Is.True, "never a result as long as the size to beat");
        Assert.That(ContainerIndexPacking.TryPack(plain, best.Length + 1), Is.EqualTo(best));
        Assert.That(ContainerIndexPacking.TryPack(plain, 3), Is.Null);

        // Above the context-mixing bound only zstd is tried.
        byte[] large = new byte[(1 << 20) + 1];
        for (int i = 0; i < large.Length; i += 256)
        {
            large[i] = (byte)rng.Next(256);
        }

        byte[] zstd = ContainerIndexPacking.TryPack(large, long.MaxValue)!;
        Assert.That(zstd[0], Is.EqualTo(ContainerFormat.IndexPackZstd));
        Assert.That(ContainerIndexPacking.Unpack(zstd, 0, ReadLimits.Default), Is.EqualTo(large));
    }

    [Test]
    public void TryPack_ABombBeyondTheRatio_IsNotWritten()
    {
        // Zeros shrink more than 1024 times under both methods; a reader would refuse that, so the writer does not pack.
        Assert.That(ContainerIndexPacking.TryPack(new byte[32 << 10], long.MaxValue), Is.Null);
        Assert.That(ContainerIndexPacking.TryPack(new byte[(1 << 20) + 1], long.MaxValue), Is.Null);
    }
}
