namespace Z4Ai;

/// <summary>Settings for <see cref="DeltaCodec.Compress"/>. Immutable once built; one instance may be shared.</summary>
public sealed class DeltaOptions
{
    /// <summary>The chunk size used when none is given: 1 MiB.</summary>
    public const int DefaultChunkSize = 1 << 20;

    /// <summary>The smallest chunk size a delta may declare: 64 bytes.</summary>
    public const int MinChunkSize = 64;

    /// <summary>The largest chunk size a delta may declare: 256 MiB, which bounds the memory a decoder needs.</summary>
    public const int MaxChunkSize = 1 << 28;

    private readonly CompressionEffort _effort = CompressionEffort.Default;
    private readonly int _chunkSize = DefaultChunkSize;

    /// <summary>The options used when none are given.</summary>
    public static DeltaOptions Default { get; } = new();

    /// <summary>How hard each chunk's codec works. Every level is lossless.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined effort.</exception>
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
    /// The number of target bytes each chunk covers (the last may be shorter). Each chunk picks its own transform,
    /// so smaller chunks adapt better to where a checkpoint changed, while larger ones compress better; encoder
    /// and decoder memory grow with it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// The value is outside [<see cref="MinChunkSize"/>, <see cref="MaxChunkSize"/>] or not a multiple of 8 (chunks
    /// must start on an element boundary for every dtype).
    /// </exception>
    public int ChunkSize
    {
        get => _chunkSize;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, MinChunkSize);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxChunkSize);
            if (value % 8 != 0)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "chunk size must be a multiple of 8");
            }

            _chunkSize = value;
        }
    }
}
