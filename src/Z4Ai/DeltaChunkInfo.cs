namespace Z4Ai;

/// <summary>What a delta stores for one chunk of the target, as reported by <see cref="DeltaCodec.Inspect"/>.</summary>
public sealed class DeltaChunkInfo
{
    internal DeltaChunkInfo(int index, long offset, int length, DeltaChunkMode mode, int storedLength)
    {
        Index = index;
        Offset = offset;
        Length = length;
        Mode = mode;
        StoredLength = storedLength;
    }

    /// <summary>The chunk's position in the delta, from 0.</summary>
    public int Index { get; }

    /// <summary>The chunk's byte offset in the target (and in the reference, for the modes that use it).</summary>
    public long Offset { get; }

    /// <summary>The number of target bytes the chunk rebuilds.</summary>
    public int Length { get; }

    /// <summary>How the chunk is rebuilt.</summary>
    public DeltaChunkMode Mode { get; }

    /// <summary>The size of the chunk's codec frame in the delta; 0 for <see cref="DeltaChunkMode.Copy"/>.</summary>
    public int StoredLength { get; }

    /// <inheritdoc />
    public override string ToString() => $"chunk {Index} @{Offset} ({Length} bytes): {Mode}, {StoredLength} stored";
}
