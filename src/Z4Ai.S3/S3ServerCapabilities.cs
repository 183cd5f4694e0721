namespace Z4Ai.S3;

/// <summary>
/// What an S3-compatible server was found to honour (<see cref="S3BlobStore.EnsureCapabilitiesAsync"/>). Where a
/// conditional write is not honoured (OpenStack Swift's <c>s3api</c>), the store publishes through write-once claims
/// instead; see docs/s3.md.
/// </summary>
/// <param name="ConditionalCreate"><c>If-None-Match: *</c> on PUT refuses to overwrite an existing object.</param>
/// <param name="ConditionalReplace"><c>If-Match: etag</c> on PUT refuses a stale ETag and accepts the current one.</param>
/// <param name="RangedGet"><c>Range</c> on GET returns exactly the requested bytes.</param>
/// <param name="ProbedAtUtc">When the probe ran.</param>
/// <param name="Notes">What each probe step observed, for diagnostics.</param>
/// <param name="FromRecord">True when the result was read from the record under the prefix, false when probed now.</param>
public sealed record S3ServerCapabilities(bool ConditionalCreate, bool ConditionalReplace, bool RangedGet, DateTimeOffset ProbedAtUtc, string Notes, bool FromRecord)
{
    /// <summary>True when publishing falls back to write-once claims because a conditional write is not honoured.</summary>
    public bool UsesClaimFallback => !ConditionalCreate || !ConditionalReplace;
}
