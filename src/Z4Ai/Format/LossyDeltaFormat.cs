using System.Buffers.Binary;
using System.Security.Cryptography;
using Z4Ai.Integrity;
using Z4Ai.Internal;

namespace Z4Ai.Format;

/// <summary>
/// The lossy-delta file (docs/lossy.md): <c>"Z4AL"</c>, <c>u8 version</c>, the tensor records, the index, and a
/// 52-byte footer: <c>u64 index offset</c>, <c>u64 index length</c>, the index's SHA-256, <c>"Z4AL"</c>.
/// </summary>
internal static class LossyDeltaFormat
{
    public const byte Version = 1;

    public const int PreambleLength = 5;

    public const int FooterLength = 8 + 8 + Sha256Digest.Size + 4;

    /// <summary>The file extension of lossy deltas.</summary>
    public const string FileExtension = ".z4al";

    public static ReadOnlySpan<byte> Magic => "Z4AL"u8;

    public static bool HasMagic(ReadOnlySpan<byte> firstBytes) => firstBytes.StartsWith(Magic);

    public static void WritePreamble(Stream output)
    {
        output.Write(Magic);
        output.WriteByte(Version);
    }

    public static void WriteFooter(Stream output, long indexOffset, ReadOnlySpan<byte> index)
    {
        Span<byte> footer = stackalloc byte[FooterLength];
        BinaryPrimitives.WriteInt64LittleEndian(footer, indexOffset);
        BinaryPrimitives.WriteInt64LittleEndian(footer[8..], index.Length);
        SHA256.HashData(index, footer.Slice(16, Sha256Digest.Size));
        Magic.CopyTo(footer[(16 + Sha256Digest.Size)..]);
        output.Write(footer);
    }

    /// <summary>Reads and validates the preamble, footer and index of a seekable stream.</summary>
    public static LossyDeltaIndex ReadIndex(Stream stream)
    {
        long length = stream.Length;
        if (length < PreambleLength + FooterLength)
        {
            ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"the file has {length} bytes, too short for a lossy delta");
        }

        Span<byte> preamble = stackalloc byte[PreambleLength];
        ReadExactly(stream, 0, preamble);
        if (!HasMagic(preamble))
        {
            ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, "the file does not start with the lossy-delta magic \"Z4AL\"", offset: 0);
        }

        if (preamble[4] != Version)
        {
            ThrowHelper.Format(Z4AiErrorKind.UnsupportedVersion, $"lossy-delta format version {preamble[4]}; this library reads version {Version}", offset: 4);
        }

        Span<byte> footer = stackalloc byte[FooterLength];
        long footerOffset = length - FooterLength;
        ReadExactly(stream, footerOffset, footer);
        if (!footer[(16 + Sha256Digest.Size)..].SequenceEqual(Magic))
        {
            ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, "the footer does not end with \"Z4AL\"; the file is truncated or not a lossy delta", offset: footerOffset);
        }

        long indexOffset = BinaryPrimitives.ReadInt64LittleEndian(footer);
        long indexLength = BinaryPrimitives.ReadInt64LittleEndian(footer[8..]);
        if (indexOffset < PreambleLength || indexLength < 0 || indexLength > footerOffset - indexOffset || indexLength > Array.MaxLength)
        {
            ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"the footer places the index at [{indexOffset}, +{indexLength}), outside the file", offset: footerOffset);
        }

        if (indexOffset + indexLength != footerOffset)
        {
            ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"the index ends at {indexOffset + indexLength}, but the footer starts at {footerOffset}", offset: footerOffset);
        }

        byte[] index = new byte[indexLength];
        ReadExactly(stream, indexOffset, index);
        Span<byte> digest = stackalloc byte[Sha256Digest.Size];
        SHA256.HashData(index, digest);
        if (!digest.SequenceEqual(footer.Slice(16, Sha256Digest.Size)))
        {
            throw new Z4AiIntegrityException(
                "lossy-delta index", Convert.ToHexStringLower(footer.Slice(16, Sha256Digest.Size)), Convert.ToHexStringLower(digest));
        }

        return LossyDeltaIndex.Parse(index, PreambleLength, indexOffset);
    }

    public static void ReadExactly(Stream stream, long position, Span<byte> destination)
    {
        stream.Position = position;
        int read = stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        if (read != destination.Length)
        {
            ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"the file ended after {read} of {destination.Length} bytes", offset: position + read);
        }
    }
}
