namespace Z4Ai;

/// <summary>
/// Certification went wrong: a certificate does not match its delta (<see cref="Z4AiErrorKind.CertificateMismatch"/>),
/// a lossy result has no passing certificate (<see cref="Z4AiErrorKind.CertificationRequired"/>), or an evaluator
/// failed (<see cref="Z4AiErrorKind.EvaluatorFailed"/>). The message names the cause.
/// </summary>
public sealed class Z4AiCertificationException : Z4AiException
{
    private readonly Z4AiErrorKind _kind;

    /// <summary>Creates the exception.</summary>
    /// <param name="kind">One of the certification kinds.</param>
    /// <param name="message">What failed and why.</param>
    /// <param name="innerException">The underlying cause, if any.</param>
    public Z4AiCertificationException(Z4AiErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        _kind = kind;
    }

    /// <inheritdoc />
    public override Z4AiErrorKind Kind => _kind;
}
