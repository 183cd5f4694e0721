using System.Buffers;
using System.Security.Cryptography;
using NUnit.Framework;
using Z4Ai.Codecs;
using Z4Ai.Internal;

namespace Z4Ai.Tests.Mutation;

/// <summary>
/// The buffer frame and the tensor frame around it, pinned byte by byte and message by message: header fields and
/// their exact limits, chunk records, the chunk-count bound, the trailer, the legacy plane frames, and the sizes a
/// frame may take. Written against Stryker's surviving mutants in <c>BufferFrame</c> and <c>TensorCodec</c>: a
/// round trip or "throws some format exception" lets a wrong bound or a garbled message through, these do not.
/// </summary>
public class CodecFramesMutationTests
{
    private static readonly byte[] s_magic = "Z4AF"u8.ToArray();

    /// <summary>A header: magic, version, flags, dtype, then the varints given.</summary>
    private static byte[] Header(byte version, byte flags, byte dtype, params ulong[] varints)
    {
        var output = new ArrayBufferWriter<byte>();
        output.Write(s_magic);
        output.Write([version, flags, dtype]);
        foreach (ulong v in varints)
        {
            VarInt.Write(output, v);
        }

        return output.WrittenSpan.ToArray();
    }

    private static BufferFrameHeader Read(byte[] bytes)
    {
        var reader = new SpanReader(bytes);
        BufferFrameHeader header = BufferFrame.ReadHeader(ref reader);
        Assert.That(reader.Remaining, Is.Zero, "the header is read to its last byte");
        return header;
    }

    private static Z4AiFormatException ReadFails(byte[] bytes) =>
        Assert.Throws<Z4AiFormatException>(() => Read(bytes))!;

    private static IEnumerable<TestCaseData> BadHeaders()
    {
        const ulong big = (ulong)long.MaxValue + 1;
        yield return Bad("magic", [.. "Z4AG"u8.ToArray(), 1, 0, 4, 0, 0x80, 0x20], Z4AiErrorKind.CorruptFrame, 0, "not a Z4Ai buffer frame (the magic \"Z4AF\" is missing)");
        yield return Bad("version 2", Header(2, 0, 4, 0, 4096), Z4AiErrorKind.UnsupportedVersion, 4, "buffer frame version 2 is not supported (this reader knows 1)");
        yield return Bad("version 0", Header(0, 0, 4, 0, 4096), Z4AiErrorKind.UnsupportedVersion, 4, "buffer frame version 0 is not supported (this reader knows 1)");
        yield return Bad("flags 2", Header(1, 2, 4, 0, 4096), Z4AiErrorKind.CorruptFrame, 5, "buffer frame has unknown flags 0x02");
        yield return Bad("flags 0x83", Header(1, 0x83, 4, 0, 4096), Z4AiErrorKind.CorruptFrame, 5, "buffer frame has unknown flags 0x83");
        yield return Bad("dtype 22", Header(1, 0, 22, 0, 4096), Z4AiErrorKind.CorruptFrame, 6, "buffer frame names dtype 22, which does not exist");
        yield return Bad("dtype 255", Header(1, 0, 255, 0, 4096), Z4AiErrorKind.CorruptFrame, 6, "buffer frame names dtype 255, which does not exist");
        yield return Bad("raw 2^63", Header(1, 0, 4, big, 4096), Z4AiErrorKind.CorruptFrame, 7, $"buffer frame declares {big} raw bytes");
        yield return Bad("chunk 4095", Header(1, 0, 4, 5, 4095), Z4AiErrorKind.CorruptFrame, 8, "buffer frame chunk size 4095 is not a power of two from 4096 to 67108864");
        yield return Bad("chunk 2048", Header(1, 0, 4, 5, 2048), Z4AiErrorKind.CorruptFrame, 8, "buffer frame chunk size 2048 is not a power of two from 4096 to 67108864");
        yield return Bad("chunk 2^27", Header(1, 0, 4, 5, 1 << 27), Z4AiErrorKind.CorruptFrame, 8, "buffer frame chunk size 134217728 is not a power of two from 4096 to 67108864");
        yield return Bad("chunk 12288", Header(1, 0, 4, 5, 12288), Z4AiErrorKind.CorruptFrame, 8, "buffer frame chunk size 12288 is not a power of two from 4096 to 67108864");
        yield return Bad("chunk 4097", Header(1, 0, 4, 300, 4097), Z4AiErrorKind.CorruptFrame, 9, "buffer frame chunk size 4097 is not a power of two from 4096 to 67108864");
        yield return Bad("dim 2^63", Header(1, 1, 4, 5, 4096, 2, 1, big), Z4AiErrorKind.CorruptFrame, 10, $"buffer frame dimension 1 is {big}");
        yield return Bad("shape too small", Header(1, 1, 17, 25, 4096, 2, 2, 3), Z4AiErrorKind.CorruptFrame, 10, "buffer frame shape [2,3] of F32 does not hold 25 bytes");
        yield return Bad("shape too large", Header(1, 1, 17, 20, 4096, 2, 2, 3), Z4AiErrorKind.CorruptFrame, 10, "buffer frame shape [2,3] of F32 does not hold 20 bytes");
        yield return Bad("shape overflows", Header(1, 1, 17, 8, 4096, 2, 1UL << 62, 1UL << 62), Z4AiErrorKind.CorruptFrame, 10, $"buffer frame shape [{1L << 62},{1L << 62}] of F32 does not hold 8 bytes");
    }

