using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Z4Ai.Runtime;

/// <summary>
/// Widens BF16 and F16 element streams to <see cref="float"/>. Both are exact: every BF16 and every F16 value
/// (NaN payloads, infinities, subnormals and signed zeros included) has one float with the same value.
/// </summary>
/// <remarks>
/// A BF16 value is the upper half of an F32, so widening is a 16-bit left shift of each word. The vector methods
/// consume whole vectors of BF16 words and return how many elements they widened; <see cref="Bf16ToSingleScalar"/>
/// finishes the tail and is the oracle the vector paths are tested against. F16 goes through the BCL conversion,
/// which handles the exponent rebias and subnormals.
/// </remarks>
internal static class Widening
{
    /// <summary>Widens <paramref name="source"/> (BF16 bit patterns) into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException">The destination is shorter than the source.</exception>
    public static void Bf16ToSingle(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        if (destination.Length < source.Length)
        {
            throw new ArgumentException("the destination is shorter than the source", nameof(destination));
        }

        int done = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            done = Bf16ToSingleVector512(source, destination);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            done = Bf16ToSingleVector256(source, destination);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            done = Bf16ToSingleVector128(source, destination);
        }

        Bf16ToSingleScalar(source[done..], destination[done..]);
    }

    /// <summary>Widens F16 values into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException">The destination is shorter than the source.</exception>
    public static void HalfToSingle(ReadOnlySpan<Half> source, Span<float> destination)
    {
        if (destination.Length < source.Length)
        {
            throw new ArgumentException("the destination is shorter than the source", nameof(destination));
        }

        for (int i = 0; i < source.Length; i++)
        {
            destination[i] = (float)source[i];
        }
    }

    /// <summary>The scalar definition: each word shifted into the upper half of a 32-bit float.</summary>
    internal static void Bf16ToSingleScalar(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        for (int i = 0; i < source.Length; i++)
        {
            destination[i] = BitConverter.Int32BitsToSingle(source[i] << 16);
        }
    }

    // Vector128 lanes (8 words in, two vectors of 4 floats out):
    //   words  = [w0 w1 w2 w3 | w4 w5 w6 w7]
    //   lower  = [w0<<16 w1<<16 w2<<16 w3<<16]   (WidenLower, then shift)
    //   upper  = [w4<<16 w5<<16 w6<<16 w7<<16]   (WidenUpper, then shift)
    // Wider vectors repeat the same pattern; Widen keeps element order across the whole vector.
    internal static int Bf16ToSingleVector128(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        ref ushort src = ref MemoryMarshal.GetReference(source);
        ref uint dst = ref Unsafe.As<float, uint>(ref MemoryMarshal.GetReference(destination));
        int step = Vector128<ushort>.Count;
        int i = 0;
        for (; i <= source.Length - step; i += step)
        {
            Vector128<ushort> words = Vector128.LoadUnsafe(ref src, (nuint)i);
            (Vector128<uint> lower, Vector128<uint> upper) = Vector128.Widen(words);
            (lower << 16).StoreUnsafe(ref dst, (nuint)i);
            (upper << 16).StoreUnsafe(ref dst, (nuint)(i + (step / 2)));
        }

        return i;
    }

    internal static int Bf16ToSingleVector256(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        ref ushort src = ref MemoryMarshal.GetReference(source);
        ref uint dst = ref Unsafe.As<float, uint>(ref MemoryMarshal.GetReference(destination));
        int step = Vector256<ushort>.Count;
        int i = 0;
        for (; i <= source.Length - step; i += step)
        {
            Vector256<ushort> words = Vector256.LoadUnsafe(ref src, (nuint)i);
            (Vector256<uint> lower, Vector256<uint> upper) = Vector256.Widen(words);
            (lower << 16).StoreUnsafe(ref dst, (nuint)i);
            (upper << 16).StoreUnsafe(ref dst, (nuint)(i + (step / 2)));
        }

        return i;
    }

    internal static int Bf16ToSingleVector512(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        ref ushort src = ref MemoryMarshal.GetReference(source);
        ref uint dst = ref Unsafe.As<float, uint>(ref MemoryMarshal.GetReference(destination));
        int step = Vector512<ushort>.Count;
        int i = 0;
        for (; i <= source.Length - step; i += step)
        {
            Vector512<ushort> words = Vector512.LoadUnsafe(ref src, (nuint)i);
            (Vector512<uint> lower, Vector512<uint> upper) = Vector512.Widen(words);
            (lower << 16).StoreUnsafe(ref dst, (nuint)i);
            (upper << 16).StoreUnsafe(ref dst, (nuint)(i + (step / 2)));
        }

        return i;
    }
}
