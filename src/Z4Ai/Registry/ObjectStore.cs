using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using CommunityToolkit.HighPerformance.Buffers;
using Z4Ai.Codecs;
using Z4Ai.Delta;
using Z4Ai.Integrity;

namespace Z4Ai.Registry;

/// <summary>
/// Content-addressed objects on a store: encoding a tensor from scratch or as a delta, storing it with
/// put-if-absent, and reading it back verified. An object's id is the SHA-256 of the raw bytes it decodes to, and
/// every decode ends by checking that digest, so no unverified byte leaves this class.
/// </summary>
internal sealed class ObjectStore
{
    private readonly ConcurrentDictionary<Sha256Digest, ObjectTable> _tables = new();

    public ObjectStore(StoreAccess access)
    {
        Access = access;
    }

    public StoreAccess Access { get; }

    public string Describe(Sha256Digest id) => Access.Describe(RegistryLayout.ObjectKey(id));

    /// <summary>Reads and validates an object's tail, or returns null when the object does not exist.</summary>
    /// <exception cref="Z4AiFormatException">The object exists but its tail is damaged.</exception>
    public ObjectTable? TryReadTable(Sha256Digest id, CancellationToken ct = default)
    {
        if (_tables.TryGetValue(id, out ObjectTable? cached))
        {
            return cached;
        }

        string key = RegistryLayout.ObjectKey(id);
        BlobInfo? info = Access.GetInfo(key, ct);
        if (info is null)
        {
            return null;
        }

        string display = Access.Describe(key);
        int probe = (int)Math.Min(info.Length, ObjectFormat.TailProbeLength);
        byte[] end = new byte[probe];
        Access.ReadExactly(key, info.Length - probe, end, ct);
        int tailLength = ObjectFormat.ReadTrailer(end, info.Length, display);
        if (tailLength > probe)
        {
            end = new byte[tailLength];
            Access.ReadExactly(key, info.Length - tailLength, end, ct);
        }

        ObjectTable table = ObjectFormat.ParseTail(end.AsSpan(end.Length - tailLength), info.Length, id, display);
        _tables[id] = table;
        return table;
    }

    /// <summary>Reads an object's tail; a missing object is a format error naming <paramref name="subject"/>.</summary>
    public ObjectTable ReadTable(Sha256Digest id, string subject, CancellationToken ct = default) =>
        TryReadTable(id, ct) ?? throw new Z4AiFormatException(
            Z4AiErrorKind.InvalidContainer, $"object {id} ({subject}) is missing from the store", Describe(id), subject);

    /// <summary>Forgets a cached tail (after the object was deleted).</summary>
    public void Forget(Sha256Digest id) => _tables.TryRemove(id, out _);

    /// <summary>Encodes raw bytes from scratch: chunked codec frames, compressed in parallel.</summary>
    public static EncodedObject EncodeScratch(ReadOnlySpan<byte> raw, DType dtype, Sha256Digest id, int chunkSize, CompressionEffort effort, int parallelism)
    {
        int count = (int)((raw.Length / (long)chunkSize) + (raw.Length % chunkSize == 0 ? 0 : 1));
        var frames = new ArrayPoolBufferWriter<byte>[count];
        var codecs = new byte[count];
        try
        {
            unsafe
            {
                fixed (byte* pointer = raw)
                {
                    // The span is pinned for the whole synchronous loop, so workers may read through the pointer.
                    nint address = (nint)pointer;
                    int length = raw.Length;
                    void EncodeOne(int i)
                    {
                        int start = i * chunkSize;
                        int n = Math.Min(chunkSize, length - start);
                        var chunk = new ReadOnlySpan<byte>((byte*)address + start, n);
                        var frame = new ArrayPoolBufferWriter<byte>(TensorCodec.GetMaxEncodedLength(n));
                        codecs[i] = (byte)TensorCodec.Encode(chunk, dtype, effort, frame);
                        frames[i] = frame;
                    }

                    if (count > 1 && parallelism > 1)
                    {
                        try
                        {
                            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, EncodeOne);
                        }
                        catch (AggregateException ex)
                        {
                            ExceptionDispatchInfo.Capture(ex.Flatten().InnerExceptions[0]).Throw();
                        }
                    }
                    else
                    {
                        for (int i = 0; i < count; i++)
                        {
                            EncodeOne(i);
                        }
                    }
                }
            }
        }
        catch
        {
            foreach (ArrayPoolBufferWriter<byte>? frame in frames)
            {
                frame?.Dispose();
            }

            throw;
        }

