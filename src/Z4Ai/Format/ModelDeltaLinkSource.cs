using System.Buffers;
using System.Security.Cryptography;
using Z4Ai.Delta;
using Z4Ai.Integrity;

namespace Z4Ai.Format;

/// <summary>
/// A model-delta file applied to the model it was made against: a <see cref="ModelDeltaSource"/> whose tensors are
/// rebuilt on demand, segment by segment, from the delta and the inner source. Stacking links walks a chain of
/// checkpoints tensor by tensor; memory is a few segments per link, never a whole model.
/// </summary>
/// <remarks>
/// The caller checks up front (<see cref="CheckBase"/>) that the inner source is the model the delta was made
/// against. Every tensor read whole is verified against its SHA-256; reads of consecutive parts of one tensor from
/// its start (how an upper link reads a base tensor) are verified when the last part is read.
/// </remarks>
internal sealed class ModelDeltaLinkSource : ModelDeltaSource
{
    private readonly ModelDeltaReader _reader;
    private readonly ModelDeltaSource _inner;
    private readonly ModelTensor[] _tensors;

    // The last segment decoded for a partial read, so consecutive small reads do not decode it again.
    private byte[]? _cache;
    private ModelDeltaEntry? _cacheEntry;
    private int _cacheSegment = -1;

    // Running SHA-256 of consecutive partial reads of one tensor from its start.
    private IncrementalHash? _trackHash;
    private ModelDeltaEntry? _trackEntry;
    private long _trackNext;

    /// <summary>Applies <paramref name="reader"/>'s delta to <paramref name="inner"/>; the link owns both.</summary>
    public ModelDeltaLinkSource(ModelDeltaReader reader, ModelDeltaSource inner)
    {
        _reader = reader;
        _inner = inner;
        _tensors = reader.Index.Entries.Select(e => e.Tensor).ToArray();
    }

    public ModelDeltaReader Reader => _reader;

    public override IReadOnlyList<ModelTensor> Tensors => _tensors;

    public override Sha256Digest ModelDigest => _reader.Index.TargetModel;

    public override string DisplayName => _reader.FilePath ?? "model delta";

    private int SegmentSize => _reader.Index.SegmentSize;