    private static TestCaseData Bad(string name, byte[] bytes, Z4AiErrorKind kind, long offset, string detail) =>
        new TestCaseData(bytes, kind, offset, detail).SetArgDisplayNames(name);

    [TestCaseSource(nameof(BadHeaders))]
    public void BufferFrameReadHeader_BadField_ThrowsExactKindOffsetAndMessage(byte[] bytes, Z4AiErrorKind kind, long offset, string detail)
    {
        Z4AiFormatException ex = ReadFails(bytes);
        Assert.That(ex.Kind, Is.EqualTo(kind));
        Assert.That(ex.Detail, Is.EqualTo(detail));
        Assert.That(ex.Offset, Is.EqualTo(offset));
    }

    [Test]
    public void BufferFrameReadHeader_LimitsThemselves_AreAccepted()
    {
        BufferFrameHeader smallest = Read(Header(1, 0, 21, 0, BufferFrame.MinChunkSize));
        Assert.That((smallest.DType, smallest.RawLength, smallest.ChunkSize, smallest.Shape), Is.EqualTo((DType.U64, 0L, 4096, (long[]?)null)));

        BufferFrameHeader largest = Read(Header(1, 0, 0, long.MaxValue, BufferFrame.MaxChunkSize));
        Assert.That((largest.DType, largest.RawLength, largest.ChunkSize), Is.EqualTo((DType.BOOL, long.MaxValue, 64 << 20)));

        // A dimension of exactly long.MaxValue passes the dimension check and is refused by the shape check.
        Z4AiFormatException widest = ReadFails(Header(1, 1, 4, long.MaxValue, 8192, 1, long.MaxValue));
        Assert.That(widest.Detail, Is.EqualTo($"buffer frame shape [{long.MaxValue}] of U8 does not hold {long.MaxValue} bytes"));
        Assert.That(widest.Offset, Is.EqualTo(18));
    }

    [Test]
    public void BufferFrameReadHeader_ShapeMatchingTheLength_IsReturned()
    {
        BufferFrameHeader header = Read(Header(1, 1, 17, 24, 4096, 2, 2, 3));
        Assert.That(header.DType, Is.EqualTo(DType.F32));
        Assert.That(header.RawLength, Is.EqualTo(24));
        Assert.That(header.Shape, Is.EqualTo(new long[] { 2, 3 }));

        // Rank 0 is a scalar: one element.
        BufferFrameHeader scalar = Read(Header(1, 1, 14, 2, 4096, 0));
        Assert.That(scalar.Shape, Is.Empty);
    }

