using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Delta;

namespace Z4Ai.Tests.Delta;

/// <summary>
/// The SparseBlock chunk mode: tokens and raw bits, exact round trips, the selector's margin rule, never-expand, its
/// golden bytes, and damaged or lying input.
/// </summary>
public class SparseBlockDeltaTests
{
    // BF16, 2048 elements, chunk size 4096, reference and target = NudgedBf16(2048, 0.02, 0.4, seed 31), effort Fast:
    // one SparseBlock chunk. Pinned when the mode was added: never regenerate it to make a
    // failing test pass.
    private const string GoldenHex =
        "5a344144010e80208020d7116cc4407a7300c492a71327cbcd090c6f43a683e6c19ceb16262baec3a8f0802064a3903a534503b350f7b1"
        + "05cadbbd612cefcd189a58f37baa84ee952e303f8e05b904bc040800ea0108f080dcfbd7aabeaeef240db08c090032802e00931c9b5183"
        + "f60200b80e6562b3eddff6976e598646a482d9450240ce0407a86f0924f04021a5ec05e65a54e02d89120347a75ce13703e51b8ae731cb"
        + "aa3e44a95ce1ccb0914898d71b2f01bc1a911e126ca209f3b8125d77e3b097ebe8770eed82b2dde79f5ecab2f9d1ee9b3e48978595645a"
        + "795617b38744bf6c1e2760281acd61aef859a25346137eb5ac0ad51153da811775437dff5ce1c2a14e18a59e8ea2e75407a067ab4eaea6"
        + "7c3e834fe2f00aede3b549feeeb61f5e4ec63086105c80386bc62c58825cfc25ccc51d3020a430e7009cc0d6073c8e099ae685ad9b0208"
        + "1082d3a4b5554d50853f9de22a979624a906da000100828cf50a191e9a17e5e40200dbaf5ced8d30697b3683f703695fc68c6248b9f910"
        + "52e1371b37c4950b6acc6e3fe42a7e792d957fa2c5352430ed83559f1e04f3b40676b76f408111a9135fa100305803d45807c165a8678d"
        + "08c44b78e89e33e3303f9c5bdb3a00a0b2a37b7366659a713c5bed4a48be338cb8ec1cdf0d9d96db424ef69a651f27f54a05a180c4e89c"
        + "38d82a32c10f0a581bff58abba5b1ff77cf35ed7726d2d355aa2fea8aea7b5b092952340ba26ae692e73c4cb897af6ca6841ea58d32760"
        + "c570ab5501af09ec7639b10e092f1693fd83b38ba956e66ca3155916b49cbbd1f2907e4f75198a8927f90331acffbe2dcd257987954d10"
        + "e950628055d0162360098f946552fcd92868a76cc3b1a1f8107d0238a0c5756d42a4ca0c2271c07cd68331";

    private static readonly (int LaneSize, bool Ordered, DType DType)[] LaneKinds =
    [
        (1, false, DType.U8), (1, true, DType.F8_E4M3), (2, false, DType.I16), (2, true, DType.BF16),
        (2, true, DType.F16), (4, false, DType.U32), (4, true, DType.F32), (8, false, DType.I64), (8, true, DType.F64),
    ];

    // BF16, 512 elements, chunk size 1024, reference = GaussianBf16(512, 0.02, seed 41), target = every even element
    // moved by a step of 1 to 3 either way (AlternateSteps, seed 42), effort Fast: one SparseBlock chunk whose
    // positions are a bitmap (flags bit 1). Pinned when the bitmap option was added: never regenerate it.
    private const string BitmapGoldenHex =
        "5a344144010e8008800879cd63857fda3b18ff084f86e5879ddc15eecd57c7042eaa14b87421245240ca8008ac563d80fe047100113feb"
        + "b4a1db51c428b710e4f2ecb7d1fd95015ec292031b05800180020802135005000000010000000100000001000000010000650450a0aa2a"
        + "138e06003d9a000184f00600df118101010474fe020c52a7e5fb6b42d4167c4a68f078d8cd197047b2aeb3e0b98f9dacc0219637caff2a"
        + "8c34b1b6e33f0701186759137554ecdac2e921106b0c21997dbd5409acb20b8cce008a007100e2007f00";

    private static byte[] BitmapReference() => DeltaTestData.GaussianBf16(512, 0.02f, seed: 41);

    private static byte[] BitmapTarget()
    {
        byte[] current = BitmapReference();
        var random = new Random(42);
        for (int i = 0; i < current.Length / 2; i += 2)
        {
            ushort bits = System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(current.AsSpan(i * 2));
            int step = random.Next(1, 4) * (random.Next(2) == 0 ? 1 : -1);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(current.AsSpan(i * 2), (ushort)(bits + step));
        }

        return current;
    }

    private static byte[] BitmapDelta() =>
        DeltaCodec.Compress(BitmapTarget(), BitmapReference(), DType.BF16, new DeltaOptions { ChunkSize = 1024, Effort = CompressionEffort.Fast });

    private static byte[] GoldenReference() => DeltaTestData.NudgedBf16(2048, 0.02f, 0.4, seed: 31).Reference;

    private static byte[] GoldenTarget() => DeltaTestData.NudgedBf16(2048, 0.02f, 0.4, seed: 31).Current;

