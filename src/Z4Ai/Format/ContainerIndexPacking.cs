using CommunityToolkit.HighPerformance.Buffers;
using Z4Ai.Archival;
using Z4Ai.Entropy;
using Z4Ai.Internal;

namespace Z4Ai.Format;

/// <summary>
/// The packed index (footer flag <see cref="ContainerFormat.FlagPackedIndex"/>): <c>u8 method, varint unpacked
/// length D, payload</c>, where the payload decodes to exactly D bytes of a plain index (docs/format.md 1.3a). The
/// writer packs only when that is smaller; the reader bounds D by the index limits before allocating for it.
/// </summary>
internal static class ContainerIndexPacking
{
    /// <summary>
    /// Packs <paramref name="plain"/> with each method that may apply and returns the smallest result if it is
    /// shorter than <paramref name="sizeToBeat"/> bytes; otherwise null.
    /// </summary>
    public static byte[]? TryPack(ReadOnlySpan<byte> plain, long sizeToBeat)
    {
        byte[]? best = null;
        using (var zstd = new ArrayPoolBufferWriter<byte>(plain.Length + 64))
        {
            WritePrefix(zstd, ContainerFormat.IndexPackZstd, plain.Length);
            ZstdBackend.Compress(plain, zstd, ContainerFormat.IndexPackZstdLevel);
            if (zstd.WrittenCount < sizeToBeat && WithinRatio(plain.Length, zstd.WrittenCount))
            {
                best = zstd.WrittenSpan.ToArray();
                sizeToBeat = best.Length;
            }
        }

        if (plain.Length <= ContainerFormat.MaxContextMixingIndex)
        {
            using var cm = new ArrayPoolBufferWriter<byte>(plain.Length + 64);
            WritePrefix(cm, ContainerFormat.IndexPackContextMixing, plain.Length);
            int prefix = cm.WrittenCount;
            long limit = sizeToBeat - prefix;
            if (limit > 0 && SymbolCoder.TryEncode(plain, ArchivePreset.Auto, cm, (int)Math.Min(limit, int.MaxValue))
                && WithinRatio(plain.Length, cm.WrittenCount))
            {
                best = cm.WrittenSpan.ToArray();
            }
        }

        return best;
    }

    /// <summary>
    /// Unpacks a packed index read from file offset <paramref name="indexOffset"/>. The declared length is checked
    /// against the format's 1 GiB and <paramref name="limits"/> before anything is allocated, and the payload must
    /// decode to exactly that many bytes; every failure is a <see cref="Z4AiFormatException"/>.
    /// </summary>
    public static byte[] Unpack(ReadOnlySpan<byte> packed, long indexOffset, ReadLimits limits) =>
        Unpack(packed, indexOffset, ContainerFormat.MaxIndexLength, limits.MaxIndexBytes);

    /// <summary>
    /// Unpacks a packed index (a container's or a model delta's: the same layout) read from file offset
    /// <paramref name="indexOffset"/>. The declared length is checked against <paramref name="formatLimit"/> (the
    /// format's largest index) and <paramref name="readLimit"/> before anything is allocated, and the payload must
    /// decode to exactly that many bytes; every failure is a <see cref="Z4AiFormatException"/>.
    /// </summary>
    public static byte[] Unpack(ReadOnlySpan<byte> packed, long indexOffset, long formatLimit, long readLimit)
    {
        var reader = new SpanReader(packed, Z4AiErrorKind.InvalidContainer);
        byte method;
        ulong length;
        try
        {
            method = reader.ReadByte();
            length = reader.ReadVarUInt64();
        }
        catch (Z4AiFormatException ex)
        {
            throw new Z4AiFormatException(Z4AiErrorKind.InvalidContainer, $"the packed index is cut short: {ex.Detail}", offset: indexOffset, innerException: ex);
        }

        if (method is not ContainerFormat.IndexPackZstd and not ContainerFormat.IndexPackContextMixing)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.UnsupportedVersion, $"the index is packed with method {method}, which this reader does not know", offset: indexOffset);
        }

        long lengthAt = indexOffset + 1;
        if (length > (ulong)formatLimit)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.LimitExceeded, $"the packed index unpacks to {length} bytes, more than the {formatLimit} allowed", offset: lengthAt);
        }

        if (length > (ulong)readLimit)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.LimitExceeded, $"the packed index unpacks to {length} bytes, more than the read limit of {readLimit}", offset: lengthAt);
        }

        if (length == 0)
        {
            throw new Z4AiFormatException(Z4AiErrorKind.InvalidContainer, "the packed index declares an empty index", offset: lengthAt);
        }

        ReadOnlySpan<byte> payload = reader.Rest;
        if (method == ContainerFormat.IndexPackContextMixing && length > ContainerFormat.MaxContextMixingIndex)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.LimitExceeded,
                $"a context-mixing packed index unpacks to {length} bytes, more than the {ContainerFormat.MaxContextMixingIndex} allowed",
                offset: lengthAt);
        }

        if (length / ContainerFormat.MaxIndexPackRatio > (ulong)payload.Length)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.LimitExceeded,
                $"the packed index declares {length} bytes from a {payload.Length}-byte payload, more than {ContainerFormat.MaxIndexPackRatio} times it",
                offset: lengthAt);
        }

        byte[] plain = new byte[(int)length];
        try
        {
            if (method == ContainerFormat.IndexPackZstd)
            {
                ZstdBackend.Decompress(payload, plain);
            }
            else
            {
                SymbolCoder.Decode(payload, plain);
            }
        }
        catch (Z4AiFormatException ex)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.InvalidContainer,
                $"the packed index does not unpack to its declared {length} bytes: {ex.Detail}",
                offset: indexOffset + reader.Position,
                innerException: ex);
        }

        return plain;
    }

    // The reader refuses a payload that claims to expand more than MaxIndexPackRatio times (a decompression bomb).
    private static bool WithinRatio(int plainLength, int packedLength) =>
        plainLength / ContainerFormat.MaxIndexPackRatio <= packedLength - 1 - VarInt.GetLength((ulong)plainLength);

    private static void WritePrefix(ArrayPoolBufferWriter<byte> output, byte method, int length)
    {
        output.GetSpan(1)[0] = method;
        output.Advance(1);
        VarInt.Write(output, (ulong)length);
    }
}
