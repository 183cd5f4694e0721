using System.Buffers.Binary;
using CommunityToolkit.HighPerformance.Buffers;
using NUnit.Framework;
using Z4Ai.Format;

namespace Z4Ai.Tests.Delta;

/// <summary>
/// Damaged and forged model deltas: only Z4Ai exceptions escape, no wrong bytes are ever written, and a failed
/// restore leaves no output.
/// </summary>
[NonParallelizable]
public class ModelDeltaHostileTests
{
    private string _dir = null!;
    private string _base = null!;
    private byte[] _target = null!;
    private byte[] _sample = null!;

    [OneTimeSetUp]
    public void OneTimeSetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "z4ai-modeldelta-hostile-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);

        // A tiny model that still has every tensor mode and both segment kinds, with multi-segment tensors.
        var @base = new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            ["a"] = ModelDeltaModels.Gaussian(DType.BF16, [8, 64], seed: 1),
            ["b"] = ModelDeltaModels.Gaussian(DType.F32, [12], seed: 2),
            ["c"] = ModelDeltaModels.Gaussian(DType.BF16, [16], seed: 3),
        };
        var target = new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            ["a"] = ModelDeltaModels.Step(@base["a"], 0.05, seed: 4),
            ["b"] = @base["b"],
            ["d"] = ModelDeltaModels.Gaussian(DType.F32, [8], seed: 5),
            ["e"] = new Tensor(DType.F32, [0], Array.Empty<byte>()),
        };
        _base = ModelDeltaModels.SavePlain(_dir, "base", @base);
        string targetPath = ModelDeltaModels.SaveRaw(_dir, "target", target, reverse: true, metadata: "{\"k\":\"v\"}");
        _target = File.ReadAllBytes(targetPath);
        string delta = Path.Combine(_dir, "sample.z4delta");
        DeltaCodec.CompressFileCore(targetPath, _base, delta, new ModelDeltaWriterOptions { ChunkSize = 64, FrameSize = 64, SegmentSize = 512 }, null, default);
        _sample = File.ReadAllBytes(delta);
    }

    [OneTimeTearDown]
    public void OneTimeTearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void Sample_HasEveryModeAndRoundTrips()
    {
        ModelDeltaInfo info = DeltaCodec.InspectFile(Write(_sample));
        Assert.That(info.Tensors.Select(t => t.Mode), Is.SupersetOf(new[] { ModelDeltaTensorMode.Copy, ModelDeltaTensorMode.Delta, ModelDeltaTensorMode.Scratch }));
        Assert.That(info.Tensors.Single(t => t.Name == "a").ChunkModes, Has.Count.GreaterThan(2));
        Assert.That(Restore(_sample), Is.EqualTo(_target));
        TestContext.Out.WriteLine($"sample: {_sample.Length} bytes");
    }

    [Test]
    public void DecompressFile_EveryTruncation_ThrowsZ4AiExceptionAndLeavesNoOutput()
    {
        // Every length near the ends (file header, index and footer), every fifth in between (all end mid-segment).
        for (int length = 0; length < _sample.Length; length += length < 16 || length > _sample.Length - 400 ? 1 : 5)
        {
            AssertRejectedOrExact(_sample[..length], $"length {length}", mustReject: true);
        }
    }

    [Test]
    public void DecompressFile_EveryByteFlipped_ThrowsZ4AiExceptionOrRestoresExactly()
    {
        for (int i = 0; i < _sample.Length; i++)
        {
            byte[] damaged = (byte[])_sample.Clone();
            damaged[i] ^= (byte)(1 << (i % 8));
            AssertRejectedOrExact(damaged, $"byte {i}", mustReject: false);
        }
    }

    [Test]
    public void DecompressFile_ForgedIndexWithValidChecksums_ThrowsZ4AiExceptionOrRestoresExactly()
    {
        (long indexOffset, int indexLength) = IndexBounds(_sample);
        for (int i = 0; i < indexLength; i++)
        {
            byte[] forged = (byte[])_sample.Clone();
            forged[indexOffset + i] ^= (byte)(1 << (i % 8));
            Reseal(forged, indexOffset, indexLength);
            AssertRejectedOrExact(forged, $"index byte {i}", mustReject: false);
        }
    }

    [Test]
    public void DecompressFile_ForgedSegmentsWithValidChecksums_ThrowZ4AiExceptionOrRestoreExactly()
    {
        (long indexOffset, _) = IndexBounds(_sample);
        for (long i = ModelDeltaFormat.HeaderLength; i < indexOffset; i++)
        {
            byte[] forged = (byte[])_sample.Clone();
            forged[i] ^= (byte)(1 << (int)(i % 8));
            AssertRejectedOrExact(ResealSegments(forged), $"data byte {i}", mustReject: false);
        }
    }

    [Test]
    public void DecompressFile_ForgedTensorDigest_ThrowsIntegrityException()
    {
        // Rewrite the index so a scratch tensor's digest and the model identity agree with each other but not with
        // the stored bytes: only the SHA-256 check of the rebuilt tensor can catch it.
        (long indexOffset, int indexLength) = IndexBounds(_sample);
        ModelDeltaIndex index = ModelDeltaIndex.Parse(_sample.AsSpan((int)indexOffset, indexLength), indexOffset);
        ModelDeltaEntry[] entries = index.Entries.Select(e => e.Name != "d" ? e : new ModelDeltaEntry(
            e.Index,
            e.Tensor with { Digest = Z4Ai.Integrity.Sha256Digest.Compute("not d"u8) },
            e.Mode,
            e.Base,
            e.Segments)).ToArray();
        var forgedIndex = new ModelDeltaIndex(
            index.ChunkSize, index.FrameSize, index.SegmentSize, index.BaseModel, index.BaseTensorCount,
            Z4Ai.Delta.ModelDigest.Compute(entries.Select(e => e.Tensor)), index.HeaderSynthesized, index.Header, entries);
        byte[] forged = Rebuild(_sample, indexOffset, forgedIndex);
        string output = Path.Combine(_dir, "out.safetensors");
        var ex = Assert.Throws<Z4AiIntegrityException>(() => DeltaCodec.DecompressFile(Write(forged), _base, output))!;
        Assert.That(ex.Subject, Is.EqualTo("d"));
        Assert.That(File.Exists(output), Is.False);
    }

    private static (long Offset, int Length) IndexBounds(byte[] file) => ModelDeltaRestoreKit.IndexBounds(file);

    // Recomputes the index and footer checksums after the index bytes were edited.
    private static void Reseal(byte[] file, long indexOffset, int indexLength)
    {
        Span<byte> footer = file.AsSpan(file.Length - ModelDeltaFormat.FooterLength);
        ModelDeltaFormat.WriteFooter(footer, indexOffset, indexLength, ContainerFormat.Checksum(file.AsSpan((int)indexOffset, indexLength)));
    }

    // Recomputes every segment checksum after the data section was edited, and rewrites the index and footer.
    private static byte[] ResealSegments(byte[] file)
    {
        (long indexOffset, int indexLength) = IndexBounds(file);
        ModelDeltaIndex index = ModelDeltaIndex.Parse(file.AsSpan((int)indexOffset, indexLength), indexOffset);
        ModelDeltaEntry[] entries = index.Entries.Select(e => new ModelDeltaEntry(
            e.Index,
            e.Tensor,
            e.Mode,
            e.Base,
            e.Segments.Select(s => s with { Checksum = ContainerFormat.Checksum(file.AsSpan((int)s.Offset, s.StoredLength)) }).ToArray())).ToArray();
        var resealed = new ModelDeltaIndex(
            index.ChunkSize, index.FrameSize, index.SegmentSize, index.BaseModel, index.BaseTensorCount, index.TargetModel, index.HeaderSynthesized, index.Header, entries);
        return Rebuild(file, indexOffset, resealed);
    }

    private static byte[] Rebuild(byte[] file, long indexOffset, ModelDeltaIndex index)
    {
        using var bytes = new ArrayPoolBufferWriter<byte>();
        index.Write(bytes, CompressionEffort.Default);
        byte[] result = new byte[indexOffset + bytes.WrittenCount + ModelDeltaFormat.FooterLength];
        file.AsSpan(0, (int)indexOffset).CopyTo(result);
        bytes.WrittenSpan.CopyTo(result.AsSpan((int)indexOffset));
        ModelDeltaFormat.WriteFooter(result.AsSpan(result.Length - ModelDeltaFormat.FooterLength), indexOffset, bytes.WrittenCount, ContainerFormat.Checksum(bytes.WrittenSpan));
        return result;
    }

    private ModelDeltaRestoreKit Kit => new(_dir, _base, _target);

    private string Write(byte[] delta) => Kit.Write(delta);

    private byte[] Restore(byte[] delta) => Kit.Restore(delta);

    private void AssertRejectedOrExact(byte[] delta, string what, bool mustReject) => Kit.AssertRejectedOrExact(delta, what, mustReject);
}
