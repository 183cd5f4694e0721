using System.Buffers;
using System.Buffers.Binary;
using System.Collections.ObjectModel;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Z4Ai.Codecs;

namespace Z4Ai.Format;

/// <summary>
/// Reads a <c>.z4ai</c> container. Opening reads the header, footer and index only, and validates the index
/// completely; a tensor read then touches only that tensor's chunks, each checked against its checksum before it is
/// decoded, and the whole tensor against its SHA-256. Reads are positional, so one reader may serve several threads.
/// </summary>
internal sealed class ContainerReader : IDisposable
{
    private readonly ContainerSource _source;
    private readonly ContainerIndex _index;
    private readonly ReadOnlyCollection<ContainerEntry> _tensors;
    private readonly Dictionary<string, ContainerEntry> _byName;
    private readonly ReadOnlyDictionary<string, string>? _metadata;
    private bool _disposed;

    private ContainerReader(ContainerSource source, ReadLimits limits)
    {
        _source = source;
        _index = LoadIndex(source, limits);
        _tensors = Array.AsReadOnly(_index.Entries);
        _byName = new Dictionary<string, ContainerEntry>(_index.Entries.Length, StringComparer.Ordinal);
        foreach (ContainerEntry entry in _index.Entries)
        {
            _byName.Add(entry.Name, entry);
        }

        _metadata = _index.Metadata is null ? null : new ReadOnlyDictionary<string, string>(_index.Metadata);
    }

    /// <summary>The path the container was opened from (or the display name given for a stream), or null.</summary>
    public string? FilePath => _source.DisplayName;

    /// <summary>The container's length in bytes.</summary>
    public long FileLength => _source.Length;

    /// <summary>The tensors, in index order (the data order of the original safetensors file).</summary>
    public IReadOnlyList<ContainerEntry> Tensors => _tensors;

    /// <summary>The metadata stored with the model, or null when there was none.</summary>
    public IReadOnlyDictionary<string, string>? Metadata => _metadata;

    /// <summary>A copy of the original safetensors header bytes (8-byte prefix plus JSON), or null.</summary>
    public byte[]? OriginalHeader => (byte[]?)_index.OriginalHeader?.Clone();

    /// <summary>The chunk size the tensors were split with.</summary>
    public int ChunkSize => _index.ChunkSize;

    /// <summary>The container format version of the file (the reader accepts only versions it knows).</summary>
#pragma warning disable CA1822 // An instance property: a reader of several versions will answer per file.
    public int FormatVersion => ContainerFormat.Version;
#pragma warning restore CA1822

    /// <summary>Every byte read from the container so far, the header, footer and index included.</summary>
    public long BytesRead => _source.BytesRead;

    /// <summary>True when <paramref name="firstBytes"/> starts with the container magic "Z4AI".</summary>
    public static bool HasMagic(ReadOnlySpan<byte> firstBytes) => firstBytes.StartsWith(ContainerFormat.Magic);

