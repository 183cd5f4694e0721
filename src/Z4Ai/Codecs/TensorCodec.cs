using System.Buffers;
using CommunityToolkit.HighPerformance.Buffers;
using Z4Ai.Entropy;
using Z4Ai.Internal;
using Z4Ai.Planes;

namespace Z4Ai.Codecs;

/// <summary>
/// Encodes one chunk of tensor bytes into a self-describing frame and back. The encoder builds a recipe tree
/// (<see cref="RecipeEncoder"/>: transforms and entropy coders chosen per stream by cheap analysis), so a frame is
/// never larger than the raw bytes plus <see cref="MaxHeaderLength"/>, and the same input and effort always give
/// the same bytes.
/// </summary>
/// <remarks>
/// Frame layout: <c>u8 codec id</c>, <c>varint raw length</c>, then the codec's payload (see docs/format.md). A tree
/// whose root is a single stored or zstd leaf is written with the older ids 0 and 1 (one byte shorter); ids 1 and 2
/// written by earlier versions still decode.
/// </remarks>
internal static class TensorCodec
{
    /// <summary>The largest frame header: codec id plus a 10-byte varint.</summary>
    public const int MaxHeaderLength = 1 + VarInt.MaxLength;

    /// <summary>Chunks shorter than this are always stored.</summary>
    public const int MinCodedLength = 16;

    private const byte PlaneStored = 0;
    private const byte PlaneZstd = 1;

    /// <summary>The largest frame <see cref="Encode(ReadOnlySpan{byte}, DType, CompressionEffort, IBufferWriter{byte}, int)"/> can produce for <paramref name="rawLength"/> bytes.</summary>
    public static int GetMaxEncodedLength(int rawLength) => rawLength + MaxHeaderLength;

    /// <summary>Encodes <paramref name="raw"/> and appends the frame to <paramref name="output"/>.</summary>
    /// <param name="raw">The chunk's bytes.</param>
    /// <param name="dtype">The element type (it steers the transforms; decoding does not need it).</param>
    /// <param name="effort">How hard to work.</param>
    /// <param name="output">Receives the frame.</param>
    /// <param name="rowLength">Elements per row of the tensor (its last dimension), or 0 when unknown: per-row
    /// palettes and the context model's "row above" use it.</param>
    /// <returns>The codec id of the frame.</returns>
    public static CodecId Encode(ReadOnlySpan<byte> raw, DType dtype, CompressionEffort effort, IBufferWriter<byte> output, int rowLength = 0) =>
        Encode(raw, dtype, EffortProfile.For(effort), output, rowLength);

    /// <summary>Encodes <paramref name="raw"/> with the coders <paramref name="profile"/> allows (see <see cref="EffortProfile.ForFastDecode"/>).</summary>
    public static CodecId Encode(ReadOnlySpan<byte> raw, DType dtype, EffortProfile profile, IBufferWriter<byte> output, int rowLength = 0)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfNegative(rowLength);
        if (raw.Length < MinCodedLength)
        {
            return WriteFrame(CodecId.Stored, raw.Length, raw, output);
        }

        using var tree = new ArrayPoolBufferWriter<byte>(raw.Length + 64);
        new RecipeEncoder(profile).EncodeTyped(raw, dtype, rowLength, 0, tree);
        ReadOnlySpan<byte> node = tree.WrittenSpan;
        return (RecipeKind)node[0] switch
        {
            RecipeKind.Stored => WriteFrame(CodecId.Stored, raw.Length, node[1..], output),
            RecipeKind.Zstd => WriteFrame(CodecId.Zstd, raw.Length, node[1..], output),
            _ when node.Length >= raw.Length => WriteFrame(CodecId.Stored, raw.Length, raw, output),
            _ => WriteFrame(CodecId.Recipe, raw.Length, node, output),
        };
    }

    private static CodecId WriteFrame(CodecId id, int rawLength, ReadOnlySpan<byte> payload, IBufferWriter<byte> output)
    {
        Span<byte> header = output.GetSpan(MaxHeaderLength);
        header[0] = (byte)id;
        int headerLength = 1 + VarInt.Write(header[1..], (ulong)rawLength);
        output.Advance(headerLength);
        output.Write(payload);
        return id;
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
            case CodecId.Recipe:
                RecipeDecoder.Decode(payload, destination);
                break;
            default:
                ThrowHelper.CorruptFrame($"unknown codec id {(byte)codec}");
                break;
        }
    }

    // Id 2 (byte planes, each zstd or stored) is no longer written; frames from earlier versions still decode.
    // Payload: u8 element size; per plane: u8 mode, varint length, bytes; then the tail bytes stored raw.
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
