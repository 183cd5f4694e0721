using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using Z4Ai.Integrity;
using Z4Ai.Internal;

namespace Z4Ai.Registry;

/// <summary>
/// The byte layout of a registry object (docs/registry-format.md, section 4): the payload, then a tail describing it,
/// then a fixed 16-byte trailer that locates the tail. Putting the description last lets a writer stream a payload of
/// any size, and a reader (or an S3 ranged GET with a suffix range) fetch the trailer and tail in one read, then only
/// the frames it needs.
/// </summary>
internal static class ObjectFormat
{
    public const byte Version = 1;

    /// <summary>u32 tail length, u64 tail checksum, 4-byte magic.</summary>
    public const int TrailerLength = 16;

    /// <summary>The largest tail a reader accepts (a chunk table of tens of millions of chunks).</summary>
    public const int MaxTailLength = 256 << 20;

    /// <summary>The largest delta depth the format can express.</summary>
    public const int MaxDepth = 255;

    /// <summary>How many bytes from the end a reader fetches first, hoping the whole tail is in it.</summary>
    public const int TailProbeLength = 64 << 10;

    /// <summary>Fewest tail bytes per chunk record: stored length (1), codec (1), checksum (8).</summary>
    private const int MinChunkRecordLength = 10;

    public static ReadOnlySpan<byte> Magic => "Z4RO"u8;

    public static ulong Checksum(ReadOnlySpan<byte> data) => XxHash3.HashToUInt64(data);

    /// <summary>Writes the tail and trailer of a scratch object.</summary>
    public static byte[] WriteScratchTail(DType dtype, long rawLength, Sha256Digest id, int chunkSize, IReadOnlyList<ObjectChunk> chunks)
    {
        var tail = new ArrayBufferWriter<byte>(64 + (chunks.Count * 20));
        long payload = 0;
        WriteCommon(tail, ObjectKind.Scratch, dtype, rawLength, id, 0, SumStored(chunks));
        VarInt.Write(tail, (ulong)chunkSize);
        VarInt.Write(tail, (ulong)chunks.Count);
        foreach (ObjectChunk chunk in chunks)
        {
            VarInt.Write(tail, (ulong)chunk.StoredLength);
            Span<byte> span = tail.GetSpan(9);
            span[0] = chunk.Codec;
            BinaryPrimitives.WriteUInt64LittleEndian(span[1..], chunk.Checksum);
            tail.Advance(9);
            payload += chunk.StoredLength;
        }

        return Finish(tail);
    }

    /// <summary>Writes the tail and trailer of a delta object, or of a lossy one (the same fields).</summary>
    public static byte[] WriteDeltaTail(
        DType dtype, long rawLength, Sha256Digest id, int depth, Sha256Digest reference, long referenceLength, long payloadLength, ulong payloadChecksum,
        ObjectKind kind = ObjectKind.Delta)
    {
        var tail = new ArrayBufferWriter<byte>(160);
        WriteCommon(tail, kind, dtype, rawLength, id, depth, payloadLength);
        tail.Write(reference.Bytes);
        VarInt.Write(tail, (ulong)referenceLength);
        Span<byte> span = tail.GetSpan(8);
        BinaryPrimitives.WriteUInt64LittleEndian(span, payloadChecksum);
        tail.Advance(8);
        return Finish(tail);
    }

    /// <summary>
    /// Reads the trailer at the end of <paramref name="end"/> (the last bytes of an object of
    /// <paramref name="objectLength"/> bytes) and returns the length of tail plus trailer.
    /// </summary>
    public static int ReadTrailer(ReadOnlySpan<byte> end, long objectLength, string displayName)
    {
        if (objectLength < TrailerLength || end.Length < TrailerLength)
        {
            throw Invalid(displayName, $"{objectLength} bytes is too short for a registry object (at least {TrailerLength})", 0);
        }

        ReadOnlySpan<byte> trailer = end[^TrailerLength..];
        if (!trailer[12..].SequenceEqual(Magic))
        {
            throw Invalid(displayName, "the object does not end with the magic \"Z4RO\": it is not a registry object or it is truncated", objectLength - 4);
        }

        uint tailLength = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        if (tailLength > MaxTailLength || tailLength > objectLength - TrailerLength)
        {
            throw Invalid(displayName, $"the trailer declares a {tailLength}-byte tail, but the object has {objectLength - TrailerLength} bytes before it (limit {MaxTailLength})", objectLength - TrailerLength);
        }

        return (int)tailLength + TrailerLength;
    }

