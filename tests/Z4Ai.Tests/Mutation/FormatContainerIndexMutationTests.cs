using System.Buffers;
using System.IO.Hashing;
using System.Security.Cryptography;
using NUnit.Framework;
using Z4Ai.Format;
using Z4Ai.Tests.Format;

namespace Z4Ai.Tests.Mutation;

/// <summary>
/// <see cref="ContainerIndex"/> pinned field by field: every refusal of the parse with its kind, absolute offset,
/// tensor name and exact message (and the accepted value just inside each bound), the plain and packed record
/// layouts the serialiser writes byte for byte, and the derived-header recipe. Indexes are built with
/// <see cref="IndexBuilder"/>, independently of the serialiser, and parsed in memory (no file).
/// </summary>
public class FormatContainerIndexMutationTests
{
    private static readonly byte[] Raw = [1, 2, 3, 4];
    private static readonly byte[] Frame = [0, 4, 1, 2, 3, 4];
    private static readonly byte[] Frame2 = [0, 4, 9, 8, 7, 6];

    // One U8 tensor "t" of 4 bytes in one 6-byte frame at offset 8: the index starts at 14. Its layout:
    // 0-3 chunk size, 4 count, 5 name length, 6 name, 7 dtype, 8 rank, 9 dim, 10 raw length, 11-42 SHA-256,
    // 43 storage kind, 44 chunk count, 45 offset, 46 stored length, 47 raw length, 48 codec, 49-56 checksum,
    // 57 header presence, 58 metadata presence.
    private static IndexBuilder Head(uint chunkSize = 4096, ulong count = 1) => new IndexBuilder().U32(chunkSize).Var(count);

    private static IndexBuilder Stored(IndexBuilder b, string name = "t") => b.Entry(name, DType.U8, [4], 4, Raw).U8(0).Var(1).Chunk(8, Frame, 4);

    private static byte[] Baseline(uint chunkSize = 4096) => Stored(Head(chunkSize)).U8(0).U8(0).ToArray();

    private static Z4AiFormatException Refused(byte[] index, long indexOffset = 14, ReadLimits? limits = null, bool unpacked = false) =>
        Assert.Throws<Z4AiFormatException>(() => ContainerIndex.Parse(index, indexOffset, limits, unpacked))!;

    private static void AssertRefusal(Z4AiFormatException ex, Z4AiErrorKind kind, long offset, string? tensor, string detail)
    {
        Assert.That(ex.Kind, Is.EqualTo(kind), ex.Message);
        Assert.That(ex.Detail, Is.EqualTo(detail));
        Assert.That(ex.Offset, Is.EqualTo(offset), ex.Message);
        Assert.That(ex.TensorName, Is.EqualTo(tensor), ex.Message);
        Assert.That(ex.FilePath, Is.Null);
    }

    [Test]
    public void Parse_Baseline_GivesEveryField()
    {
        ContainerIndex index = ContainerIndex.Parse(Baseline(), 14);
        Assert.That(index.ChunkSize, Is.EqualTo(4096));
        Assert.That(index.OriginalHeader, Is.Null);
        Assert.That(index.Metadata, Is.Null);
        Assert.That(index.Entries, Has.Length.EqualTo(1));
        ContainerEntry e = index.Entries[0];
        Assert.That((e.Index, e.Name, e.DType, e.RawLength, e.StoredLength, e.DuplicateOf), Is.EqualTo((0, "t", DType.U8, 4L, 6L, (int?)null)));
        Assert.That(e.Shape, Is.EqualTo(new long[] { 4 }));
        Assert.That(e.Sha256, Is.EqualTo(SHA256.HashData(Raw)));
        Assert.That(e.Chunks, Is.EqualTo(new[] { new ContainerChunk(8, 6, 4, 0, XxHash3.HashToUInt64(Frame)) }));
        Assert.That(e.ToString(), Is.EqualTo("t: U8[4] (4 bytes, 1 chunks)"));
    }

    [TestCase(4096u)]
    [TestCase(8192u)]
    [TestCase(64u << 20)]
    public void Parse_ChunkSizeAllowed_IsKept(uint chunkSize) =>
        Assert.That(ContainerIndex.Parse(Baseline(chunkSize), 14).ChunkSize, Is.EqualTo((int)chunkSize));

    [TestCase(128u << 20)]
    [TestCase((64u << 20) + 1)]
    [TestCase(uint.MaxValue)]
    public void Parse_ChunkSizeAboveTheFormatLimit_IsLimitExceeded(uint chunkSize) =>
        AssertRefusal(Refused(Baseline(chunkSize)), Z4AiErrorKind.LimitExceeded, 14, null, $"chunk size {chunkSize} exceeds the limit of 67108864");

    [TestCase(0u)]
    [TestCase(2048u)]
    [TestCase(4095u)]
    [TestCase(5000u)]
    [TestCase(12288u)]
    [TestCase((32u << 20) + 4096)]
    public void Parse_ChunkSizeNotAnAllowedPowerOfTwo_IsInvalid(uint chunkSize) =>
        AssertRefusal(Refused(Baseline(chunkSize)), Z4AiErrorKind.InvalidContainer, 14, null, $"chunk size {chunkSize} is not a power of two from 4096 to 67108864");

    [Test]
    public void Parse_ChunkSizeAboveTheReadLimit_IsLimitExceededAndTheLimitItselfPasses()
    {
        var limits = new ReadLimits { MaxChunkBytes = 8192 };
        AssertRefusal(Refused(Baseline(16384), limits: limits), Z4AiErrorKind.LimitExceeded, 14, null, "chunk size 16384 exceeds the read limit of 8192");
        Assert.That(ContainerIndex.Parse(Baseline(8192), 14, limits).ChunkSize, Is.EqualTo(8192));
    }

    [Test]
    public void Parse_MoreTensorsThanTheBytesHold_NamesTheCountAndTheRoom()
    {
        byte[] index = Stored(Head(count: 2)).U8(0).U8(0).ToArray();
        AssertRefusal(Refused(index), Z4AiErrorKind.InvalidContainer, 18, null, "index declares 2 tensors but its remaining 54 bytes hold at most 1");
    }

