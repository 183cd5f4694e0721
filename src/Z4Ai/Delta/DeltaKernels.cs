using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Z4Ai.Delta;

/// <summary>
/// Span-to-span delta kernels between a current buffer and a reference buffer of the same length:
/// XOR of bit patterns, and zigzagged integer difference (of order-preserving bit patterns for floats).
/// </summary>
/// <remarks>
/// <para>
/// Elements are little-endian lanes of 1, 2, 4 or 8 bytes. A buffer whose length is not a whole number of lanes
/// ends with a few tail bytes; every kernel XORs those bytes, so the inverse is exact for any length.
/// </para>
/// <para>
/// The destination may be the very same memory as either operand (the decoder turns a delta into the target in
/// place), but must not partially overlap them. Each width method (<see cref="ApplyVector512"/>,
/// <see cref="ApplyVector256"/>, <see cref="ApplyVector128"/>) consumes whole vectors from a start element and
/// returns where it stopped; <see cref="ApplyScalar"/> finishes the job and, started at 0, is the oracle.
/// </para>
/// </remarks>
internal static class DeltaKernels
{
    /// <summary>XOR of two buffers, byte by byte; applying it again with the same reference undoes it.</summary>
    public static void Xor(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y, Span<byte> destination) =>
        Apply<byte, XorOperator<byte>>(x, y, destination);

    /// <summary>
    /// Writes <c>zigzag(current - reference)</c> per lane of <paramref name="laneSize"/> bytes; when
    /// <paramref name="ordered"/> the lanes are sign-magnitude floats mapped to order-preserving integers first.
    /// </summary>
    public static void Subtract(ReadOnlySpan<byte> current, ReadOnlySpan<byte> reference, Span<byte> destination, int laneSize, bool ordered)
    {
        switch (laneSize)
        {
            case 1 when ordered: Apply<sbyte, OrderedSubtractOperator<sbyte>>(current, reference, destination); break;
            case 1: Apply<sbyte, SubtractOperator<sbyte>>(current, reference, destination); break;
            case 2 when ordered: Apply<short, OrderedSubtractOperator<short>>(current, reference, destination); break;
            case 2: Apply<short, SubtractOperator<short>>(current, reference, destination); break;
            case 4 when ordered: Apply<int, OrderedSubtractOperator<int>>(current, reference, destination); break;
            case 4: Apply<int, SubtractOperator<int>>(current, reference, destination); break;
            case 8 when ordered: Apply<long, OrderedSubtractOperator<long>>(current, reference, destination); break;
            case 8: Apply<long, SubtractOperator<long>>(current, reference, destination); break;
            default: throw new ArgumentOutOfRangeException(nameof(laneSize), laneSize, "lane size must be 1, 2, 4 or 8");
        }
    }

    /// <summary>Inverse of <see cref="Subtract"/>: rebuilds the current buffer from the delta and the reference.</summary>
    public static void Add(ReadOnlySpan<byte> delta, ReadOnlySpan<byte> reference, Span<byte> destination, int laneSize, bool ordered)
    {
        switch (laneSize)
        {
            case 1 when ordered: Apply<sbyte, OrderedAddOperator<sbyte>>(delta, reference, destination); break;
            case 1: Apply<sbyte, AddOperator<sbyte>>(delta, reference, destination); break;
            case 2 when ordered: Apply<short, OrderedAddOperator<short>>(delta, reference, destination); break;
            case 2: Apply<short, AddOperator<short>>(delta, reference, destination); break;
            case 4 when ordered: Apply<int, OrderedAddOperator<int>>(delta, reference, destination); break;
            case 4: Apply<int, AddOperator<int>>(delta, reference, destination); break;
            case 8 when ordered: Apply<long, OrderedAddOperator<long>>(delta, reference, destination); break;
            case 8: Apply<long, AddOperator<long>>(delta, reference, destination); break;
            default: throw new ArgumentOutOfRangeException(nameof(laneSize), laneSize, "lane size must be 1, 2, 4 or 8");
        }
    }

    /// <summary>Runs <typeparamref name="TOp"/> over every lane with the widest vectors the machine accelerates.</summary>
    internal static void Apply<T, TOp>(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y, Span<byte> destination)
        where T : unmanaged, IBinaryInteger<T>
        where TOp : IElementOperator<T>
    {
        CheckLengths(x.Length, y.Length, destination.Length);
        int next = 0;
        // Vector loads are native-endian; the format is little-endian, so big-endian hosts take the scalar path.
        if (BitConverter.IsLittleEndian)
        {
            if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
            {
                next = ApplyVector512<T, TOp>(x, y, destination, next);
            }

            if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
            {
                next = ApplyVector256<T, TOp>(x, y, destination, next);
            }

            if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
            {
                next = ApplyVector128<T, TOp>(x, y, destination, next);
            }
        }

        ApplyScalar<T, TOp>(x, y, destination, next);
    }

