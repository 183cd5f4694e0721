namespace Z4Ai;

/// <summary>A snapshot of what an <see cref="ITensorSource"/> has done so far.</summary>
/// <param name="Requests">Calls to <see cref="ITensorSource.Acquire"/>; each one that returned is counted once more, as a hit, a wait or a miss.</param>
/// <param name="Hits">Requests served from the cache without waiting.</param>
/// <param name="PrefetchWaits">Requests that waited for another thread's decode of the tensor (usually a prefetch).</param>
/// <param name="Misses">Requests that read and decoded the tensor on the calling thread.</param>
/// <param name="Evictions">Tensors dropped from the cache to make room (least recently used first).</param>
/// <param name="TensorsLoaded">Tensors read, decoded and verified, on demand or by prefetch.</param>
/// <param name="BytesLoaded">Raw bytes of the tensors loaded.</param>
/// <param name="CachedBytes">Decoded bytes held now (leased, ready or being decoded).</param>
/// <param name="PeakCachedBytes">The most decoded bytes ever held at once; never above <paramref name="BudgetBytes"/>.</param>
/// <param name="BudgetBytes">The configured budget.</param>
/// <param name="StallTime">Total time requests spent blocked: decoding on demand, waiting for a prefetch or for room.</param>
public sealed record TensorSourceStatistics(
    long Requests,
    long Hits,
    long PrefetchWaits,
    long Misses,
    long Evictions,
    long TensorsLoaded,
    long BytesLoaded,
    long CachedBytes,
    long PeakCachedBytes,
    long BudgetBytes,
    TimeSpan StallTime);
