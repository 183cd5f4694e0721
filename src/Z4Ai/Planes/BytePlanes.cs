using System.Runtime.Intrinsics;

namespace Z4Ai.Planes;

/// <summary>
/// Byte-plane split and merge: element i's byte k goes to plane k at position i. Floats' high bytes (sign and
/// exponent) then sit together, where a general compressor finds their redundancy. The input may end with a
/// partial element; those tail bytes are copied unchanged after the planes.
/// </summary>
/// <remarks>
/// <para>
/// Layout for <c>count = source.Length / elementSize</c> whole elements: plane k occupies
/// <c>destination[k * count .. (k + 1) * count)</c>; the <c>source.Length % elementSize</c> trailing bytes follow
/// at <c>destination[count * elementSize ..]</c>. Only the first <c>source.Length</c> bytes of the destination are
/// written. Source and destination must not overlap.
/// </para>
/// <para>
/// Element sizes 2, 4 and 8 run on the widest hardware-accelerated vector width (chosen once, as the JIT folds
/// the <c>IsHardwareAccelerated</c> checks to constants); each width method consumes whole blocks of one
/// vector's worth of elements and the scalar oracle finishes the tail. Other sizes use the oracle only.
/// <see cref="SplitScalar"/> and <see cref="MergeScalar"/> are the oracle every vector path is tested against.
/// </para>
/// </remarks>
internal static partial class BytePlanes
{
    /// <summary>Splits <paramref name="source"/> into <paramref name="elementSize"/> planes in <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The element size is below 1 or the destination is shorter than the source.</exception>
    /// <exception cref="ArgumentException">The spans overlap.</exception>
    public static void Split(ReadOnlySpan<byte> source, Span<byte> destination, int elementSize)
    {
        CheckArguments(source, destination, elementSize);
        int done = 0;
        if (elementSize is 2 or 4 or 8)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                done = SplitVector512(source, destination, elementSize);
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                done = SplitVector256(source, destination, elementSize);
            }
            else if (Vector128.IsHardwareAccelerated)
            {
                done = SplitVector128(source, destination, elementSize);
            }
        }

        SplitScalarFrom(source, destination, elementSize, done);
    }

    /// <summary>Inverse of <see cref="Split"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The element size is below 1 or the destination is shorter than the source.</exception>
    /// <exception cref="ArgumentException">The spans overlap.</exception>
    public static void Merge(ReadOnlySpan<byte> source, Span<byte> destination, int elementSize)
    {
        CheckArguments(source, destination, elementSize);
        int done = 0;
        if (elementSize is 2 or 4 or 8)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                done = MergeVector512(source, destination, elementSize);
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                done = MergeVector256(source, destination, elementSize);
            }
            else if (Vector128.IsHardwareAccelerated)
            {
                done = MergeVector128(source, destination, elementSize);
            }
        }

        MergeScalarFrom(source, destination, elementSize, done);
    }

    /// <summary>The scalar oracle for <see cref="Split"/>: same contract, one byte at a time.</summary>
    internal static void SplitScalar(ReadOnlySpan<byte> source, Span<byte> destination, int elementSize)
    {
        CheckArguments(source, destination, elementSize);
        SplitScalarFrom(source, destination, elementSize, 0);
    }

    /// <summary>The scalar oracle for <see cref="Merge"/>.</summary>
    internal static void MergeScalar(ReadOnlySpan<byte> source, Span<byte> destination, int elementSize)
    {
        CheckArguments(source, destination, elementSize);
        MergeScalarFrom(source, destination, elementSize, 0);
    }

    /// <summary>Splits elements <c>[start, count)</c> and copies the partial trailing element; arguments already checked.</summary>
    internal static void SplitScalarFrom(ReadOnlySpan<byte> source, Span<byte> destination, int elementSize, int start)
    {
        int count = source.Length / elementSize;
        for (int k = 0; k < elementSize; k++)
        {
            Span<byte> plane = destination.Slice(k * count, count);
            for (int i = start; i < count; i++)
            {
                plane[i] = source[(i * elementSize) + k];
            }
        }

        int whole = count * elementSize;
        source[whole..].CopyTo(destination[whole..]);
    }

    /// <summary>Merges elements <c>[start, count)</c> and copies the partial trailing element; arguments already checked.</summary>
    internal static void MergeScalarFrom(ReadOnlySpan<byte> source, Span<byte> destination, int elementSize, int start)
    {
        int count = source.Length / elementSize;
        for (int k = 0; k < elementSize; k++)
        {
            ReadOnlySpan<byte> plane = source.Slice(k * count, count);
            for (int i = start; i < count; i++)
            {
                destination[(i * elementSize) + k] = plane[i];
            }
        }

        int whole = count * elementSize;
        source[whole..].CopyTo(destination[whole..]);
    }

    // The width methods write through raw refs, so every entry point (including the width methods themselves,
    // which tests call directly) checks bounds and overlap once before any loop runs.
    private static void CheckArguments(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, int elementSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(elementSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, source.Length);
        if (source.Overlaps(destination[..source.Length]))
        {
            throw new ArgumentException("The source and destination spans overlap.", nameof(destination));
        }
    }
}
