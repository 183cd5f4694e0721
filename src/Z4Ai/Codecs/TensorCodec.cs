using System.Buffers;
using CommunityToolkit.HighPerformance.Buffers;
using Z4Ai.Entropy;
using Z4Ai.Internal;
using Z4Ai.Planes;

namespace Z4Ai.Codecs;

/// <summary>
/// Encodes one chunk of tensor bytes into a self-describing frame and back. The encoder tries each recipe that
/// can pay for the dtype and keeps the smallest, so a frame is never larger than the raw bytes plus
/// <see cref="MaxHeaderLength"/>.
/// </summary>
/// <remarks>
/// Frame layout: <c>u8 codec id</c>, <c>varint raw length</c>, then the recipe's payload (see docs/format.md).
/// </remarks>
internal static class TensorCodec
{
    /// <summary>The largest frame header: codec id plus a 10-byte varint.</summary>
    public const int MaxHeaderLength = 1 + VarInt.MaxLength;

    private const byte PlaneStored = 0;
    private const byte PlaneZstd = 1;

    /// <summary>The largest frame <see cref="Encode"/> can produce for <paramref name="rawLength"/> bytes.</summary>
    public static int GetMaxEncodedLength(int rawLength) => rawLength + MaxHeaderLength;

    /// <summary>Encodes <paramref name="raw"/> and appends the frame to <paramref name="output"/>.</summary>
    /// <returns>The codec chosen.</returns>
    public static CodecId Encode(ReadOnlySpan<byte> raw, DType dtype, CompressionEffort effort, IBufferWriter<byte> output)
    {
        int level = ZstdLevel(effort);
        using var best = new ArrayPoolBufferWriter<byte>(Math.Max(256, raw.Length + 64));
        CodecId bestId = CodecId.Stored;
        best.Write(raw);

        if (raw.Length >= 16)
        {
            using var candidate = new ArrayPoolBufferWriter<byte>(ZstdBackend.GetMaxCompressedLength(raw.Length));
            ZstdBackend.Compress(raw, candidate, level);
            Keep(candidate, CodecId.Zstd, best, ref bestId);

            int elementSize = dtype.ElementSize();
            if (elementSize > 1 && raw.Length >= elementSize * 8)
            {
                candidate.Clear();
                EncodePlanes(raw, elementSize, level, candidate);
                Keep(candidate, CodecId.PlanesZstd, best, ref bestId);
            }
        }

        Span<byte> header = output.GetSpan(MaxHeaderLength);
        header[0] = (byte)bestId;
        int headerLength = 1 + VarInt.Write(header[1..], (ulong)raw.Length);
        output.Advance(headerLength);
        output.Write(best.WrittenSpan);
        return bestId;
    }

    /// <summary>Reads the codec id and raw length of a frame without decoding it.</summary>
    public static (CodecId Codec, int RawLength, int HeaderLength) ReadHeader(ReadOnlySpan<byte> frame)
    {
        var reader = new SpanReader(frame);
        byte id = reader.ReadByte();
        if (!Enum.IsDefined((CodecId)id))
        {
            ThrowHelper.CorruptFrame($"unknown codec id {id}", 0);
        }

        int rawLength = reader.ReadVarInt32();
        return ((CodecId)id, rawLength, reader.Position);
    }

    /// <summary>
    /// Decodes a frame into exactly <paramref name="destination"/>; the frame's declared length must equal it.
    /// </summary>
    public static void Decode(ReadOnlySpan<byte> frame, Span<byte> destination)
    {
        (CodecId codec, int rawLength, int headerLength) = ReadHeader(frame);
        if (rawLength != destination.Length)
        {
            ThrowHelper.CorruptFrame($"frame declares {rawLength} raw bytes, expected {destination.Length}");
        }

        ReadOnlySpan<byte> payload = frame[headerLength..];
        switch (codec)
        {
            case CodecId.Stored:
                if (payload.Length != rawLength)
                {
                    ThrowHelper.CorruptFrame($"stored frame holds {payload.Length} bytes, expected {rawLength}");
                }

                payload.CopyTo(destination);
                break;
            case CodecId.Zstd:
                ZstdBackend.Decompress(payload, destination);
                break;
            case CodecId.PlanesZstd:
                DecodePlanes(payload, destination);
                break;
            default:
                ThrowHelper.CorruptFrame($"unknown codec id {(byte)codec}");
                break;
        }
    }

