namespace Z4Ai;

/// <summary>
/// How one chunk of a delta rebuilds its bytes. The numeric values are stored in delta frames: never renumber,
/// only add.
/// </summary>
public enum DeltaChunkMode : byte
{
    /// <summary>The chunk equals the reference's bytes at the same offset; nothing is stored.</summary>
    Copy = 0,

    /// <summary>The codec frame holds the XOR of the chunk and the reference's bytes at the same offset.</summary>
    Xor = 1,

    /// <summary>
    /// The codec frame holds the zigzagged element-wise difference from the reference (over order-preserving
    /// integers for floats).
    /// </summary>
    Subtract = 2,

    /// <summary>The codec frame holds the chunk itself, without using the reference.</summary>
    Scratch = 3,

    /// <summary>
    /// The chunk is the reference's bytes with a few elements changed: the payload codes the changed elements'
    /// positions and steps with adaptive binary models (docs/delta-format.md, section 1.5).
    /// </summary>
    Sparse = 4,

    /// <summary>
    /// As <see cref="Sparse"/>, the chunk is the reference's bytes with some elements changed, but the changes are
    /// coded for decoding speed: static-table rANS over small token alphabets plus raw low bits
    /// (docs/delta-format.md, section 1.6). A reader that predates it rejects the chunk as an unknown mode.
    /// </summary>
    SparseBlock = 5,
}
