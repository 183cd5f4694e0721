using System.Buffers.Binary;
using System.IO.Hashing;
using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Format;

namespace Z4Ai.Tests.Format;

public class ContainerHostileTests
{
    private static readonly byte[] Raw = [1, 2, 3, 4];
    private static readonly byte[] Frame = [0, 4, 1, 2, 3, 4]; // Stored codec, varint 4, the bytes

    // A small, valid container with every feature: multi-chunk compressed tensors, a duplicate, an empty tensor,
    // a stored tiny tensor, the original header and metadata.
    private static readonly Lazy<(byte[] File, Dictionary<string, byte[]> Tensors)> Small = new(() =>
    {
        var rng = new Random(11);
        var samples = new List<ContainerKit.Sample>
        {
            new("smooth", DType.BF16, [3000], ContainerKit.Smooth(rng, 6000)),
            new("noise", DType.U8, [5000], ContainerKit.RandomBytes(rng, 5000)),
            new("tiny", DType.I32, [2], [7, 0, 0, 0, 9, 0, 0, 0]),
            new("empty", DType.F32, [0], []),
        };
        samples.Add(samples[0] with { Name = "smooth.copy" });
        byte[] file = ContainerKit.Write(samples, ContainerKit.Options(4096), ContainerKit.FakeSafeTensorsHeader(24), new Dictionary<string, string> { ["a"] = "b" }).File;
        return (file, samples.ToDictionary(s => s.Name, s => s.Data));
    });

