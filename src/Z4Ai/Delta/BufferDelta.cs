using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using CommunityToolkit.HighPerformance.Buffers;
using Z4Ai.Codecs;
using Z4Ai.Integrity;
using Z4Ai.Internal;

namespace Z4Ai.Delta;

/// <summary>
/// Lossless delta of one buffer against a reference buffer: the machinery behind <see cref="DeltaCodec"/>, and the
/// building block for model-level deltas.
/// </summary>
/// <remarks>
/// <para>
/// A delta frame is a <see cref="DeltaHeader"/> followed by one entry per chunk of the target (see
/// <see cref="DeltaChunkReader"/>). Chunk <c>i</c> covers target bytes <c>[i * chunkSize, min((i + 1) * chunkSize,
/// targetLength))</c> and is compared with the reference bytes at the same offsets. The encoder keeps, per chunk,
/// the smallest of: Copy (the chunk equals the reference there; nothing stored), Xor, Subtract, and Scratch (the
/// chunk alone), each coded by <see cref="TensorCodec"/> (Xor and Subtract at Default without context-mixing leaves,
/// <see cref="EffortProfile.ForFastDecode"/>; Scratch as the codec codes the chunk alone), and, when at most half the elements changed, SparseBlock
/// (<see cref="SparseBlockDelta"/>); the range-coded Sparse mode (<see cref="SparseDelta"/>), which decodes several
/// times slower, replaces that choice only as <see cref="KeepSlowSparse"/> allows. Below <see cref="CompressionEffort.Max"/>
/// only the one of Xor and Subtract that <see cref="DeltaEstimator"/> favours is coded; Scratch is always coded, so
/// a delta is never larger than the chunks compressed alone plus <see cref="MaxChunkOverhead"/> each. A chunk that runs past the reference's
/// end is transformed over the overlapping bytes only; its remaining bytes go into the transformed buffer unchanged.
/// </para>
/// <para>
/// Decoding validates every chunk entry before writing a byte, verifies the reference's length and SHA-256
/// (<see cref="Z4AiErrorKind.ReferenceMismatch"/>; on several threads the reference is hashed while the chunks decode,
/// and a mismatch is reported before any other error and leaves the destination cleared), and checks the result's
/// SHA-256 (<see cref="Z4AiIntegrityException"/>), so a wrong reference or a damaged delta never yields wrong bytes.
/// Chunks decode on several threads with the result's hash overlapped (see <see cref="DecodeValidated"/>); working
/// memory beyond the two buffers is a chunk table and one chunk's models per thread.
/// </para>
/// </remarks>
internal static class BufferDelta
{
    /// <summary>The most bytes a chunk entry adds beyond its codec frame: the mode byte and the frame-length varint.</summary>
    public const int MaxChunkOverhead = 1 + 5;

    /// <summary>Sparse is tried only when at most one element in this many changed.</summary>
    internal const int SparseMaxDensity = 2;

    /// <summary>
    /// Below <see cref="CompressionEffort.Max"/>, a sparse payload at most 1/this of the chunk skips coding the Xor and
    /// Subtract candidates: at that density they do not come close.
    /// </summary>
    internal const int SparseSkipRatio = 64;

    /// <summary>
    /// At <see cref="CompressionEffort.Default"/> the range-coded Sparse mode is kept only when every fast-decoding
    /// candidate (SparseBlock, Xor, Subtract, Scratch) is more than this many percent larger.
    /// </summary>
    internal const int SlowSparseMarginPercent = 2;

