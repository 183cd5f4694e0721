using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Z4Ai.Planes;

// A block is w = Vector256<byte>.Count elements: one exponent vector and one vector per plane. As in BytePlanes,
// each dtype's loop is its own non-inlined method so the lane helpers inline and nothing spills.
internal static partial class FloatFields
{
    /// <summary>
    /// Splits whole blocks of <c>Vector256&lt;byte&gt;.Count</c> elements with 256-bit vectors and returns how many
    /// elements it did; the caller finishes the tail with the scalar oracle.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The dtype is not supported.</exception>
    /// <exception cref="ArgumentException">The lengths do not fit, or spans overlap.</exception>
    internal static int SplitVector256(DType dtype, ReadOnlySpan<byte> source, Span<byte> exponents, Span<byte> signMantissa)
    {
        int count = CheckArguments(dtype, source, exponents, signMantissa, nameof(source));
        int done = count - (count % Vector256<byte>.Count);
        ref byte src = ref MemoryMarshal.GetReference(source);
        ref byte exp = ref MemoryMarshal.GetReference(exponents);
        ref byte planes = ref MemoryMarshal.GetReference(signMantissa);
        switch (dtype)
        {
            case DType.BF16:
                SplitBf16Vector256(ref src, ref exp, ref planes, (nuint)done);
                break;
            case DType.F16:
                SplitF16Vector256(ref src, ref exp, ref planes, (nuint)count, (nuint)done);
                break;
            default:
                SplitF32Vector256(ref src, ref exp, ref planes, (nuint)count, (nuint)done);
                break;
        }

        return done;
    }

