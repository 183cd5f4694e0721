using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
using CommunityToolkit.HighPerformance.Buffers;
using Microsoft.Win32.SafeHandles;
using Z4Ai.Delta;
using Z4Ai.Integrity;

namespace Z4Ai.Format;

/// <summary>Settings of <see cref="ModelDeltaWriter"/>.</summary>
internal sealed class ModelDeltaWriterOptions
{
    /// <summary>How hard each chunk's codec works.</summary>
    public CompressionEffort Effort { get; init; } = CompressionEffort.Default;

    /// <summary>Bytes per chunk, as in <see cref="DeltaOptions.ChunkSize"/>.</summary>
    public int ChunkSize { get; init; } = DeltaOptions.DefaultChunkSize;

    /// <summary>Raw bytes per codec frame of a tensor part stored on its own.</summary>
    public int FrameSize { get; init; } = ModelDeltaFormat.DefaultFrameSize;

    /// <summary>Bytes per segment (a multiple of <see cref="ChunkSize"/> and <see cref="FrameSize"/>); 0 for the default.</summary>
    public int SegmentSize { get; init; }

    /// <summary>How many segments are encoded at once (and so held in memory).</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>The segment size in effect.</summary>
    public int EffectiveSegmentSize => SegmentSize == 0 ? ModelDeltaFormat.SegmentSizeFor(ChunkSize, FrameSize) : SegmentSize;
}

