namespace Z4Ai;

/// <summary>How <see cref="SafeTensorsCompat"/> and <see cref="Z4AiContainer"/> write files.</summary>
public sealed class SaveOptions
{
    /// <summary>The default options: the compressed container at default effort.</summary>
    public static SaveOptions Default { get; } = new();

    /// <summary>The layout to write. The default is the compressed container.</summary>
    public StorageFormat Format { get; init; } = StorageFormat.Z4Ai;

    /// <summary>How hard the codec works (container only).</summary>
    public CompressionEffort Effort { get; init; } = CompressionEffort.Default;

    /// <summary>
    /// Raw bytes per independently compressed chunk (container only): a power of two from 64 KiB to 64 MiB.
    /// Smaller chunks make partial reads cheaper; larger ones compress slightly better.
    /// </summary>
    public int ChunkSize { get; init; } = 4 << 20;

    /// <summary>How many chunks are compressed at once; defaults to the number of processors.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    internal void Validate()
    {
        if (!Enum.IsDefined(Format))
        {
            throw new ArgumentOutOfRangeException(nameof(Format), Format, "unknown storage format");
        }

        if (!Enum.IsDefined(Effort))
        {
            throw new ArgumentOutOfRangeException(nameof(Effort), Effort, "unknown effort");
        }

        if (ChunkSize < (64 << 10) || ChunkSize > (64 << 20) || (ChunkSize & (ChunkSize - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ChunkSize), ChunkSize, "the chunk size must be a power of two from 64 KiB to 64 MiB");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(MaxDegreeOfParallelism, 1, nameof(MaxDegreeOfParallelism));
    }
}
