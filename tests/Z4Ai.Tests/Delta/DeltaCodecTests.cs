using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Codecs;
using Z4Ai.Delta;

namespace Z4Ai.Tests.Delta;

public class DeltaCodecTests
{
    private static readonly int[] ChunkSizes = [64, 72, 128, 256, DeltaOptions.DefaultChunkSize];

    /// <summary>How the current buffer relates to the reference in a generated case.</summary>
    private enum Relation
    {
        Identical,
        SameLengthEdited,
        Shorter,
        Longer,
        Unrelated,
    }

    private sealed record Case(DType DType, byte[] Reference, byte[] Current, DeltaOptions Options, Relation Relation)
    {
        public override string ToString() =>
            $"{DType} {Relation}: reference {Reference.Length}, current {Current.Length}, chunk {Options.ChunkSize}, {Options.Effort}";
    }

    private static Arbitrary<Case> Cases()
    {
        Gen<Case> gen =
            from seed in Gen.Choose(0, int.MaxValue)
            from dtype in Gen.Choose(0, DTypeInfo.Count - 1)
            from length in Gen.Frequency((1, Gen.Constant(0)), (6, Gen.Choose(1, 700)))
            from relation in Gen.Choose(0, 4)
            from chunk in Gen.Elements(ChunkSizes)
            from effort in Gen.Elements(CompressionEffort.Fast, CompressionEffort.Default, CompressionEffort.Max)
            select Build(seed, (DType)dtype, length, (Relation)relation, chunk, effort);
        return gen.ToArbitrary();
    }

    private static Case Build(int seed, DType dtype, int length, Relation relation, int chunkSize, CompressionEffort effort)
    {
        var random = new Random(seed);
        byte[] reference = Content(random, length);
        byte[] current = relation switch
        {
            Relation.Identical => (byte[])reference.Clone(),
            Relation.SameLengthEdited => Edit(random, reference, reference.Length),
            Relation.Shorter => Edit(random, reference, random.Next(0, length + 1)),
            Relation.Longer => Edit(random, reference, length + random.Next(1, 300)),
            _ => Content(random, random.Next(0, 700)),
        };
        return new Case(dtype, reference, current, new DeltaOptions { ChunkSize = chunkSize, Effort = effort }, relation);
    }

    private static byte[] Content(Random random, int length)
    {
        byte[] bytes = new byte[length];
        switch (random.Next(3))
        {
            case 0:
                random.NextBytes(bytes);
                break;
            case 1:
                // Weight-like: BF16 Gaussians, so zstd and byte planes have something to find.
                DeltaTestData.GaussianBf16((length + 1) / 2, 0.02f, random.Next()).AsSpan(0, length).CopyTo(bytes);
                break;
            default:
                for (int i = 0; i < length; i++)
                {
                    bytes[i] = (byte)(i % 13 == 0 ? random.Next(256) : i / 29);
                }

                break;
        }

        return bytes;
    }

    private static byte[] Edit(Random random, byte[] reference, int length)
    {
        byte[] current = new byte[length];
        reference.AsSpan(0, Math.Min(length, reference.Length)).CopyTo(current);
        random.NextBytes(current.AsSpan(Math.Min(length, reference.Length)));
        int edits = length == 0 ? 0 : random.Next(0, 1 + (length / 16));
        for (int e = 0; e < edits; e++)
        {
            int at = random.Next(length);
            current[at] = (byte)(current[at] + random.Next(-2, 3));
        }

        return current;
    }

    private static int ScratchFrameLength(ReadOnlySpan<byte> chunk, DType dtype, CompressionEffort effort)
    {
        var writer = new ArrayBufferWriter<byte>();
        TensorCodec.Encode(chunk, dtype, effort, writer);
        return writer.WrittenCount;
    }