    [Test]
    public void Parse_TensorCountAboveTheReadLimit_IsLimitExceededAndTheLimitItselfPasses()
    {
        byte[] index = Stored(Head(count: 2)).Entry("u", DType.U8, [4], 4, Raw).U8(1).Var(0).U8(0).U8(0).ToArray();
        AssertRefusal(Refused(index, limits: new ReadLimits { MaxTensorCount = 1 }), Z4AiErrorKind.LimitExceeded, 18, null, "index declares 2 tensors, more than the read limit of 1");
        Assert.That(ContainerIndex.Parse(index, 14, new ReadLimits { MaxTensorCount = 2 }).Entries, Has.Length.EqualTo(2));
    }

    [Test]
    public void Parse_ValidDuplicate_SharesTheChunkListAndStoresNothing()
    {
        byte[] index = Stored(Head(count: 2)).Entry("u", DType.U8, [4], 4, Raw).U8(1).Var(0).U8(0).U8(0).ToArray();
        ContainerIndex parsed = ContainerIndex.Parse(index, 14);
        ContainerEntry u = parsed.Entries[1];
        Assert.That((u.Index, u.Name, u.DuplicateOf, u.StoredLength, u.RawLength), Is.EqualTo((1, "u", (int?)0, 0L, 4L)));
        Assert.That(u.Chunks, Is.SameAs(parsed.Entries[0].Chunks));
    }

    [Test]
    public void Parse_NameTwice_IsDuplicateKeyAtTheSecondEntry()
    {
        byte[] index = Stored(Head(count: 2)).Entry("t", DType.U8, [4], 4, Raw).U8(1).Var(0).U8(0).U8(0).ToArray();
        AssertRefusal(Refused(index), Z4AiErrorKind.DuplicateKey, 14 + 57, "t", "tensor name appears twice in the index (entries 0 and 1)");
    }

    [Test]
    public void Parse_NameNotUtf8_IsRefusedWithoutATensorName()
    {
        byte[] first = Head().Var(1).U8(0xFF).ToArray();
        AssertRefusal(Refused([.. first, .. new byte[60]]), Z4AiErrorKind.InvalidContainer, 19, null, "the tensor name is not valid UTF-8");

        // The second entry's bad name is not blamed on the first tensor.
        byte[] second = Stored(Head(count: 2)).Var(1).U8(0xC3).ToArray();
        AssertRefusal(Refused([.. second, .. new byte[60]]), Z4AiErrorKind.InvalidContainer, 14 + 57, null, "the tensor name is not valid UTF-8");
    }

    [Test]
    public void Parse_UnknownDType_IsRefusedAndTheLastDTypeIsKnown()
    {
        byte[] index = Head().Entry("t", (DType)DTypeInfo.Count, [4], 4, Raw).U8(0).Var(1).Chunk(8, Frame, 4).U8(0).U8(0).ToArray();
        AssertRefusal(Refused(index), Z4AiErrorKind.InvalidContainer, 21, "t", "unknown dtype code 22");

        byte[] frame = [0, 8, 1, 2, 3, 4, 5, 6, 7, 8];
        byte[] u64 = Head().Entry("t", DType.U64, [1], 8, Raw).U8(0).Var(1).Chunk(8, frame, 8).U8(0).U8(0).ToArray();
        Assert.That(ContainerIndex.Parse(u64, 18).Entries[0].DType, Is.EqualTo(DType.U64));
    }

    [Test]
    public void Parse_DimensionBeyondSigned64Bits_IsRefusedAtTheDimension()
    {
        byte[] index = Head().Name("t").U8((int)DType.U8).Var(2).Var(1).Var(1UL << 63).Var(1).Bytes(new byte[60]).ToArray();
        AssertRefusal(Refused(index), Z4AiErrorKind.InvalidContainer, 14 + 10, "t", "dimension 1 is 9223372036854775808, beyond the signed 64-bit range");

        // long.MaxValue itself is a dimension; its byte count is what fails.
        byte[] max = Head().Name("t").U8((int)DType.U8).Var(1).Var(long.MaxValue).Var(1).Bytes(new byte[60]).ToArray();
        int rawAt = Head().Name("t").U8((int)DType.U8).Var(1).Var(long.MaxValue).ToArray().Length;
        AssertRefusal(Refused(max), Z4AiErrorKind.InvalidContainer, 14 + rawAt, "t", "the shape [9223372036854775807] of U8 has no valid byte length");
    }

    [Test]
    public void Parse_ShapeWithoutAByteLength_IsRefusedAtTheRawLength()
    {
        byte[] overflow = Head().Entry("t", DType.F32, [1L << 62, 1L << 62], 4, Raw).U8(0).ToArray();
        int rawAt = Head().Name("t").U8((int)DType.F32).Var(2).Var(1UL << 62).Var(1UL << 62).ToArray().Length;
        AssertRefusal(Refused([.. overflow, .. new byte[40]]), Z4AiErrorKind.InvalidContainer, 14 + rawAt, "t", "the shape [4611686018427387904,4611686018427387904] of F32 has no valid byte length");

        byte[] misaligned = Head().Entry("t", DType.F4, [3], 2, Raw).U8(0).ToArray();
        AssertRefusal(Refused([.. misaligned, .. new byte[40]]), Z4AiErrorKind.InvalidContainer, 14 + 10, "t", "the shape [3] of F4 has no valid byte length");
    }

    [Test]
    public void Parse_RawLengthNotTheShapes_NamesBoth()
    {
        byte[] index = Head().Entry("t", DType.U8, [5], 4, Raw).U8(0).Var(1).Chunk(8, Frame, 4).U8(0).U8(0).ToArray();
        AssertRefusal(Refused(index), Z4AiErrorKind.InvalidContainer, 14 + 10, "t", "raw length 4 does not match the 5 bytes of U8[5]");
        byte[] longer = Head().Entry("t", DType.I16, [2, 1], 5, Raw).U8(0).Var(1).Chunk(8, Frame, 4).U8(0).U8(0).ToArray();
        AssertRefusal(Refused(longer), Z4AiErrorKind.InvalidContainer, 14 + 11, "t", "raw length 5 does not match the 4 bytes of I16[2,1]");
    }