    [Test]
    public void BufferFrameWriteHeader_KnownFields_GiveKnownBytes()
    {
        var output = new ArrayBufferWriter<byte>();
        BufferFrame.WriteHeader(new BufferFrameHeader(DType.F32, 300, 4096, [3, 25]), output);
        Assert.That(Convert.ToHexString(output.WrittenSpan), Is.EqualTo("5A344146" + "01" + "01" + "11" + "AC02" + "8020" + "02" + "03" + "19"));

        output.Clear();
        BufferFrame.WriteHeader(new BufferFrameHeader(DType.BF16, 128, 1 << 22, null), output);
        Assert.That(Convert.ToHexString(output.WrittenSpan), Is.EqualTo("5A344146" + "01" + "00" + "0E" + "8001" + "80808002"));
        Assert.That(Read(output.WrittenSpan.ToArray()).ChunkSize, Is.EqualTo(BufferFrame.DefaultChunkSize));
    }

    [Test]
    public void BufferFrameHasMagic_OnlyTheFourMagicBytes()
    {
        Assert.That(BufferFrame.HasMagic("Z4AF\x01"u8), Is.True);
        Assert.That(BufferFrame.HasMagic("Z4AF"u8), Is.True);
        Assert.That(BufferFrame.HasMagic("Z4A"u8), Is.False);
        Assert.That(BufferFrame.HasMagic("Z4AX"u8), Is.False);
    }

    [TestCase(0L, 4096, 0L)]
    [TestCase(1L, 4096, 1L)]
    [TestCase(4096L, 4096, 1L)]
    [TestCase(4097L, 4096, 2L)]
    [TestCase(8192L, 4096, 2L)]
    [TestCase(10000L, 4096, 3L)]
    public void BufferFrameHeaderChunkCount_IsTheCeiling(long raw, int chunk, long expected)
    {
        var header = new BufferFrameHeader(DType.U8, raw, chunk, null);
        Assert.That(header.ChunkCount, Is.EqualTo(expected));
    }

    [Test]
    public void BufferFrameHeaderChunkLength_LastChunkIsTheRemainder()
    {
        var header = new BufferFrameHeader(DType.U8, 10000, 4096, null);
        Assert.That(new[] { header.ChunkLength(0), header.ChunkLength(1), header.ChunkLength(2) }, Is.EqualTo(new[] { 4096, 4096, 1808 }));
        Assert.That(new BufferFrameHeader(DType.U8, 8192, 4096, null).ChunkLength(1), Is.EqualTo(4096));
    }

    [Test]
    public void BufferFrameRowLength_IsTheLastDimensionOfRankTwoOrMore()
    {
        Assert.That(BufferFrame.RowLength(null), Is.Zero);
        Assert.That(BufferFrame.RowLength([]), Is.Zero);
        Assert.That(BufferFrame.RowLength([7]), Is.Zero);
        Assert.That(BufferFrame.RowLength([2, 7]), Is.EqualTo(7));
        Assert.That(BufferFrame.RowLength([2, 3, 5]), Is.EqualTo(5));
        Assert.That(BufferFrame.RowLength([2, 1]), Is.EqualTo(1));
        Assert.That(BufferFrame.RowLength([2, 0]), Is.Zero);
        Assert.That(BufferFrame.RowLength([2, -1]), Is.Zero);
        Assert.That(BufferFrame.RowLength([1, int.MaxValue]), Is.EqualTo(int.MaxValue));
        Assert.That(BufferFrame.RowLength([1, int.MaxValue + 1L]), Is.Zero);
    }