    private static byte[] GoldenDelta() =>
        DeltaCodec.Compress(GoldenTarget(), GoldenReference(), DType.BF16, new DeltaOptions { ChunkSize = 4096, Effort = CompressionEffort.Fast });

    private static Gen<(int Kind, byte[] Reference, byte[] Current)> Cases() =>
        from kind in Gen.Choose(0, LaneKinds.Length - 1)
        from elements in Gen.Choose(1, 900)
        from density in Gen.Elements(0.003, 0.05, 0.2, 0.35, 0.5, 1.0)
        from wide in Gen.Elements(false, true)
        from seed in Gen.Choose(0, int.MaxValue)
        select Make(kind, elements, density, wide, seed);

    private static (int, byte[], byte[]) Make(int kind, int elements, double density, bool wide, int seed)
    {
        (byte[] reference, byte[] current) = DeltaTestData.RandomLaneChanges(LaneKinds[kind].LaneSize, elements, density, wide, seed);
        return (kind, reference, current);
    }

    private static byte[] EncodeDirect(byte[] current, byte[] reference, int laneSize, bool ordered, out int changes)
    {
        changes = SparseDelta.CountChanges(current, reference, laneSize);
        byte[] room = new byte[(current.Length * 3) + 1024];
        int written = SparseBlockDelta.Encode(current, reference, laneSize, ordered, changes, room);
        Assert.That(written, Is.GreaterThan(0));
        return room[..written];
    }

    [Test]
    public void Token_EveryBitLength_SplitsIntoTokenAndLowBitsThatRebuildTheNumber()
    {
        var random = new Random(3);
        for (int length = 1; length <= 64; length++)
        {
            for (int trial = 0; trial < 50; trial++)
            {
                ulong low = length == 1 ? 0 : ((ulong)random.NextInt64() | ((ulong)random.Next(2) << 63)) & ((1UL << (length - 1)) - 1);
                ulong n = (1UL << (length - 1)) | low;
                int token = SparseBlockDelta.Token(n, out int extra);
                Assert.That(token, Is.LessThanOrEqualTo(SparseBlockDelta.MaxToken(length)), $"n {n}");
                Assert.That(token, Is.GreaterThan(length == 1 ? -1 : SparseBlockDelta.MaxToken(length - 1)), $"n {n}");
                Assert.That(extra, Is.EqualTo(Math.Max(0, length - 3)));
                ulong top = n >> extra;
                ulong rebuilt = (top << extra) | (n & ((1UL << extra) - 1));
                Assert.That(rebuilt, Is.EqualTo(n));
            }
        }

        Assert.That(SparseBlockDelta.MaxToken(64), Is.EqualTo(250));
        Assert.That(SparseBlockDelta.Token(1, out _), Is.Zero);
        Assert.That(SparseBlockDelta.Token(7, out int sevenExtra), Is.EqualTo(6));
        Assert.That(sevenExtra, Is.Zero);
    }

