using Amazon;
using Amazon.Runtime;
using Amazon.S3;

namespace Z4Ai.S3.Client;

/// <summary>
/// Builds the AWS SDK client with the settings S3-compatible servers need. Every setting that differs from the SDK's
/// default is set here, in one place, with the reason.
/// </summary>
internal static class S3ClientFactory
{
    public static AmazonS3Config CreateConfig(S3StoreOptions options, HttpClientFactory? httpClientFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var config = new AmazonS3Config
        {
            // Path-style: http://host:port/bucket/key. Self-hosted servers have no wildcard DNS for bucket subdomains.
            ForcePathStyle = options.ForcePathStyle,

            // The SDK (since 3.7.410 / 4.0) adds CRC32 trailers and x-amz-checksum-* headers to every PUT and asks
            // for checksums on GET by default; Ceph RGW, Swift s3api and older MinIO reject or mangle those. Only
            // send them where the API demands them. We verify what we read with our own SHA-256 anyway.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,

            // Our S3RetryPolicy retries (with jitter, bounded, logged); SDK retries on top would multiply the attempts.
            MaxErrorRetry = 0,
            RetryMode = RequestRetryMode.Standard,
            Timeout = options.RequestTimeout,
            ConnectTimeout = options.ConnectTimeout,

            // The endpoint comes from the options only (S3StoreOptions.FromEnvironment reads the usual variables), so
            // a stray AWS_ENDPOINT_URL or profile setting cannot silently redirect a configured store.
            IgnoreConfiguredEndpointUrls = true,
        };

        if (options.Endpoint is not null)
        {
            // Signature V4 needs a region even for a custom endpoint; self-hosted servers accept any, usually us-east-1.
            config.ServiceURL = options.Endpoint.ToString();
            config.AuthenticationRegion = options.EffectiveRegion;
            config.UseHttp = options.Endpoint.Scheme == Uri.UriSchemeHttp;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.EffectiveRegion);
        }

        if (!string.IsNullOrWhiteSpace(options.ProfileName))
        {
            config.Profile = new Profile(options.ProfileName);
        }

        if (httpClientFactory is not null)
        {
            config.HttpClientFactory = httpClientFactory;
        }

        return config;
    }

    /// <summary>
    /// Creates the client. Without <paramref name="credentials"/> the SDK resolves them per request from the standard
    /// chain (environment, then profile files, then container/instance roles).
    /// </summary>
    public static AmazonS3Client Create(S3StoreOptions options, AWSCredentials? credentials = null, HttpClientFactory? httpClientFactory = null)
    {
        AmazonS3Config config = CreateConfig(options, httpClientFactory);
        return credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
    }
}