    /// <summary>Processes whole 512-bit vectors from element <paramref name="start"/>; returns the next element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static int ApplyVector512<T, TOp>(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y, Span<byte> destination, int start)
        where T : unmanaged, IBinaryInteger<T>
        where TOp : IElementOperator<T>
    {
        CheckLengths(x.Length, y.Length, destination.Length);
        int count = x.Length / Unsafe.SizeOf<T>();
        ref T rx = ref Unsafe.As<byte, T>(ref MemoryMarshal.GetReference(x));
        ref T ry = ref Unsafe.As<byte, T>(ref MemoryMarshal.GetReference(y));
        ref T rd = ref Unsafe.As<byte, T>(ref MemoryMarshal.GetReference(destination));
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)start, (uint)count, nameof(start));
        nuint i = (nuint)start;
        nuint end = (nuint)count;
        nuint width = (nuint)Vector512<T>.Count;
        while (end - i >= width)
        {
            Vector512<T> vx = Vector512.LoadUnsafe(ref rx, i);
            Vector512<T> vy = Vector512.LoadUnsafe(ref ry, i);
            TOp.Invoke(vx, vy).StoreUnsafe(ref rd, i);
            i += width;
        }

        return (int)i;
    }

    /// <summary>Processes whole 256-bit vectors from element <paramref name="start"/>; returns the next element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static int ApplyVector256<T, TOp>(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y, Span<byte> destination, int start)
        where T : unmanaged, IBinaryInteger<T>
        where TOp : IElementOperator<T>
    {
        CheckLengths(x.Length, y.Length, destination.Length);
        int count = x.Length / Unsafe.SizeOf<T>();
        ref T rx = ref Unsafe.As<byte, T>(ref MemoryMarshal.GetReference(x));
        ref T ry = ref Unsafe.As<byte, T>(ref MemoryMarshal.GetReference(y));
        ref T rd = ref Unsafe.As<byte, T>(ref MemoryMarshal.GetReference(destination));
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)start, (uint)count, nameof(start));
        nuint i = (nuint)start;
        nuint end = (nuint)count;
        nuint width = (nuint)Vector256<T>.Count;
        while (end - i >= width)
        {
            Vector256<T> vx = Vector256.LoadUnsafe(ref rx, i);
            Vector256<T> vy = Vector256.LoadUnsafe(ref ry, i);
            TOp.Invoke(vx, vy).StoreUnsafe(ref rd, i);
            i += width;
        }

        return (int)i;
    }

    /// <summary>Processes whole 128-bit vectors from element <paramref name="start"/>; returns the next element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static int ApplyVector128<T, TOp>(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y, Span<byte> destination, int start)
        where T : unmanaged, IBinaryInteger<T>
        where TOp : IElementOperator<T>
    {
        CheckLengths(x.Length, y.Length, destination.Length);
        int count = x.Length / Unsafe.SizeOf<T>();
        ref T rx = ref Unsafe.As<byte, T>(ref MemoryMarshal.GetReference(x));
        ref T ry = ref Unsafe.As<byte, T>(ref MemoryMarshal.GetReference(y));
        ref T rd = ref Unsafe.As<byte, T>(ref MemoryMarshal.GetReference(destination));
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)start, (uint)count, nameof(start));
        nuint i = (nuint)start;
        nuint end = (nuint)count;
        nuint width = (nuint)Vector128<T>.Count;
        while (end - i >= width)
        {
            Vector128<T> vx = Vector128.LoadUnsafe(ref rx, i);
            Vector128<T> vy = Vector128.LoadUnsafe(ref ry, i);
            TOp.Invoke(vx, vy).StoreUnsafe(ref rd, i);
            i += width;
        }

        return (int)i;
    }

    /// <summary>
    /// Processes the elements from <paramref name="start"/> one at a time, then XORs the tail bytes that do not
    /// fill a lane. From 0 it is the oracle the vector paths are tested against.
    /// </summary>
    internal static void ApplyScalar<T, TOp>(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y, Span<byte> destination, int start)
        where T : unmanaged, IBinaryInteger<T>
        where TOp : IElementOperator<T>
    {
        CheckLengths(x.Length, y.Length, destination.Length);
        int size = Unsafe.SizeOf<T>();
        int count = x.Length / size;
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)start, (uint)count, nameof(start));
        for (int i = start; i < count; i++)
        {
            int offset = i * size;
            T value = TOp.Invoke(ReadLane<T>(x[offset..]), ReadLane<T>(y[offset..]));
            WriteLane(destination[offset..], value);
        }

        for (int j = count * size; j < x.Length; j++)
        {
            destination[j] = (byte)(x[j] ^ y[j]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T ReadLane<T>(ReadOnlySpan<byte> source)
        where T : unmanaged, IBinaryInteger<T> =>
        BitConverter.IsLittleEndian
            ? MemoryMarshal.Read<T>(source)
            : T.ReadLittleEndian(source[..Unsafe.SizeOf<T>()], isUnsigned: !T.IsNegative(T.AllBitsSet));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteLane<T>(Span<byte> destination, T value)
        where T : unmanaged, IBinaryInteger<T>
    {
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.Write(destination, in value);
        }
        else
        {
            value.WriteLittleEndian(destination);
        }
    }

    private static void CheckLengths(int x, int y, int destination)
    {
        if (x != y || x != destination)
        {
            throw new ArgumentException($"delta operands must have equal lengths, got {x}, {y} and a destination of {destination}");
        }
    }
}
