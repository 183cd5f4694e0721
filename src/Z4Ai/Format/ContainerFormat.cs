using System.Buffers.Binary;
using System.IO.Hashing;

namespace Z4Ai.Format;

/// <summary>
/// The fixed parts of the <c>.z4ai</c> container layout: magic, version, file header, footer and limits.
/// docs/format.md is the specification; every constant here is named there.
/// </summary>
internal static class ContainerFormat
{
    /// <summary>The format version this code writes and the only one it reads.</summary>
    public const ushort Version = 1;

    /// <summary>Bytes of the file header: magic, u16 version, u16 flags.</summary>
    public const int HeaderLength = 8;

    /// <summary>Bytes of the footer: magic, u16 version, u16 flags, u64 index offset, length, checksum, u64 footer checksum.</summary>
    public const int FooterLength = 40;

    /// <summary>The smallest chunk size the format allows (tests use it to exercise many chunks cheaply).</summary>
    public const int MinChunkSize = 4 << 10;

    /// <summary>The smallest chunk size the writer accepts unless a test lowers it.</summary>
    public const int MinWriterChunkSize = 64 << 10;

    /// <summary>The largest chunk size; it bounds every decode buffer a reader allocates.</summary>
    public const int MaxChunkSize = 64 << 20;

    /// <summary>The default chunk size.</summary>
    public const int DefaultChunkSize = 4 << 20;

    /// <summary>The largest index a reader loads (the safetensors header alone may take 100 MB of it).</summary>
    public const long MaxIndexLength = 1L << 30;

    /// <summary>The largest original safetensors header kept: the 8-byte prefix plus the reference's 100,000,000-byte limit.</summary>
    public const int MaxOriginalHeaderLength = 8 + 100_000_000;

    /// <summary>Storage kind of an index entry whose chunk table follows.</summary>
    public const byte EntryChunks = 0;

    /// <summary>Storage kind of an index entry that repeats an earlier entry's bytes.</summary>
    public const byte EntryDuplicate = 1;

    /// <summary>
    /// The fewest index bytes one entry can take: name length, dtype, rank, raw length (1 each), SHA-256, storage
    /// kind, chunk count. Used to reject counts that cannot fit before allocating for them.
    /// </summary>
    public const int MinEntryLength = 1 + 1 + 1 + 1 + 32 + 1 + 1;

    /// <summary>The fewest index bytes one chunk record can take: offset, stored length, raw length (1 each), codec, checksum.</summary>
    public const int MinChunkRecordLength = 1 + 1 + 1 + 1 + 8;

    /// <summary>Footer flag bit: the index is packed (a method byte, its unpacked length, compressed bytes).</summary>
    public const ushort FlagPackedIndex = 0x0001;

    /// <summary>The footer flags this code reads; any other bit is a feature it does not know.</summary>
    public const ushort KnownFooterFlags = FlagPackedIndex;

    /// <summary>Packed-index method: the unpacked index is one zstd frame.</summary>
    public const byte IndexPackZstd = 1;

    /// <summary>Packed-index method: the unpacked index is coded by the archival context-mixing model (<c>Archival/SymbolCoder</c>).</summary>
    public const byte IndexPackContextMixing = 2;

    /// <summary>The zstd level of a packed index (it is written once per file and read once per open).</summary>
    public const int IndexPackZstdLevel = 19;

    /// <summary>
    /// The shortest plain index a writer tries to pack: below it the few bytes that could be saved do not pay for a
    /// second way of reading the index.
    /// </summary>
    public const int MinPackedIndexSource = 512;

    /// <summary>
    /// The longest plain index a writer codes with context mixing (slower to read than zstd, at about a megabyte per
    /// second); longer ones are packed with zstd only.
    /// </summary>
    public const int MaxContextMixingIndex = 1 << 20;

    /// <summary>
    /// The most a packed index may expand: its unpacked length divided by this must not exceed the payload length.
    /// Real indexes (digests and checksums are incompressible) stay far below it; a bomb is refused before allocating.
    /// </summary>
    public const int MaxIndexPackRatio = 1024;

    /// <summary>Original-header presence value (packed indexes only): rebuilt from the entries and metadata.</summary>
    public const byte HeaderDerived = 2;

    /// <summary>The fewest bytes one chunk record takes in a packed index: offset difference, stored length, codec, checksum.</summary>
    public const int MinPackedChunkRecordLength = 1 + 1 + 1 + 8;

    /// <summary>The four magic bytes, ASCII "Z4AI", at the start of the file and of the footer.</summary>
    public static ReadOnlySpan<byte> Magic => "Z4AI"u8;

    /// <summary>True when <paramref name="chunkSize"/> is a power of two the format allows.</summary>
    public static bool IsValidChunkSize(long chunkSize) =>
        chunkSize is >= MinChunkSize and <= MaxChunkSize && (chunkSize & (chunkSize - 1)) == 0;

    /// <summary>The number of chunks a tensor of <paramref name="rawLength"/> bytes is split into.</summary>
    public static long ChunkCount(long rawLength, int chunkSize) => (rawLength / chunkSize) + (rawLength % chunkSize == 0 ? 0 : 1);

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
        BinaryPrimitives.WriteUInt64LittleEndian(footer[32..], Checksum(footer[..32]));
    }

    /// <summary>The checksum used for chunk frames, the index and the footer: XxHash3 64-bit, seed 0.</summary>
    public static ulong Checksum(ReadOnlySpan<byte> data) => XxHash3.HashToUInt64(data);
}
