using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Z4Ai.S3.Client;

/// <summary>
/// The S3 operations a Z4Ai store needs, on one bucket under one key prefix, over the AWS SDK: HEAD, whole and
/// ranged GET with SHA-256 verification, put-if-absent for immutable content-addressed objects, conditional create
/// and compare-and-swap for published records (with a claim-based fallback for servers without conditional PUT),
/// multipart upload, paginated LIST, DELETE, touch, and the capability probe. Every request goes through
/// <see cref="S3RetryPolicy"/>; every failure leaves as <see cref="Z4AiS3Exception"/> or
/// <see cref="Z4AiIntegrityException"/>. Keys given to and returned by this class are relative to <see cref="Prefix"/>.
/// Thread-safe.
/// </summary>
internal sealed partial class S3ObjectClient : IDisposable
{
    /// <summary>User metadata under which Z4Ai records the SHA-256 of what it uploads (x-amz-meta-z4ai-sha256).</summary>
    internal const string Sha256MetadataName = "z4ai-sha256";

    private const string Sha256MetadataHeader = "x-amz-meta-" + Sha256MetadataName;

    private readonly IAmazonS3 _s3;
    private readonly bool _ownsClient;
    private readonly S3RetryPolicy _retry;
    private readonly ILogger _logger;
    private S3Capabilities _capabilities = S3Capabilities.Assumed;

    public S3ObjectClient(IAmazonS3 s3, string bucket, string prefix, S3StoreOptions options, ILogger? logger = null, S3RetryPolicy? retry = null, bool ownsClient = true)
    {
        ArgumentNullException.ThrowIfNull(s3);
        ArgumentNullException.ThrowIfNull(options);
        ThrowIfInvalidBucket(bucket);
        Prefix = NormalizePrefix(prefix);
        _s3 = s3;
        _ownsClient = ownsClient;
        Bucket = bucket;
        Options = options;
        _logger = logger ?? NullLogger.Instance;
        _retry = retry ?? S3RetryPolicy.FromOptions(options, _logger);
    }

    public string Bucket { get; }

    /// <summary>The key prefix every key is relative to: empty, or ending with '/'.</summary>
    public string Prefix { get; }

    public S3StoreOptions Options { get; }

    /// <summary><c>s3://bucket/prefix</c>, for messages.</summary>
    public string Location => $"s3://{Bucket}/{Prefix}";

    /// <summary>What the server honours: <see cref="S3Capabilities.Assumed"/> until <see cref="ProbeAsync"/> ran or
    /// a stored probe result is set (the store keeps it with the remote's configuration).</summary>
    public S3Capabilities Capabilities
    {
        get => Volatile.Read(ref _capabilities);
        set => Volatile.Write(ref _capabilities, value ?? throw new ArgumentNullException(nameof(value)));
    }

    /// <summary>List page size; tests lower it to exercise pagination.</summary>
    internal int ListPageSize { get; set; } = 1000;

