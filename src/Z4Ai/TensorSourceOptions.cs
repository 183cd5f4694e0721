namespace Z4Ai;

/// <summary>How <see cref="TensorSource.Open(string, TensorSourceOptions?)"/> caches, prefetches and verifies tensors.</summary>
public sealed class TensorSourceOptions
{
    /// <summary>The default budget: 1 GiB.</summary>
    public const long DefaultCacheBudgetBytes = 1L << 30;

    /// <summary>
    /// The most decoded tensor bytes held at once, leased or not (default 1 GiB). It must be at least the largest
    /// tensor of the file, or opening fails and says how much is needed. Decoding adds scratch of about one
    /// container chunk per decoding thread on top of it.
    /// </summary>
    public long CacheBudgetBytes { get; init; } = DefaultCacheBudgetBytes;

    /// <summary>
    /// How many background threads decode tensors named in <see cref="ITensorSource.Prefetch"/> (default: the
    /// processor count, at most 4). A container decodes the chunks of one tensor in parallel as well.
    /// </summary>
    public int PrefetchThreads { get; init; } = Math.Clamp(Environment.ProcessorCount, 1, 4);

    /// <summary>
    /// SHA-256 digests (64 hex digits) by tensor name. For a plain <c>.safetensors</c> file, which records none, these
    /// are the only way its tensors get verified; for a container each must equal the digest it recorded (checked
    /// when it is opened). A name the file does not contain is an error, so a typo cannot silently skip a check.
    /// </summary>
    public IReadOnlyDictionary<string, string>? ExpectedDigests { get; init; }

    /// <summary>
    /// How long <see cref="ITensorSource.Acquire"/> waits for other threads to dispose leases when the budget is full
    /// of leased tensors (default 60 s). When every blocking lease belongs to the calling thread it fails at once.
    /// </summary>
    public TimeSpan LeaseWaitTimeout { get; init; } = TimeSpan.FromSeconds(60);

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(CacheBudgetBytes, nameof(CacheBudgetBytes));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(PrefetchThreads, nameof(PrefetchThreads));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(PrefetchThreads, 64, nameof(PrefetchThreads));
        if (LeaseWaitTimeout != Timeout.InfiniteTimeSpan
            && (LeaseWaitTimeout < TimeSpan.Zero || LeaseWaitTimeout > TimeSpan.FromMilliseconds(int.MaxValue)))
        {
            throw new ArgumentOutOfRangeException(nameof(LeaseWaitTimeout), LeaseWaitTimeout, "the timeout must be from zero to int.MaxValue milliseconds, or infinite");
        }
    }
}