    [Test]
    public void RawBits_RandomFields_ReadBackExactlyAndEndOnThePadding()
    {
        Prop.ForAll(Gen.ArrayOf(Gen.Choose(0, 64)).ToArbitrary(), (int[] widths) =>
        {
            var random = new Random(widths.Length);
            ulong[] values = new ulong[widths.Length];
            long bits = 0;
            for (int i = 0; i < widths.Length; i++)
            {
                ulong v = (ulong)random.NextInt64() ^ ((ulong)random.Next() << 40);
                values[i] = widths[i] == 64 ? v : v & ((1UL << widths[i]) - 1);
                bits += widths[i];
            }

            byte[] room = new byte[RawBitWriter.Capacity(bits)];
            var writer = new RawBitWriter(room);
            for (int i = 0; i < widths.Length; i++)
            {
                writer.Write(values[i], widths[i]);
            }

            byte[] stream = writer.Finish().ToArray();
            var reader = new RawBitReader(stream);
            bool same = stream.Length == (bits + 7) / 8;
            for (int i = 0; i < widths.Length; i++)
            {
                same &= reader.Read(widths[i]) == values[i];
            }

            return same && reader.EndsExactly;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(200));
    }

    [Test]
    public void RawBits_ReadPastTheEndOrNonZeroPadding_IsNotAnExactEnd()
    {
        var past = new RawBitReader(new byte[] { 0xFF });
        Assert.That(past.Read(12), Is.EqualTo(0xFFUL));
        Assert.That(past.EndsExactly, Is.False);

        var padded = new RawBitReader(new byte[] { 0b1000_0101 });
        Assert.That(padded.Read(3), Is.EqualTo(0b101UL));
        Assert.That(padded.EndsExactly, Is.False);

        var clean = new RawBitReader(new byte[] { 0b0000_0101 });
        clean.Read(3);
        Assert.That(clean.EndsExactly, Is.True);
    }

    [Test]
    public void EncodeDecode_RandomLanesAndChanges_RestoresEveryByte()
    {
        Prop.ForAll(Cases().ToArbitrary(), c =>
        {
            (int laneSize, bool ordered, _) = LaneKinds[c.Kind];
            if (SparseDelta.CountChanges(c.Current, c.Reference, laneSize) == 0)
            {
                return true;
            }

            byte[] payload = EncodeDirect(c.Current, c.Reference, laneSize, ordered, out _);
            byte[] target = (byte[])c.Reference.Clone();
            SparseBlockDelta.Decode(payload, target, laneSize, ordered, 0);
            return target.AsSpan().SequenceEqual(c.Current);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(300));
    }

    [TestCase(2, true, 0.3)]
    [TestCase(4, true, 0.45)]
    [TestCase(1, false, 0.4)]
    [TestCase(8, false, 0.25)]
    public void EncodeDecode_DenseChangesInALargeChunk_UsesTheBitmapAndRestoresEveryByte(int laneSize, bool ordered, double density)
    {
        var random = new Random(laneSize);
        byte[] reference = new byte[(1 << 16) * laneSize];
        random.NextBytes(reference);
        byte[] current = (byte[])reference.Clone();
        for (int i = 0; i < reference.Length / laneSize; i++)
        {
            if (random.NextDouble() < density)
            {
                current[i * laneSize] ^= (byte)random.Next(1, 4);
            }
        }

        byte[] payload = EncodeDirect(current, reference, laneSize, ordered, out int changes);
        int countLength = Z4Ai.Internal.VarInt.GetLength((ulong)changes);
        Assert.That(payload[countLength + 1] & SparseBlockDelta.BitmapFlag, Is.EqualTo(SparseBlockDelta.BitmapFlag));
        byte[] target = (byte[])reference.Clone();
        SparseBlockDelta.Decode(payload, target, laneSize, ordered, 0);
        Assert.That(target, Is.EqualTo(current));
    }

    [Test]
    public void EncodeDecode_LongStreams_SetTheWideFlagAndRestoreEveryByte()
    {
        // 2^19 BF16 elements over a few exponents, a third changed, steps whose size depends on the exponent: a 65,536-byte
        // bitmap (wide) and step tokens merged over a few classes; clearing either flag makes the bytes undecodable,
        // never wrong.
        var random = new Random(21);
        int elements = 1 << 19;
        byte[] reference = new byte[elements * 2];
        for (int i = 0; i < elements; i++)
        {
            reference[(2 * i) + 1] = (byte)(0x3A + random.Next(4));
            reference[2 * i] = (byte)random.Next(256);
        }

        byte[] current = (byte[])reference.Clone();
        for (int i = 0; i < elements; i++)
        {
            if (random.Next(3) == 0)
            {
                current[2 * i] ^= (byte)random.Next(1, 1 << (reference[(2 * i) + 1] - 0x37));
            }
        }

        byte[] payload = EncodeDirect(current, reference, 2, true, out int changes);
        int flagsAt = Z4Ai.Internal.VarInt.GetLength((ulong)changes) + 1;
        Assert.That(payload[flagsAt] & SparseBlockDelta.WideFlag, Is.EqualTo(SparseBlockDelta.WideFlag));
        Assert.That(payload[flagsAt] & SparseBlockDelta.MergedStepsFlag, Is.EqualTo(SparseBlockDelta.MergedStepsFlag), "many changes in few classes");
        byte[] target = (byte[])reference.Clone();
        SparseBlockDelta.Decode(payload, target, 2, true, 0);
        Assert.That(target, Is.EqualTo(current));

        foreach (byte bit in new[] { SparseBlockDelta.WideFlag, SparseBlockDelta.MergedStepsFlag })
        {
            byte[] cleared = (byte[])payload.Clone();
            cleared[flagsAt] &= unchecked((byte)~bit);
            Assert.Throws<Z4AiFormatException>(() => SparseBlockDelta.Decode(cleared, (byte[])reference.Clone(), 2, true, 0), $"flag {bit} cleared");
        }

        payload[flagsAt] |= 16;
        var ex = Assert.Throws<Z4AiFormatException>(() => SparseBlockDelta.Decode(payload, (byte[])reference.Clone(), 2, true, 0));
        Assert.That(ex!.Detail, Does.Contain("bits 0 to 3 only"));
    }

    [Test]
    public void Encode_OnlyShortStreams_LeavesTheWideFlagsClear()
    {
        byte[] reference = DeltaTestData.GaussianBf16(1 << 16, 0.02f, seed: 22);
        byte[] current = DeltaTestData.StepBf16(reference, 0.3, seed: 23);
        byte[] payload = EncodeDirect(current, reference, 2, true, out int changes);
        Assert.That(payload[Z4Ai.Internal.VarInt.GetLength((ulong)changes) + 1] & (SparseBlockDelta.WideFlag | SparseBlockDelta.MergedStepsFlag), Is.Zero);
    }

    [Test]
    public void Encode_RoomSmallerThanThePayload_ReturnsMinusOne()
    {
        byte[] reference = DeltaTestData.GaussianBf16(4096, 0.02f, seed: 12);
        byte[] current = DeltaTestData.StepBf16(reference, 0.2, seed: 13);
        byte[] payload = EncodeDirect(current, reference, 2, true, out int changes);
        byte[] room = new byte[payload.Length - 1];
        Assert.That(SparseBlockDelta.Encode(current, reference, 2, true, changes, room), Is.EqualTo(-1));
        byte[] exact = new byte[payload.Length];
        Assert.That(SparseBlockDelta.Encode(current, reference, 2, true, changes, exact), Is.EqualTo(payload.Length));
        Assert.That(exact, Is.EqualTo(payload));
    }

    [TestCase(CompressionEffort.Fast)]
    [TestCase(CompressionEffort.Default)]
    [TestCase(CompressionEffort.Max)]
    public void Compress_RandomCasesAtEveryEffort_RoundTripAndNeverExceedScratchPlusOverhead(CompressionEffort effort)
    {
        Prop.ForAll(Cases().ToArbitrary(), c =>
        {
            DType dtype = LaneKinds[c.Kind].DType;
            var options = new DeltaOptions { ChunkSize = 1024, Effort = effort };
            byte[] delta = DeltaCodec.Compress(c.Current, c.Reference, dtype, options);
            long scratch = 0;
            int chunks = 0;
            for (int offset = 0; offset < c.Current.Length; offset += options.ChunkSize)
            {
                var writer = new System.Buffers.ArrayBufferWriter<byte>();
                Z4Ai.Codecs.TensorCodec.Encode(c.Current.AsSpan(offset, Math.Min(options.ChunkSize, c.Current.Length - offset)), dtype, effort, writer);
                scratch += writer.WrittenCount;
                chunks++;
            }

            DeltaInfo info = DeltaCodec.Inspect(delta);
            bool within = delta.Length <= DeltaHeader.MaxLength + scratch + ((long)chunks * BufferDelta.MaxChunkOverhead);
            bool fastHasNoSlowSparse = effort != CompressionEffort.Fast || info.CountChunks(DeltaChunkMode.Sparse) == 0;
            return within && fastHasNoSlowSparse && DeltaCodec.Decompress(delta, c.Reference).AsSpan().SequenceEqual(c.Current);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(100));
    }

    [Test]
    public void Compress_DenseChangesAtFast_StoresSparseBlockChunksThatDecodeOnAnyThreadCount()
    {
        (byte[] reference, byte[] current) = DeltaTestData.NudgedBf16(1 << 17, 0.02f, 0.3, seed: 14);
        byte[] delta = DeltaCodec.Compress(current, reference, DType.BF16, new DeltaOptions { ChunkSize = 1 << 16, Effort = CompressionEffort.Fast });
        DeltaInfo info = DeltaCodec.Inspect(delta);
        Assert.That(info.CountChunks(DeltaChunkMode.SparseBlock), Is.EqualTo(info.Chunks.Count), info.ToString());
        Assert.That(info.ToString(), Does.Contain($"{info.Chunks.Count} sparse-block"));
        Assert.That(BufferDelta.Decode(delta, reference, parallelism: 1), Is.EqualTo(current));
        Assert.That(BufferDelta.Decode(delta, reference, parallelism: 3), Is.EqualTo(current));
    }

    [Test]
    public void Compress_DenseChangesAtDefault_StaysWithinTheMarginOfTheSmallestSparseMode()
    {
        (byte[] reference, byte[] current) = DeltaTestData.NudgedBf16(1 << 17, 0.02f, 0.3, seed: 16);
        var chunkSize = 1 << 16;
        byte[] fast = DeltaCodec.Compress(current, reference, DType.BF16, new DeltaOptions { ChunkSize = chunkSize, Effort = CompressionEffort.Default });
        byte[] max = DeltaCodec.Compress(current, reference, DType.BF16, new DeltaOptions { ChunkSize = chunkSize, Effort = CompressionEffort.Max });
        DeltaInfo info = DeltaCodec.Inspect(fast);
        foreach (DeltaChunkInfo chunk in info.Chunks)
        {
            var slice = new Range((int)chunk.Offset, (int)chunk.Offset + chunk.Length);
            byte[] room = new byte[chunk.Length * 2];
            int changes = SparseDelta.CountChanges(current.AsSpan(slice), reference.AsSpan(slice), 2);
            int sparse = SparseDelta.Encode(current.AsSpan(slice), reference.AsSpan(slice), 2, true, changes, room);
            Assert.That(sparse, Is.GreaterThan(0));
            Assert.That(chunk.StoredLength * 100L, Is.LessThanOrEqualTo(sparse * (100L + BufferDelta.SlowSparseMarginPercent)), $"chunk {chunk.Index}");
        }

        Assert.That(max.Length, Is.LessThanOrEqualTo(fast.Length));
        Assert.That(DeltaCodec.Decompress(fast, reference), Is.EqualTo(current));
        Assert.That(DeltaCodec.Decompress(max, reference), Is.EqualTo(current));
    }

    [TestCase(100, 103, CompressionEffort.Default, true)]
    [TestCase(100, 102, CompressionEffort.Default, false)]
    [TestCase(100, 101, CompressionEffort.Default, false)]
    [TestCase(100, 101, CompressionEffort.Max, true)]
    [TestCase(100, 100, CompressionEffort.Max, false)]
    [TestCase(100, 1000, CompressionEffort.Fast, false)]
    public void KeepSlowSparse_SizesAndEffort_FollowsTheMarginRule(long sparse, long fast, CompressionEffort effort, bool keep) =>
        Assert.That(BufferDelta.KeepSlowSparse(sparse, fast, effort), Is.EqualTo(keep));

    [Test]
    public void Compress_GoldenCase_WritesTheGoldenBytes()
    {
        byte[] delta = GoldenDelta();
        Assert.That(DeltaCodec.Inspect(delta).Chunks.Single().Mode, Is.EqualTo(DeltaChunkMode.SparseBlock));
        Assert.That(Convert.ToHexStringLower(delta), Is.EqualTo(GoldenHex));
    }

    [Test]
    public void Compress_BitmapGoldenCase_WritesTheGoldenBytesWithTheBitmapFlag()
    {
        byte[] delta = BitmapDelta();
        Assert.That(DeltaCodec.Inspect(delta).Chunks.Single().Mode, Is.EqualTo(DeltaChunkMode.SparseBlock));
        (int payloadAt, int payloadLength) = Payload(delta);
        int countLength = Z4Ai.Internal.VarInt.GetLength(new Z4Ai.Internal.SpanReader(delta.AsSpan(payloadAt, payloadLength)).ReadVarUInt64());
        Assert.That(delta[payloadAt + countLength + 1] & SparseBlockDelta.BitmapFlag, Is.EqualTo(SparseBlockDelta.BitmapFlag));
        Assert.That(Convert.ToHexStringLower(delta), Is.EqualTo(BitmapGoldenHex));
    }

    [Test]
    public void Decompress_BitmapGoldenBytes_RebuildsTheTargetAndRejectsEveryTruncation()
    {
        byte[] delta = Convert.FromHexString(BitmapGoldenHex);
        Assert.That(DeltaCodec.Decompress(delta, BitmapReference()), Is.EqualTo(BitmapTarget()));
        for (int length = 0; length < delta.Length; length++)
        {
            byte[] truncated = delta[..length];
            Assert.That(
                () => DeltaCodec.Decompress(truncated, BitmapReference()),
                Throws.InstanceOf<Z4AiFormatException>().Or.InstanceOf<Z4AiIntegrityException>(),
                $"length {length}");
        }
    }

    [Test]
    public void DecodePayload_BitmapMarkingOneChangeTooManyOrTooFew_ThrowsCorruptFrame()
    {
        byte[] delta = Convert.FromHexString(BitmapGoldenHex);
        (int payloadAt, int payloadLength) = Payload(delta);
        byte[] payload = delta[payloadAt..(payloadAt + payloadLength)];
        int count = (int)new Z4Ai.Internal.SpanReader(payload).ReadVarUInt64();
        foreach (int lie in new[] { count - 1, count + 1 })
        {
            byte[] target = BitmapReference();
            var ex = Assert.Throws<Z4AiFormatException>(() => SparseBlockDelta.Decode(Relabel(payload, lie), target, 2, true, 0))!;
            Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.CorruptFrame));
        }
    }

    [TestCase(1)]
    [TestCase(7)]
    [TestCase(8)]
    [TestCase(9)]
    [TestCase(15)]
    [TestCase(16)]
    [TestCase(17)]
    [TestCase(31)]
    [TestCase(33)]
    [TestCase(63)]
    [TestCase(64)]
    [TestCase(65)]
    [TestCase(255)]
    [TestCase(256)]
    [TestCase(511)]
    [TestCase(513)]
    [TestCase(4099)]
    public void LocateBitmap_VectorPath_MatchesTheScalarOracleAtAwkwardLengths(int elements)
    {
        var random = new Random(elements);
        foreach (double density in new[] { 0.0, 0.05, 0.31, 0.5, 0.9, 1.0 })
        {
            byte[] bitmap = new byte[(elements + 7) / 8];
            for (int e = 0; e < elements; e++)
            {
                if (density >= 1.0 || random.NextDouble() < density)
                {
                    bitmap[e >> 3] |= (byte)(1 << (e & 7));
                }
            }

            int changes = bitmap.Sum(b => System.Numerics.BitOperations.PopCount(b));
            int[] expected = new int[changes];
            int found = SparseBlockDelta.LocateBitmapScalar(bitmap, expected, changes, bitmap.Length, elements, 0);
            Assert.That(found, Is.EqualTo(changes));
            Assert.That(expected, Is.EqualTo(Enumerable.Range(0, elements).Where(e => (bitmap[e >> 3] & (1 << (e & 7))) != 0).ToArray()));

            // The vector path needs eight spare entries; sentinels there must not matter to the result.
            int[] actual = Enumerable.Repeat(-7, changes + 8).ToArray();
            SparseBlockDelta.LocateBitmap(bitmap, actual, changes, elements, 0);
            Assert.That(actual[..changes], Is.EqualTo(expected), $"density {density}");

            if (changes > 0)
            {
                Assert.Throws<Z4AiFormatException>(() => SparseBlockDelta.LocateBitmap(bitmap, new int[changes + 8], changes - 1, elements, 0), "one change too many");
            }

            Assert.Throws<Z4AiFormatException>(() => SparseBlockDelta.LocateBitmap(bitmap, new int[changes + 9], changes + 1, elements, 0), "one change too few");
            if (elements % 8 != 0)
            {
                byte[] past = (byte[])bitmap.Clone();
                past[^1] |= 0x80;
                Assert.Throws<Z4AiFormatException>(() => SparseBlockDelta.LocateBitmap(past, new int[changes + 9], changes + 1, elements, 0), "a bit past the last element");
            }
        }
    }

    [TestCase(1, 0)]
    [TestCase(7, 3)]
    [TestCase(8, 0)]
    [TestCase(9, 8)]
    [TestCase(17, 1)]
    [TestCase(63, 0)]
    [TestCase(65, 4)]
    [TestCase(513, 0)]
    [TestCase(4099, 2)]
    public void ClassifyBitmap16_RandomBitmaps_GivesTheClassesAndCountsOfThePerChangeClassify(int elements, int shift)
    {
        Assume.That(System.Runtime.Intrinsics.X86.Ssse3.IsSupported, "the shuffle path needs SSSE3");
        var random = new Random(elements + shift);
        byte[] target = new byte[elements * 2];
        random.NextBytes(target);
        foreach (double density in new[] { 0.0, 0.2, 0.5, 1.0 })
        {
            byte[] bitmap = new byte[(elements + 7) / 8];
            for (int e = 0; e < elements; e++)
            {
                if (density >= 1.0 || random.NextDouble() < density)
                {
                    bitmap[e >> 3] |= (byte)(1 << (e & 7));
                }
            }

            int[] positions = Enumerable.Range(0, elements).Where(e => (bitmap[e >> 3] & (1 << (e & 7))) != 0).ToArray();
            int changes = positions.Length;
            byte[] expectedClasses = new byte[changes];
            int[] expectedCounts = new int[4 * 256];
            SparseBlockDelta.Classify<ushort>(positions, changes, target, new SparseDelta.Lanes(2, ordered: true), shift, expectedClasses, expectedCounts);

            byte[] classes = new byte[changes + 16];
            int[] counts = new int[4 * 256];
            SparseBlockDelta.ClassifyBitmap16(bitmap, changes, target, shift, classes, counts);
            Assert.That(classes[..changes], Is.EqualTo(expectedClasses), $"density {density}");
            Assert.That(counts, Is.EqualTo(expectedCounts), $"density {density}");
        }
    }

    [TestCase(1, true)]
    [TestCase(15, true)]
    [TestCase(16, false)]
    [TestCase(17, true)]
    [TestCase(33, true)]
    [TestCase(255, false)]
    [TestCase(257, true)]
    [TestCase(4099, true)]
    public void PatchDense16_RandomChanges_WritesWhatThePerChangePatchWrites(int elements, bool ordered)
    {
        var random = new Random(elements);
        byte[] reference = new byte[elements * 2];
        random.NextBytes(reference);
        int[] positions = Enumerable.Range(0, elements).Where(_ => random.Next(3) != 0).ToArray();
        int changes = positions.Length;
        var stepWriter = new RawBitWriter(new byte[RawBitWriter.Capacity((long)changes * 16)]);
        byte[] tokens = new byte[changes];
        for (int k = 0; k < changes; k++)
        {
            // Every step width, from one unit to the widest 16-bit step.
            ulong step = (ulong)random.Next(1, 1 << random.Next(1, 17));
            tokens[k] = (byte)SparseBlockDelta.Token(step, out int extra);
            stepWriter.Write(step, extra);
        }

        byte[] bits = stepWriter.Finish().ToArray();
        byte[] expected = (byte[])reference.Clone();
        var lanes = new SparseDelta.Lanes(2, ordered);
        var expectedBits = new RawBitReader(bits);
        for (int k = 0; k < changes; k++)
        {
            int extra = tokens[k] < 3 ? 0 : (tokens[k] - 3) >> 2;
            ulong step = (tokens[k] < 3 ? (ulong)tokens[k] + 1 : (4UL | (uint)((tokens[k] - 3) & 3)) << extra) | expectedBits.Read(extra);
            ulong value = lanes.Apply(System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(expected.AsSpan(positions[k] * 2)), step);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(expected.AsSpan(positions[k] * 2), (ushort)value);
        }

        byte[] actual = (byte[])reference.Clone();
        var reader = new RawBitReader(bits);
        SparseBlockDelta.PatchDense16(tokens, [.. positions, .. new int[8]], changes, ref reader, actual, ordered, 0);
        Assert.That(actual, Is.EqualTo(expected));
        Assert.That(reader.EndsExactly, Is.True);
    }

    [Test]
    public void Compress_EveryValueMovesAtDefault_CodesTransformedChunksWithoutContextMixing()
    {
        // An AdamW-sized step on FP32 master weights, rounded to BF16, and every value the rounding left unchanged
        // moved one step the way its weight moved: the subtracted chunk's palette has a codebook long enough that the
        // codec's Default codes it with context mixing, which decodes at megabytes per second; a delta chunk must not.
        const int count = 1 << 19;
        var random = new Random(61);
        byte[] reference = new byte[count * 2];
        byte[] current = new byte[count * 2];
        for (int i = 0; i < count; i++)
        {
            float master = DeltaTestData.NextGaussian(random) * 0.02f;
            float stepped = (master * (1f - 1e-5f)) - (2e-5f * DeltaTestData.NextGaussian(random));
            ushort before = DeltaTestData.ToBf16(master);
            ushort after = DeltaTestData.ToBf16(stepped);
            if (after == before)
            {
                bool away = (stepped >= master) == ((before & 0x8000) == 0);
                after = (before & 0x7FFF) == 0 ? (ushort)(before ^ 0x8000) : (ushort)(away ? before + 1 : before - 1);
            }

            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(reference.AsSpan(i * 2), before);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(current.AsSpan(i * 2), after);
        }

        byte[] transformed = new byte[current.Length];
        BufferDelta.Forward(DeltaChunkMode.Subtract, current, reference, transformed, 2, ordered: true);
        var alone = new System.Buffers.ArrayBufferWriter<byte>();
        Z4Ai.Codecs.TensorCodec.Encode(transformed, DType.BF16, CompressionEffort.Default, alone);
        Assume.That(Leaves(alone.WrittenSpan.ToArray()), Does.Contain("cm"), "the codec's Default must pick context mixing here for this test to mean anything");

        byte[] delta = DeltaCodec.Compress(current, reference, DType.BF16, new DeltaOptions { Effort = CompressionEffort.Default, ChunkSize = current.Length });
        DeltaChunkInfo chunk = DeltaCodec.Inspect(delta).Chunks.Single();
        Assert.That(chunk.Mode, Is.AnyOf(DeltaChunkMode.Subtract, DeltaChunkMode.Xor));
        (int at, int length) = Payload(delta);
        Assert.That(Leaves(delta[at..(at + length)]), Does.Not.Contain("cm"));
        Assert.That(DeltaCodec.Decompress(delta, reference), Is.EqualTo(current));

        static List<string> Leaves(byte[] frame)
        {
            var streams = new List<Z4Ai.Codecs.StreamBreakdown>();
            Z4Ai.Codecs.RecipeInspector.Inspect(frame, streams);
            return streams.Select(s => s.Coder).ToList();
        }
    }

    [Test]
    public void Decompress_GoldenBytes_RebuildsTheTarget()
    {
        byte[] delta = Convert.FromHexString(GoldenHex);
        Assert.That(DeltaCodec.Inspect(delta).Chunks.Single().Mode, Is.EqualTo(DeltaChunkMode.SparseBlock));
        Assert.That(DeltaCodec.Decompress(delta, GoldenReference()), Is.EqualTo(GoldenTarget()));
    }

    [Test]
    public void Decompress_EveryTruncationOfTheGoldenDelta_ThrowsAZ4AiException()
    {
        byte[] delta = Convert.FromHexString(GoldenHex);
        byte[] reference = GoldenReference();
        for (int length = 0; length < delta.Length; length++)
        {
            byte[] truncated = delta[..length];
            Assert.That(
                () => DeltaCodec.Decompress(truncated, reference),
                Throws.InstanceOf<Z4AiFormatException>().Or.InstanceOf<Z4AiIntegrityException>(),
                $"length {length}");
        }
    }

    [Test]
    public void Decompress_EveryBitFlipOfTheGoldenDelta_OnlyFormatOrIntegrityErrorsOrExactBytes()
    {
        byte[] delta = Convert.FromHexString(GoldenHex);
        byte[] reference = GoldenReference();
        byte[] target = GoldenTarget();
        for (int bit = 0; bit < delta.Length * 8; bit++)
        {
            byte[] damaged = (byte[])delta.Clone();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            try
            {
                Assert.That(DeltaCodec.Decompress(damaged, reference), Is.EqualTo(target), $"bit {bit} decoded to wrong bytes");
            }
            catch (Z4AiFormatException)
            {
            }
            catch (Z4AiIntegrityException)
            {
            }
        }
    }

    [Test]
    public void DecodePayload_EveryBitFlipAndTruncation_OnlyCorruptFrameOrSomeBytes()
    {
        // The payload alone, without the frame's digests: damage must be caught by the mode's own checks or leave
        // well-formed bytes, never an exception of another type.
        byte[] reference = DeltaTestData.GaussianBf16(512, 0.02f, seed: 18);
        byte[] current = DeltaTestData.StepBf16(reference, 0.3, seed: 19);
        byte[] payload = EncodeDirect(current, reference, 2, true, out _);
        for (int length = 0; length < payload.Length; length++)
        {
            byte[] target = (byte[])reference.Clone();
            byte[] truncated = payload[..length];
            var ex = Assert.Throws<Z4AiFormatException>(() => SparseBlockDelta.Decode(truncated, target, 2, true, 0), $"length {length}")!;
            Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.CorruptFrame));
        }

