using System.Buffers;
using Z4Ai.Entropy;
using Z4Ai.Internal;

namespace Z4Ai.Archival;

/// <summary>
/// One block: <c>u8 method, varint raw length, varint payload length, payload</c>. The encoder tries zstd, then
/// the model (which gives up as soon as it can no longer beat the best so far), and keeps the smallest of those
/// and the stored bytes, so a block never grows by more than its header.
/// </summary>
internal static class ArchiveBlocks
{
    /// <summary>The longest block header.</summary>
    public const int MaxHeaderLength = 1 + 5 + 5;

    /// <summary>Encodes one block and appends it to <paramref name="output"/>.</summary>
    /// <param name="block">The raw bytes, 1 to the archive's block size.</param>
    /// <param name="model">A model ready for this block (fresh or primed), or null to skip the model.</param>
    /// <param name="zstdLevel">The zstd level to try, or 0 to skip zstd.</param>
    /// <param name="output">Where the block goes.</param>
    /// <returns>The method chosen.</returns>
    public static ArchiveBlockMethod Encode(ReadOnlySpan<byte> block, ISymbolModel? model, int zstdLevel, IBufferWriter<byte> output)
    {
        ArchiveBlockMethod method = ArchiveBlockMethod.Stored;
        byte[]? best = null;
        int bestLength = block.Length;
        byte[]? zstd = null;
        try
        {
            if (zstdLevel > 0 && block.Length >= 16)
            {
                zstd = ArrayPool<byte>.Shared.Rent(ZstdBackend.GetMaxCompressedLength(block.Length));
                int length = ZstdBackend.Compress(block, zstd, zstdLevel);
                if (length < bestLength)
                {
                    best = zstd;
                    bestLength = length;
                    method = ArchiveBlockMethod.Zstd;
                }
            }

            if (model is not null && ModelCoder.TryEncode(model, block, bestLength, out byte[] payload, out int payloadLength))
            {
                best = payload;
                bestLength = payloadLength;
                method = ArchiveBlockMethod.Model;
            }

            Span<byte> header = output.GetSpan(MaxHeaderLength);
            header[0] = (byte)method;
            int n = 1 + VarInt.Write(header[1..], (ulong)block.Length);
            n += VarInt.Write(header[n..], (ulong)bestLength);
            output.Advance(n);
            output.Write(method == ArchiveBlockMethod.Stored ? block : best.AsSpan(0, bestLength));
            return method;
        }
        finally
        {
            if (zstd is not null)
            {
                ArrayPool<byte>.Shared.Return(zstd);
            }
        }
    }

    /// <summary>Reads a block header; returns false at the end-of-blocks byte.</summary>
    /// <param name="reader">The cursor, at a block or at the end byte.</param>
    /// <param name="blockSize">The archive's block size (the largest raw length allowed).</param>
    /// <param name="method">The block's method.</param>
    /// <param name="rawLength">The block's raw length.</param>
    /// <param name="payloadLength">The payload length that follows.</param>
    public static bool ReadHeader(ref SpanReader reader, int blockSize, out ArchiveBlockMethod method, out int rawLength, out int payloadLength)
    {
        int at = reader.Position;
        byte m = reader.ReadByte();
        if (m == ArchiveConstants.EndOfBlocks)
        {
            method = default;
            rawLength = 0;
            payloadLength = 0;
            return false;
        }

        method = (ArchiveBlockMethod)m;
        rawLength = reader.ReadVarInt32();
        payloadLength = reader.ReadVarInt32();
        Validate(method, rawLength, payloadLength, blockSize, at);
        return true;
    }

    /// <summary>Checks a block header's fields against each other and the block size.</summary>
    public static void Validate(ArchiveBlockMethod method, int rawLength, int payloadLength, int blockSize, long offset)
    {
        if (method is not (ArchiveBlockMethod.Stored or ArchiveBlockMethod.Zstd or ArchiveBlockMethod.Model))
        {
            ThrowHelper.CorruptFrame($"unknown block method {(byte)method} (expected 1 stored, 2 zstd or 3 model)", offset);
        }

        if (rawLength < 1 || rawLength > blockSize)
        {
            ThrowHelper.CorruptFrame($"block declares {rawLength} raw bytes, expected 1..{blockSize}", offset);
        }

        if (method == ArchiveBlockMethod.Stored ? payloadLength != rawLength : payloadLength > rawLength)
        {
            ThrowHelper.CorruptFrame($"{method} block has a {payloadLength}-byte payload for {rawLength} raw bytes", offset);
        }
    }

    /// <summary>Decodes one block's payload into exactly <paramref name="destination"/>.</summary>
    /// <param name="method">The block's method.</param>
    /// <param name="payload">The payload.</param>
    /// <param name="header">The archive header (model and primer for model blocks).</param>
    /// <param name="destination">The raw bytes, as long as the block declared.</param>
    public static void Decode(ArchiveBlockMethod method, ReadOnlySpan<byte> payload, ArchiveHeader header, Span<byte> destination)
    {
        switch (method)
        {
            case ArchiveBlockMethod.Stored:
                payload.CopyTo(destination);
                break;
            case ArchiveBlockMethod.Zstd:
                ZstdBackend.Decompress(payload, destination);
                break;
            default:
                if (header.Model is null)
                {
                    ThrowHelper.CorruptFrame("a model block appears in an archive that names no model");
                }

                ISymbolModel model = PrimedModels.Get(header.Model, header.Primer, destination.Length);
                ModelCoder.Decode(model, payload, destination);
                break;
        }
    }
}
