namespace Z4Ai;

/// <summary>
/// How the difference between a fine-tune and its base is stored for one tensor. The numeric values are written
/// into lossy-delta files (docs/lossy.md): never renumber.
/// </summary>
public enum LossyTier : byte
{
    /// <summary>Stored exactly, as a lossless buffer delta against the base tensor (or on its own).</summary>
    Lossless = 0,

    /// <summary>Symmetric 8-bit quantization of the delta with one scale per row or per group.</summary>
    Int8 = 1,

    /// <summary>Symmetric 4-bit quantization of the delta; the largest-magnitude fraction is kept exactly.</summary>
    Int4 = 2,

    /// <summary>Only the largest fraction of delta values (or a random fraction, rescaled) is kept, 8-bit quantized.</summary>
    Sparse = 3,

    /// <summary>The sign of the delta times one scale per row.</summary>
    OneBit = 4,
}
