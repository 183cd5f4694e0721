namespace Z4Ai;

/// <summary>What a file says about one tensor, without its bytes.</summary>
/// <param name="Name">The tensor name.</param>
/// <param name="DType">The element type.</param>
/// <param name="Shape">The dimensions.</param>
/// <param name="ByteLength">The raw (uncompressed) byte length.</param>
public sealed record TensorInfo(string Name, DType DType, IReadOnlyList<long> Shape, long ByteLength)
{
    /// <inheritdoc />
    public override string ToString() => $"{Name}: {DType.GetName()}[{string.Join(",", Shape)}] ({ByteLength} bytes)";
}
