using Z4Ai.Integrity;

namespace Z4Ai.Delta;

/// <summary>What model-level delta code needs to know about one tensor: its identity, without its bytes.</summary>
/// <param name="Name">The tensor name.</param>
/// <param name="DType">The element type.</param>
/// <param name="Shape">The dimensions (do not modify).</param>
/// <param name="Length">The raw byte length.</param>
/// <param name="Digest">The SHA-256 of the raw bytes.</param>
internal sealed record ModelTensor(string Name, DType DType, long[] Shape, long Length, Sha256Digest Digest)
{
    /// <summary>True when both have the same dtype and dimensions.</summary>
    public bool SameLayout(DType dtype, ReadOnlySpan<long> shape) => DType == dtype && Shape.AsSpan().SequenceEqual(shape);

    /// <summary>The tensor as <c>BF16[4,4]</c>, for messages.</summary>
    public string Describe() => $"{DType.GetName()}[{string.Join(",", Shape)}]";
}
