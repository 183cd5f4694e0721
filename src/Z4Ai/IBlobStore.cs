namespace Z4Ai;

/// <summary>
/// The storage a <see cref="ModelRegistry"/> lives on: a flat namespace of immutable blobs addressed by keys such as
/// <c>objects/ab/ab12…</c> or <c>manifests/v2.json</c>. <see cref="LocalBlobStore"/> (a directory) is the default;
/// the interface is shaped so that an S3-compatible object store fits it (conditional PUT, ranged GET, HEAD, LIST,
/// DELETE).
/// </summary>
/// <remarks>
/// <para>
/// Keys are ASCII: segments of letters, digits and <c>. _ - + = @</c> separated by <c>/</c>; no segment is empty,
/// starts with a dot or is <c>..</c>. Stores may treat keys case-insensitively (a case-insensitive file system); the
/// registry only creates keys that stay distinct either way, except version names that differ only in case, which
/// then conflict.
/// </para>
/// <para>
/// What the registry relies on: <see cref="PutIfAbsentAsync"/> is atomic (a reader sees the whole blob or none of
/// it) and durable once it returns true (data flushed to stable storage before the blob becomes visible), and it
/// never replaces an existing blob. That one primitive serves both put-if-absent for content-addressed objects
/// (false means "already stored": fine) and the conditional create of version manifests (false means "the name is
/// taken": a conflict). Methods may complete synchronously.
/// </para>
/// </remarks>
public interface IBlobStore
{
    /// <summary>Where the store is, for messages: a directory path or a URL.</summary>
    string Location { get; }

    /// <summary>Describes a blob (the equivalent of an HTTP HEAD), or returns null when there is none.</summary>
    /// <param name="key">The blob's key.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    ValueTask<BlobInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads bytes <c>[offset, offset + destination.Length)</c> of a blob (a ranged GET). Fewer bytes are returned
    /// only when the blob ends first.
    /// </summary>
    /// <returns>The number of bytes read.</returns>
    /// <exception cref="KeyNotFoundException">There is no blob with this key.</exception>
    ValueTask<int> ReadAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken = default);

    /// <summary>Opens a whole blob for sequential reading (a GET). The caller disposes the stream.</summary>
    /// <exception cref="KeyNotFoundException">There is no blob with this key.</exception>
    ValueTask<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates a blob unless one with this key exists. <paramref name="writeContent"/> writes the content into a
    /// stream the store provides; the blob becomes visible, atomically and durably, only after it returns. If the
    /// writer throws, nothing is created.
    /// </summary>
    /// <param name="key">The blob's key.</param>
    /// <param name="writeContent">Writes the content. It may be called even if the key exists, since a store may
    /// only find out when it publishes the blob.</param>
    /// <param name="cancellationToken">Cancels the write; nothing is created.</param>
    /// <returns>True if the blob was created; false if a blob with this key already existed (it is left unchanged).</returns>
    ValueTask<bool> PutIfAbsentAsync(string key, Func<Stream, CancellationToken, ValueTask> writeContent, CancellationToken cancellationToken = default);

    /// <summary>Lists the blobs whose key starts with <paramref name="prefix"/>, in no particular order.</summary>
    IAsyncEnumerable<BlobInfo> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Deletes a blob.</summary>
    /// <returns>True if it existed.</returns>
    ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sets a blob's last-modified time to now without changing its content. The registry touches an object it
    /// reuses, so that a concurrent garbage collection, which spares objects younger than its grace period, cannot
    /// remove it before the version that reuses it is published.
    /// </summary>
    /// <exception cref="KeyNotFoundException">There is no blob with this key.</exception>
    ValueTask TouchAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Tries to take a named cross-process lock without waiting: shared (any number of holders) or exclusive (one
    /// holder, no shared holders). The registry holds it shared while adding a version and exclusive while collecting
    /// garbage. A lock held by a process that dies is released.
    /// </summary>
    /// <param name="name">The lock's name (a key segment).</param>
    /// <param name="exclusive">True for an exclusive lock.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>
    /// The lock, released when disposed; or null when another holder prevents it. A store that has no such locks
    /// returns a lock that excludes nothing, and the registry then relies on its garbage-collection grace period.
    /// </returns>
    ValueTask<IAsyncDisposable?> TryLockAsync(string name, bool exclusive, CancellationToken cancellationToken = default);
}
