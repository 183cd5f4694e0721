using Z4Ai.Delta;
using Z4Ai.Integrity;

namespace Z4Ai.Format;

/// <summary>One stored segment of a tensor in a model delta: where its bytes are and how to read them.</summary>
/// <param name="Kind"><see cref="ModelDeltaFormat.SegmentFrames"/> or <see cref="ModelDeltaFormat.SegmentDelta"/>.</param>
/// <param name="Offset">The absolute file offset of the stored bytes.</param>
/// <param name="StoredLength">The number of stored bytes.</param>
/// <param name="Checksum">XxHash3-64 of the stored bytes.</param>
internal readonly record struct ModelDeltaSegment(byte Kind, long Offset, int StoredLength, ulong Checksum);

/// <summary>One target tensor as the model-delta index describes it.</summary>
internal sealed class ModelDeltaEntry
{
    public ModelDeltaEntry(int index, ModelTensor tensor, ModelDeltaTensorMode mode, ModelTensor? @base, ModelDeltaSegment[] segments)
    {
        Index = index;
        Tensor = tensor;
        Mode = mode;
        Base = @base;
        Segments = segments;
        foreach (ModelDeltaSegment s in segments)
        {
            StoredLength += s.StoredLength;
        }
    }

    /// <summary>The entry's position in the index (the tensor's position in the target file's data).</summary>
    public int Index { get; }

    /// <summary>The target tensor: name, dtype, shape, length and SHA-256.</summary>
    public ModelTensor Tensor { get; }

    public string Name => Tensor.Name;

    public long RawLength => Tensor.Length;

    public Sha256Digest Digest => Tensor.Digest;

    public ModelDeltaTensorMode Mode { get; }

    /// <summary>The base tensor used (for <see cref="ModelDeltaTensorMode.Delta"/> and <see cref="ModelDeltaTensorMode.Copy"/>), or null.</summary>
    public ModelTensor? Base { get; }

    /// <summary>The stored segments in tensor order (none for Copy and for empty tensors).</summary>
    public ModelDeltaSegment[] Segments { get; }

    /// <summary>The stored bytes of all segments.</summary>
    public long StoredLength { get; }
}
