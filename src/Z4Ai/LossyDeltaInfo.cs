namespace Z4Ai;

/// <summary>What a lossy delta holds, read without its base.</summary>
/// <param name="FilePath">The file inspected, or null for bytes in memory.</param>
/// <param name="FileLength">Its size in bytes.</param>
/// <param name="FileSha256">SHA-256 of the whole file: the value a fidelity certificate is bound to.</param>
/// <param name="FormatVersion">The lossy-delta format version.</param>
/// <param name="Settings">The model-wide tier and its settings.</param>
/// <param name="BaseSha256">The identity of the base model (a digest over its tensors' names, shapes and SHA-256).</param>
/// <param name="TargetSha256">The identity of the target (fine-tuned) model.</param>
/// <param name="ReconstructedSha256">The identity of the model the delta reconstructs.</param>
/// <param name="Tensors">Every tensor, in the target file's order.</param>
public sealed record LossyDeltaInfo(
    string? FilePath,
    long FileLength,
    string FileSha256,
    int FormatVersion,
    LossyTierSettings Settings,
    string BaseSha256,
    string TargetSha256,
    string ReconstructedSha256,
    IReadOnlyList<LossyTensorInfo> Tensors)
{
    /// <summary>True when at least one tensor is reconstructed inexactly, so a certificate is required to store it.</summary>
    public bool IsLossy => Tensors.Any(t => !t.IsExact);

    /// <summary>The target's tensor bytes in all.</summary>
    public long RawBytes => Tensors.Sum(t => t.RawBytes);

    /// <summary>Target bytes per byte of the delta file.</summary>
    public double Ratio => FileLength == 0 ? 0 : (double)RawBytes / FileLength;
}