    /// <summary>
    /// Parses and validates a tail (the last <paramref name="tailAndTrailer"/>.Length bytes of the object, as
    /// located by <see cref="ReadTrailer"/>), checking it describes <paramref name="expectedId"/> and that its payload
    /// exactly fills the rest of the object.
    /// </summary>
    public static ObjectTable ParseTail(ReadOnlySpan<byte> tailAndTrailer, long objectLength, Sha256Digest expectedId, string displayName)
    {
        ReadOnlySpan<byte> tail = tailAndTrailer[..^TrailerLength];
        ulong checksum = BinaryPrimitives.ReadUInt64LittleEndian(tailAndTrailer[^TrailerLength..][4..]);
        long tailOffset = objectLength - tailAndTrailer.Length;
        if (Checksum(tail) != checksum)
        {
            throw Invalid(displayName, "the object's tail fails its checksum; the object is corrupt", tailOffset);
        }

        try
        {
            return Parse(tail, objectLength, tailOffset, tailAndTrailer.Length, expectedId, displayName);
        }
        catch (Z4AiFormatException ex) when (ex.FilePath is null)
        {
            throw new Z4AiFormatException(ex.Kind, $"object tail: {ex.Detail}", displayName, offset: tailOffset + (ex.Offset ?? 0), innerException: ex);
        }
    }

    private static ObjectTable Parse(ReadOnlySpan<byte> tail, long objectLength, long tailOffset, int tailAndTrailerLength, Sha256Digest expectedId, string displayName)
    {
        var reader = new SpanReader(tail, Z4AiErrorKind.InvalidContainer);
        byte version = reader.ReadByte();
        if (version != Version)
        {
            throw new Z4AiFormatException(Z4AiErrorKind.UnsupportedVersion, $"object format version {version}; this reader knows version {Version}", displayName, offset: tailOffset);
        }

        byte kind = reader.ReadByte();
        if (kind > (byte)ObjectKind.Lossy)
        {
            ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"unknown object kind {kind}", offset: reader.Position - 1);
        }