    private static IEnumerable<TestCaseData> BadDuplicates()
    {
        IndexBuilder Two() => Stored(Head(count: 2));
        TestCaseData Case(string name, IndexBuilder b, int entry, int target, long indexOffset = 14) =>
            new TestCaseData(b.U8(0).U8(0).ToArray(), entry, target, indexOffset).SetName(name);
        yield return Case("Parse_DuplicateOfItself_IsRefused", Two().Entry("u", DType.U8, [4], 4, Raw).U8(1).Var(1), 1, 1);
        yield return Case("Parse_DuplicateOfALaterEntry_IsRefused", Two().Entry("u", DType.U8, [4], 4, Raw).U8(1).Var(7), 1, 7);
        yield return Case("Parse_DuplicateWithAnotherDType_IsRefused", Two().Entry("u", DType.I8, [4], 4, Raw).U8(1).Var(0), 1, 0);
        yield return Case("Parse_DuplicateWithAnotherDigest_IsRefused", Two().Entry("u", DType.U8, [4], 4, Frame).U8(1).Var(0), 1, 0);
        yield return Case("Parse_DuplicateWithAnotherShapeOfTheSameLength_IsAccepted", Two().Entry("u", DType.U8, [2, 2], 4, Raw).U8(1).Var(0), -1, 0);
        yield return Case("Parse_DuplicateWithAnotherLength_IsRefused", Two().Entry("u", DType.U8, [5], 5, Raw).U8(1).Var(0), 1, 0);
        yield return Case(
            "Parse_DuplicateOfADuplicate_IsRefused",
            Stored(Head(count: 3)).Entry("u", DType.U8, [4], 4, Raw).U8(1).Var(0).Entry("v", DType.U8, [4], 4, Raw).U8(1).Var(1),
            2,
            1);
        yield return Case(
            "Parse_DuplicateOfAnEmptyTensor_IsRefused",
            Head(count: 2).Entry("t", DType.U8, [0], 0, []).U8(0).Var(0).Entry("u", DType.U8, [0], 0, []).U8(1).Var(0),
            1,
            0,
            8);
    }

    [TestCaseSource(nameof(BadDuplicates))]
    public void Parse_DuplicateRecord(byte[] index, int entry, int target, long indexOffset)
    {
        if (entry < 0)
        {
            Assert.That(ContainerIndex.Parse(index, indexOffset).Entries[1].DuplicateOf, Is.EqualTo(0));
            return;
        }

        int kindAt = index.Length - 2 - 1 - 1;
        AssertRefusal(Refused(index, indexOffset), Z4AiErrorKind.InvalidContainer, indexOffset + kindAt, entry == 2 ? "v" : "u",
            $"entry {entry} claims to repeat entry {target}, which is not an earlier stored tensor with the same dtype, length and SHA-256");
    }

    [Test]
    public void Parse_UnknownStorageKind_IsRefusedAtTheKind()
    {
        byte[] index = Head().Entry("t", DType.U8, [4], 4, Raw).U8(2).Var(1).Chunk(8, Frame, 4).U8(0).U8(0).ToArray();
        AssertRefusal(Refused(index), Z4AiErrorKind.InvalidContainer, 14 + 43, "t", "unknown entry storage kind 2");
    }

    [Test]
    public void Parse_MoreChunksThanTheBytesHold_IsRefusedBeforeReadingThem()
    {
        // 11 bytes remain at the chunk count: one plain record needs 12.
        byte[] plain = Head().Entry("t", DType.U8, [4], 4, Raw).U8(0).Bytes(new byte[11]).ToArray();
        AssertRefusal(Refused(plain), Z4AiErrorKind.InvalidContainer, 14 + 44, "t", "a tensor of 4 bytes needs 1 chunks of 4096, but the remaining 11 index bytes cannot hold them");

        // A packed record needs 11: the same bytes pass that check and fail later; 10 do not.
        byte[] packed = Head().Entry("t", DType.U8, [4], 4, Raw).U8(0).Bytes(new byte[10]).ToArray();
        Z4AiFormatException ex = Refused(packed, unpacked: true);
        Assert.That(ex.Detail, Is.EqualTo("a tensor of 4 bytes needs 1 chunks of 4096, but the remaining 10 index bytes cannot hold them (at byte 44 of the unpacked index)"));
        Assert.That(Refused(plain, unpacked: true).Detail, Does.Not.Contain("cannot hold them"));

        byte[] big = Head().Entry("t", DType.U8, [8193], 8193, Raw).U8(0).Bytes(new byte[35]).ToArray();
        AssertRefusal(Refused(big), Z4AiErrorKind.InvalidContainer, 14 + 46, "t", "a tensor of 8193 bytes needs 3 chunks of 4096, but the remaining 35 index bytes cannot hold them");
    }

    [Test]
    public void Parse_WrongChunkCount_NamesBothCounts()
    {
        byte[] index = Head().Entry("t", DType.U8, [4], 4, Raw).U8(0).Var(2).Chunk(8, Frame, 4).Chunk(8, Frame, 4).U8(0).U8(0).ToArray();
        AssertRefusal(Refused(index), Z4AiErrorKind.InvalidContainer, 14 + 44, "t", "the chunk table has 2 chunks; 4 bytes in chunks of 4096 need 1");
        byte[] none = Head().Entry("t", DType.U8, [4], 4, Raw).U8(0).Var(0).U8(0).U8(0).Bytes(new byte[12]).ToArray();
        AssertRefusal(Refused(none), Z4AiErrorKind.InvalidContainer, 14 + 44, "t", "the chunk table has 0 chunks; 4 bytes in chunks of 4096 need 1");
    }

    [Test]
    public void Parse_TwoChunks_TheFirstHoldsAChunkSizeAndTheLastTheRest()
    {
        IndexBuilder Entry() => Head().Entry("t", DType.U8, [4100], 4100, Raw).U8(0).Var(2);
        byte[] valid = Entry().Chunk(8, Frame, 4096).Chunk(14, Frame2, 4).U8(0).U8(0).ToArray();
        ContainerEntry e = ContainerIndex.Parse(valid, 20).Entries[0];
        Assert.That(e.Chunks.Select(c => (c.Offset, c.RawLength)), Is.EqualTo(new[] { (8L, 4096), (14L, 4) }));
        Assert.That(e.StoredLength, Is.EqualTo(12));

        byte[] lastWrong = Entry().Chunk(8, Frame, 4096).Chunk(14, Frame2, 5).U8(0).U8(0).ToArray();
        int firstAt = Entry().ToArray().Length;
        int secondAt = Entry().Chunk(8, Frame, 4096).ToArray().Length;
        Assert.That((firstAt, secondAt), Is.EqualTo((47, 60)));
        AssertRefusal(Refused(lastWrong, 20), Z4AiErrorKind.InvalidContainer, 20 + 60, "t", "chunk 1 declares 5 raw bytes, expected 4: the chunks must sum to the tensor's 4100 bytes");
        byte[] firstWrong = Entry().Chunk(8, Frame, 4095).Chunk(14, Frame2, 4).U8(0).U8(0).ToArray();
        AssertRefusal(Refused(firstWrong, 20), Z4AiErrorKind.InvalidContainer, 20 + 47, "t", "chunk 0 declares 4095 raw bytes, expected 4096: the chunks must sum to the tensor's 4100 bytes");
    }

