namespace Z4Ai;

/// <summary>What <see cref="ModelRegistry.Add(string, string?, string?, IProgress{ProgressInfo}?, IReadOnlyList{string}?, CancellationToken)"/> (or its lossy overload) stored for a new version.</summary>
/// <param name="Name">The new version.</param>
/// <param name="Parent">Its parent, or null for the base.</param>
/// <param name="Base">The family's base version.</param>
/// <param name="Tensors">Every tensor, in file order.</param>
/// <param name="LogicalBytes">The size of the version's files as restored (headers and tensors).</param>
/// <param name="StoredBytes">The bytes of the objects this version added to the store.</param>
/// <param name="ManifestBytes">The size of its manifest.</param>
/// <param name="Elapsed">Wall time.</param>
public sealed record RegistryAddReport(
    string Name,
    string? Parent,
    string Base,
    IReadOnlyList<RegistryTensorReport> Tensors,
    long LogicalBytes,
    long StoredBytes,
    long ManifestBytes,
    TimeSpan Elapsed)
{
    /// <summary>Logical bytes per byte added (objects plus manifest).</summary>
    public double Ratio => StoredBytes + ManifestBytes == 0 ? 0 : (double)LogicalBytes / (StoredBytes + ManifestBytes);

    /// <summary>How many tensors were stored in the given way.</summary>
    public int Count(TensorStorage storage) => Tensors.Count(t => t.Storage == storage);

    /// <summary>The version's tier: <c>lossless</c>, or the lossy tier it was stored in.</summary>
    public string Tier { get; init; } = "lossless";

    /// <summary>The certificate a lossy version was stored with (null for lossless versions and forced ones without a task).</summary>
    public FidelityCertificate? Certificate { get; init; }
}
