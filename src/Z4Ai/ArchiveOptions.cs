using Z4Ai.Archival;

namespace Z4Ai;

/// <summary>Settings for <see cref="ArchiveCodec"/>. Immutable once built; one instance may be shared.</summary>
public sealed class ArchiveOptions
{
    /// <summary>The block size used when none is given: 16 MiB.</summary>
    public const int DefaultBlockSize = ArchiveConstants.DefaultBlockSize;

    /// <summary>The largest block size: 64 MiB, which bounds the memory a decoder needs.</summary>
    public const int MaxBlockSize = ArchiveConstants.MaxBlockSize;

    private readonly ArchivePreset _preset = ArchivePreset.Auto;
    private readonly int _blockSize = DefaultBlockSize;
    private readonly int _zstdLevel = 19;
    private readonly int _maxDegreeOfParallelism = 1;
    private readonly long _maxDecompressedLength = long.MaxValue;

    /// <summary>The options used when none are given.</summary>
    public static ArchiveOptions Default { get; } = new();

    /// <summary>The model's context set; <see cref="ArchivePreset.Auto"/> picks one from the content.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined preset.</exception>
    public ArchivePreset Preset
    {
        get => _preset;
        init
        {
            if (!Enum.IsDefined(value))
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "not a defined archive preset");
            }

            _preset = value;
        }
    }

    /// <summary>
    /// Whether the model is first trained on the library's shipped primer text for the preset (default true). It
    /// helps small files most; decoding needs the same library primer, which the archive names by SHA-256.
    /// </summary>
    public bool UsePrimer { get; init; } = true;

    /// <summary>
    /// The raw bytes per block (the last may be shorter). Each block is coded independently with a fresh (primed)
    /// model, so memory is bounded by the block size; larger blocks let the model learn from more history.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside 1..<see cref="MaxBlockSize"/>.</exception>
    public int BlockSize
    {
        get => _blockSize;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxBlockSize);
            _blockSize = value;
        }
    }

    /// <summary>The zstd level each block is also tried with (1..22, default 19), or 0 to try only the model and stored.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside 0..22.</exception>
    public int ZstdLevel
    {
        get => _zstdLevel;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 22);
            _zstdLevel = value;
        }
    }

    /// <summary>How many blocks are coded at once (default 1). Memory grows with it: one model per block in flight.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MaxDegreeOfParallelism
    {
        get => _maxDegreeOfParallelism;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _maxDegreeOfParallelism = value;
        }
    }

    /// <summary>
    /// The context-mixing model version encoders write (<see cref="ContextMixModel.DefaultVersion"/> by default):
    /// older versions stay available so tests can reproduce archives written before a model change, and a newer
    /// one (<see cref="ContextMixModel.LatestVersion"/>) can be chosen before it becomes the default.
    /// </summary>
    internal byte ModelVersion { get; init; } = ContextMixModel.DefaultVersion;

    /// <summary>
    /// The most bytes a decoder will produce from one archive (default: no limit beyond the largest array for the
    /// in-memory forms); an archive that declares more is rejected before anything is allocated.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public long MaxDecompressedLength
    {
        get => _maxDecompressedLength;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _maxDecompressedLength = value;
        }
    }
}