    /// <summary>Creates a client for <paramref name="bucket"/> and <paramref name="prefix"/> with the settings of
    /// <see cref="S3ClientFactory"/>; credentials from the standard chain unless given.</summary>
    public static S3ObjectClient Create(
        S3StoreOptions options,
        string bucket,
        string prefix,
        AWSCredentials? credentials = null,
        HttpClientFactory? httpClientFactory = null,
        ILogger? logger = null)
    {
        AmazonS3Client s3 = S3ClientFactory.Create(options, credentials, httpClientFactory);
        try
        {
            return new S3ObjectClient(s3, bucket, prefix, options, logger);
        }
        catch
        {
            s3.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (_ownsClient)
        {
            _s3.Dispose();
        }
    }

    /// <summary>Creates the bucket unless it exists and is ours.</summary>
    public Task EnsureBucketAsync(CancellationToken cancellationToken = default) =>
        RunAsync(
            "create bucket",
            null,
            async ct =>
            {
                try
                {
                    await _s3.PutBucketAsync(new PutBucketRequest { BucketName = Bucket }, ct).ConfigureAwait(false);
                }
                catch (AmazonS3Exception ex) when (ex.ErrorCode is "BucketAlreadyOwnedByYou")
                {
                }

                return true;
            },
            cancellationToken);

    /// <summary>HEAD: describes an object, or returns null when there is none.</summary>
    public Task<S3ObjectInfo?> HeadAsync(string key, CancellationToken cancellationToken = default)
    {
        string full = FullKey(key);
        return RunAsync(
            "head",
            full,
            async ct =>
            {
                try
                {
                    GetObjectMetadataResponse r = await _s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = Bucket, Key = full }, ct).ConfigureAwait(false);
                    return new S3ObjectInfo(key, r.ContentLength, ToUtc(r.LastModified), Unquote(r.ETag), NullIfEmpty(r.Metadata[Sha256MetadataHeader]));
                }
                catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound && ex.ErrorCode is not "NoSuchBucket")
                {
                    return (S3ObjectInfo?)null;
                }
            },
            cancellationToken);
    }

    /// <summary>Deletes an object; returns whether it existed (by a HEAD just before: informational under races).</summary>
    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        string full = FullKey(key);
        bool existed = await HeadAsync(key, cancellationToken).ConfigureAwait(false) is not null;
        if (existed)
        {
            await RunAsync(
                "delete",
                full,
                async ct =>
                {
                    await _s3.DeleteObjectAsync(new DeleteObjectRequest { BucketName = Bucket, Key = full }, ct).ConfigureAwait(false);
                    return true;
                },
                cancellationToken).ConfigureAwait(false);
        }

        return existed;
    }

    /// <summary>
    /// Sets an object's last-modified time to now by copying it onto itself with its metadata (S3 has no touch). The
    /// registry touches reused objects so that a garbage collection with a grace period spares them. Objects above
    /// 5 GiB cannot be copied in one request; such objects are left as they are and the method reports false.
    /// </summary>
    /// <exception cref="Z4AiS3Exception">The object does not exist (<see cref="S3FailureReason.ObjectNotFound"/>) or the copy failed.</exception>
    public async Task<bool> TouchAsync(string key, CancellationToken cancellationToken = default)
    {
        string full = FullKey(key);
        S3ObjectInfo info = await HeadAsync(key, cancellationToken).ConfigureAwait(false)
            ?? throw new Z4AiS3Exception(S3FailureReason.ObjectNotFound, "touch: no such object", Bucket, full, 404);
        if (info.Length > S3StoreOptions.MaximumSinglePutSize)
        {
            return false;
        }

        await RunAsync(
            "touch",
            full,
            async ct =>
            {
                var request = new CopyObjectRequest
                {
                    SourceBucket = Bucket,
                    SourceKey = full,
                    DestinationBucket = Bucket,
                    DestinationKey = full,
                    MetadataDirective = S3MetadataDirective.REPLACE,
                };
                if (info.Sha256 is not null)
                {
                    request.Metadata.Add(Sha256MetadataName, info.Sha256);
                }

                await _s3.CopyObjectAsync(request, ct).ConfigureAwait(false);
                return true;
            },
            cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The full object key: the prefix plus <paramref name="key"/>, which must be a non-empty relative key.</summary>
    internal string FullKey(string key)
    {
        ThrowIfInvalidKey(key, nameof(key));
        return Prefix + key;
    }

    internal string RelativeKey(string fullKey) =>
        fullKey.StartsWith(Prefix, StringComparison.Ordinal) ? fullKey[Prefix.Length..] : fullKey;

    /// <summary>Runs one logical request through the retry policy and maps whatever escapes.</summary>
    private async Task<T> RunAsync<T>(string operation, string? fullKey, Func<CancellationToken, Task<T>> request, CancellationToken cancellationToken)
    {
        try
        {
            return await _retry.ExecuteAsync(request, operation, fullKey, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (S3ErrorMapper.Map(ex, operation, Bucket, fullKey, Options.RequestTimeout, cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    internal static string NormalizePrefix(string? prefix)
    {
        if (string.IsNullOrEmpty(prefix))
        {
            return string.Empty;
        }

        string p = prefix.Trim('/');
        if (p.Length == 0)
        {
            return string.Empty;
        }

        ThrowIfInvalidKey(p, nameof(prefix));
        return p + "/";
    }

    internal static void ThrowIfInvalidKey(string key, string paramName)
    {
        ArgumentException.ThrowIfNullOrEmpty(key, paramName);
        if (key.Length > 1024 || key[0] == '/' || key.Contains("//", StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{key}' is not an object key: 1 to 1024 characters, no leading or doubled '/'", paramName);
        }

        foreach (char c in key)
        {
            if (c < 0x20 || c > 0x7e)
            {
                throw new ArgumentException($"'{key}' is not an object key: use printable ASCII", paramName);
            }
        }
    }

    internal static void ThrowIfInvalidBucket(string bucket)
    {
        ArgumentException.ThrowIfNullOrEmpty(bucket);
        bool ok = bucket.Length is >= 3 and <= 63 && char.IsAsciiLetterLower(bucket[0]) | char.IsAsciiDigit(bucket[0]);
        foreach (char c in bucket)
        {
            ok &= char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.';
        }

        if (!ok)
        {
            throw new ArgumentException($"'{bucket}' is not a bucket name: 3 to 63 lowercase letters, digits, '-' and '.'", nameof(bucket));
        }
    }

    /// <summary>ETags arrive quoted; Ceph RGW compares If-Match against the bare value.</summary>
    internal static string Unquote(string? etag) => string.IsNullOrEmpty(etag) ? string.Empty : etag.Trim().Trim('"');

    internal static string Quote(string etag) => "\"" + Unquote(etag) + "\"";

    internal static DateTimeOffset ToUtc(DateTime? time) => time switch
    {
        null => DateTimeOffset.MinValue,
        { Kind: DateTimeKind.Unspecified } t => new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)),
        { } t => new DateTimeOffset(t.ToUniversalTime()),
    };

    private static string? NullIfEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim().ToLowerInvariant();

    private static bool IsPreconditionFailure(AmazonS3Exception ex) =>
        ex.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict
        || ex.ErrorCode is "PreconditionFailed" or "ConditionalRequestConflict";
}
