namespace Z4Ai;

/// <summary>
/// What a delta frame says about itself, read by <see cref="DeltaCodec.Inspect"/> without the reference: the
/// reference and target it links, its dtype and chunking, and how each chunk is stored.
/// </summary>
public sealed class DeltaInfo
{
    internal DeltaInfo(
        int formatVersion,
        DType dtype,
        int chunkSize,
        long referenceLength,
        string referenceSha256,
        long targetLength,
        string targetSha256,
        int headerLength,
        long deltaLength,
        IReadOnlyList<DeltaChunkInfo> chunks)
    {
        FormatVersion = formatVersion;
        DType = dtype;
        ChunkSize = chunkSize;
        ReferenceLength = referenceLength;
        ReferenceSha256 = referenceSha256;
        TargetLength = targetLength;
        TargetSha256 = targetSha256;
        HeaderLength = headerLength;
        DeltaLength = deltaLength;
        Chunks = chunks;
    }

    /// <summary>The delta format version byte.</summary>
    public int FormatVersion { get; }

    /// <summary>The element type the delta was made for.</summary>
    public DType DType { get; }

    /// <summary>The number of target bytes per chunk (the last chunk may be shorter).</summary>
    public int ChunkSize { get; }

    /// <summary>The length of the reference the delta must be applied to.</summary>
    public long ReferenceLength { get; }

    /// <summary>The SHA-256 of the reference the delta must be applied to, lowercase hex.</summary>
    public string ReferenceSha256 { get; }

    /// <summary>The length of the buffer the delta rebuilds.</summary>
    public long TargetLength { get; }

    /// <summary>The SHA-256 of the buffer the delta rebuilds, lowercase hex; decoding verifies it.</summary>
    public string TargetSha256 { get; }

    /// <summary>The size of the fixed part of the frame before the first chunk.</summary>
    public int HeaderLength { get; }

    /// <summary>The size of the whole delta frame.</summary>
    public long DeltaLength { get; }

    /// <summary>Every chunk in target order.</summary>
    public IReadOnlyList<DeltaChunkInfo> Chunks { get; }

    /// <summary>Counts the chunks stored with <paramref name="mode"/>.</summary>
    public int CountChunks(DeltaChunkMode mode)
    {
        int n = 0;
        foreach (DeltaChunkInfo chunk in Chunks)
        {
            if (chunk.Mode == mode)
            {
                n++;
            }
        }

        return n;
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"Z4AD v{FormatVersion} {DType.GetName()}: {ReferenceLength} -> {TargetLength} bytes in {DeltaLength} "
        + $"({Chunks.Count} chunks of {ChunkSize}: {CountChunks(DeltaChunkMode.Copy)} copy, {CountChunks(DeltaChunkMode.Xor)} xor, "
        + $"{CountChunks(DeltaChunkMode.Subtract)} subtract, {CountChunks(DeltaChunkMode.Scratch)} scratch, "
        + $"{CountChunks(DeltaChunkMode.Sparse)} sparse, {CountChunks(DeltaChunkMode.SparseBlock)} sparse-block)";
}
