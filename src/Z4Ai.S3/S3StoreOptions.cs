namespace Z4Ai.S3;

/// <summary>
/// How to reach an S3-compatible object store (Ceph RGW, MinIO, Swift s3api, AWS S3) and how hard to try. The
/// defaults suit self-hosted servers: path-style addressing, checksums only where the API requires them, no chunked
/// payload encoding. Credentials are not part of the options: they come from the standard AWS chain (environment
/// variables <c>AWS_ACCESS_KEY_ID</c>/<c>AWS_SECRET_ACCESS_KEY</c>, then the shared profile files), optionally
/// narrowed to <see cref="ProfileName"/>, and are never logged.
/// </summary>
public sealed class S3StoreOptions
{
    /// <summary>The smallest part S3 accepts in a multipart upload (all parts but the last).</summary>
    public const long MinimumPartSize = 5L * 1024 * 1024;

    /// <summary>The largest object a single PUT may carry.</summary>
    public const long MaximumSinglePutSize = 5L * 1024 * 1024 * 1024;

    /// <summary>The most parts a multipart upload may have.</summary>
    public const int MaximumPartCount = 10_000;

    /// <summary>The region used for signing when none is configured; self-hosted servers accept it.</summary>
    public const string DefaultRegion = "us-east-1";

    private long _multipartThreshold = 64L * 1024 * 1024;
    private long _multipartPartSize = 16L * 1024 * 1024;
    private int _maxRetries = 4;
    private TimeSpan _retryBaseDelay = TimeSpan.FromMilliseconds(200);
    private TimeSpan _retryMaxDelay = TimeSpan.FromSeconds(5);
    private TimeSpan _requestTimeout = TimeSpan.FromMinutes(2);
    private TimeSpan _connectTimeout = TimeSpan.FromSeconds(10);
    private TimeSpan _claimStaleAfter = TimeSpan.FromMinutes(10);
    private TimeSpan _capabilitiesMaxAge = TimeSpan.FromDays(7);

    /// <summary>
    /// The server's base URL, such as <c>http://127.0.0.1:7480</c>; null means AWS S3 itself, located through
    /// <see cref="Region"/>.
    /// </summary>
    public Uri? Endpoint { get; set; }

    /// <summary>The signing region; null means <see cref="DefaultRegion"/>.</summary>
    public string? Region { get; set; }

    /// <summary>The shared-credentials profile to use; null means the standard chain's default.</summary>
    public string? ProfileName { get; set; }

    /// <summary>
    /// Addresses buckets as <c>endpoint/bucket/key</c> rather than <c>bucket.endpoint/key</c>; self-hosted servers
    /// rarely have the wildcard DNS that virtual-hosted addressing needs. Default true.
    /// </summary>
    public bool ForcePathStyle { get; set; } = true;

    /// <summary>Objects larger than this are uploaded in parts. Default 64 MiB; at least <see cref="MinimumPartSize"/>.</summary>
    public long MultipartThreshold
    {
        get => _multipartThreshold;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, MinimumPartSize);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaximumSinglePutSize);
            _multipartThreshold = value;
        }
    }

    /// <summary>
    /// The part size of multipart uploads. Default 16 MiB, between <see cref="MinimumPartSize"/> and 5 GiB; raised
    /// automatically when an object would need more than <see cref="MaximumPartCount"/> parts.
    /// </summary>
    public long MultipartPartSize
    {
        get => _multipartPartSize;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, MinimumPartSize);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaximumSinglePutSize);
            _multipartPartSize = value;
        }
    }

    /// <summary>
    /// How many times a request that failed transiently (5xx, throttling, timeout, refused or reset connection) is
    /// tried again. Default 4; 0 disables retries.
    /// </summary>
    public int MaxRetries
    {
        get => _maxRetries;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 30);
            _maxRetries = value;
        }
    }

    /// <summary>The delay cap of the first retry; it doubles with each further retry (full jitter). Default 200 ms.</summary>
    public TimeSpan RetryBaseDelay
    {
        get => _retryBaseDelay;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            _retryBaseDelay = value;
        }
    }

    /// <summary>The largest delay between two tries. Default 5 s.</summary>
    public TimeSpan RetryMaxDelay
    {
        get => _retryMaxDelay;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            _retryMaxDelay = value;
        }
    }

    /// <summary>How long one HTTP request may take before it counts as a transient failure. Default 2 minutes.</summary>
    public TimeSpan RequestTimeout
    {
        get => _requestTimeout;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            _requestTimeout = value;
        }
    }

    /// <summary>How long opening a connection may take. Default 10 s.</summary>
    public TimeSpan ConnectTimeout
    {
        get => _connectTimeout;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            _connectTimeout = value;
        }
    }

    /// <summary>
    /// On servers without conditional PUT, a publish claim older than this (by the server's clock) is taken to be
    /// left by a crashed writer and is removed. Default 10 minutes; see docs/s3.md.
    /// </summary>
    public TimeSpan ClaimStaleAfter
    {
        get => _claimStaleAfter;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            _claimStaleAfter = value;
        }
    }

    /// <summary>
    /// How long a recorded capability probe (<c>z4ai-s3/capabilities.json</c> under the prefix) is trusted before a
    /// writer probes the server again. Default 7 days; see <see cref="S3BlobStore.EnsureCapabilitiesAsync"/>.
    /// </summary>
    public TimeSpan CapabilitiesMaxAge
    {
        get => _capabilitiesMaxAge;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            _capabilitiesMaxAge = value;
        }
    }

    /// <summary>
    /// Reads the endpoint and region from the environment: <c>Z4AI_S3_ENDPOINT</c>, else <c>AWS_ENDPOINT_URL_S3</c>,
    /// else <c>AWS_ENDPOINT_URL</c>; <c>Z4AI_S3_REGION</c>, else <c>AWS_REGION</c>, else <c>AWS_DEFAULT_REGION</c>;
    /// <c>AWS_PROFILE</c>.
    /// </summary>
    /// <exception cref="ArgumentException">An endpoint variable is set but is not an absolute http(s) URL.</exception>
    public static S3StoreOptions FromEnvironment() => FromEnvironment(Environment.GetEnvironmentVariable);

    internal static S3StoreOptions FromEnvironment(Func<string, string?> getVariable)
    {
        var options = new S3StoreOptions();
        string? endpoint = First(getVariable, "Z4AI_S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL");
        if (endpoint is not null)
        {
            options.Endpoint = ParseEndpoint(endpoint);
        }

        options.Region = First(getVariable, "Z4AI_S3_REGION", "AWS_REGION", "AWS_DEFAULT_REGION");
        options.ProfileName = First(getVariable, "AWS_PROFILE");
        return options;
    }

    /// <summary>Checks an endpoint URL: absolute, http or https, no query or fragment.</summary>
    /// <exception cref="ArgumentException">It is not such a URL.</exception>
    public static Uri ParseEndpoint(string endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!Uri.TryCreate(endpoint.Trim(), UriKind.Absolute, out Uri? uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            throw new ArgumentException($"'{endpoint}' is not an S3 endpoint: expected an absolute http:// or https:// URL without query", nameof(endpoint));
        }

        return uri;
    }

    internal string EffectiveRegion => string.IsNullOrWhiteSpace(Region) ? DefaultRegion : Region.Trim();

    private static string? First(Func<string, string?> getVariable, params string[] names)
    {
        foreach (string name in names)
        {
            string? value = getVariable(name);
            if (!string.IsNullOrWhiteSpace(value))
            {
                return value.Trim();
            }
        }

        return null;
    }
}
