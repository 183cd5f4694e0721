using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using CommunityToolkit.HighPerformance.Buffers;
using Z4Ai.Codecs;
using Z4Ai.Integrity;
using Z4Ai.Internal;

namespace Z4Ai.Format;

/// <summary>
/// Writes a <c>.z4ai</c> container as a stream: the file header, then each tensor's chunk frames as they are
/// compressed, then (in <see cref="Complete"/>) the index and the footer. It never seeks, so the output may be a pipe,
/// and it holds at most <see cref="ContainerWriterOptions.MaxDegreeOfParallelism"/> chunks (plus one being read) in
/// memory whatever the model size. Not thread-safe: call it from one thread.
/// </summary>
/// <remarks>
/// Chunks are content-addressed by (dtype, raw length, SHA-256 of the raw chunk): a chunk whose bytes were already
/// stored points at the earlier frame instead of storing it again. A whole tensor equal to an earlier one (same dtype,
/// length and SHA-256) is recorded as a duplicate of it. Deciding this per chunk lets the writer dedup while streaming,
/// without buffering a tensor or seeking back.
/// If a write fails part way (the source throws or ends early, or it is cancelled), the output holds a partial
/// tensor and the writer refuses further calls: the caller discards the output (write to a temporary file and rename).
/// </remarks>
internal sealed class ContainerWriter : IDisposable
{
    private readonly Stream _output;
    private readonly CompressionEffort _effort;
    private readonly int _chunkSize;
    private readonly int _maxDegreeOfParallelism;
    private readonly bool _packIndex;
    private readonly List<ContainerEntry> _entries = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<ChunkKey, ContainerChunk> _chunks = new();
    private readonly Dictionary<TensorKey, int> _tensors = [];
    private long _position;
    private State _state;

