using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Z4Ai.Planes;

/// <summary>
/// The two lane moves every plane and field kernel is built from, at each vector width: <em>unzip</em> (two
/// vectors of N-bit words become one vector of their low halves and one of their high halves) and its inverse
/// <em>zip</em>. Splitting an element into byte planes is unzip applied log2(elementSize) times; merging is zip
/// applied as often.
/// </summary>
/// <remarks>
/// Unzip is the cross-platform truncating <c>Narrow</c> (x86 pack / vpmovwb, Arm xtn), which keeps element
/// order across the whole vector. Zip prefers the native interleave (x86 unpack, Arm zip1/zip2) because it is a
/// single instruction per output, where the portable widen-shift-or needs four; the portable form stays as the
/// fallback for other targets. Lane diagrams use element indices; <c>a</c> and <c>b</c> are the two inputs.
/// </remarks>
internal static class Lanes
{
    // Unzip16: 16-bit words -> low bytes, high bytes (Vector128 shown; wider vectors extend the pattern).
    //   a = [a0 a1 .. a7] b = [b0 .. b7]  (each word = lo | hi << 8)
    //   low  = [a0.lo a1.lo .. a7.lo b0.lo .. b7.lo]
    //   high = [a0.hi a1.hi .. a7.hi b0.hi .. b7.hi]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unzip(Vector128<ushort> a, Vector128<ushort> b, out Vector128<byte> low, out Vector128<byte> high)
    {
        low = Vector128.Narrow(a, b);
        high = Vector128.Narrow(a >>> 8, b >>> 8);
    }

    // Unzip32: the same move on 32-bit words: low = [a0.lo16 .. a3.lo16 b0.lo16 .. b3.lo16], high likewise.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unzip(Vector128<uint> a, Vector128<uint> b, out Vector128<ushort> low, out Vector128<ushort> high)
    {
        low = Vector128.Narrow(a, b);
        high = Vector128.Narrow(a >>> 16, b >>> 16);
    }

