using System.Buffers;
using ZstdSharp;
using ThrowHelper = Z4Ai.Internal.ThrowHelper;

namespace Z4Ai.Entropy;

/// <summary>
/// The zstd adapter: the only file that uses ZstdSharp, so its types never leak. Compressors are cached per
/// thread because they hold sizeable work tables and are not thread-safe.
/// </summary>
internal static class ZstdBackend
{
    [ThreadStatic]
    private static Dictionary<int, Compressor>? t_compressors;

    [ThreadStatic]
    private static Decompressor? t_decompressor;

    /// <summary>The largest compressed size of <paramref name="length"/> input bytes.</summary>
    public static int GetMaxCompressedLength(int length) => Compressor.GetCompressBound(length);

    /// <summary>Compresses into <paramref name="destination"/>, which must hold <see cref="GetMaxCompressedLength"/> bytes.</summary>
    public static int Compress(ReadOnlySpan<byte> source, Span<byte> destination, int level)
    {
        t_compressors ??= [];
        if (!t_compressors.TryGetValue(level, out Compressor? compressor))
        {
            compressor = new Compressor(level);
            t_compressors[level] = compressor;
        }

        return compressor.Wrap(source, destination);
    }

    /// <summary>Compresses and appends to <paramref name="writer"/>, returning the number of bytes written.</summary>
    public static int Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> writer, int level)
    {
        Span<byte> span = writer.GetSpan(GetMaxCompressedLength(source.Length));
        int written = Compress(source, span, level);
        writer.Advance(written);
        return written;
    }

    /// <summary>
    /// Decompresses a zstd frame into exactly <paramref name="destination"/>; anything else (a malformed frame, or a
    /// frame that decodes to a different length) is a <see cref="Z4AiFormatException"/>.
    /// </summary>
    public static void Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        t_decompressor ??= new Decompressor();
        int written;
        try
        {
            ulong declared = Decompressor.GetDecompressedSize(source);
            if (declared != (ulong)destination.Length)
            {
                ThrowHelper.CorruptFrame($"zstd frame declares {declared} bytes, expected {destination.Length}");
            }

            written = t_decompressor.Unwrap(source, destination);
        }
        catch (ZstdException ex)
        {
            t_decompressor = null;
            throw new Z4AiFormatException(Z4AiErrorKind.CorruptFrame, $"zstd frame is corrupt: {ex.Message}", innerException: ex);
        }
        catch (ArgumentException ex)
        {
            t_decompressor = null;
            throw new Z4AiFormatException(Z4AiErrorKind.CorruptFrame, $"zstd frame is corrupt: {ex.Message}", innerException: ex);
        }

        if (written != destination.Length)
        {
            ThrowHelper.CorruptFrame($"zstd frame decoded to {written} bytes, expected {destination.Length}");
        }
    }
}
