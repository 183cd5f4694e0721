namespace Z4Ai;

/// <summary>One version of a registry, as <see cref="ModelRegistry.List"/> and <see cref="ModelRegistry.Log"/> describe it.</summary>
/// <param name="Name">The version name.</param>
/// <param name="Parent">The version it was added against, or null for the base (and for a damaged manifest).</param>
/// <param name="Base">The family's base.</param>
/// <param name="CreatedUtc">When it was added.</param>
/// <param name="Tier">Its fidelity tier: <c>lossless</c>, or the lossy tier (<c>int8</c>, <c>int4</c>, <c>sparse</c>, <c>1bit</c>).</param>
/// <param name="FileCount">How many safetensors files it holds (more than one for a sharded import).</param>
/// <param name="TensorCount">How many tensors it exposes.</param>
/// <param name="LogicalBytes">The size of its files as restored.</param>
/// <param name="StoredBytes">The bytes of the objects it added to the store (shared objects count for the version that added them).</param>
/// <param name="ManifestBytes">The size of its manifest.</param>
/// <param name="Damage">Null for a readable version; otherwise why its manifest cannot be read (the other fields are then empty).</param>
public sealed record RegistryVersion(
    string Name,
    string? Parent,
    string Base,
    DateTimeOffset CreatedUtc,
    string Tier,
    int FileCount,
    int TensorCount,
    long LogicalBytes,
    long StoredBytes,
    long ManifestBytes,
    string? Damage)
{
    /// <summary>True for the family's base version.</summary>
    public bool IsBase => Damage is null && Parent is null;

    /// <summary>Logical bytes per byte the version added (objects plus manifest).</summary>
    public double Ratio => StoredBytes + ManifestBytes == 0 ? 0 : (double)LogicalBytes / (StoredBytes + ManifestBytes);

    /// <summary>The certificate state: <see cref="RegistryCertificateStatus.None"/> for a lossless version.</summary>
    public RegistryCertificateStatus Certificate { get; init; }

    /// <summary>The SHA-256 of the version's current certificate, if it has one.</summary>
    public string? CertificateSha256 { get; init; }
}
