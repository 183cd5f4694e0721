namespace Z4Ai;

/// <summary>The outcome of checking a certificate against a lossy delta.</summary>
/// <param name="Problems">Every mismatch or inconsistency found; empty when the certificate matches.</param>
public sealed record CertificateVerification(IReadOnlyList<string> Problems)
{
    /// <summary>True when the certificate is bound to the delta and internally consistent.</summary>
    public bool IsValid => Problems.Count == 0;

    /// <summary>Throws <see cref="Z4AiCertificationException"/> (<see cref="Z4AiErrorKind.CertificateMismatch"/>) listing the problems.</summary>
    public void ThrowIfInvalid()
    {
        if (!IsValid)
        {
            throw new Z4AiCertificationException(
                Z4AiErrorKind.CertificateMismatch, "the certificate does not match the delta: " + string.Join("; ", Problems));
        }
    }
}