    // Unzip64: low = [a0.lo32 a1.lo32 b0.lo32 b1.lo32], high = [a0.hi32 a1.hi32 b0.hi32 b1.hi32].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unzip(Vector128<ulong> a, Vector128<ulong> b, out Vector128<uint> low, out Vector128<uint> high)
    {
        low = Vector128.Narrow(a, b);
        high = Vector128.Narrow(a >>> 32, b >>> 32);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unzip(Vector256<ushort> a, Vector256<ushort> b, out Vector256<byte> low, out Vector256<byte> high)
    {
        low = Vector256.Narrow(a, b);
        high = Vector256.Narrow(a >>> 8, b >>> 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unzip(Vector256<uint> a, Vector256<uint> b, out Vector256<ushort> low, out Vector256<ushort> high)
    {
        low = Vector256.Narrow(a, b);
        high = Vector256.Narrow(a >>> 16, b >>> 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unzip(Vector256<ulong> a, Vector256<ulong> b, out Vector256<uint> low, out Vector256<uint> high)
    {
        low = Vector256.Narrow(a, b);
        high = Vector256.Narrow(a >>> 32, b >>> 32);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unzip(Vector512<ushort> a, Vector512<ushort> b, out Vector512<byte> low, out Vector512<byte> high)
    {
        low = Vector512.Narrow(a, b);
        high = Vector512.Narrow(a >>> 8, b >>> 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unzip(Vector512<uint> a, Vector512<uint> b, out Vector512<ushort> low, out Vector512<ushort> high)
    {
        low = Vector512.Narrow(a, b);
        high = Vector512.Narrow(a >>> 16, b >>> 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unzip(Vector512<ulong> a, Vector512<ulong> b, out Vector512<uint> low, out Vector512<uint> high)
    {
        low = Vector512.Narrow(a, b);
        high = Vector512.Narrow(a >>> 32, b >>> 32);
    }

    // Zip8: bytes -> 16-bit words, the inverse of Unzip16.
    //   low = [l0 .. l15] high = [h0 .. h15]
    //   first  = [l0|h0<<8  l1|h1<<8  ..  l7|h7<<8]
    //   second = [l8|h8<<8  ..  l15|h15<<8]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Zip(Vector128<byte> low, Vector128<byte> high, out Vector128<ushort> first, out Vector128<ushort> second)
    {
        if (Sse2.IsSupported)
        {
            first = Sse2.UnpackLow(low, high).AsUInt16();
            second = Sse2.UnpackHigh(low, high).AsUInt16();
        }
        else if (AdvSimd.Arm64.IsSupported)
        {
            first = AdvSimd.Arm64.ZipLow(low, high).AsUInt16();
            second = AdvSimd.Arm64.ZipHigh(low, high).AsUInt16();
        }
        else
        {
            first = Vector128.WidenLower(low) | (Vector128.WidenLower(high) << 8);
            second = Vector128.WidenUpper(low) | (Vector128.WidenUpper(high) << 8);
        }
    }

    // Zip16: 16-bit words -> 32-bit words: first = [l0|h0<<16 .. l3|h3<<16], second = [l4|h4<<16 .. l7|h7<<16].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Zip(Vector128<ushort> low, Vector128<ushort> high, out Vector128<uint> first, out Vector128<uint> second)
    {
        if (Sse2.IsSupported)
        {
            first = Sse2.UnpackLow(low, high).AsUInt32();
            second = Sse2.UnpackHigh(low, high).AsUInt32();
        }
        else if (AdvSimd.Arm64.IsSupported)
        {
            first = AdvSimd.Arm64.ZipLow(low, high).AsUInt32();
            second = AdvSimd.Arm64.ZipHigh(low, high).AsUInt32();
        }
        else
        {
            first = Vector128.WidenLower(low) | (Vector128.WidenLower(high) << 16);
            second = Vector128.WidenUpper(low) | (Vector128.WidenUpper(high) << 16);
        }
    }

    // Zip32: 32-bit words -> 64-bit words: first = [l0|h0<<32 l1|h1<<32], second = [l2|h2<<32 l3|h3<<32].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Zip(Vector128<uint> low, Vector128<uint> high, out Vector128<ulong> first, out Vector128<ulong> second)
    {
        if (Sse2.IsSupported)
        {
            first = Sse2.UnpackLow(low, high).AsUInt64();
            second = Sse2.UnpackHigh(low, high).AsUInt64();
        }
        else if (AdvSimd.Arm64.IsSupported)
        {
            first = AdvSimd.Arm64.ZipLow(low, high).AsUInt64();
            second = AdvSimd.Arm64.ZipHigh(low, high).AsUInt64();
        }
        else
        {
            first = Vector128.WidenLower(low) | (Vector128.WidenLower(high) << 32);
            second = Vector128.WidenUpper(low) | (Vector128.WidenUpper(high) << 32);
        }
    }

    // x86 unpack works inside each 128-bit lane, so the 64-bit quarters are reordered first (vpermq 0xD8) to put
    // the quarters each lane needs into it. Vector256 of bytes, q = 64-bit quarter (8 elements):
    //   low = [q0 q1 | q2 q3]  --vpermq-->  [q0 q2 | q1 q3]   (same for high)
    //   unpacklo -> [zip(q0l,q0h) | zip(q1l,q1h)] = elements 0..15 in order  = first
    //   unpackhi -> [zip(q2l,q2h) | zip(q3l,q3h)] = elements 16..31 in order = second
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Zip(Vector256<byte> low, Vector256<byte> high, out Vector256<ushort> first, out Vector256<ushort> second)
    {
        if (Avx2.IsSupported)
        {
            Vector256<byte> l = Avx2.Permute4x64(low.AsUInt64(), 0xD8).AsByte();
            Vector256<byte> h = Avx2.Permute4x64(high.AsUInt64(), 0xD8).AsByte();
            first = Avx2.UnpackLow(l, h).AsUInt16();
            second = Avx2.UnpackHigh(l, h).AsUInt16();
        }
        else
        {
            first = Vector256.WidenLower(low) | (Vector256.WidenLower(high) << 8);
            second = Vector256.WidenUpper(low) | (Vector256.WidenUpper(high) << 8);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Zip(Vector256<ushort> low, Vector256<ushort> high, out Vector256<uint> first, out Vector256<uint> second)
    {
        if (Avx2.IsSupported)
        {
            Vector256<ushort> l = Avx2.Permute4x64(low.AsUInt64(), 0xD8).AsUInt16();
            Vector256<ushort> h = Avx2.Permute4x64(high.AsUInt64(), 0xD8).AsUInt16();
            first = Avx2.UnpackLow(l, h).AsUInt32();
            second = Avx2.UnpackHigh(l, h).AsUInt32();
        }
        else
        {
            first = Vector256.WidenLower(low) | (Vector256.WidenLower(high) << 16);
            second = Vector256.WidenUpper(low) | (Vector256.WidenUpper(high) << 16);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Zip(Vector256<uint> low, Vector256<uint> high, out Vector256<ulong> first, out Vector256<ulong> second)
    {
        if (Avx2.IsSupported)
        {
            Vector256<uint> l = Avx2.Permute4x64(low.AsUInt64(), 0xD8).AsUInt32();
            Vector256<uint> h = Avx2.Permute4x64(high.AsUInt64(), 0xD8).AsUInt32();
            first = Avx2.UnpackLow(l, h).AsUInt64();
            second = Avx2.UnpackHigh(l, h).AsUInt64();
        }
        else
        {
            first = Vector256.WidenLower(low) | (Vector256.WidenLower(high) << 32);
            second = Vector256.WidenUpper(low) | (Vector256.WidenUpper(high) << 32);
        }
    }

    // Vector512: four 128-bit lanes, so the quarters are gathered with vpermq by index [0 4 1 5 2 6 3 7]:
    //   low = [q0 q1 | q2 q3 | q4 q5 | q6 q7]  -->  [q0 q4 | q1 q5 | q2 q6 | q3 q7]
    //   unpacklo -> lanes take q0, q1, q2, q3 -> elements 0..31 = first
    //   unpackhi -> lanes take q4, q5, q6, q7 -> elements 32..63 = second
    private static Vector512<ulong> QuarterOrder
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(0UL, 4, 1, 5, 2, 6, 3, 7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Zip(Vector512<byte> low, Vector512<byte> high, out Vector512<ushort> first, out Vector512<ushort> second)
    {
        if (Avx512BW.IsSupported)
        {
            Vector512<byte> l = Avx512F.PermuteVar8x64(low.AsUInt64(), QuarterOrder).AsByte();
            Vector512<byte> h = Avx512F.PermuteVar8x64(high.AsUInt64(), QuarterOrder).AsByte();
            first = Avx512BW.UnpackLow(l, h).AsUInt16();
            second = Avx512BW.UnpackHigh(l, h).AsUInt16();
        }
        else
        {
            first = Vector512.WidenLower(low) | (Vector512.WidenLower(high) << 8);
            second = Vector512.WidenUpper(low) | (Vector512.WidenUpper(high) << 8);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Zip(Vector512<ushort> low, Vector512<ushort> high, out Vector512<uint> first, out Vector512<uint> second)
    {
        if (Avx512BW.IsSupported)
        {
            Vector512<ushort> l = Avx512F.PermuteVar8x64(low.AsUInt64(), QuarterOrder).AsUInt16();
            Vector512<ushort> h = Avx512F.PermuteVar8x64(high.AsUInt64(), QuarterOrder).AsUInt16();
            first = Avx512BW.UnpackLow(l, h).AsUInt32();
            second = Avx512BW.UnpackHigh(l, h).AsUInt32();
        }
        else
        {
            first = Vector512.WidenLower(low) | (Vector512.WidenLower(high) << 16);
            second = Vector512.WidenUpper(low) | (Vector512.WidenUpper(high) << 16);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Zip(Vector512<uint> low, Vector512<uint> high, out Vector512<ulong> first, out Vector512<ulong> second)
    {
        if (Avx512F.IsSupported)
        {
            Vector512<uint> l = Avx512F.PermuteVar8x64(low.AsUInt64(), QuarterOrder).AsUInt32();
            Vector512<uint> h = Avx512F.PermuteVar8x64(high.AsUInt64(), QuarterOrder).AsUInt32();
            first = Avx512F.UnpackLow(l, h).AsUInt64();
            second = Avx512F.UnpackHigh(l, h).AsUInt64();
        }
        else
        {
            first = Vector512.WidenLower(low) | (Vector512.WidenLower(high) << 32);
            second = Vector512.WidenUpper(low) | (Vector512.WidenUpper(high) << 32);
        }
    }
}