    /// <summary>A U8 buffer frame of stored chunks, built by hand: header, records, a digest of zeros.</summary>
    private static byte[] StoredFrame(int rawLength, int chunkSize, out int[] recordOffsets, Func<int, byte[]>? chunkFrame = null, int extra = 0)
    {
        var output = new ArrayBufferWriter<byte>();
        BufferFrame.WriteHeader(new BufferFrameHeader(DType.U8, rawLength, chunkSize, null), output);
        var offsets = new List<int>();
        for (int c = 0; c * chunkSize < rawLength; c++)
        {
            offsets.Add(output.WrittenCount);
            int n = Math.Min(chunkSize, rawLength - (c * chunkSize));
            byte[] frame = chunkFrame?.Invoke(c) ?? [0, .. VarIntBytes((ulong)n), .. new byte[n]];
            BufferFrame.WriteChunk(frame, output);
        }

        output.Write(new byte[BufferFrame.DigestLength + extra]);
        recordOffsets = [.. offsets];
        return output.WrittenSpan.ToArray();
    }

    private static byte[] VarIntBytes(ulong value)
    {
        var output = new ArrayBufferWriter<byte>();
        VarInt.Write(output, value);
        return output.WrittenSpan.ToArray();
    }

    [Test]
    public void BufferFrameIndex_WellFormedFrame_GivesEveryRecordAndTheDigest()
    {
        byte[] frame = StoredFrame(5000, 4096, out int[] records);
        (BufferFrameHeader header, int[] offsets, int digest) = BufferFrame.Index(frame);
        Assert.That(header.RawLength, Is.EqualTo(5000));
        Assert.That(offsets, Is.EqualTo(records));
        Assert.That(records, Is.EqualTo(new[] { 11, 11 + 2 + 1 + 2 + 4096 }));
        Assert.That(digest, Is.EqualTo(frame.Length - 32));

        // The chunk record is the varint length and then the frame itself.
        var reader = new SpanReader(frame.AsSpan(records[1]));
        ReadOnlySpan<byte> chunk = BufferFrame.ReadChunk(ref reader, header, 1);
        Assert.That(chunk.Length, Is.EqualTo(1 + 2 + 904));
        Assert.That(reader.Position, Is.EqualTo(2 + 1 + 2 + 904));
    }

    [Test]
    public void BufferFrameIndex_EmptyBuffer_IsHeaderAndDigestOnly()
    {
        byte[] frame = StoredFrame(0, 4096, out int[] records);
        (_, int[] offsets, int digest) = BufferFrame.Index(frame);
        Assert.That(records, Is.Empty);
        Assert.That(offsets, Is.Empty);
        Assert.That(digest, Is.EqualTo(10));
    }

    [Test]
    public void BufferFrameIndex_BytesAfterTheDigest_NamesHowMany()
    {
        byte[] frame = StoredFrame(100, 4096, out _, extra: 3);
        var ex = Assert.Throws<Z4AiFormatException>(() => BufferFrame.Index(frame))!;
        Assert.That(ex.Detail, Is.EqualTo("buffer frame has 3 bytes after its SHA-256"));
        Assert.That(ex.Offset, Is.EqualTo(frame.Length - 3));
    }

    [Test]
    public void BufferFrameIndex_MoreChunksThanTheBytesCanHold_IsRefusedBeforeReading()
    {
        // 100 chunks need at least 200 bytes of records; 32 bytes of digest and nothing else is far too little.
        byte[] frame = [.. Header(1, 0, 4, 409600, 4096), .. new byte[32]];
        var ex = Assert.Throws<Z4AiFormatException>(() => BufferFrame.Index(frame))!;
        Assert.That(ex.Detail, Is.EqualTo("buffer frame declares 409600 raw bytes in 100 chunks; 32 bytes cannot hold them"));
        Assert.That(ex.Offset, Is.Null);

        // Exactly two bytes per chunk passes the bound; the records themselves are then found wanting.
        byte[] tight = [.. Header(1, 0, 4, 8192, 4096), 1, 0, 1, 0, .. new byte[32]];
        var second = Assert.Throws<Z4AiFormatException>(() => BufferFrame.Index(tight))!;
        Assert.That(second.Detail, Does.Not.Contain("cannot hold"));
        Assert.That(second.Detail, Is.EqualTo("expected 1 more bytes, 0 remain"));

        // One byte short of that: refused by the bound.
        byte[] short1 = [.. Header(1, 0, 4, 8192, 4096), 1, 0, 1, .. new byte[32]];
        var third = Assert.Throws<Z4AiFormatException>(() => BufferFrame.Index(short1))!;
        Assert.That(third.Detail, Is.EqualTo("buffer frame declares 8192 raw bytes in 2 chunks; 35 bytes cannot hold them"));
    }

