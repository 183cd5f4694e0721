namespace Z4Ai;

/// <summary>The model-wide settings a lossy delta was made with, as its file records them.</summary>
/// <param name="Tier">The default tier.</param>
/// <param name="GroupSize">Elements per scale for int8/int4 (0 = one scale per row).</param>
/// <param name="OutlierPpm">The int4 outlier fraction, in parts per million.</param>
/// <param name="SparsePpm">The sparse kept fraction, in parts per million.</param>
/// <param name="DropAndRescale">Whether sparse keeps a random fraction, rescaled.</param>
/// <param name="RefineScales">Whether 1-bit scales were refined on calibration statistics.</param>
/// <param name="Seed">The drop-and-rescale seed.</param>
/// <param name="MinElements">Tensors below this many elements stay lossless unless overridden.</param>
public sealed record LossyTierSettings(
    LossyTier Tier,
    int GroupSize,
    int OutlierPpm,
    int SparsePpm,
    bool DropAndRescale,
    bool RefineScales,
    ulong Seed,
    int MinElements)
{
    /// <summary>The int4 outlier fraction.</summary>
    public double OutlierFraction => OutlierPpm / 1e6;

    /// <summary>The sparse kept fraction.</summary>
    public double SparseFraction => SparsePpm / 1e6;
}
