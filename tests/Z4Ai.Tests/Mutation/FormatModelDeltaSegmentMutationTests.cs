using System.Buffers;
using CommunityToolkit.HighPerformance.Buffers;
using NUnit.Framework;
using Z4Ai.Codecs;
using Z4Ai.Delta;
using Z4Ai.Format;
using Z4Ai.Integrity;
using Z4Ai.Internal;
using Z4Ai.Tests.Delta;

namespace Z4Ai.Tests.Mutation;

/// <summary>
/// One segment of a model delta (<see cref="ModelDeltaSegmentCodec"/>) on its own, without files: which kind the
/// encoder picks, the exact frames layout, and every way a decode rejects stored bytes that disagree with the
/// index (kind, offset, tensor, message), plus the pipeline that orders segments (<see cref="ModelDeltaPipeline{T}"/>).
/// </summary>
public class FormatModelDeltaSegmentMutationTests
{
    private const int Chunk = 64;

    private static readonly byte[] Reference = DeltaTestData.GaussianBf16(256, 0.02f, 11);
    private static readonly byte[] Target = DeltaTestData.StepBf16(Reference, 0.05, 12);

    [Test]
    public void Encode_NoReference_StoresFramesOfTheFrameSize()
    {
        (byte kind, ArrayPoolBufferWriter<byte> stored, DeltaChunkMode[] modes) =
            ModelDeltaSegmentCodec.Encode(Target, Reference, useReference: false, DType.BF16, CompressionEffort.Default, Chunk, 128);
        using (stored)
        {
            Assert.That(kind, Is.EqualTo(ModelDeltaFormat.SegmentFrames));
            Assert.That(modes, Is.EqualTo(Enumerable.Repeat(DeltaChunkMode.Scratch, 8)));
            Assert.That(stored.WrittenSpan.ToArray(), Is.EqualTo(Frames(Target, 128)));
        }
    }

    [Test]
    public void Encode_EmptyReference_StoresFrames()
    {
        (byte kind, ArrayPoolBufferWriter<byte> stored, DeltaChunkMode[] modes) =
            ModelDeltaSegmentCodec.Encode(Target.AsSpan(0, 100), [], useReference: true, DType.BF16, CompressionEffort.Default, Chunk, 64);
        using (stored)
        {
            Assert.That(kind, Is.EqualTo(ModelDeltaFormat.SegmentFrames));
            Assert.That(modes, Has.Length.EqualTo(2));
            Assert.That(stored.WrittenSpan.ToArray(), Is.EqualTo(Frames(Target.AsSpan(0, 100).ToArray(), 64)));
        }
    }

    [Test]
    public void EncodeFrames_LastPartShort_OneLengthPrefixedFramePerPart()
    {
        using var output = new ArrayPoolBufferWriter<byte>();
        ModelDeltaSegmentCodec.EncodeFrames(Target.AsSpan(0, 200), DType.BF16, CompressionEffort.Default, 64, output);
        var reader = new SpanReader(output.WrittenSpan);
        int[] lengths = new int[4];
        for (int i = 0; i < 4; i++)
        {
            int n = reader.ReadVarInt32();
            (_, lengths[i], _) = TensorCodec.ReadHeader(reader.ReadBytes(n));
        }

        Assert.That(lengths, Is.EqualTo(new[] { 64, 64, 64, 8 }));
        Assert.That(reader.Remaining, Is.EqualTo(0));

        using var empty = new ArrayPoolBufferWriter<byte>();
        ModelDeltaSegmentCodec.EncodeFrames([], DType.BF16, CompressionEffort.Default, 64, empty);
        Assert.That(empty.WrittenCount, Is.EqualTo(0));
    }