    [Test]
    public void BufferFrameReadChunk_EmptyRecord_NamesTheChunk()
    {
        byte[] frame = StoredFrame(5000, 4096, out int[] records, c => c == 1 ? [] : [0, .. VarIntBytes(4096), .. new byte[4096]]);
        var ex = Assert.Throws<Z4AiFormatException>(() => BufferFrame.Index(frame))!;
        Assert.That(ex.Detail, Is.EqualTo("chunk 1 is empty"));
        Assert.That(ex.Offset, Is.EqualTo(records[1]));
    }

    [Test]
    public void BufferFrameReadChunk_WrongDeclaredLength_NamesBothLengths()
    {
        byte[] frame = StoredFrame(5000, 4096, out int[] records, c => c == 0 ? [0, .. VarIntBytes(4095), .. new byte[4095]] : [0, .. VarIntBytes(904), .. new byte[904]]);
        var ex = Assert.Throws<Z4AiFormatException>(() => BufferFrame.Index(frame))!;
        Assert.That(ex.Detail, Is.EqualTo("chunk 0 declares 4095 raw bytes, expected 4096"));
        Assert.That(ex.Offset, Is.EqualTo(records[0]));
    }

    [Test]
    public void BufferFrameReadChunk_RecordLongerThanTheLargestFrame_IsRefused()
    {
        // 904 raw bytes allow a frame of at most 915 bytes; a record declaring 916 is refused even with bytes to spare.
        byte[] frame = StoredFrame(5000, 4096, out _, c => c == 0 ? [0, .. VarIntBytes(4096), .. new byte[4096]] : [0, .. VarIntBytes(904), .. new byte[913]]);
        var ex = Assert.Throws<Z4AiFormatException>(() => BufferFrame.Index(frame))!;
        Assert.That(ex.Detail, Is.EqualTo("length 916 exceeds the allowed 915"));
    }

    [Test]
    public void BufferFrameEncode_AnyParallelism_GivesTheSameChunksAndTrailer()
    {
        byte[] raw = CodecKernelsMutationTestsData.Bf16Ramp(4500);
        byte[] digest = SHA256.HashData(raw);
        byte[][] frames = [.. new[] { 1, 2, 4 }.Select(p =>
        {
            var output = new ArrayBufferWriter<byte>();
            BufferFrame.Encode(raw, DType.BF16, [9, 500], CompressionEffort.Fast, 4096, p, output, digest);
            return output.WrittenSpan.ToArray();
        })];
        Assert.That(frames[1], Is.EqualTo(frames[0]));
        Assert.That(frames[2], Is.EqualTo(frames[0]));
        (BufferFrameHeader header, int[] offsets, int digestOffset) = BufferFrame.Index(frames[0]);
        Assert.That(header.Shape, Is.EqualTo(new long[] { 9, 500 }));
        Assert.That(offsets, Has.Length.EqualTo(3));
        Assert.That(frames[0].AsSpan(digestOffset).ToArray(), Is.EqualTo(digest));
        for (int c = 0; c < offsets.Length; c++)
        {
            var reader = new SpanReader(frames[0].AsSpan(offsets[c]));
            byte[] back = new byte[header.ChunkLength(c)];
            TensorCodec.Decode(BufferFrame.ReadChunk(ref reader, header, c), back);
            Assert.That(back, Is.EqualTo(raw.AsSpan(c * 4096, back.Length).ToArray()), $"chunk {c}");
        }
    }

