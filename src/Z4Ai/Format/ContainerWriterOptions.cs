namespace Z4Ai.Format;

/// <summary>Settings of a <see cref="ContainerWriter"/>.</summary>
internal sealed class ContainerWriterOptions
{
    /// <summary>How hard the codec works on each chunk.</summary>
    public CompressionEffort Effort { get; init; } = CompressionEffort.Default;

    /// <summary>
    /// Raw bytes per chunk: a power of two from <see cref="MinimumChunkSize"/> (64 KiB) to 64 MiB; 4 MiB by default.
    /// Readers decode one chunk at a time, so this also bounds their memory per worker.
    /// </summary>
    public int ChunkSize { get; init; } = ContainerFormat.DefaultChunkSize;

    /// <summary>How many chunks are compressed at once (and so how many are held in memory); at least 1.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Whether the index may be stored packed (docs/format.md 1.3a) when that is smaller; on by default. Tests turn
    /// it off to get the plain layout.
    /// </summary>
    internal bool PackIndex { get; init; } = true;

    /// <summary>
    /// The smallest <see cref="ChunkSize"/> accepted: 64 KiB. Tests lower it (never below the format's 4 KiB) to get
    /// many chunks from small inputs; production code leaves it alone.
    /// </summary>
    internal int MinimumChunkSize { get; init; } = ContainerFormat.MinWriterChunkSize;
}