    private static int ZstdLevel(CompressionEffort effort) => effort switch
    {
        CompressionEffort.Fast => 1,
        CompressionEffort.Max => 19,
        _ => 3,
    };

    private static void Keep(ArrayPoolBufferWriter<byte> candidate, CodecId id, ArrayPoolBufferWriter<byte> best, ref CodecId bestId)
    {
        if (candidate.WrittenCount < best.WrittenCount)
        {
            best.Clear();
            best.Write(candidate.WrittenSpan);
            bestId = id;
        }
    }

    // Payload: u8 element size; per plane: u8 mode, varint length, bytes; then the tail bytes stored raw.
    private static void EncodePlanes(ReadOnlySpan<byte> raw, int elementSize, int level, IBufferWriter<byte> output)
    {
        int count = raw.Length / elementSize;
        using SpanOwner<byte> planes = SpanOwner<byte>.Allocate(raw.Length);
        BytePlanes.Split(raw, planes.Span, elementSize);
        output.GetSpan(1)[0] = (byte)elementSize;
        output.Advance(1);

        byte[] scratch = ArrayPool<byte>.Shared.Rent(ZstdBackend.GetMaxCompressedLength(count));
        try
        {
            for (int k = 0; k < elementSize; k++)
            {
                ReadOnlySpan<byte> plane = planes.Span.Slice(k * count, count);
                int compressed = ZstdBackend.Compress(plane, scratch, level);
                bool useZstd = compressed < plane.Length;
                ReadOnlySpan<byte> body = useZstd ? scratch.AsSpan(0, compressed) : plane;
                output.GetSpan(1)[0] = useZstd ? PlaneZstd : PlaneStored;
                output.Advance(1);
                VarInt.Write(output, (ulong)body.Length);
                output.Write(body);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }

        output.Write(planes.Span[(count * elementSize)..]);
    }

    private static void DecodePlanes(ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        var reader = new SpanReader(payload);
        int elementSize = reader.ReadByte();
        if (elementSize is not (2 or 4 or 8))
        {
            ThrowHelper.CorruptFrame($"plane frame has element size {elementSize}, expected 2, 4 or 8", 0);
        }

        int count = destination.Length / elementSize;
        using SpanOwner<byte> planes = SpanOwner<byte>.Allocate(destination.Length);
        for (int k = 0; k < elementSize; k++)
        {
            byte mode = reader.ReadByte();
            int length = reader.ReadVarInt32(reader.Remaining);
            ReadOnlySpan<byte> body = reader.ReadBytes(length);
            Span<byte> plane = planes.Span.Slice(k * count, count);
            switch (mode)
            {
                case PlaneStored when length == count:
                    body.CopyTo(plane);
                    break;
                case PlaneZstd:
                    ZstdBackend.Decompress(body, plane);
                    break;
                default:
                    ThrowHelper.CorruptFrame($"plane {k} has mode {mode} and length {length}, expected a stored plane of {count} bytes or zstd");
                    break;
            }
        }

        int tail = destination.Length - (count * elementSize);
        if (reader.Remaining != tail)
        {
            ThrowHelper.CorruptFrame($"plane frame ends with {reader.Remaining} tail bytes, expected {tail}");
        }

        reader.ReadBytes(tail).CopyTo(planes.Span[(count * elementSize)..]);
        BytePlanes.Merge(planes.Span, destination, elementSize);
    }
}
