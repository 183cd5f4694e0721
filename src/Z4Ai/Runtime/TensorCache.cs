using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Z4Ai.Runtime;

/// <summary>
/// Decoded, verified tensors from an <see cref="IVerifiedTensorStore"/>, held in unmanaged buffers whose total never
/// exceeds a byte budget. Tensors are loaded on demand or by background prefetch workers and evicted least recently
/// used first; a pinned entry (leased, or awaited while loading) is never evicted.
/// </summary>
/// <remarks>
/// <para>One monitor guards every field; reads and decoding run outside it. The budget counts every buffer that
/// exists: ready entries, leased entries and entries still loading, so <c>_reserved &lt;= _budget</c> holds at every
/// instant, which is what lets the process's resident memory follow the budget.</para>
/// <para>Eviction policy: a demand load evicts least recently used unpinned entries, preferring those already used
/// over prefetched ones not yet used. A prefetch may evict only used entries, so a prefetch cannot throw out another
/// prefetch before its consumer got to it; it waits instead, and it never takes room while a demand load waits.</para>
/// </remarks>
internal sealed class TensorCache : IDisposable
{
    private readonly object _gate = new();
    private readonly IVerifiedTensorStore _store;
    private readonly long _budget;
    private readonly int _prefetchThreads;
    private readonly TimeSpan _leaseWaitTimeout;
    private readonly Dictionary<string, CacheEntry> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<CacheEntry> _lru = new();
    private readonly Queue<TensorInfo> _queue = new();
    private readonly HashSet<string> _queued = new(StringComparer.Ordinal);
    private readonly Dictionary<int, int> _leasesByThread = [];
    private Thread[]? _workers;

    // A buffer taken from an entry evicted to make room for a tensor of the same size, handed to that tensor by
    // CreateEntry within the same lock hold. Reusing it spares the page faults of fresh memory, which cost as much
    // system time as the decode itself when a model streams through a full cache.
    private NativeTensorBuffer? _spare;
    private long _reserved;
    private long _peak;
    private int _loadsInFlight;
    private int _demandWaiters;

    // Requests pinning an entry they waited on while it loaded: until they take the lock again, that entry is pinned
    // without a lease, so a full budget may still free up even when no load is in flight and no lease is held.
    private int _waiterPins;
    private int _leases;
    private bool _disposed;
    private long _requests;
    private long _hits;
    private long _prefetchWaits;
    private long _misses;
    private long _evictions;
    private long _tensorsLoaded;
    private long _bytesLoaded;
    private long _stallTicks;

    public TensorCache(IVerifiedTensorStore store, long budget, int prefetchThreads, TimeSpan leaseWaitTimeout)
    {
        _store = store;
        _budget = budget;
        _prefetchThreads = prefetchThreads;
        _leaseWaitTimeout = leaseWaitTimeout;
    }

    public long Budget => _budget;

