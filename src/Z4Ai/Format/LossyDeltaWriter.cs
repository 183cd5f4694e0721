using System.Security.Cryptography;
using CommunityToolkit.HighPerformance.Buffers;
using Z4Ai.Delta;
using Z4Ai.Integrity;

namespace Z4Ai.Format;

/// <summary>
/// Writes a lossy delta: one target tensor (and its base tensor) in memory at a time, records streamed to a
/// temporary file that replaces the output only when the index and footer are written.
/// </summary>
internal static class LossyDeltaWriter
{
    public static LossyDeltaInfo Compress(
        string targetPath, string basePath, string outputPath, LossyOptions options, IProgress<ProgressInfo>? progress, CancellationToken ct)
    {
        var settings = new LossySettings(
            options.Tier,
            options.GroupSize,
            ToPpm(options.OutlierFraction),
            ToPpm(options.SparseFraction),
            options.DropAndRescale,
            options.RefineScales && options.Calibration is not null,
            options.Seed,
            options.MinElements,
            options.Effort);

        using var targetStream = new FileStream(targetPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        using TensorFile target = TensorFile.Open(targetStream, leaveOpen: true, targetPath);
        using TensorFile @base = TensorFile.Open(basePath);
        byte[] header = ReadTargetHeader(target, targetStream);
        long dataLength = target.Tensors.Sum(t => t.ByteLength);
        SafeTensorsHeader order = SafeTensorsFormat.ParseHeader(header.AsSpan(8), header.Length + dataLength);

        using var output = AtomicFile.Create(outputPath);
        using var hashing = new HashingStream(output.Stream);
        LossyDeltaFormat.WritePreamble(hashing);
        var entries = new List<LossyDeltaEntry>(order.Tensors.Count);
        var baseDigests = new Dictionary<string, Sha256Digest>(StringComparer.Ordinal);
        using var record = new ArrayPoolBufferWriter<byte>(1 << 16);
        long done = 0;
        foreach (SafeTensorsEntry h in order.Tensors)
        {
            ct.ThrowIfCancellationRequested();
            TensorInfo info = target.GetInfo(h.Name);
            byte[] targetBytes = target.ReadTensor(h.Name);
            byte[] baseBytes = [];
            Sha256Digest? baseDigest = null;
            if (@base.TryGetInfo(h.Name, out TensorInfo baseInfo) && baseInfo.DType == info.DType && baseInfo.Shape.SequenceEqual(info.Shape))
            {
                baseBytes = @base.ReadTensor(h.Name);
                baseDigest = Sha256Digest.Compute(baseBytes);
                baseDigests[h.Name] = baseDigest.Value;
            }

            (LossyTier requested, bool overridden) = options.ResolveTier(h.Name);
            LossyTier mode = LossyTensorCodec.ChooseMode(requested, overridden, info.DType, info.Shape, baseDigest is not null, settings.MinElements);
            ReadOnlyMemory<float> moments = (mode is LossyTier.OneBit or LossyTier.Sparse) && settings.RefineScales
                ? GetMoments(options.Calibration!, h.Name, (int)info.Shape[^1])
                : default;

            record.Clear();
            (LossyTier used, byte[] reconstructed) = LossyTensorCodec.Encode(
                h.Name, mode, info.DType, info.Shape, targetBytes, baseBytes, settings, moments.Span, record);
            long offset = hashing.Position;
            hashing.Write(record.WrittenSpan);
            var targetDigest = Sha256Digest.Compute(targetBytes);
            LossyError error = LossyError.Measure(targetBytes, reconstructed, baseBytes, baseDigest is not null, info.DType);
            entries.Add(new LossyDeltaEntry(
                h.Name,
                info.DType,
                [.. info.Shape],
                info.ByteLength,
                used,
                offset,
                record.WrittenCount,
                targetDigest,
                baseDigest,
                used == LossyTier.Lossless ? targetDigest : Sha256Digest.Compute(reconstructed),
                error));
            done += info.ByteLength;
            progress?.Report(new ProgressInfo("lossy-delta", h.Name, done, dataLength));
        }

        Sha256Digest baseModel = LossyModelDigest.Compute(BaseEntries(@base, baseDigests, ct));
        Sha256Digest targetModel = LossyModelDigest.Compute(entries.Select(e => new LossyDigestEntry(e.Name, e.DType, e.Shape, e.RawLength, e.TargetDigest)));
        Sha256Digest reconstructedModel = LossyModelDigest.Compute(entries.Select(e => new LossyDigestEntry(e.Name, e.DType, e.Shape, e.RawLength, e.ReconstructedDigest)));
        var index = new LossyDeltaIndex(settings, header, baseModel, targetModel, reconstructedModel, entries);
        using var indexBytes = new ArrayPoolBufferWriter<byte>(4096);
        index.Write(indexBytes);
        long indexOffset = hashing.Position;
        hashing.Write(indexBytes.WrittenSpan);
        LossyDeltaFormat.WriteFooter(hashing, indexOffset, indexBytes.WrittenSpan);
        long length = hashing.Position;
        string fileSha = hashing.GetHashHex();
        output.Commit();
        return LossyDeltaReader.BuildInfo(index, Path.GetFullPath(outputPath), length, fileSha);
    }

    private static int ToPpm(double fraction) => (int)Math.Round(fraction * LossySettings.Million, MidpointRounding.ToEven);

    private static ReadOnlyMemory<float> GetMoments(ILossyCalibration calibration, string name, int columns)
    {
        ReadOnlyMemory<float> moments = calibration.GetInputMoments(name, columns);
        if (!moments.IsEmpty && moments.Length != columns && (long)moments.Length != (long)columns * columns)
        {
            throw new ArgumentException(
                $"the calibration gave {moments.Length} moments for '{name}', expected {columns} (diagonal) or {(long)columns * columns} (full)");
        }

        return moments;
    }

    /// <summary>The target's header bytes: as stored for a plain file or a container that kept them, else canonical.</summary>
    private static byte[] ReadTargetHeader(TensorFile target, Stream stream)
    {
        if (target is PlainTensorFile plain)
        {
            byte[] bytes = new byte[plain.Header.DataOffset];
            LossyDeltaFormat.ReadExactly(stream, 0, bytes);
            return bytes;
        }

        if (target is ContainerTensorFile container && container.Reader.OriginalHeader is { } original)
        {
            return original;
        }

        return SafeTensorsFormat.CreateLayout(
            target.Tensors.Select(t => new SafeTensorsLayoutInput(t.Name, t.DType, [.. t.Shape], t.ByteLength)),
            target.Metadata).HeaderBytes;
    }

    private static IEnumerable<LossyDigestEntry> BaseEntries(TensorFile @base, Dictionary<string, Sha256Digest> known, CancellationToken ct)
    {
        Dictionary<string, ContainerEntry>? stored = @base is ContainerTensorFile c
            ? c.Reader.Tensors.ToDictionary(e => e.Name, StringComparer.Ordinal)
            : null;
        foreach (TensorInfo t in @base.Tensors)
        {
            ct.ThrowIfCancellationRequested();
            Sha256Digest digest = known.TryGetValue(t.Name, out Sha256Digest d) ? d
                : stored is not null ? new Sha256Digest(stored[t.Name].Sha256)
                : Sha256Digest.Compute(@base.ReadTensor(t.Name));
            yield return new LossyDigestEntry(t.Name, t.DType, t.Shape, t.ByteLength, digest);
        }
    }

    /// <summary>Hashes everything written through it, and knows its position without seeking.</summary>
    private sealed class HashingStream(Stream inner) : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private long _position;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _position;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public string GetHashHex() => Convert.ToHexStringLower(_hash.GetHashAndReset());

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            _hash.AppendData(buffer);
            _position += buffer.Length;
        }

        public override void WriteByte(byte value) => Write([value]);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _hash.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
