namespace Z4Ai;

/// <summary>Progress of a long operation, reported per tensor.</summary>
/// <param name="Stage">What is being done: <c>compress</c>, <c>decompress</c> or <c>verify</c>.</param>
/// <param name="Tensor">The tensor just finished, if any.</param>
/// <param name="BytesDone">Raw bytes processed so far.</param>
/// <param name="BytesTotal">Raw bytes in all.</param>
public sealed record ProgressInfo(string Stage, string? Tensor, long BytesDone, long BytesTotal);

/// <summary>How one tensor is stored in a container.</summary>
/// <param name="Name">The tensor name.</param>
/// <param name="DType">The element type.</param>
/// <param name="Shape">The dimensions.</param>
/// <param name="RawBytes">The uncompressed size.</param>
/// <param name="StoredBytes">The bytes its chunks take in the file (0 when it duplicates another tensor).</param>
/// <param name="Codec">The codec recipe(s) its chunks use, such as <c>planes+zstd</c>.</param>
/// <param name="DuplicateOf">The tensor whose bytes it shares, or null.</param>
/// <param name="Sha256">The SHA-256 of the raw bytes, lowercase hex.</param>
public sealed record TensorReport(
    string Name,
    DType DType,
    IReadOnlyList<long> Shape,
    long RawBytes,
    long StoredBytes,
    string Codec,
    string? DuplicateOf,
    string Sha256)
{
    /// <summary>Raw bytes per stored byte (infinity for a deduplicated tensor).</summary>
    public double Ratio => StoredBytes == 0 ? double.PositiveInfinity : (double)RawBytes / StoredBytes;
}

/// <summary>What a container holds.</summary>
/// <param name="FilePath">The file inspected.</param>
/// <param name="FileLength">Its size in bytes.</param>
/// <param name="FormatVersion">The container format version.</param>
/// <param name="ChunkSize">Raw bytes per chunk.</param>
/// <param name="Tensors">Every tensor.</param>
/// <param name="Metadata">The <c>__metadata__</c> strings, or null.</param>
/// <param name="CanRestoreOriginal">Whether the original safetensors header is kept (byte-exact restore).</param>
public sealed record ContainerInfo(
    string FilePath,
    long FileLength,
    int FormatVersion,
    int ChunkSize,
    IReadOnlyList<TensorReport> Tensors,
    IReadOnlyDictionary<string, string>? Metadata,
    bool CanRestoreOriginal)
{
    /// <summary>Uncompressed bytes of all tensors.</summary>
    public long RawBytes => Tensors.Sum(t => t.RawBytes);

    /// <summary>Raw bytes per byte of the whole file.</summary>
    public double Ratio => FileLength == 0 ? 0 : (double)RawBytes / FileLength;
}

/// <summary>The result of compressing a file.</summary>
/// <param name="Tensors">How each tensor was stored.</param>
/// <param name="InputBytes">Size of the input file.</param>
/// <param name="OutputBytes">Size of the container written.</param>
/// <param name="Elapsed">Wall time.</param>
public sealed record CompressionReport(IReadOnlyList<TensorReport> Tensors, long InputBytes, long OutputBytes, TimeSpan Elapsed)
{
    /// <summary>Input bytes per output byte.</summary>
    public double Ratio => OutputBytes == 0 ? 0 : (double)InputBytes / OutputBytes;
}

/// <summary>The result of verifying a file.</summary>
/// <param name="Format">The file's layout.</param>
/// <param name="TensorsChecked">How many tensors were checked.</param>
/// <param name="FailedTensors">Tensors whose bytes did not match their SHA-256 or could not be decoded.</param>
/// <param name="DigestsAvailable">False for plain safetensors files, which carry no digests (only the structure is checked).</param>
public sealed record VerifyReport(StorageFormat Format, int TensorsChecked, IReadOnlyList<string> FailedTensors, bool DigestsAvailable)
{
    /// <summary>True when every tensor verified.</summary>
    public bool Passed => FailedTensors.Count == 0;
}
