using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Z4Ai.S3.Client;

/// <summary>
/// Retries transient failures with capped exponential backoff and full jitter: the delay before retry n (1-based) is
/// uniform in [0, min(max, base * 2^(n-1))]. Full jitter spreads writers that failed together, so they do not hammer
/// a recovering server in lock-step. Only failures that cannot have been caused by the request itself are retried.
/// </summary>
internal sealed class S3RetryPolicy
{
    private readonly Func<TimeSpan, CancellationToken, Task> _delay;
    private readonly Func<double> _random;
    private readonly ILogger _logger;

    public S3RetryPolicy(
        int maxRetries,
        TimeSpan baseDelay,
        TimeSpan maxDelay,
        ILogger? logger = null,
        Func<TimeSpan, CancellationToken, Task>? delay = null,
        Func<double>? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetries);
        MaxRetries = maxRetries;
        BaseDelay = baseDelay;
        MaxDelay = maxDelay;
        _logger = logger ?? NullLogger.Instance;
        _delay = delay ?? Task.Delay;
        _random = random ?? UnitRandom;
    }

    public int MaxRetries { get; }

    public TimeSpan BaseDelay { get; }

    public TimeSpan MaxDelay { get; }

    public static S3RetryPolicy FromOptions(S3StoreOptions options, ILogger? logger = null) =>
        new(options.MaxRetries, options.RetryBaseDelay, options.RetryMaxDelay, logger);

    /// <summary>The cap of the delay before retry <paramref name="retry"/> (1-based): base * 2^(retry-1), at most max.</summary>
    public TimeSpan DelayCap(int retry)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);
        // Past 2^30 the cap is reached for any sensible base; avoid overflowing the tick arithmetic.
        int shift = Math.Min(retry - 1, 30);
        double ticks = BaseDelay.Ticks * Math.Pow(2, shift);
        return ticks >= MaxDelay.Ticks ? MaxDelay : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>The jittered delay before retry <paramref name="retry"/>, for a unit random value in [0, 1).</summary>
    public TimeSpan Delay(int retry, double unitRandom) =>
        TimeSpan.FromTicks((long)(DelayCap(retry).Ticks * Math.Clamp(unitRandom, 0, 1)));

    /// <summary>
    /// True for failures worth another try: 5xx, 429/503 throttling (SlowDown), 408 and RequestTimeout, HTTP and
    /// socket errors (refused, reset, aborted), I/O errors while streaming, and timeouts that were not our own
    /// cancellation.
    /// </summary>
    public static bool IsTransient(Exception exception, CancellationToken cancellationToken = default)
    {
        if (exception is OperationCanceledException)
        {
            // The SDK's request timeout surfaces as a cancellation that the caller did not ask for.
            return !cancellationToken.IsCancellationRequested;
        }

        if (exception is AmazonServiceException service && service.StatusCode != 0)
        {
            int status = (int)service.StatusCode;
            // 501 Not Implemented and 505 are answers about the request, not the server's health.
            if ((status >= 500 && status is not 501 and not 505) || status is 408 or 429)
            {
                return true;
            }

            if (service.ErrorCode is "SlowDown" or "RequestTimeout" or "Throttling" or "ThrottlingException"
                or "RequestTimeTooSkewed" or "InternalError" or "ServiceUnavailable")
            {
                return true;
            }

            // A 400 without an S3 error document is the HTTP layer's complaint, not S3's: Ceph RGW answers some
            // refusals (403, 412) before reading the request body and leaves the connection in a state where the next
            // request on it gets a bare 400. A genuine S3 400 always names its error (InvalidArgument, ...), so a bare
            // one is retried, which goes out on a fresh connection.
            if (status == 400 && (string.IsNullOrEmpty(service.ErrorCode) || service.ErrorCode == "BadRequest"))
            {
                return true;
            }

            // Any other status is the server's considered answer about this request.
            return false;
        }

        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case HttpRequestException http:
                    // A status-bearing HttpRequestException means the server answered; only 5xx/408/429 are transient.
                    return http.StatusCode is null || (int)http.StatusCode >= 500 || http.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;
                case SocketException:
                case IOException:
                case TimeoutException:
                    return true;
                case OperationCanceledException:
                    return !cancellationToken.IsCancellationRequested;
            }
        }

        return false;
    }

    /// <summary>Runs <paramref name="operation"/>, retrying transient failures; the last failure is rethrown as
    /// <see cref="S3RetryExhaustedException"/> when retries ran out, otherwise as it was.</summary>
    public async Task<T> ExecuteAsync<T>(Func<CancellationToken, Task<T>> operation, string operationName, string? key, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await operation(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not S3RetryExhaustedException && IsTransient(ex, cancellationToken))
            {
                if (attempt > MaxRetries)
                {
                    throw new S3RetryExhaustedException(attempt, ex);
                }

                TimeSpan wait = Delay(attempt, _random());
                S3Log.Retrying(_logger, operationName, key ?? string.Empty, attempt, MaxRetries + 1, (long)wait.TotalMilliseconds, Describe(ex));
                await _delay(wait, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not S3RetryExhaustedException && attempt > 1)
            {
                // A permanent answer after transient ones: keep the count for the message.
                throw new S3AttemptsException(attempt, ex);
            }
        }
    }

    public Task ExecuteAsync(Func<CancellationToken, Task> operation, string operationName, string? key, CancellationToken cancellationToken) =>
        ExecuteAsync(
            async ct =>
            {
                await operation(ct).ConfigureAwait(false);
                return true;
            },
            operationName,
            key,
            cancellationToken);

    /// <summary>A short, credential-free description of a failure for logs and messages.</summary>
    public static string Describe(Exception exception) => exception switch
    {
        AmazonServiceException s when s.StatusCode != 0 => $"HTTP {(int)s.StatusCode} {s.ErrorCode}".TrimEnd(),
        _ => Innermost(exception) is var inner ? $"{inner.GetType().Name}: {inner.Message}" : exception.Message,
    };

    private static Exception Innermost(Exception exception)
    {
        Exception e = exception;
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e;
    }

    private static double UnitRandom() => RandomNumberGenerator.GetInt32(int.MaxValue) / (double)int.MaxValue;
}

/// <summary>Transient failures continued through every allowed retry.</summary>
internal sealed class S3RetryExhaustedException(int attempts, Exception last)
    : Exception($"gave up after {attempts} attempts: {S3RetryPolicy.Describe(last)}", last)
{
    public int Attempts { get; } = attempts;
}

/// <summary>A permanent failure that followed transient ones; carries the attempt count.</summary>
internal sealed class S3AttemptsException(int attempts, Exception failure)
    : Exception(failure.Message, failure)
{
    public int Attempts { get; } = attempts;
}
