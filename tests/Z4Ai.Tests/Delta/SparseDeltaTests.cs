using System.Buffers;
using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Codecs;
using Z4Ai.Delta;

namespace Z4Ai.Tests.Delta;

/// <summary>The Sparse chunk mode: exact round trips, the size it reaches, the choice, its golden bytes and damage.</summary>
public class SparseDeltaTests
{
    // BF16, chunk size 64, reference = ReferenceBf16(), target = the reference with elements 0, 5 and 31 stepped by
    // +1, -2 and +300 ordered steps, elements 12 and 13 sign-flipped across zero. Pinned when the mode was added:
    // never regenerate it to make a failing test pass.
    private const string GoldenHex =
        "5a344144010e40402056aea21e7a60abc1f153ec1537249ba5b10b3e88a90dad79bd0da42d9817234031c694743dbf0cef9315a79fb9"
        + "193819afa4d14a93a3738c70a7bd8c4e8a3e26041205000042410c35186a215cb6b8c161ce0000";

    private static readonly (int LaneSize, bool Ordered, DType DType)[] LaneKinds =
    [
        (1, false, DType.U8), (1, true, DType.F8_E4M3), (2, false, DType.I16), (2, true, DType.BF16),
        (2, true, DType.F16), (4, false, DType.U32), (4, true, DType.F32), (8, false, DType.I64), (8, true, DType.F64),
    ];

    private static byte[] ReferenceBf16() => DeltaTestData.GaussianBf16(32, 0.02f, seed: 77);

    private static byte[] GoldenTarget()
    {
        byte[] target = ReferenceBf16();
        Step(target, 0, 1);
        Step(target, 5, -2);
        Step(target, 31, 300);
        for (int i = 12; i <= 13; i++)
        {
            ushort bits = BinaryPrimitives.ReadUInt16LittleEndian(target.AsSpan(i * 2));
            BinaryPrimitives.WriteUInt16LittleEndian(target.AsSpan(i * 2), (ushort)(bits ^ 0x8000));
        }

        return target;

        static void Step(byte[] buffer, int element, int step)
        {
            // A step in the order-preserving integers: towards larger values for a positive step, whatever the sign.
            short bits = BinaryPrimitives.ReadInt16LittleEndian(buffer.AsSpan(element * 2));
            short mapped = OrderedBits.Map(bits);
            BinaryPrimitives.WriteInt16LittleEndian(buffer.AsSpan(element * 2), OrderedBits.Unmap((short)(mapped + step)));
        }
    }

