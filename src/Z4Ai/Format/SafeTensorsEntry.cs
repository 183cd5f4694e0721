namespace Z4Ai.Format;

/// <summary>One tensor as a safetensors header describes it.</summary>
/// <param name="Name">The tensor name (the JSON key).</param>
/// <param name="DType">The element type.</param>
/// <param name="Shape">The dimensions; empty for a scalar.</param>
/// <param name="Begin">First byte of the tensor, relative to the start of the data section (as in the file).</param>
/// <param name="End">One past the last byte, relative to the start of the data section.</param>
internal sealed record SafeTensorsEntry(string Name, DType DType, long[] Shape, long Begin, long End)
{
    /// <summary>The tensor's byte length, <c>End - Begin</c>.</summary>
    public long Length => End - Begin;

    /// <inheritdoc />
    public override string ToString() =>
        $"{Name}: {DType.GetName()}[{string.Join(",", Shape)}] data_offsets [{Begin},{End}]";
}
