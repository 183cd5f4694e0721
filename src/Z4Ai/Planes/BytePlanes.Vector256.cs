using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Z4Ai.Planes;

// A block is w = Vector256<byte>.Count elements: elementSize input vectors in, one vector per plane out. The
// per-size loops are separate, non-inlined methods so each gets the JIT's full inlining budget for the lane
// helpers and keeps its vectors in registers (one method holding every loop ran out of budget and spilled).
internal static partial class BytePlanes
{
    /// <summary>
    /// Splits whole blocks of <c>Vector256&lt;byte&gt;.Count</c> elements with 256-bit vectors; returns how many
    /// elements it did (0 for element sizes other than 2, 4 and 8). The caller finishes the tail.
    /// </summary>
    internal static int SplitVector256(ReadOnlySpan<byte> source, Span<byte> destination, int elementSize)
    {
        CheckArguments(source, destination, elementSize);
        int count = source.Length / elementSize;
        int done = count - (count % Vector256<byte>.Count);
        ref byte src = ref MemoryMarshal.GetReference(source);
        ref byte dst = ref MemoryMarshal.GetReference(destination);
        switch (elementSize)
        {
            case 2:
                Split2Vector256(ref src, ref dst, (nuint)count, (nuint)done);
                return done;
            case 4:
                Split4Vector256(ref src, ref dst, (nuint)count, (nuint)done);
                return done;
            case 8:
                Split8Vector256(ref src, ref dst, (nuint)count, (nuint)done);
                return done;
            default:
                return 0;
        }
    }

    /// <summary>
    /// Merges whole blocks of <c>Vector256&lt;byte&gt;.Count</c> elements with 256-bit vectors; returns how many
    /// elements it did (0 for element sizes other than 2, 4 and 8). The caller finishes the tail.
    /// </summary>
    internal static int MergeVector256(ReadOnlySpan<byte> source, Span<byte> destination, int elementSize)
    {
        CheckArguments(source, destination, elementSize);
        int count = source.Length / elementSize;
        int done = count - (count % Vector256<byte>.Count);
        ref byte src = ref MemoryMarshal.GetReference(source);
        ref byte dst = ref MemoryMarshal.GetReference(destination);
        switch (elementSize)
        {
            case 2:
                Merge2Vector256(ref src, ref dst, (nuint)count, (nuint)done);
                return done;
            case 4:
                Merge4Vector256(ref src, ref dst, (nuint)count, (nuint)done);
                return done;
            case 8:
                Merge8Vector256(ref src, ref dst, (nuint)count, (nuint)done);
                return done;
            default:
                return 0;
        }
    }

    // 2-byte elements [0, done); n is the plane stride. One unzip of the block's 2 vectors gives planes 0 and 1.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Split2Vector256(ref byte src, ref byte dst, nuint n, nuint done)
    {
        nuint w = (nuint)Vector256<byte>.Count;
        for (nuint i = 0; i < done; i += w)
        {
            ref byte block = ref Unsafe.Add(ref src, i * 2);
            Vector256<ushort> v0 = Vector256.LoadUnsafe(ref block).AsUInt16();
            Vector256<ushort> v1 = Vector256.LoadUnsafe(ref block, w).AsUInt16();
            Lanes.Unzip(v0, v1, out Vector256<byte> p0, out Vector256<byte> p1);
            p0.StoreUnsafe(ref dst, i);
            p1.StoreUnsafe(ref dst, n + i);
        }
    }

    // 4-byte elements: unzip 32->16 within the pairs (v0,v1) and (v2,v3), then 16->8 across the pairs, so each
    // plane vector holds the block's w elements in order.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Split4Vector256(ref byte src, ref byte dst, nuint n, nuint done)
    {
        nuint w = (nuint)Vector256<byte>.Count;
        for (nuint i = 0; i < done; i += w)
        {
            ref byte block = ref Unsafe.Add(ref src, i * 4);
            Vector256<uint> v0 = Vector256.LoadUnsafe(ref block).AsUInt32();
            Vector256<uint> v1 = Vector256.LoadUnsafe(ref block, w).AsUInt32();
            Vector256<uint> v2 = Vector256.LoadUnsafe(ref block, 2 * w).AsUInt32();
            Vector256<uint> v3 = Vector256.LoadUnsafe(ref block, 3 * w).AsUInt32();
            Lanes.Unzip(v0, v1, out Vector256<ushort> l01, out Vector256<ushort> h01);
            Lanes.Unzip(v2, v3, out Vector256<ushort> l23, out Vector256<ushort> h23);
            Lanes.Unzip(l01, l23, out Vector256<byte> p0, out Vector256<byte> p1);
            Lanes.Unzip(h01, h23, out Vector256<byte> p2, out Vector256<byte> p3);
            p0.StoreUnsafe(ref dst, i);
            p1.StoreUnsafe(ref dst, n + i);
            p2.StoreUnsafe(ref dst, (2 * n) + i);
            p3.StoreUnsafe(ref dst, (3 * n) + i);
        }
    }

