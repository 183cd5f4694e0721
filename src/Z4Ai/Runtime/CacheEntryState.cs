namespace Z4Ai.Runtime;

/// <summary>The life of a <see cref="CacheEntry"/>: loading, then ready, then evicted (or failed instead of ready).</summary>
internal enum CacheEntryState
{
    /// <summary>Its bytes are reserved in the budget and being read; not yet visible.</summary>
    Loading,

    /// <summary>Verified bytes, in the least-recently-used list.</summary>
    Ready,

    /// <summary>Loading threw; the entry left the cache and its waiters rethrow the failure.</summary>
    Failed,

    /// <summary>Dropped from the cache; its buffer is freed once the last pin goes.</summary>
    Evicted,
}
