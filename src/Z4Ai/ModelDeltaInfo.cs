namespace Z4Ai;

/// <summary>
/// What a model-delta file says about itself, read by <see cref="DeltaCodec.InspectFile"/> without the base model:
/// the base it must be applied to, the model it rebuilds, and how each tensor is stored.
/// </summary>
public sealed class ModelDeltaInfo
{
    internal ModelDeltaInfo(
        string filePath,
        long fileLength,
        int formatVersion,
        int chunkSize,
        int frameSize,
        int segmentSize,
        string baseModelSha256,
        long baseTensorCount,
        string targetModelSha256,
        bool headerSynthesized,
        IReadOnlyDictionary<string, string>? metadata,
        IReadOnlyList<ModelDeltaTensorInfo> tensors)
    {
        FilePath = filePath;
        FileLength = fileLength;
        FormatVersion = formatVersion;
        ChunkSize = chunkSize;
        FrameSize = frameSize;
        SegmentSize = segmentSize;
        BaseModelSha256 = baseModelSha256;
        BaseTensorCount = baseTensorCount;
        TargetModelSha256 = targetModelSha256;
        HeaderSynthesized = headerSynthesized;
        Metadata = metadata;
        Tensors = tensors;
    }

    /// <summary>The file inspected.</summary>
    public string FilePath { get; }

    /// <summary>Its size in bytes.</summary>
    public long FileLength { get; }

    /// <summary>The model-delta format version.</summary>
    public int FormatVersion { get; }

    /// <summary>Target bytes per chunk; each chunk picks its own transform.</summary>
    public int ChunkSize { get; }

    /// <summary>Raw bytes per compressed frame of a tensor part stored on its own (as a container chunk).</summary>
    public int FrameSize { get; }

    /// <summary>Target bytes per segment, the unit read and decoded at once.</summary>
    public int SegmentSize { get; }

    /// <summary>
    /// The identity of the base model the delta must be applied to: a SHA-256 over every base tensor's name, dtype,
    /// shape and SHA-256 (the same for the model as a <c>.safetensors</c> file or as a container), lowercase hex.
    /// </summary>
    public string BaseModelSha256 { get; }

    /// <summary>How many tensors the base model has.</summary>
    public long BaseTensorCount { get; }

    /// <summary>The identity of the model the delta rebuilds, defined as <see cref="BaseModelSha256"/>; the next link
    /// of a chain records it as its base.</summary>
    public string TargetModelSha256 { get; }

    /// <summary>
    /// True when the target was a container that kept no safetensors header, so the restored file gets the canonical
    /// one; false when restoring gives back the target file byte for byte.
    /// </summary>
    public bool HeaderSynthesized { get; }

    /// <summary>The target's <c>__metadata__</c>, or null.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; }

    /// <summary>Every target tensor, in file order.</summary>
    public IReadOnlyList<ModelDeltaTensorInfo> Tensors { get; }

    /// <summary>Raw bytes of all target tensors.</summary>
    public long RawBytes => Tensors.Sum(t => t.RawBytes);

    /// <summary>Raw bytes per byte of the delta file.</summary>
    public double Ratio => FileLength == 0 ? 0 : (double)RawBytes / FileLength;

    /// <summary>Counts the tensors stored with <paramref name="mode"/>.</summary>
    public int CountTensors(ModelDeltaTensorMode mode) => Tensors.Count(t => t.Mode == mode);
}
