namespace Z4Ai.Planes;

/// <summary>
/// Byte-plane split and merge: element i's byte k goes to plane k at position i. Floats' high bytes (sign and
/// exponent) then sit together, where a general compressor finds their redundancy. The input may end with a
/// partial element; those tail bytes are copied unchanged after the planes.
/// </summary>
/// <remarks>
/// <see cref="SplitScalar"/> and <see cref="MergeScalar"/> are the oracle every vector path is tested against.
/// </remarks>
internal static class BytePlanes
{
    /// <summary>Splits <paramref name="source"/> into <paramref name="elementSize"/> planes in <paramref name="destination"/>.</summary>
    public static void Split(ReadOnlySpan<byte> source, Span<byte> destination, int elementSize) =>
        SplitScalar(source, destination, elementSize);

    /// <summary>Inverse of <see cref="Split"/>.</summary>
    public static void Merge(ReadOnlySpan<byte> source, Span<byte> destination, int elementSize) =>
        MergeScalar(source, destination, elementSize);

    internal static void SplitScalar(ReadOnlySpan<byte> source, Span<byte> destination, int elementSize)
    {
        CheckArguments(source.Length, destination.Length, elementSize);
        int count = source.Length / elementSize;
        for (int k = 0; k < elementSize; k++)
        {
            Span<byte> plane = destination.Slice(k * count, count);
            for (int i = 0; i < count; i++)
            {
                plane[i] = source[(i * elementSize) + k];
            }
        }

        int whole = count * elementSize;
        source[whole..].CopyTo(destination[whole..]);
    }

    internal static void MergeScalar(ReadOnlySpan<byte> source, Span<byte> destination, int elementSize)
    {
        CheckArguments(source.Length, destination.Length, elementSize);
        int count = source.Length / elementSize;
        for (int k = 0; k < elementSize; k++)
        {
            ReadOnlySpan<byte> plane = source.Slice(k * count, count);
            for (int i = 0; i < count; i++)
            {
                destination[(i * elementSize) + k] = plane[i];
            }
        }

        int whole = count * elementSize;
        source[whole..].CopyTo(destination[whole..]);
    }

    private static void CheckArguments(int sourceLength, int destinationLength, int elementSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(elementSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(destinationLength, sourceLength);
    }
}