    [Test]
    public void TensorCodecEncode_BelowSixteenBytes_IsStoredVerbatim()
    {
        byte[] zeros = new byte[15];
        var output = new ArrayBufferWriter<byte>();
        Assert.That(TensorCodec.Encode(zeros, DType.U8, CompressionEffort.Max, output), Is.EqualTo(CodecId.Stored));
        Assert.That(Convert.ToHexString(output.WrittenSpan), Is.EqualTo("000F" + new string('0', 30)));

        // Up to 31 bytes the recipe encoder stores too (its own minimum), so the frame is the same stored frame.
        output.Clear();
        Assert.That(TensorCodec.Encode(new byte[31], DType.BOOL, CompressionEffort.Max, output), Is.EqualTo(CodecId.Stored));
        Assert.That(output.WrittenCount, Is.EqualTo(2 + 31));

        // 256 false booleans are worth coding (one bit each at most).
        output.Clear();
        Assert.That(TensorCodec.Encode(new byte[256], DType.BOOL, CompressionEffort.Max, output), Is.Not.EqualTo(CodecId.Stored));
        Assert.That(output.WrittenCount, Is.LessThan(3 + 32));
    }

    [Test]
    public void TensorCodecEncode_IncompressibleInput_IsStoredWithItsLength()
    {
        byte[] raw = new byte[300];
        new Random(5).NextBytes(raw);
        var output = new ArrayBufferWriter<byte>();
        Assert.That(TensorCodec.Encode(raw, DType.U8, CompressionEffort.Default, output), Is.EqualTo(CodecId.Stored));
        Assert.That(output.WrittenSpan[..3].ToArray(), Is.EqualTo(new byte[] { 0, 0xAC, 0x02 }));
        Assert.That(output.WrittenSpan[3..].ToArray(), Is.EqualTo(raw));
        Assert.That(output.WrittenCount, Is.LessThanOrEqualTo(TensorCodec.GetMaxEncodedLength(raw.Length)));
        Assert.That(TensorCodec.GetMaxEncodedLength(300), Is.EqualTo(311));
        Assert.That(TensorCodec.MaxHeaderLength, Is.EqualTo(11));
    }

