using System.Runtime.CompilerServices;
using Amazon.Runtime;
using Z4Ai.S3.Client;

namespace Z4Ai.S3;

/// <summary>
/// A <see cref="ModelRegistry"/> store on an S3-compatible bucket (Ceph RGW, MinIO, AWS S3): each blob is one object
/// under <c>s3://bucket/prefix/</c>. Blobs are published with <c>If-None-Match: *</c> (or a write-once claim on servers
/// without conditional PUT), so racing publishers of one name see exactly one winner; reads are ranged GETs verified
/// against the SHA-256 Z4Ai records with each object. The store has no cross-process locks: a garbage collection relies
/// on the registry's grace period, which spares objects younger than it (reused objects are touched).
/// </summary>
public sealed partial class S3BlobStore : IBlobStore, IDisposable
{
    private const string Scheme = "s3://";

    private readonly S3ObjectClient _client;
    private long _bytesRead;
    private long _readRequests;

    /// <summary>Opens the store at <c>s3://<paramref name="bucket"/>/<paramref name="prefix"/></c>; credentials come
    /// from the standard AWS chain (environment, then profile files) and are never logged.</summary>
    /// <param name="bucket">The bucket, which must exist (see <see cref="EnsureBucketAsync"/>).</param>
    /// <param name="prefix">The key prefix of the registry; empty for the bucket's root.</param>
    /// <param name="options">Endpoint, region and retries; <see cref="S3StoreOptions.FromEnvironment()"/> when null.</param>
    /// <exception cref="ArgumentException">The bucket or prefix is not valid.</exception>
    public S3BlobStore(string bucket, string? prefix = null, S3StoreOptions? options = null)
        : this(S3ObjectClient.Create(options ?? S3StoreOptions.FromEnvironment(), bucket, prefix ?? string.Empty))
    {
    }

    internal S3BlobStore(S3ObjectClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
    }

    /// <inheritdoc />
    public string Location => _client.Location;

    /// <summary>Bytes received by reads since the store was created (ranged and whole GETs), for measurements.</summary>
    public long BytesRead => Interlocked.Read(ref _bytesRead);

    /// <summary>GET requests issued by reads since the store was created, for measurements.</summary>
    public long ReadRequests => Interlocked.Read(ref _readRequests);

    internal S3ObjectClient Client => _client;

    /// <summary>Creates a store with explicit credentials (tests, tools); see the public constructor.</summary>
    internal static S3BlobStore Create(S3StoreOptions options, string bucket, string? prefix, AWSCredentials? credentials, HttpClientFactory? httpClientFactory = null) =>
        new(S3ObjectClient.Create(options, bucket, prefix ?? string.Empty, credentials, httpClientFactory));

