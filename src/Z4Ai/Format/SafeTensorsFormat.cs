using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using Z4Ai.Internal;

namespace Z4Ai.Format;

/// <summary>
/// The safetensors file format: reading and validating headers exactly as the reference implementation does
/// (same checks, same order, same error kinds) and laying out new files byte-for-byte as its writer does.
/// </summary>
/// <remarks>
/// Layout: <c>u64 N</c> little-endian, N bytes of UTF-8 JSON (space padded), then the data section, which the
/// tensors' <c>data_offsets</c> (relative to the data section) must tile exactly up to the end of the file.
/// Deliberate differences from the reference are listed in docs/safetensors-compat.md.
/// </remarks>
internal static partial class SafeTensorsFormat
{
    /// <summary>The reference's header size limit: 100,000,000 bytes (decimal, not MiB).</summary>
    public const long DefaultMaxHeaderSize = 100_000_000;

    /// <summary>
    /// The largest <c>maxHeaderSize</c> a caller may configure: the header must fit one array together with the
    /// 8-byte prefix.
    /// </summary>
    public static long MaxSupportedHeaderSize => Array.MaxLength - 8;

    /// <summary>
    /// Steps 1–3 of the reference reader: checks the 8-byte length prefix against the limit and the input length.
    /// </summary>
    /// <param name="prefix">The first <c>min(8, totalLength)</c> bytes of the file.</param>
    /// <param name="totalLength">The whole file length.</param>
    /// <param name="maxHeaderSize">The largest N accepted.</param>
    /// <returns>N, the byte length of the JSON header.</returns>
    /// <exception cref="Z4AiFormatException">HeaderTooSmall, HeaderTooLarge or InvalidHeaderLength.</exception>
    public static long ReadHeaderLength(
        ReadOnlySpan<byte> prefix, long totalLength, long maxHeaderSize = DefaultMaxHeaderSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(totalLength);
        CheckMaxHeaderSize(maxHeaderSize);
        if (totalLength < 8)
        {
            ThrowHelper.Format(
                Z4AiErrorKind.HeaderTooSmall,
                $"the input has {totalLength} bytes, fewer than the 8-byte header length prefix");
        }

        if (prefix.Length < 8)
        {
            throw new ArgumentException("The prefix must hold the first 8 bytes of the file.", nameof(prefix));
        }

        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > (ulong)maxHeaderSize)
        {
            ThrowHelper.Format(
                Z4AiErrorKind.HeaderTooLarge,
                $"the header length prefix says {n} bytes, above the limit of {maxHeaderSize}",
                offset: 0);
        }

        // n <= maxHeaderSize < long.MaxValue - 8, so 8 + n cannot overflow.
        if (8 + (long)n > totalLength)
        {
            ThrowHelper.Format(
                Z4AiErrorKind.InvalidHeaderLength,
                $"the header length prefix says {n} bytes, but only {totalLength - 8} follow it",
                offset: 0);
        }