/// <summary>
/// Writes a model delta (docs/delta-format.md section 2): the target model's tensors, in its data order, each as a
/// copy of a base tensor, as buffer deltas against its matched base tensor, or on its own, followed by the index and
/// footer. Streams front to back; memory is a few segments, whatever the model size.
/// </summary>
internal static class ModelDeltaWriter
{
    /// <summary>Writes the delta of the model in <paramref name="targetPath"/> against <paramref name="basePath"/>.</summary>
    /// <exception cref="Z4AiFormatException">An input is malformed (the message names the file).</exception>
    /// <exception cref="Z4AiIntegrityException">A container input holds a tensor that fails its SHA-256, or an input
    /// changed while it was read.</exception>
    public static ModelDeltaReport Write(
        string targetPath,
        string basePath,
        Stream output,
        ModelDeltaWriterOptions options,
        IProgress<ProgressInfo>? progress,
        CancellationToken cancellationToken)
    {
        int segmentSize = options.EffectiveSegmentSize;
        if (!ModelDeltaFormat.IsValidLayout(options.ChunkSize, options.FrameSize, segmentSize))
        {
            throw new ArgumentOutOfRangeException(
                nameof(options), segmentSize, "the chunk and frame sizes must be multiples of 8 from 64 to 2^28, and the segment size a multiple of both, at most 2^28");
        }

        var clock = Stopwatch.StartNew();
        int parallelism = Math.Max(1, options.MaxDegreeOfParallelism);
        using ModelDeltaFileSource @base = ModelDeltaFileSource.Open(basePath, "hash base", parallelism, progress, cancellationToken);
        using ModelDeltaFileSource target = ModelDeltaFileSource.Open(targetPath, "hash target", parallelism, progress, cancellationToken);
        (byte[] header, bool synthesized, ModelTensor[] order) = TargetLayout(target, targetPath);
        ModelMatch[] matches = ModelTensorMatcher.Match(order, @base.Tensors);

        Span<byte> fileHeader = stackalloc byte[ModelDeltaFormat.HeaderLength];
        ModelDeltaFormat.WriteHeader(fileHeader);
        output.Write(fileHeader);
        using var state = new CommitState(output, order, targetPath, progress);
        var pipeline = new ModelDeltaPipeline<SegmentJob>(parallelism);
        try
        {
            for (int t = 0; t < order.Length; t++)
            {
                ModelTensor tensor = order[t];
                ModelMatch match = matches[t];
                if (match.CopyOf >= 0 || tensor.Length == 0)
                {
                    ModelTensor? copyOf = match.CopyOf >= 0 ? @base.Tensors[match.CopyOf] : null;
                    pipeline.Add(SegmentJob.Marker(t, copyOf), null, state.Commit);
                    continue;
                }

                ModelTensor? reference = match.BaseIndex >= 0 ? @base.Tensors[match.BaseIndex] : null;
                long parts = ModelDeltaFormat.PartCount(tensor.Length, segmentSize);
                if (parts > int.MaxValue)
                {
                    throw new Z4AiFormatException(
                        Z4AiErrorKind.LimitExceeded, $"the tensor of {tensor.Length} bytes needs more than 2^31 segments of {segmentSize} bytes", targetPath, tensor.Name);
                }

                int count = (int)parts;
                for (int j = 0; j < count; j++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    SegmentJob job = SegmentJob.Read(target, tensor, t, j, count, segmentSize, @base, reference, cancellationToken);
                    pipeline.Add(job, x => x.Encode(options.Effort, options.ChunkSize, options.FrameSize), state.Commit);
                }
            }

            pipeline.Drain(state.Commit);
        }
        catch
        {
            pipeline.Abandon(job => job.Dispose());
            throw;
        }

        var index = new ModelDeltaIndex(
            options.ChunkSize, options.FrameSize, segmentSize, @base.ModelDigest, @base.Tensors.Count, ModelDigest.Compute(order), synthesized, header, state.Entries.ToArray());
        using var indexBytes = new ArrayPoolBufferWriter<byte>(1 << 16);
        index.Write(indexBytes, options.Effort);
        if (indexBytes.WrittenCount > ModelDeltaFormat.MaxIndexLength)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.LimitExceeded, $"the index would be {indexBytes.WrittenCount} bytes, more than the {ModelDeltaFormat.MaxIndexLength} a reader accepts");
        }

        // The index packed as a container's is (docs/delta-format.md 2.3a), only when that is smaller.
        ReadOnlySpan<byte> stored = indexBytes.WrittenSpan;
        ushort flags = 0;
        byte[]? packed = indexBytes.WrittenCount >= ContainerFormat.MinPackedIndexSource ? TryPackIndex(index, indexBytes.WrittenCount) : null;
        if (packed is not null)
        {
            stored = packed;
            flags = ModelDeltaFormat.FlagPackedIndex;
        }

        Span<byte> footer = stackalloc byte[ModelDeltaFormat.FooterLength];
        ModelDeltaFormat.WriteFooter(footer, state.Position, stored.Length, ContainerFormat.Checksum(stored), flags);
        output.Write(stored);
        output.Write(footer);
        output.Flush();
        long outputBytes = state.Position + stored.Length + ModelDeltaFormat.FooterLength;
        return new ModelDeltaReport(
            state.Reports, index.BaseModel.ToString(), index.TargetModel.ToString(), new FileInfo(targetPath).Length, outputBytes, clock.Elapsed);
    }

    // Packs the index with its header in a Stored frame (the packer then compresses the header's names and shapes
    // together with the entries'); null unless that is smaller than the plain index of plainLength bytes.
    private static byte[]? TryPackIndex(ModelDeltaIndex index, int plainLength)
    {
        using var source = new ArrayPoolBufferWriter<byte>(plainLength + index.Header.Length);
        index.Write(source, CompressionEffort.Default, storedHeader: true);
        return source.WrittenCount > ModelDeltaFormat.MaxIndexLength ? null : ContainerIndexPacking.TryPack(source.WrittenSpan, plainLength);
    }

    /// <summary>Describes a stored tensor for reports.</summary>
    internal static ModelDeltaTensorInfo Describe(ModelDeltaEntry entry, IReadOnlyList<DeltaChunkMode> chunkModes)
    {
        ModelTensor t = entry.Tensor;
        ModelTensor? b = entry.Base;
        return new ModelDeltaTensorInfo(
            t.Name,
            t.DType,
            Array.AsReadOnly(t.Shape),
            t.Length,
            t.Digest.ToString(),
            entry.Mode,
            entry.StoredLength,
            b?.Name,
            b?.DType,
            b is null ? null : Array.AsReadOnly(b.Shape),
            b?.Digest.ToString(),
            chunkModes);
    }

    // The header the restored file starts with, and the tensors in the data order it lays out.
    private static (byte[] Header, bool Synthesized, ModelTensor[] Order) TargetLayout(ModelDeltaFileSource target, string path)
    {
        byte[] header;
        bool synthesized = false;
        ModelTensor[] order = target.Tensors.ToArray();
        switch (target.File)
        {
            case PlainTensorFile plain:
                header = ReadPrefix(path, plain.Header.DataOffset);
                break;
            case ContainerTensorFile container when container.Reader.OriginalHeader is byte[] kept:
                header = kept;
                break;
            default:
                // A container built from tensors in memory keeps no header: give the restored file the canonical one,
                // and the tensors the order it lays them out in.
                SafeTensorsLayout layout = SafeTensorsFormat.CreateLayout(
                    order.Select(t => new SafeTensorsLayoutInput(t.Name, t.DType, t.Shape, t.Length)), target.File.Metadata);
                header = layout.HeaderBytes;
                synthesized = true;
                var byName = order.ToDictionary(t => t.Name, StringComparer.Ordinal);
                order = layout.Tensors.Select(e => byName[e.Name]).ToArray();
                break;
        }

        try
        {
            ModelDeltaIndex.CheckHeaderDescribes(header, order, 0);
        }
        catch (Z4AiFormatException ex)
        {
            throw new Z4AiFormatException(ex.Kind, $"the target's safetensors header does not match its tensors: {ex.Detail}", path, ex.TensorName, innerException: ex);
        }

        return (header, synthesized, order);
    }

    private static byte[] ReadPrefix(string path, long length)
    {
        byte[] bytes = GC.AllocateUninitializedArray<byte>(checked((int)length));
        using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        int total = 0;
        while (total < bytes.Length)
        {
            int n = RandomAccess.Read(handle, bytes.AsSpan(total), total);
            if (n == 0)
            {
                throw new Z4AiFormatException(Z4AiErrorKind.InvalidHeaderLength, "the file shrank while its header was read", path, offset: total);
            }

            total += n;
        }

        return bytes;
    }

    /// <summary>The calling thread's side of the pipeline: writes segments in order and builds the index entries.</summary>
    private sealed class CommitState(Stream output, ModelTensor[] order, string targetPath, IProgress<ProgressInfo>? progress) : IDisposable
    {
        private readonly List<ModelDeltaSegment> _segments = [];
        private readonly List<DeltaChunkMode> _modes = [];
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly long _total = order.Sum(t => t.Length);
        private ModelTensor? _reference;
        private bool _anyDelta;
        private long _done;

        public long Position { get; private set; } = ModelDeltaFormat.HeaderLength;

        public List<ModelDeltaEntry> Entries { get; } = [];

        public List<ModelDeltaTensorInfo> Reports { get; } = [];

        public void Commit(SegmentJob job)
        {
            using (job)
            {
                ModelTensor tensor = order[job.TensorIndex];
                if (job.IsMarker)
                {
                    ModelDeltaTensorMode mode = job.CopyOf is null ? ModelDeltaTensorMode.Scratch : ModelDeltaTensorMode.Copy;
                    Finish(new ModelDeltaEntry(Entries.Count, tensor, mode, job.CopyOf, []), []);
                    return;
                }

                if (job.Segment == 0)
                {
                    _segments.Clear();
                    _modes.Clear();
                    _anyDelta = false;
                    _reference = job.Reference;
                }

                if (!job.TargetVerified)
                {
                    // Hashing what was read and encoded, against the digest the index will record, catches an input
                    // that changed (or a container that lies) now rather than when the delta is applied.
                    _hash.AppendData(job.TargetBytes);
                }

                ReadOnlySpan<byte> stored = job.Stored!.WrittenSpan;
                _segments.Add(new ModelDeltaSegment(job.Kind, Position, stored.Length, ContainerFormat.Checksum(stored)));
                _modes.AddRange(job.Modes!);
                _anyDelta |= job.Kind == ModelDeltaFormat.SegmentDelta;
                output.Write(stored);
                Position += stored.Length;
                if (job.Segment < job.SegmentCount - 1)
                {
                    return;
                }

                if (!(job.TargetVerified && job.SegmentCount == 1))
                {
                    byte[] actual = _hash.GetHashAndReset();
                    if (!actual.AsSpan().SequenceEqual(tensor.Digest.Bytes))
                    {
                        throw new Z4AiIntegrityException(tensor.Name, tensor.Digest.ToString(), Convert.ToHexStringLower(actual), targetPath);
                    }
                }

                ModelDeltaTensorMode tensorMode = _anyDelta ? ModelDeltaTensorMode.Delta : ModelDeltaTensorMode.Scratch;
                Finish(new ModelDeltaEntry(Entries.Count, tensor, tensorMode, _anyDelta ? _reference : null, [.. _segments]), [.. _modes]);
            }
        }

        public void Dispose() => _hash.Dispose();

        private void Finish(ModelDeltaEntry entry, DeltaChunkMode[] modes)
        {
            Entries.Add(entry);
            Reports.Add(Describe(entry, Array.AsReadOnly(modes)));
            _done += entry.RawLength;
            progress?.Report(new ProgressInfo("delta", entry.Name, _done, _total));
        }
    }

    /// <summary>One segment of a target tensor on its way through the pipeline, with its pooled buffers.</summary>
    private sealed class SegmentJob : IDisposable
    {
        private byte[]? _target;
        private byte[]? _reference;

        private SegmentJob(int tensorIndex)
        {
            TensorIndex = tensorIndex;
        }

        public int TensorIndex { get; }

        public bool IsMarker { get; private init; }

        public ModelTensor? CopyOf { get; private init; }

        public int Segment { get; private init; }

        public int SegmentCount { get; private init; }

        public DType DType { get; private init; }

        /// <summary>Elements per row (the last dimension) of a tensor of rank 2 or more, else 0: a hint to the codec, as in a container.</summary>
        public int RowLength { get; private init; }

        public ModelTensor? Reference { get; private init; }

        public bool TargetVerified { get; private init; }

        public ReadOnlySpan<byte> TargetBytes => _target.AsSpan(0, TargetLength);

        public byte Kind { get; private set; }

        public ArrayPoolBufferWriter<byte>? Stored { get; private set; }

        public DeltaChunkMode[]? Modes { get; private set; }

        private int TargetLength { get; init; }

        private int ReferenceLength { get; init; }

        /// <summary>A tensor with nothing to encode (a copy, or empty): it only orders the entry.</summary>
        public static SegmentJob Marker(int tensorIndex, ModelTensor? copyOf) => new(tensorIndex) { IsMarker = true, CopyOf = copyOf };

        /// <summary>Reads segment <paramref name="segment"/> of a target tensor and the base bytes at its offsets.</summary>
        public static SegmentJob Read(
            ModelDeltaFileSource target,
            ModelTensor tensor,
            int tensorIndex,
            int segment,
            int count,
            int segmentSize,
            ModelDeltaFileSource @base,
            ModelTensor? reference,
            CancellationToken cancellationToken)
        {
            long start = (long)segment * segmentSize;
            int length = (int)Math.Min(segmentSize, tensor.Length - start);
            int referenceLength = reference is null ? 0 : (int)Math.Clamp(reference.Length - start, 0, segmentSize);
            byte[] targetBuffer = ArrayPool<byte>.Shared.Rent(length);
            byte[]? referenceBuffer = null;
            try
            {
                bool verified = target.Read(tensor, start, targetBuffer.AsSpan(0, length), cancellationToken);
                if (reference is not null)
                {
                    referenceBuffer = ArrayPool<byte>.Shared.Rent(referenceLength);
                    if (referenceLength > 0)
                    {
                        @base.Read(reference, start, referenceBuffer.AsSpan(0, referenceLength), cancellationToken);
                    }
                }

                return new SegmentJob(tensorIndex)
                {
                    _target = targetBuffer,
                    _reference = referenceBuffer,
                    Segment = segment,
                    SegmentCount = count,
                    DType = tensor.DType,
                    RowLength = tensor.Shape.Length >= 2 && tensor.Shape[^1] is > 0 and <= int.MaxValue ? (int)tensor.Shape[^1] : 0,
                    Reference = reference,
                    TargetVerified = verified,
                    TargetLength = length,
                    ReferenceLength = referenceLength,
                };
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(targetBuffer);
                if (referenceBuffer is not null)
                {
                    ArrayPool<byte>.Shared.Return(referenceBuffer);
                }

                throw;
            }
        }

        /// <summary>Runs on a worker: encodes the segment, then releases the base bytes.</summary>
        public SegmentJob Encode(CompressionEffort effort, int chunkSize, int frameSize)
        {
            try
            {
                (Kind, Stored, Modes) = ModelDeltaSegmentCodec.Encode(
                    TargetBytes, _reference.AsSpan(0, ReferenceLength), _reference is not null, DType, effort, chunkSize, frameSize, RowLength);
                ReturnReference();
                return this;
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            ReturnReference();
            if (_target is not null)
            {
                ArrayPool<byte>.Shared.Return(_target);
                _target = null;
            }

            Stored?.Dispose();
            Stored = null;
        }

        private void ReturnReference()
        {
            if (_reference is not null)
            {
                ArrayPool<byte>.Shared.Return(_reference);
                _reference = null;
            }
        }
    }
}
