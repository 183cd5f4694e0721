using Microsoft.Extensions.Logging;

namespace Z4Ai.S3.Client;

/// <summary>The S3 layer's log messages. None carries a credential, a header or a signed URL.</summary>
internal static partial class S3Log
{
    [LoggerMessage(EventId = 9001, Level = LogLevel.Warning, Message = "S3 {Operation} {Key}: attempt {Attempt} of {MaxAttempts} failed ({Error}); retrying in {DelayMs} ms")]
    public static partial void Retrying(ILogger logger, string operation, string key, int attempt, int maxAttempts, long delayMs, string error);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Information, Message = "S3 {Location}: conditional create {ConditionalCreate}, conditional replace {ConditionalReplace}, ranged get {RangedGet} ({Notes})")]
    public static partial void Probed(ILogger logger, string location, bool conditionalCreate, bool conditionalReplace, bool rangedGet, string notes);

    [LoggerMessage(EventId = 9003, Level = LogLevel.Debug, Message = "S3 claim on {Key} lost to {Others} other writer(s), attempt {Attempt}")]
    public static partial void ClaimContended(ILogger logger, string key, int others, int attempt);

    [LoggerMessage(EventId = 9004, Level = LogLevel.Warning, Message = "S3 claim {Claim} is older than {StaleAfter} and is removed as abandoned")]
    public static partial void StaleClaimRemoved(ILogger logger, string claim, TimeSpan staleAfter);

    [LoggerMessage(EventId = 9005, Level = LogLevel.Warning, Message = "S3 multipart upload of {Key} failed and was aborted: {Error}")]
    public static partial void MultipartAborted(ILogger logger, string key, string error);
}
