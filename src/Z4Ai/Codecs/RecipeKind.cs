namespace Z4Ai.Codecs;

/// <summary>
/// The kind of one node of a recipe tree, stored in the node's first byte. Values are part of the file format:
/// never renumber, only add. Byte layouts are in docs/format.md, section "Codec recipes".
/// </summary>
/// <remarks>
/// A node encodes a byte stream whose length the reader already knows (the frame's raw length for the root, a length
/// derived from the parent's validated parameters for a child). Leaves code bytes; the other kinds apply a lossless
/// transform and code each stream it produces as a child node.
/// </remarks>
internal enum RecipeKind : byte
{
    /// <summary>Leaf: the bytes unchanged.</summary>
    Stored = 0,

    /// <summary>Leaf: one zstd frame.</summary>
    Zstd = 1,

    /// <summary>Leaf: an entropy-coded symbol stream (rANS order 0/1 or context mixing).</summary>
    Entropy = 2,

    /// <summary>BF16/F16/F32 split into an exponent stream and sign+mantissa planes.</summary>
    Fields = 3,

    /// <summary>Byte planes of 2- to 8-byte elements.</summary>
    Planes = 4,

    /// <summary>Dead low bits dropped or floats narrowed; the narrow stream is a child.</summary>
    DeadBits = 5,

    /// <summary>Codebook plus indices, global or per group.</summary>
    Palette = 6,

    /// <summary>Positions of the non-zero elements plus the non-zero elements.</summary>
    ZeroMask = 7,

    /// <summary>Integers as frame of reference or delta, bit-packed.</summary>
    IntPack = 8,

    /// <summary>Bytes that are all 0 or 1, one bit each.</summary>
    BoolPack = 9,

    /// <summary>Floats with every -0.0 turned into +0.0 (a child), plus one sign bit per zero element (a child).</summary>
    NegativeZero = 10,

    /// <summary>Byte symbols with a per-group offset added (mod 256), so groups' indices line up.</summary>
    GroupShift = 11,

    /// <summary>Zigzag deltas of consecutive 1-, 2-, 4- or 8-byte integers.</summary>
    Delta = 12,

    /// <summary>Leaf: bytes coded by the archival context-mixing model (<see cref="ArchiveStreams"/>).</summary>
    ArchiveModel = 13,

    /// <summary><see cref="Fields"/> with the top sign+mantissa plane coded as one stream per class of exponent values
    /// (<see cref="ExponentClasses"/>).</summary>
    ClassedFields = 14,
}