    [Test]
    public void Encode_CloseReference_KeepsTheDeltaAndItsChunkModes()
    {
        (byte kind, ArrayPoolBufferWriter<byte> stored, DeltaChunkMode[] modes) =
            ModelDeltaSegmentCodec.Encode(Target, Reference, useReference: true, DType.BF16, CompressionEffort.Default, Chunk, 128);
        using (stored)
        {
            Assert.That(kind, Is.EqualTo(ModelDeltaFormat.SegmentDelta));
            DeltaInfo info = BufferDelta.Inspect(stored.WrittenSpan);
            Assert.That(modes, Is.EqualTo(info.Chunks.Select(c => c.Mode)));
            Assert.That(modes, Has.Some.Not.EqualTo(DeltaChunkMode.Scratch));
            Assert.That(stored.WrittenCount, Is.LessThan(Frames(Target, 128).Length));
            Assert.That(BufferDelta.Decode(stored.WrittenSpan, Reference), Is.EqualTo(Target));
        }
    }

    [Test]
    public void Encode_IdenticalReference_IsADeltaOfCopies()
    {
        (byte kind, ArrayPoolBufferWriter<byte> stored, DeltaChunkMode[] modes) =
            ModelDeltaSegmentCodec.Encode(Reference, Reference, useReference: true, DType.BF16, CompressionEffort.Default, Chunk, 64);
        using (stored)
        {
            Assert.That(kind, Is.EqualTo(ModelDeltaFormat.SegmentDelta));
            Assert.That(modes, Is.EqualTo(Enumerable.Repeat(DeltaChunkMode.Copy, 8)));
        }
    }

    [TestCase(64)]
    [TestCase(128)]
    public void Encode_UnrelatedReference_FallsBackToFramesThatDecode(int frameSize)
    {
        byte[] unrelated = DeltaTestData.GaussianBf16(256, 0.02f, 99);
        (byte kind, ArrayPoolBufferWriter<byte> stored, DeltaChunkMode[] modes) =
            ModelDeltaSegmentCodec.Encode(Target, unrelated, useReference: true, DType.BF16, CompressionEffort.Default, Chunk, frameSize);
        using (stored)
        {
            Assert.That(kind, Is.EqualTo(ModelDeltaFormat.SegmentFrames));
            Assert.That(modes, Is.EqualTo(Enumerable.Repeat(DeltaChunkMode.Scratch, 8)));
            ModelDeltaEntry entry = Entry(Target, kind, stored.WrittenCount, @base: null);
            byte[] decoded = new byte[Target.Length];
            bool verified = ModelDeltaSegmentCodec.Decode(entry, 0, stored.WrittenSpan, [], decoded, verifyPart: true, frameSize, Chunk, "f.z4delta");
            Assert.That(verified, Is.False, "a frames segment is never verified against the tensor's SHA-256");
            Assert.That(decoded, Is.EqualTo(Target));
            if (frameSize == 128)
            {
                Assert.That(stored.WrittenSpan.ToArray(), Is.EqualTo(Frames(Target, 128)));
            }
        }
    }

    [Test]
    public void Decode_WholeDeltaSegment_IsVerified()
    {
        byte[] delta = BufferDelta.Encode(Target, Reference, DType.BF16, CompressionEffort.Default, Chunk);
        ModelDeltaEntry entry = Entry(Target, ModelDeltaFormat.SegmentDelta, delta.Length, Base(Reference));
        byte[] decoded = new byte[Target.Length];
        Assert.That(ModelDeltaSegmentCodec.Decode(entry, 0, delta, Reference, decoded, verifyPart: false, 64, Chunk, null), Is.True);
        Assert.That(decoded, Is.EqualTo(Target));
    }