    private static Gen<(int Kind, byte[] Reference, byte[] Current)> SparseCases() =>
        from kind in Gen.Choose(0, LaneKinds.Length - 1)
        from elements in Gen.Choose(1, 600)
        from density in Gen.Elements(0.0, 0.003, 0.02, 0.1, 0.5, 1.0)
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
        byte[] room = new byte[(current.Length * 2) + 64];
        int written = SparseDelta.Encode(current, reference, laneSize, ordered, changes, room);
        Assert.That(written, Is.GreaterThan(0));
        return room[..written];
    }

    [Test]
    public void EncodeDecode_RandomLanesAndChanges_RestoresEveryByte()
    {
        Prop.ForAll(SparseCases().ToArbitrary(), c =>
        {
            (int laneSize, bool ordered, _) = LaneKinds[c.Kind];
            int expected = 0;
            for (int i = 0; i < c.Current.Length; i += laneSize)
            {
                expected += c.Current.AsSpan(i, laneSize).SequenceEqual(c.Reference.AsSpan(i, laneSize)) ? 0 : 1;
            }

            if (expected == 0)
            {
                return SparseDelta.CountChanges(c.Current, c.Reference, laneSize) == 0;
            }

            byte[] payload = EncodeDirect(c.Current, c.Reference, laneSize, ordered, out int changes);
            byte[] target = (byte[])c.Reference.Clone();
            SparseDelta.Decode(payload, target, laneSize, ordered, 0);
            return changes == expected && target.AsSpan().SequenceEqual(c.Current);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(300));
    }

    [Test]
    public void Compress_RandomSparseCases_RoundTripsAndNeverExceedsScratchPlusOverhead()
    {
        Prop.ForAll(SparseCases().ToArbitrary(), c =>
        {
            DType dtype = LaneKinds[c.Kind].DType;
            var options = new DeltaOptions { ChunkSize = 256 };
            byte[] delta = DeltaCodec.Compress(c.Current, c.Reference, dtype, options);
            long scratch = 0;
            int chunks = 0;
            for (int offset = 0; offset < c.Current.Length; offset += options.ChunkSize)
            {
                var writer = new ArrayBufferWriter<byte>();
                TensorCodec.Encode(c.Current.AsSpan(offset, Math.Min(options.ChunkSize, c.Current.Length - offset)), dtype, options.Effort, writer);
                scratch += writer.WrittenCount;
                chunks++;
            }

            bool within = delta.Length <= DeltaHeader.MaxLength + scratch + ((long)chunks * BufferDelta.MaxChunkOverhead);
            return within && DeltaCodec.Decompress(delta, c.Reference).AsSpan().SequenceEqual(c.Current);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(150));
    }

    [TestCase(0.01)]
    [TestCase(0.05)]
    [TestCase(0.20)]
    public void Compress_Bf16StepsOnAFraction_StaysWithinTenPercentOfTheInformationBound(double fraction)
    {
        const int Elements = 1 << 18;
        byte[] reference = DeltaTestData.GaussianBf16(Elements, 0.02f, seed: 5);
        byte[] current = DeltaTestData.StepBf16(reference, fraction, seed: 6);
        byte[] delta = DeltaCodec.Compress(current, reference, DType.BF16);

        // The generator's information: which elements changed (binary entropy of the measured fraction) plus one of
        // six equally likely steps for each changed one.
        int changed = SparseDelta.CountChanges(current, reference, 2);
        double p = (double)changed / Elements;
        double bits = (Elements * (-(p * Math.Log2(p)) - ((1 - p) * Math.Log2(1 - p)))) + (changed * Math.Log2(6));
        DeltaInfo info = DeltaCodec.Inspect(delta);
        if (fraction <= 0.01)
        {
            // Sparse, or SparseBlock when it is within the selector's margin of it.
            Assert.That(info.CountChunks(DeltaChunkMode.Sparse) + info.CountChunks(DeltaChunkMode.SparseBlock), Is.EqualTo(info.Chunks.Count));
        }

        Assert.That(delta.Length, Is.LessThan(bits / 8 * 1.10), $"{delta.Length} bytes against a bound of {bits / 8:F0}");
        Assert.That(DeltaCodec.Decompress(delta, reference), Is.EqualTo(current));
    }

    [Test]
    public void Compress_EveryElementChanged_LeavesItToTheCodec()
    {
        byte[] reference = DeltaTestData.GaussianBf16(4096, 0.02f, seed: 8);
        byte[] current = DeltaTestData.StepBf16(reference, 1.0, seed: 9);
        DeltaInfo info = DeltaCodec.Inspect(DeltaCodec.Compress(current, reference, DType.BF16));
        Assert.That(info.CountChunks(DeltaChunkMode.Sparse), Is.Zero);
    }

    [Test]
    public void Compress_GoldenCase_WritesTheGoldenBytes()
    {
        byte[] delta = DeltaCodec.Compress(GoldenTarget(), ReferenceBf16(), DType.BF16, new DeltaOptions { ChunkSize = 64 });
        Assert.That(Convert.ToHexStringLower(delta), Is.EqualTo(GoldenHex));
    }

    [Test]
    public void Decompress_GoldenBytes_RebuildsTheTarget()
    {
        byte[] delta = Convert.FromHexString(GoldenHex);
        Assert.That(DeltaCodec.Inspect(delta).Chunks.Single().Mode, Is.EqualTo(DeltaChunkMode.Sparse));
        Assert.That(DeltaCodec.Decompress(delta, ReferenceBf16()), Is.EqualTo(GoldenTarget()));
    }

    [Test]
    public void Decompress_EveryTruncationAndBitFlipOfASparseDelta_OnlyZ4AiExceptionsOrExactBytes()
    {
        byte[] reference = DeltaTestData.GaussianBf16(2048, 0.02f, seed: 10);
        byte[] current = DeltaTestData.StepBf16(reference, 0.03, seed: 11);
        byte[] delta = DeltaCodec.Compress(current, reference, DType.BF16, new DeltaOptions { ChunkSize = 1024 });
        Assert.That(DeltaCodec.Inspect(delta).CountChunks(DeltaChunkMode.Sparse), Is.EqualTo(4));
        for (int length = 0; length < delta.Length; length++)
        {
            byte[] truncated = delta[..length];
            Assert.That(() => DeltaCodec.Decompress(truncated, reference), Throws.InstanceOf<Z4AiException>(), $"length {length}");
        }

        for (int bit = 0; bit < delta.Length * 8; bit++)
        {
            byte[] damaged = (byte[])delta.Clone();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            try
            {
                Assert.That(DeltaCodec.Decompress(damaged, reference), Is.EqualTo(current), $"bit {bit} decoded to wrong bytes");
            }
            catch (Z4AiException)
            {
            }
        }
    }

    [TestCase(0, "declares 0 changed elements")]
    [TestCase(33, "declares 33 changed elements")]
    public void Decompress_ChangeCountOutOfRange_ThrowsCorruptFrame(int count, string message)
    {
        byte[] delta = Convert.FromHexString(GoldenHex);
        // Entry: mode, one-byte payload length, then the payload's change count.
        int entry = HeaderLength(delta);
        Assert.That(delta[entry], Is.EqualTo((byte)DeltaChunkMode.Sparse));
        delta[entry + 2] = (byte)count;
        var ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.Decompress(delta, ReferenceBf16()))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.CorruptFrame));
        Assert.That(ex.Message, Does.Contain(message));
    }

    [Test]
    public void Decompress_SparseChunkPastTheReference_ThrowsCorruptFrame()
    {
        // The same entry against a header that declares a reference of 32 bytes: the chunk is no longer inside it.
        byte[] reference = ReferenceBf16()[..32];
        byte[] delta = Convert.FromHexString(GoldenHex);
        byte[] forged = DeltaCodec.Compress(GoldenTarget(), reference, DType.BF16, new DeltaOptions { ChunkSize = 64 });
        int header = HeaderLength(forged);
        byte[] spliced = [.. forged[..header], .. delta[HeaderLength(delta)..]];
        var ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.Decompress(spliced, reference))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.CorruptFrame));
        Assert.That(ex.Message, Does.Contain("sparse delta"));
    }

    [Test]
    public void Decompress_PayloadWithTrailingByte_ThrowsCorruptFrame()
    {
        byte[] delta = Convert.FromHexString(GoldenHex);
        int header = HeaderLength(delta);
        int payloadLength = delta[header + 1];
        byte[] longer = [.. delta[..(header + 1)], (byte)(payloadLength + 1), .. delta[(header + 2)..], 0];
        var ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.Decompress(longer, ReferenceBf16()))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.CorruptFrame));
    }

    private static int HeaderLength(byte[] delta) => DeltaHeader.Read(delta).Length;
}