        for (int bit = 0; bit < payload.Length * 8; bit++)
        {
            byte[] damaged = (byte[])payload.Clone();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            byte[] target = (byte[])reference.Clone();
            try
            {
                SparseBlockDelta.Decode(damaged, target, 2, true, 0);
            }
            catch (Z4AiFormatException ex)
            {
                Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.CorruptFrame), $"bit {bit}");
            }
        }
    }

    [TestCase(0, "declares 0 changed elements")]
    [TestCase(2049, "declares 2049 changed elements")]
    public void Decompress_ChangeCountOutOfRange_ThrowsCorruptFrame(int count, string message)
    {
        byte[] delta = Convert.FromHexString(GoldenHex);
        (int payloadAt, int payloadLength) = Payload(delta);
        byte[] forged = Replace(delta, payloadAt, payloadLength, p => Relabel(p, count));
        var ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.Decompress(forged, GoldenReference()))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.CorruptFrame));
        Assert.That(ex.Message, Does.Contain(message));
    }

    [Test]
    public void Decompress_ChangeCountLargerThanTheStreams_ThrowsCorruptFrame()
    {
        byte[] delta = Convert.FromHexString(GoldenHex);
        (int payloadAt, int payloadLength) = Payload(delta);
        int count = (int)new Z4Ai.Internal.SpanReader(delta.AsSpan(payloadAt, payloadLength)).ReadVarUInt64();
        byte[] forged = Replace(delta, payloadAt, payloadLength, p => Relabel(p, count + 1));
        var ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.Decompress(forged, GoldenReference()))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.CorruptFrame));
    }

    [TestCase(9, 0)]
    [TestCase(0, 16)]
    [TestCase(0, 128)]
    [TestCase(255, 255)]
    public void Decompress_BadClassShiftOrFlags_ThrowsCorruptFrame(int shift, int flags)
    {
        byte[] delta = Convert.FromHexString(GoldenHex);
        (int payloadAt, int payloadLength) = Payload(delta);
        int countLength = Z4Ai.Internal.VarInt.GetLength(new Z4Ai.Internal.SpanReader(delta.AsSpan(payloadAt, payloadLength)).ReadVarUInt64());
        delta[payloadAt + countLength] = (byte)shift;
        delta[payloadAt + countLength + 1] = (byte)flags;
        var ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.Decompress(delta, GoldenReference()))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.CorruptFrame));
        Assert.That(ex.Message, Does.Contain("class shift"));
    }

    [Test]
    public void Decompress_LyingSectionLength_ThrowsCorruptFrame()
    {
        byte[] delta = Convert.FromHexString(GoldenHex);
        (int payloadAt, int payloadLength) = Payload(delta);
        int countLength = Z4Ai.Internal.VarInt.GetLength(new Z4Ai.Internal.SpanReader(delta.AsSpan(payloadAt, payloadLength)).ReadVarUInt64());
        // The gap stream's length claims every byte to the end of the payload and beyond.
        byte[] forged = Replace(delta, payloadAt, payloadLength, p =>
        {
            byte[] copy = (byte[])p.Clone();
            int at = countLength + 2;
            int old = (int)new Z4Ai.Internal.SpanReader(copy.AsSpan(at)).ReadVarUInt64();
            int width = Z4Ai.Internal.VarInt.GetLength((ulong)old);
            byte[] huge = new byte[width];
            Z4Ai.Internal.VarInt.Write(huge, Math.Min((1UL << (7 * width)) - 1, (ulong)copy.Length * 4));
            return [.. copy[..at], .. huge, .. copy[(at + width)..]];
        });
        var ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.Decompress(forged, GoldenReference()))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.CorruptFrame));
    }

    [Test]
    public void Decompress_SparseBlockForADtypeWithoutLanes_ThrowsCorruptFrame()
    {
        // The golden entry spliced behind the header of a BOOL delta of the same length: BOOL has no Subtract lanes.
        byte[] golden = Convert.FromHexString(GoldenHex);
        byte[] reference = GoldenReference();
        byte[] header = DeltaCodec.Compress(reference, reference, DType.BOOL, new DeltaOptions { ChunkSize = 4096 });
        int headerLength = DeltaHeader.Read(header).Length;
        byte[] spliced = [.. header[..headerLength], .. golden[DeltaHeader.Read(golden).Length..]];
        var ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.Decompress(spliced, reference))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.CorruptFrame));
        Assert.That(ex.Message, Does.Contain("sparse-block delta"));
    }

    [Test]
    public void Decompress_UnknownModeAfterSparseBlock_ThrowsCorruptFrameNamingTheMode()
    {
        // What a reader that predates a mode does with it, shown on the next value: the entry is refused cleanly.
        byte[] delta = Convert.FromHexString(GoldenHex);
        (int payloadAt, _) = Payload(delta);
        int modeAt = DeltaHeader.Read(delta).Length;
        Assert.That(delta[modeAt], Is.EqualTo((byte)DeltaChunkMode.SparseBlock));
        Assert.That(payloadAt, Is.GreaterThan(modeAt));
        delta[modeAt] = (byte)DeltaChunkMode.SparseBlock + 1;
        var ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.Decompress(delta, GoldenReference()))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.CorruptFrame));
        Assert.That(ex.Message, Does.Contain($"unknown mode {(byte)DeltaChunkMode.SparseBlock + 1}"));
    }

    /// <summary>Where the single chunk entry's payload lies: after the header, the mode byte and the length varint.</summary>
    private static (int At, int Length) Payload(byte[] delta)
    {
        int entry = DeltaHeader.Read(delta).Length;
        var reader = new Z4Ai.Internal.SpanReader(delta.AsSpan(entry + 1));
        int length = (int)reader.ReadVarUInt64();
        return (entry + 1 + reader.Position, length);
    }

    /// <summary>The delta with its single payload replaced (and the entry's length varint rewritten).</summary>
    private static byte[] Replace(byte[] delta, int payloadAt, int payloadLength, Func<byte[], byte[]> change)
    {
        int entry = DeltaHeader.Read(delta).Length;
        byte[] payload = change(delta[payloadAt..(payloadAt + payloadLength)]);
        byte[] length = new byte[Z4Ai.Internal.VarInt.MaxLength];
        int n = Z4Ai.Internal.VarInt.Write(length, (ulong)payload.Length);
        return [.. delta[..(entry + 1)], .. length[..n], .. payload, .. delta[(payloadAt + payloadLength)..]];
    }

    /// <summary>The payload with its change count replaced.</summary>
    private static byte[] Relabel(byte[] payload, int count)
    {
        var reader = new Z4Ai.Internal.SpanReader(payload);
        reader.ReadVarUInt64();
        byte[] varint = new byte[Z4Ai.Internal.VarInt.MaxLength];
        int n = Z4Ai.Internal.VarInt.Write(varint, (ulong)count);
        return [.. varint[..n], .. payload[reader.Position..]];
    }
}
