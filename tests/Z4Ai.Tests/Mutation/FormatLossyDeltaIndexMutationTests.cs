using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using NUnit.Framework;
using Z4Ai.Delta;
using Z4Ai.Format;
using Z4Ai.Integrity;

namespace Z4Ai.Tests.Mutation;

/// <summary>
/// The lossy-delta container pinned byte by byte: the preamble and footer (<see cref="LossyDeltaFormat"/>) with
/// every refusal, its kind, text and offset, and the index (<see cref="LossyDeltaIndex"/>) built by hand from the
/// layout in docs/lossy.md, with every field's range checked at its boundary.
/// </summary>
public class FormatLossyDeltaIndexMutationTests
{
    private static readonly LossySettings Settings = new(LossyTier.Int4, 64, 5000, 1200, true, false, 0x0102030405060708, 1024, CompressionEffort.Max);

    private static byte[] Digest(byte fill) => Enumerable.Repeat(fill, 32).ToArray();

    private static byte[] Header(params (string Name, DType DType, long[] Shape, long Length)[] tensors) =>
        SafeTensorsFormat.TryCreateHeader(tensors, null, metadataLast: false, 1 << 20)!;

    /// <summary>The index bytes in the order docs/lossy.md gives, written field by field.</summary>
    private sealed class IndexBytes
    {
        private readonly List<byte> _bytes = [];

        public IndexBytes Byte(byte value)
        {
            _bytes.Add(value);
            return this;
        }

        public IndexBytes VarInt(ulong value)
        {
            while (value >= 0x80)
            {
                _bytes.Add((byte)(value | 0x80));
                value >>= 7;
            }

            _bytes.Add((byte)value);
            return this;
        }

        public IndexBytes Raw(ReadOnlySpan<byte> bytes)
        {
            _bytes.AddRange(bytes.ToArray());
            return this;
        }

        public IndexBytes Double(double value)
        {
            byte[] b = new byte[8];
            BinaryPrimitives.WriteDoubleLittleEndian(b, value);
            return Raw(b);
        }

        public IndexBytes Settings()
        {
            // tier, group size, outlier ppm, sparse ppm, flags, seed, min elements, effort
            return Byte(2).VarInt(64).VarInt(5000).VarInt(1200).Byte(1).Raw(new byte[] { 8, 7, 6, 5, 4, 3, 2, 1 }).VarInt(1024).Byte(2);
        }

        public IndexBytes Start(byte[] header, int count) =>
            Settings().VarInt((ulong)header.Length).Raw(header).Raw(Digest(0xB0)).Raw(Digest(0x70)).Raw(Digest(0x50)).VarInt((ulong)count);

        public IndexBytes Entry(
            string name,
            DType dtype,
            long[] shape,
            byte mode = 0,
            byte flags = 0,
            ulong offset = 5,
            ulong length = 0,
            double relativeL2 = 0,
            double relativeL2OfDelta = 0,
            double maxAbs = 0)
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(name);
            VarInt((ulong)utf8.Length).Raw(utf8).Byte((byte)dtype).VarInt((ulong)shape.Length);
            foreach (long d in shape)
            {
                VarInt((ulong)d);
            }

            Byte(mode).Byte(flags).VarInt(offset).VarInt(length).Raw(Digest(0x11));
            if (flags == 1)
            {
                Raw(Digest(0x22));
            }

            return Raw(Digest(0x33)).Double(relativeL2).Double(relativeL2OfDelta).Double(maxAbs);
        }