    /// <summary>True when <paramref name="location"/> has the form <c>s3://bucket[/prefix]</c>.</summary>
    /// <param name="location">A registry location from the command line.</param>
    public static bool IsS3Location(string? location) =>
        location is not null && location.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase);

    /// <summary>Splits <c>s3://bucket[/prefix]</c> into its bucket and prefix (without slashes at either end).</summary>
    /// <param name="location">The location.</param>
    /// <exception cref="ArgumentException">It is not an s3:// location with a bucket.</exception>
    public static (string Bucket, string Prefix) ParseLocation(string location)
    {
        ArgumentNullException.ThrowIfNull(location);
        if (!IsS3Location(location))
        {
            throw new ArgumentException($"'{location}' is not an s3://bucket/prefix location", nameof(location));
        }

        string rest = location[Scheme.Length..];
        int slash = rest.IndexOf('/', StringComparison.Ordinal);
        string bucket = slash < 0 ? rest : rest[..slash];
        string prefix = slash < 0 ? string.Empty : rest[(slash + 1)..].Trim('/');
        S3ObjectClient.ThrowIfInvalidBucket(bucket);
        _ = S3ObjectClient.NormalizePrefix(prefix);
        return (bucket, prefix);
    }

    /// <summary>Opens the store at an <c>s3://bucket[/prefix]</c> location.</summary>
    /// <param name="location">The location.</param>
    /// <param name="options">Endpoint, region and retries; <see cref="S3StoreOptions.FromEnvironment()"/> when null.</param>
    /// <exception cref="ArgumentException">It is not an s3:// location with a valid bucket.</exception>
    public static S3BlobStore Open(string location, S3StoreOptions? options = null)
    {
        (string bucket, string prefix) = ParseLocation(location);
        return new S3BlobStore(bucket, prefix, options);
    }

    /// <summary>Creates the bucket unless it exists and belongs to the caller.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task EnsureBucketAsync(CancellationToken cancellationToken = default) => _client.EnsureBucketAsync(cancellationToken);

    /// <summary>
    /// Finds out which conditional writes the server honours (a few requests on <c>z4ai-probe/</c> objects, deleted
    /// at once) and publishes accordingly from then on: with <c>If-None-Match: *</c> where it is honoured, else with
    /// write-once claims. Call it before writing to a server that may not be Ceph RGW, MinIO or AWS S3.
    /// </summary>
    /// <param name="cancellationToken">Cancels the probe.</param>
    /// <returns>What the probe observed, for diagnostics.</returns>
    /// <remarks>The result is recorded under the prefix (see <see cref="EnsureCapabilitiesAsync"/>), so later writers
    /// need not probe again.</remarks>
    public async Task<string> ProbeAsync(CancellationToken cancellationToken = default)
    {
        S3ServerCapabilities found = await EnsureCapabilitiesAsync(reprobe: true, cancellationToken).ConfigureAwait(false);
        return found.Notes;
    }

    /// <inheritdoc />
    public async ValueTask<BlobInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default)
    {
        S3ObjectInfo? info = await _client.HeadAsync(key, cancellationToken).ConfigureAwait(false);
        return info is null ? null : new BlobInfo(key, info.Length, info.LastModifiedUtc);
    }

    /// <inheritdoc />
    public async ValueTask<int> ReadAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (destination.IsEmpty)
        {
            // Still report a missing blob as the contract asks, at the price of a HEAD.
            _ = await GetInfoAsync(key, cancellationToken).ConfigureAwait(false) ?? throw NotFound(key);
            return 0;
        }

        try
        {
            Interlocked.Increment(ref _readRequests);
            int read = await _client.ReadRangeAsync(key, offset, destination, cancellationToken).ConfigureAwait(false);
            Interlocked.Add(ref _bytesRead, read);
            return read;
        }
        catch (Z4AiS3Exception ex) when (ex.Reason == S3FailureReason.ObjectNotFound)
        {
            throw NotFound(key, ex);
        }
    }

    /// <inheritdoc />
    public async ValueTask<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default)
    {
        try
        {
            Interlocked.Increment(ref _readRequests);
            Stream inner = await _client.OpenReadAsync(key, null, cancellationToken).ConfigureAwait(false);
            return new CountingStream(inner, this);
        }
        catch (Z4AiS3Exception ex) when (ex.Reason == S3FailureReason.ObjectNotFound)
        {
            throw NotFound(key, ex);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// The content is spooled to a temporary file first, so that its length and SHA-256 are known before the upload
    /// and a retry can resend it. Blobs up to <see cref="S3StoreOptions.MultipartThreshold"/> are created with a
    /// conditional PUT (exactly one of racing creators wins); larger ones, which only content-addressed objects are,
    /// go up in parts after a HEAD, and a racing writer of the same key must hold the same bytes (checked). An existing
    /// object that lacks the SHA-256 Z4Ai records with its uploads counts as present only if it holds exactly these
    /// bytes; otherwise <see cref="S3FailureReason.ForeignObject"/> is thrown and nothing is written.
    /// </remarks>
    public async ValueTask<bool> PutIfAbsentAsync(string key, Func<Stream, CancellationToken, ValueTask> writeContent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writeContent);
        string fullKey = _client.FullKey(key);
        S3ObjectInfo? existing = await _client.HeadAsync(key, cancellationToken).ConfigureAwait(false);
        if (existing is { Sha256: not null })
        {
            // Written by Z4Ai (it records the digest of every upload): the blob is there.
            return false;
        }

        string spool = Path.Combine(Path.GetTempPath(), "z4ai-s3-" + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            var file = new FileStream(spool, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, 1 << 16, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                await writeContent(file, cancellationToken).ConfigureAwait(false);
                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            long length = new FileInfo(spool).Length;
            if (existing is not null)
            {
                // Something without Z4Ai's digest record holds the key: accept it only if it is these very bytes.
                S3UploadContent mine = await S3UploadContent.FromFileAsync(spool, cancellationToken).ConfigureAwait(false);
                (long theirLength, string theirSha) = existing.Length == length
                    ? await _client.HashObjectAsync(key, cancellationToken).ConfigureAwait(false)
                    : (existing.Length, string.Empty);
                if (theirLength == length && theirSha == mine.Sha256)
                {
                    return false;
                }

                throw new Z4AiS3Exception(
                    S3FailureReason.ForeignObject,
                    $"put: the key holds a {existing.Length}-byte object that Z4Ai did not write and that differs from the {length} bytes to publish; move it away (the registry never overwrites)",
                    _client.Bucket,
                    fullKey);
            }

            if (length <= _client.Options.MultipartThreshold)
            {
                byte[] content = await File.ReadAllBytesAsync(spool, cancellationToken).ConfigureAwait(false);
                ConditionalWriteResult result = await _client.TryCreateAsync(key, content, cancellationToken).ConfigureAwait(false);
                return result.Succeeded;
            }

            S3UploadContent upload = await S3UploadContent.FromFileAsync(spool, cancellationToken).ConfigureAwait(false);
            PutImmutableOutcome outcome = await _client.PutImmutableAsync(key, upload, cancellationToken).ConfigureAwait(false);
            return outcome == PutImmutableOutcome.Created;
        }
        finally
        {
            try
            {
                File.Delete(spool);
            }
            catch (IOException)
            {
                // A leftover temporary file is harmless; the publish outcome matters more.
            }
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<BlobInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        await foreach (S3ObjectInfo o in _client.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            // Claims, probe objects and the capability record belong to the adapter, not to the registry.
            if (o.Key.StartsWith(S3ObjectClient.ProbePrefix, StringComparison.Ordinal) || o.Key.StartsWith(S3ClaimNames.ClaimPrefix, StringComparison.Ordinal)
                || o.Key.StartsWith(S3CapabilityRecord.RecordPrefix, StringComparison.Ordinal))
            {
                continue;
            }

            yield return new BlobInfo(o.Key, o.Length, o.LastModifiedUtc);
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        await _client.DeleteAsync(key, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async ValueTask TouchAsync(string key, CancellationToken cancellationToken = default)
    {
        try
        {
            _ = await _client.TouchAsync(key, cancellationToken).ConfigureAwait(false);
        }
        catch (Z4AiS3Exception ex) when (ex.Reason == S3FailureReason.ObjectNotFound)
        {
            throw NotFound(key, ex);
        }
    }

    /// <inheritdoc />
    /// <remarks>S3 has no locks that die with their holder; this store returns a lock that excludes nothing, and the
    /// registry's garbage collection relies on its grace period instead.</remarks>
    public ValueTask<IAsyncDisposable?> TryLockAsync(string name, bool exclusive, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return ValueTask.FromResult<IAsyncDisposable?>(NoLock.Instance);
    }

    /// <summary>Closes the HTTP client.</summary>
    public void Dispose() => _client.Dispose();

    /// <inheritdoc />
    public override string ToString() => Location;

    private KeyNotFoundException NotFound(string key, Exception? inner = null) =>
        new($"{Location}{key}: no such blob", inner);

    private sealed class NoLock : IAsyncDisposable
    {
        public static readonly NoLock Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>Counts what a whole-object read receives.</summary>
    private sealed class CountingStream(Stream inner, S3BlobStore owner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => inner.Length;

        public override long Position
        {
            get => inner.Position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override int Read(Span<byte> buffer) => Count(inner.Read(buffer));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        private int Count(int n)
        {
            Interlocked.Add(ref owner._bytesRead, n);
            return n;
        }
    }
}