        return (long)n;
    }

    /// <summary>
    /// Steps 4–7 of the reference reader over the N header bytes: UTF-8, JSON, offsets and sizes, coverage.
    /// </summary>
    /// <param name="headerJson">Exactly the N bytes after the length prefix.</param>
    /// <param name="totalLength">The whole file length, for the final coverage check.</param>
    /// <exception cref="Z4AiFormatException">Any header or offset error, with the reference's kind.</exception>
    public static SafeTensorsHeader ParseHeader(ReadOnlySpan<byte> headerJson, long totalLength) =>
        SafeTensorsHeaderParser.Parse(headerJson, totalLength);

    /// <summary>Parses and validates a whole safetensors file held in memory.</summary>
    /// <exception cref="Z4AiFormatException">The bytes are not a valid safetensors file.</exception>
    public static SafeTensorsHeader Parse(ReadOnlySpan<byte> file, long maxHeaderSize = DefaultMaxHeaderSize)
    {
        long n = ReadHeaderLength(file[..Math.Min(8, file.Length)], file.Length, maxHeaderSize);
        return ParseHeader(file.Slice(8, (int)n), file.Length);
    }

    /// <summary>
    /// Reads and validates the header of a seekable stream, from position 0 whatever its current position. Reads
    /// the 8-byte prefix, validates N against the stream length, then reads exactly N bytes; the stream is left
    /// positioned at the start of the data section.
    /// </summary>
    /// <exception cref="ArgumentException">The stream cannot seek or cannot read.</exception>
    /// <exception cref="Z4AiFormatException">The stream is not a valid safetensors file.</exception>
    public static SafeTensorsHeader ReadHeader(Stream stream, long maxHeaderSize = DefaultMaxHeaderSize)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek || !stream.CanRead)
        {
            throw new ArgumentException("The stream must be readable and seekable.", nameof(stream));
        }

        CheckMaxHeaderSize(maxHeaderSize);
        long total = stream.Length;
        stream.Position = 0;
        Span<byte> prefix = stackalloc byte[8];
        int got = stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false);
        // A stream that reports 8+ bytes but yields fewer is treated as being that short.
        long n = ReadHeaderLength(prefix[..got], got < 8 ? got : total, maxHeaderSize);

        byte[] header = GC.AllocateUninitializedArray<byte>((int)n);
        if (stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) != header.Length)
        {
            ThrowHelper.Format(
                Z4AiErrorKind.InvalidHeaderLength,
                $"the stream ended before the {n}-byte header did (it shrank while being read)",
                offset: 8);
        }

        return ParseHeader(header, total);
    }

    /// <summary>
    /// Reads and validates the header of an open file with positional reads (the handle's position, if any, is not
    /// used or changed), so several readers may share one handle.
    /// </summary>
    /// <exception cref="Z4AiFormatException">The file is not a valid safetensors file.</exception>
    public static SafeTensorsHeader ReadHeader(SafeFileHandle file, long maxHeaderSize = DefaultMaxHeaderSize)
    {
        ArgumentNullException.ThrowIfNull(file);
        CheckMaxHeaderSize(maxHeaderSize);
        long total = RandomAccess.GetLength(file);
        Span<byte> prefix = stackalloc byte[8];
        int got = ReadFully(file, prefix, 0);
        long n = ReadHeaderLength(prefix[..got], got < 8 ? got : total, maxHeaderSize);

        byte[] header = GC.AllocateUninitializedArray<byte>((int)n);
        if (ReadFully(file, header, 8) != header.Length)
        {
            ThrowHelper.Format(
                Z4AiErrorKind.InvalidHeaderLength,
                $"the file ended before the {n}-byte header did (it shrank while being read)",
                offset: 8);
        }

        return ParseHeader(header, total);
    }

    /// <summary>
    /// True if <paramref name="firstBytes"/> start like a safetensors file: a little-endian u64 between 2 and the
    /// default header limit, followed by <c>{</c> or JSON whitespace. A Z4Ai container (magic <c>Z4AI</c>) never
    /// matches, because its first 8 bytes read as a length far above the limit.
    /// </summary>
    /// <param name="firstBytes">At least the first 9 bytes of the file; fewer gives false.</param>
    public static bool LooksLikeSafeTensors(ReadOnlySpan<byte> firstBytes)
    {
        if (firstBytes.Length < 9)
        {
            return false;
        }

        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(firstBytes);
        return n is >= 2 and <= DefaultMaxHeaderSize && firstBytes[8] is (byte)'{' or (byte)' ' or (byte)'\t'
            or (byte)'\n' or (byte)'\r';
    }

    /// <summary>
    /// Mirrors the reference's <c>TensorView::new</c>: checks that <paramref name="dataLength"/> bytes are exactly
    /// what <paramref name="dtype"/> and <paramref name="shape"/> need.
    /// </summary>
    /// <returns>The byte length the shape needs.</returns>
    /// <exception cref="Z4AiFormatException">ValidationOverflow, MisalignedSlice or InvalidTensorView.</exception>
    public static long CheckTensorView(DType dtype, ReadOnlySpan<long> shape, long dataLength, string? tensorName = null)
    {
        long expected = GetByteLength(dtype, shape, tensorName);
        if (dataLength != expected)
        {
            ThrowHelper.Format(
                Z4AiErrorKind.InvalidTensorView,
                $"{Describe(dtype, shape)} needs {expected} bytes, but {dataLength} were given",
                tensorName: tensorName);
        }

        return expected;
    }

    /// <summary>The byte length of a tensor, counted in bits as the reference does.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or the dtype is undefined.</exception>
    /// <exception cref="Z4AiFormatException">ValidationOverflow (also above <see cref="long.MaxValue"/> bytes) or MisalignedSlice.</exception>
    public static long GetByteLength(DType dtype, ReadOnlySpan<long> shape, string? tensorName = null)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)dtype, (uint)DTypeInfo.Count, nameof(dtype));
        foreach (long d in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(shape));
        }

        ulong bytes = ShapeMath.GetByteLength(dtype, shape, tensorName);
        if (bytes > long.MaxValue)
        {
            ThrowHelper.Format(
                Z4AiErrorKind.ValidationOverflow,
                $"{Describe(dtype, shape)} needs {bytes} bytes, more than a file can hold",
                tensorName: tensorName);
        }

        return (long)bytes;
    }

    private static string Describe(DType dtype, ReadOnlySpan<long> shape) =>
        $"{dtype.GetName()}[{string.Join(",", shape.ToArray())}]";

    private static void CheckMaxHeaderSize(long maxHeaderSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxHeaderSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxHeaderSize, MaxSupportedHeaderSize);
    }

    private static int ReadFully(SafeFileHandle file, Span<byte> buffer, long offset)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = RandomAccess.Read(file, buffer[total..], offset + total);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }
}