    private static IEnumerable<TestCaseData> HostileIndexes()
    {
        // The baseline: one U8 tensor "t" of 4 bytes in one Stored frame at offset 8.
        IndexBuilder Valid(int count = 1) => new IndexBuilder().U32(4096).Var((ulong)count).Entry("t", DType.U8, [4], 4, Raw).U8(0).Var(1).Chunk(8, Frame, 4);
        byte[] Tail(IndexBuilder b) => b.U8(0).U8(0).ToArray();
        TestCaseData Case(string name, byte[] file, Z4AiErrorKind kind) => new TestCaseData(file, kind).SetName($"Open_{name}_Throws{kind}");

        yield return Case("CountOfTwoTo40Tensors", ContainerKit.Assemble(Frame, new IndexBuilder().U32(4096).Var(1UL << 40).ToArray()), Z4AiErrorKind.InvalidContainer);
        yield return Case("CountOfTwoTo63Tensors", ContainerKit.Assemble(Frame, new IndexBuilder().U32(4096).Var(1UL << 63).U8(0).ToArray()), Z4AiErrorKind.InvalidContainer);
        yield return Case("ShapeOfTwoTo60Bytes", ContainerKit.Assemble(Frame, Tail(new IndexBuilder().U32(4096).Var(1)
            .Entry("t", DType.U8, [1L << 30, 1L << 30], 1L << 60, Raw).U8(0).Var(1UL << 48))), Z4AiErrorKind.InvalidContainer);
        yield return Case("ShapeOverflowing64Bits", ContainerKit.Assemble(Frame, Tail(new IndexBuilder().U32(4096).Var(1)
            .Entry("t", DType.F32, [1L << 62, 1L << 62], 4, Raw).U8(0).Var(1).Chunk(8, Frame, 4))), Z4AiErrorKind.InvalidContainer);
        yield return Case("RawLengthNotTheShapes", ContainerKit.Assemble(Frame, Tail(new IndexBuilder().U32(4096).Var(1)
            .Entry("t", DType.U8, [5], 4, Raw).U8(0).Var(1).Chunk(8, Frame, 4))), Z4AiErrorKind.InvalidContainer);
        yield return Case("ChunkPastTheIndex", ContainerKit.Assemble(Frame, Tail(new IndexBuilder().U32(4096).Var(1)
            .Entry("t", DType.U8, [4], 4, Raw).U8(0).Var(1).Var(9).Var(6).Var(4).U8(0).U64(XxHash3.HashToUInt64(Frame)))), Z4AiErrorKind.InvalidContainer);
        yield return Case("ChunkBeforeTheData", ContainerKit.Assemble(Frame, Tail(new IndexBuilder().U32(4096).Var(1)
            .Entry("t", DType.U8, [4], 4, Raw).U8(0).Var(1).Chunk(2, Frame, 4))), Z4AiErrorKind.InvalidContainer);
        yield return Case("ChunkRawLengthsNotSummingToTheTensor", ContainerKit.Assemble(Frame, Tail(new IndexBuilder().U32(4096).Var(1)
            .Entry("t", DType.U8, [5], 5, Raw).U8(0).Var(1).Chunk(8, Frame, 4))), Z4AiErrorKind.InvalidContainer);
        yield return Case("FirstChunkShorterThanTheChunkSize", ContainerKit.Assemble(Frame, Tail(new IndexBuilder().U32(4096).Var(1)
            .Entry("t", DType.U8, [4100], 4100, Raw).U8(0).Var(2).Chunk(8, Frame, 4).Chunk(8, Frame, 4096))), Z4AiErrorKind.InvalidContainer);
        yield return Case("WrongChunkCount", ContainerKit.Assemble(Frame, Tail(new IndexBuilder().U32(4096).Var(1)
            .Entry("t", DType.U8, [4], 4, Raw).U8(0).Var(2).Chunk(8, Frame, 4).Chunk(8, Frame, 4))), Z4AiErrorKind.InvalidContainer);
        yield return Case("StoredLengthBeyondAFrame", ContainerKit.Assemble(new byte[30], Tail(new IndexBuilder().U32(4096).Var(1)
            .Entry("t", DType.U8, [4], 4, Raw).U8(0).Var(1).Var(8).Var(30).Var(4).U8(0).U64(0))), Z4AiErrorKind.InvalidContainer);
        yield return Case("GapInTheDataSection", ContainerKit.Assemble([.. Frame, 0xEE], Tail(Valid())), Z4AiErrorKind.InvalidContainer);
        yield return Case("TwoRecordsOfOneFrameDisagree", ContainerKit.Assemble(Frame, Tail(new IndexBuilder().U32(4096).Var(2)
            .Entry("t", DType.U8, [4], 4, Raw).U8(0).Var(1).Chunk(8, Frame, 4)
            .Entry("u", DType.U8, [4], 4, Raw).U8(0).Var(1).Var(8).Var(6).Var(4).U8(0).U64(12345))), Z4AiErrorKind.InvalidContainer);
        yield return Case("NameLengthOfTwoTo40", ContainerKit.Assemble(Frame, new IndexBuilder().U32(4096).Var(1).Var(1UL << 40).Bytes(new byte[40]).ToArray()), Z4AiErrorKind.InvalidContainer);
        yield return Case("NameNotUtf8", ContainerKit.Assemble(Frame, Tail(new IndexBuilder().U32(4096).Var(1).Var(1).U8(0xFF)
            .U8((int)DType.U8).Var(1).Var(4).Var(4).Bytes(System.Security.Cryptography.SHA256.HashData(Raw)).U8(0).Var(1).Chunk(8, Frame, 4))), Z4AiErrorKind.InvalidContainer);
        yield return Case("RankOfTwoTo40", ContainerKit.Assemble(Frame, new IndexBuilder().U32(4096).Var(1).Name("t").U8(4).Var(1UL << 40).Bytes(new byte[40]).ToArray()), Z4AiErrorKind.InvalidContainer);
        yield return Case("UnknownDType", ContainerKit.Assemble(Frame, Tail(new IndexBuilder().U32(4096).Var(1)
            .Entry("t", (DType)22, [4], 4, Raw).U8(0).Var(1).Chunk(8, Frame, 4))), Z4AiErrorKind.InvalidContainer);
        yield return Case("UnknownStorageKind", ContainerKit.Assemble(Frame, Tail(new IndexBuilder().U32(4096).Var(1)
            .Entry("t", DType.U8, [4], 4, Raw).U8(7).Var(1).Chunk(8, Frame, 4))), Z4AiErrorKind.InvalidContainer);
        yield return Case("DuplicateNames", ContainerKit.Assemble(Frame, Tail(Valid(2).Entry("t", DType.U8, [4], 4, Raw).U8(1).Var(0))), Z4AiErrorKind.DuplicateKey);
        yield return Case("DuplicateOfItself", ContainerKit.Assemble(Frame, Tail(Valid(2).Entry("u", DType.U8, [4], 4, Raw).U8(1).Var(1))), Z4AiErrorKind.InvalidContainer);
        yield return Case("DuplicateWithAnotherDigest", ContainerKit.Assemble(Frame, Tail(Valid(2).Entry("u", DType.U8, [4], 4, [9, 9, 9, 9]).U8(1).Var(0))), Z4AiErrorKind.InvalidContainer);
        yield return Case("DuplicateWithAnotherDType", ContainerKit.Assemble(Frame, Tail(Valid(2).Entry("u", DType.I8, [4], 4, Raw).U8(1).Var(0))), Z4AiErrorKind.InvalidContainer);
        yield return Case("ChunkSizeNotAPowerOfTwo", ContainerKit.Assemble(Frame, Tail(new IndexBuilder().U32(5000).Var(1)
            .Entry("t", DType.U8, [4], 4, Raw).U8(0).Var(1).Chunk(8, Frame, 4))), Z4AiErrorKind.InvalidContainer);
        yield return Case("ChunkSizeOf128MiB", ContainerKit.Assemble(Frame, Tail(new IndexBuilder().U32(128 << 20).Var(1)
            .Entry("t", DType.U8, [4], 4, Raw).U8(0).Var(1).Chunk(8, Frame, 4))), Z4AiErrorKind.LimitExceeded);
        yield return Case("OriginalHeaderOfTwoTo40Bytes", ContainerKit.Assemble(Frame, Valid().U8(1).Var(1UL << 40).Bytes(new byte[16]).ToArray()), Z4AiErrorKind.LimitExceeded);
        yield return Case("OriginalHeaderPastTheIndex", ContainerKit.Assemble(Frame, Valid().U8(1).Var(1000).Bytes(new byte[16]).ToArray()), Z4AiErrorKind.InvalidContainer);
        yield return Case("OriginalHeaderPrefixWrong", ContainerKit.Assemble(Frame, Valid().U8(1).Var(10).U64(3).U8(0x7B).U8(0x7D).U8(0).ToArray()), Z4AiErrorKind.InvalidContainer);
        yield return Case("PresenceByteTwo", ContainerKit.Assemble(Frame, Valid().U8(2).U8(0).ToArray()), Z4AiErrorKind.InvalidContainer);
        yield return Case("MetadataCountOfTwoTo30", ContainerKit.Assemble(Frame, Valid().U8(0).U8(1).Var(1UL << 30).Bytes(new byte[8]).ToArray()), Z4AiErrorKind.InvalidContainer);
        yield return Case("MetadataKeysUnsorted", ContainerKit.Assemble(Frame, Valid().U8(0).U8(1).Var(2).Name("b").Name("1").Name("a").Name("2").ToArray()), Z4AiErrorKind.InvalidContainer);
        yield return Case("MetadataKeyRepeated", ContainerKit.Assemble(Frame, Valid().U8(0).U8(1).Var(2).Name("a").Name("1").Name("a").Name("2").ToArray()), Z4AiErrorKind.InvalidContainer);
        yield return Case("TrailingIndexBytes", ContainerKit.Assemble(Frame, Valid().U8(0).U8(0).U8(0).ToArray()), Z4AiErrorKind.InvalidContainer);
        yield return Case("IndexCutShort", ContainerKit.Assemble(Frame, Valid().ToArray()), Z4AiErrorKind.InvalidContainer);
        yield return Case("VersionTwo", ContainerKit.Assemble(Frame, Tail(Valid()), version: 2), Z4AiErrorKind.UnsupportedVersion);

        byte[] good = ContainerKit.Assemble(Frame, Tail(Valid()));
        byte[] badMagic = (byte[])good.Clone();
        badMagic[0] = (byte)'P';
        yield return Case("WrongMagic", badMagic, Z4AiErrorKind.InvalidContainer);
        yield return Case("TooShort", good[..47], Z4AiErrorKind.InvalidContainer);
        yield return Case("FooterFlagsSet", EditFooter(good, f => f[6] = 1), Z4AiErrorKind.UnsupportedVersion);
        yield return Case("IndexLongerThanTheFile", EditFooter(good, f => BinaryPrimitives.WriteUInt64LittleEndian(f[16..], 1000)), Z4AiErrorKind.InvalidContainer);
        yield return Case("IndexOfTwoTo40Bytes", EditFooter(good, f => BinaryPrimitives.WriteUInt64LittleEndian(f[16..], 1UL << 40)), Z4AiErrorKind.LimitExceeded);
        yield return Case("IndexOffsetInsideTheHeader", EditFooter(good, f => BinaryPrimitives.WriteUInt64LittleEndian(f[8..], 4)), Z4AiErrorKind.InvalidContainer);
        yield return Case("IndexChecksumWrong", EditFooter(good, f => f[24] ^= 1), Z4AiErrorKind.InvalidContainer);
        byte[] badFooterSum = (byte[])good.Clone();
        badFooterSum[^5] ^= 0x10;
        yield return Case("FooterChecksumWrong", badFooterSum, Z4AiErrorKind.InvalidContainer);
    }

