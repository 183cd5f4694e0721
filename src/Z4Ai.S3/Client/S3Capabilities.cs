namespace Z4Ai.S3.Client;

/// <summary>
/// What a server was found to honour by <see cref="S3ObjectClient.ProbeAsync"/>. Servers that ignore a conditional
/// header answer 200 instead of 412, so each capability is established by a request that must fail if honoured.
/// </summary>
/// <param name="ConditionalCreate"><c>If-None-Match: *</c> on PUT refuses to overwrite an existing object.</param>
/// <param name="ConditionalReplace"><c>If-Match: etag</c> on PUT refuses a stale ETag and accepts the current one.</param>
/// <param name="RangedGet"><c>Range</c> on GET returns exactly the requested bytes.</param>
/// <param name="ProbedAtUtc">When the probe ran.</param>
/// <param name="Notes">What each step observed, for diagnostics.</param>
internal sealed record S3Capabilities(bool ConditionalCreate, bool ConditionalReplace, bool RangedGet, DateTimeOffset ProbedAtUtc, string Notes)
{
    /// <summary>Assumed before a probe: the conditional writes AWS S3, Ceph RGW and MinIO honour.</summary>
    public static S3Capabilities Assumed { get; } = new(true, true, true, DateTimeOffset.MinValue, "not probed");

    /// <summary>True when publishing must fall back to write-once claim entries.</summary>
    public bool NeedsClaimFallback => !ConditionalCreate || !ConditionalReplace;
}
