namespace Z4Ai;

/// <summary>How a model delta stores one tensor of the target model.</summary>
public sealed class ModelDeltaTensorInfo
{
    internal ModelDeltaTensorInfo(
        string name,
        DType dtype,
        IReadOnlyList<long> shape,
        long rawBytes,
        string sha256,
        ModelDeltaTensorMode mode,
        long storedBytes,
        string? baseTensor,
        DType? baseDType,
        IReadOnlyList<long>? baseShape,
        string? baseSha256,
        IReadOnlyList<DeltaChunkMode> chunkModes)
    {
        Name = name;
        DType = dtype;
        Shape = shape;
        RawBytes = rawBytes;
        Sha256 = sha256;
        Mode = mode;
        StoredBytes = storedBytes;
        BaseTensor = baseTensor;
        BaseDType = baseDType;
        BaseShape = baseShape;
        BaseSha256 = baseSha256;
        ChunkModes = chunkModes;
    }

    /// <summary>The tensor's name in the target model.</summary>
    public string Name { get; }

    /// <summary>The element type.</summary>
    public DType DType { get; }

    /// <summary>The dimensions.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>The raw (uncompressed) byte length.</summary>
    public long RawBytes { get; }

    /// <summary>The SHA-256 of the tensor's bytes, lowercase hex; restoring verifies it.</summary>
    public string Sha256 { get; }

    /// <summary>Whether the tensor is stored on its own, as a delta, or as a copy of a base tensor.</summary>
    public ModelDeltaTensorMode Mode { get; }

    /// <summary>The bytes its segments take in the delta file (0 for a copy).</summary>
    public long StoredBytes { get; }

    /// <summary>The base tensor it is a delta against or a copy of (possibly under another name), or null.</summary>
    public string? BaseTensor { get; }

    /// <summary>The base tensor's element type, or null.</summary>
    public DType? BaseDType { get; }

    /// <summary>The base tensor's dimensions, or null.</summary>
    public IReadOnlyList<long>? BaseShape { get; }

    /// <summary>The SHA-256 the base tensor must have, lowercase hex, or null.</summary>
    public string? BaseSha256 { get; }

    /// <summary>
    /// How each chunk of the tensor is rebuilt, in tensor order: Copy, Xor or Subtract against the base tensor's
    /// bytes at the same offsets, or Scratch. Empty for a copied or empty tensor.
    /// </summary>
    public IReadOnlyList<DeltaChunkMode> ChunkModes { get; }

    /// <summary>Raw bytes per stored byte (infinity for a copy).</summary>
    public double Ratio => StoredBytes == 0 ? double.PositiveInfinity : (double)RawBytes / StoredBytes;

    /// <summary>Counts the chunks rebuilt with <paramref name="mode"/>.</summary>
    public int CountChunks(DeltaChunkMode mode) => ChunkModes.Count(m => m == mode);

    /// <inheritdoc />
    public override string ToString() => Mode switch
    {
        ModelDeltaTensorMode.Copy => $"{Name}: copy of '{BaseTensor}'",
        ModelDeltaTensorMode.Delta => $"{Name}: delta against '{BaseTensor}', {RawBytes} -> {StoredBytes} bytes",
        _ => $"{Name}: scratch, {RawBytes} -> {StoredBytes} bytes",
    };
}