    /// <summary>
    /// Merges whole blocks of <c>Vector256&lt;byte&gt;.Count</c> elements with 256-bit vectors and returns how many
    /// elements it did; the caller finishes the tail with the scalar oracle.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The dtype is not supported.</exception>
    /// <exception cref="ArgumentException">The lengths do not fit, or spans overlap.</exception>
    internal static int MergeVector256(DType dtype, ReadOnlySpan<byte> exponents, ReadOnlySpan<byte> signMantissa, Span<byte> destination)
    {
        int count = CheckArguments(dtype, destination, exponents, signMantissa, nameof(destination));
        int done = count - (count % Vector256<byte>.Count);
        ref byte exp = ref MemoryMarshal.GetReference(exponents);
        ref byte planes = ref MemoryMarshal.GetReference(signMantissa);
        ref byte dst = ref MemoryMarshal.GetReference(destination);
        switch (dtype)
        {
            case DType.BF16:
                MergeBf16Vector256(ref exp, ref planes, ref dst, (nuint)done);
                break;
            case DType.F16:
                MergeF16Vector256(ref exp, ref planes, ref dst, (nuint)count, (nuint)done);
                break;
            default:
                MergeF32Vector256(ref exp, ref planes, ref dst, (nuint)count, (nuint)done);
                break;
        }

        return done;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void SplitBf16Vector256(ref byte src, ref byte exp, ref byte planes, nuint done)
    {
        nuint w = (nuint)Vector256<byte>.Count;
        for (nuint i = 0; i < done; i += w)
        {
            ref byte block = ref Unsafe.Add(ref src, i * 2);
            Vector256<ushort> v0 = Vector256.LoadUnsafe(ref block).AsUInt16();
            Vector256<ushort> v1 = Vector256.LoadUnsafe(ref block, w).AsUInt16();
            SplitBf16(v0, v1, out Vector256<byte> e, out Vector256<byte> p0);
            e.StoreUnsafe(ref exp, i);
            p0.StoreUnsafe(ref planes, i);
        }
    }

    // F16 word = s eeeee mm mmmmmmmm: exponent = (v >> 10) & 0x1F, plane 0 = low byte,
    // plane 1 = (v >> 13) & 4 (the sign) | (v >> 8) & 3 (mantissa bits 8-9).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void SplitF16Vector256(ref byte src, ref byte exp, ref byte planes, nuint n, nuint done)
    {
        nuint w = (nuint)Vector256<byte>.Count;
        Vector256<ushort> exponentMask = Vector256.Create((ushort)0x1F);
        Vector256<ushort> signBit = Vector256.Create((ushort)0x4);
        Vector256<ushort> topMantissa = Vector256.Create((ushort)0x3);
        for (nuint i = 0; i < done; i += w)
        {
            ref byte block = ref Unsafe.Add(ref src, i * 2);
            Vector256<ushort> v0 = Vector256.LoadUnsafe(ref block).AsUInt16();
            Vector256<ushort> v1 = Vector256.LoadUnsafe(ref block, w).AsUInt16();
            Vector256.Narrow((v0 >>> 10) & exponentMask, (v1 >>> 10) & exponentMask).StoreUnsafe(ref exp, i);
            Vector256.Narrow(v0, v1).StoreUnsafe(ref planes, i);
            Vector256<ushort> high0 = ((v0 >>> 13) & signBit) | ((v0 >>> 8) & topMantissa);
            Vector256<ushort> high1 = ((v1 >>> 13) & signBit) | ((v1 >>> 8) & topMantissa);
            Vector256.Narrow(high0, high1).StoreUnsafe(ref planes, n + i);
        }
    }

    // F32: unzip 32 -> 16; the low halves are byte-split as they are, the high halves are BF16-shaped.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void SplitF32Vector256(ref byte src, ref byte exp, ref byte planes, nuint n, nuint done)
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
            SplitBf16(h01, h23, out Vector256<byte> e, out Vector256<byte> p2);
            e.StoreUnsafe(ref exp, i);
            p0.StoreUnsafe(ref planes, i);
            p1.StoreUnsafe(ref planes, n + i);
            p2.StoreUnsafe(ref planes, (2 * n) + i);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void MergeBf16Vector256(ref byte exp, ref byte planes, ref byte dst, nuint done)
    {
        nuint w = (nuint)Vector256<byte>.Count;
        for (nuint i = 0; i < done; i += w)
        {
            Vector256<byte> e = Vector256.LoadUnsafe(ref exp, i);
            Vector256<byte> p0 = Vector256.LoadUnsafe(ref planes, i);
            MergeBf16(e, p0, out Vector256<ushort> v0, out Vector256<ushort> v1);
            ref byte block = ref Unsafe.Add(ref dst, i * 2);
            v0.AsByte().StoreUnsafe(ref block);
            v1.AsByte().StoreUnsafe(ref block, w);
        }
    }

    // u = plane 0 | plane 1 << 8 puts mantissa bits 8-9 at bits 8-9 and the sign at bit 10; t = exponent << 8:
    //   element = u & 0x03FF | (u & 0x0400) << 5 | (t & 0x1F00) << 2   (the masks drop the bits F16 cannot hold)
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void MergeF16Vector256(ref byte exp, ref byte planes, ref byte dst, nuint n, nuint done)
    {
        nuint w = (nuint)Vector256<byte>.Count;
        Vector256<ushort> mantissa = Vector256.Create((ushort)0x03FF);
        Vector256<ushort> sign = Vector256.Create((ushort)0x0400);
        Vector256<ushort> exponent = Vector256.Create((ushort)0x1F00);
        for (nuint i = 0; i < done; i += w)
        {
            Vector256<byte> p0 = Vector256.LoadUnsafe(ref planes, i);
            Vector256<byte> p1 = Vector256.LoadUnsafe(ref planes, n + i);
            Vector256<byte> e = Vector256.LoadUnsafe(ref exp, i);
            Lanes.Zip(p0, p1, out Vector256<ushort> u0, out Vector256<ushort> u1);
            Lanes.Zip(Vector256<byte>.Zero, e, out Vector256<ushort> t0, out Vector256<ushort> t1);
            Vector256<ushort> v0 = (u0 & mantissa) | ((u0 & sign) << 5) | ((t0 & exponent) << 2);
            Vector256<ushort> v1 = (u1 & mantissa) | ((u1 & sign) << 5) | ((t1 & exponent) << 2);
            ref byte block = ref Unsafe.Add(ref dst, i * 2);
            v0.AsByte().StoreUnsafe(ref block);
            v1.AsByte().StoreUnsafe(ref block, w);
        }
    }

    // F32: high halves from the BF16-shaped plane 2 and the exponents, low halves from planes 0 and 1, then zip.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void MergeF32Vector256(ref byte exp, ref byte planes, ref byte dst, nuint n, nuint done)
    {
        nuint w = (nuint)Vector256<byte>.Count;
        for (nuint i = 0; i < done; i += w)
        {
            Vector256<byte> e = Vector256.LoadUnsafe(ref exp, i);
            Vector256<byte> p0 = Vector256.LoadUnsafe(ref planes, i);
            Vector256<byte> p1 = Vector256.LoadUnsafe(ref planes, n + i);
            Vector256<byte> p2 = Vector256.LoadUnsafe(ref planes, (2 * n) + i);
            MergeBf16(e, p2, out Vector256<ushort> h0, out Vector256<ushort> h1);
            Lanes.Zip(p0, p1, out Vector256<ushort> l0, out Vector256<ushort> l1);
            Lanes.Zip(l0, h0, out Vector256<uint> v0, out Vector256<uint> v1);
            Lanes.Zip(l1, h1, out Vector256<uint> v2, out Vector256<uint> v3);
            ref byte block = ref Unsafe.Add(ref dst, i * 4);
            v0.AsByte().StoreUnsafe(ref block);
            v1.AsByte().StoreUnsafe(ref block, w);
            v2.AsByte().StoreUnsafe(ref block, 2 * w);
            v3.AsByte().StoreUnsafe(ref block, 3 * w);
        }
    }

    // BF16 split = rotate each 16-bit word left by one, then unzip its bytes:
    //   word = s eeeeeeee mmmmmmm  --rotl 1-->  [eeeeeeee][mmmmmmm s]
    //   high bytes -> exponent stream, low bytes -> plane 0
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SplitBf16(Vector256<ushort> a, Vector256<ushort> b, out Vector256<byte> exponent, out Vector256<byte> plane) =>
        Lanes.Unzip((a << 1) | (a >>> 15), (b << 1) | (b >>> 15), out plane, out exponent);

    // BF16 merge = zip plane 0 (low byte) with the exponent (high byte), then rotate each word right by one.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MergeBf16(Vector256<byte> exponent, Vector256<byte> plane, out Vector256<ushort> first, out Vector256<ushort> second)
    {
        Lanes.Zip(plane, exponent, out Vector256<ushort> u0, out Vector256<ushort> u1);
        first = (u0 >>> 1) | (u0 << 15);
        second = (u1 >>> 1) | (u1 << 15);
    }
}
