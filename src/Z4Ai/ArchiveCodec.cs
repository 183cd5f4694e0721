using System.Buffers;
using CommunityToolkit.HighPerformance.Buffers;
using Z4Ai.Archival;
using Z4Ai.Internal;

namespace Z4Ai;

/// <summary>
/// The archival tier: lossless compression of any file (model cards, configs, tokenizer files, logs, code) for
/// cold storage. Each block is coded by a context-mixing model (integer arithmetic only, so it decodes bit-exact
/// on every machine), by zstd, or stored, whichever is smallest; the archive records the model, its version and
/// the primer it was trained on, and the SHA-256 of the original, which every decode checks.
/// </summary>
/// <remarks>
/// The frame layout is specified byte by byte in docs/archive-format.md. Decoding refuses an unknown model or
/// version and a primer whose SHA-256 differs from the one shipped with this library, with a
/// <see cref="Z4AiFormatException"/> that says which; a digest mismatch is a <see cref="Z4AiIntegrityException"/>.
/// </remarks>
public static partial class ArchiveCodec
{
    /// <summary>
    /// The largest archive <see cref="Compress(ReadOnlySpan{byte}, ArchiveOptions?)"/> can produce for
    /// <paramref name="length"/> bytes with blocks of <paramref name="blockSize"/> bytes: the input plus a small header,
    /// a few bytes per block and the trailer.
    /// </summary>
    public static long GetMaxCompressedLength(long length, int blockSize = ArchiveOptions.DefaultBlockSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        long blocks = (length + blockSize - 1) / blockSize;
        return length + ArchiveConstants.MaxFixedOverhead + (blocks * ArchiveBlocks.MaxHeaderLength);
    }

    /// <summary>Compresses <paramref name="data"/> into one archive.</summary>
    /// <param name="data">The bytes to archive.</param>
    /// <param name="options">The preset, primer, block size and zstd level; null for the defaults.</param>
    /// <returns>The archive.</returns>
    public static byte[] Compress(ReadOnlySpan<byte> data, ArchiveOptions? options = null)
    {
        using var output = new ArrayPoolBufferWriter<byte>(Math.Max(256, (data.Length / 3) + 128));
        ArchiveWriter.Encode(data, options ?? ArchiveOptions.Default, output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Compresses <paramref name="data"/> and appends the archive to <paramref name="output"/>.</summary>
    public static void Compress(ReadOnlySpan<byte> data, IBufferWriter<byte> output, ArchiveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArchiveWriter.Encode(data, options ?? ArchiveOptions.Default, output);
    }

    /// <summary>Decompresses an archive held in memory, after checking its SHA-256.</summary>
    /// <param name="archive">The archive.</param>
    /// <param name="options">Only <see cref="ArchiveOptions.MaxDecompressedLength"/> is used; null for no limit.</param>
    /// <returns>The original bytes.</returns>
    /// <exception cref="Z4AiFormatException">The archive is malformed, names an unknown model or version, or a primer this library does not ship.</exception>
    /// <exception cref="Z4AiIntegrityException">The decoded bytes do not match the recorded SHA-256.</exception>
    public static byte[] Decompress(ReadOnlySpan<byte> archive, ArchiveOptions? options = null) =>
        ArchiveReader.Decode(archive, (options ?? ArchiveOptions.Default).MaxDecompressedLength);

    /// <summary>
    /// Decompresses into <paramref name="destination"/>; returns false, writing nothing, when it is too small.
    /// </summary>
    /// <exception cref="Z4AiFormatException">The archive is malformed or names a model or primer this library lacks.</exception>
    /// <exception cref="Z4AiIntegrityException">The decoded bytes do not match the recorded SHA-256.</exception>
    public static bool TryDecompress(ReadOnlySpan<byte> archive, Span<byte> destination, out int bytesWritten)
    {
        ArchiveReader.Layout layout = ArchiveReader.Scan(archive, Array.MaxLength);
        if (layout.TotalLength > destination.Length)
        {
            bytesWritten = 0;
            return false;
        }

        Span<byte> target = destination[..(int)layout.TotalLength];
        try
        {
            ArchiveReader.DecodeInto(archive, layout, target);
        }
        catch
        {
            // Never leave bytes that failed verification where a caller could mistake them for the original.
            target.Clear();
            throw;
        }

        bytesWritten = target.Length;
        return true;
    }

    /// <summary>The length of the original data an archive declares (after validating its structure).</summary>
    public static long GetDecompressedLength(ReadOnlySpan<byte> archive) => ArchiveReader.Scan(archive, long.MaxValue).TotalLength;

    /// <summary>Whether <paramref name="prefix"/> starts like an archive (the magic bytes).</summary>
    public static bool IsArchive(ReadOnlySpan<byte> prefix) => prefix.StartsWith(ArchiveConstants.Magic);

    /// <summary>Reads what an archive declares (model, primer, blocks, length, digest) without decoding it.</summary>
    /// <exception cref="Z4AiFormatException">The archive is malformed or names a model or primer this library lacks.</exception>
    public static ArchiveInfo Inspect(ReadOnlySpan<byte> archive)
    {
        ArchiveReader.Layout layout = ArchiveReader.Scan(archive, long.MaxValue);
        ArchiveHeader header = layout.Header;
        ArchivePreset? preset = header.Model is { Id: ContextMixModel.ModelId } model
            ? ContextMixSettings.Read(model.Settings).Preset
            : null;
        return new ArchiveInfo(
            layout.TotalLength,
            Convert.ToHexStringLower(layout.Digest),
            layout.Length,
            header.BlockSize,
            header.Model is null ? null : SymbolModels.Describe(header.Model),
            preset,
            header.Primer?.FullName,
            layout.BlockCounts[(int)ArchiveBlockMethod.Stored],
            layout.BlockCounts[(int)ArchiveBlockMethod.Zstd],
            layout.BlockCounts[(int)ArchiveBlockMethod.Model]);
    }

    /// <summary>
    /// Codes a byte stream (for example the exponent bytes of a float tensor) with the context-mixing model,
    /// without the archive frame; appends it to <paramref name="output"/> only when shorter than
    /// <paramref name="maxLength"/>. For the codec pipeline; see <see cref="SymbolCoder"/> for the layout.
    /// </summary>
    internal static bool TryEncodeBytes(ReadOnlySpan<byte> symbols, ArchivePreset preset, IBufferWriter<byte> output, int maxLength, bool useOrder2 = false) =>
        SymbolCoder.TryEncode(symbols, preset, output, maxLength, useOrder2);

    /// <summary>Decodes what <see cref="TryEncodeBytes"/> wrote into exactly <paramref name="destination"/>.</summary>
    internal static void DecodeBytes(ReadOnlySpan<byte> encoded, Span<byte> destination) => SymbolCoder.Decode(encoded, destination);

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Truncated(string what) =>
        ThrowHelper.Format(Z4AiErrorKind.CorruptFrame, $"the archive ends inside {what}");
}
