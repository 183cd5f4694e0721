using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Z4Ai.Transforms;

/// <summary>
/// The bitwise OR of every 8-byte little-endian word of a buffer: one pass that answers "which bit positions are
/// ever set" for all elements at once. Element sizes 1, 2, 4 and 8 divide 8, so an element's bytes keep their lane
/// in the word and <see cref="FoldToLane"/> gives the OR over all elements.
/// </summary>
/// <remarks>
/// Trailing bytes that do not fill a word are placed at their offset within a zero word, which keeps them in their
/// lane. <see cref="OrWordsScalar"/> is the oracle for the vector paths.
/// </remarks>
internal static class BitwiseScan
{
    /// <summary>The OR of all words, using the widest vector the hardware accelerates.</summary>
    public static ulong OrWords(ReadOnlySpan<byte> data)
    {
        ref byte start = ref MemoryMarshal.GetReference(data);
        nuint length = (nuint)data.Length;
        nuint offset = 0;
        ulong result = 0;
        if (Vector256.IsHardwareAccelerated && length >= (nuint)Vector256<byte>.Count)
        {
            result |= OrVector256(ref start, length, ref offset);
        }
        else if (Vector128.IsHardwareAccelerated && length >= (nuint)Vector128<byte>.Count)
        {
            result |= OrVector128(ref start, length, ref offset);
        }

        return result | OrWordsScalar(data[(int)offset..]);
    }

    /// <summary>The oracle: one word at a time, then the tail.</summary>
    internal static ulong OrWordsScalar(ReadOnlySpan<byte> data)
    {
        ulong result = 0;
        int i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            result |= BinaryPrimitives.ReadUInt64LittleEndian(data[i..]);
        }

        for (int b = 0; i < data.Length; i++, b++)
        {
            result |= (ulong)data[i] << (8 * b);
        }

        return result;
    }

    /// <summary>Consumes whole 32-byte vectors, advancing <paramref name="offset"/>.</summary>
    internal static ulong OrVector256(ref byte start, nuint length, ref nuint offset)
    {
        Vector256<byte> acc0 = Vector256<byte>.Zero;
        Vector256<byte> acc1 = Vector256<byte>.Zero;
        nuint step = (nuint)Vector256<byte>.Count;
        for (; offset + (2 * step) <= length; offset += 2 * step)
        {
            acc0 |= Vector256.LoadUnsafe(ref start, offset);
            acc1 |= Vector256.LoadUnsafe(ref start, offset + step);
        }

        for (; offset + step <= length; offset += step)
        {
            acc0 |= Vector256.LoadUnsafe(ref start, offset);
        }

        // A vector is four little-endian words in memory order; OR them together.
        Vector256<ulong> words = (acc0 | acc1).AsUInt64();
        ulong r = words.GetElement(0) | words.GetElement(1) | words.GetElement(2) | words.GetElement(3);
        return BitConverter.IsLittleEndian ? r : BinaryPrimitives.ReverseEndianness(r);
    }

    /// <summary>Consumes whole 16-byte vectors, advancing <paramref name="offset"/>.</summary>
    internal static ulong OrVector128(ref byte start, nuint length, ref nuint offset)
    {
        Vector128<byte> acc = Vector128<byte>.Zero;
        nuint step = (nuint)Vector128<byte>.Count;
        for (; offset + step <= length; offset += step)
        {
            acc |= Vector128.LoadUnsafe(ref start, offset);
        }

        Vector128<ulong> words = acc.AsUInt64();
        ulong r = words.GetElement(0) | words.GetElement(1);
        return BitConverter.IsLittleEndian ? r : BinaryPrimitives.ReverseEndianness(r);
    }

    /// <summary>Folds a word OR into one element lane of <paramref name="laneBytes"/> bytes (1, 2, 4 or 8).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong FoldToLane(ulong words, int laneBytes)
    {
        if (laneBytes <= 4)
        {
            words |= words >> 32;
        }

        if (laneBytes <= 2)
        {
            words |= words >> 16;
        }

        if (laneBytes <= 1)
        {
            words |= words >> 8;
        }

        return words & Elements.LowMask(laneBytes * 8);
    }
}
