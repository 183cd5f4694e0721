namespace Z4Ai.S3;

/// <summary>
/// An operation on an S3-compatible object store failed. <see cref="Reason"/> says why, precisely enough to act on
/// (fix the credentials, create the bucket, retry the publish under another name, move a foreign object away); the
/// message names the bucket and key, and the inner exception is the client library's. Credentials never appear.
/// Digest mismatches of downloaded bytes are reported as <see cref="Z4AiIntegrityException"/> instead.
/// </summary>
public sealed class Z4AiS3Exception : Z4AiException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="reason">Why it failed.</param>
    /// <param name="message">What happened and what to do.</param>
    /// <param name="bucket">The bucket involved.</param>
    /// <param name="key">The object key involved, if any.</param>
    /// <param name="statusCode">The HTTP status of the last response, if one arrived.</param>
    /// <param name="errorCode">The S3 error code of the last response (such as <c>AccessDenied</c>), if any.</param>
    /// <param name="attempts">How many times the request was sent.</param>
    /// <param name="innerException">The underlying error.</param>
    public Z4AiS3Exception(
        S3FailureReason reason,
        string message,
        string bucket,
        string? key = null,
        int? statusCode = null,
        string? errorCode = null,
        int attempts = 1,
        Exception? innerException = null)
        : base(Compose(message, bucket, key), innerException)
    {
        Reason = reason;
        Bucket = bucket;
        Key = key;
        StatusCode = statusCode;
        ErrorCode = errorCode;
        Attempts = attempts;
    }

    /// <inheritdoc />
    public override Z4AiErrorKind Kind => Reason switch
    {
        S3FailureReason.ForeignObject or S3FailureReason.InvalidResponse => Z4AiErrorKind.InvalidContainer,
        _ => Z4AiErrorKind.Io,
    };

    /// <summary>Why the operation failed.</summary>
    public S3FailureReason Reason { get; }

    /// <summary>The bucket involved.</summary>
    public string Bucket { get; }

    /// <summary>The full object key involved (with the store's prefix), or null.</summary>
    public string? Key { get; }

    /// <summary>The HTTP status of the last response, or null when none arrived.</summary>
    public int? StatusCode { get; }

    /// <summary>The S3 error code of the last response, or null.</summary>
    public string? ErrorCode { get; }

    /// <summary>How many times the request was sent (more than one after transient failures).</summary>
    public int Attempts { get; }

    private static string Compose(string message, string bucket, string? key) =>
        key is null ? $"s3://{bucket}: {message}" : $"s3://{bucket}/{key}: {message}";
}
