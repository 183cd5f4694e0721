namespace Z4Ai.S3;

/// <summary>Why an operation on an S3-compatible store failed (<see cref="Z4AiS3Exception.Reason"/>).</summary>
public enum S3FailureReason
{
    /// <summary>
    /// The server refused the credentials or the operation (403: AccessDenied, InvalidAccessKeyId,
    /// SignatureDoesNotMatch), or none could be found in the standard chain.
    /// </summary>
    AccessDenied,

    /// <summary>The bucket does not exist.</summary>
    NoSuchBucket,

    /// <summary>The object does not exist.</summary>
    ObjectNotFound,

    /// <summary>
    /// A conditional write lost a race: another writer created or changed the object first (412, 409), or a publish
    /// claim could not be won in time on a server without conditional writes.
    /// </summary>
    Conflict,

    /// <summary>
    /// The key of an immutable, content-addressed object holds different bytes: something other than Z4Ai wrote it,
    /// or it was damaged. It is left as it is.
    /// </summary>
    ForeignObject,

    /// <summary>
    /// The server could not be reached or kept failing with transient errors (5xx, throttling, timeouts, refused or
    /// reset connections) through every retry.
    /// </summary>
    Unavailable,

    /// <summary>The server answered in a way the protocol does not allow (wrong length, missing ETag, bad range).</summary>
    InvalidResponse,

    /// <summary>The server rejected the request for another reason; the inner exception has its error code.</summary>
    Rejected,
}