    /// <summary>
    /// Encodes <paramref name="current"/> as a delta against <paramref name="reference"/> and appends the frame to
    /// <paramref name="output"/>.
    /// </summary>
    public static void Encode(
        ReadOnlySpan<byte> current,
        ReadOnlySpan<byte> reference,
        DType dtype,
        CompressionEffort effort,
        int chunkSize,
        IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)dtype, (uint)DTypeInfo.Count, nameof(dtype));
        if (chunkSize is < DeltaOptions.MinChunkSize or > DeltaOptions.MaxChunkSize || chunkSize % 8 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(chunkSize), chunkSize, "chunk size must be a multiple of 8 within the DeltaOptions limits");
        }

        var header = new DeltaHeader(
            dtype, chunkSize, reference.Length, Sha256Digest.Compute(reference), current.Length, Sha256Digest.Compute(current));
        header.Write(output);
        if (current.IsEmpty)
        {
            return;
        }

        bool canSubtract = DeltaLanes.TryGetSubtractLanes(dtype, out int laneSize, out bool ordered);
        int planeSize = Math.Max(1, dtype.ElementSize());
        int bufferSize = Math.Min(chunkSize, current.Length);
        byte[] transformed = ArrayPool<byte>.Shared.Rent(bufferSize);
        using var best = new ArrayPoolBufferWriter<byte>(TensorCodec.GetMaxEncodedLength(bufferSize));
        using var candidate = new ArrayPoolBufferWriter<byte>(TensorCodec.GetMaxEncodedLength(bufferSize));
        using var slow = new ArrayPoolBufferWriter<byte>(TensorCodec.GetMaxEncodedLength(bufferSize));
        try
        {
            for (int offset = 0; offset < current.Length; offset += chunkSize)
            {
                int length = Math.Min(chunkSize, current.Length - offset);
                int overlap = Math.Clamp(reference.Length - offset, 0, length);
                ReadOnlySpan<byte> chunk = current.Slice(offset, length);
                if (overlap == length && chunk.SequenceEqual(reference.Slice(offset, length)))
                {
                    WriteEntry(output, DeltaChunkMode.Copy, default);
                    continue;
                }

                best.Clear();
                TensorCodec.Encode(chunk, dtype, effort, best);
                DeltaChunkMode mode = DeltaChunkMode.Scratch;
                int sparseLength = -1;
                bool sparseWon = false;
                if (canSubtract && overlap == length && SparseDelta.Supports(laneSize, length))
                {
                    // Cheap to try (one scan plus work per change), and far smaller than any whole-chunk transform
                    // when few elements changed. More than half changed is left to the plane-split codec.
                    ReadOnlySpan<byte> basis = reference.Slice(offset, length);
                    int changes = SparseDelta.CountChanges(chunk, basis, laneSize);
                    if (changes <= length / laneSize / SparseMaxDensity)
                    {
                        candidate.Clear();
                        Span<byte> room = candidate.GetSpan(best.WrittenCount)[..best.WrittenCount];
                        int written = SparseBlockDelta.Encode(chunk, basis, laneSize, ordered, changes, room);
                        if (written >= 0 && written < best.WrittenCount)
                        {
                            best.Clear();
                            best.Write(room[..written]);
                            mode = DeltaChunkMode.SparseBlock;
                        }

                        if (effort != CompressionEffort.Fast)
                        {
                            // The range-coded Sparse mode is smaller by a few percent but decodes several times
                            // slower; it is coded aside and kept only if it clears the margin at the end.
                            slow.Clear();
                            Span<byte> slowRoom = slow.GetSpan(best.WrittenCount)[..best.WrittenCount];
                            sparseLength = SparseDelta.Encode(chunk, basis, laneSize, ordered, changes, slowRoom);
                            if (sparseLength >= 0)
                            {
                                slow.Advance(sparseLength);
                            }
                        }

                        int smallest = sparseLength >= 0 ? Math.Min(sparseLength, best.WrittenCount) : best.WrittenCount;
                        sparseWon = smallest <= length / SparseSkipRatio;
                    }
                }

                if (overlap > 0 && !(sparseWon && effort != CompressionEffort.Max))
                {
                    Span<byte> buffer = transformed.AsSpan(0, length);
                    ReadOnlySpan<byte> basis = reference.Slice(offset, overlap);
                    if (!canSubtract)
                    {
                        Forward(DeltaChunkMode.Xor, chunk, basis, buffer, laneSize, ordered);
                        Try(DeltaChunkMode.Xor, buffer, dtype, effort, candidate, best, ref mode);
                    }
                    else if (effort == CompressionEffort.Max)
                    {
                        Forward(DeltaChunkMode.Xor, chunk, basis, buffer, laneSize, ordered);
                        Try(DeltaChunkMode.Xor, buffer, dtype, effort, candidate, best, ref mode);
                        Forward(DeltaChunkMode.Subtract, chunk, basis, buffer, laneSize, ordered);
                        Try(DeltaChunkMode.Subtract, buffer, dtype, effort, candidate, best, ref mode);
                    }
                    else
                    {
                        // Coding a candidate costs far more than transforming it, so below Max effort only the one
                        // the entropy estimate favours is coded.
                        Forward(DeltaChunkMode.Xor, chunk, basis, buffer, laneSize, ordered);
                        long xorBits = DeltaEstimator.EstimateBits(buffer, planeSize);
                        Forward(DeltaChunkMode.Subtract, chunk, basis, buffer, laneSize, ordered);
                        long subtractBits = DeltaEstimator.EstimateBits(buffer, planeSize);
                        DeltaChunkMode pick = DeltaChunkMode.Subtract;
                        if (xorBits < subtractBits)
                        {
                            pick = DeltaChunkMode.Xor;
                            Forward(DeltaChunkMode.Xor, chunk, basis, buffer, laneSize, ordered);
                        }

                        Try(pick, buffer, dtype, effort, candidate, best, ref mode);
                    }
                }

                if (sparseLength >= 0 && KeepSlowSparse(sparseLength, best.WrittenCount, effort))
                {
                    best.Clear();
                    best.Write(slow.WrittenSpan);
                    mode = DeltaChunkMode.Sparse;
                }

                WriteEntry(output, mode, best.WrittenSpan);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(transformed);
        }
    }

    /// <summary>
    /// Whether the range-coded <see cref="DeltaChunkMode.Sparse"/> payload of <paramref name="sparseLength"/> bytes
    /// replaces the best fast-decoding candidate of <paramref name="fastLength"/> bytes: at
    /// <see cref="CompressionEffort.Max"/> when it is smaller; at Default only when the fast one is more than
    /// <see cref="SlowSparseMarginPercent"/>% larger; never at Fast.
    /// </summary>
    internal static bool KeepSlowSparse(long sparseLength, long fastLength, CompressionEffort effort) => effort switch
    {
        CompressionEffort.Max => sparseLength < fastLength,
        CompressionEffort.Fast => false,
        _ => fastLength * 100 > sparseLength * (100 + SlowSparseMarginPercent),
    };

    /// <summary>Encodes into a new array.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> current, ReadOnlySpan<byte> reference, DType dtype, CompressionEffort effort, int chunkSize)
    {
        using var output = new ArrayPoolBufferWriter<byte>(DeltaHeader.MaxLength + 256);
        Encode(current, reference, dtype, effort, chunkSize, output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Reads the header, checks that <paramref name="reference"/> is the one the delta was made against, and validates
    /// every chunk entry, without decoding any frame.
    /// </summary>
    /// <param name="delta">The delta frame.</param>
    /// <param name="reference">The reference buffer.</param>
    /// <param name="knownReferenceDigest">
    /// The reference's SHA-256 if the caller already verified it (a model-level reader that checked the reference
    /// tensor); null to hash it here.
    /// </param>
    public static DeltaHeader Validate(ReadOnlySpan<byte> delta, ReadOnlySpan<byte> reference, Sha256Digest? knownReferenceDigest = null)
    {
        DeltaHeader header = DeltaHeader.Read(delta);
        Sha256Digest actual = knownReferenceDigest ?? Sha256Digest.Compute(reference);
        if (header.ReferenceLength != reference.Length || actual != header.ReferenceDigest)
        {
            ThrowReferenceMismatch(header, reference.Length, actual);
        }

        ValidateChunks(delta, header);
        return header;
    }

    /// <summary>
    /// Validates, decodes into exactly <paramref name="destination"/> and verifies, on <paramref name="parallelism"/>
    /// threads. When the reference's digest is not known and several threads may be used, the reference is hashed on
    /// a thread of its own while the chunks decode, and checked before anything else is reported: a wrong reference
    /// raises <see cref="Z4AiErrorKind.ReferenceMismatch"/> (never a corrupt-frame or integrity error that its bytes
    /// caused) and leaves <paramref name="destination"/> cleared.
    /// </summary>
    public static unsafe void DecodeInto(
        ReadOnlySpan<byte> delta, DeltaHeader header, ReadOnlySpan<byte> reference, Span<byte> destination, Sha256Digest? knownReferenceDigest, int parallelism)
    {
        if (knownReferenceDigest is not null || parallelism <= 1 || header.ReferenceLength != reference.Length)
        {
            Sha256Digest actual = knownReferenceDigest ?? Sha256Digest.Compute(reference);
            if (header.ReferenceLength != reference.Length || actual != header.ReferenceDigest)
            {
                ThrowReferenceMismatch(header, reference.Length, actual);
            }

            DecodeValidated(delta, header, reference, destination, parallelism: parallelism);
            return;
        }

        fixed (byte* pointer = reference)
        {
            nint address = (nint)pointer;
            int length = reference.Length;
            Task<Sha256Digest> hashing = Task.Factory.StartNew(
                () => Sha256Digest.Compute(new ReadOnlySpan<byte>((byte*)address, length)),
                CancellationToken.None,
                TaskCreationOptions.DenyChildAttach,
                TaskScheduler.Default);
            ExceptionDispatchInfo? failure = null;
            Sha256Digest actual;
            try
            {
                DecodeValidated(delta, header, reference, destination, parallelism: parallelism);
            }
            catch (Z4AiException ex)
            {
                failure = ExceptionDispatchInfo.Capture(ex);
            }
            finally
            {
                // The hashing thread reads through the pinned pointer: it must finish before the pin is released.
                actual = hashing.GetAwaiter().GetResult();
            }

            if (actual != header.ReferenceDigest)
            {
                destination.Clear();
                ThrowReferenceMismatch(header, reference.Length, actual);
            }

            failure?.Throw();
        }
    }

    /// <summary>Reads the header and validates every chunk entry, without looking at the reference.</summary>
    public static DeltaHeader ReadStructure(ReadOnlySpan<byte> delta)
    {
        DeltaHeader header = DeltaHeader.Read(delta);
        ValidateChunks(delta, header);
        return header;
    }

    private static void ValidateChunks(ReadOnlySpan<byte> delta, DeltaHeader header)
    {
        var chunks = new DeltaChunkReader(delta, header);
        while (chunks.TryReadNext(out _))
        {
        }
    }

    private static void ThrowReferenceMismatch(DeltaHeader header, long referenceLength, Sha256Digest actual) =>
        ThrowHelper.Format(
            Z4AiErrorKind.ReferenceMismatch,
            $"the delta was made against a reference of {header.ReferenceLength} bytes with SHA-256 {header.ReferenceDigest}, "
            + $"but the reference given has {referenceLength} bytes with SHA-256 {actual}");

    /// <summary>
    /// Rebuilds the target into exactly <paramref name="destination"/> (<see cref="DeltaHeader.TargetLength"/> bytes)
    /// from a delta that <see cref="Validate"/> accepted with this reference, and verifies its SHA-256. If verification
    /// fails the destination is cleared before the exception is thrown.
    /// </summary>
    /// <remarks>
    /// With <paramref name="parallelism"/> above 1, chunks decode on that many threads (the caller's among them) while
    /// the calling thread hashes the finished ones in order (<see cref="ParallelChunks.ForOrdered"/>), so the SHA-256
    /// overlaps decoding. Every chunk writes only its own range of <paramref name="destination"/>, so the bytes are the
    /// same whatever the parallelism; working memory is the chunk table plus one chunk's models per thread.
    /// </remarks>
    /// <param name="delta">The delta frame.</param>
    /// <param name="header">Its header, as <see cref="Validate"/> returned it.</param>
    /// <param name="reference">The reference buffer.</param>
    /// <param name="destination">Receives the target.</param>
    /// <param name="verify">
    /// False only for a caller that verifies the bytes itself against a digest covering them (a model-level reader
    /// hashing a whole tensor made of several deltas), so they are not hashed twice.
    /// </param>
    /// <param name="parallelism">How many threads may decode chunks; 1 decodes on the calling thread alone.</param>
    public static unsafe void DecodeValidated(
        ReadOnlySpan<byte> delta, DeltaHeader header, ReadOnlySpan<byte> reference, Span<byte> destination, bool verify = true, int parallelism = 1)
    {
        if (destination.Length != header.TargetLength)
        {
            throw new ArgumentException($"the destination must be exactly {header.TargetLength} bytes, got {destination.Length}", nameof(destination));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(parallelism, 1);
        DeltaLanes.TryGetSubtractLanes(header.DType, out int laneSize, out bool ordered);
        var chunks = new DeltaChunkReader(delta, header);
        int count = chunks.Count;
        Entry[] entries = ArrayPool<Entry>.Shared.Rent(Math.Max(1, count));
        using var hash = verify ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        try
        {
            ref byte start = ref MemoryMarshal.GetReference(delta);
            while (chunks.TryReadNext(out DeltaChunk chunk))
            {
                int at = chunk.Frame.IsEmpty ? 0 : (int)Unsafe.ByteOffset(ref start, ref MemoryMarshal.GetReference(chunk.Frame));
                entries[chunk.Index] = new Entry(chunk.Offset, chunk.Length, chunk.Overlap, chunk.Mode, at, chunk.Frame.Length);
            }

            fixed (byte* deltaPointer = delta)
            fixed (byte* referencePointer = reference)
            fixed (byte* destinationPointer = destination)
            {
                nint deltaAddress = (nint)deltaPointer;
                nint referenceAddress = (nint)referencePointer;
                nint destinationAddress = (nint)destinationPointer;
                int deltaLength = delta.Length;
                int referenceLength = reference.Length;
                int destinationLength = destination.Length;
                ParallelChunks.ForOrdered(
                    count,
                    parallelism,
                    c => DecodeChunk(
                        entries[c],
                        c,
                        new ReadOnlySpan<byte>((byte*)deltaAddress, deltaLength),
                        new ReadOnlySpan<byte>((byte*)referenceAddress, referenceLength),
                        new Span<byte>((byte*)destinationAddress, destinationLength),
                        laneSize,
                        ordered),
                    c => hash?.AppendData(new ReadOnlySpan<byte>((byte*)destinationAddress + entries[c].Offset, entries[c].Length)));
            }
        }
        finally
        {
            ArrayPool<Entry>.Shared.Return(entries);
        }

        if (hash is null)
        {
            return;
        }

        Span<byte> digest = stackalloc byte[Sha256Digest.Size];
        hash.GetHashAndReset(digest);
        var actual = new Sha256Digest(digest);
        if (actual != header.TargetDigest)
        {
            destination.Clear();
            throw new Z4AiIntegrityException("delta target", header.TargetDigest.ToString(), actual.ToString());
        }
    }

    /// <summary>Validates and decodes into exactly <paramref name="destination"/>, on every core.</summary>
    public static void Decode(ReadOnlySpan<byte> delta, ReadOnlySpan<byte> reference, Span<byte> destination, Sha256Digest? knownReferenceDigest = null)
    {
        DeltaHeader header = ReadStructure(delta);
        DecodeInto(delta, header, reference, destination, knownReferenceDigest, Environment.ProcessorCount);
    }

    /// <summary>
    /// Validates and decodes into a new array, allocated only after the whole delta has been validated; on
    /// <paramref name="parallelism"/> threads (every core when null).
    /// </summary>
    public static byte[] Decode(ReadOnlySpan<byte> delta, ReadOnlySpan<byte> reference, Sha256Digest? knownReferenceDigest = null, int? parallelism = null)
    {
        int threads = parallelism ?? Environment.ProcessorCount;
        DeltaHeader header = threads > 1 && knownReferenceDigest is null ? ReadStructure(delta) : Validate(delta, reference, knownReferenceDigest);
        if (header.TargetLength > Array.MaxLength)
        {
            ThrowHelper.Format(Z4AiErrorKind.LimitExceeded, $"the delta target of {header.TargetLength} bytes exceeds the largest array ({Array.MaxLength} bytes)");
        }

        byte[] result = GC.AllocateUninitializedArray<byte>((int)header.TargetLength);
        DecodeInto(delta, header, reference, result, knownReferenceDigest ?? (threads > 1 ? null : header.ReferenceDigest), threads);
        return result;
    }

    /// <summary>Describes a delta from its bytes alone, validating its structure but decoding no frame.</summary>
    public static DeltaInfo Inspect(ReadOnlySpan<byte> delta)
    {
        DeltaHeader header = DeltaHeader.Read(delta);
        var chunks = new DeltaChunkReader(delta, header);
        var list = new List<DeltaChunkInfo>(chunks.Count);
        while (chunks.TryReadNext(out DeltaChunk chunk))
        {
            list.Add(new DeltaChunkInfo(chunk.Index, chunk.Offset, chunk.Length, chunk.Mode, chunk.Frame.Length));
        }

        return new DeltaInfo(
            DeltaConstants.Version,
            header.DType,
            header.ChunkSize,
            header.ReferenceLength,
            header.ReferenceDigest.ToString(),
            header.TargetLength,
            header.TargetDigest.ToString(),
            header.Length,
            delta.Length,
            list.AsReadOnly());
    }

    private static void DecodeChunk(
        in Entry entry, int index, ReadOnlySpan<byte> delta, ReadOnlySpan<byte> reference, Span<byte> destination, int laneSize, bool ordered)
    {
        Span<byte> target = destination.Slice((int)entry.Offset, entry.Length);
        ReadOnlySpan<byte> frame = delta.Slice(entry.FrameStart, entry.FrameLength);
        switch (entry.Mode)
        {
            case DeltaChunkMode.Copy:
                reference.Slice((int)entry.Offset, entry.Length).CopyTo(target);
                break;
            case DeltaChunkMode.Sparse:
                reference.Slice((int)entry.Offset, entry.Length).CopyTo(target);
                SparseDelta.Decode(frame, target, laneSize, ordered, index);
                break;
            case DeltaChunkMode.SparseBlock:
                reference.Slice((int)entry.Offset, entry.Length).CopyTo(target);
                SparseBlockDelta.Decode(frame, target, laneSize, ordered, index);
                break;
            default:
                TensorCodec.Decode(frame, target);
                if (entry.Mode != DeltaChunkMode.Scratch)
                {
                    Inverse(entry.Mode, target, reference.Slice((int)entry.Offset, entry.Overlap), laneSize, ordered);
                }

                break;
        }
    }

    /// <summary>
    /// Applies a chunk transform: the first <c>basis.Length</c> bytes against the reference, the rest copied, so a
    /// chunk that runs past the reference's end keeps its tail as it is.
    /// </summary>
    internal static void Forward(DeltaChunkMode mode, ReadOnlySpan<byte> chunk, ReadOnlySpan<byte> basis, Span<byte> destination, int laneSize, bool ordered)
    {
        int overlap = basis.Length;
        if (mode == DeltaChunkMode.Xor)
        {
            DeltaKernels.Xor(chunk[..overlap], basis, destination[..overlap]);
        }
        else
        {
            DeltaKernels.Subtract(chunk[..overlap], basis, destination[..overlap], laneSize, ordered);
        }

        chunk[overlap..].CopyTo(destination[overlap..]);
    }

    /// <summary>Undoes <see cref="Forward"/> in place.</summary>
    internal static void Inverse(DeltaChunkMode mode, Span<byte> chunk, ReadOnlySpan<byte> basis, int laneSize, bool ordered)
    {
        Span<byte> head = chunk[..basis.Length];
        if (mode == DeltaChunkMode.Xor)
        {
            DeltaKernels.Xor(head, basis, head);
        }
        else
        {
            DeltaKernels.Add(head, basis, head, laneSize, ordered);
        }
    }

    private static void Try(
        DeltaChunkMode mode,
        ReadOnlySpan<byte> transformed,
        DType dtype,
        CompressionEffort effort,
        ArrayPoolBufferWriter<byte> candidate,
        ArrayPoolBufferWriter<byte> best,
        ref DeltaChunkMode bestMode)
    {
        // Xor and Subtract chunks exist to decode fast from a reference: no context-mixing leaves at Default.
        candidate.Clear();
        TensorCodec.Encode(transformed, dtype, EffortProfile.ForFastDecode(effort), candidate);
        if (candidate.WrittenCount < best.WrittenCount)
        {
            best.Clear();
            best.Write(candidate.WrittenSpan);
            bestMode = mode;
        }
    }

    private static void WriteEntry(IBufferWriter<byte> output, DeltaChunkMode mode, ReadOnlySpan<byte> frame)
    {
        Span<byte> span = output.GetSpan(MaxChunkOverhead);
        span[0] = (byte)mode;
        int n = 1;
        if (mode != DeltaChunkMode.Copy)
        {
            n += VarInt.Write(span[1..], (ulong)frame.Length);
        }

        output.Advance(n);
        output.Write(frame);
    }

    /// <summary>A validated chunk entry: where it goes in the target and where its frame lies in the delta.</summary>
    private readonly record struct Entry(long Offset, int Length, int Overlap, DeltaChunkMode Mode, int FrameStart, int FrameLength);
}
