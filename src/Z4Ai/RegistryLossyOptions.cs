namespace Z4Ai;

/// <summary>
/// How <see cref="ModelRegistry.Add(string, RegistryLossyOptions, string?, string?, IProgress{ProgressInfo}?, CancellationToken)"/>
/// stores a version in a lossy tier: the tier settings, and how the result is certified before it is published.
/// </summary>
public sealed class RegistryLossyOptions
{
    /// <summary>The tier and its settings (<see cref="LossyOptions.Tier"/> must not be <see cref="LossyTier.Lossless"/>).</summary>
    public LossyOptions Lossy { get; init; } = new();

    /// <summary>
    /// The task that measures the target and the reconstruction; without one the version is only stored with
    /// <see cref="Force"/>.
    /// </summary>
    public ICertificationTask? Task { get; init; }

    /// <summary>What the certificate must meet (<see cref="CertificationCriteria.Default"/>: drop at most 0.2, McNemar p at least 0.05).</summary>
    public CertificationCriteria Criteria { get; init; } = CertificationCriteria.Default;

    /// <summary>Store the version even without a passing certificate (it is listed as forced or failed).</summary>
    public bool Force { get; init; }

    /// <summary>Also evaluate the reference version, so the certificate says what the fine-tune changed (default true).</summary>
    public bool EvaluateBase { get; init; } = true;
}