    [Test]
    public void CompressDecompress_RandomDTypesLengthsAndReferences_RoundTrips()
    {
        Prop.ForAll(Cases(), c =>
        {
            byte[] delta = DeltaCodec.Compress(c.Current, c.Reference, c.DType, c.Options);
            return DeltaCodec.Decompress(delta, c.Reference).AsSpan().SequenceEqual(c.Current);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(250));
    }

    [Test]
    public void Compress_RandomCases_NeverExceedsScratchCompressionPlusFixedOverhead()
    {
        Prop.ForAll(Cases(), c =>
        {
            byte[] delta = DeltaCodec.Compress(c.Current, c.Reference, c.DType, c.Options);
            int chunkSize = c.Options.ChunkSize;
            long scratch = 0;
            int chunks = 0;
            for (int offset = 0; offset < c.Current.Length; offset += chunkSize)
            {
                int length = Math.Min(chunkSize, c.Current.Length - offset);
                scratch += ScratchFrameLength(c.Current.AsSpan(offset, length), c.DType, c.Options.Effort);
                chunks++;
            }

            bool withinScratch = delta.Length <= DeltaHeader.MaxLength + scratch + ((long)chunks * BufferDelta.MaxChunkOverhead);
            bool withinRaw = delta.Length <= DeltaHeader.MaxLength + c.Current.Length
                + ((long)chunks * (BufferDelta.MaxChunkOverhead + TensorCodec.MaxHeaderLength));
            return withinScratch && withinRaw;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(150));
    }

    [Test]
    public void Inspect_RandomCases_DescribesLengthsDigestsAndChunksWithoutTheReference()
    {
        Prop.ForAll(Cases(), c =>
        {
            byte[] delta = DeltaCodec.Compress(c.Current, c.Reference, c.DType, c.Options);
            DeltaInfo info = DeltaCodec.Inspect(delta);
            int chunkSize = c.Options.ChunkSize;
            bool header = info.FormatVersion == 1 && info.DType == c.DType && info.ChunkSize == chunkSize
                && info.ReferenceLength == c.Reference.Length && info.TargetLength == c.Current.Length
                && info.ReferenceSha256 == Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(c.Reference))
                && info.TargetSha256 == Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(c.Current))
                && info.DeltaLength == delta.Length
                && info.Chunks.Count == (c.Current.Length + chunkSize - 1) / chunkSize;
            long accounted = info.HeaderLength;
            bool chunks = true;
            for (int i = 0; i < info.Chunks.Count; i++)
            {
                DeltaChunkInfo chunk = info.Chunks[i];
                long end = chunk.Offset + chunk.Length;
                chunks &= chunk.Index == i && chunk.Offset == (long)i * chunkSize && end <= c.Current.Length;
                // Copy only where the reference covers the chunk; nothing but Scratch past the reference's end.
                chunks &= chunk.Mode != DeltaChunkMode.Copy || end <= c.Reference.Length;
                chunks &= chunk.Offset < c.Reference.Length || chunk.Mode == DeltaChunkMode.Scratch;
                chunks &= (chunk.Mode == DeltaChunkMode.Copy) == (chunk.StoredLength == 0);
                accounted += 1 + (chunk.Mode == DeltaChunkMode.Copy ? 0 : Internal.VarInt.GetLength((ulong)chunk.StoredLength) + chunk.StoredLength);
            }

            return header && chunks && accounted == delta.Length;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(150));
    }

    [Test]
    public void Compress_IdenticalBuffers_IsHeaderPlusOneByteEachChunk()
    {
        byte[] data = DeltaTestData.GaussianBf16(1 << 20, 0.02f, seed: 5);
        byte[] delta = DeltaCodec.Compress(data, data, DType.BF16);
        DeltaInfo info = DeltaCodec.Inspect(delta);
        Assert.That(info.CountChunks(DeltaChunkMode.Copy), Is.EqualTo(2));
        Assert.That(delta, Has.Length.EqualTo(info.HeaderLength + 2));
        Assert.That(delta, Has.Length.LessThan(100));
        Assert.That(DeltaCodec.Decompress(delta, data), Is.EqualTo(data));
    }

    [Test]
    public void Compress_EmptyCurrent_RoundTripsWithNoChunks()
    {
        byte[] reference = [1, 2, 3];
        byte[] delta = DeltaCodec.Compress([], reference, DType.F32);
        Assert.That(DeltaCodec.Inspect(delta).Chunks, Is.Empty);
        Assert.That(DeltaCodec.Decompress(delta, reference), Is.Empty);
        Assert.That(DeltaCodec.Decompress(DeltaCodec.Compress([], [], DType.BOOL), []), Is.Empty);
    }

    [Test]
    public void Compress_ChunksOfAGrownTensor_CopyChangeAndScratchWhereExpected()
    {
        // Reference: 3 chunks of 256 bytes. Current: chunk 0 unchanged, chunk 1 slightly changed, the second half of
        // chunk 2 replaced, and chunk 3 past the reference's end (the tensor grew).
        byte[] reference = DeltaTestData.GaussianBf16(384, 0.02f, seed: 8);
        byte[] grown = DeltaTestData.GaussianBf16(512, 0.02f, seed: 9);
        byte[] current = new byte[1024];
        reference.CopyTo(current, 0);
        grown.AsSpan(640, 384).CopyTo(current.AsSpan(640));
        DeltaTestData.StepBf16(reference, 0.05, seed: 10).AsSpan(256, 256).CopyTo(current.AsSpan(256));
        current[257] ^= 1; // make sure chunk 1 differs

        byte[] delta = DeltaCodec.Compress(current, reference, DType.BF16, new DeltaOptions { ChunkSize = 256 });
        DeltaInfo info = DeltaCodec.Inspect(delta);
        Assert.That(info.Chunks, Has.Count.EqualTo(4));
        Assert.That(info.Chunks[0].Mode, Is.EqualTo(DeltaChunkMode.Copy));
        Assert.That(info.Chunks[1].Mode, Is.EqualTo(DeltaChunkMode.Sparse)); // 5% of its values moved
        Assert.That(info.Chunks[2].Mode, Is.Not.EqualTo(DeltaChunkMode.Copy));
        Assert.That(info.Chunks[3].Mode, Is.EqualTo(DeltaChunkMode.Scratch));
        Assert.That(info.Chunks[3].Offset, Is.EqualTo(768));
        Assert.That(DeltaCodec.Decompress(delta, reference), Is.EqualTo(current));
    }

    [Test]
    public void Decompress_WithDifferentReference_ThrowsReferenceMismatchNamingBothDigests()
    {
        byte[] reference = DeltaTestData.GaussianBf16(1000, 0.02f, seed: 1);
        byte[] current = DeltaTestData.StepBf16(reference, 0.1, seed: 2);
        byte[] delta = DeltaCodec.Compress(current, reference, DType.BF16);
        string expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(reference));

        byte[] flipped = (byte[])reference.Clone();
        flipped[500] ^= 0x10;
        byte[] shorter = reference[..^2];
        foreach (byte[] wrong in new[] { flipped, shorter, current, Array.Empty<byte>() })
        {
            string actual = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(wrong));
            var ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.Decompress(delta, wrong));
            Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.ReferenceMismatch));
            Assert.That(ex.Message, Does.Contain(expected).And.Contain(actual));
            Assert.That(() => DeltaCodec.TryDecompress(delta, wrong, new byte[current.Length], out _), Throws.InstanceOf<Z4AiFormatException>());
        }
    }

    [Test]
    public void TryDecompress_DestinationSizes_WritesExactlyOrReturnsFalse()
    {
        byte[] reference = DeltaTestData.GaussianBf16(300, 0.02f, seed: 3);
        byte[] current = DeltaTestData.StepBf16(reference, 0.2, seed: 4);
        byte[] delta = DeltaCodec.Compress(current, reference, DType.BF16, new DeltaOptions { ChunkSize = 128 });
        Assert.That(DeltaCodec.GetDecompressedLength(delta), Is.EqualTo(current.Length));

        byte[] exact = new byte[current.Length];
        Assert.That(DeltaCodec.TryDecompress(delta, reference, exact, out int written), Is.True);
        Assert.That(written, Is.EqualTo(current.Length));
        Assert.That(exact, Is.EqualTo(current));

        byte[] shortByOne = new byte[current.Length - 1];
        Assert.That(DeltaCodec.TryDecompress(delta, reference, shortByOne, out written), Is.False);
        Assert.That(written, Is.Zero);
        Assert.That(shortByOne, Is.All.EqualTo(0));

        byte[] larger = Enumerable.Repeat((byte)0xEE, current.Length + 5).ToArray();
        Assert.That(DeltaCodec.TryDecompress(delta, reference, larger, out written), Is.True);
        Assert.That(larger.AsSpan(0, written).ToArray(), Is.EqualTo(current));
        Assert.That(larger.AsSpan(written).ToArray(), Is.All.EqualTo(0xEE));
    }

    [Test]
    public void Decompress_WithKnownReferenceDigest_SkipsHashingButStillVerifiesTarget()
    {
        byte[] reference = DeltaTestData.GaussianBf16(300, 0.02f, seed: 3);
        byte[] current = DeltaTestData.StepBf16(reference, 0.2, seed: 4);
        byte[] delta = DeltaCodec.Compress(current, reference, DType.BF16);
        var digest = Integrity.Sha256Digest.Compute(reference);
        Assert.That(BufferDelta.Decode(delta, reference, digest), Is.EqualTo(current));

        // A caller that vouches for the wrong bytes still never gets a wrong result: the target digest catches it.
        byte[] wrong = (byte[])reference.Clone();
        wrong[10] ^= 0x40;
        Assert.That(() => BufferDelta.Decode(delta, wrong, digest), Throws.InstanceOf<Z4AiIntegrityException>());
    }

    [Test]
    public void Compress_InvalidArguments_ThrowArgumentExceptions()
    {
        Assert.That(() => DeltaCodec.Compress([1], [1], (DType)DTypeInfo.Count), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => new DeltaOptions { ChunkSize = 63 }, Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => new DeltaOptions { ChunkSize = 100 }, Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => new DeltaOptions { ChunkSize = DeltaOptions.MaxChunkSize + 8 }, Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => new DeltaOptions { Effort = (CompressionEffort)7 }, Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(new DeltaOptions { ChunkSize = DeltaOptions.MinChunkSize }.ChunkSize, Is.EqualTo(64));
        Assert.That(DeltaOptions.Default.ChunkSize, Is.EqualTo(1 << 20));
        Assert.That(DeltaOptions.Default.Effort, Is.EqualTo(CompressionEffort.Default));
        Assert.That(() => BufferDelta.Encode([1], [1], DType.U8, CompressionEffort.Default, 60), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }
}