    [Test]
    public void Open_HandBuiltBaseline_Reads()
    {
        byte[] file = ContainerKit.Assemble(
            Frame,
            new IndexBuilder().U32(4096).Var(1).Entry("t", DType.U8, [4], 4, Raw).U8(0).Var(1).Chunk(8, Frame, 4).U8(0).U8(0).ToArray());
        using ContainerReader reader = ContainerKit.Open(file);
        Assert.That(reader.ReadTensor(reader.Tensors[0]), Is.EqualTo(Raw));
    }

    [TestCaseSource(nameof(HostileIndexes))]
    public void Open_HostileContainer_ThrowsBeforeAllocating(byte[] file, Z4AiErrorKind kind)
    {
        using var stream = new MemoryStream(file, writable: false);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws(Is.InstanceOf<Z4AiFormatException>(), () => ContainerReader.Open(stream, leaveOpen: true, displayName: "hostile.z4ai"));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        var format = (Z4AiFormatException)ex!;
        TestContext.Out.WriteLine(format.Message);
        Assert.That(format.Kind, Is.EqualTo(kind), format.Message);
        Assert.That(format.FilePath, Is.EqualTo("hostile.z4ai"));
        Assert.That(format.Offset, Is.Not.Null, format.Message);
        Assert.That(allocated, Is.LessThan(1 << 20), "a hostile size must be rejected before it is allocated");
    }

