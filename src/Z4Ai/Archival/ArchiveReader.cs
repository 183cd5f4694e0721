using System.Security.Cryptography;
using Z4Ai.Internal;

namespace Z4Ai.Archival;

/// <summary>
/// Reads an archive frame held in memory: validates the header and every block header before allocating, then
/// decodes the blocks and checks the total length and the SHA-256 of the original. No I/O.
/// </summary>
internal static class ArchiveReader
{
    /// <summary>What a frame declares, without decoding it.</summary>
    internal sealed record Layout(ArchiveHeader Header, long TotalLength, byte[] Digest, int[] BlockCounts, long[] PayloadBytes, int Blocks, int Length);

    /// <summary>Validates the structure of an archive and returns its layout; no payload is decoded.</summary>
    public static Layout Scan(ReadOnlySpan<byte> archive, long maxLength)
    {
        var reader = new SpanReader(archive);
        ArchiveHeader header = ArchiveHeader.Read(ref reader);
        long total = 0;
        int blocks = 0;
        int[] counts = new int[4];
        long[] payloadBytes = new long[4];
        while (ArchiveBlocks.ReadHeader(ref reader, header.BlockSize, out ArchiveBlockMethod method, out int raw, out int payload))
        {
            int at = reader.Position;
            reader.ReadBytes(payload);
            if (method == ArchiveBlockMethod.Model && header.Model is null)
            {
                ThrowHelper.CorruptFrame("a model block appears in an archive that names no model", at);
            }

            total += raw;
            blocks++;
            counts[(int)method]++;
            payloadBytes[(int)method] += payload;
            if (total > maxLength)
            {
                ThrowHelper.Format(Z4AiErrorKind.LimitExceeded, $"the archive holds more than {maxLength} bytes, the configured limit", offset: at);
            }
        }

        int trailerAt = reader.Position;
        ulong declared = reader.ReadVarUInt64();
        byte[] digest = reader.ReadBytes(ArchiveConstants.DigestLength).ToArray();
        if (declared != (ulong)total)
        {
            ThrowHelper.CorruptFrame($"the archive's blocks hold {total} bytes but its trailer declares {declared}", trailerAt);
        }

        if (reader.Remaining != 0)
        {
            ThrowHelper.CorruptFrame($"{reader.Remaining} bytes follow the end of the archive", reader.Position);
        }

        return new Layout(header, total, digest, counts, payloadBytes, blocks, archive.Length);
    }

    /// <summary>Decodes a whole archive.</summary>
    public static byte[] Decode(ReadOnlySpan<byte> archive, long maxLength)
    {
        Layout layout = Scan(archive, Math.Min(maxLength, Array.MaxLength));
        byte[] output = GC.AllocateUninitializedArray<byte>((int)layout.TotalLength);
        DecodeInto(archive, layout, output);
        return output;
    }

    /// <summary>Decodes a scanned archive into <paramref name="destination"/> (exactly its total length).</summary>
    public static void DecodeInto(ReadOnlySpan<byte> archive, Layout layout, Span<byte> destination)
    {
        var reader = new SpanReader(archive);
        ArchiveHeader header = ArchiveHeader.Read(ref reader);
        int written = 0;
        while (ArchiveBlocks.ReadHeader(ref reader, header.BlockSize, out ArchiveBlockMethod method, out int raw, out int payload))
        {
            ArchiveBlocks.Decode(method, reader.ReadBytes(payload), header, destination.Slice(written, raw));
            written += raw;
        }

        Verify(destination, layout.Digest);
    }

    /// <summary>Throws <see cref="Z4AiIntegrityException"/> unless <paramref name="data"/> hashes to <paramref name="expected"/>.</summary>
    public static void Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> expected)
    {
        Span<byte> actual = stackalloc byte[ArchiveConstants.DigestLength];
        SHA256.HashData(data, actual);
        if (!actual.SequenceEqual(expected))
        {
            throw new Z4AiIntegrityException("archive", Convert.ToHexStringLower(expected), Convert.ToHexStringLower(actual));
        }
    }
}
