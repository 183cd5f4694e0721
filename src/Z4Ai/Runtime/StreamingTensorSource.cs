using System.Diagnostics.CodeAnalysis;

namespace Z4Ai.Runtime;

/// <summary>
/// The <see cref="ITensorSource"/> over any <see cref="IVerifiedTensorStore"/>: name lookup, argument checks and the
/// budget check up front; the caching, prefetching and eviction are <see cref="TensorCache"/>'s.
/// </summary>
internal sealed class StreamingTensorSource : ITensorSource
{
    private readonly IVerifiedTensorStore _store;
    private readonly TensorCache _cache;
    private readonly Dictionary<string, TensorInfo> _byName;

    /// <summary>Takes ownership of <paramref name="store"/>; it is disposed here if the checks fail.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The budget is smaller than the largest tensor; the message gives the size needed.</exception>
    public StreamingTensorSource(IVerifiedTensorStore store, TensorSourceOptions options)
    {
        try
        {
            options.Validate();
            _byName = new Dictionary<string, TensorInfo>(store.Tensors.Count, StringComparer.Ordinal);
            TensorInfo? largest = null;
            foreach (TensorInfo info in store.Tensors)
            {
                _byName.Add(info.Name, info);
                if (largest is null || info.ByteLength > largest.ByteLength)
                {
                    largest = info;
                }
            }

            if (largest is not null && largest.ByteLength > options.CacheBudgetBytes)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(options),
                    options.CacheBudgetBytes,
                    $"a cache budget of {options.CacheBudgetBytes} bytes is too small for {store.DisplayName ?? "this model"}: it needs at least {largest.ByteLength} bytes, the size of its largest tensor '{largest.Name}'");
            }
        }
        catch
        {
            store.Dispose();
            throw;
        }

        _store = store;
        _cache = new TensorCache(store, options.CacheBudgetBytes, options.PrefetchThreads, options.LeaseWaitTimeout);
    }

    public string? Name => _store.DisplayName;

    public IReadOnlyList<TensorInfo> Tensors => _store.Tensors;

    public IReadOnlyDictionary<string, string>? Metadata => _store.Metadata;

    public long BudgetBytes => _cache.Budget;

    internal TensorCache Cache => _cache;

    public bool TryGetInfo(string name, [NotNullWhen(true)] out TensorInfo? info)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _byName.TryGetValue(name, out info);
    }

    public TensorInfo GetInfo(string name) =>
        TryGetInfo(name, out TensorInfo? info) ? info : throw new Z4AiTensorNotFoundException(name, Name);

    public TensorVerification GetVerification(string name) => _store.GetVerification(GetInfo(name).Name);

    public TensorLease Acquire(string name, CancellationToken cancellationToken = default)
    {
        TensorInfo info = GetInfo(name);
        if (info.ByteLength > Array.MaxLength)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.LimitExceeded,
                $"the tensor is {info.ByteLength} bytes, more than a span addresses; read it with SafeTensorsReader.CopyTensorTo",
                Name,
                name);
        }

        int threadId = Environment.CurrentManagedThreadId;
        CacheEntry entry = _cache.Acquire(info, threadId, cancellationToken);
        return new TensorLease(_cache, entry, threadId, _store.GetVerification(name));
    }

    public Task<TensorLease> AcquireAsync(string name, CancellationToken cancellationToken = default)
    {
        GetInfo(name);
        return Task.Run(() => Acquire(name, cancellationToken), cancellationToken);
    }

    public void Prefetch(IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var infos = new List<TensorInfo>();
        foreach (string name in names)
        {
            infos.Add(GetInfo(name));
        }

        _cache.Prefetch(infos);
    }

    public TensorSourceStatistics GetStatistics() => _cache.GetStatistics();

    public void Dispose() => _cache.Dispose();
}