    [Test]
    public void Parse_StoredLengthBounds_AreOneToTheLargestFrame()
    {
        int max = 4 + 11;
        byte[] Index(int stored) => Head().Entry("t", DType.U8, [4], 4, Raw).U8(0).Var(1).Var(8).Var((ulong)stored).Var(4).U8(0).U64(0).U8(0).U8(0).ToArray();
        Assert.That(ContainerIndex.Parse(Index(1), 9).Entries[0].StoredLength, Is.EqualTo(1));
        Assert.That(ContainerIndex.Parse(Index(max), 8 + max).Entries[0].StoredLength, Is.EqualTo(max));
        AssertRefusal(Refused(Index(0), 8), Z4AiErrorKind.InvalidContainer, 8 + 45, "t", $"chunk 0 stores 0 bytes for 4 raw bytes; a frame holds 1 to {max}");
        AssertRefusal(Refused(Index(max + 1), 9 + max), Z4AiErrorKind.InvalidContainer, 9 + max + 45, "t", $"chunk 0 stores {max + 1} bytes for 4 raw bytes; a frame holds 1 to {max}");
    }

    [TestCase(7UL, 14L)]
    [TestCase(9UL, 14L)]
    [TestCase(14UL, 14L)]
    [TestCase(20UL, 14L)]
    [TestCase(0UL, 14L)]
    public void Parse_ChunkOutsideTheDataSection_IsRefused(ulong offset, long indexOffset)
    {
        byte[] index = Head().Entry("t", DType.U8, [4], 4, Raw).U8(0).Var(1).Var(offset).Var(6).Var(4).U8(0).U64(0).U8(0).U8(0).ToArray();
        AssertRefusal(Refused(index, indexOffset), Z4AiErrorKind.InvalidContainer, indexOffset + 45, "t",
            $"chunk 0 at file offset {offset} with 6 bytes lies outside the data section [8, {indexOffset})");
    }

    [Test]
    public void Parse_SharedFrame_IsOneChunkCountedOnce()
    {
        byte[] index = Stored(Head(count: 2)).Entry("u", DType.U8, [4], 4, Frame).U8(0).Var(1).Chunk(8, Frame, 4).U8(0).U8(0).ToArray();
        ContainerIndex parsed = ContainerIndex.Parse(index, 14);
        Assert.That(parsed.Entries[1].Chunks[0], Is.SameAs(parsed.Entries[0].Chunks[0]));
        Assert.That((parsed.Entries[0].StoredLength, parsed.Entries[1].StoredLength), Is.EqualTo((6L, 0L)));
        Assert.That(parsed.Entries[1].DuplicateOf, Is.Null);
    }

    [Test]
    public void Parse_SharedFrameRecordsDisagreeing_IsRefusedAtTheLaterRecord()
    {
        byte[] index = Stored(Head(count: 2)).Entry("u", DType.U8, [4], 4, Frame).U8(0).Var(1)
            .Var(8).Var(6).Var(4).U8(1).U64(XxHash3.HashToUInt64(Frame)).U8(0).U8(0).ToArray();
        AssertRefusal(Refused(index), Z4AiErrorKind.InvalidContainer, 14 + 97, "u", "chunk 0 at file offset 8 disagrees with an earlier chunk record for the same frame");
    }

    [Test]
    public void Parse_BytesAfterTheMetadata_AreCountedAtTheirOffset()
    {
        AssertRefusal(Refused([.. Baseline(), 0]), Z4AiErrorKind.InvalidContainer, 14 + 59, null, "1 unexpected bytes after the metadata");
        AssertRefusal(Refused([.. Baseline(), 0, 0, 0]), Z4AiErrorKind.InvalidContainer, 14 + 59, null, "3 unexpected bytes after the metadata");
    }

    [Test]
    public void Parse_FramesNotTilingTheDataSection_AreRefusedAtTheFirstMismatch()
    {
        AssertRefusal(Refused(Baseline(), 15), Z4AiErrorKind.InvalidContainer, 14, null, "the chunk frames end at file offset 14 but the index starts at 15");

        IndexBuilder Two(long second) => Head(count: 2).Entry("t", DType.U8, [4], 4, Raw).U8(0).Var(1).Chunk(8, Frame, 4)
            .Entry("u", DType.U8, [4], 4, Frame).U8(0).Var(1).Chunk(second, Frame2, 4);
        AssertRefusal(Refused(Two(15).U8(0).U8(0).ToArray(), 21), Z4AiErrorKind.InvalidContainer, 14, null, "the data section has 1 bytes no chunk accounts for");
        AssertRefusal(Refused(Two(13).U8(0).U8(0).ToArray(), 19), Z4AiErrorKind.InvalidContainer, 14, null, "two chunk frames overlap");
        Assert.That(ContainerIndex.Parse(Two(14).U8(0).U8(0).ToArray(), 20).Entries, Has.Length.EqualTo(2));

        byte[] empty = Head().Entry("t", DType.U8, [0], 0, []).U8(0).Var(0).U8(0).U8(0).ToArray();
        Assert.That(ContainerIndex.Parse(empty, 8).Entries[0].Chunks, Is.Empty);
        AssertRefusal(Refused(empty, 9), Z4AiErrorKind.InvalidContainer, 8, null, "the chunk frames end at file offset 8 but the index starts at 9");
    }

