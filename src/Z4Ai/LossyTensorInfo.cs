namespace Z4Ai;

/// <summary>How one tensor is stored in a lossy delta, and how far its reconstruction is from the target.</summary>
/// <param name="Name">The tensor name.</param>
/// <param name="DType">The element type.</param>
/// <param name="Shape">The dimensions.</param>
/// <param name="Mode">The tier it was stored in (<see cref="LossyTier.Lossless"/> for exact tensors).</param>
/// <param name="RawBytes">The tensor's byte length.</param>
/// <param name="StoredBytes">The bytes of its record in the delta.</param>
/// <param name="RelativeL2">‖reconstructed − target‖₂ / ‖target‖₂.</param>
/// <param name="RelativeL2OfDelta">‖reconstructed − target‖₂ / ‖target − base‖₂.</param>
/// <param name="MaxAbs">The largest absolute element error.</param>
/// <param name="TargetSha256">SHA-256 of the target tensor's bytes, lowercase hex.</param>
/// <param name="BaseSha256">SHA-256 of the base tensor it was coded against, or null when it was coded on its own.</param>
/// <param name="ReconstructedSha256">SHA-256 of the reconstructed bytes (equal to the target's for exact tensors).</param>
public sealed record LossyTensorInfo(
    string Name,
    DType DType,
    IReadOnlyList<long> Shape,
    LossyTier Mode,
    long RawBytes,
    long StoredBytes,
    double RelativeL2,
    double RelativeL2OfDelta,
    double MaxAbs,
    string TargetSha256,
    string? BaseSha256,
    string ReconstructedSha256)
{
    /// <summary>True when the reconstruction equals the target byte for byte.</summary>
    public bool IsExact => TargetSha256 == ReconstructedSha256;
}
