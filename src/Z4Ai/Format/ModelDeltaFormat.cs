using System.Buffers.Binary;

namespace Z4Ai.Format;

/// <summary>
/// The fixed parts of the model-delta file (<c>.z4delta</c>): magic, version, file header, footer and limits.
/// docs/delta-format.md section 2 is the specification; every constant here is named there.
/// </summary>
internal static class ModelDeltaFormat
{
    /// <summary>The format version this code writes and the only one it reads.</summary>
    public const ushort Version = 1;

    /// <summary>Bytes of the file header: magic, u16 version, u16 flags.</summary>
    public const int HeaderLength = 8;

    /// <summary>Bytes of the footer: magic, u16 version, u16 flags, u64 index offset, length, checksum, u64 footer checksum.</summary>
    public const int FooterLength = 40;

    /// <summary>The largest index a reader loads.</summary>
    public const long MaxIndexLength = 1L << 30;

    /// <summary>
    /// Footer flag bit: the index is packed exactly as a container's (docs/format.md 1.3a): a method byte, its
    /// unpacked length, compressed bytes. Readers before it reject any footer flag as an unknown feature.
    /// </summary>
    public const ushort FlagPackedIndex = ContainerFormat.FlagPackedIndex;

    /// <summary>The footer flags this code reads; the file header's flags are always 0.</summary>
    public const ushort KnownFooterFlags = FlagPackedIndex;

    /// <summary>The largest segment: it bounds the memory a reader or writer needs per worker.</summary>
    public const int MaxSegmentSize = 1 << 28;

    /// <summary>The segment size writers aim for; rounded down to a multiple of the chunk and frame sizes.</summary>
    public const int DefaultSegmentSize = 8 << 20;

    /// <summary>
    /// The frame size writers use for tensors stored on their own: the container's default chunk size, so such a
    /// tensor costs what it costs in a container.
    /// </summary>
    public const int DefaultFrameSize = ContainerFormat.DefaultChunkSize;

    /// <summary>The largest kept safetensors header: the 8-byte prefix plus the reference's 100,000,000-byte limit.</summary>
    public const int MaxOriginalHeaderLength = 8 + 100_000_000;

    /// <summary>Segment kind: the segment's chunks compressed on their own (each a length-prefixed codec frame).</summary>
    public const byte SegmentFrames = 0;

    /// <summary>Segment kind: one Z4AD buffer-delta frame against the base tensor's bytes at the same offsets.</summary>
    public const byte SegmentDelta = 1;

    /// <summary>Header origin: the bytes are the target file's own header.</summary>
    public const byte HeaderKept = 0;

    /// <summary>Header origin: the target (a container built from tensors) kept none; the canonical header was made.</summary>
    public const byte HeaderSynthesized = 1;

    /// <summary>Fewest index bytes one entry takes: name length, dtype, rank, length, SHA-256, mode, segment count.</summary>
    public const int MinEntryLength = 1 + 1 + 1 + 1 + 32 + 1 + 1;

    /// <summary>Fewest index bytes one segment record takes: kind, offset, stored length, checksum.</summary>
    public const int MinSegmentRecordLength = 1 + 1 + 1 + 8;

    /// <summary>The four magic bytes, ASCII "Z4AM", at the start of the file and of the footer.</summary>
    public static ReadOnlySpan<byte> Magic => "Z4AM"u8;

    /// <summary>True when <paramref name="firstBytes"/> starts with the model-delta magic.</summary>
    public static bool HasMagic(ReadOnlySpan<byte> firstBytes) => firstBytes.StartsWith(Magic);

    /// <summary>
    /// True when the sizes are ones a model delta may declare: the chunk and frame sizes multiples of 8 from 64 to
    /// 2^28, the segment size a multiple of both, at most 2^28.
    /// </summary>
    public static bool IsValidLayout(long chunkSize, long frameSize, long segmentSize) =>
        IsValidPart(chunkSize) && IsValidPart(frameSize)
        && segmentSize >= chunkSize && segmentSize >= frameSize && segmentSize <= MaxSegmentSize
        && segmentSize % chunkSize == 0 && segmentSize % frameSize == 0;

    /// <summary>
    /// The segment size a writer uses: about <see cref="DefaultSegmentSize"/>, a multiple of both the chunk and the
    /// frame size; 0 when no such size fits under <see cref="MaxSegmentSize"/>.
    /// </summary>
    public static int SegmentSizeFor(int chunkSize, int frameSize)
    {
        long lcm = (long)chunkSize / Gcd(chunkSize, frameSize) * frameSize;
        if (lcm > MaxSegmentSize)
        {
            return 0;
        }

        return (int)(lcm * Math.Max(1, DefaultSegmentSize / lcm));
    }

    /// <summary>The number of parts of <paramref name="length"/> bytes cut every <paramref name="size"/> bytes.</summary>
    public static long PartCount(long length, long size) => (length / size) + (length % size == 0 ? 0 : 1);

    /// <summary>
    /// The most bytes a segment of <paramref name="rawLength"/> bytes may be stored in: every chunk or frame compressed
    /// on its own never exceeds its length plus 11 (frame header) plus 6 (entry overhead), plus a Z4AD header.
    /// </summary>
    public static long MaxStoredLength(long rawLength, int chunkSize, int frameSize) =>
        rawLength + (17 * PartCount(rawLength, Math.Min(chunkSize, frameSize))) + 128;

    private static bool IsValidPart(long size) => size is >= DeltaOptions.MinChunkSize and <= DeltaOptions.MaxChunkSize && size % 8 == 0;

    private static long Gcd(long a, long b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }

    /// <summary>Writes the 8-byte file header.</summary>
    public static void WriteHeader(Span<byte> destination)
    {
        Magic.CopyTo(destination);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], 0);
    }

    /// <summary>Writes the 40-byte footer, including its own checksum; <paramref name="flags"/> is 0 or <see cref="FlagPackedIndex"/>.</summary>
    public static void WriteFooter(Span<byte> destination, long indexOffset, long indexLength, ulong indexChecksum, ushort flags = 0)
    {
        Span<byte> footer = destination[..FooterLength];
        Magic.CopyTo(footer);
        BinaryPrimitives.WriteUInt16LittleEndian(footer[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(footer[6..], flags);
        BinaryPrimitives.WriteUInt64LittleEndian(footer[8..], (ulong)indexOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(footer[16..], (ulong)indexLength);
        BinaryPrimitives.WriteUInt64LittleEndian(footer[24..], indexChecksum);
        BinaryPrimitives.WriteUInt64LittleEndian(footer[32..], ContainerFormat.Checksum(footer[..32]));
    }
}