    [Test]
    public void Decode_TrailingBytesAfterTheFrames_CorruptFrameAtTheirOffset()
    {
        byte[] stored = [.. Frames(Target, 128), 7, 7];
        ModelDeltaEntry entry = Entry(Target, ModelDeltaFormat.SegmentFrames, stored.Length, null, offset: 1000);
        var ex = Assert.Throws<Z4AiFormatException>(() =>
            ModelDeltaSegmentCodec.Decode(entry, 0, stored, [], new byte[Target.Length], verifyPart: true, 128, Chunk, "f.z4delta"))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.CorruptFrame));
        Assert.That(ex.Offset, Is.EqualTo(1000 + stored.Length - 2));
        Assert.That(ex.TensorName, Is.EqualTo("t"));
        Assert.That(ex.FilePath, Is.EqualTo("f.z4delta"));
        Assert.That(ex.Detail, Is.EqualTo("segment 0: 2 unexpected bytes after the last chunk frame"));
    }

    [Test]
    public void Decode_FramesOfAnotherSize_Fail()
    {
        byte[] stored = Frames(Target, 128);
        ModelDeltaEntry entry = Entry(Target, ModelDeltaFormat.SegmentFrames, stored.Length, null, offset: 8);
        var ex = Assert.Throws<Z4AiFormatException>(() =>
            ModelDeltaSegmentCodec.Decode(entry, 0, stored, [], new byte[Target.Length], verifyPart: true, 64, Chunk, null))!;
        Assert.That(ex.Detail, Does.StartWith("segment 0: "));
        Assert.That(ex.TensorName, Is.EqualTo("t"));
    }

    [Test]
    public void Decode_DeltaForAnotherDType_CorruptFrameNamingBoth()
    {
        byte[] delta = BufferDelta.Encode(Target, Reference, DType.F16, CompressionEffort.Default, Chunk);
        ModelDeltaEntry entry = Entry(Target, ModelDeltaFormat.SegmentDelta, delta.Length, Base(Reference), offset: 500);
        var ex = Assert.Throws<Z4AiFormatException>(() =>
            ModelDeltaSegmentCodec.Decode(entry, 0, delta, Reference, new byte[Target.Length], verifyPart: true, 64, Chunk, "f"))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.CorruptFrame));
        Assert.That(ex.Offset, Is.EqualTo(500));
        Assert.That(ex.FilePath, Is.EqualTo("f"));
        Assert.That(ex.Detail, Is.EqualTo("segment 0: the delta frame is for F16 in chunks of 64, 512 -> 512 bytes, but the index expects BF16 in chunks of 64, 512 -> 512 bytes"));
    }

    [Test]
    public void Decode_DeltaWithAnotherChunkSize_Fails()
    {
        byte[] delta = BufferDelta.Encode(Target, Reference, DType.BF16, CompressionEffort.Default, 128);
        ModelDeltaEntry entry = Entry(Target, ModelDeltaFormat.SegmentDelta, delta.Length, Base(Reference));
        var ex = Assert.Throws<Z4AiFormatException>(() =>
            ModelDeltaSegmentCodec.Decode(entry, 0, delta, Reference, new byte[Target.Length], verifyPart: true, 64, Chunk, null))!;
        Assert.That(ex.Detail, Does.StartWith("segment 0: the delta frame is for BF16 in chunks of 128, 512 -> 512 bytes, but the index expects BF16 in chunks of 64"));
    }

    [Test]
    public void Decode_DeltaForAnotherLength_Fails()
    {
        byte[] delta = BufferDelta.Encode(Target, Reference, DType.BF16, CompressionEffort.Default, Chunk);
        ModelDeltaEntry entry = Entry(Target, ModelDeltaFormat.SegmentDelta, delta.Length, Base(Reference));
        var ex = Assert.Throws<Z4AiFormatException>(() =>
            ModelDeltaSegmentCodec.Decode(entry, 0, delta, Reference, new byte[Target.Length - 2], verifyPart: true, 64, Chunk, null))!;
        Assert.That(ex.Detail, Does.EndWith("but the index expects BF16 in chunks of 64, 512 -> 510 bytes"));
    }

    [Test]
    public void Decode_DeltaAgainstAnotherReferenceLength_Fails()
    {
        byte[] delta = BufferDelta.Encode(Target, Reference, DType.BF16, CompressionEffort.Default, Chunk);
        ModelDeltaEntry entry = Entry(Target, ModelDeltaFormat.SegmentDelta, delta.Length, Base(Reference));
        var ex = Assert.Throws<Z4AiFormatException>(() =>
            ModelDeltaSegmentCodec.Decode(entry, 0, delta, Reference.AsSpan(0, 500), new byte[Target.Length], verifyPart: true, 64, Chunk, null))!;
        Assert.That(ex.Detail, Does.EndWith("but the index expects BF16 in chunks of 64, 500 -> 512 bytes"));
    }

    [Test]
    public void Decode_WholeReferenceWithAnotherDigest_Fails()
    {
        byte[] delta = BufferDelta.Encode(Target, Reference, DType.BF16, CompressionEffort.Default, Chunk);
        ModelTensor @base = Base(Reference) with { Digest = Sha256Digest.Compute("x"u8) };
        ModelDeltaEntry entry = Entry(Target, ModelDeltaFormat.SegmentDelta, delta.Length, @base, offset: 64);
        var ex = Assert.Throws<Z4AiFormatException>(() =>
            ModelDeltaSegmentCodec.Decode(entry, 0, delta, Reference, new byte[Target.Length], verifyPart: true, 64, Chunk, null))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.CorruptFrame));
        Assert.That(ex.Offset, Is.EqualTo(64));
        Assert.That(ex.Detail, Is.EqualTo($"segment 0: the delta frame's reference SHA-256 {Sha256Digest.Compute(Reference)} is not base tensor 'b''s {@base.Digest}"));
    }

    [Test]
    public void Decode_PartOfTheReferenceWithAnotherDigest_IsNotComparedToTheBase()
    {
        // The segment refers to the first 256 bytes of a 512-byte base: the base's own digest is not the frame's.
        byte[] target = Target[..256];
        byte[] reference = Reference[..256];
        byte[] delta = BufferDelta.Encode(target, reference, DType.BF16, CompressionEffort.Default, Chunk);
        var entry = new ModelDeltaEntry(0, Tensor("t", Target), ModelDeltaTensorMode.Delta, Base(Reference), [new(ModelDeltaFormat.SegmentDelta, 8, delta.Length, 0), new(ModelDeltaFormat.SegmentFrames, 8 + delta.Length, 1, 0)]);
        byte[] decoded = new byte[256];
        Assert.That(ModelDeltaSegmentCodec.Decode(entry, 0, delta, reference, decoded, verifyPart: true, 256, Chunk, null), Is.False);
        Assert.That(decoded, Is.EqualTo(target));
    }

    [Test]
    public void Decode_WholeTargetWithAnotherDigest_Fails()
    {
        byte[] delta = BufferDelta.Encode(Target, Reference, DType.BF16, CompressionEffort.Default, Chunk);
        ModelDeltaEntry entry = Entry(Target, ModelDeltaFormat.SegmentDelta, delta.Length, Base(Reference), digest: Sha256Digest.Compute("y"u8));
        var ex = Assert.Throws<Z4AiFormatException>(() =>
            ModelDeltaSegmentCodec.Decode(entry, 0, delta, Reference, new byte[Target.Length], verifyPart: true, 64, Chunk, null))!;
        Assert.That(ex.Detail, Is.EqualTo($"segment 0: the delta frame's target SHA-256 {Sha256Digest.Compute(Target)} is not the tensor's {Sha256Digest.Compute("y"u8)}"));
    }

    [Test]
    public void Decode_PartialSegmentOnAChangedBase_FailsOnlyWhenAskedToVerify()
    {
        // Segment 0 of a two-segment tensor, decoded against base bytes that are not the ones it was made from.
        byte[] target = Target[..256];
        byte[] reference = Reference[..256];
        byte[] delta = BufferDelta.Encode(target, reference, DType.BF16, CompressionEffort.Default, Chunk);
        var entry = new ModelDeltaEntry(0, Tensor("t", Target), ModelDeltaTensorMode.Delta, Base(Reference), [new(ModelDeltaFormat.SegmentDelta, 8, delta.Length, 0), new(ModelDeltaFormat.SegmentFrames, 8 + delta.Length, 1, 0)]);
        byte[] changed = DeltaTestData.StepBf16(reference, 0.5, 13);

        var ex = Assert.Throws<Z4AiIntegrityException>(() =>
            ModelDeltaSegmentCodec.Decode(entry, 0, delta, changed, new byte[256], verifyPart: true, 256, Chunk, "f.z4delta"))!;
        Assert.That(ex.Subject, Is.EqualTo("t (segment 0)"));
        Assert.That(ex.ExpectedDigest, Is.EqualTo(Sha256Digest.Compute(target).ToString()));
        Assert.That(ex.FilePath, Is.EqualTo("f.z4delta"));

        byte[] unverified = new byte[256];
        Assert.That(ModelDeltaSegmentCodec.Decode(entry, 0, delta, changed, unverified, verifyPart: false, 256, Chunk, null), Is.False);
        Assert.That(unverified, Is.Not.EqualTo(target), "without the check the caller's whole-tensor hash is what catches it");
    }

    [Test]
    public void Pipeline_CommitsInOrderAndAtMostWindowAhead([Values(1, 3)] int window)
    {
        var pipeline = new ModelDeltaPipeline<int>(window);
        var committed = new List<int>();
        int maxPending = 0;
        for (int i = 0; i < 10; i++)
        {
            pipeline.Add(i, i % 3 == 0 ? null : x => x * 10, committed.Add);
            maxPending = Math.Max(maxPending, i + 1 - committed.Count);
        }

        Assert.That(maxPending, Is.EqualTo(window));
        Assert.That(committed, Has.Count.EqualTo(10 - window));
        pipeline.Drain(committed.Add);
        Assert.That(committed, Is.EqualTo(Enumerable.Range(0, 10).Select(i => i % 3 == 0 ? i : i * 10)));
        pipeline.Drain(_ => Assert.Fail("nothing is left"));
    }

    [Test]
    public void Pipeline_WindowOne_RunsTheWorkOnTheCallingThread()
    {
        var pipeline = new ModelDeltaPipeline<int>(1);
        int thread = -1;
        pipeline.Add(1, x => { thread = Environment.CurrentManagedThreadId; return x; }, _ => { });
        Assert.That(thread, Is.EqualTo(Environment.CurrentManagedThreadId));
    }

    [Test]
    public void Pipeline_FailedWork_SurfacesItsOwnExceptionAndAbandonReleasesTheRest()
    {
        var pipeline = new ModelDeltaPipeline<int>(4);
        pipeline.Add(1, x => x, _ => { });
        pipeline.Add(2, x => throw new InvalidDataException("work 2"), _ => { });
        pipeline.Add(3, x => x, _ => { });
        pipeline.Add(4, null, _ => { });
        var released = new List<int>();
        var ex = Assert.Throws<InvalidDataException>(() => pipeline.Drain(released.Add))!;
        Assert.That(ex.Message, Is.EqualTo("work 2"));
        Assert.That(released, Is.EqualTo(new[] { 1 }));
        pipeline.Abandon(released.Add);
        Assert.That(released, Is.EqualTo(new[] { 1, 3, 4 }));
        pipeline.Drain(_ => Assert.Fail("abandon empties the queue"));
    }

    private static byte[] Frames(byte[] data, int frameSize)
    {
        using var output = new ArrayPoolBufferWriter<byte>();
        for (int offset = 0; offset < data.Length; offset += frameSize)
        {
            using var frame = new ArrayPoolBufferWriter<byte>();
            TensorCodec.Encode(data.AsSpan(offset, Math.Min(frameSize, data.Length - offset)), DType.BF16, CompressionEffort.Default, frame);
            VarInt.Write(output, (ulong)frame.WrittenCount);
            output.Write(frame.WrittenSpan);
        }

        return output.WrittenSpan.ToArray();
    }

    private static ModelTensor Tensor(string name, byte[] bytes) => new(name, DType.BF16, [bytes.Length / 2], bytes.Length, Sha256Digest.Compute(bytes));

    private static ModelTensor Base(byte[] bytes) => Tensor("b", bytes);

    private static ModelDeltaEntry Entry(byte[] target, byte kind, int stored, ModelTensor? @base, long offset = 8, Sha256Digest? digest = null)
    {
        ModelTensor t = Tensor("t", target);
        if (digest is { } d)
        {
            t = t with { Digest = d };
        }

        ModelDeltaTensorMode mode = kind == ModelDeltaFormat.SegmentDelta ? ModelDeltaTensorMode.Delta : ModelDeltaTensorMode.Scratch;
        return new ModelDeltaEntry(0, t, mode, @base, [new ModelDeltaSegment(kind, offset, stored, 0)]);
    }
}
