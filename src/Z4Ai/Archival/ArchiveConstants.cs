namespace Z4Ai.Archival;

/// <summary>Byte-level constants of the archive frame (docs/archive-format.md).</summary>
internal static class ArchiveConstants
{
    /// <summary>The format version this library writes and reads.</summary>
    public const byte FormatVersion = 1;

    /// <summary>The block method byte that ends the block list.</summary>
    public const byte EndOfBlocks = 0;

    /// <summary>The smallest block size an archive may declare.</summary>
    public const int MinBlockSize = 1;

    /// <summary>The largest block size an archive may declare (64 MiB): it bounds a decoder's memory.</summary>
    public const int MaxBlockSize = 1 << 26;

    /// <summary>The block size used when none is given (16 MiB).</summary>
    public const int DefaultBlockSize = 1 << 24;

    /// <summary>The length of a SHA-256 digest.</summary>
    public const int DigestLength = 32;

    /// <summary>
    /// The most bytes a frame adds to its input: header with a model and a primer (4 + 1 + 1 + 1 + 1 + 32 + 1 + 1 +
    /// 32 + 4), one block header per block (1 + 4 + 10), the end byte, the total length and the digest.
    /// </summary>
    public const int MaxFixedOverhead = 4 + 1 + 1 + 1 + 1 + ModelDescriptor.MaxSettingsLength + 1 + 1 + DigestLength + 4 + 1 + 10 + DigestLength;

    /// <summary>The magic bytes "Z4AR".</summary>
    public static ReadOnlySpan<byte> Magic => "Z4AR"u8;
}
