namespace Z4Ai.Format;

/// <summary>One tensor as the container index describes it.</summary>
internal sealed class ContainerEntry
{
    internal ContainerEntry(
        int index,
        string name,
        DType dtype,
        long[] shape,
        long rawLength,
        byte[] sha256,
        IReadOnlyList<ContainerChunk> chunks,
        long storedLength,
        int? duplicateOf)
    {
        Index = index;
        Name = name;
        DType = dtype;
        Shape = shape;
        RawLength = rawLength;
        Sha256 = sha256;
        Chunks = chunks;
        StoredLength = storedLength;
        DuplicateOf = duplicateOf;
    }

    /// <summary>The position of this entry in the index.</summary>
    public int Index { get; }

    /// <summary>The tensor name.</summary>
    public string Name { get; }

    /// <summary>The element type.</summary>
    public DType DType { get; }

    /// <summary>The dimensions, outermost first (do not modify).</summary>
    public long[] Shape { get; }

    /// <summary>The raw byte length, which equals the byte length of <see cref="DType"/> and <see cref="Shape"/>.</summary>
    public long RawLength { get; }

    /// <summary>The SHA-256 of the raw bytes (32 bytes; do not modify).</summary>
    public byte[] Sha256 { get; }

    /// <summary>
    /// The chunks, in tensor order: chunk <c>i</c> holds raw bytes <c>[i * ChunkSize, min((i + 1) * ChunkSize, RawLength))</c>.
    /// A duplicate shares the list of the entry it repeats.
    /// </summary>
    public IReadOnlyList<ContainerChunk> Chunks { get; }

    /// <summary>Frame bytes first stored for this entry (chunks it shares with an earlier entry are not counted).</summary>
    public long StoredLength { get; }

    /// <summary>The index of the earlier entry whose bytes this one repeats, or null.</summary>
    public int? DuplicateOf { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {DType.GetName()}[{string.Join(",", Shape)}] ({RawLength} bytes, {Chunks.Count} chunks)";
}