    /// <summary>
    /// Returns the tensor's entry, ready and pinned once for the caller, who must call <see cref="Release"/> with the
    /// same thread id. See <see cref="ITensorSource.Acquire"/> for the exceptions.
    /// </summary>
    public CacheEntry Acquire(TensorInfo info, int threadId, CancellationToken ct)
    {
        long start = Stopwatch.GetTimestamp();
        using CancellationTokenRegistration registration = ct.CanBeCanceled ? ct.Register(WakeAll) : default;
        CacheEntry entry;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _requests++;
            bool stalled = false;
            long deadline = _leaseWaitTimeout == Timeout.InfiniteTimeSpan ? long.MaxValue : start + (long)(_leaseWaitTimeout.TotalSeconds * Stopwatch.Frequency);
            while (true)
            {
                if (_entries.TryGetValue(info.Name, out CacheEntry? existing))
                {
                    // Every request that returns counts once: a hit, a wait on another thread's decode, or a miss.
                    if (existing.State == CacheEntryState.Loading)
                    {
                        _prefetchWaits++;
                        existing.Pins++;
                        _waiterPins++;
                        try
                        {
                            while (existing.State == CacheEntryState.Loading)
                            {
                                WaitLocked(Timeout.InfiniteTimeSpan, ct);
                            }
                        }
                        finally
                        {
                            existing.Pins--;
                            _waiterPins--;
                        }

                        if (existing.State == CacheEntryState.Failed)
                        {
                            existing.Failure!.Throw();
                        }

                        // Evicted here means the source was disposed while this request waited.
                        ObjectDisposedException.ThrowIf(existing.State != CacheEntryState.Ready, this);

                        AddStall(start);
                    }
                    else if (stalled)
                    {
                        // It waited for room, and meanwhile another thread decoded the tensor.
                        _prefetchWaits++;
                        AddStall(start);
                    }
                    else
                    {
                        _hits++;
                    }

                    // Ready: a pinned entry cannot have been evicted, and an unpinned one is only evicted under the lock.
                    HandOut(existing, threadId);
                    return existing;
                }

                ObjectDisposedException.ThrowIf(_disposed, this);
                if (TryReserve(info.ByteLength, forPrefetch: false))
                {
                    entry = CreateEntry(info, prefetched: false);
                    entry.Pins = 1;
                    _misses++;
                    break;
                }

                bool settling = _loadsInFlight > 0 || _waiterPins > 0;
                if (!settling && _leases - _leasesByThread.GetValueOrDefault(threadId) == 0)
                {
                    throw new InvalidOperationException(
                        $"tensor '{info.Name}' needs {info.ByteLength} bytes, but {_reserved} of the {_budget}-byte budget are held by {_leases} lease(s) of this thread; dispose leases before acquiring more, or raise the budget");
                }

                // A load in flight always ends (and then leaves room or an evictable entry), and a waiter's pin goes
                // as soon as it runs, so those are waited for without limit; only leases held by other threads are
                // subject to the timeout.
                TimeSpan wait = Timeout.InfiniteTimeSpan;
                if (!settling && deadline != long.MaxValue)
                {
                    long remaining = deadline - Stopwatch.GetTimestamp();
                    if (remaining <= 0)
                    {
                        throw new TimeoutException(
                            $"tensor '{info.Name}' needs {info.ByteLength} bytes; {_reserved} of the {_budget}-byte budget stayed leased by other threads for longer than {_leaseWaitTimeout}");
                    }

                    wait = Stopwatch.GetElapsedTime(0, remaining);
                }

                stalled = true;
                _demandWaiters++;
                try
                {
                    WaitLocked(wait, ct);
                }
                finally
                {
                    _demandWaiters--;
                }
            }
        }

        try
        {
            _store.ReadVerified(info, entry.Buffer.Span);
        }
        catch (Exception ex)
        {
            lock (_gate)
            {
                entry.Pins--;
                Fail(entry, ex);
            }

            throw;
        }

