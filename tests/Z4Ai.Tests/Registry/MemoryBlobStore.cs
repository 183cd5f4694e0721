using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Z4Ai.Tests.Registry;

/// <summary>
/// An in-memory <see cref="IBlobStore"/> without locks, standing in for an object store (S3-like): it shows the
/// registry needs nothing the interface does not promise, and lets tests set the clock to exercise the gc grace
/// period.
/// </summary>
internal sealed class MemoryBlobStore : IBlobStore
{
    private readonly ConcurrentDictionary<string, (byte[] Data, DateTimeOffset Modified)> _blobs = new(StringComparer.Ordinal);

    public Func<DateTimeOffset> Clock { get; set; } = () => DateTimeOffset.UtcNow;

    public string Location => "memory://test";

    public int Count => _blobs.Count;

    public IEnumerable<string> Keys => _blobs.Keys;

    public byte[] this[string key]
    {
        get => _blobs[key].Data;
        set => _blobs[key] = (value, Clock());
    }

    public void SetModified(string key, DateTimeOffset modified) => _blobs[key] = (_blobs[key].Data, modified);

    public ValueTask<BlobInfo?> GetInfoAsync(string key, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_blobs.TryGetValue(key, out var blob) ? new BlobInfo(key, blob.Data.Length, blob.Modified) : null);

    public ValueTask<int> ReadAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        if (!_blobs.TryGetValue(key, out var blob))
        {
            throw new KeyNotFoundException(key);
        }

        int n = (int)Math.Clamp(blob.Data.Length - offset, 0, destination.Length);
        blob.Data.AsSpan((int)Math.Min(offset, blob.Data.Length), n).CopyTo(destination.Span);
        return ValueTask.FromResult(n);
    }

    public ValueTask<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default) =>
        _blobs.TryGetValue(key, out var blob) ? ValueTask.FromResult<Stream>(new MemoryStream(blob.Data, writable: false)) : throw new KeyNotFoundException(key);

    public async ValueTask<bool> PutIfAbsentAsync(string key, Func<Stream, CancellationToken, ValueTask> writeContent, CancellationToken cancellationToken = default)
    {
        if (_blobs.ContainsKey(key))
        {
            return false;
        }

        using var buffer = new MemoryStream();
        await writeContent(buffer, cancellationToken);
        return _blobs.TryAdd(key, (buffer.ToArray(), Clock()));
    }

    public async IAsyncEnumerable<BlobInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach ((string key, var blob) in _blobs.ToArray())
        {
            if (key.StartsWith(prefix, StringComparison.Ordinal))
            {
                yield return new BlobInfo(key, blob.Data.Length, blob.Modified);
            }
        }

        await Task.CompletedTask;
    }

    public ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) => ValueTask.FromResult(_blobs.TryRemove(key, out _));

    public ValueTask TouchAsync(string key, CancellationToken cancellationToken = default)
    {
        if (!_blobs.TryGetValue(key, out var blob))
        {
            throw new KeyNotFoundException(key);
        }

        _blobs[key] = (blob.Data, Clock());
        return ValueTask.CompletedTask;
    }

    public ValueTask<IAsyncDisposable?> TryLockAsync(string name, bool exclusive, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IAsyncDisposable?>(new NoLock());

    private sealed class NoLock : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