    // 8-byte elements: three rounds of unzip (64->32, 32->16, 16->8), pairing neighbours in each round.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Split8Vector256(ref byte src, ref byte dst, nuint n, nuint done)
    {
        nuint w = (nuint)Vector256<byte>.Count;
        for (nuint i = 0; i < done; i += w)
        {
            ref byte block = ref Unsafe.Add(ref src, i * 8);
            Vector256<ulong> v0 = Vector256.LoadUnsafe(ref block).AsUInt64();
            Vector256<ulong> v1 = Vector256.LoadUnsafe(ref block, w).AsUInt64();
            Vector256<ulong> v2 = Vector256.LoadUnsafe(ref block, 2 * w).AsUInt64();
            Vector256<ulong> v3 = Vector256.LoadUnsafe(ref block, 3 * w).AsUInt64();
            Vector256<ulong> v4 = Vector256.LoadUnsafe(ref block, 4 * w).AsUInt64();
            Vector256<ulong> v5 = Vector256.LoadUnsafe(ref block, 5 * w).AsUInt64();
            Vector256<ulong> v6 = Vector256.LoadUnsafe(ref block, 6 * w).AsUInt64();
            Vector256<ulong> v7 = Vector256.LoadUnsafe(ref block, 7 * w).AsUInt64();
            Lanes.Unzip(v0, v1, out Vector256<uint> l01, out Vector256<uint> h01);
            Lanes.Unzip(v2, v3, out Vector256<uint> l23, out Vector256<uint> h23);
            Lanes.Unzip(v4, v5, out Vector256<uint> l45, out Vector256<uint> h45);
            Lanes.Unzip(v6, v7, out Vector256<uint> l67, out Vector256<uint> h67);
            Lanes.Unzip(l01, l23, out Vector256<ushort> ll03, out Vector256<ushort> lh03);
            Lanes.Unzip(l45, l67, out Vector256<ushort> ll47, out Vector256<ushort> lh47);
            Lanes.Unzip(h01, h23, out Vector256<ushort> hl03, out Vector256<ushort> hh03);
            Lanes.Unzip(h45, h67, out Vector256<ushort> hl47, out Vector256<ushort> hh47);
            Lanes.Unzip(ll03, ll47, out Vector256<byte> p0, out Vector256<byte> p1);
            Lanes.Unzip(lh03, lh47, out Vector256<byte> p2, out Vector256<byte> p3);
            Lanes.Unzip(hl03, hl47, out Vector256<byte> p4, out Vector256<byte> p5);
            Lanes.Unzip(hh03, hh47, out Vector256<byte> p6, out Vector256<byte> p7);
            p0.StoreUnsafe(ref dst, i);
            p1.StoreUnsafe(ref dst, n + i);
            p2.StoreUnsafe(ref dst, (2 * n) + i);
            p3.StoreUnsafe(ref dst, (3 * n) + i);
            p4.StoreUnsafe(ref dst, (4 * n) + i);
            p5.StoreUnsafe(ref dst, (5 * n) + i);
            p6.StoreUnsafe(ref dst, (6 * n) + i);
            p7.StoreUnsafe(ref dst, (7 * n) + i);
        }
    }

    // 2-byte elements: one zip of planes 0 and 1 gives the block's 2 vectors of elements.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Merge2Vector256(ref byte src, ref byte dst, nuint n, nuint done)
    {
        nuint w = (nuint)Vector256<byte>.Count;
        for (nuint i = 0; i < done; i += w)
        {
            Vector256<byte> p0 = Vector256.LoadUnsafe(ref src, i);
            Vector256<byte> p1 = Vector256.LoadUnsafe(ref src, n + i);
            Lanes.Zip(p0, p1, out Vector256<ushort> e0, out Vector256<ushort> e1);
            ref byte block = ref Unsafe.Add(ref dst, i * 2);
            e0.AsByte().StoreUnsafe(ref block);
            e1.AsByte().StoreUnsafe(ref block, w);
        }
    }