    /// <summary>Starts a container on <paramref name="output"/> and writes its 8-byte header.</summary>
    /// <param name="output">Where the container goes; it need not be seekable. The caller keeps ownership.</param>
    /// <param name="options">Chunk size, effort and parallelism; null for the defaults.</param>
    /// <exception cref="ArgumentException">An option is out of range, or <paramref name="output"/> is not writable.</exception>
    public ContainerWriter(Stream output, ContainerWriterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (!output.CanWrite)
        {
            throw new ArgumentException("the output stream is not writable", nameof(output));
        }

        options ??= new ContainerWriterOptions();
        if (options.MinimumChunkSize < ContainerFormat.MinChunkSize || !ContainerFormat.IsValidChunkSize(options.ChunkSize)
            || options.ChunkSize < options.MinimumChunkSize)
        {
            throw new ArgumentOutOfRangeException(
                nameof(options),
                options.ChunkSize,
                $"ChunkSize must be a power of two from {Math.Max(options.MinimumChunkSize, ContainerFormat.MinChunkSize)} to {ContainerFormat.MaxChunkSize}");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxDegreeOfParallelism, 1, nameof(options));
        if (!Enum.IsDefined(options.Effort))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Effort, "unknown compression effort");
        }

        _output = output;
        _effort = options.Effort;
        _chunkSize = options.ChunkSize;
        _maxDegreeOfParallelism = options.MaxDegreeOfParallelism;
        _packIndex = options.PackIndex;

        Span<byte> header = stackalloc byte[ContainerFormat.HeaderLength];
        ContainerFormat.WriteHeader(header);
        _output.Write(header);
        _position = ContainerFormat.HeaderLength;
    }

    private enum State
    {
        Open,
        Completed,
        Faulted,
        Disposed,
    }

    /// <summary>
    /// Compresses a tensor of <paramref name="length"/> bytes read from <paramref name="source"/> chunk by chunk, and
    /// records it in the index. Tensors must be written in the data order of the original safetensors file when
    /// its header is passed to <see cref="Complete"/>, because restoring writes them back in index order.
    /// </summary>
    /// <exception cref="ArgumentException">The name is taken or not valid Unicode, a dimension is negative, or
    /// <paramref name="length"/> is not the byte length of <paramref name="dtype"/> and <paramref name="shape"/>.</exception>
    /// <exception cref="Z4AiFormatException"><paramref name="source"/> ended before <paramref name="length"/> bytes
    /// (<see cref="Z4AiErrorKind.InvalidTensorView"/>); the writer is then unusable.</exception>
    /// <exception cref="InvalidOperationException">The writer is completed, disposed or failed earlier.</exception>
    public ContainerTensorStats WriteTensor(string name, DType dtype, long[] shape, Stream source, long length, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ValidateTensor(name, dtype, shape, length);
        _state = State.Faulted;
        ContainerTensorStats stats = WriteChunks(name, dtype, shape, source, length, ct);
        _state = State.Open;
        return stats;
    }

    /// <summary>Compresses a tensor held in memory; see the stream overload.</summary>
    /// <exception cref="ArgumentException">As for the stream overload; the span length is the tensor length.</exception>
    /// <exception cref="InvalidOperationException">The writer is completed, disposed or failed earlier.</exception>
    public unsafe ContainerTensorStats WriteTensor(string name, DType dtype, long[] shape, ReadOnlySpan<byte> data)
    {
        ValidateTensor(name, dtype, shape, data.Length);
        _state = State.Faulted;
        ContainerTensorStats stats;
        if (data.IsEmpty)
        {
            stats = WriteChunks(name, dtype, shape, Stream.Null, 0, default);
        }
        else
        {
            // The span is pinned for the whole (synchronous) call, so the workers may read through the stream.
            fixed (byte* pointer = data)
            {
                using var view = new UnmanagedMemoryStream(pointer, data.Length);
                stats = WriteChunks(name, dtype, shape, view, data.Length, default);
            }
        }

        _state = State.Open;
        return stats;
    }

    /// <summary>Writes the index (tensors in the order written) and the footer, then flushes the output.</summary>
    /// <param name="originalSafetensorsHeader">The 8-byte length prefix plus JSON header of the source safetensors
    /// file, kept so it restores byte for byte; null when the tensors did not come from a file.</param>
    /// <param name="metadata">The string-to-string metadata, or null.</param>
    /// <exception cref="ArgumentException">The header's length prefix does not match its length, or a metadata
    /// string is not valid Unicode.</exception>
    /// <exception cref="Z4AiFormatException">The index would exceed the format limit (<see cref="Z4AiErrorKind.LimitExceeded"/>).</exception>
    /// <exception cref="InvalidOperationException">The writer is completed, disposed or failed earlier.</exception>
    public void Complete(byte[]? originalSafetensorsHeader, IReadOnlyDictionary<string, string>? metadata)
    {
        EnsureOpen();
        if (originalSafetensorsHeader is not null && !ContainerIndex.IsWellFormedSafeTensorsHeader(originalSafetensorsHeader))
        {
            throw new ArgumentException(
                $"a safetensors header is an 8-byte little-endian length N followed by N bytes, at most {ContainerFormat.MaxOriginalHeaderLength} in all",
                nameof(originalSafetensorsHeader));
        }

        if (metadata is not null)
        {
            foreach (KeyValuePair<string, string> pair in metadata)
            {
                ArgumentNullException.ThrowIfNull(pair.Value, nameof(metadata));
            }
        }

        using var index = new ArrayPoolBufferWriter<byte>();
        ContainerIndex.Write(index, _chunkSize, _entries, originalSafetensorsHeader, metadata);
        if (index.WrittenCount > ContainerFormat.MaxIndexLength)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.LimitExceeded,
                $"the index would be {index.WrittenCount} bytes, more than the {ContainerFormat.MaxIndexLength} a reader accepts");
        }

        ReadOnlySpan<byte> stored = index.WrittenSpan;
        ushort flags = 0;
        byte[]? packed = _packIndex ? TryPackIndex(index.WrittenSpan, originalSafetensorsHeader, metadata) : null;
        if (packed is not null)
        {
            stored = packed;
            flags = ContainerFormat.FlagPackedIndex;
        }

        _state = State.Faulted;
        Span<byte> footer = stackalloc byte[ContainerFormat.FooterLength];
        ContainerFormat.WriteFooter(footer, _position, stored.Length, ContainerFormat.Checksum(stored), flags);
        _output.Write(stored);
        _output.Write(footer);
        _output.Flush();
        _position += stored.Length + ContainerFormat.FooterLength;
        _state = State.Completed;
    }

    /// <summary>Releases the writer. It does not close the output; a container not completed has no footer.</summary>
    public void Dispose() => _state = State.Disposed;

    private static string CodecName(byte codec) => CodecNames.Get(codec);

    // The packed index (docs/format.md 1.3a), when it is smaller than the plain one. A kept header that the entries
    // and metadata rebuild byte for byte (any file the reference writer or TensorSetWriter made) is not stored at all.
    private byte[]? TryPackIndex(ReadOnlySpan<byte> plain, byte[]? originalHeader, IReadOnlyDictionary<string, string>? metadata)
    {
        if (plain.Length < ContainerFormat.MinPackedIndexSource)
        {
            return null;
        }

        HeaderDerivation? derivation = originalHeader is null ? null : ContainerIndex.TryFindDerivation(_entries, originalHeader, metadata);
        using var source = new ArrayPoolBufferWriter<byte>(plain.Length);
        ContainerIndex.Write(source, _chunkSize, _entries, originalHeader, metadata, packedForm: true, derivation);
        return ContainerIndexPacking.TryPack(source.WrittenSpan, plain.Length);
    }

    private static void FillExactly(Stream source, Span<byte> buffer, string name, long done, long length)
    {
        int read = source.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (read != buffer.Length)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.InvalidTensorView,
                $"the source ended after {done + read} of the tensor's {length} bytes",
                tensorName: name);
        }
    }

    private void ValidateTensor(string name, DType dtype, long[] shape, long length)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        EnsureOpen();
        if (!Enum.IsDefined(dtype))
        {
            throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype");
        }

        ContainerIndex.EncodeUtf8(name, nameof(name));
        if (_names.Contains(name))
        {
            throw new ArgumentException($"a tensor named '{name}' was already written", nameof(name));
        }

        ulong[] dims = new ulong[shape.Length];
        for (int i = 0; i < shape.Length; i++)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(shape[i], nameof(shape));
            dims[i] = (ulong)shape[i];
        }

        if (ShapeMath.TryGetByteLength(dtype, dims, out ulong expected) != ShapeMath.Status.Ok || expected > long.MaxValue)
        {
            throw new ArgumentException($"{dtype.GetName()}[{string.Join(",", shape)}] has no valid byte length", nameof(shape));
        }

        if (length != (long)expected)
        {
            throw new ArgumentException($"{dtype.GetName()}[{string.Join(",", shape)}] is {expected} bytes, but {length} were given", nameof(length));
        }
    }

    private void EnsureOpen()
    {
        switch (_state)
        {
            case State.Completed:
                throw new InvalidOperationException("the container is already completed");
            case State.Faulted:
                throw new InvalidOperationException("an earlier write failed part way; the output is incomplete and must be discarded");
            case State.Disposed:
                throw new ObjectDisposedException(nameof(ContainerWriter));
        }
    }

    // Reads chunks on the calling thread (hashing the tensor in order), encodes them on up to
    // _maxDegreeOfParallelism workers, and commits the results in order. At most that many chunks are in flight.
    private ContainerTensorStats WriteChunks(string name, DType dtype, long[] shape, Stream source, long length, CancellationToken ct)
    {
        using var tensorHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var chunks = new List<ContainerChunk>((int)Math.Min(ContainerFormat.ChunkCount(length, _chunkSize), 1 << 16));
        var codecs = new List<string>();
        long stored = 0;
        var pending = new Queue<Task<EncodedChunk>>();
        bool parallel = _maxDegreeOfParallelism > 1 && length > _chunkSize;

        // The last dimension is the row length the codec's per-row palettes and context models use.
        int rowLength = shape.Length >= 2 && shape[^1] is > 0 and <= int.MaxValue ? (int)shape[^1] : 0;

        void Commit(EncodedChunk encoded)
        {
            using (encoded)
            {
                ContainerChunk? chunk = encoded.Existing;
                if (chunk is null && !_chunks.TryGetValue(encoded.Key, out chunk))
                {
                    ReadOnlySpan<byte> frame = encoded.Frame!.WrittenSpan;
                    chunk = new ContainerChunk(_position, frame.Length, encoded.Key.RawLength, encoded.Codec, ContainerFormat.Checksum(frame));
                    _output.Write(frame);
                    _position += frame.Length;
                    stored += frame.Length;
                    _chunks[encoded.Key] = chunk;
                }

                chunks.Add(chunk);
                string codec = CodecName(chunk.Codec);
                if (!codecs.Contains(codec))
                {
                    codecs.Add(codec);
                }
            }
        }

        try
        {
            for (long done = 0; done < length;)
            {
                ct.ThrowIfCancellationRequested();
                int n = (int)Math.Min(_chunkSize, length - done);
                byte[] raw = ArrayPool<byte>.Shared.Rent(n);
                try
                {
                    FillExactly(source, raw.AsSpan(0, n), name, done, length);
                    tensorHash.AppendData(raw, 0, n);
                }
                catch
                {
                    ArrayPool<byte>.Shared.Return(raw);
                    throw;
                }

                done += n;
                if (!parallel)
                {
                    Commit(Encode(raw, n, dtype, rowLength));
                    continue;
                }

                if (pending.Count >= _maxDegreeOfParallelism)
                {
                    Commit(pending.Dequeue().GetAwaiter().GetResult());
                }

                pending.Enqueue(Task.Run(() => Encode(raw, n, dtype, rowLength), CancellationToken.None));
            }

            while (pending.Count > 0)
            {
                Commit(pending.Dequeue().GetAwaiter().GetResult());
            }
        }
        catch
        {
            // Let every worker finish so its pooled buffers go back before the exception leaves.
            while (pending.Count > 0)
            {
                Task<EncodedChunk> task = pending.Dequeue();
                try
                {
                    task.GetAwaiter().GetResult().Dispose();
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // The first failure is the one reported.
                }
            }

            throw;
        }

        byte[] sha = tensorHash.GetHashAndReset();
        int entryIndex = _entries.Count;
        int? duplicateOf = null;
        var key = new TensorKey(dtype, length, new Sha256Digest(sha));
        if (length > 0)
        {
            if (_tensors.TryGetValue(key, out int original) && _entries[original].Chunks.SequenceEqual(chunks))
            {
                duplicateOf = original;
            }
            else
            {
                _tensors.TryAdd(key, entryIndex);
            }
        }

        IReadOnlyList<ContainerChunk> table = duplicateOf is int o ? _entries[o].Chunks : chunks.AsReadOnly();
        _entries.Add(new ContainerEntry(entryIndex, name, dtype, (long[])shape.Clone(), length, sha, table, stored, duplicateOf));
        _names.Add(name);
        return new ContainerTensorStats(name, length, stored, duplicateOf is not null, codecs.AsReadOnly())
        {
            Sha256 = sha,
            DuplicateOf = duplicateOf is int d ? _entries[d].Name : null,
        };
    }

    // Runs on a worker: identifies the chunk by content and compresses it unless that content is already stored.
    // Takes ownership of the rented raw buffer.
    private EncodedChunk Encode(byte[] raw, int length, DType dtype, int rowLength)
    {
        try
        {
            ReadOnlySpan<byte> bytes = raw.AsSpan(0, length);
            var key = new ChunkKey(dtype, length, Sha256Digest.Compute(bytes));
            if (_chunks.TryGetValue(key, out ContainerChunk? existing))
            {
                return new EncodedChunk(key, existing, null, 0);
            }

            var frame = new ArrayPoolBufferWriter<byte>(TensorCodec.GetMaxEncodedLength(length));
            try
            {
                CodecId codec = TensorCodec.Encode(bytes, dtype, _effort, frame, rowLength);
                return new EncodedChunk(key, null, frame, (byte)codec);
            }
            catch
            {
                frame.Dispose();
                throw;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(raw);
        }
    }

    private readonly record struct ChunkKey(DType DType, int RawLength, Sha256Digest Digest);

    private readonly record struct TensorKey(DType DType, long RawLength, Sha256Digest Digest);

    private sealed class EncodedChunk(ChunkKey key, ContainerChunk? existing, ArrayPoolBufferWriter<byte>? frame, byte codec) : IDisposable
    {
        public ChunkKey Key { get; } = key;

        public ContainerChunk? Existing { get; } = existing;

        public ArrayPoolBufferWriter<byte>? Frame { get; } = frame;

        public byte Codec { get; } = codec;

        public void Dispose() => Frame?.Dispose();
    }
}
