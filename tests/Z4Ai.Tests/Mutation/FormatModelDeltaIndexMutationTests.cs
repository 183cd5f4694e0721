using System.Buffers.Binary;
using System.Text;
using CommunityToolkit.HighPerformance.Buffers;
using NUnit.Framework;
using Z4Ai.Codecs;
using Z4Ai.Delta;
using Z4Ai.Format;
using Z4Ai.Integrity;
using Z4Ai.Internal;

namespace Z4Ai.Tests.Mutation;

/// <summary>
/// The model-delta index (<see cref="ModelDeltaIndex"/>) and the file constants (<see cref="ModelDeltaFormat"/>)
/// pinned byte by byte: a hand-made index with every tensor mode and both segment kinds is written, parsed back, and
/// then damaged one field at a time; every rejection is checked for its kind, absolute offset, tensor and message.
/// </summary>
public class FormatModelDeltaIndexMutationTests
{
    // Segments: "s" 10 + 5 bytes, "d" 20 bytes, from the end of the 8-byte file header.
    private const long IndexOffset = ModelDeltaFormat.HeaderLength + 10 + 5 + 20;

    private static readonly Dictionary<string, string> Meta = new(StringComparer.Ordinal) { ["k"] = "v" };

    [Test]
    public void Format_Constants_AreTheDocumentedOnes()
    {
        Assert.That(ModelDeltaFormat.Version, Is.EqualTo(1));
        Assert.That(ModelDeltaFormat.MinEntryLength, Is.EqualTo(38));
        Assert.That(ModelDeltaFormat.MinSegmentRecordLength, Is.EqualTo(11));
        Assert.That(ModelDeltaFormat.MaxOriginalHeaderLength, Is.EqualTo(100_000_008));
        Assert.That(ModelDeltaFormat.MaxSegmentSize, Is.EqualTo(1 << 28));
        Assert.That(ModelDeltaFormat.DefaultSegmentSize, Is.EqualTo(8 << 20));
        Assert.That(ModelDeltaFormat.MaxIndexLength, Is.EqualTo(1L << 30));
        Assert.That(ModelDeltaFormat.HasMagic("Z4AM\u0001"u8), Is.True);
        Assert.That(ModelDeltaFormat.HasMagic("Z4AN"u8), Is.False);
        Assert.That(ModelDeltaFormat.HasMagic("Z4A"u8), Is.False);
    }

    [TestCase(64, 64, 64, true)]
    [TestCase(72, 72, 72, true)]
    [TestCase(64, 192, 384, true)]
    [TestCase(1 << 28, 1 << 28, 1 << 28, true)]
    [TestCase(64, 1 << 27, 1 << 28, true)]
    [TestCase(56, 64, 448, false)]
    [TestCase(64, 56, 448, false)]
    [TestCase(68, 64, 1088, false)]
    [TestCase(64, 68, 1088, false)]
    [TestCase(64, 64, 0, false)]
    [TestCase(64, 128, 64, false)]
    [TestCase(128, 64, 64, false)]
    [TestCase(64, 192, 320, false)]
    [TestCase(128, 64, 192, false)]
    [TestCase(64, 64, (1 << 28) + 64, false)]
    [TestCase(64, (1 << 28) + 8, (1 << 28) + 8, false)]
    public void IsValidLayout_Sizes_AcceptsExactlyTheDocumentedOnes(int chunk, int frame, int segment, bool valid) =>
        Assert.That(ModelDeltaFormat.IsValidLayout(chunk, frame, segment), Is.EqualTo(valid));

    [TestCase(64, 64, 8 << 20)]
    [TestCase(64, 192, 192 * 43690)]
    [TestCase(192, 64, 192 * 43690)]
    [TestCase(1 << 24, 1 << 24, 1 << 24)]
    [TestCase(1 << 28, 1 << 27, 1 << 28)]
    [TestCase(1 << 28, (1 << 28) - 8, 0)]
    public void SegmentSizeFor_ChunkAndFrame_IsTheMultipleNearestTheDefault(int chunk, int frame, int expected) =>
        Assert.That(ModelDeltaFormat.SegmentSizeFor(chunk, frame), Is.EqualTo(expected));

    [TestCase(0, 4, 0)]
    [TestCase(1, 4, 1)]
    [TestCase(8, 4, 2)]
    [TestCase(9, 4, 3)]
    public void PartCount_LengthAndSize_RoundsUp(long length, long size, long expected) =>
        Assert.That(ModelDeltaFormat.PartCount(length, size), Is.EqualTo(expected));

    [TestCase(1000, 64, 128, 1000 + (17 * 16) + 128)]
    [TestCase(1000, 128, 64, 1000 + (17 * 16) + 128)]
    [TestCase(64, 64, 64, 64 + 17 + 128)]
    public void MaxStoredLength_UsesTheSmallerPart(long raw, int chunk, int frame, long expected) =>
        Assert.That(ModelDeltaFormat.MaxStoredLength(raw, chunk, frame), Is.EqualTo(expected));