    [Test]
    public void Open_ChunkLengthWrong_NamesTheTensorAndAbsoluteOffset()
    {
        byte[] index = new IndexBuilder().U32(4096).Var(1).Entry("layer.0.weight", DType.U8, [5], 5, Raw).U8(0).Var(1).Chunk(8, Frame, 4).U8(0).U8(0).ToArray();
        byte[] file = ContainerKit.Assemble(Frame, index);
        var ex = Assert.Throws<Z4AiFormatException>(() => ContainerKit.Open(file));
        Assert.That(ex!.TensorName, Is.EqualTo("layer.0.weight"));
        Assert.That(ex.Offset, Is.GreaterThanOrEqualTo(8 + Frame.Length).And.LessThan(8 + Frame.Length + index.Length));
        Assert.That(ex.Message, Does.Contain("layer.0.weight"));
    }

    [Test]
    public void Open_EveryTruncation_ThrowsFormatException()
    {
        byte[] file = Small.Value.File;
        for (int length = 0; length < file.Length; length++)
        {
            byte[] cut = file[..length];
            Assert.That(() => ContainerKit.Open(cut).Dispose(), Throws.InstanceOf<Z4AiFormatException>(), $"length {length}");
        }
    }

    [Test]
    public void Read_SingleBitFlipAnywhere_IsDetectedAndNeverYieldsWrongBytes()
    {
        (byte[] file, Dictionary<string, byte[]> tensors) = Small.Value;
        for (int position = 0; position < file.Length; position++)
        {
            byte[] flipped = (byte[])file.Clone();
            flipped[position] ^= (byte)(1 << (position % 8));
            Assert.That(ReadEverything(flipped, tensors), Is.True, $"a flip at byte {position} went unnoticed");
        }
    }

