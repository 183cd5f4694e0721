using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;

namespace Z4Ai.S3.Client;

/// <summary>
/// Turns what the SDK and the retry policy throw into <see cref="Z4AiS3Exception"/> with a precise reason. Messages
/// name the operation, bucket and key; they never include request headers, so credentials cannot leak into them.
/// </summary>
internal static class S3ErrorMapper
{
    /// <summary>
    /// Maps <paramref name="exception"/>; returns null for exceptions that must pass unchanged (the caller's own
    /// cancellation, argument errors, and Z4Ai exceptions already precise).
    /// </summary>
    public static Exception? Map(Exception exception, string operation, string bucket, string? key, TimeSpan? requestTimeout = null, CancellationToken cancellationToken = default)
    {
        int attempts = 1;
        Exception e = exception;
        bool exhausted = false;
        if (e is S3RetryExhaustedException ex)
        {
            attempts = ex.Attempts;
            exhausted = true;
            e = ex.InnerException!;
        }
        else if (e is S3AttemptsException ax)
        {
            attempts = ax.Attempts;
            e = ax.InnerException!;
        }

        if (e is Z4AiException || e is ArgumentException)
        {
            return e == exception ? null : e;
        }

        if (e is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            return e == exception ? null : e;
        }

        string tries = attempts > 1 ? $" (after {attempts} attempts)" : string.Empty;
        if (e is AmazonServiceException service && service.StatusCode != 0)
        {
            int status = (int)service.StatusCode;
            string code = service.ErrorCode ?? string.Empty;
            (S3FailureReason reason, string text) = Classify(status, code, operation);
            if (exhausted)
            {
                reason = S3FailureReason.Unavailable;
                text = $"{operation} kept failing with HTTP {status} {code}; the server is overloaded or unhealthy";
            }

            return new Z4AiS3Exception(reason, text + tries, bucket, key, status, code.Length == 0 ? null : code, attempts, e);
        }

        if (e is AmazonClientException && !S3RetryPolicy.IsTransient(e, cancellationToken) && LooksLikeMissingCredentials(e))
        {
            return new Z4AiS3Exception(
                S3FailureReason.AccessDenied,
                $"{operation}: no credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or configure a profile",
                bucket,
                key,
                attempts: attempts,
                innerException: e);
        }

        if (requestTimeout is { } timeout && S3RetryPolicy.IsTransient(e, cancellationToken) && IsTimeout(e))
        {
            return new Z4AiS3Exception(
                S3FailureReason.Unavailable,
                $"{operation}: the server did not answer within {timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s (the request timeout){tries}; it is down, overloaded or unreachable",
                bucket,
                key,
                attempts: attempts,
                innerException: e);
        }

        if (S3RetryPolicy.IsTransient(e, cancellationToken))
        {
            return new Z4AiS3Exception(
                S3FailureReason.Unavailable,
                $"{operation}: the server cannot be reached or did not answer ({S3RetryPolicy.Describe(e)}){tries}",
                bucket,
                key,
                attempts: attempts,
                innerException: e);
        }

        return new Z4AiS3Exception(S3FailureReason.Rejected, $"{operation} failed: {S3RetryPolicy.Describe(e)}{tries}", bucket, key, attempts: attempts, innerException: e);
    }

    internal static (S3FailureReason Reason, string Message) Classify(int status, string code, string operation)
    {
        switch (code)
        {
            case "NoSuchBucket":
                return (S3FailureReason.NoSuchBucket, $"{operation}: the bucket does not exist; create it first");
            case "NoSuchKey":
                return (S3FailureReason.ObjectNotFound, $"{operation}: no such object");
            case "AccessDenied" or "InvalidAccessKeyId" or "SignatureDoesNotMatch" or "AllAccessDisabled" or "InvalidToken" or "ExpiredToken":
                return (S3FailureReason.AccessDenied, $"{operation}: access denied by the server ({code}); check the credentials and the bucket policy");
            case "PreconditionFailed" or "ConditionalRequestConflict" or "OperationAborted":
                return (S3FailureReason.Conflict, $"{operation}: another writer changed the object first ({code})");
            case "InvalidRange":
                return (S3FailureReason.InvalidResponse, $"{operation}: the requested range is outside the object");
        }

        return status switch
        {
            (int)HttpStatusCode.Forbidden or (int)HttpStatusCode.Unauthorized =>
                (S3FailureReason.AccessDenied, $"{operation}: access denied by the server (HTTP {status}); check the credentials and the bucket policy"),
            (int)HttpStatusCode.NotFound => (S3FailureReason.ObjectNotFound, $"{operation}: not found"),
            (int)HttpStatusCode.PreconditionFailed or (int)HttpStatusCode.Conflict =>
                (S3FailureReason.Conflict, $"{operation}: another writer changed the object first (HTTP {status})"),
            501 or 505 => (S3FailureReason.Rejected, $"{operation}: the server does not implement this request (HTTP {status} {code})"),
            >= 500 => (S3FailureReason.Unavailable, $"{operation}: the server failed (HTTP {status} {code})"),
            _ => (S3FailureReason.Rejected, $"{operation}: the server rejected the request (HTTP {status} {code})"),
        };
    }

    /// <summary>True when the failure is a request that ran out of time (not a refused or reset connection).</summary>
    internal static bool IsTimeout(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is TimeoutException or OperationCanceledException
                || (x is SocketException s && s.SocketErrorCode is SocketError.OperationAborted or SocketError.TimedOut))
            {
                return true;
            }
        }

        return false;
    }

    private static bool LooksLikeMissingCredentials(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