        byte dtype = reader.ReadByte();
        if (dtype >= DTypeInfo.Count)
        {
            ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"unknown dtype {dtype}", offset: reader.Position - 1);
        }

        long rawLength = ReadLength(ref reader, "raw length");
        var id = new Sha256Digest(reader.ReadBytes(Sha256Digest.Size));
        if (id != expectedId)
        {
            ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"the object describes bytes with SHA-256 {id}, but it is stored under {expectedId}", offset: reader.Position - Sha256Digest.Size);
        }

        int depth = reader.ReadByte();
        long payloadLength = ReadLength(ref reader, "payload length");
        if (payloadLength != objectLength - tailAndTrailerLength)
        {
            ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"the tail declares a {payloadLength}-byte payload, but {objectLength - tailAndTrailerLength} bytes precede the tail");
        }

        if ((ObjectKind)kind == ObjectKind.Scratch)
        {
            if (depth != 0)
            {
                ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"a scratch object has depth {depth}, expected 0");
            }

            int chunkSize = reader.ReadVarInt32();
            if (!Format.ContainerFormat.IsValidChunkSize(chunkSize))
            {
                ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"chunk size {chunkSize} is not a power of two from 4 KiB to 64 MiB");
            }

            long expectedCount = (rawLength / chunkSize) + (rawLength % chunkSize == 0 ? 0 : 1);
            int count = reader.ReadVarInt32(reader.Remaining / MinChunkRecordLength);
            if (count != expectedCount)
            {
                ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"{count} chunks of {chunkSize} bytes cannot hold {rawLength} bytes (expected {expectedCount})");
            }

            var chunks = new ObjectChunk[count];
            long offset = 0;
            for (int i = 0; i < count; i++)
            {
                int raw = (int)Math.Min(chunkSize, rawLength - ((long)i * chunkSize));
                int stored = reader.ReadVarInt32(raw + Codecs.TensorCodec.MaxHeaderLength);
                byte codec = reader.ReadByte();
                ulong frameChecksum = reader.ReadUInt64();
                if (stored == 0 || offset > payloadLength - stored)
                {
                    ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"chunk {i} ({stored} bytes) does not fit the {payloadLength}-byte payload");
                }

                chunks[i] = new ObjectChunk(offset, stored, raw, codec, frameChecksum);
                offset += stored;
            }

            if (offset != payloadLength)
            {
                ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"the chunks hold {offset} bytes, but the payload is {payloadLength}");
            }

            EnsureEnd(ref reader);
            return new ObjectTable(ObjectKind.Scratch, (DType)dtype, rawLength, id, 0, payloadLength, chunkSize, chunks, default, 0, 0)
            {
                TailLength = tailAndTrailerLength,
            };
        }

        string what = (ObjectKind)kind == ObjectKind.Lossy ? "lossy" : "delta";
        if (depth is < 1 or > MaxDepth)
        {
            ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"a {what} object has depth {depth}, expected 1 to {MaxDepth}");
        }

        var reference = new Sha256Digest(reader.ReadBytes(Sha256Digest.Size));
        long referenceLength = ReadLength(ref reader, "reference length");
        ulong payloadChecksum = reader.ReadUInt64();
        if (reference == id)
        {
            ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"a {what} object names itself as its reference");
        }

        // A delta is decoded in memory: payload, reference and result must each fit one array.
        if (payloadLength > Array.MaxLength || rawLength > Array.MaxLength || referenceLength > Array.MaxLength)
        {
            ThrowHelper.Format(Z4AiErrorKind.LimitExceeded, $"a {what} object of {rawLength} bytes against {referenceLength} with a {payloadLength}-byte payload exceeds the largest array");
        }

        EnsureEnd(ref reader);
        return new ObjectTable((ObjectKind)kind, (DType)dtype, rawLength, id, depth, payloadLength, 0, [], reference, referenceLength, payloadChecksum)
        {
            TailLength = tailAndTrailerLength,
        };
    }

    private static long ReadLength(ref SpanReader reader, string what)
    {
        int start = reader.Position;
        ulong value = reader.ReadVarUInt64();
        if (value > long.MaxValue)
        {
            ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"{what} {value} is too large", offset: start);
        }

        return (long)value;
    }

    private static void EnsureEnd(ref SpanReader reader)
    {
        if (reader.Remaining != 0)
        {
            ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"{reader.Remaining} unexpected bytes after the tail's last field", offset: reader.Position);
        }
    }

    private static long SumStored(IReadOnlyList<ObjectChunk> chunks)
    {
        long sum = 0;
        foreach (ObjectChunk chunk in chunks)
        {
            sum += chunk.StoredLength;
        }

        return sum;
    }

    private static void WriteCommon(ArrayBufferWriter<byte> tail, ObjectKind kind, DType dtype, long rawLength, Sha256Digest id, int depth, long payloadLength)
    {
        Span<byte> span = tail.GetSpan(3);
        span[0] = Version;
        span[1] = (byte)kind;
        span[2] = (byte)dtype;
        tail.Advance(3);
        VarInt.Write(tail, (ulong)rawLength);
        tail.Write(id.Bytes);
        span = tail.GetSpan(1);
        span[0] = checked((byte)depth);
        tail.Advance(1);
        VarInt.Write(tail, (ulong)payloadLength);
    }

    private static byte[] Finish(ArrayBufferWriter<byte> tail)
    {
        byte[] result = new byte[tail.WrittenCount + TrailerLength];
        tail.WrittenSpan.CopyTo(result);
        Span<byte> trailer = result.AsSpan(tail.WrittenCount);
        BinaryPrimitives.WriteUInt32LittleEndian(trailer, (uint)tail.WrittenCount);
        BinaryPrimitives.WriteUInt64LittleEndian(trailer[4..], Checksum(tail.WrittenSpan));
        Magic.CopyTo(trailer[12..]);
        return result;
    }

    private static Z4AiFormatException Invalid(string displayName, string message, long offset) =>
        new(Z4AiErrorKind.InvalidContainer, message, displayName, offset: offset);
}
