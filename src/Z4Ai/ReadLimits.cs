namespace Z4Ai;

/// <summary>
/// Bounds on what a reader accepts from a file, each checked before the allocation it guards. The defaults are the
/// format limits (a valid file written by any writer passes); lower them to read untrusted files with a tighter
/// memory budget. A file over a limit is refused with <see cref="Z4AiErrorKind.LimitExceeded"/>.
/// </summary>
public sealed class ReadLimits
{
    /// <summary>The safetensors header limit of the reference implementation: 100,000,000 bytes.</summary>
    public const long DefaultMaxHeaderBytes = 100_000_000;

    /// <summary>The container format's index limit: 1 GiB.</summary>
    public const long DefaultMaxIndexBytes = 1L << 30;

    /// <summary>The default tensor-count limit: 1,000,000 tensors per file.</summary>
    public const int DefaultMaxTensorCount = 1_000_000;

    /// <summary>The container format's largest chunk: 64 MiB.</summary>
    public const int DefaultMaxChunkBytes = 64 << 20;

    /// <summary>The default delta-chain limit: 64 links.</summary>
    public const int DefaultMaxDeltaChainDepth = 64;

    private readonly long _maxHeaderBytes = DefaultMaxHeaderBytes;
    private readonly long _maxIndexBytes = DefaultMaxIndexBytes;
    private readonly int _maxTensorCount = DefaultMaxTensorCount;
    private readonly int _maxChunkBytes = DefaultMaxChunkBytes;
    private readonly int _maxDeltaChainDepth = DefaultMaxDeltaChainDepth;

    /// <summary>The defaults.</summary>
    public static ReadLimits Default { get; } = new();

    /// <summary>The largest safetensors JSON header read into memory (1 to 100,000,000 bytes).</summary>
    public long MaxHeaderBytes
    {
        get => _maxHeaderBytes;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, DefaultMaxHeaderBytes);
            _maxHeaderBytes = value;
        }
    }

    /// <summary>The largest container index read into memory (1 byte to 1 GiB).</summary>
    public long MaxIndexBytes
    {
        get => _maxIndexBytes;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, DefaultMaxIndexBytes);
            _maxIndexBytes = value;
        }
    }

    /// <summary>The most tensors one file may declare (at least 1).</summary>
    public int MaxTensorCount
    {
        get => _maxTensorCount;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _maxTensorCount = value;
        }
    }

    /// <summary>The largest chunk a container may declare, which bounds each decode buffer (4 KiB to 64 MiB).</summary>
    public int MaxChunkBytes
    {
        get => _maxChunkBytes;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 4096);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, DefaultMaxChunkBytes);
            _maxChunkBytes = value;
        }
    }

    /// <summary>The most links a delta chain may have (at least 1), checked before any link is read.</summary>
    public int MaxDeltaChainDepth
    {
        get => _maxDeltaChainDepth;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _maxDeltaChainDepth = value;
        }
    }
}