        public byte[] ToArray() => [.. _bytes];
    }

    private static Z4AiFormatException ParseFails(byte[] index, long recordsStart = 5, long recordsEnd = 1000) =>
        Assert.Throws<Z4AiFormatException>(() => LossyDeltaIndex.Parse(index, recordsStart, recordsEnd))!;

    private static void AssertFailure(Z4AiFormatException ex, Z4AiErrorKind kind, string detail, string? tensor = null, long? offset = null)
    {
        Assert.That(ex.Kind, Is.EqualTo(kind), ex.Message);
        Assert.That(ex.Detail, Is.EqualTo(detail));
        Assert.That(ex.TensorName, Is.EqualTo(tensor), "tensor");
        Assert.That(ex.Offset, Is.EqualTo(offset), "offset");
    }

    private static LossyDeltaIndex TwoEntryIndex() => new(
        Settings,
        Header(("w", DType.F32, [4, 8], 128), ("b", DType.F32, [8], 32)),
        new Sha256Digest(Digest(0xB0)),
        new Sha256Digest(Digest(0x70)),
        new Sha256Digest(Digest(0x50)),
        [
            new LossyDeltaEntry("w", DType.F32, [4, 8], 128, LossyTier.Int4, 5, 300, new Sha256Digest(Digest(0x11)), new Sha256Digest(Digest(0x22)), new Sha256Digest(Digest(0x33)), new LossyError(0.25, 0.5, 1.5)),
            new LossyDeltaEntry("b", DType.F32, [8], 32, LossyTier.Lossless, 305, 40, new Sha256Digest(Digest(0x11)), null, new Sha256Digest(Digest(0x33)), new LossyError(0, 0, 0)),
        ]);

    private static byte[] TwoEntryBytes() =>
        new IndexBytes()
            .Start(Header(("w", DType.F32, [4, 8], 128), ("b", DType.F32, [8], 32)), 2)
            .Entry("w", DType.F32, [4, 8], mode: 2, flags: 1, offset: 5, length: 300, relativeL2: 0.25, relativeL2OfDelta: 0.5, maxAbs: 1.5)
            .Entry("b", DType.F32, [8], mode: 0, flags: 0, offset: 305, length: 40)
            .ToArray();

    // ---- the index ----

    [Test]
    public void IndexWrite_TwoEntries_IsTheDocumentedLayout()
    {
        var writer = new ArrayBufferWriter<byte>();
        TwoEntryIndex().Write(writer);
        Assert.That(writer.WrittenSpan.ToArray(), Is.EqualTo(TwoEntryBytes()));
    }

    [Test]
    public void IndexParse_TwoEntries_GivesEveryFieldBack()
    {
        LossyDeltaIndex index = LossyDeltaIndex.Parse(TwoEntryBytes(), 5, 345);
        Assert.That(index.Settings, Is.EqualTo(Settings));
        Assert.That(index.TargetHeader, Is.EqualTo(Header(("w", DType.F32, [4, 8], 128), ("b", DType.F32, [8], 32))));
        Assert.That((index.BaseDigest.ToString(), index.TargetDigest.ToString(), index.ReconstructedDigest.ToString()),
            Is.EqualTo((Convert.ToHexStringLower(Digest(0xB0)), Convert.ToHexStringLower(Digest(0x70)), Convert.ToHexStringLower(Digest(0x50)))));
        Assert.That(index.Entries, Has.Count.EqualTo(2));

        LossyDeltaEntry w = index.Entries[0];
        Assert.That((w.Name, w.DType, w.RawLength, w.Mode, w.RecordOffset, w.RecordLength), Is.EqualTo(("w", DType.F32, 128L, LossyTier.Int4, 5L, 300L)));
        Assert.That(w.Shape, Is.EqualTo(new long[] { 4, 8 }));
        Assert.That(w.TargetDigest, Is.EqualTo(new Sha256Digest(Digest(0x11))));
        Assert.That(w.BaseDigest, Is.EqualTo(new Sha256Digest(Digest(0x22))));
        Assert.That(w.ReconstructedDigest, Is.EqualTo(new Sha256Digest(Digest(0x33))));
        Assert.That(w.Error, Is.EqualTo(new LossyError(0.25, 0.5, 1.5)));

        LossyDeltaEntry b = index.Entries[1];
        Assert.That((b.Name, b.Mode, b.RecordOffset, b.RecordLength, b.BaseDigest), Is.EqualTo(("b", LossyTier.Lossless, 305L, 40L, (Sha256Digest?)null)));
        Assert.That(b.Error, Is.EqualTo(new LossyError(0, 0, 0)));
    }

    [Test]
    public void IndexParse_HeaderShorterThanItsPrefix_IsRefused()
    {
        byte[] index = new IndexBytes().Settings().VarInt(7).Raw(new byte[7]).ToArray();
        AssertFailure(ParseFails(index), Z4AiErrorKind.InvalidContainer, "the target header is 7 bytes, shorter than its length prefix");

        // Eight bytes pass this check and fail as an (empty) safetensors header instead.
        byte[] eight = new IndexBytes().Settings().VarInt(8).Raw(new byte[8]).Raw(Digest(1)).Raw(Digest(2)).Raw(Digest(3)).VarInt(0).ToArray();
        Assert.That(ParseFails(eight).Kind, Is.EqualTo(Z4AiErrorKind.InvalidHeaderDeserialization));
    }

    [Test]
    public void IndexParse_EntryCount_IsBoundedByNinetyFiveBytesPerEntry()
    {
        // The smallest entry: empty name, a U8 scalar, lossless, one-byte offsets, the two digests and the three errors.
        byte[] header = Header(("", DType.U8, [], 1));
        byte[] minimal = new IndexBytes().Start(header, 1).Entry("", DType.U8, [], offset: 5, length: 1).ToArray();
        int entryStart = new IndexBytes().Start(header, 1).ToArray().Length;
        Assert.That(minimal.Length - entryStart, Is.EqualTo(95));
        Assert.That(LossyDeltaIndex.Parse(minimal, 5, 6).Entries.Single().RawLength, Is.EqualTo(1));

        // A count of 2 over the same 95 bytes is refused before anything is allocated for it.
        byte[] claimsTwo = new IndexBytes().Start(header, 2).Entry("", DType.U8, [], offset: 5, length: 1).ToArray();
        AssertFailure(ParseFails(claimsTwo), Z4AiErrorKind.InvalidContainer, "length 2 exceeds the allowed 1", offset: entryStart - 1);
    }

    [Test]
    public void IndexParse_EntryNames_MustBeUtf8AndUnique()
    {
        byte[] header = Header(("a", DType.U8, [1], 1));
        byte[] bad = new IndexBytes().Start(header, 1).VarInt(1).Byte(0xFF).Raw(new byte[120]).ToArray();
        Z4AiFormatException ex = ParseFails(bad);
        AssertFailure(ex, Z4AiErrorKind.InvalidContainer, "entry 0 has a name that is not UTF-8");
        Assert.That(ex.InnerException, Is.InstanceOf<DecoderFallbackException>());

        byte[] twice = new IndexBytes().Start(Header(("a", DType.U8, [1], 1), ("b", DType.U8, [1], 1)), 2)
            .Entry("a", DType.U8, [1], length: 1).Entry("a", DType.U8, [1], offset: 6, length: 1).ToArray();
        AssertFailure(ParseFails(twice), Z4AiErrorKind.DuplicateKey, "two index entries have this name", "a");
    }

    [Test]
    public void IndexParse_DType_LastDefinedIsAcceptedAndTheNextRefused()
    {
        byte[] header = Header(("a", DType.U64, [1], 8));
        Assert.That(LossyDeltaIndex.Parse(new IndexBytes().Start(header, 1).Entry("a", DType.U64, [1], length: 8).ToArray(), 5, 13).Entries[0].DType, Is.EqualTo(DType.U64));
        byte[] unknown = new IndexBytes().Start(header, 1).Entry("a", (DType)DTypeInfo.Count, [1], length: 8).ToArray();
        AssertFailure(ParseFails(unknown), Z4AiErrorKind.InvalidContainer, $"unknown dtype {DTypeInfo.Count}", "a");
    }

    [Test]
    public void IndexParse_Rank_IsAtMostSixtyFour()
    {
        long[] ones64 = [.. Enumerable.Repeat(1L, 64)];
        byte[] header = Header(("a", DType.U8, ones64, 1));
        Assert.That(LossyDeltaIndex.Parse(new IndexBytes().Start(header, 1).Entry("a", DType.U8, ones64, length: 1).ToArray(), 5, 6).Entries[0].Shape, Has.Length.EqualTo(64));

        long[] ones65 = [.. Enumerable.Repeat(1L, 65)];
        byte[] tooDeep = new IndexBytes().Start(Header(("a", DType.U8, ones65, 1)), 1).Entry("a", DType.U8, ones65, length: 1).ToArray();
        int rankAt = new IndexBytes().Start(Header(("a", DType.U8, ones65, 1)), 1).ToArray().Length + 3;
        AssertFailure(ParseFails(tooDeep), Z4AiErrorKind.InvalidContainer, "length 65 exceeds the allowed 64", offset: rankAt);
    }

    [Test]
    public void IndexParse_Dimensions_AboveLongAreRefusedAndLongMaxIsKept()
    {
        byte[] header = Header(("a", DType.U8, [0, long.MaxValue], 0));
        LossyDeltaIndex ok = LossyDeltaIndex.Parse(new IndexBytes().Start(header, 1).Entry("a", DType.U8, [0, long.MaxValue]).ToArray(), 5, 5);
        Assert.That(ok.Entries[0].Shape, Is.EqualTo(new[] { 0L, long.MaxValue }));

        byte[] above = new IndexBytes().Start(header, 1).VarInt(1).Byte((byte)'a').Byte((byte)DType.U8).VarInt(2).VarInt(0).VarInt(1UL << 63)
            .Raw(new byte[120]).ToArray();
        AssertFailure(ParseFails(above), Z4AiErrorKind.ValidationOverflow, "dimension 1 is 9223372036854775808", "a");
    }

    [Test]
    public void IndexParse_TensorSize_IsAtMostOneArray()
    {
        long max = Array.MaxLength;
        byte[] header = Header(("a", DType.U8, [max + 1], max + 1));
        byte[] tooBig = new IndexBytes().Start(header, 1).Entry("a", DType.U8, [max + 1], length: 1).ToArray();
        AssertFailure(ParseFails(tooBig), Z4AiErrorKind.LimitExceeded, $"the tensor is {max + 1} bytes, more than one array holds", "a");

        // Exactly one array's worth passes the size check (the record bounds fail next).
        byte[] fits = new IndexBytes().Start(Header(("a", DType.U8, [max], max)), 1).Entry("a", DType.U8, [max], offset: 1).ToArray();
        AssertFailure(ParseFails(fits), Z4AiErrorKind.InvalidContainer, "record [1, +0) lies outside the records section [5, 1000)", "a");
    }

    [Test]
    public void IndexParse_ModeAndFlags_AreRangeChecked()
    {
        long[] shape = [4, 8];
        byte[] header = Header(("w", DType.F32, shape, 128));
        Assert.That(
            LossyDeltaIndex.Parse(new IndexBytes().Start(header, 1).Entry("w", DType.F32, shape, mode: (byte)LossyTier.OneBit, flags: 1, length: 7).ToArray(), 5, 12).Entries[0].Mode,
            Is.EqualTo(LossyTier.OneBit));
        AssertFailure(
            ParseFails(new IndexBytes().Start(header, 1).Entry("w", DType.F32, shape, mode: 5, flags: 1).ToArray()),
            Z4AiErrorKind.InvalidContainer,
            "unknown mode 5 or flags 1",
            "w");
        AssertFailure(
            ParseFails(new IndexBytes().Start(header, 1).Entry("w", DType.F32, shape, mode: 0, flags: 2).Raw(Digest(0)).ToArray()),
            Z4AiErrorKind.InvalidContainer,
            "unknown mode 0 or flags 2",
            "w");

        // A lossless entry may still name its base (flags 1).
        LossyDeltaIndex withBase = LossyDeltaIndex.Parse(new IndexBytes().Start(header, 1).Entry("w", DType.F32, shape, mode: 0, flags: 1, length: 9).ToArray(), 5, 14);
        Assert.That(withBase.Entries[0].BaseDigest, Is.EqualTo(new Sha256Digest(Digest(0x22))));
    }

    [Test]
    public void IndexParse_LossyRecord_NeedsABaseAndASupportedShape()
    {
        byte[] header = Header(("w", DType.F32, [4, 8], 128));
        AssertFailure(
            ParseFails(new IndexBytes().Start(header, 1).Entry("w", DType.F32, [4, 8], mode: (byte)LossyTier.Int8, flags: 0).ToArray()),
            Z4AiErrorKind.InvalidContainer,
            "a int8 record needs a base tensor",
            "w");

        byte[] ints = Header(("c", DType.I32, [4, 8], 128));
        Z4AiFormatException ex = ParseFails(new IndexBytes().Start(ints, 1).Entry("c", DType.I32, [4, 8], mode: (byte)LossyTier.Int8, flags: 1).ToArray());
        Assert.That((ex.Kind, ex.Detail), Is.EqualTo((Z4AiErrorKind.InvalidContainer, "a I32[4,8] tensor cannot have a lossy record")));
    }

    [TestCase(4UL, 1UL, TestName = "IndexParse_RecordBeforeTheSection_IsRefused")]
    [TestCase(101UL, 0UL, TestName = "IndexParse_RecordAfterTheSection_IsRefused")]
    [TestCase(90UL, 11UL, TestName = "IndexParse_RecordRunningPastTheSection_IsRefused")]
    public void IndexParse_RecordOutsideTheSection_IsRefused(ulong offset, ulong length)
    {
        byte[] header = Header(("a", DType.U8, [1], 1));
        byte[] index = new IndexBytes().Start(header, 1).Entry("a", DType.U8, [1], offset: offset, length: length).ToArray();
        AssertFailure(
            ParseFails(index, 5, 100),
            Z4AiErrorKind.InvalidContainer,
            $"record [{offset}, +{length}) lies outside the records section [5, 100)",
            "a");
    }

    [TestCase(5UL, 95UL)]
    [TestCase(100UL, 0UL)]
    [TestCase(5UL, 0UL)]
    public void IndexParse_RecordAtTheSectionEdges_IsAccepted(ulong offset, ulong length)
    {
        byte[] header = Header(("a", DType.U8, [1], 1));
        byte[] index = new IndexBytes().Start(header, 1).Entry("a", DType.U8, [1], offset: offset, length: length).ToArray();
        LossyDeltaEntry e = LossyDeltaIndex.Parse(index, 5, 100).Entries[0];
        Assert.That((e.RecordOffset, e.RecordLength), Is.EqualTo(((long)offset, (long)length)));
    }

    [Test]
    public void IndexParse_RecordLength_IsAtMostIntMaxValue()
    {
        byte[] header = Header(("a", DType.U8, [1], 1));
        byte[] fits = new IndexBytes().Start(header, 1).Entry("a", DType.U8, [1], offset: 5, length: int.MaxValue).ToArray();
        Assert.That(LossyDeltaIndex.Parse(fits, 5, long.MaxValue).Entries[0].RecordLength, Is.EqualTo(int.MaxValue));
        byte[] above = new IndexBytes().Start(header, 1).Entry("a", DType.U8, [1], offset: 5, length: (ulong)int.MaxValue + 1).ToArray();
        AssertFailure(
            ParseFails(above, 5, long.MaxValue),
            Z4AiErrorKind.InvalidContainer,
            $"record [5, +2147483648) lies outside the records section [5, {long.MaxValue})",
            "a");
    }

    [TestCase(-1.0, 0.0, 0.0)]
    [TestCase(0.0, -1e-300, 0.0)]
    [TestCase(0.0, 0.0, double.NaN)]
    [TestCase(double.NaN, 0.0, 0.0)]
    [TestCase(0.0, 0.0, double.NegativeInfinity)]
    public void IndexParse_NegativeOrNaNErrorMeasure_IsRefused(double a, double b, double c)
    {
        byte[] header = Header(("a", DType.U8, [1], 1));
        byte[] index = new IndexBytes().Start(header, 1).Entry("a", DType.U8, [1], relativeL2: a, relativeL2OfDelta: b, maxAbs: c).ToArray();
        AssertFailure(ParseFails(index), Z4AiErrorKind.InvalidContainer, "an error measure is negative or NaN", "a");
    }

    [Test]
    public void IndexParse_ZeroAndInfiniteErrorMeasures_AreAccepted()
    {
        byte[] header = Header(("a", DType.U8, [1], 1));
        byte[] index = new IndexBytes().Start(header, 1).Entry("a", DType.U8, [1], relativeL2: 0.0, relativeL2OfDelta: -0.0, maxAbs: double.PositiveInfinity).ToArray();
        Assert.That(LossyDeltaIndex.Parse(index, 5, 1000).Entries[0].Error.MaxAbs, Is.EqualTo(double.PositiveInfinity));
    }

    [Test]
    public void IndexParse_TrailingBytes_AreCounted()
    {
        byte[] index = [.. TwoEntryBytes(), 0, 0, 0];
        AssertFailure(ParseFails(index, 5, 345), Z4AiErrorKind.InvalidContainer, "the index has 3 bytes after its last entry");
    }

    [Test]
    public void IndexParse_StoredHeader_MustDescribeExactlyTheEntries()
    {
        // The prefix says 8 JSON bytes but 16 follow.
        byte[] padded = Header(("a", DType.U8, [1], 1));
        byte[] longer = [.. padded, .. "        "u8];
        AssertFailure(
            ParseFails(new IndexBytes().Start(longer, 1).Entry("a", DType.U8, [1], length: 1).ToArray()),
            Z4AiErrorKind.InvalidContainer,
            $"the stored target header declares {padded.Length - 8} JSON bytes but holds {longer.Length - 8}");

        // The header lists an empty tensor the index does not have.
        byte[] two = Header(("a", DType.U8, [1], 1), ("z", DType.U8, [0], 0));
        AssertFailure(
            ParseFails(new IndexBytes().Start(two, 1).Entry("a", DType.U8, [1], length: 1).ToArray()),
            Z4AiErrorKind.InvalidContainer,
            "the stored target header lists 2 tensors, the index 1");

        // The sizes of the entries make up the data length the header is checked against.
        byte[] sized = Header(("a", DType.U8, [3], 3), ("b", DType.I16, [2], 4));
        LossyDeltaIndex ok = LossyDeltaIndex.Parse(
            new IndexBytes().Start(sized, 2).Entry("a", DType.U8, [3], length: 1).Entry("b", DType.I16, [2], offset: 6, length: 1).ToArray(), 5, 7);
        Assert.That(ok.Entries.Select(e => e.RawLength), Is.EqualTo(new long[] { 3, 4 }));
    }

    [TestCase("b", DType.U8, new long[] { 4 }, TestName = "IndexParse_EntryNamedDifferently_IsRefused")]
    [TestCase("a", DType.I8, new long[] { 4 }, TestName = "IndexParse_EntryWithAnotherDType_IsRefused")]
    [TestCase("a", DType.U8, new long[] { 2, 2 }, TestName = "IndexParse_EntryWithAnotherShape_IsRefused")]
    public void IndexParse_EntryDifferentFromTheHeader_IsRefused(string name, DType dtype, long[] shape)
    {
        byte[] header = Header(("a", DType.U8, [4], 4));
        AssertFailure(
            ParseFails(new IndexBytes().Start(header, 1).Entry(name, dtype, shape, length: 1).ToArray()),
            Z4AiErrorKind.InvalidContainer,
            "index entry 0 does not match the stored header's tensor 'a'",
            name);
    }

    // ---- the file: preamble and footer ----

    private static byte[] File(byte[] index, byte[]? records = null)
    {
        using var ms = new MemoryStream();
        LossyDeltaFormat.WritePreamble(ms);
        ms.Write(records ?? []);
        long indexOffset = ms.Position;
        ms.Write(index);
        LossyDeltaFormat.WriteFooter(ms, indexOffset, index);
        return ms.ToArray();
    }

    private static byte[] EmptyIndex() => new IndexBytes().Start(Header(), 0).ToArray();

    private static Z4AiFormatException ReadFails(byte[] file) =>
        Assert.Throws<Z4AiFormatException>(() => LossyDeltaFormat.ReadIndex(new MemoryStream(file)))!;

    [Test]
    public void PreambleAndFooter_AreTheDocumentedBytes()
    {
        Assert.That((LossyDeltaFormat.Version, LossyDeltaFormat.PreambleLength, LossyDeltaFormat.FooterLength, LossyDeltaFormat.FileExtension),
            Is.EqualTo(((byte)1, 5, 52, ".z4al")));
        byte[] index = [1, 2, 3];
        byte[] file = File(index, [9, 9]);
        byte[] expected =
        [
            .. "Z4AL"u8, 1, 9, 9, 1, 2, 3,
            7, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, .. SHA256.HashData(index), .. "Z4AL"u8,
        ];
        Assert.That(file, Is.EqualTo(expected));
        Assert.That(LossyDeltaFormat.HasMagic("Z4AL"u8), Is.True);
        Assert.That(LossyDeltaFormat.HasMagic("Z4A"u8), Is.False);
        Assert.That(LossyDeltaFormat.HasMagic("Z4AI"u8), Is.False);
    }

    [Test]
    public void ReadIndex_EmptyModel_RoundTrips()
    {
        LossyDeltaIndex index = LossyDeltaFormat.ReadIndex(new MemoryStream(File(EmptyIndex())));
        Assert.That(index.Entries, Is.Empty);
        Assert.That(index.Settings, Is.EqualTo(Settings));
    }

    [Test]
    public void ReadIndex_Length_FiftySixBytesAreTooShortAndFiftySevenAreRead()
    {
        AssertFailure(ReadFails(new byte[56]), Z4AiErrorKind.InvalidContainer, "the file has 56 bytes, too short for a lossy delta");

        // 57 bytes: preamble and footer around an empty index, which then fails as an index (no settings byte).
        Z4AiFormatException ex = ReadFails(File([]));
        AssertFailure(ex, Z4AiErrorKind.InvalidContainer, "expected 1 more bytes, 0 remain", offset: 0);
    }

    [Test]
    public void ReadIndex_MagicAndVersion_AreChecked()
    {
        byte[] file = File(EmptyIndex());
        byte[] magic = (byte[])file.Clone();
        magic[3] = (byte)'I';
        AssertFailure(ReadFails(magic), Z4AiErrorKind.InvalidContainer, "the file does not start with the lossy-delta magic \"Z4AL\"", offset: 0);

        byte[] version = (byte[])file.Clone();
        version[4] = 2;
        AssertFailure(ReadFails(version), Z4AiErrorKind.UnsupportedVersion, "lossy-delta format version 2; this library reads version 1", offset: 4);
        version[4] = 0;
        Assert.That(ReadFails(version).Kind, Is.EqualTo(Z4AiErrorKind.UnsupportedVersion));

        byte[] footer = (byte[])file.Clone();
        footer[^1] = (byte)'M';
        AssertFailure(
            ReadFails(footer),
            Z4AiErrorKind.InvalidContainer,
            "the footer does not end with \"Z4AL\"; the file is truncated or not a lossy delta",
            offset: file.Length - 52);
    }

    private static byte[] WithFooterFields(byte[] file, long indexOffset, long indexLength)
    {
        byte[] copy = (byte[])file.Clone();
        BinaryPrimitives.WriteInt64LittleEndian(copy.AsSpan(copy.Length - 52), indexOffset);
        BinaryPrimitives.WriteInt64LittleEndian(copy.AsSpan(copy.Length - 44), indexLength);
        return copy;
    }

    [Test]
    public void ReadIndex_IndexPlacement_IsCheckedAgainstPreambleAndFooter()
    {
        byte[] index = EmptyIndex();
        byte[] file = File(index, [7, 7, 7]);
        long footerAt = file.Length - 52;

        // Index at 8 (after three record bytes), index.Length long, ending where the footer starts.
        Assert.That(LossyDeltaFormat.ReadIndex(new MemoryStream(file)).Entries, Is.Empty);

        foreach ((long offset, long length) in new[] { (4L, (long)index.Length), (8L, -1L), (8L, footerAt - 8 + 1), (-1L, 1L) })
        {
            AssertFailure(
                ReadFails(WithFooterFields(file, offset, length)),
                Z4AiErrorKind.InvalidContainer,
                $"the footer places the index at [{offset}, +{length}), outside the file",
                offset: footerAt);
        }

        // Inside the file but not ending at the footer.
        AssertFailure(
            ReadFails(WithFooterFields(file, 5, index.Length)),
            Z4AiErrorKind.InvalidContainer,
            $"the index ends at {5 + index.Length}, but the footer starts at {footerAt}",
            offset: footerAt);

        // Starting right after the preamble and running to the footer is a valid placement (the digest then differs).
        var integrity = Assert.Throws<Z4AiIntegrityException>(() => LossyDeltaFormat.ReadIndex(new MemoryStream(WithFooterFields(file, 5, footerAt - 5))))!;
        Assert.That(integrity.Subject, Is.EqualTo("lossy-delta index"));
    }

    [Test]
    public void ReadIndex_IndexLongerThanAnArray_IsRefusedWithoutAllocating()
    {
        long indexLength = (long)Array.MaxLength + 1;
        byte[] footer = new byte[52];
        BinaryPrimitives.WriteInt64LittleEndian(footer, 5);
        BinaryPrimitives.WriteInt64LittleEndian(footer.AsSpan(8), indexLength);
        "Z4AL"u8.CopyTo(footer.AsSpan(48));
        using var stream = new SparseStream([.. "Z4AL"u8, 1], footer, 5 + indexLength + 52);
        var ex = Assert.Throws<Z4AiFormatException>(() => LossyDeltaFormat.ReadIndex(stream))!;
        AssertFailure(ex, Z4AiErrorKind.InvalidContainer, $"the footer places the index at [5, +{indexLength}), outside the file", offset: 5 + indexLength);
    }

    [Test]
    public void ReadIndex_DigestMismatch_NamesBothDigests()
    {
        byte[] index = EmptyIndex();
        byte[] file = File(index);
        file[10] ^= 1;
        byte[] damaged = file.AsSpan(5, index.Length).ToArray();
        var ex = Assert.Throws<Z4AiIntegrityException>(() => LossyDeltaFormat.ReadIndex(new MemoryStream(file)))!;
        Assert.That(ex.Subject, Is.EqualTo("lossy-delta index"));
        Assert.That(ex.ExpectedDigest, Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(index))));
        Assert.That(ex.ActualDigest, Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(damaged))));
    }

    [Test]
    public void ReadExactly_ShortStream_NamesWhatWasRead()
    {
        using var stream = new SparseStream([1, 2, 3], [], 3);
        byte[] buffer = new byte[5];
        var ex = Assert.Throws<Z4AiFormatException>(() => LossyDeltaFormat.ReadExactly(stream, 1, buffer))!;
        AssertFailure(ex, Z4AiErrorKind.InvalidContainer, "the file ended after 2 of 5 bytes", offset: 3);

        LossyDeltaFormat.ReadExactly(stream, 1, buffer.AsSpan(0, 2));
        Assert.That(buffer[..2], Is.EqualTo(new byte[] { 2, 3 }));
    }

    /// <summary>A read-only seekable stream of a given length: some bytes at the start, some at the end, zeros between.</summary>
    internal sealed class SparseStream(byte[] head, byte[] tail, long length) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get; set; }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = (int)Math.Max(0, Math.Min(buffer.Length, length - Position));
            for (int i = 0; i < n; i++)
            {
                long p = Position + i;
                long fromEnd = p - (length - tail.Length);
                buffer[i] = p < head.Length ? head[p] : fromEnd >= 0 ? tail[fromEnd] : (byte)0;
            }

            Position += n;
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => Position + offset,
            _ => length + offset,
        };

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
