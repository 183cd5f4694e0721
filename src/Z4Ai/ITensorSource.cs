using System.Diagnostics.CodeAnalysis;

namespace Z4Ai;

/// <summary>
/// Tensors by name from a model that stays on disk: each is read, decoded and verified when first asked for, and
/// kept in a cache bounded in bytes (least recently used out). <see cref="Prefetch"/> decodes ahead on background
/// threads so a layer-by-layer consumer rarely waits. Open one with <see cref="TensorSource.Open(string, TensorSourceOptions?)"/>.
/// </summary>
/// <remarks>
/// <para>Every tensor handed out has been checked against a SHA-256 when one is known (see
/// <see cref="TensorLease.Verification"/>); bytes that fail are never handed out and the request throws
/// <see cref="Z4AiIntegrityException"/> naming the tensor (or <see cref="Z4AiFormatException"/> with
/// <see cref="Z4AiErrorKind.CorruptFrame"/> naming it, when a container chunk's checksum catches the damage before
/// decoding).</para>
/// <para>All members are thread-safe. A lease pins its tensor in the cache until disposed; leased bytes count
/// against the budget, so dispose leases as soon as the tensor is no longer read.</para>
/// </remarks>
public interface ITensorSource : IDisposable
{
    /// <summary>The path (or other name) of what the tensors come from, for messages.</summary>
    string? Name { get; }

    /// <summary>Every tensor, in file order.</summary>
    IReadOnlyList<TensorInfo> Tensors { get; }

    /// <summary>The model's string metadata (the safetensors <c>__metadata__</c>), or null when it has none.</summary>
    IReadOnlyDictionary<string, string>? Metadata { get; }

    /// <summary>The cache budget in bytes.</summary>
    long BudgetBytes { get; }

    /// <summary>Describes a tensor, or returns false when there is none of that name.</summary>
    bool TryGetInfo(string name, [NotNullWhen(true)] out TensorInfo? info);

    /// <summary>Describes a tensor.</summary>
    /// <exception cref="Z4AiTensorNotFoundException">No tensor has this name.</exception>
    TensorInfo GetInfo(string name);

    /// <summary>What this tensor is verified against before it is handed out.</summary>
    /// <exception cref="Z4AiTensorNotFoundException">No tensor has this name.</exception>
    TensorVerification GetVerification(string name);

    /// <summary>
    /// Returns the verified bytes of a tensor, pinned in the cache until the lease is disposed. Served from the
    /// cache, from a prefetch in flight, or read and decoded on the calling thread.
    /// </summary>
    /// <exception cref="Z4AiTensorNotFoundException">No tensor has this name.</exception>
    /// <exception cref="Z4AiIntegrityException">The decoded bytes do not match the tensor's SHA-256.</exception>
    /// <exception cref="Z4AiFormatException">The stored data is corrupt (for example a chunk fails its checksum), or the
    /// tensor is larger than a span can address (<see cref="Z4AiErrorKind.LimitExceeded"/>).</exception>
    /// <exception cref="InvalidOperationException">The budget is full of tensors leased by the calling thread, so
    /// this one could never fit.</exception>
    /// <exception cref="TimeoutException">Other threads held the budget for longer than
    /// <see cref="TensorSourceOptions.LeaseWaitTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled while waiting.</exception>
    /// <exception cref="ObjectDisposedException">The source is disposed.</exception>
    TensorLease Acquire(string name, CancellationToken cancellationToken = default);

    /// <summary>Acquires a tensor on the thread pool; see <see cref="Acquire"/>.</summary>
    Task<TensorLease> AcquireAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Queues tensors to be decoded in the background, in the order given, as room in the budget allows; returns
    /// at once. A prefetched tensor is not evicted to make room for later prefetches until it has been acquired,
    /// so prefetch no more than fits beside what is in use. Failures are not reported here: the later
    /// <see cref="Acquire"/> retries and throws.
    /// </summary>
    /// <exception cref="Z4AiTensorNotFoundException">A name is not in the source (nothing is queued then).</exception>
    void Prefetch(IEnumerable<string> names);

    /// <summary>A snapshot of the cache counters.</summary>
    TensorSourceStatistics GetStatistics();
}