    [Test]
    public void Parse_OriginalHeader_IsKeptAndItsBoundsChecked()
    {
        byte[] header = ContainerKit.FakeSafeTensorsHeader(2);
        byte[] With(byte[] h) => Stored(Head()).U8(1).Var((ulong)h.Length).Bytes(h).U8(0).ToArray();
        Assert.That(ContainerIndex.Parse(With(header), 14).OriginalHeader, Is.EqualTo(header));
        Assert.That(ContainerIndex.Parse(With(new byte[8]), 14).OriginalHeader, Is.EqualTo(new byte[8]), "an empty JSON part is well formed");

        byte[] wrongPrefix = (byte[])header.Clone();
        wrongPrefix[0] = 3;
        AssertRefusal(Refused(With(wrongPrefix)), Z4AiErrorKind.InvalidContainer, 14 + 58, null, "the original safetensors header's 8-byte length prefix does not match its length");
        AssertRefusal(Refused(With([0, 0, 0, 0, 0, 0, 0])), Z4AiErrorKind.InvalidContainer, 14 + 58, null, "the original safetensors header's 8-byte length prefix does not match its length");

        byte[] tooLong = Stored(Head()).U8(1).Var(100_000_009).Bytes(new byte[4]).ToArray();
        AssertRefusal(Refused(tooLong), Z4AiErrorKind.LimitExceeded, 14 + 58, null, "the original safetensors header is 100000009 bytes, more than the 100000008 allowed");
        byte[] atLimit = Stored(Head()).U8(1).Var(100_000_008).Bytes(new byte[4]).ToArray();
        Z4AiFormatException cut = Refused(atLimit);
        Assert.That(cut.Kind, Is.EqualTo(Z4AiErrorKind.InvalidContainer), "the limit itself is allowed; the bytes are what is missing");
        Assert.That(cut.Detail, Is.EqualTo("expected 100000008 more bytes, 4 remain"));

        AssertRefusal(Refused(Stored(Head()).U8(3).U8(0).ToArray()), Z4AiErrorKind.InvalidContainer, 14 + 57, null, "original-header presence byte is 3, expected 0 or 1");
        AssertRefusal(Refused(Stored(Head()).U8(2).U8(0).U8(0).ToArray()), Z4AiErrorKind.InvalidContainer, 14 + 57, null, "original-header presence byte is 2, expected 0 or 1");
    }

    [Test]
    public void IsWellFormedSafeTensorsHeader_ChecksThePrefixAgainstTheLength()
    {
        Assert.That(ContainerIndex.IsWellFormedSafeTensorsHeader(new byte[8]), Is.True);
        Assert.That(ContainerIndex.IsWellFormedSafeTensorsHeader(new byte[7]), Is.False);
        Assert.That(ContainerIndex.IsWellFormedSafeTensorsHeader(ContainerKit.FakeSafeTensorsHeader(10)), Is.True);
        byte[] header = ContainerKit.FakeSafeTensorsHeader(10);
        header[0] = 11;
        Assert.That(ContainerIndex.IsWellFormedSafeTensorsHeader(header), Is.False);
        header[0] = 9;
        Assert.That(ContainerIndex.IsWellFormedSafeTensorsHeader(header), Is.False);
    }

