namespace Z4Ai;

/// <summary>
/// Bytes read back do not match the SHA-256 recorded when they were written: the stored data is corrupt or
/// was tampered with. The tensor is never handed out.
/// </summary>
public sealed class Z4AiIntegrityException : Z4AiException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="subject">What failed verification: a tensor name, object id or file.</param>
    /// <param name="expectedDigest">The recorded SHA-256, lowercase hex.</param>
    /// <param name="actualDigest">The SHA-256 of the bytes read, lowercase hex.</param>
    /// <param name="filePath">The file involved, if any.</param>
    public Z4AiIntegrityException(string subject, string expectedDigest, string actualDigest, string? filePath = null)
        : base($"{(filePath is null ? string.Empty : filePath + ", ")}integrity check failed for '{subject}': expected SHA-256 {expectedDigest}, got {actualDigest}")
    {
        Subject = subject;
        ExpectedDigest = expectedDigest;
        ActualDigest = actualDigest;
        FilePath = filePath;
    }

    /// <inheritdoc />
    public override Z4AiErrorKind Kind => Z4AiErrorKind.CorruptFrame;

    /// <summary>The tensor (or object) whose bytes failed verification.</summary>
    public string Subject { get; }

    /// <summary>The recorded digest, lowercase hex.</summary>
    public string ExpectedDigest { get; }

    /// <summary>The digest of the bytes actually read, lowercase hex.</summary>
    public string ActualDigest { get; }

    /// <summary>The file involved, or null.</summary>
    public string? FilePath { get; }
}