    [Test]
    public void Read_RandomMutations_OnlyLibraryExceptionsEscape()
    {
        (byte[] file, Dictionary<string, byte[]> tensors) = Small.Value;
        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), seed =>
        {
            var rng = new Random(seed);
            byte[] mutated = (byte[])file.Clone();
            for (int i = rng.Next(1, 5); i > 0; i--)
            {
                mutated[rng.Next(mutated.Length)] = (byte)rng.Next(256);
            }

            ReadEverything(mutated, tensors);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(300));
    }

    [Test]
    public void Read_IndexMutatedWithResealedChecksums_OnlyLibraryExceptionsEscape()
    {
        // Past the checksums, straight into the index parser: mutate index bytes, then recompute the index
        // checksum and the footer so only the parser's own validation stands between the bytes and the reader.
        (byte[] file, Dictionary<string, byte[]> tensors) = Small.Value;
        long indexOffset = BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan(file.Length - 32));
        int indexLength = (int)BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan(file.Length - 24));
        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), seed =>
        {
            var rng = new Random(seed);
            byte[] mutated = (byte[])file.Clone();
            Span<byte> index = mutated.AsSpan((int)indexOffset, indexLength);
            for (int i = rng.Next(1, 4); i > 0; i--)
            {
                index[rng.Next(indexLength)] = rng.Next(3) == 0 ? (byte)0xFF : (byte)rng.Next(256);
            }

            BinaryPrimitives.WriteUInt64LittleEndian(mutated.AsSpan(mutated.Length - 16), XxHash3.HashToUInt64(index));
            ContainerKit.ResealFooter(mutated);
            // A mutation may rename a tensor or change its recorded digest: then only the digest can be held to.
            ReadEverything(mutated, tensors, trustNames: false);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(300));
    }

    [Test]
    public void Read_GarbageFrameWithValidChecksum_ThrowsLibraryExceptionNeverWrongBytes()
    {
        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), seed =>
        {
            var rng = new Random(seed);
            byte[] raw = ContainerKit.RandomBytes(rng, rng.Next(1, 200));
            byte[] frame = ContainerKit.RandomBytes(rng, rng.Next(1, 60));
            frame[0] = (byte)rng.Next(4);
            byte[] index = new IndexBuilder().U32(4096).Var(1).Entry("g", DType.U8, [raw.Length], raw.Length, raw)
                .U8(0).Var(1).Chunk(8, frame, raw.Length).U8(0).U8(0).ToArray();
            ReadEverything(ContainerKit.Assemble(frame, index), new() { ["g"] = raw });
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(300));
    }

    // Opens and reads everything every way; returns true when something was detected. Fails the test if any
    // exception other than a Z4AiException escapes, or if a read returns bytes other than the original (or, when the
    // index itself was forged, bytes that do not match the digest it records).
    private static bool ReadEverything(byte[] file, Dictionary<string, byte[]> originals, bool trustNames = true)
    {
        ContainerReader reader;
        try
        {
            reader = ContainerKit.Open(file);
        }
        catch (Z4AiFormatException)
        {
            return true;
        }

        using (reader)
        {
            bool detected = false;
            foreach (ContainerEntry entry in reader.Tensors)
            {
                try
                {
                    byte[] bytes = reader.ReadTensor(entry);
                    bool right = trustNames
                        ? originals.TryGetValue(entry.Name, out byte[]? original) && bytes.AsSpan().SequenceEqual(original)
                        : System.Security.Cryptography.SHA256.HashData(bytes).AsSpan().SequenceEqual(entry.Sha256);
                    Assert.That(right, Is.True, $"'{entry.Name}' read back wrong bytes");
                }
                catch (Z4AiException)
                {
                    detected = true;
                }

                try
                {
                    reader.CopyTensorTo(entry, Stream.Null);
                }
                catch (Z4AiException)
                {
                    detected = true;
                }

                try
                {
                    if (entry.RawLength > 0)
                    {
                        reader.ReadRange(entry, entry.RawLength / 3, new byte[entry.RawLength / 2]);
                    }
                }
                catch (Z4AiException)
                {
                    detected = true;
                }
            }

            IReadOnlyList<string> failed = reader.Verify();
            Assert.That(failed.Count > 0, Is.EqualTo(detected), "Verify must agree with the reads");
            try
            {
                if (reader.OriginalHeader is not null)
                {
                    reader.RestoreSafeTensors(Stream.Null);
                }
            }
            catch (Z4AiException)
            {
                detected = true;
            }

            return detected;
        }
    }

    private static byte[] EditFooter(byte[] file, SpanAction edit)
    {
        byte[] copy = (byte[])file.Clone();
        edit(copy.AsSpan(copy.Length - 40));
        ContainerKit.ResealFooter(copy);
        return copy;
    }

    private delegate void SpanAction(Span<byte> footer);
}
