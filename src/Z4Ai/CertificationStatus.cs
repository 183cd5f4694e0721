namespace Z4Ai;

/// <summary>Why a delta may be stored (the outcome of <see cref="LossyDelta.EnsureCertified"/>).</summary>
public enum CertificationStatus
{
    /// <summary>The delta reconstructs its target exactly; no certificate is needed.</summary>
    NotRequired,

    /// <summary>A matching certificate that passed its criteria accompanies the delta.</summary>
    Certified,

    /// <summary>The delta is lossy without a passing certificate, and storing it was forced.</summary>
    Forced,
}