    [Test]
    public void WriteHeaderAndFooter_ExactBytes()
    {
        byte[] header = new byte[8];
        header.AsSpan().Fill(0xEE);
        ModelDeltaFormat.WriteHeader(header);
        Assert.That(header, Is.EqualTo("Z4AM\u0001\0\0\0"u8.ToArray()));

        byte[] footer = new byte[ModelDeltaFormat.FooterLength + 3];
        footer.AsSpan().Fill(0xEE);
        ModelDeltaFormat.WriteFooter(footer, 0x0102030405060708, 0x1112, 0xA1A2A3A4A5A6A7A8, ModelDeltaFormat.FlagPackedIndex);
        Assert.That(footer.AsSpan(0, 4).ToArray(), Is.EqualTo("Z4AM"u8.ToArray()));
        Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(footer.AsSpan(4)), Is.EqualTo(1));
        Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(footer.AsSpan(6)), Is.EqualTo(ModelDeltaFormat.FlagPackedIndex));
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(footer.AsSpan(8)), Is.EqualTo(0x0102030405060708UL));
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(footer.AsSpan(16)), Is.EqualTo(0x1112UL));
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(footer.AsSpan(24)), Is.EqualTo(0xA1A2A3A4A5A6A7A8UL));
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(footer.AsSpan(32)), Is.EqualTo(ContainerFormat.Checksum(footer.AsSpan(0, 32))));
        Assert.That(footer.AsSpan(40).ToArray(), Is.EqualTo(new byte[] { 0xEE, 0xEE, 0xEE }), "exactly 40 bytes written");
        ModelDeltaFormat.WriteFooter(footer, 1, 2, 3);
        Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(footer.AsSpan(6)), Is.EqualTo(0), "flags default to 0");
    }

    [Test]
    public void Write_SampleIndex_ExactLeadingFieldsAndRecords()
    {
        ModelDeltaIndex index = Sample();
        byte[] bytes = Serialize(index, storedHeader: true);
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(0)), Is.EqualTo(64));
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)), Is.EqualTo(64));
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)), Is.EqualTo(128));
        Assert.That(bytes.AsSpan(12, 32).ToArray(), Is.EqualTo(index.BaseModel.Bytes.ToArray()));
        Assert.That(bytes[44], Is.EqualTo(7), "base tensor count");
        Assert.That(bytes.AsSpan(45, 32).ToArray(), Is.EqualTo(index.TargetModel.Bytes.ToArray()));
        Assert.That(bytes[77], Is.EqualTo(ModelDeltaFormat.HeaderKept));
        Positions p = Locate(index);
        Assert.That(bytes[p.HeaderFrameAt], Is.EqualTo((byte)CodecId.Stored), "a stored header frame starts with the Stored codec id");
        Assert.That(bytes.AsSpan(p.CountAt - index.Header.Length, index.Header.Length).ToArray(), Is.EqualTo(index.Header));
        Assert.That(bytes[p.CountAt], Is.EqualTo(4), "entry count");
        Assert.That(bytes.Length, Is.EqualTo(p.End));

        // Entry "c" is a copy: tensor, mode, base tensor and no segment table.
        Assert.That(bytes[p.ModeAt["c"]], Is.EqualTo((byte)ModelDeltaTensorMode.Copy));
        Assert.That(bytes[p.ModeAt["c"] + 1], Is.EqualTo(2), "base name length");
        Assert.That(Encoding.UTF8.GetString(bytes, p.ModeAt["c"] + 2, 2), Is.EqualTo("bc"));
        Assert.That(p.EntryAt["e"], Is.EqualTo(p.ModeAt["c"] + 1 + TensorRecordLength(index.Entries[0].Base!)));

        // Entry "d" is a delta: one segment of kind 1 at file offset 8 + 15 holding 20 bytes.
        int seg = p.SegmentsAt["d"];
        Assert.That(bytes[seg], Is.EqualTo(1), "segment count");
        Assert.That(bytes[seg + 1], Is.EqualTo(ModelDeltaFormat.SegmentDelta));
        Assert.That(bytes[seg + 2], Is.EqualTo(23));
        Assert.That(bytes[seg + 3], Is.EqualTo(20));
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(seg + 4)), Is.EqualTo(Checksum(23)));

        // The tensor record of "s": name, dtype, rank, dims, length, SHA-256.
        int s = p.EntryAt["s"];
        Assert.That(bytes.AsSpan(s, 7).ToArray(), Is.EqualTo(new byte[] { 1, (byte)'s', (byte)DType.F32, 1, 40, 0xA0, 0x01 }));
        Assert.That(bytes.AsSpan(s + 7, 32).ToArray(), Is.EqualTo(Sha256Digest.Compute("s"u8).Bytes.ToArray()));
    }

    [Test]
    public void Parse_SampleIndex_RoundTripsEveryField([Values] bool storedHeader)
    {
        ModelDeltaIndex written = Sample(synthesized: true, baseCount: int.MaxValue);
        ModelDeltaIndex index = ModelDeltaIndex.Parse(Serialize(written, storedHeader), IndexOffset);
        Assert.That(index.ChunkSize, Is.EqualTo(64));
        Assert.That(index.FrameSize, Is.EqualTo(64));
        Assert.That(index.SegmentSize, Is.EqualTo(128));
        Assert.That(index.BaseModel, Is.EqualTo(written.BaseModel));
        Assert.That(index.BaseTensorCount, Is.EqualTo(int.MaxValue));
        Assert.That(index.TargetModel, Is.EqualTo(written.TargetModel));
        Assert.That(index.HeaderSynthesized, Is.True);
        Assert.That(index.Header, Is.EqualTo(written.Header));
        Assert.That(index.Metadata, Is.EquivalentTo(Meta));
        Assert.That(index.Entries.Select(e => e.Name), Is.EqualTo(new[] { "c", "e", "s", "d" }));
        Assert.That(index.Entries.Select(e => e.Index), Is.EqualTo(new[] { 0, 1, 2, 3 }));
        Assert.That(index.Entries.Select(e => e.Mode), Is.EqualTo(new[] { ModelDeltaTensorMode.Copy, ModelDeltaTensorMode.Scratch, ModelDeltaTensorMode.Scratch, ModelDeltaTensorMode.Delta }));
        Assert.That(index.Entries.Select(e => e.StoredLength), Is.EqualTo(new long[] { 0, 0, 15, 20 }));
        Assert.That(index.Entries.Select(e => e.Base?.Name), Is.EqualTo(new[] { "bc", null, null, "bd" }));
        ModelTensor copyBase = index.Entries[0].Base!;
        Assert.That((copyBase.DType, copyBase.Length, copyBase.Digest), Is.EqualTo((DType.F32, 16L, Sha256Digest.Compute("c"u8))));
        Assert.That(copyBase.Shape, Is.EqualTo(new long[] { 4 }));
        Assert.That(index.Entries[3].Base!.Shape, Is.EqualTo(new long[] { 16 }));
        Assert.That(index.Entries[2].Tensor.Shape, Is.EqualTo(new long[] { 40 }));
        Assert.That(index.Entries[2].RawLength, Is.EqualTo(160));
        Assert.That(index.Entries[2].Digest, Is.EqualTo(Sha256Digest.Compute("s"u8)));
        Assert.That(index.Entries[2].Segments, Is.EqualTo(new[]
        {
            new ModelDeltaSegment(ModelDeltaFormat.SegmentFrames, 8, 10, Checksum(8)),
            new ModelDeltaSegment(ModelDeltaFormat.SegmentFrames, 18, 5, Checksum(18)),
        }));
        Assert.That(index.Entries[3].Segments, Is.EqualTo(new[] { new ModelDeltaSegment(ModelDeltaFormat.SegmentDelta, 23, 20, Checksum(23)) }));
    }

    [Test]
    public void Parse_InvalidLayout_FailsAtTheIndexStart()
    {
        byte[] bytes = Serialize(Sample());
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), 96);
        AssertFails(bytes, Z4AiErrorKind.InvalidContainer, 0, null, "chunk size 64, frame size 64 and segment size 96 are invalid");
    }

    [Test]
    public void Parse_BaseCountBeyondInt32_Fails()
    {
        byte[] bytes = Serialize(Sample(baseCount: (long)int.MaxValue + 1));
        AssertFails(bytes, Z4AiErrorKind.InvalidContainer, 44, null, $"the base model is said to have {(long)int.MaxValue + 1} tensors");
    }

    [Test]
    public void Parse_OriginByteTwo_Fails()
    {
        byte[] bytes = Serialize(Sample());
        bytes[77] = 2;
        AssertFails(bytes, Z4AiErrorKind.InvalidContainer, 77, null, "header origin byte is 2, expected 0 or 1");
    }

    [Test]
    public void Parse_KeptHeaderTooShort_IsALimitWithItsLength()
    {
        // A stored header frame of 7 bytes: below the 8-byte length prefix.
        byte[] bytes = Splice(Serialize(Sample(), storedHeader: true), Locate(Sample()), [(byte)CodecId.Stored, 7, 0, 0, 0, 0, 0, 0, 0]);
        AssertFails(bytes, Z4AiErrorKind.LimitExceeded, 78, null, "the kept safetensors header is 7 bytes; 8 to 100000008 are allowed");
    }

    [Test]
    public void Parse_KeptHeaderOfEightBytes_PassesTheLimitAndFailsAsNotDescribingTheTensors()
    {
        byte[] bytes = Splice(Serialize(Sample(), storedHeader: true), Locate(Sample()), [(byte)CodecId.Stored, 8, 0, 0, 0, 0, 0, 0, 0, 0]);
        var ex = Fails(bytes);
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.InvalidContainer));
        Assert.That(ex.Detail, Does.StartWith("the kept safetensors header does not fit the tensors: "));
    }

    [Test]
    public void Parse_KeptHeaderLengthPrefixWrong_Fails()
    {
        byte[] header = [.. Sample().Header];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)header.Length - 7);
        byte[] bytes = Serialize(Sample(header: header));
        AssertFails(bytes, Z4AiErrorKind.InvalidContainer, 78, null, "the kept safetensors header's 8-byte length prefix does not match its length");
    }

    [Test]
    public void Parse_KeptHeaderFrameCorrupt_FailsAsNotDecoding()
    {
        ModelDeltaIndex sample = Sample();
        byte[] bytes = Serialize(sample, storedHeader: true);
        Positions p = Locate(sample);

        // A stored frame one byte shorter than it says: the codec rejects it.
        byte[] frame = bytes[p.HeaderFrameAt..p.CountAt];
        byte[] shortFrame = frame[..^1];
        var ex = Fails(Splice(bytes, p, shortFrame));
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.InvalidContainer));
        Assert.That(ex.Offset, Is.EqualTo(IndexOffset + 78));
        Assert.That(ex.Detail, Does.StartWith("the kept safetensors header does not decode: "));
        Assert.That(ex.InnerException, Is.InstanceOf<Z4AiFormatException>());
    }

    [Test]
    public void Parse_EntryCountBeyondTheRemainingBytes_Fails()
    {
        ModelDeltaIndex sample = Sample();
        byte[] bytes = Serialize(sample);
        Positions p = Locate(sample);
        int remaining = bytes.Length - p.CountAt - 1;
        int most = remaining / ModelDeltaFormat.MinEntryLength;
        bytes[p.CountAt] = (byte)(most + 1);
        AssertFails(bytes, Z4AiErrorKind.InvalidContainer, p.CountAt, null, $"index declares {most + 1} tensors but its remaining {remaining} bytes hold at most {most}");
    }

    [Test]
    public void Parse_EntryCountEqualToTheMost_PassesThatCheck()
    {
        // One entry of exactly MinEntryLength bytes (an empty scratch tensor with a one-byte name and rank 0 would be
        // 38 bytes plus a segment count): the count check passes and the parse fails further on.
        ModelDeltaIndex sample = Sample();
        byte[] bytes = Serialize(sample);
        Positions p = Locate(sample);
        int remaining = bytes.Length - p.CountAt - 1;
        int most = remaining / ModelDeltaFormat.MinEntryLength;
        bytes[p.CountAt] = (byte)most;
        var ex = Fails(bytes);
        Assert.That(ex.Detail, Does.Not.StartWith("index declares"));
    }

    [Test]
    public void Parse_DuplicateName_IsDuplicateKeyAtTheSecondEntry()
    {
        ModelDeltaIndex sample = Sample(rename: ("e", "c"), header: Sample().Header);
        byte[] bytes = Serialize(sample);
        Positions p = Locate(Sample()); // the same layout: only the second name differs, by one letter
        AssertFails(bytes, Z4AiErrorKind.DuplicateKey, p.EntryAt["e"], "c", "tensor name appears twice in the index (entries 0 and 1)");
    }

    [Test]
    public void Parse_CopyOfDifferentLength_FailsAtTheModeByte()
    {
        ModelDeltaIndex sample = Sample(copyBase: T("bc", DType.F32, [8], 32, "c"));
        Positions p = Locate(sample);
        AssertFails(Serialize(sample), Z4AiErrorKind.InvalidContainer, p.ModeAt["c"], "c", "the tensor is recorded as a copy of base tensor 'bc', but their lengths or SHA-256 differ (or it is empty)");
    }

    [Test]
    public void Parse_CopyOfDifferentDigest_Fails()
    {
        ModelDeltaIndex sample = Sample(copyBase: T("bc", DType.F32, [4], 16, "other"));
        Positions p = Locate(sample);
        AssertFails(Serialize(sample), Z4AiErrorKind.InvalidContainer, p.ModeAt["c"], "c", "the tensor is recorded as a copy of base tensor 'bc', but");
    }

    [Test]
    public void Parse_CopyOfSameBytesButOtherShape_IsAccepted()
    {
        // Only length and SHA-256 must agree for a copy (a reshaped tensor is still a copy).
        ModelDeltaIndex sample = Sample(copyBase: T("bc", DType.I32, [2, 2], 16, "c"));
        ModelDeltaIndex parsed = ModelDeltaIndex.Parse(Serialize(sample), IndexOffset);
        Assert.That(parsed.Entries[0].Base!.DType, Is.EqualTo(DType.I32));
    }

    [Test]
    public void Parse_EmptyCopy_Fails()
    {
        // "e" (empty) recorded as a copy of an empty base tensor.
        ModelDeltaIndex sample = Sample(emptyAsCopy: true);
        Positions p = Locate(sample);
        AssertFails(Serialize(sample), Z4AiErrorKind.InvalidContainer, p.ModeAt["e"], "e", "the tensor is recorded as a copy of base tensor 'be', but their lengths or SHA-256 differ (or it is empty)");
    }

    [Test]
    public void Parse_DeltaOfOtherDType_FailsAtTheModeByte()
    {
        ModelDeltaIndex sample = Sample(deltaBase: T("bd", DType.F16, [16], 32, "bd"));
        Positions p = Locate(sample);
        AssertFails(Serialize(sample), Z4AiErrorKind.InvalidContainer, p.ModeAt["d"], "d",
            "the tensor (BF16[16]) is recorded as a delta against base tensor 'bd' (F16[16]); a delta needs the same dtype and a non-empty tensor");
    }

    [Test]
    public void Parse_DeltaOfOtherShape_IsAccepted()
    {
        ModelDeltaIndex sample = Sample(deltaBase: T("bd", DType.BF16, [4, 2], 16, "bd"));
        Assert.That(ModelDeltaIndex.Parse(Serialize(sample), IndexOffset).Entries[3].Base!.Length, Is.EqualTo(16));
    }

    [Test]
    public void Parse_UnknownMode_Fails()
    {
        ModelDeltaIndex sample = Sample();
        byte[] bytes = Serialize(sample);
        Positions p = Locate(sample);
        bytes[p.ModeAt["s"]] = 3;
        AssertFails(bytes, Z4AiErrorKind.InvalidContainer, p.ModeAt["s"], "s", "unknown tensor mode 3");
    }

    [Test]
    public void Parse_SegmentCountWrong_Fails()
    {
        ModelDeltaIndex sample = Sample();
        byte[] bytes = Serialize(sample);
        Positions p = Locate(sample);
        bytes[p.SegmentsAt["s"]] = 1;
        AssertFails(bytes, Z4AiErrorKind.InvalidContainer, p.SegmentsAt["s"], "s", "the segment table has 1 segments; 160 bytes in segments of 128 need 2");
    }

    [Test]
    public void Parse_SegmentsBeyondTheRemainingBytes_FailsBeforeReadingTheCount()
    {
        // The last entry "d" needs one 11-byte segment record; cut the index so 10 bytes remain after its count byte.
        ModelDeltaIndex sample = Sample();
        byte[] bytes = Serialize(sample);
        Positions p = Locate(sample);
        byte[] cut = bytes[..(p.SegmentsAt["d"] + 10)];
        AssertFails(cut, Z4AiErrorKind.InvalidContainer, p.SegmentsAt["d"], "d", "a tensor of 32 bytes needs 1 segments of 128, but the remaining 10 index bytes cannot hold them");
    }

    [Test]
    public void Parse_SegmentRecordExactlyFits_PassesTheRoomCheck()
    {
        // 11 bytes after the count position (count byte + a 10-byte record): the room check passes, the record is short.
        ModelDeltaIndex sample = Sample();
        byte[] bytes = Serialize(sample);
        Positions p = Locate(sample);
        var ex = Fails(bytes[..(p.SegmentsAt["d"] + 11)]);
        Assert.That(ex.Detail, Does.Not.Contain("cannot hold them"));
    }

    [Test]
    public void Parse_DeltaKindInAScratchTensor_Fails()
    {
        ModelDeltaIndex sample = Sample();
        byte[] bytes = Serialize(sample);
        Positions p = Locate(sample);
        int record = p.SegmentsAt["s"] + 1;
        bytes[record] = ModelDeltaFormat.SegmentDelta;
        AssertFails(bytes, Z4AiErrorKind.InvalidContainer, record, "s", "segment 0 has kind 1, which a scratch tensor cannot hold");
    }

    [Test]
    public void Parse_UnknownKindInADeltaTensor_Fails()
    {
        ModelDeltaIndex sample = Sample();
        byte[] bytes = Serialize(sample);
        Positions p = Locate(sample);
        int record = p.SegmentsAt["d"] + 1;
        bytes[record] = 2;
        AssertFails(bytes, Z4AiErrorKind.InvalidContainer, record, "d", "segment 0 has kind 2, which a delta tensor cannot hold");
    }

    [Test]
    public void Parse_FramesKindInADeltaTensor_IsAccepted()
    {
        ModelDeltaIndex sample = Sample(deltaKind: ModelDeltaFormat.SegmentFrames);
        Assert.That(ModelDeltaIndex.Parse(Serialize(sample), IndexOffset).Entries[3].Segments[0].Kind, Is.EqualTo(ModelDeltaFormat.SegmentFrames));
    }

    [Test]
    public void Parse_StoredLengthZero_Fails()
    {
        ModelDeltaIndex sample = Sample(sStored: [10, 0]);
        Positions p = Locate(sample);
        AssertFails(Serialize(sample), Z4AiErrorKind.InvalidContainer, p.SegmentRecordAt["s"][1], "s", "segment 1 stores 0 bytes for 32 raw bytes; 1 to 177 are allowed");
    }

    [Test]
    public void Parse_StoredLengthAtAndAboveTheMaximum_AcceptedThenRejected()
    {
        // The last segment of "s" holds 32 raw bytes: at most 32 + 17 + 128 = 177 stored.
        ModelDeltaIndex atMost = Sample(sStored: [10, 177]);
        Assert.That(ModelDeltaIndex.Parse(Serialize(atMost), IndexOffset + 172).Entries[2].StoredLength, Is.EqualTo(187));

        ModelDeltaIndex over = Sample(sStored: [10, 178]);
        Positions p = Locate(over);
        var ex = Assert.Throws<Z4AiFormatException>(() => ModelDeltaIndex.Parse(Serialize(over), IndexOffset + 173))!;
        Assert.That(ex.Offset, Is.EqualTo(IndexOffset + 173 + p.SegmentRecordAt["s"][1]));
        Assert.That(ex.Detail, Is.EqualTo("segment 1 stores 178 bytes for 32 raw bytes; 1 to 177 are allowed"));
    }

    [Test]
    public void Parse_SegmentNotWhereThePreviousEnded_Fails()
    {
        ModelDeltaIndex sample = Sample(gapAfterFirst: 1);
        Positions p = Locate(sample);
        AssertFails(Serialize(sample), Z4AiErrorKind.InvalidContainer, p.SegmentRecordAt["s"][1], "s",
            $"segment 1 is at file offset 19 with 5 bytes, but the next segment must start at 18 and end by the index at {IndexOffset}");
    }

    [Test]
    public void Parse_SegmentRunningIntoTheIndex_Fails()
    {
        // The segments are consistent but the index is said to start one byte before the last one ends.
        ModelDeltaIndex sample = Sample();
        Positions p = Locate(sample);
        var ex = Assert.Throws<Z4AiFormatException>(() => ModelDeltaIndex.Parse(Serialize(sample), IndexOffset - 1))!;
        Assert.That(ex.Offset, Is.EqualTo(IndexOffset - 1 + p.SegmentRecordAt["d"][0]));
        Assert.That(ex.TensorName, Is.EqualTo("d"));
        Assert.That(ex.Detail, Is.EqualTo($"segment 0 is at file offset 23 with 20 bytes, but the next segment must start at 23 and end by the index at {IndexOffset - 1}"));
    }

    [Test]
    public void Parse_DataSectionLongerThanTheSegments_Fails()
    {
        ModelDeltaIndex sample = Sample();
        Positions p = Locate(sample);
        var ex = Assert.Throws<Z4AiFormatException>(() => ModelDeltaIndex.Parse(Serialize(sample), IndexOffset + 1))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.InvalidContainer));
        Assert.That(ex.Offset, Is.EqualTo(IndexOffset + 1 + p.CountAt));
        Assert.That(ex.TensorName, Is.Null);
        Assert.That(ex.Detail, Is.EqualTo($"the segments end at file offset {IndexOffset} but the index starts at {IndexOffset + 1}: the data section holds bytes no segment accounts for"));
    }

    [Test]
    public void Parse_TrailingBytes_Fails()
    {
        byte[] bytes = [.. Serialize(Sample()), 0, 0, 0];
        AssertFails(bytes, Z4AiErrorKind.InvalidContainer, bytes.Length - 3, null, "3 unexpected bytes after the last entry");
    }

    [Test]
    public void Parse_TargetModelDigestWrong_FailsAtTheTargetField()
    {
        ModelDeltaIndex sample = Sample(target: Sha256Digest.Compute("nope"u8));
        var ex = AssertFails(Serialize(sample), Z4AiErrorKind.InvalidContainer, 45, null, $"the index records target model SHA-256 {Sha256Digest.Compute("nope"u8)}, but its entries describe model ");
        Assert.That(ex.Detail, Does.EndWith(Sample().TargetModel.ToString()));
    }

    [Test]
    public void Parse_HeaderListingFewerTensors_Fails()
    {
        ModelDeltaIndex sample = Sample();
        byte[] header = Layout(Specs(sample).Where(t => t.Name != "e")).HeaderBytes;
        Positions p = Locate(Sample(header: header));
        AssertFails(Serialize(Sample(header: header)), Z4AiErrorKind.InvalidContainer, p.CountAt, null,
            "the kept safetensors header lists 3 tensors but the index has 4");
    }

    [Test]
    public void Parse_HeaderNamingAnotherTensor_Fails()
    {
        ModelDeltaIndex sample = Sample();
        byte[] header = Layout(Specs(sample).Select(t => t.Name == "e" ? t with { Name = "f" } : t)).HeaderBytes;
        Positions p = Locate(Sample(header: header));
        AssertFails(Serialize(Sample(header: header)), Z4AiErrorKind.InvalidContainer, p.CountAt, null,
            "tensor 1 of the kept safetensors header is 'f' F32[0], but the index has 'e' F32[0]");
    }

    [Test]
    public void Parse_HeaderWithOtherShape_Fails()
    {
        ModelDeltaIndex sample = Sample();
        byte[] header = Layout(Specs(sample).Select(t => t.Name == "s" ? t with { Shape = [4, 10] } : t)).HeaderBytes;
        Positions p = Locate(Sample(header: header));
        AssertFails(Serialize(Sample(header: header)), Z4AiErrorKind.InvalidContainer, p.CountAt, null,
            "tensor 2 of the kept safetensors header is 's' F32[4,10], but the index has 's' F32[40]");
    }

    [Test]
    public void Parse_HeaderWithOtherDType_Fails()
    {
        ModelDeltaIndex sample = Sample();
        byte[] header = Layout(Specs(sample).Select(t => t.Name == "c" ? t with { DType = DType.U64, Shape = [2] } : t)).HeaderBytes;
        Positions p = Locate(Sample(header: header));
        AssertFails(Serialize(Sample(header: header)), Z4AiErrorKind.InvalidContainer, p.CountAt, null,
            "tensor 0 of the kept safetensors header is 'c' U64[2], but the index has 'c' F32[4]");
    }

    [Test]
    public void CheckHeaderDescribes_HeaderShorterThanTheData_FailsAsNotFitting()
    {
        ModelDeltaIndex sample = Sample();
        ModelTensor[] tensors = [.. sample.Entries.Select(e => e.Tensor), T("z", DType.U8, [1], 1, "z")];
        var ex = Assert.Throws<Z4AiFormatException>(() => ModelDeltaIndex.CheckHeaderDescribes(sample.Header, tensors, 5))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.InvalidContainer));
        Assert.That(ex.Offset, Is.EqualTo(5));
        Assert.That(ex.Detail, Does.StartWith("the kept safetensors header does not fit the tensors: "));
    }

    [Test]
    public void CheckHeaderDescribes_LengthsBeyondInt64_FailsBeforeParsing()
    {
        ModelDeltaIndex sample = Sample();
        ModelTensor huge = T("h", DType.U8, [long.MaxValue - 8], long.MaxValue - 8, "h");
        var ex = Assert.Throws<Z4AiFormatException>(() => ModelDeltaIndex.CheckHeaderDescribes(sample.Header, [huge], 9))!;
        Assert.That(ex.Offset, Is.EqualTo(9));
        Assert.That(ex.Detail, Is.EqualTo("the tensors add up to more than 2^63 - 1 bytes"));
    }

    [Test]
    public void CheckHeaderDescribes_LengthsExactlyInt64Max_PassTheSumCheck()
    {
        ModelTensor huge = T("h", DType.U8, [1], long.MaxValue - 8, "h");
        byte[] header = new byte[8];
        var ex = Assert.Throws<Z4AiFormatException>(() => ModelDeltaIndex.CheckHeaderDescribes(header, [huge], 0))!;
        Assert.That(ex.Detail, Does.Not.StartWith("the tensors add up"));
    }

    [Test]
    public void Parse_TensorNameNotUtf8_Fails()
    {
        ModelDeltaIndex sample = Sample();
        byte[] bytes = Serialize(sample);
        Positions p = Locate(sample);
        bytes[p.EntryAt["s"] + 1] = 0xFF;
        AssertFails(bytes, Z4AiErrorKind.InvalidContainer, p.EntryAt["s"], null, "the tensor name is not valid UTF-8");
    }

    [Test]
    public void Parse_BaseNameNotUtf8_FailsNamingTheTensor()
    {
        ModelDeltaIndex sample = Sample();
        byte[] bytes = Serialize(sample);
        Positions p = Locate(sample);
        bytes[p.ModeAt["d"] + 2] = 0xC3;
        AssertFails(bytes, Z4AiErrorKind.InvalidContainer, p.ModeAt["d"] + 1, "d", "the base tensor name is not valid UTF-8");
    }

    [Test]
    public void Parse_UnknownDType_Fails()
    {
        ModelDeltaIndex sample = Sample();
        byte[] bytes = Serialize(sample);
        Positions p = Locate(sample);
        bytes[p.EntryAt["s"] + 2] = (byte)DTypeInfo.Count;
        AssertFails(bytes, Z4AiErrorKind.InvalidContainer, p.EntryAt["s"] + 2, null, $"tensor 's' has unknown dtype code {DTypeInfo.Count}");
    }

    [Test]
    public void Parse_LastDTypeCode_IsKnown()
    {
        // Code Count - 1 is a dtype; with shape [40] and length 160 it only fails as a wrong length (not as unknown).
        ModelDeltaIndex sample = Sample();
        byte[] bytes = Serialize(sample);
        Positions p = Locate(sample);
        bytes[p.EntryAt["s"] + 2] = (byte)(DTypeInfo.Count - 1);
        var ex = Fails(bytes);
        Assert.That(ex.Detail, Does.Not.Contain("unknown dtype"));
    }

    [Test]
    public void Parse_LengthNotMatchingShape_Fails()
    {
        ModelDeltaIndex sample = Sample();
        byte[] bytes = Serialize(sample);
        Positions p = Locate(sample);
        bytes[p.EntryAt["s"] + 5] = 0x21; // the varint 160 is A0 01; a first byte without the continuation bit is 33
        AssertFails(bytes, Z4AiErrorKind.InvalidContainer, p.EntryAt["s"] + 5, null, "tensor 's': length 33 is not the byte length of F32[40]");
    }

    [Test]
    public void Parse_DimensionBeyondInt64_Fails()
    {
        // "s" with its single dimension 2^63 (a 10-byte varint): it replaces the one-byte 40.
        ModelDeltaIndex sample = Sample();
        byte[] bytes = Serialize(sample);
        Positions p = Locate(sample);
        int dimAt = p.EntryAt["s"] + 4;
        byte[] dim = new byte[10];
        int n = VarInt.Write(dim, 1UL << 63);
        byte[] forged = [.. bytes[..dimAt], .. dim[..n], .. bytes[(dimAt + 1)..]];
        AssertFails(forged, Z4AiErrorKind.InvalidContainer, dimAt, null, $"tensor 's': dimension 0 is {1UL << 63}, beyond the signed 64-bit range");
    }

    [Test]
    public void Parse_ErrorInsideTheSecondTensor_NamesThatTensorNotTheFirst()
    {
        // A bad dtype in "e" (the second entry) is reported for "e"'s record, not carrying "c" along.
        ModelDeltaIndex sample = Sample();
        byte[] bytes = Serialize(sample);
        Positions p = Locate(sample);
        bytes[p.EntryAt["e"] + 2] = 0xFE;
        var ex = AssertFails(bytes, Z4AiErrorKind.InvalidContainer, p.EntryAt["e"] + 2, null, "tensor 'e' has unknown dtype code 254");
        Assert.That(ex.InnerException, Is.InstanceOf<Z4AiFormatException>());
    }

    // ---- the sample index ----

    private static ModelTensor T(string name, DType dtype, long[] shape, long length, string content) =>
        new(name, dtype, shape, length, Sha256Digest.Compute(Encoding.UTF8.GetBytes(content)));

    private static ulong Checksum(long offset) => (ulong)offset * 0x9E3779B97F4A7C15UL;

    private static ModelDeltaIndex Sample(
        bool synthesized = false,
        long baseCount = 7,
        byte[]? header = null,
        Sha256Digest? target = null,
        (string From, string To)? rename = null,
        ModelTensor? copyBase = null,
        ModelTensor? deltaBase = null,
        bool emptyAsCopy = false,
        byte deltaKind = ModelDeltaFormat.SegmentDelta,
        int[]? sStored = null,
        int gapAfterFirst = 0)
    {
        // Layout order (dtype descending, then name): c, e, s (F32), d (BF16).
        ModelTensor c = T("c", DType.F32, [4], 16, "c");
        ModelTensor e = T("e", DType.F32, [0], 0, string.Empty);
        ModelTensor s = T("s", DType.F32, [40], 160, "s");
        ModelTensor d = T("d", DType.BF16, [16], 32, "d");
        if (rename is { } r)
        {
            e = e with { Name = r.To };
        }

        sStored ??= [10, 5];
        long position = ModelDeltaFormat.HeaderLength;
        ModelDeltaSegment Next(byte kind, int stored)
        {
            var segment = new ModelDeltaSegment(kind, position, stored, Checksum(position));
            position += stored;
            return segment;
        }

        ModelDeltaEntry[] entries =
        [
            new(0, c, ModelDeltaTensorMode.Copy, copyBase ?? T("bc", DType.F32, [4], 16, "c"), []),
            emptyAsCopy
                ? new(1, e, ModelDeltaTensorMode.Copy, T("be", DType.F32, [0], 0, string.Empty), [])
                : new(1, e, ModelDeltaTensorMode.Scratch, null, []),
            new(2, s, ModelDeltaTensorMode.Scratch, null, [Next(0, sStored[0]), NextAfterGap(sStored[1])]),
            new(3, d, ModelDeltaTensorMode.Delta, deltaBase ?? T("bd", DType.BF16, [16], 32, "bd"), [Next(deltaKind, 20)]),
        ];

        ModelDeltaSegment NextAfterGap(int stored)
        {
            position += gapAfterFirst;
            ModelDeltaSegment segment = Next(0, stored);
            position -= gapAfterFirst;
            return segment;
        }

        ModelTensor[] tensors = [.. entries.Select(x => x.Tensor)];
        header ??= Layout(tensors).HeaderBytes;
        return new ModelDeltaIndex(
            64, 64, 128, Sha256Digest.Compute("base"u8), baseCount, target ?? ModelDigest.Compute(tensors), synthesized, header, entries);
    }

    private static IEnumerable<ModelTensor> Specs(ModelDeltaIndex index) => index.Entries.Select(e => e.Tensor);

    private static SafeTensorsLayout Layout(IEnumerable<ModelTensor> tensors) =>
        SafeTensorsFormat.CreateLayout(tensors.Select(t => new SafeTensorsLayoutInput(t.Name, t.DType, t.Shape, t.Length)), Meta);

    private static byte[] Serialize(ModelDeltaIndex index, bool storedHeader = true)
    {
        using var output = new ArrayPoolBufferWriter<byte>();
        index.Write(output, CompressionEffort.Default, storedHeader);
        return output.WrittenSpan.ToArray();
    }

    // Replaces the header frame (with its varint length) of a sample index by `frame`.
    private static byte[] Splice(byte[] bytes, Positions p, byte[] frame)
    {
        byte[] length = new byte[10];
        int n = VarInt.Write(length, (ulong)frame.Length);
        return [.. bytes[..78], .. length[..n], .. frame, .. bytes[p.CountAt..]];
    }

    private static int TensorRecordLength(ModelTensor t) =>
        VarInt.GetLength((ulong)Encoding.UTF8.GetByteCount(t.Name)) + Encoding.UTF8.GetByteCount(t.Name) + 1
        + VarInt.GetLength((ulong)t.Shape.Length) + t.Shape.Sum(d => VarInt.GetLength((ulong)d))
        + VarInt.GetLength((ulong)t.Length) + Sha256Digest.Size;

    private sealed record Positions(
        int HeaderFrameAt,
        int CountAt,
        int End,
        Dictionary<string, int> EntryAt,
        Dictionary<string, int> ModeAt,
        Dictionary<string, int> SegmentsAt,
        Dictionary<string, int[]> SegmentRecordAt);

    // Where each field of a serialised index (stored header) starts, computed from the format's layout.
    private static Positions Locate(ModelDeltaIndex index)
    {
        int frameLength = 1 + VarInt.GetLength((ulong)index.Header.Length) + index.Header.Length;
        int headerFrameAt = 78 + VarInt.GetLength((ulong)frameLength);
        int countAt = headerFrameAt + frameLength;
        int at = countAt + VarInt.GetLength((ulong)index.Entries.Length);
        var entryAt = new Dictionary<string, int>();
        var modeAt = new Dictionary<string, int>();
        var segmentsAt = new Dictionary<string, int>();
        var recordAt = new Dictionary<string, int[]>();
        foreach (ModelDeltaEntry e in index.Entries)
        {
            entryAt.TryAdd(e.Name, at);
            at += TensorRecordLength(e.Tensor);
            modeAt.TryAdd(e.Name, at);
            at += 1 + (e.Base is null ? 0 : TensorRecordLength(e.Base));
            if (e.Mode == ModelDeltaTensorMode.Copy)
            {
                continue;
            }

            segmentsAt.TryAdd(e.Name, at);
            at += VarInt.GetLength((ulong)e.Segments.Length);
            var records = new List<int>();
            foreach (ModelDeltaSegment s in e.Segments)
            {
                records.Add(at);
                at += 1 + VarInt.GetLength((ulong)s.Offset) + VarInt.GetLength((ulong)s.StoredLength) + 8;
            }

            recordAt.TryAdd(e.Name, [.. records]);
        }

        return new Positions(headerFrameAt, countAt, at, entryAt, modeAt, segmentsAt, recordAt);
    }

    private static Z4AiFormatException Fails(byte[] index) => Assert.Throws<Z4AiFormatException>(() => ModelDeltaIndex.Parse(index, IndexOffset))!;

    private static Z4AiFormatException AssertFails(byte[] index, Z4AiErrorKind kind, int relativeOffset, string? tensor, string detail)
    {
        Z4AiFormatException ex = Fails(index);
        Assert.That(ex.Kind, Is.EqualTo(kind), ex.Message);
        Assert.That(ex.Offset, Is.EqualTo(IndexOffset + relativeOffset), ex.Message);
        Assert.That(ex.TensorName, Is.EqualTo(tensor), ex.Message);
        Assert.That(ex.FilePath, Is.Null);
        Assert.That(ex.Detail, Does.StartWith(detail), ex.Message);
        return ex;
    }
}