        lock (_gate)
        {
            Complete(entry);
            entry.Pins--;
            HandOut(entry, threadId);
            AddStall(start);
            return entry;
        }
    }

    /// <summary>Gives back one pin taken by <see cref="Acquire"/>.</summary>
    public void Release(CacheEntry entry, int threadId)
    {
        lock (_gate)
        {
            entry.Pins--;
            _leases--;
            int held = _leasesByThread[threadId] - 1;
            if (held == 0)
            {
                _leasesByThread.Remove(threadId);
            }
            else
            {
                _leasesByThread[threadId] = held;
            }

            if (entry.Pins == 0 && entry.State == CacheEntryState.Evicted)
            {
                entry.Buffer.Dispose();
            }

            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Queues tensors for the background workers (starting them the first time).</summary>
    public void Prefetch(IReadOnlyList<TensorInfo> tensors)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            foreach (TensorInfo info in tensors)
            {
                if (!_entries.ContainsKey(info.Name) && _queued.Add(info.Name))
                {
                    _queue.Enqueue(info);
                }
            }

            if (_workers is null && _queue.Count > 0)
            {
                _workers = new Thread[_prefetchThreads];
                for (int i = 0; i < _workers.Length; i++)
                {
                    _workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"Z4Ai prefetch {i}" };
                    _workers[i].Start();
                }
            }

            Monitor.PulseAll(_gate);
        }
    }

    public TensorSourceStatistics GetStatistics()
    {
        lock (_gate)
        {
            return new TensorSourceStatistics(
                _requests,
                _hits,
                _prefetchWaits,
                _misses,
                _evictions,
                _tensorsLoaded,
                _bytesLoaded,
                _reserved,
                _peak,
                _budget,
                Stopwatch.GetElapsedTime(0, _stallTicks));
        }
    }

    /// <summary>The ready tensors, least recently used first (for tests and diagnostics).</summary>
    internal IReadOnlyList<string> GetLruOrder()
    {
        lock (_gate)
        {
            return _lru.Select(e => e.Info.Name).ToArray();
        }
    }

    /// <summary>Waits until no prefetch is queued or loading; false if that did not happen within the timeout.</summary>
    internal bool WaitForPrefetch(TimeSpan timeout)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        lock (_gate)
        {
            while (_queue.Count > 0 || _loadsInFlight > 0)
            {
                long remaining = deadline - Stopwatch.GetTimestamp();
                if (remaining <= 0 || !Monitor.Wait(_gate, Stopwatch.GetElapsedTime(0, remaining)))
                {
                    return _queue.Count == 0 && _loadsInFlight == 0;
                }
            }

            return true;
        }
    }

    /// <summary>
    /// Stops the workers, waits for loads in flight, frees every unpinned buffer (pinned ones are freed by their last
    /// release) and disposes the store.
    /// </summary>
    public void Dispose()
    {
        Thread[]? workers;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _queue.Clear();
            _queued.Clear();
            workers = _workers;
            Monitor.PulseAll(_gate);
        }

        if (workers is not null)
        {
            foreach (Thread worker in workers)
            {
                worker.Join();
            }
        }

        lock (_gate)
        {
            while (_loadsInFlight > 0)
            {
                Monitor.Wait(_gate);
            }

            foreach (CacheEntry entry in _entries.Values)
            {
                entry.State = CacheEntryState.Evicted;
                if (entry.Pins == 0)
                {
                    entry.Buffer.Dispose();
                }
            }

            _entries.Clear();
            _lru.Clear();
            _reserved = 0;
        }

        _store.Dispose();
    }

    private void WorkerLoop()
    {
        while (true)
        {
            CacheEntry entry;
            lock (_gate)
            {
                while (true)
                {
                    if (_disposed)
                    {
                        return;
                    }

                    if (_queue.Count > 0)
                    {
                        TensorInfo next = _queue.Peek();
                        if (_entries.ContainsKey(next.Name))
                        {
                            _queue.Dequeue();
                            _queued.Remove(next.Name);
                            continue;
                        }

                        // Demand loads go first: a prefetch takes no room while one waits for it.
                        if (_demandWaiters == 0 && TryReserve(next.ByteLength, forPrefetch: true))
                        {
                            _queue.Dequeue();
                            _queued.Remove(next.Name);
                            try
                            {
                                entry = CreateEntry(next, prefetched: true);
                            }
                            catch (OutOfMemoryException)
                            {
                                // Skipped: the tensor is loaded on demand when it is acquired.
                                continue;
                            }

                            break;
                        }
                    }

                    Monitor.Wait(_gate);
                }
            }

            try
            {
                _store.ReadVerified(entry.Info, entry.Buffer.Span);
                lock (_gate)
                {
                    Complete(entry);
                }
            }
#pragma warning disable CA1031 // A failed prefetch must not kill the worker; the next Acquire of the tensor retries and throws.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                lock (_gate)
                {
                    Fail(entry, ex);
                }
            }
        }
    }

    // Makes room for `size` more bytes by evicting unpinned ready entries, least recently used first, and reserves it.
    // Nothing is evicted unless the eviction is enough to fit the request.
    private bool TryReserve(long size, bool forPrefetch)
    {
        long excess = _reserved + size - _budget;
        if (excess > 0)
        {
            long freeable = 0;
            foreach (CacheEntry e in _lru)
            {
                if (e.Pins == 0 && (!forPrefetch || !e.IsProtectedFromPrefetch))
                {
                    freeable += e.Size;
                }
            }

            if (freeable < excess)
            {
                return false;
            }

            // Used entries go first; a prefetched entry not yet used is only taken by a demand load, and last.
            excess = EvictWhile(excess, size, protectedEntries: false);
            if (excess > 0)
            {
                EvictWhile(excess, size, protectedEntries: true);
            }
        }

        _reserved += size;
        _peak = Math.Max(_peak, _reserved);
        Debug.Assert(_reserved <= _budget, "the reservation exceeds the budget");
        return true;
    }

    private long EvictWhile(long excess, long reuseSize, bool protectedEntries)
    {
        LinkedListNode<CacheEntry>? node = _lru.First;
        while (node is not null && excess > 0)
        {
            LinkedListNode<CacheEntry>? next = node.Next;
            CacheEntry e = node.Value;
            if (e.Pins == 0 && e.IsProtectedFromPrefetch == protectedEntries)
            {
                _lru.Remove(node);
                _entries.Remove(e.Info.Name);
                e.State = CacheEntryState.Evicted;
                if (_spare is null && e.Size == reuseSize && e.Size > 0)
                {
                    _spare = e.Buffer;
                }
                else
                {
                    e.Buffer.Dispose();
                }

                _reserved -= e.Size;
                _evictions++;
                excess -= e.Size;
            }

            node = next;
        }

        return excess;
    }

    // Called with the room already reserved; gives the reservation back if the allocation fails.
    private CacheEntry CreateEntry(TensorInfo info, bool prefetched)
    {
        NativeTensorBuffer? buffer = _spare;
        _spare = null;
        try
        {
            if (buffer is null || buffer.Length != info.ByteLength)
            {
                buffer?.Dispose();
                buffer = NativeTensorBuffer.Allocate(info.ByteLength);
            }
        }
        catch
        {
            _reserved -= info.ByteLength;
            throw;
        }

        var entry = new CacheEntry(info, buffer, prefetched);
        _entries.Add(info.Name, entry);
        _loadsInFlight++;
        return entry;
    }

    private void Complete(CacheEntry entry)
    {
        entry.State = CacheEntryState.Ready;
        _lru.AddLast(entry.LruNode);
        _loadsInFlight--;
        _tensorsLoaded++;
        _bytesLoaded += entry.Size;
        Monitor.PulseAll(_gate);
    }

    private void Fail(CacheEntry entry, Exception ex)
    {
        entry.State = CacheEntryState.Failed;
        entry.Failure = ExceptionDispatchInfo.Capture(ex);
        _entries.Remove(entry.Info.Name);
        _reserved -= entry.Size;
        _loadsInFlight--;
        entry.Buffer.Dispose();
        Monitor.PulseAll(_gate);
    }

    private void HandOut(CacheEntry entry, int threadId)
    {
        entry.Pins++;
        entry.Used = true;
        _lru.Remove(entry.LruNode);
        _lru.AddLast(entry.LruNode);
        _leases++;
        _leasesByThread[threadId] = _leasesByThread.GetValueOrDefault(threadId) + 1;
    }

    private void AddStall(long start) => _stallTicks += Stopwatch.GetTimestamp() - start;

    private void WaitLocked(TimeSpan timeout, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        Monitor.Wait(_gate, timeout);
        ct.ThrowIfCancellationRequested();
    }

    private void WakeAll()
    {
        lock (_gate)
        {
            Monitor.PulseAll(_gate);
        }
    }
}