        var chunks = new ObjectChunk[count];
        long offset = 0;
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> frame = frames[i].WrittenSpan;
            int rawLength = Math.Min(chunkSize, raw.Length - (i * chunkSize));
            chunks[i] = new ObjectChunk(offset, frame.Length, rawLength, codecs[i], ObjectFormat.Checksum(frame));
            offset += frame.Length;
        }

        byte[] tail = ObjectFormat.WriteScratchTail(dtype, raw.Length, id, chunkSize, chunks);
        var table = new ObjectTable(ObjectKind.Scratch, dtype, raw.Length, id, 0, offset, chunkSize, chunks, default, 0, 0) { TailLength = tail.Length };
        return new EncodedObject(table, frames, tail);
    }

    /// <summary>Encodes raw bytes as a delta against a verified reference object.</summary>
    public static EncodedObject EncodeDelta(
        ReadOnlySpan<byte> raw, ReadOnlySpan<byte> reference, ObjectTable referenceTable, DType dtype, Sha256Digest id, int deltaChunkSize, CompressionEffort effort)
    {
        var payload = new ArrayPoolBufferWriter<byte>(Math.Max(1024, raw.Length / 4));
        try
        {
            BufferDelta.Encode(raw, reference, dtype, effort, deltaChunkSize, payload);
            ulong checksum = ObjectFormat.Checksum(payload.WrittenSpan);
            int depth = referenceTable.Depth + 1;
            byte[] tail = ObjectFormat.WriteDeltaTail(dtype, raw.Length, id, depth, referenceTable.Id, referenceTable.RawLength, payload.WrittenCount, checksum);
            var table = new ObjectTable(ObjectKind.Delta, dtype, raw.Length, id, depth, payload.WrittenCount, 0, [], referenceTable.Id, referenceTable.RawLength, checksum)
            {
                TailLength = tail.Length,
            };
            return new EncodedObject(table, [payload], tail);
        }
        catch
        {
            payload.Dispose();
            throw;
        }
    }

    /// <summary>Stores an encoded object unless one with its id exists.</summary>
    /// <returns>True if this call created it.</returns>
    public bool Put(EncodedObject encoded, CancellationToken ct)
    {
        bool created = Access.PutIfAbsent(RegistryLayout.ObjectKey(encoded.Table.Id), encoded.WriteToAsync, ct);
        if (created)
        {
            _tables[encoded.Table.Id] = encoded.Table;
        }

        return created;
    }

    /// <summary>
    /// Encodes and stores a tensor read from <paramref name="source"/> from scratch, chunk by chunk, in memory
    /// bounded by a few chunks: the path for tensors too large to hold (no delta is tried for them).
    /// </summary>
    public bool PutScratchStreaming(Stream source, long length, DType dtype, Sha256Digest id, int chunkSize, CompressionEffort effort, CancellationToken ct)
    {
        bool created = Access.PutIfAbsent(RegistryLayout.ObjectKey(id), async (output, token) =>
        {
            var chunks = new List<ObjectChunk>((int)Math.Min(1 << 20, (length / chunkSize) + 1));
            byte[] raw = ArrayPool<byte>.Shared.Rent(chunkSize);
            using var frame = new ArrayPoolBufferWriter<byte>(TensorCodec.GetMaxEncodedLength(chunkSize));
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            try
            {
                long offset = 0;
                for (long done = 0; done < length;)
                {
                    token.ThrowIfCancellationRequested();
                    int n = (int)Math.Min(chunkSize, length - done);
                    await source.ReadExactlyAsync(raw.AsMemory(0, n), token).ConfigureAwait(false);
                    hash.AppendData(raw, 0, n);
                    frame.Clear();
                    byte codec = (byte)TensorCodec.Encode(raw.AsSpan(0, n), dtype, effort, frame);
                    chunks.Add(new ObjectChunk(offset, frame.WrittenCount, n, codec, ObjectFormat.Checksum(frame.WrittenSpan)));
                    await output.WriteAsync(frame.WrittenMemory, token).ConfigureAwait(false);
                    offset += frame.WrittenCount;
                    done += n;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(raw);
            }

            // The source was hashed once before this call decided to store it; a second read that differs (the
            // file changed underneath) must not be stored under the first read's id.
            if (new Sha256Digest(hash.GetHashAndReset()) != id)
            {
                throw new Z4AiIntegrityException($"object {id}", id.ToString(), "(the source changed while it was being stored)");
            }

            await output.WriteAsync(ObjectFormat.WriteScratchTail(dtype, length, id, chunkSize, chunks), token).ConfigureAwait(false);
        },
        ct);
        return created;
    }

    /// <summary>
    /// Decodes an object, resolving its delta chain, into a new array; its SHA-256 is verified. Arrays held by
    /// <paramref name="cache"/> are shared: callers must not modify the result when they pass a cache.
    /// </summary>
    /// <exception cref="Z4AiFormatException">The object or one it depends on is missing, damaged or too large.</exception>
    /// <exception cref="Z4AiIntegrityException">Decoded bytes do not match their SHA-256.</exception>
    public byte[] ReadWhole(Sha256Digest id, string subject, DecodedCache? cache, CancellationToken ct)
    {
        if (cache is not null && cache.TryGet(id, out byte[]? hit))
        {
            return hit;
        }

        var chain = new List<ObjectTable>(4);
        ObjectTable table = ReadTable(id, subject, ct);
        chain.Add(table);
        byte[]? bytes = null;
        while (table.HasReference)
        {
            if (cache is not null && cache.TryGet(table.Reference, out byte[] cached))
            {
                bytes = cached;
                break;
            }

            ObjectTable reference = ReadTable(table.Reference, $"the reference of object {table.Id}", ct);
            if (reference.Depth != table.Depth - 1 || reference.RawLength != table.ReferenceLength)
            {
                throw new Z4AiFormatException(
                    Z4AiErrorKind.InvalidContainer,
                    $"object {table.Id} (depth {table.Depth}) names reference {reference.Id} of {table.ReferenceLength} bytes, but that object has depth {reference.Depth} and {reference.RawLength} bytes",
                    Describe(table.Id),
                    subject);
            }

            chain.Add(reference);
            table = reference;
        }

        int next = chain.Count - 1;
        if (bytes is null)
        {
            bytes = DecodeScratch(chain[next], subject, ct);
            next--;
        }

        for (; next >= 0; next--)
        {
            ct.ThrowIfCancellationRequested();
            bytes = chain[next].Kind == ObjectKind.Lossy
                ? LossyObject.Apply(this, chain[next], bytes, subject, ct)
                : ApplyDelta(chain[next], bytes, subject, ct);
        }

        cache?.Set(id, bytes);
        return bytes;
    }

    /// <summary>
    /// Writes an object's raw bytes to <paramref name="destination"/>: scratch objects chunk by chunk (any size, the
    /// SHA-256 checked at the end, after writing), deltas decoded and verified in memory first.
    /// </summary>
    public void CopyTo(Sha256Digest id, Stream destination, string subject, CancellationToken ct)
    {
        ObjectTable table = ReadTable(id, subject, ct);
        if (table.HasReference || table.RawLength <= (16 << 20))
        {
            destination.Write(ReadWhole(id, subject, cache: null, ct));
            return;
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(table.ChunkSize);
        try
        {
            for (int i = 0; i < table.Chunks.Length; i++)
            {
                ct.ThrowIfCancellationRequested();
                Span<byte> raw = buffer.AsSpan(0, table.Chunks[i].RawLength);
                DecodeChunk(table, i, raw, subject, ct);
                hash.AppendData(raw);
                destination.Write(raw);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        CheckDigest(table.Id, hash.GetHashAndReset(), subject);
    }

    /// <summary>
    /// Reads raw bytes <c>[offset, offset + destination.Length)</c>: a scratch object decodes only the chunks the
    /// range covers (each checked against its checksum; the whole-tensor SHA-256 needs the whole tensor), a delta is
    /// decoded and verified whole.
    /// </summary>
    public void ReadRange(Sha256Digest id, long offset, Span<byte> destination, string subject, DecodedCache? cache, CancellationToken ct)
    {
        ObjectTable table = ReadTable(id, subject, ct);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, table.RawLength - destination.Length);
        if (destination.IsEmpty)
        {
            return;
        }

        if (table.HasReference)
        {
            ReadWhole(id, subject, cache, ct).AsSpan((int)offset, destination.Length).CopyTo(destination);
            return;
        }

        long end = offset + destination.Length;
        int first = (int)(offset / table.ChunkSize);
        int last = (int)((end - 1) / table.ChunkSize);
        byte[]? scratch = null;
        try
        {
            for (int i = first; i <= last; i++)
            {
                long chunkStart = (long)i * table.ChunkSize;
                int rawLength = table.Chunks[i].RawLength;
                long from = Math.Max(offset, chunkStart);
                long to = Math.Min(end, chunkStart + rawLength);
                Span<byte> target = destination.Slice((int)(from - offset), (int)(to - from));
                if (from == chunkStart && to == chunkStart + rawLength)
                {
                    DecodeChunk(table, i, target, subject, ct);
                    continue;
                }

                scratch ??= ArrayPool<byte>.Shared.Rent(table.ChunkSize);
                DecodeChunk(table, i, scratch.AsSpan(0, rawLength), subject, ct);
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

    private byte[] DecodeScratch(ObjectTable table, string subject, CancellationToken ct)
    {
        if (table.RawLength > Array.MaxLength)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.LimitExceeded, $"object {table.Id} is {table.RawLength} bytes, more than one array holds; stream it", Describe(table.Id), subject);
        }

        byte[] result = GC.AllocateUninitializedArray<byte>((int)table.RawLength);
        int count = table.Chunks.Length;
        if (count > 1 && Environment.ProcessorCount > 1)
        {
            try
            {
                Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = ct }, i =>
                    DecodeChunk(table, i, result.AsSpan((int)((long)i * table.ChunkSize), table.Chunks[i].RawLength), subject, ct));
            }
            catch (AggregateException ex)
            {
                ExceptionDispatchInfo.Capture(ex.Flatten().InnerExceptions[0]).Throw();
            }
        }
        else
        {
            for (int i = 0; i < count; i++)
            {
                DecodeChunk(table, i, result.AsSpan((int)((long)i * table.ChunkSize), table.Chunks[i].RawLength), subject, ct);
            }
        }

        CheckDigest(table.Id, SHA256.HashData(result), subject);
        return result;
    }

    private void DecodeChunk(ObjectTable table, int index, Span<byte> destination, string subject, CancellationToken ct)
    {
        ObjectChunk chunk = table.Chunks[index];
        byte[] buffer = ArrayPool<byte>.Shared.Rent(chunk.StoredLength);
        try
        {
            Access.ReadExactly(RegistryLayout.ObjectKey(table.Id), chunk.Offset, buffer.AsMemory(0, chunk.StoredLength), ct);
            ReadOnlySpan<byte> frame = buffer.AsSpan(0, chunk.StoredLength);
            ulong actual = ObjectFormat.Checksum(frame);
            if (actual != chunk.Checksum || frame[0] != chunk.Codec)
            {
                string problem = actual != chunk.Checksum
                    ? $"fails its checksum (expected {chunk.Checksum:x16}, got {actual:x16})"
                    : $"starts with codec {frame[0]}, but the tail records codec {chunk.Codec}";
                throw new Z4AiFormatException(
                    Z4AiErrorKind.CorruptFrame, $"chunk {index} of object {table.Id} {problem}; the object is corrupt", Describe(table.Id), subject, chunk.Offset);
            }

            try
            {
                TensorCodec.Decode(frame, destination);
            }
            catch (Z4AiFormatException ex)
            {
                throw new Z4AiFormatException(ex.Kind, $"chunk {index} of object {table.Id}: {ex.Detail}", Describe(table.Id), subject, chunk.Offset, ex);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private byte[] ApplyDelta(ObjectTable table, byte[] reference, string subject, CancellationToken ct)
    {
        string key = RegistryLayout.ObjectKey(table.Id);
        byte[] payload = GC.AllocateUninitializedArray<byte>((int)table.PayloadLength);
        Access.ReadExactly(key, 0, payload, ct);
        if (ObjectFormat.Checksum(payload) != table.PayloadChecksum)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.CorruptFrame, $"the delta payload of object {table.Id} fails its checksum; the object is corrupt", Describe(table.Id), subject, 0);
        }

        try
        {
            DeltaHeader header = DeltaHeader.Read(payload);
            if (header.TargetDigest != table.Id || header.TargetLength != table.RawLength
                || header.ReferenceDigest != table.Reference || header.ReferenceLength != table.ReferenceLength)
            {
                throw new Z4AiFormatException(
                    Z4AiErrorKind.InvalidContainer,
                    $"the delta frame links {header.ReferenceDigest} to {header.TargetDigest}, but the object's tail says {table.Reference} to {table.Id}");
            }

            header = BufferDelta.Validate(payload, reference, knownReferenceDigest: table.Reference);
            byte[] result = GC.AllocateUninitializedArray<byte>((int)table.RawLength);
            BufferDelta.DecodeValidated(payload, header, reference, result);
            return result;
        }
        catch (Z4AiIntegrityException ex)
        {
            throw new Z4AiIntegrityException(SubjectOf(table.Id, subject), ex.ExpectedDigest, ex.ActualDigest, Describe(table.Id));
        }
        catch (Z4AiFormatException ex) when (ex.FilePath is null)
        {
            throw new Z4AiFormatException(ex.Kind, $"delta object {table.Id}: {ex.Detail}", Describe(table.Id), subject, ex.Offset, ex);
        }
    }

    public void CheckDigest(Sha256Digest expected, ReadOnlySpan<byte> actual, string subject)
    {
        if (!actual.SequenceEqual(expected.Bytes))
        {
            throw new Z4AiIntegrityException(SubjectOf(expected, subject), expected.ToString(), Convert.ToHexStringLower(actual), Describe(expected));
        }
    }

    public static string SubjectOf(Sha256Digest id, string subject) => $"{subject} (object {id})";
}