    // 4-byte elements: zip planes (0,1) and (2,3) into 16-bit halves, then zip the halves into whole elements.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Merge4Vector256(ref byte src, ref byte dst, nuint n, nuint done)
    {
        nuint w = (nuint)Vector256<byte>.Count;
        for (nuint i = 0; i < done; i += w)
        {
            Vector256<byte> p0 = Vector256.LoadUnsafe(ref src, i);
            Vector256<byte> p1 = Vector256.LoadUnsafe(ref src, n + i);
            Vector256<byte> p2 = Vector256.LoadUnsafe(ref src, (2 * n) + i);
            Vector256<byte> p3 = Vector256.LoadUnsafe(ref src, (3 * n) + i);
            Lanes.Zip(p0, p1, out Vector256<ushort> l0, out Vector256<ushort> l1);
            Lanes.Zip(p2, p3, out Vector256<ushort> h0, out Vector256<ushort> h1);
            Lanes.Zip(l0, h0, out Vector256<uint> e0, out Vector256<uint> e1);
            Lanes.Zip(l1, h1, out Vector256<uint> e2, out Vector256<uint> e3);
            ref byte block = ref Unsafe.Add(ref dst, i * 4);
            e0.AsByte().StoreUnsafe(ref block);
            e1.AsByte().StoreUnsafe(ref block, w);
            e2.AsByte().StoreUnsafe(ref block, 2 * w);
            e3.AsByte().StoreUnsafe(ref block, 3 * w);
        }
    }

    // 8-byte elements: three rounds of zip (8->16, 16->32, 32->64), the mirror image of the split.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Merge8Vector256(ref byte src, ref byte dst, nuint n, nuint done)
    {
        nuint w = (nuint)Vector256<byte>.Count;
        for (nuint i = 0; i < done; i += w)
        {
            Vector256<byte> p0 = Vector256.LoadUnsafe(ref src, i);
            Vector256<byte> p1 = Vector256.LoadUnsafe(ref src, n + i);
            Vector256<byte> p2 = Vector256.LoadUnsafe(ref src, (2 * n) + i);
            Vector256<byte> p3 = Vector256.LoadUnsafe(ref src, (3 * n) + i);
            Vector256<byte> p4 = Vector256.LoadUnsafe(ref src, (4 * n) + i);
            Vector256<byte> p5 = Vector256.LoadUnsafe(ref src, (5 * n) + i);
            Vector256<byte> p6 = Vector256.LoadUnsafe(ref src, (6 * n) + i);
            Vector256<byte> p7 = Vector256.LoadUnsafe(ref src, (7 * n) + i);
            Lanes.Zip(p0, p1, out Vector256<ushort> a0, out Vector256<ushort> a1);
            Lanes.Zip(p2, p3, out Vector256<ushort> b0, out Vector256<ushort> b1);
            Lanes.Zip(p4, p5, out Vector256<ushort> c0, out Vector256<ushort> c1);
            Lanes.Zip(p6, p7, out Vector256<ushort> d0, out Vector256<ushort> d1);
            Lanes.Zip(a0, b0, out Vector256<uint> ab0, out Vector256<uint> ab1);
            Lanes.Zip(a1, b1, out Vector256<uint> ab2, out Vector256<uint> ab3);
            Lanes.Zip(c0, d0, out Vector256<uint> cd0, out Vector256<uint> cd1);
            Lanes.Zip(c1, d1, out Vector256<uint> cd2, out Vector256<uint> cd3);
            Lanes.Zip(ab0, cd0, out Vector256<ulong> e0, out Vector256<ulong> e1);
            Lanes.Zip(ab1, cd1, out Vector256<ulong> e2, out Vector256<ulong> e3);
            Lanes.Zip(ab2, cd2, out Vector256<ulong> e4, out Vector256<ulong> e5);
            Lanes.Zip(ab3, cd3, out Vector256<ulong> e6, out Vector256<ulong> e7);
            ref byte block = ref Unsafe.Add(ref dst, i * 8);
            e0.AsByte().StoreUnsafe(ref block);
            e1.AsByte().StoreUnsafe(ref block, w);
            e2.AsByte().StoreUnsafe(ref block, 2 * w);
            e3.AsByte().StoreUnsafe(ref block, 3 * w);
            e4.AsByte().StoreUnsafe(ref block, 4 * w);
            e5.AsByte().StoreUnsafe(ref block, 5 * w);
            e6.AsByte().StoreUnsafe(ref block, 6 * w);
            e7.AsByte().StoreUnsafe(ref block, 7 * w);
        }
    }
}