    /// <summary>Opens a container file for random access and validates its index.</summary>
    /// <exception cref="Z4AiFormatException">The file is not a valid container; the message names the file and offset.</exception>
    /// <exception cref="IOException">The file cannot be opened or read.</exception>
    public static ContainerReader Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Open(ContainerSource.OpenFile(path), ReadLimits.Default);
    }

    /// <summary>Reads a container from a readable, seekable stream (reads are serialised on it).</summary>
    /// <param name="seekableStream">The container bytes; its length must not change while the reader is open.</param>
    /// <param name="leaveOpen">True to leave the stream open when the reader is disposed (or fails to open).</param>
    /// <param name="displayName">A name for error messages, such as the original path.</param>
    /// <exception cref="ArgumentException">The stream cannot read or seek.</exception>
    /// <exception cref="Z4AiFormatException">The stream does not hold a valid container.</exception>
    public static ContainerReader Open(Stream seekableStream, bool leaveOpen = false, string? displayName = null) =>
        Open(seekableStream, leaveOpen, displayName, ReadLimits.Default);

    /// <summary>Reads a container from a readable, seekable stream, refusing what exceeds <paramref name="limits"/>.</summary>
    public static ContainerReader Open(Stream seekableStream, bool leaveOpen, string? displayName, ReadLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(seekableStream);
        if (!seekableStream.CanRead || !seekableStream.CanSeek)
        {
            throw new ArgumentException("a container is read at random offsets; the stream must be readable and seekable", nameof(seekableStream));
        }

        return Open(ContainerSource.FromStream(seekableStream, leaveOpen, displayName), limits);
    }

    /// <summary>Looks a tensor up by name.</summary>
    public bool TryGetTensor(string name, [NotNullWhen(true)] out ContainerEntry? entry)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _byName.TryGetValue(name, out entry);
    }

    /// <summary>
    /// Decodes a whole tensor into <paramref name="destination"/> (chunks in parallel when there are several) and
    /// verifies its SHA-256.
    /// </summary>
    /// <remarks>When an exception is thrown, the contents of <paramref name="destination"/> are unspecified: they may
    /// hold some decoded chunks or bytes that failed verification, and must not be used.</remarks>
    /// <exception cref="ArgumentException">The entry is not from this reader, or the destination is not exactly its length.</exception>
    /// <exception cref="Z4AiIntegrityException">The decoded bytes do not match the recorded SHA-256.</exception>
    /// <exception cref="Z4AiFormatException">A chunk fails its checksum or does not decode.</exception>
    public void ReadTensor(ContainerEntry entry, Span<byte> destination)
    {
        CheckEntry(entry);
        if (destination.Length != entry.RawLength)
        {
            throw new ArgumentException($"tensor '{entry.Name}' is {entry.RawLength} bytes; the destination holds {destination.Length}", nameof(destination));
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        DecodeAllHashing(entry, destination, hash);
        Span<byte> actual = stackalloc byte[SHA256.HashSizeInBytes];
        hash.GetHashAndReset(actual);
        CheckDigest(entry, actual);
    }

    /// <summary>Decodes a whole tensor into a new array and verifies its SHA-256.</summary>
    /// <exception cref="Z4AiFormatException">The tensor is larger than an array can hold
    /// (<see cref="Z4AiErrorKind.LimitExceeded"/>; use <see cref="CopyTensorTo"/>), or a chunk is corrupt.</exception>
    /// <exception cref="Z4AiIntegrityException">The decoded bytes do not match the recorded SHA-256.</exception>
    public byte[] ReadTensor(ContainerEntry entry)
    {
        CheckEntry(entry);
        if (entry.RawLength > Array.MaxLength)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.LimitExceeded,
                $"the tensor is {entry.RawLength} bytes, more than an array holds ({Array.MaxLength}); stream it instead",
                FilePath,
                entry.Name);
        }

        byte[] result = GC.AllocateUninitializedArray<byte>((int)entry.RawLength);
        ReadTensor(entry, result);
        return result;
    }

    /// <summary>
    /// Writes a tensor's raw bytes to <paramref name="destination"/> in chunk-bounded memory, decoding a few chunks
    /// ahead in parallel. Each chunk is checked against its checksum before it is decoded.
    /// </summary>
    /// <remarks>The SHA-256 of the whole tensor can only be known at the end: a <see cref="Z4AiIntegrityException"/>
    /// is thrown after all the bytes were written, and the caller must then discard what it wrote.</remarks>
    /// <exception cref="Z4AiIntegrityException">The bytes written do not match the recorded SHA-256.</exception>
    /// <exception cref="Z4AiFormatException">A chunk fails its checksum or does not decode (the output is then partial).</exception>
    public void CopyTensorTo(ContainerEntry entry, Stream destination, CancellationToken ct = default)
    {
        CheckEntry(entry);
        ArgumentNullException.ThrowIfNull(destination);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        int window = Environment.ProcessorCount;
        int count = entry.Chunks.Count;
        if (count <= 1 || window <= 1)
        {
            byte[] buffer = ArrayPool<byte>.Shared.Rent(count == 0 ? 0 : entry.Chunks[0].RawLength);
            try
            {
                for (int i = 0; i < count; i++)
                {
                    ct.ThrowIfCancellationRequested();
                    Span<byte> raw = buffer.AsSpan(0, entry.Chunks[i].RawLength);
                    DecodeChunk(entry, i, raw);
                    hash.AppendData(raw);
                    destination.Write(raw);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        else
        {
            CopyChunksParallel(entry, destination, hash, window, ct);
        }

        Span<byte> actual = stackalloc byte[SHA256.HashSizeInBytes];
        hash.GetHashAndReset(actual);
        CheckDigest(entry, actual);
    }

    /// <summary>
    /// Reads raw bytes <c>[offset, offset + destination.Length)</c> of a tensor, decoding only the chunks that range
    /// covers. Each chunk is checked against its checksum, but the tensor's SHA-256 covers the whole tensor and so
    /// cannot be checked for a part: use <see cref="ReadTensor(ContainerEntry, Span{byte})"/> when that matters.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the tensor.</exception>
    /// <exception cref="Z4AiFormatException">A chunk fails its checksum or does not decode.</exception>
    public void ReadRange(ContainerEntry entry, long offset, Span<byte> destination)
    {
        CheckEntry(entry);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, entry.RawLength - destination.Length);
        if (destination.IsEmpty)
        {
            return;
        }

        long end = offset + destination.Length;
        int first = (int)(offset / ChunkSize);
        int last = (int)((end - 1) / ChunkSize);
        byte[]? scratch = null;
        try
        {
            for (int i = first; i <= last; i++)
            {
                long chunkStart = (long)i * ChunkSize;
                int rawLength = entry.Chunks[i].RawLength;
                long from = Math.Max(offset, chunkStart);
                long to = Math.Min(end, chunkStart + rawLength);
                Span<byte> target = destination.Slice((int)(from - offset), (int)(to - from));
                if (from == chunkStart && to == chunkStart + rawLength)
                {
                    DecodeChunk(entry, i, target);
                    continue;
                }

                scratch ??= ArrayPool<byte>.Shared.Rent(ChunkSize);
                DecodeChunk(entry, i, scratch.AsSpan(0, rawLength));
                scratch.AsSpan((int)(from - chunkStart), target.Length).CopyTo(target);
            }
        }
        finally
        {
            if (scratch is not null)
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }
        }
    }

    /// <summary>
    /// Decodes and verifies every tensor in chunk-bounded memory and returns the names of those that fail (a corrupt
    /// chunk or a SHA-256 mismatch). Integrity failures are reported, never thrown; I/O errors still throw.
    /// </summary>
    public IReadOnlyList<string> Verify(CancellationToken ct = default)
    {
        var failed = new List<string>();
        bool[] ok = new bool[_index.Entries.Length];
        foreach (ContainerEntry entry in _index.Entries)
        {
            ct.ThrowIfCancellationRequested();
            if (entry.DuplicateOf is int original)
            {
                // Same chunks and same SHA-256 (the index parse checked), so the same verdict.
                ok[entry.Index] = ok[original];
            }
            else
            {
                try
                {
                    CopyTensorTo(entry, Stream.Null, ct);
                    ok[entry.Index] = true;
                }
                catch (Z4AiException)
                {
                    ok[entry.Index] = false;
                }
            }

            if (!ok[entry.Index])
            {
                failed.Add(entry.Name);
            }
        }

        return failed.AsReadOnly();
    }

    /// <summary>
    /// Writes the original <c>.safetensors</c> file: the kept header bytes, then every tensor's bytes in index order,
    /// which is the data order of the original file, so the result is byte-identical to it. Memory stays bounded by a
    /// few chunks.
    /// </summary>
    /// <remarks>Tensors are verified as they are written; on an exception the output is partial and the caller must
    /// discard it (write to a temporary file, then rename).</remarks>
    /// <exception cref="InvalidOperationException">The container keeps no original header (it was not packed from a
    /// safetensors file).</exception>
    /// <exception cref="Z4AiIntegrityException">A tensor does not match its SHA-256.</exception>
    /// <exception cref="Z4AiFormatException">A chunk is corrupt.</exception>
    public void RestoreSafeTensors(Stream output, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        ObjectDisposedException.ThrowIf(_disposed, this);
        byte[] header = _index.OriginalHeader
            ?? throw new InvalidOperationException(
                "this container keeps no original safetensors header (it was built from tensors, not packed from a .safetensors file), so there is no original file to restore");
        output.Write(header);
        foreach (ContainerEntry entry in _index.Entries)
        {
            CopyTensorTo(entry, output, ct);
        }
    }

    /// <summary>Closes the file (or the stream, unless it was left open).</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _source.Dispose();
        }
    }

    private static ContainerReader Open(ContainerSource source, ReadLimits limits)
    {
        try
        {
            return new ContainerReader(source, limits);
        }
        catch (Z4AiFormatException ex) when (ex.FilePath is null && source.DisplayName is not null)
        {
            source.Dispose();
            throw ex.WithFile(source.DisplayName);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    private static ContainerIndex LoadIndex(ContainerSource source, ReadLimits limits)
    {
        long length = source.Length;
        string? file = source.DisplayName;
        const int minimum = ContainerFormat.HeaderLength + ContainerFormat.FooterLength;
        if (length < minimum)
        {
            throw new Z4AiFormatException(Z4AiErrorKind.InvalidContainer, $"{length} bytes is too short for a container (at least {minimum})", file, offset: 0);
        }

        Span<byte> header = stackalloc byte[ContainerFormat.HeaderLength];
        source.ReadExactly(0, header);
        if (!HasMagic(header))
        {
            throw new Z4AiFormatException(Z4AiErrorKind.InvalidContainer, "the file does not start with the container magic \"Z4AI\"", file, offset: 0);
        }

        CheckVersion(header, file, 0, allowedFlags: 0);

        long footerOffset = length - ContainerFormat.FooterLength;
        Span<byte> footer = stackalloc byte[ContainerFormat.FooterLength];
        source.ReadExactly(footerOffset, footer);
        if (!HasMagic(footer))
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.InvalidContainer, "no footer magic at the end: the file is truncated or was never completed", file, offset: footerOffset);
        }

        ulong footerChecksum = BinaryPrimitives.ReadUInt64LittleEndian(footer[32..]);
        if (footerChecksum != ContainerFormat.Checksum(footer[..32]))
        {
            throw new Z4AiFormatException(Z4AiErrorKind.InvalidContainer, "the footer checksum does not match", file, offset: footerOffset);
        }

        CheckVersion(footer, file, footerOffset, ContainerFormat.KnownFooterFlags);
        bool packed = (BinaryPrimitives.ReadUInt16LittleEndian(footer[6..]) & ContainerFormat.FlagPackedIndex) != 0;
        ulong indexOffset = BinaryPrimitives.ReadUInt64LittleEndian(footer[8..]);
        ulong indexLength = BinaryPrimitives.ReadUInt64LittleEndian(footer[16..]);
        ulong indexChecksum = BinaryPrimitives.ReadUInt64LittleEndian(footer[24..]);
        if (indexLength > ContainerFormat.MaxIndexLength)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.LimitExceeded, $"the index is {indexLength} bytes, more than the {ContainerFormat.MaxIndexLength} allowed", file, offset: footerOffset + 16);
        }

        if (indexLength > (ulong)limits.MaxIndexBytes)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.LimitExceeded, $"the index is {indexLength} bytes, more than the read limit of {limits.MaxIndexBytes}", file, offset: footerOffset + 16);
        }

        if (indexOffset < ContainerFormat.HeaderLength || indexOffset > (ulong)footerOffset || (ulong)footerOffset - indexOffset != indexLength)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.InvalidContainer,
                $"the footer places the index at [{indexOffset}, {indexOffset}+{indexLength}), but it must end where the footer starts, at {footerOffset}",
                file,
                offset: footerOffset + 8);
        }

        byte[] index = ArrayPool<byte>.Shared.Rent((int)indexLength);
        try
        {
            Span<byte> span = index.AsSpan(0, (int)indexLength);
            source.ReadExactly((long)indexOffset, span);
            if (ContainerFormat.Checksum(span) != indexChecksum)
            {
                throw new Z4AiFormatException(Z4AiErrorKind.InvalidContainer, "the index checksum does not match", file, offset: (long)indexOffset);
            }

            if (!packed)
            {
                return ContainerIndex.Parse(span, (long)indexOffset, limits);
            }

            byte[] plain = ContainerIndexPacking.Unpack(span, (long)indexOffset, limits);
            return ContainerIndex.Parse(plain, (long)indexOffset, limits, unpacked: true);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(index);
        }
    }

    private static void CheckVersion(ReadOnlySpan<byte> magicVersionFlags, string? file, long offset, ushort allowedFlags)
    {
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(magicVersionFlags[4..]);
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(magicVersionFlags[6..]);
        if (version != ContainerFormat.Version)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.UnsupportedVersion, $"container format version {version}; this reader knows version {ContainerFormat.Version}", file, offset: offset + 4);
        }

        if ((flags & ~allowedFlags) != 0)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.UnsupportedVersion, $"container flags 0x{flags:x4} name features this reader does not know", file, offset: offset + 6);
        }
    }

    private void CheckEntry(ContainerEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)entry.Index >= (uint)_index.Entries.Length || !ReferenceEquals(_index.Entries[entry.Index], entry))
        {
            throw new ArgumentException($"tensor '{entry.Name}' is not an entry of this container reader", nameof(entry));
        }
    }

    private void CheckDigest(ContainerEntry entry, ReadOnlySpan<byte> actual)
    {
        if (!actual.SequenceEqual(entry.Sha256))
        {
            throw new Z4AiIntegrityException(entry.Name, Convert.ToHexStringLower(entry.Sha256), Convert.ToHexStringLower(actual), FilePath);
        }
    }

    // Reads chunk `index` of `entry`, checks its checksum and codec byte, and decodes it into exactly `destination`.
    private void DecodeChunk(ContainerEntry entry, int index, Span<byte> destination)
    {
        ContainerChunk chunk = entry.Chunks[index];
        byte[] buffer = ArrayPool<byte>.Shared.Rent(chunk.StoredLength);
        try
        {
            Span<byte> frame = buffer.AsSpan(0, chunk.StoredLength);
            _source.ReadExactly(chunk.Offset, frame);
            ulong actual = ContainerFormat.Checksum(frame);
            if (actual != chunk.Checksum)
            {
                throw new Z4AiFormatException(
                    Z4AiErrorKind.CorruptFrame,
                    $"chunk {index} fails its checksum (expected {chunk.Checksum:x16}, got {actual:x16}); the file is corrupt",
                    FilePath,
                    entry.Name,
                    chunk.Offset);
            }

            if (frame[0] != chunk.Codec)
            {
                throw new Z4AiFormatException(
                    Z4AiErrorKind.CorruptFrame,
                    $"chunk {index} frame starts with codec {frame[0]}, but the index records codec {chunk.Codec}",
                    FilePath,
                    entry.Name,
                    chunk.Offset);
            }

            try
            {
                TensorCodec.Decode(frame, destination);
            }
            catch (Z4AiFormatException ex)
            {
                throw new Z4AiFormatException(ex.Kind, $"chunk {index}: {ex.Detail}", FilePath, entry.Name, chunk.Offset, ex);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // Chunks decode on every core while this thread hashes the finished ones in order: the SHA-256, a serial pass
    // about as slow as decoding on one core, overlaps decoding instead of following it. The destination is pinned
    // until every worker has stopped, so workers may write through the pointer.
    private unsafe void DecodeAllHashing(ContainerEntry entry, Span<byte> destination, IncrementalHash hash)
    {
        fixed (byte* start = destination)
        {
            nint address = (nint)start;
            int chunkSize = ChunkSize;
            ParallelChunks.ForOrdered(
                entry.Chunks.Count,
                Environment.ProcessorCount,
                i => DecodeChunk(entry, i, new Span<byte>((byte*)address + ((long)i * chunkSize), entry.Chunks[i].RawLength)),
                i => hash.AppendData(new ReadOnlySpan<byte>((byte*)address + ((long)i * chunkSize), entry.Chunks[i].RawLength)));
        }
    }

    private void CopyChunksParallel(ContainerEntry entry, Stream destination, IncrementalHash hash, int window, CancellationToken ct)
    {
        var pending = new Queue<(Task<byte[]> Task, int Length)>();

        void WriteOldest()
        {
            (Task<byte[]> task, int length) = pending.Dequeue();
            byte[] raw = task.GetAwaiter().GetResult();
            try
            {
                hash.AppendData(raw, 0, length);
                destination.Write(raw, 0, length);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(raw);
            }
        }

        try
        {
            for (int i = 0; i < entry.Chunks.Count; i++)
            {
                ct.ThrowIfCancellationRequested();
                if (pending.Count >= window)
                {
                    WriteOldest();
                }

                int chunk = i;
                int length = entry.Chunks[i].RawLength;
                pending.Enqueue((Task.Run(
                    () =>
                    {
                        byte[] raw = ArrayPool<byte>.Shared.Rent(length);
                        try
                        {
                            DecodeChunk(entry, chunk, raw.AsSpan(0, length));
                            return raw;
                        }
                        catch
                        {
                            ArrayPool<byte>.Shared.Return(raw);
                            throw;
                        }
                    },
                    CancellationToken.None), length));
            }

            while (pending.Count > 0)
            {
                WriteOldest();
            }
        }
        catch
        {
            // Wait for the decodes still running so their buffers go back to the pool before the exception leaves.
            while (pending.Count > 0)
            {
                Task<byte[]> task = pending.Dequeue().Task;
                try
                {
                    ArrayPool<byte>.Shared.Return(task.GetAwaiter().GetResult());
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // The first failure is the one reported.
                }
            }

            throw;
        }
    }
}
