namespace Z4Ai;

/// <summary>How one tensor of a registry version is stored.</summary>
/// <param name="Name">The tensor name.</param>
/// <param name="File">The file of the version that holds it (for a single-file version, that file's name).</param>
/// <param name="DType">The element type.</param>
/// <param name="Shape">The dimensions.</param>
/// <param name="RawBytes">The uncompressed size.</param>
/// <param name="StoredBytes">The bytes this version added for it (0 for <see cref="TensorStorage.Copy"/>).</param>
/// <param name="Storage">Copy, scratch, or a delta against the parent's or the base's same tensor.</param>
/// <param name="Depth">How many deltas a read of it decodes (0 for a scratch object).</param>
/// <param name="Sha256">The SHA-256 of the raw bytes, lowercase hex; also the id of the object that holds them.</param>
/// <param name="Reference">For a delta, the id of the object it applies to; otherwise null.</param>
/// <param name="Note">Why no delta was used, when the family had no fitting tensor (another name, shape or dtype, the
/// depth bound, an unreadable reference); otherwise null.</param>
public sealed record RegistryTensorReport(
    string Name,
    string File,
    DType DType,
    IReadOnlyList<long> Shape,
    long RawBytes,
    long StoredBytes,
    TensorStorage Storage,
    int Depth,
    string Sha256,
    string? Reference,
    string? Note)
{
    /// <summary>Raw bytes per stored byte (infinity for a copy).</summary>
    public double Ratio => StoredBytes == 0 ? double.PositiveInfinity : (double)RawBytes / StoredBytes;
}
