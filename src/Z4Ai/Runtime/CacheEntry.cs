using System.Runtime.ExceptionServices;

namespace Z4Ai.Runtime;

/// <summary>One tensor in a <see cref="TensorCache"/>. Every field is guarded by the cache's lock.</summary>
internal sealed class CacheEntry
{
    public CacheEntry(TensorInfo info, NativeTensorBuffer buffer, bool prefetched)
    {
        Info = info;
        Buffer = buffer;
        Prefetched = prefetched;
        LruNode = new LinkedListNode<CacheEntry>(this);
    }

    public TensorInfo Info { get; }

    public NativeTensorBuffer Buffer { get; }

    public long Size => Info.ByteLength;

    public CacheEntryState State { get; set; } = CacheEntryState.Loading;

    /// <summary>Leases plus requests waiting for this entry to finish loading; a pinned entry is never evicted.</summary>
    public int Pins { get; set; }

    /// <summary>Loaded by a prefetch worker rather than on demand.</summary>
    public bool Prefetched { get; }

    /// <summary>Handed out at least once. A prefetched entry not yet used is kept from eviction by later prefetches.</summary>
    public bool Used { get; set; }

    /// <summary>Why loading failed, for the requests that waited on it.</summary>
    public ExceptionDispatchInfo? Failure { get; set; }

    /// <summary>The entry's node in the least-recently-used list (linked while the entry is <see cref="CacheEntryState.Ready"/>).</summary>
    public LinkedListNode<CacheEntry> LruNode { get; }

    public bool IsProtectedFromPrefetch => Prefetched && !Used;
}
