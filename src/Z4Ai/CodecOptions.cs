namespace Z4Ai;

/// <summary>How <see cref="Z4AiCodec"/> compresses a buffer.</summary>
public sealed class CodecOptions
{
    /// <summary>The default options: default effort, 4 MiB chunks, one worker per processor, no shape.</summary>
    public static CodecOptions Default { get; } = new();

    /// <summary>How hard the codec works: <see cref="CompressionEffort.Fast"/> decodes fastest,
    /// <see cref="CompressionEffort.Max"/> is smallest.</summary>
    public CompressionEffort Effort { get; init; } = CompressionEffort.Default;

    /// <summary>
    /// Raw bytes per independently coded chunk: a power of two from 4 KiB to 64 MiB (default 4 MiB). Memory while
    /// streaming is bounded by a few chunks.
    /// </summary>
    public int ChunkSize { get; init; } = 4 << 20;

    /// <summary>How many chunks are coded at once; defaults to the number of processors. The output does not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// The buffer's shape, recorded in the frame (and used as a hint: the last dimension is the row length that
    /// per-row palettes and the context model use). Null records no shape.
    /// </summary>
    public IReadOnlyList<long>? Shape { get; init; }

    internal void Validate()
    {
        if (!Enum.IsDefined(Effort))
        {
            throw new ArgumentOutOfRangeException(nameof(Effort), Effort, "unknown effort");
        }

        if (ChunkSize < 4096 || ChunkSize > (64 << 20) || (ChunkSize & (ChunkSize - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ChunkSize), ChunkSize, "the chunk size must be a power of two from 4 KiB to 64 MiB");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(MaxDegreeOfParallelism, 1, nameof(MaxDegreeOfParallelism));
        if (Shape is not null && Shape.Any(d => d < 0))
        {
            throw new ArgumentOutOfRangeException(nameof(Shape), "dimensions must not be negative");
        }
    }
}
