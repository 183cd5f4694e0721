using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Z4Ai;

/// <summary>Settings of a <see cref="ModelRegistry"/>. Immutable once built; one instance may be shared.</summary>
public sealed class RegistryOptions
{
    /// <summary>The default delta chain depth bound: 8.</summary>
    public const int DefaultMaxChainDepth = 8;

    private readonly int _maxChainDepth = DefaultMaxChainDepth;
    private readonly int _chunkSize = 4 << 20;
    private readonly int _deltaChunkSize = DeltaOptions.DefaultChunkSize;
    private readonly CompressionEffort _effort = CompressionEffort.Default;
    private readonly TimeSpan _gcGracePeriod = TimeSpan.FromHours(1);
    private readonly TimeSpan _lockTimeout = TimeSpan.FromMinutes(2);
    private readonly long _maxDeltaTensorBytes = 1L << 30;
    private readonly int _maxDegreeOfParallelism = Environment.ProcessorCount;
    private readonly ILogger _logger = NullLogger.Instance;

    /// <summary>The options used when none are given.</summary>
    public static RegistryOptions Default { get; } = new();

    /// <summary>
    /// The longest chain of deltas an object may sit on (1 to 255; default 8). Reading a tensor decodes at most this
    /// many deltas plus one scratch object, so it bounds the cost of <c>Get</c> whatever the history length. When a
    /// delta against the parent would exceed it, <c>Add</c> stores the tensor against the base or from scratch instead.
    /// </summary>
    public int MaxChainDepth
    {
        get => _maxChainDepth;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 255);
            _maxChainDepth = value;
        }
    }

    /// <summary>How hard the codec works when storing a tensor. Every level is lossless.</summary>
    public CompressionEffort Effort
    {
        get => _effort;
        init
        {
            if (!Enum.IsDefined(value))
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "not a defined compression effort");
            }

            _effort = value;
        }
    }

    /// <summary>
    /// Raw bytes per independently decodable chunk of a scratch object: a power of two from 4 KiB to 64 MiB (default
    /// 4 MiB). A slice read fetches only the chunks it covers.
    /// </summary>
    public int ChunkSize
    {
        get => _chunkSize;
        init
        {
            if (value < (4 << 10) || value > (64 << 20) || (value & (value - 1)) != 0)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "the chunk size must be a power of two from 4 KiB to 64 MiB");
            }

            _chunkSize = value;
        }
    }

    /// <summary>The chunk size of delta objects (see <see cref="DeltaOptions.ChunkSize"/>; default 1 MiB).</summary>
    public int DeltaChunkSize
    {
        get => _deltaChunkSize;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, DeltaOptions.MinChunkSize);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, DeltaOptions.MaxChunkSize);
            if (value % 8 != 0)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "the delta chunk size must be a multiple of 8");
            }

            _deltaChunkSize = value;
        }
    }

    /// <summary>
    /// Garbage collection spares objects modified more recently than this (default 1 hour), so a writer on another
    /// machine, or on a store without locks, is never robbed of an object it has just stored or reused.
    /// </summary>
    public TimeSpan GcGracePeriod
    {
        get => _gcGracePeriod;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            _gcGracePeriod = value;
        }
    }

    /// <summary>How long an operation waits for the registry lock before failing with a conflict (default 2 minutes).</summary>
    public TimeSpan LockTimeout
    {
        get => _lockTimeout;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            _lockTimeout = value;
        }
    }

    /// <summary>
    /// Tensors larger than this (default 1 GiB) are stored from scratch, streamed chunk by chunk, without trying a
    /// delta, which needs the tensor and its reference in memory.
    /// </summary>
    public long MaxDeltaTensorBytes
    {
        get => _maxDeltaTensorBytes;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, (long)Array.MaxLength);
            _maxDeltaTensorBytes = value;
        }
    }

    /// <summary>How many chunks or candidate encodings run at once; defaults to the number of processors.</summary>
    public int MaxDegreeOfParallelism
    {
        get => _maxDegreeOfParallelism;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _maxDegreeOfParallelism = value;
        }
    }

    /// <summary>Where the registry logs what it stores and what it skips; <see cref="NullLogger.Instance"/> by default.</summary>
    public ILogger Logger
    {
        get => _logger;
        init => _logger = value ?? throw new ArgumentNullException(nameof(value));
    }
}
