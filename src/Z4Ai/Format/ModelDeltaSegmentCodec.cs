using System.Buffers;
using CommunityToolkit.HighPerformance.Buffers;
using Z4Ai.Codecs;
using Z4Ai.Delta;
using Z4Ai.Integrity;
using Z4Ai.Internal;

namespace Z4Ai.Format;

/// <summary>
/// Encodes and decodes one segment of a tensor (docs/delta-format.md section 2.3): either compressed on its own
/// (kind 0: per frame-size part a <c>varint frame length</c> and a tensor-codec frame), or a Z4AD buffer delta
/// against the base tensor's bytes at the same offsets (kind 1). Pure span code, safe to run on several threads at once.
/// </summary>
internal static class ModelDeltaSegmentCodec
{
    /// <summary>
    /// Below this many stored bytes a delta segment is also coded chunk by chunk on its own and the smaller kept: a
    /// Z4AD header costs up to about 100 bytes, which a small tensor's delta may not win back.
    /// </summary>
    public const int SmallSegment = 64 << 10;

    /// <summary>
    /// Encodes a segment. With a non-empty <paramref name="reference"/> it makes a buffer delta and keeps it unless
    /// storing the chunks on their own is no larger; without one it stores the chunks on their own.
    /// </summary>
    /// <returns>The segment kind, its stored bytes (the caller disposes them) and each chunk's mode.</returns>
    public static (byte Kind, ArrayPoolBufferWriter<byte> Stored, DeltaChunkMode[] Modes) Encode(
        ReadOnlySpan<byte> target, ReadOnlySpan<byte> reference, bool useReference, DType dtype, CompressionEffort effort, int chunkSize, int frameSize, int rowLength = 0)
    {
        int chunks = (int)ModelDeltaFormat.PartCount(target.Length, chunkSize);
        var frames = new ArrayPoolBufferWriter<byte>(Math.Max(256, target.Length / 2));
        try
        {
            if (!useReference || reference.IsEmpty)
            {
                EncodeFrames(target, dtype, effort, frameSize, frames, rowLength);
                return (ModelDeltaFormat.SegmentFrames, frames, Filled(chunks, DeltaChunkMode.Scratch));
            }

            var delta = new ArrayPoolBufferWriter<byte>(Math.Max(256, target.Length / 4));
            try
            {
                BufferDelta.Encode(target, reference, dtype, effort, chunkSize, delta);
                DeltaHeader header = DeltaHeader.Read(delta.WrittenSpan);
                var reader = new DeltaChunkReader(delta.WrittenSpan, header);
                var modes = new DeltaChunkMode[chunks];
                bool allScratch = true;
                while (reader.TryReadNext(out DeltaChunk chunk))
                {
                    modes[chunk.Index] = chunk.Mode;
                    allScratch &= chunk.Mode == DeltaChunkMode.Scratch;
                }

                if (allScratch)
                {
                    // Nothing paid off against the base: store the segment on its own, lifting the chunks' frames out
                    // of the delta when they have the frame size.
                    if (chunkSize == frameSize)
                    {
                        reader = new DeltaChunkReader(delta.WrittenSpan, header);
                        while (reader.TryReadNext(out DeltaChunk chunk))
                        {
                            VarInt.Write(frames, (ulong)chunk.Frame.Length);
                            frames.Write(chunk.Frame);
                        }
                    }
                    else
                    {
                        EncodeFrames(target, dtype, effort, frameSize, frames, rowLength);
                    }

                    delta.Dispose();
                    return (ModelDeltaFormat.SegmentFrames, frames, modes);
                }

                if (delta.WrittenCount < SmallSegment)
                {
                    EncodeFrames(target, dtype, effort, frameSize, frames, rowLength);
                    if (frames.WrittenCount <= delta.WrittenCount)
                    {
                        delta.Dispose();
                        return (ModelDeltaFormat.SegmentFrames, frames, Filled(chunks, DeltaChunkMode.Scratch));
                    }
                }

                frames.Dispose();
                return (ModelDeltaFormat.SegmentDelta, delta, modes);
            }
            catch
            {
                delta.Dispose();
                throw;
            }
        }
        catch
        {
            frames.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Decodes segment <paramref name="index"/> of <paramref name="entry"/> from its checked stored bytes into exactly
    /// <paramref name="destination"/>.
    /// </summary>
    /// <param name="entry">The tensor.</param>
    /// <param name="index">The segment's position in the tensor.</param>
    /// <param name="stored">The segment's stored bytes (checksum already verified).</param>
    /// <param name="reference">
    /// For a delta segment: the base tensor's bytes <c>[index * segment size, min((index + 1) * segment size, base
    /// length))</c>; ignored otherwise.
    /// </param>
    /// <param name="destination">Receives the segment's bytes.</param>
    /// <param name="verifyPart">
    /// Whether a delta segment that is only part of the tensor checks its own SHA-256; false when the caller hashes
    /// the whole tensor anyway. A segment that is the whole tensor is always checked (that is the tensor's check).
    /// </param>
    /// <param name="frameSize">The file's frame size (raw bytes per frame of a frames segment).</param>
    /// <param name="chunkSize">The file's chunk size (of delta segments).</param>
    /// <param name="filePath">The delta file, for messages.</param>
    /// <returns>True when the bytes were verified against the whole tensor's SHA-256 (a delta segment that is the whole tensor).</returns>
    /// <exception cref="Z4AiFormatException">The stored bytes are malformed or disagree with the index.</exception>
    /// <exception cref="Z4AiIntegrityException">A delta segment rebuilt bytes that fail their SHA-256.</exception>
    public static bool Decode(
        ModelDeltaEntry entry,
        int index,
        ReadOnlySpan<byte> stored,
        ReadOnlySpan<byte> reference,
        Span<byte> destination,
        bool verifyPart,
        int frameSize,
        int chunkSize,
        string? filePath)
    {
        ModelDeltaSegment segment = entry.Segments[index];
        try
        {
            if (segment.Kind == ModelDeltaFormat.SegmentFrames)
            {
                DecodeFrames(stored, destination, frameSize);
                return false;
            }

            return DecodeDelta(entry, stored, reference, destination, verifyPart, chunkSize);
        }
        catch (Z4AiFormatException ex) when (ex.TensorName is null)
        {
            throw new Z4AiFormatException(ex.Kind, $"segment {index}: {ex.Detail}", filePath, entry.Name, segment.Offset + (ex.Offset ?? 0), ex);
        }
        catch (Z4AiIntegrityException ex) when (ex.Subject == DeltaTargetSubject)
        {
            throw new Z4AiIntegrityException($"{entry.Name} (segment {index})", ex.ExpectedDigest, ex.ActualDigest, filePath);
        }
    }

    /// <summary>Compresses <paramref name="target"/> frame by frame on its own: per frame a varint length and a codec frame.</summary>
    public static void EncodeFrames(ReadOnlySpan<byte> target, DType dtype, CompressionEffort effort, int frameSize, IBufferWriter<byte> output, int rowLength = 0)
    {
        using var frame = new ArrayPoolBufferWriter<byte>(TensorCodec.GetMaxEncodedLength(Math.Min(frameSize, Math.Max(1, target.Length))));
        for (int offset = 0; offset < target.Length; offset += frameSize)
        {
            frame.Clear();
            TensorCodec.Encode(target.Slice(offset, Math.Min(frameSize, target.Length - offset)), dtype, effort, frame, rowLength);
            VarInt.Write(output, (ulong)frame.WrittenCount);
            output.Write(frame.WrittenSpan);
        }
    }

    // The subject BufferDelta gives its integrity failures; rewritten to name the tensor and segment.
    private const string DeltaTargetSubject = "delta target";

    private static void DecodeFrames(ReadOnlySpan<byte> stored, Span<byte> destination, int frameSize)
    {
        var reader = new SpanReader(stored, Z4AiErrorKind.CorruptFrame);
        for (int offset = 0; offset < destination.Length; offset += frameSize)
        {
            int length = Math.Min(frameSize, destination.Length - offset);
            int frameLength = reader.ReadVarInt32(reader.Remaining);
            TensorCodec.Decode(reader.ReadBytes(frameLength), destination.Slice(offset, length));
        }

        if (reader.Remaining != 0)
        {
            ThrowHelper.CorruptFrame($"{reader.Remaining} unexpected bytes after the last chunk frame", reader.Position);
        }
    }

    private static bool DecodeDelta(
        ModelDeltaEntry entry, ReadOnlySpan<byte> stored, ReadOnlySpan<byte> reference, Span<byte> destination, bool verifyPart, int chunkSize)
    {
        ModelTensor @base = entry.Base!;
        DeltaHeader header = DeltaHeader.Read(stored);
        if (header.DType != entry.Tensor.DType || header.ChunkSize != chunkSize || header.TargetLength != destination.Length
            || header.ReferenceLength != reference.Length)
        {
            ThrowHelper.CorruptFrame(
                $"the delta frame is for {header.DType.GetName()} in chunks of {header.ChunkSize}, {header.ReferenceLength} -> {header.TargetLength} bytes, "
                + $"but the index expects {entry.Tensor.DType.GetName()} in chunks of {chunkSize}, {reference.Length} -> {destination.Length} bytes");
        }

        if (reference.Length == @base.Length && header.ReferenceDigest != @base.Digest)
        {
            ThrowHelper.CorruptFrame($"the delta frame's reference SHA-256 {header.ReferenceDigest} is not base tensor '{@base.Name}''s {@base.Digest}");
        }

        bool wholeTarget = destination.Length == entry.RawLength;
        if (wholeTarget && header.TargetDigest != entry.Digest)
        {
            ThrowHelper.CorruptFrame($"the delta frame's target SHA-256 {header.TargetDigest} is not the tensor's {entry.Digest}");
        }

        // The base tensor was identified before decoding began (its SHA-256 and the base model's identity against
        // the recorded ones), so its bytes are not hashed again here. The rebuilt bytes are always checked against
        // the target's SHA-256 (the segment's, or the whole tensor's by the caller), so a base that changed since,
        // or a forged frame, cannot yield wrong bytes; it only fails later with an integrity error.
        header = BufferDelta.Validate(stored, reference, header.ReferenceDigest);
        BufferDelta.DecodeValidated(stored, header, reference, destination, verify: wholeTarget || verifyPart);
        return wholeTarget;
    }

    private static DeltaChunkMode[] Filled(int count, DeltaChunkMode mode)
    {
        var modes = new DeltaChunkMode[count];
        Array.Fill(modes, mode);
        return modes;
    }
}