    [Test]
    public void TensorCodecEncode_NullOutputOrNegativeRowLength_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => TensorCodec.Encode(new byte[4], DType.U8, CompressionEffort.Fast, null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => TensorCodec.Encode(new byte[4], DType.U8, CompressionEffort.Fast, new ArrayBufferWriter<byte>(), -1));
        Assert.DoesNotThrow(() => TensorCodec.Encode(new byte[4], DType.U8, CompressionEffort.Fast, new ArrayBufferWriter<byte>(), 0));
    }

    [Test]
    public void TensorCodecReadHeader_KnownAndUnknownIds()
    {
        Assert.That(TensorCodec.ReadHeader([3, 0xAC, 0x02, 9]), Is.EqualTo((CodecId.Recipe, 300, 3)));
        Assert.That(TensorCodec.ReadHeader([2, 5]), Is.EqualTo((CodecId.PlanesZstd, 5, 2)));
        var ex = Assert.Throws<Z4AiFormatException>(() => TensorCodec.ReadHeader([4, 5]))!;
        Assert.That(ex.Detail, Is.EqualTo("unknown codec id 4"));
        Assert.That(ex.Offset, Is.Zero);
    }

    [Test]
    public void TensorCodecDecode_LengthMismatches_NameBothLengths()
    {
        var wrongDestination = Assert.Throws<Z4AiFormatException>(() => TensorCodec.Decode([0, 5, 1, 2, 3, 4, 5], new byte[6]))!;
        Assert.That(wrongDestination.Detail, Is.EqualTo("frame declares 5 raw bytes, expected 6"));

        var shortStored = Assert.Throws<Z4AiFormatException>(() => TensorCodec.Decode([0, 5, 1, 2, 3, 4], new byte[5]))!;
        Assert.That(shortStored.Detail, Is.EqualTo("stored frame holds 4 bytes, expected 5"));
        var longStored = Assert.Throws<Z4AiFormatException>(() => TensorCodec.Decode([0, 5, 1, 2, 3, 4, 5, 6], new byte[5]))!;
        Assert.That(longStored.Detail, Is.EqualTo("stored frame holds 6 bytes, expected 5"));

        byte[] back = new byte[5];
        TensorCodec.Decode([0, 5, 1, 2, 3, 4, 5], back);
        Assert.That(back, Is.EqualTo(new byte[] { 1, 2, 3, 4, 5 }));
    }

    [Test]
    public void TensorCodecDecode_StoredPlanes_MergeAndKeepTheTail()
    {
        // Two 2-byte elements and one tail byte: plane 0 = low bytes, plane 1 = high bytes, both stored.
        byte[] frame = [2, 5, 2, 0, 2, 0x11, 0x22, 0, 2, 0xA1, 0xA2, 0x77];
        byte[] back = new byte[5];
        TensorCodec.Decode(frame, back);
        Assert.That(back, Is.EqualTo(new byte[] { 0x11, 0xA1, 0x22, 0xA2, 0x77 }));
    }

    private static IEnumerable<TestCaseData> BadPlaneFrames()
    {
        yield return new TestCaseData(new byte[] { 2, 4, 3, 0, 1, 9 }, "plane frame has element size 3, expected 2, 4 or 8").SetArgDisplayNames("size 3");
        yield return new TestCaseData(new byte[] { 2, 4, 1, 0, 1, 9 }, "plane frame has element size 1, expected 2, 4 or 8").SetArgDisplayNames("size 1");
        yield return new TestCaseData(new byte[] { 2, 4, 2, 0, 1, 9, 0, 2, 1, 2 }, "plane 0 has mode 0 and length 1, expected a stored plane of 2 bytes or zstd").SetArgDisplayNames("short stored plane");
        yield return new TestCaseData(new byte[] { 2, 4, 2, 0, 2, 1, 2, 7, 2, 1, 2 }, "plane 1 has mode 7 and length 2, expected a stored plane of 2 bytes or zstd").SetArgDisplayNames("unknown mode");
        yield return new TestCaseData(new byte[] { 2, 4, 2, 0, 2, 1, 2, 0, 2, 1, 2, 5 }, "plane frame ends with 1 tail bytes, expected 0").SetArgDisplayNames("extra tail");
        yield return new TestCaseData(new byte[] { 2, 5, 2, 0, 2, 1, 2, 0, 2, 1, 2 }, "plane frame ends with 0 tail bytes, expected 1").SetArgDisplayNames("missing tail");
    }

    [TestCaseSource(nameof(BadPlaneFrames))]
    public void TensorCodecDecode_BadLegacyPlaneFrame_ThrowsExactMessage(byte[] frame, string detail)
    {
        var ex = Assert.Throws<Z4AiFormatException>(() => TensorCodec.Decode(frame, new byte[frame[1]]))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.CorruptFrame));
        Assert.That(ex.Detail, Is.EqualTo(detail));
    }
}

/// <summary>Small deterministic inputs shared by the mutation tests.</summary>
internal static class CodecKernelsMutationTestsData
{
    /// <summary><paramref name="count"/> BF16 values of a slow ramp with a little noise (compressible, not trivial).</summary>
    public static byte[] Bf16Ramp(int count)
    {
        var random = new Random(17);
        float[] values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (float)((i % 500) * 0.001 + (random.NextDouble() * 0.01));
        }

        return Codecs.CodecSamples.Bf16(values);
    }
}