    /// <summary>
    /// Checks that <paramref name="base"/> is the model <paramref name="delta"/> was made against: first every base
    /// tensor the delta uses (name, dtype, shape and SHA-256), for a message naming the first that differs, then the
    /// whole model's identity.
    /// </summary>
    /// <param name="delta">The delta to apply.</param>
    /// <param name="base">The model offered as its base.</param>
    /// <param name="subject">What was made against the base, for messages ("wrong base: the delta").</param>
    /// <param name="baseName">What the base is, for messages ("the base").</param>
    /// <exception cref="Z4AiFormatException">Kind <see cref="Z4AiErrorKind.ReferenceMismatch"/>, naming the tensor
    /// (if one differs) and the expected and actual digests.</exception>
    public static void CheckBase(ModelDeltaReader delta, ModelDeltaSource @base, string subject, string baseName)
    {
        ModelDeltaIndex index = delta.Index;
        string expectedModel = $"base model SHA-256 {index.BaseModel} ({index.BaseTensorCount} tensors)";
        string actualModel = $"{baseName} ({@base.DisplayName}) is model {@base.ModelDigest} ({@base.Tensors.Count} tensors)";
        foreach (ModelDeltaEntry entry in index.Entries)
        {
            ModelTensor? expected = entry.Base;
            if (expected is null)
            {
                continue;
            }

            string? problem = null;
            if (!@base.TryGetTensor(expected.Name, out ModelTensor? actual))
            {
                problem = $"it has no tensor '{expected.Name}' (expected {expected.Describe()} with SHA-256 {expected.Digest})";
            }
            else if (!actual.SameLayout(expected.DType, expected.Shape) || actual.Length != expected.Length)
            {
                problem = $"its tensor '{expected.Name}' is {actual.Describe()}, expected {expected.Describe()} with SHA-256 {expected.Digest}";
            }
            else if (actual.Digest != expected.Digest)
            {
                problem = $"its tensor '{expected.Name}' has SHA-256 {actual.Digest}, expected {expected.Digest}";
            }

            if (problem is not null)
            {
                throw new Z4AiFormatException(
                    Z4AiErrorKind.ReferenceMismatch,
                    $"{subject} was made against {expectedModel}, but {actualModel}: {problem} (needed by tensor '{entry.Name}')",
                    delta.FilePath,
                    expected.Name);
            }
        }

        if (@base.ModelDigest != index.BaseModel)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.ReferenceMismatch,
                $"{subject} was made against {expectedModel}, but {actualModel}; the tensors the delta uses match, others differ",
                delta.FilePath);
        }
    }

    public override bool Read(ModelTensor tensor, long offset, Span<byte> destination, CancellationToken cancellationToken)
    {
        ModelDeltaEntry entry = _reader.ByName[tensor.Name];
        if (entry.Mode == ModelDeltaTensorMode.Copy)
        {
            // Same length and SHA-256 as the base tensor (the index guarantees it), so the inner check is ours.
            return _inner.Read(entry.Base!, offset, destination, cancellationToken);
        }

        long end = offset + destination.Length;
        bool whole = offset == 0 && destination.Length == entry.RawLength;
        bool verified = false;
        if (!destination.IsEmpty)
        {
            int first = (int)(offset / SegmentSize);
            int last = (int)((end - 1) / SegmentSize);
            for (int j = first; j <= last; j++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                long start = (long)j * SegmentSize;
                int length = SegmentLength(entry, j);
                long from = Math.Max(offset, start);
                long to = Math.Min(end, start + length);
                Span<byte> target = destination.Slice((int)(from - offset), (int)(to - from));
                if (from == start && to == start + length)
                {
                    verified = DecodeSegment(entry, j, target, cancellationToken);
                    continue;
                }

                if (!ReferenceEquals(_cacheEntry, entry) || _cacheSegment != j)
                {
                    _cacheEntry = null;
                    if (_cache is null || _cache.Length < length)
                    {
                        ReturnCache();
                        _cache = ArrayPool<byte>.Shared.Rent(length);
                    }

                    DecodeSegment(entry, j, _cache.AsSpan(0, length), cancellationToken);
                    _cacheEntry = entry;
                    _cacheSegment = j;
                }

                _cache.AsSpan((int)(from - start), target.Length).CopyTo(target);
            }
        }

        if (whole)
        {
            if (!(verified && entry.Segments.Length == 1))
            {
                Verify(entry, SHA256.HashData(destination));
            }

            return true;
        }

        Track(entry, offset, destination);
        return false;
    }

    /// <summary>
    /// Writes the target file: the kept safetensors header, then every tensor's bytes in index order, each verified
    /// against its SHA-256. Segments are decoded on up to <paramref name="parallelism"/> workers while the calling
    /// thread reads ahead and writes in order, so memory stays at a few segments.
    /// </summary>
    /// <remarks>On an exception the output is partial; the caller discards it (write to a temporary file, then rename).</remarks>
    public void Restore(Stream output, int parallelism, IProgress<ProgressInfo>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.Write(_reader.Index.Header);
        long total = _tensors.Sum(t => t.Length);
        var pipeline = new ModelDeltaPipeline<RestoredPiece>(Math.Max(1, parallelism));
        long done = 0;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        try
        {
            foreach (ModelDeltaEntry entry in _reader.Index.Entries)
            {
                if (entry.RawLength == 0)
                {
                    Verify(entry, SHA256.HashData(ReadOnlySpan<byte>.Empty));
                    continue;
                }

                long parts = ModelDeltaFormat.PartCount(entry.RawLength, SegmentSize);
                if (parts > int.MaxValue)
                {
                    throw new Z4AiFormatException(
                        Z4AiErrorKind.LimitExceeded, $"the tensor of {entry.RawLength} bytes has more than 2^31 segments of {SegmentSize} bytes", _reader.FilePath, entry.Name);
                }

                int pieces = (int)parts;
                for (int j = 0; j < pieces; j++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    RestoredPiece piece = Prepare(entry, j, pieces, cancellationToken);
                    if (piece.Stored is null)
                    {
                        pipeline.Add(piece, null, Commit);
                    }
                    else
                    {
                        pipeline.Add(piece, DecodePiece, Commit);
                    }
                }
            }

            pipeline.Drain(Commit);
        }
        catch
        {
            pipeline.Abandon(p => p.Dispose());
            throw;
        }

        void Commit(RestoredPiece piece)
        {
            using (piece)
            {
                ModelDeltaEntry entry = piece.Entry;
                ReadOnlySpan<byte> bytes = piece.Output.AsSpan(0, piece.Length);
                bool selfVerified = piece.Verified && piece.Count == 1;
                if (!selfVerified)
                {
                    // Pieces commit in order and a failure ends the restore, so the hash holds exactly this tensor.
                    hash.AppendData(bytes);
                }

                output.Write(bytes);
                if (piece.Index == piece.Count - 1)
                {
                    if (!selfVerified)
                    {
                        Verify(entry, hash.GetHashAndReset());
                    }

                    done += entry.RawLength;
                    progress?.Report(new ProgressInfo("undelta", entry.Name, done, total));
                }
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            ReturnCache();
            _trackHash?.Dispose();
            _reader.Dispose();
            _inner.Dispose();
        }
    }

    private static RestoredPiece DecodePiece(RestoredPiece piece)
    {
        try
        {
            piece.Verified = ModelDeltaSegmentCodec.Decode(
                piece.Entry,
                piece.Index,
                piece.Stored.AsSpan(0, piece.Entry.Segments[piece.Index].StoredLength),
                piece.Reference.AsSpan(0, piece.ReferenceLength),
                piece.Output.AsSpan(0, piece.Length),
                verifyPart: false,
                piece.FrameSize,
                piece.ChunkSize,
                piece.FilePath);
            piece.ReleaseInputs();
            return piece;
        }
        catch
        {
            piece.Dispose();
            throw;
        }
    }

    private int SegmentLength(ModelDeltaEntry entry, int index) =>
        (int)Math.Min(SegmentSize, entry.RawLength - ((long)index * SegmentSize));

    // Reads what piece `index` of `entry` needs on the calling thread: a copied tensor's bytes from the inner
    // source, or a segment's stored bytes plus (for a delta segment) the base bytes it refers to.
    private RestoredPiece Prepare(ModelDeltaEntry entry, int index, int count, CancellationToken cancellationToken)
    {
        int length = SegmentLength(entry, index);
        var piece = new RestoredPiece(entry, index, count, length, _reader.Index.FrameSize, _reader.Index.ChunkSize, _reader.FilePath);
        try
        {
            if (entry.Mode == ModelDeltaTensorMode.Copy)
            {
                piece.Verified = _inner.Read(entry.Base!, (long)index * SegmentSize, piece.Output.AsSpan(0, length), cancellationToken);
                return piece;
            }

            piece.Stored = _reader.ReadSegment(entry, index);
            if (entry.Segments[index].Kind == ModelDeltaFormat.SegmentDelta)
            {
                piece.ReadReference(_inner, SegmentSize, cancellationToken);
            }

            return piece;
        }
        catch
        {
            piece.Dispose();
            throw;
        }
    }

    private bool DecodeSegment(ModelDeltaEntry entry, int index, Span<byte> destination, CancellationToken cancellationToken)
    {
        byte[] stored = _reader.ReadSegment(entry, index);
        byte[]? reference = null;
        try
        {
            int referenceLength = 0;
            if (entry.Segments[index].Kind == ModelDeltaFormat.SegmentDelta)
            {
                (reference, referenceLength) = RestoredPiece.ReadReference(_inner, entry, index, SegmentSize, cancellationToken);
            }

            return ModelDeltaSegmentCodec.Decode(
                entry,
                index,
                stored.AsSpan(0, entry.Segments[index].StoredLength),
                reference.AsSpan(0, referenceLength),
                destination,
                verifyPart: true,
                _reader.Index.FrameSize,
                _reader.Index.ChunkSize,
                _reader.FilePath);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(stored);
            if (reference is not null)
            {
                ArrayPool<byte>.Shared.Return(reference);
            }
        }
    }

    private void Track(ModelDeltaEntry entry, long offset, ReadOnlySpan<byte> bytes)
    {
        if (offset == 0)
        {
            _trackHash ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            _trackHash.GetHashAndReset();
            _trackEntry = entry;
            _trackNext = 0;
        }

        if (!ReferenceEquals(_trackEntry, entry) || offset != _trackNext)
        {
            _trackEntry = null;
            return;
        }

        _trackHash!.AppendData(bytes);
        _trackNext += bytes.Length;
        if (_trackNext == entry.RawLength)
        {
            _trackEntry = null;
            Verify(entry, _trackHash.GetHashAndReset());
        }
    }

    private void Verify(ModelDeltaEntry entry, ReadOnlySpan<byte> actual)
    {
        if (!actual.SequenceEqual(entry.Digest.Bytes))
        {
            throw new Z4AiIntegrityException(entry.Name, entry.Digest.ToString(), Convert.ToHexStringLower(actual), _reader.FilePath);
        }
    }

    private void ReturnCache()
    {
        if (_cache is not null)
        {
            ArrayPool<byte>.Shared.Return(_cache);
            _cache = null;
            _cacheEntry = null;
        }
    }

    /// <summary>One piece of the restored file in flight: its inputs, then its output, all in pooled buffers.</summary>
    private sealed class RestoredPiece : IDisposable
    {
        public RestoredPiece(ModelDeltaEntry entry, int index, int count, int length, int frameSize, int chunkSize, string? filePath)
        {
            Entry = entry;
            Index = index;
            Count = count;
            Length = length;
            FrameSize = frameSize;
            ChunkSize = chunkSize;
            FilePath = filePath;
            Output = ArrayPool<byte>.Shared.Rent(length);
        }

        public ModelDeltaEntry Entry { get; }

        public int Index { get; }

        public int Count { get; }

        public int Length { get; }

        public int FrameSize { get; }

        public int ChunkSize { get; }

        public string? FilePath { get; }

        public byte[] Output { get; private set; }

        public byte[]? Stored { get; set; }

        public byte[]? Reference { get; private set; }

        public int ReferenceLength { get; private set; }

        public bool Verified { get; set; }

        /// <summary>Reads the base bytes segment <paramref name="index"/> of a delta tensor refers to, into a pooled buffer.</summary>
        public static (byte[] Buffer, int Length) ReadReference(ModelDeltaSource inner, ModelDeltaEntry entry, int index, int segmentSize, CancellationToken cancellationToken)
        {
            ModelTensor @base = entry.Base!;
            long start = (long)index * segmentSize;
            int length = (int)Math.Clamp(@base.Length - start, 0, segmentSize);
            byte[] buffer = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                if (length > 0)
                {
                    inner.Read(@base, start, buffer.AsSpan(0, length), cancellationToken);
                }

                return (buffer, length);
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(buffer);
                throw;
            }
        }

        public void ReadReference(ModelDeltaSource inner, int segmentSize, CancellationToken cancellationToken) =>
            (Reference, ReferenceLength) = ReadReference(inner, Entry, Index, segmentSize, cancellationToken);

        public void ReleaseInputs()
        {
            if (Stored is not null)
            {
                ArrayPool<byte>.Shared.Return(Stored);
                Stored = null;
            }

            if (Reference is not null)
            {
                ArrayPool<byte>.Shared.Return(Reference);
                Reference = null;
            }
        }

        public void Dispose()
        {
            ReleaseInputs();
            if (Output.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(Output);
                Output = [];
            }
        }
    }
}