    [Test]
    public void Parse_Metadata_IsReadAndEveryRefusalIsPlaced()
    {
        IndexBuilder Meta(ulong count) => Stored(Head()).U8(0).U8(1).Var(count);
        Dictionary<string, string>? single = ContainerIndex.Parse(Meta(1).Var(0).Var(0).ToArray(), 14).Metadata;
        Assert.That(single, Is.EqualTo(new Dictionary<string, string> { [""] = "" }), "one pair in exactly two bytes");

        byte[] two = Meta(2).Name("a").Name("1").Name("b").Name("2").ToArray();
        Assert.That(ContainerIndex.Parse(two, 14).Metadata, Is.EqualTo(new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" }));

        // Byte order, not UTF-16 order: U+FF00 (EF BC 80) sorts before U+1F600 (F0 9F 98 80).
        byte[] bytesOrder = Meta(2).Name("\uFF00").Name("x").Name("\U0001F600").Name("y").ToArray();
        Assert.That(ContainerIndex.Parse(bytesOrder, 14).Metadata!.Keys, Is.EquivalentTo(new[] { "\uFF00", "\U0001F600" }));

        AssertRefusal(Refused(Meta(2).Name("b").Name("1").Name("a").Name("2").ToArray()), Z4AiErrorKind.InvalidContainer, 14 + 64, null,
            "metadata keys are not in strictly ascending byte order");
        AssertRefusal(Refused(Meta(2).Name("a").Name("1").Name("a").Name("2").ToArray()), Z4AiErrorKind.InvalidContainer, 14 + 64, null,
            "metadata keys are not in strictly ascending byte order");
        AssertRefusal(Refused(Meta(2).Name("\U0001F600").Name("y").Name("\uFF00").Name("x").ToArray()), Z4AiErrorKind.InvalidContainer, 14 + 67, null,
            "metadata keys are not in strictly ascending byte order");

        AssertRefusal(Refused(Meta(1).Var(1).U8(0xFF).Var(0).ToArray()), Z4AiErrorKind.InvalidContainer, 14 + 60, null, "the metadata key is not valid UTF-8");
        AssertRefusal(Refused(Meta(1).Var(1).U8((byte)'k').Var(1).U8(0xC3).ToArray()), Z4AiErrorKind.InvalidContainer, 14 + 62, null, "the metadata value is not valid UTF-8");

        AssertRefusal(Refused(Meta(5).Bytes(new byte[9]).ToArray()), Z4AiErrorKind.InvalidContainer, 14 + 59, null, "metadata declares 5 pairs but only 9 bytes remain");
        AssertRefusal(Refused(Meta(1).Var(0).ToArray()), Z4AiErrorKind.InvalidContainer, 14 + 59, null, "metadata declares 1 pairs but only 1 bytes remain");
        AssertRefusal(Refused(Stored(Head()).U8(0).U8(2).ToArray()), Z4AiErrorKind.InvalidContainer, 14 + 58, null, "metadata presence byte is 2, expected 0 or 1");
    }

    // The packed-form record of the baseline: offset as a zigzag difference from where the next frame would start.
    private static IndexBuilder PackedStored(IndexBuilder b, string name = "t", ulong zigzag = 0) =>
        b.Entry(name, DType.U8, [4], 4, Raw).U8(0).Var(1).Var(zigzag).Var(6).U8(0).U64(XxHash3.HashToUInt64(Frame));

    [Test]
    public void Parse_Unpacked_ReadsPackedRecordsAndWrapsErrorsWithTheUnpackedPosition()
    {
        byte[] index = PackedStored(Head()).U8(0).U8(0).ToArray();
        ContainerIndex parsed = ContainerIndex.Parse(index, 14, unpacked: true);
        Assert.That(parsed.Entries[0].Chunks, Is.EqualTo(new[] { new ContainerChunk(8, 6, 4, 0, XxHash3.HashToUInt64(Frame)) }));

        // A second tensor sharing the first frame points 6 bytes back (zigzag 11); a third new frame follows at 14.
        byte[] shared = PackedStored(PackedStored(Head(count: 3)), "u", 11).Entry("v", DType.U8, [4], 4, Frame2).U8(0).Var(1).Var(0).Var(6).U8(0)
            .U64(XxHash3.HashToUInt64(Frame2)).U8(0).U8(0).ToArray();
        ContainerIndex three = ContainerIndex.Parse(shared, 20, unpacked: true);
        Assert.That(three.Entries.Select(e => e.Chunks[0].Offset), Is.EqualTo(new[] { 8L, 8L, 14L }));

        Z4AiFormatException ex = Refused(PackedStored(Head()).U8(4).U8(0).ToArray(), unpacked: true);
        AssertRefusal(ex, Z4AiErrorKind.InvalidContainer, 14, null, "original-header presence byte is 4, expected 0, 1 or 2 (at byte 56 of the unpacked index)");
        Assert.That(((Z4AiFormatException)ex.InnerException!).Offset, Is.EqualTo(56));

        byte[] badStored = Head().Entry("t", DType.U8, [4], 4, Raw).U8(0).Var(1).Var(0).Var(0).U8(0).U64(0).U8(0).U8(0).ToArray();
        AssertRefusal(Refused(badStored, unpacked: true), Z4AiErrorKind.InvalidContainer, 14, "t",
            "chunk 0 stores 0 bytes for 4 raw bytes; a frame holds 1 to 15 (at byte 45 of the unpacked index)");
    }

    [Test]
    public void Parse_UnpackedWithAStoredHeader_KeepsItsBytes()
    {
        byte[] header = ContainerKit.FakeSafeTensorsHeader(6);
        byte[] index = PackedStored(Head()).U8(1).Var((ulong)header.Length).Bytes(header).U8(0).ToArray();
        Assert.That(ContainerIndex.Parse(index, 14, unpacked: true).OriginalHeader, Is.EqualTo(header));
    }

    [TestCase(1UL, 7L)]
    [TestCase(3UL, 6L)]
    [TestCase(2UL, 9L)]
    public void Parse_UnpackedOffsetOutsideTheDataSection_IsRefused(ulong zigzag, long offset)
    {
        byte[] index = PackedStored(Head(), zigzag: zigzag).U8(0).U8(0).ToArray();
        Assert.That(Refused(index, unpacked: true).Detail, Is.EqualTo($"chunk 0 at file offset {offset} with 6 bytes lies outside the data section [8, 14) (at byte 45 of the unpacked index)"));
    }

    [Test]
    public void Parse_UnpackedOffsetBelowZero_IsTheLargestOffset()
    {
        byte[] index = PackedStored(Head(), zigzag: 17).U8(0).U8(0).ToArray();
        Assert.That(Refused(index, unpacked: true).Detail, Is.EqualTo($"chunk 0 at file offset {ulong.MaxValue} with 6 bytes lies outside the data section [8, 14) (at byte 45 of the unpacked index)"));
        byte[] beyond = PackedStored(Head(), zigzag: ulong.MaxValue - 1).U8(0).U8(0).ToArray();
        Assert.That(Refused(beyond, unpacked: true).Detail, Does.StartWith($"chunk 0 at file offset {ulong.MaxValue} with 6 bytes"));
    }

    [Test]
    public void Parse_DerivedHeader_RebuildsTheReferenceLayout()
    {
        byte[] first = PackedStored(Head()).U8(2).U8(0).Var(1).Var(0).U8(1).Var(1).Name("k").Name("v").ToArray();
        ContainerIndex parsed = ContainerIndex.Parse(first, 14, unpacked: true);
        string json = System.Text.Encoding.UTF8.GetString(parsed.OriginalHeader!.AsSpan(8)).TrimEnd();
        Assert.That(json, Is.EqualTo("{\"__metadata__\":{\"k\":\"v\"},\"t\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}"));
        Assert.That(ContainerIndex.IsWellFormedSafeTensorsHeader(parsed.OriginalHeader), Is.True);
        Assert.That((parsed.OriginalHeader!.Length - 8) % 8, Is.EqualTo(0));

        byte[] last = PackedStored(Head()).U8(2).U8(1).Var(1).Var(0).U8(1).Var(1).Name("k").Name("v").ToArray();
        string lastJson = System.Text.Encoding.UTF8.GetString(ContainerIndex.Parse(last, 14, unpacked: true).OriginalHeader!.AsSpan(8)).TrimEnd();
        Assert.That(lastJson, Is.EqualTo("{\"t\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},\"__metadata__\":{\"k\":\"v\"}}"));

        byte[] none = PackedStored(Head()).U8(2).U8(0).Var(0).U8(0).ToArray();
        string noneJson = System.Text.Encoding.UTF8.GetString(ContainerIndex.Parse(none, 14, unpacked: true).OriginalHeader!.AsSpan(8)).TrimEnd();
        Assert.That(noneJson, Is.EqualTo("{\"t\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}"));

        byte[] order = PackedStored(Head()).U8(2).U8(0).Var(2).Var(1).Var(0).U8(1).Var(2).Name("a").Name("1").Name("b").Name("2").ToArray();
        string orderJson = System.Text.Encoding.UTF8.GetString(ContainerIndex.Parse(order, 14, unpacked: true).OriginalHeader!.AsSpan(8)).TrimEnd();
        Assert.That(orderJson, Does.StartWith("{\"__metadata__\":{\"b\":\"2\",\"a\":\"1\"},"));
    }

    [Test]
    public void Parse_DerivedHeaderRecordsThatDoNotFit_AreRefused()
    {
        const string cannot = "the derived safetensors header cannot be rebuilt: its key order is not a permutation, or it would exceed the 100000008 bytes allowed";
        IndexBuilder Derived(int placement, params ulong[] order)
        {
            IndexBuilder b = PackedStored(Head()).U8(2).U8(placement).Var((ulong)order.Length);
            foreach (ulong o in order)
            {
                b.Var(o);
            }

            return b;
        }

        string Detail(byte[] index) => Refused(index, unpacked: true).Detail;

        Assert.That(Detail(Derived(2).U8(0).ToArray()), Is.EqualTo("derived-header placement is 2, expected 0 (metadata first) or 1 (last) (at byte 57 of the unpacked index)"));
        Assert.That(Detail(PackedStored(Head()).U8(2).U8(0).Var(5).U8(0).U8(0).ToArray()),
            Is.EqualTo("the derived header orders 5 metadata keys but only 2 bytes remain (at byte 58 of the unpacked index)"));
        Assert.That(Detail(Derived(0, 0).U8(0).ToArray()), Is.EqualTo("the derived header orders 1 metadata keys, but the index holds 0 (at byte 56 of the unpacked index)"));
        Assert.That(Detail(Derived(1).U8(0).ToArray()), Is.EqualTo("the derived header orders 0 metadata keys, but the index holds 0 (at byte 56 of the unpacked index)"));
        Assert.That(Detail(Derived(0).U8(1).Var(1).Name("k").Name("v").ToArray()),
            Is.EqualTo("the derived header orders 0 metadata keys, but the index holds 1 (at byte 56 of the unpacked index)"));
        Assert.That(Detail(Derived(0, 1).U8(1).Var(1).Name("k").Name("v").ToArray()), Is.EqualTo(cannot + " (at byte 56 of the unpacked index)"));
        Assert.That(Detail(Derived(0, 0, 0).U8(1).Var(2).Name("a").Name("1").Name("b").Name("2").ToArray()), Is.EqualTo(cannot + " (at byte 56 of the unpacked index)"));

        // The count may use every remaining byte: one key, one byte, then the metadata presence is missing.
        Assert.That(Detail(Derived(0, 0).ToArray()), Does.StartWith("expected 1 more bytes, 0 remain"));
    }

    [Test]
    public void Write_PlainIndex_IsTheBuilderLayoutByteForByte()
    {
        byte[] header = ContainerKit.FakeSafeTensorsHeader(2);
        byte[] index = Stored(Head(count: 3)).Entry("u", DType.U8, [4], 4, Raw).U8(1).Var(0)
            .Entry("w", DType.U8, [2, 2], 4, Frame).U8(0).Var(1).Chunk(14, Frame2, 4)
            .U8(1).Var((ulong)header.Length).Bytes(header).U8(1).Var(2).Name("a").Name("1").Name("b").Name("2").ToArray();
        ContainerIndex parsed = ContainerIndex.Parse(index, 20);
        var output = new ArrayBufferWriter<byte>();
        ContainerIndex.Write(output, parsed.ChunkSize, parsed.Entries, parsed.OriginalHeader, parsed.Metadata);
        Assert.That(output.WrittenSpan.ToArray(), Is.EqualTo(index));
    }

    [Test]
    public void Write_MetadataInAnyOrder_IsSortedByUtf8Bytes()
    {
        var metadata = new Dictionary<string, string> { ["\U0001F600"] = "y", ["b"] = "2", ["\uFF00"] = "x", ["a"] = "1" };
        ContainerIndex parsed = ContainerIndex.Parse(Baseline(), 14);
        var output = new ArrayBufferWriter<byte>();
        ContainerIndex.Write(output, 4096, parsed.Entries, null, metadata);
        byte[] expected = Stored(Head()).U8(0).U8(1).Var(4).Name("a").Name("1").Name("b").Name("2").Name("\uFF00").Name("x").Name("\U0001F600").Name("y").ToArray();
        Assert.That(output.WrittenSpan.ToArray(), Is.EqualTo(expected));
    }

    [Test]
    public void Write_PackedForm_StoresOffsetsAsZigZagDifferencesAndTheDerivedRecipe()
    {
        byte[] plain = Stored(Head(count: 3)).Entry("u", DType.U8, [4], 4, Frame).U8(0).Var(1).Chunk(8, Frame, 4)
            .Entry("v", DType.U8, [4], 4, Frame2).U8(0).Var(1).Chunk(14, Frame2, 4).U8(0).U8(1).Var(2).Name("a").Name("1").Name("b").Name("2").ToArray();
        ContainerIndex parsed = ContainerIndex.Parse(plain, 20);
        var output = new ArrayBufferWriter<byte>();
        byte[] header = [0, 0, 0, 0, 0, 0, 0, 0];
        ContainerIndex.Write(output, 4096, parsed.Entries, header, parsed.Metadata, packedForm: true, new HeaderDerivation(true, [1, 0]));
        byte[] expected = PackedStored(Head(count: 3)).Entry("u", DType.U8, [4], 4, Frame).U8(0).Var(1).Var(11).Var(6).U8(0).U64(XxHash3.HashToUInt64(Frame))
            .Entry("v", DType.U8, [4], 4, Frame2).U8(0).Var(1).Var(0).Var(6).U8(0)
            .U64(XxHash3.HashToUInt64(Frame2)).U8(2).U8(1).Var(2).Var(1).Var(0).U8(1).Var(2).Name("a").Name("1").Name("b").Name("2").ToArray();
        Assert.That(output.WrittenSpan.ToArray(), Is.EqualTo(expected));

        var first = new ArrayBufferWriter<byte>();
        ContainerIndex.Write(first, 4096, parsed.Entries, header, null, packedForm: true, new HeaderDerivation(false, []));
        Assert.That(first.WrittenSpan[^4..].ToArray(), Is.EqualTo(new byte[] { 2, 0, 0, 0 }));
    }

    [Test]
    public void EncodeUtf8_LoneSurrogate_IsRefusedByParameterName()
    {
        Assert.That(ContainerIndex.EncodeUtf8("é", "p"), Is.EqualTo(new byte[] { 0xC3, 0xA9 }));
        ArgumentException ex = Assert.Throws<ArgumentException>(() => ContainerIndex.EncodeUtf8("a\uD800", "names"))!;
        Assert.That(ex.ParamName, Is.EqualTo("names"));
        Assert.That(ex.Message, Does.StartWith("'a\uD800' is not valid Unicode text (it holds a lone surrogate)"));
        Assert.That(ex.InnerException, Is.InstanceOf<System.Text.EncoderFallbackException>());
    }

    private static List<ContainerEntry> Entries(byte[] index, long indexOffset = 14) => [.. ContainerIndex.Parse(index, indexOffset).Entries];

    [Test]
    public void TryFindDerivation_ReferenceHeaders_GiveTheirRecipe()
    {
        List<ContainerEntry> entries = Entries(Baseline());
        var metadata = new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" };
        var pairs = new KeyValuePair<string, string>[] { new("b", "2"), new("a", "1") };
        var tensors = new (string, DType, long[], long)[] { ("t", DType.U8, [4], 4) };

        byte[] firstHeader = SafeTensorsFormat.TryCreateHeader(tensors, pairs, false, 1 << 20)!;
        HeaderDerivation? first = ContainerIndex.TryFindDerivation(entries, firstHeader, metadata);
        Assert.That(first, Is.Not.Null);
        Assert.That((first!.MetadataLast, first.MetadataOrder), Is.EqualTo((false, new[] { 1, 0 })));
        Assert.That(ContainerIndex.DeriveHeader(entries, metadata, first), Is.EqualTo(firstHeader));

        byte[] lastHeader = SafeTensorsFormat.TryCreateHeader(tensors, pairs, true, 1 << 20)!;
        HeaderDerivation? last = ContainerIndex.TryFindDerivation(entries, lastHeader, metadata);
        Assert.That((last!.MetadataLast, last.MetadataOrder), Is.EqualTo((true, new[] { 1, 0 })));

        byte[] plainHeader = SafeTensorsFormat.TryCreateHeader(tensors, null, false, 1 << 20)!;
        HeaderDerivation? plain = ContainerIndex.TryFindDerivation(entries, plainHeader, null);
        Assert.That((plain!.MetadataLast, plain.MetadataOrder), Is.EqualTo((false, Array.Empty<int>())));

        // Metadata alone, with no tensors: first and last at once, recorded as first.
        byte[] onlyMeta = SafeTensorsFormat.TryCreateHeader([], pairs, false, 1 << 20)!;
        HeaderDerivation? only = ContainerIndex.TryFindDerivation([], onlyMeta, metadata);
        Assert.That(only!.MetadataLast, Is.False);
    }

    [Test]
    public void TryFindDerivation_HeadersItCannotRebuild_GiveNull()
    {
        List<ContainerEntry> entries = Entries(Baseline());
        var metadata = new Dictionary<string, string> { ["a"] = "1" };
        var tensors = new (string, DType, long[], long)[] { ("t", DType.U8, [4], 4) };
        byte[] good = SafeTensorsFormat.TryCreateHeader(tensors, [new("a", "1")], false, 1 << 20)!;

        Assert.That(ContainerIndex.TryFindDerivation(entries, good, null), Is.Null, "a key the metadata lacks");
        Assert.That(ContainerIndex.TryFindDerivation(entries, good, new Dictionary<string, string> { ["a"] = "2" }), Is.Null, "another value");
        Assert.That(ContainerIndex.TryFindDerivation(entries, good, new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" }), Is.Null, "a key the header lacks");
        Assert.That(ContainerIndex.TryFindDerivation(entries, ContainerKit.FakeSafeTensorsHeader(16), metadata), Is.Null, "other JSON");

        byte[] notJson = ContainerKit.FakeSafeTensorsHeader(4);
        notJson[8] = (byte)'[';
        notJson[9] = (byte)'{';
        Assert.That(ContainerIndex.TryFindDerivation(entries, notJson, metadata), Is.Null, "malformed JSON");
        byte[] cut = ContainerKit.FakeSafeTensorsHeader(3);
        cut[8] = (byte)'{';
        cut[9] = (byte)'"';
        cut[10] = (byte)'a';
        Assert.That(ContainerIndex.TryFindDerivation(entries, cut, metadata), Is.Null, "JSON cut short");
        byte[] badKey = [.. new byte[8], .. "{\"__metadata__\":{\""u8, 0xFF, .. "\":\"1\"}}"u8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(badKey, (ulong)(badKey.Length - 8));
        Assert.That(ContainerIndex.TryFindDerivation(entries, badKey, metadata), Is.Null, "a key that is not UTF-8");

        byte[] spaced = SafeTensorsFormat.TryCreateHeader(tensors, [new("a", "1")], false, 1 << 20)!;
        byte[] wider = new byte[spaced.Length + 8];
        spaced.CopyTo(wider, 0);
        wider.AsSpan(spaced.Length).Fill((byte)' ');
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(wider, (ulong)(wider.Length - 8));
        Assert.That(ContainerIndex.TryFindDerivation(entries, wider, metadata), Is.Null, "more padding than the reference writes");
    }

    [Test]
    public void DeriveHeader_OrdersThatAreNotPermutations_GiveNull()
    {
        List<ContainerEntry> entries = Entries(Baseline());
        var metadata = new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" };
        Assert.That(ContainerIndex.DeriveHeader(entries, metadata, new HeaderDerivation(false, [0, 0])), Is.Null);
        Assert.That(ContainerIndex.DeriveHeader(entries, metadata, new HeaderDerivation(false, [0, 2])), Is.Null);
        Assert.That(ContainerIndex.DeriveHeader(entries, metadata, new HeaderDerivation(false, [-1, 0])), Is.Null);
        Assert.That(ContainerIndex.DeriveHeader(entries, metadata, new HeaderDerivation(false, [0])), Is.Null);
        Assert.That(ContainerIndex.DeriveHeader(entries, null, new HeaderDerivation(true, [])), Is.Null);
        Assert.That(ContainerIndex.DeriveHeader(entries, null, new HeaderDerivation(false, [])), Is.Not.Null);
        byte[] swapped = ContainerIndex.DeriveHeader(entries, metadata, new HeaderDerivation(false, [1, 0]))!;
        Assert.That(System.Text.Encoding.UTF8.GetString(swapped.AsSpan(8)), Does.StartWith("{\"__metadata__\":{\"b\":\"2\",\"a\":\"1\"}"));
    }
}
