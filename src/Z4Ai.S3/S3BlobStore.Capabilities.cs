using Z4Ai.S3.Client;

namespace Z4Ai.S3;

/// <summary>The capability probe's persisted result (<c>z4ai-s3/capabilities.json</c> under the prefix).</summary>
public sealed partial class S3BlobStore
{
    /// <summary>
    /// Makes the store publish the way the server allows, probing only when needed: reads the capability record
    /// under the prefix and uses it while it is fresh (younger than <see cref="S3StoreOptions.CapabilitiesMaxAge"/>,
    /// probed through the same endpoint); otherwise, or when <paramref name="reprobe"/> is set, runs the probe
    /// (a few requests on <c>z4ai-probe/</c> objects, deleted at once) and writes the record. A record that cannot be
    /// read as one is replaced. The record is written with a plain PUT: racing writers store equivalent results.
    /// </summary>
    /// <param name="reprobe">Probe even when the record is fresh (after a server upgrade, or to check it).</param>
    /// <param name="cancellationToken">Cancels the requests.</param>
    /// <returns>The capabilities now in use, and whether they came from the record.</returns>
    /// <exception cref="Z4AiS3Exception">The server refused or failed a request.</exception>
    public async Task<S3ServerCapabilities> EnsureCapabilitiesAsync(bool reprobe = false, CancellationToken cancellationToken = default)
    {
        string endpoint = EndpointName;
        if (!reprobe)
        {
            (S3Capabilities Capabilities, string Endpoint)? stored = await ReadCapabilityRecordAsync(cancellationToken).ConfigureAwait(false);
            if (stored is { } s
                && S3CapabilityRecord.StaleReason(s.Capabilities, s.Endpoint, endpoint, _client.Options.CapabilitiesMaxAge, DateTimeOffset.UtcNow) is null)
            {
                _client.Capabilities = s.Capabilities;
                return ToPublic(s.Capabilities, fromRecord: true);
            }
        }

        S3Capabilities probed = await _client.ProbeAsync(cancellationToken).ConfigureAwait(false);
        await _client.PutRecordAsync(S3CapabilityRecord.Key, S3CapabilityRecord.Serialize(probed, endpoint), cancellationToken).ConfigureAwait(false);
        return ToPublic(probed, fromRecord: false);
    }

    /// <summary>The capabilities the store currently publishes with (assumed until probed or read from the record).</summary>
    public S3ServerCapabilities Capabilities => ToPublic(_client.Capabilities, fromRecord: false);

    /// <summary>The endpoint as recorded with a probe result: the configured URL, or "aws:REGION".</summary>
    private string EndpointName => _client.Options.Endpoint?.ToString().TrimEnd('/') ?? "aws:" + _client.Options.EffectiveRegion;

    private async Task<(S3Capabilities Capabilities, string Endpoint)?> ReadCapabilityRecordAsync(CancellationToken cancellationToken)
    {
        S3ObjectInfo? info = await _client.HeadAsync(S3CapabilityRecord.Key, cancellationToken).ConfigureAwait(false);
        if (info is null || info.Length > S3CapabilityRecord.MaxLength)
        {
            return null;
        }

        try
        {
            byte[] bytes = await _client.GetAsync(S3CapabilityRecord.Key, S3CapabilityRecord.MaxLength, null, cancellationToken).ConfigureAwait(false);
            return S3CapabilityRecord.TryParse(bytes);
        }
        catch (Z4AiS3Exception ex) when (ex.Reason == S3FailureReason.ObjectNotFound)
        {
            return null;
        }
        catch (Z4AiIntegrityException)
        {
            // Damaged or rewritten by something else: not a record to trust; the probe replaces it.
            return null;
        }
    }

    private static S3ServerCapabilities ToPublic(S3Capabilities c, bool fromRecord) =>
        new(c.ConditionalCreate, c.ConditionalReplace, c.RangedGet, c.ProbedAtUtc, c.Notes, fromRecord);
}
