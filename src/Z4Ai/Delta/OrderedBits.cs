using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Z4Ai.Delta;

/// <summary>
/// The bit tricks behind the subtract delta, on signed lanes (the lane's bits are what matters; signed lanes give
/// the sign test for free).
/// </summary>
/// <remarks>
/// <para>
/// <b>Order map.</b> A sign-magnitude float's bits, read as an unsigned integer, sort positives upwards but
/// negatives backwards. Flipping every bit of a negative value and only the sign bit of a positive one gives an
/// integer whose unsigned order is the float order (with -0 just below +0), so a small step in value is a small
/// difference in integers, even across zero. As a mask: <c>m = x ^ ((x &lt; 0 ? ~0 : 0) | MIN)</c>; the inverse
/// tests the top bit of <c>m</c> instead: <c>x = m ^ ((m &gt;= 0 ? ~0 : 0) | MIN)</c>.
/// </para>
/// <para>
/// <b>Zigzag.</b> A difference of -1 is all ones, which compresses badly; zigzag interleaves the signs
/// (0, -1, 1, -2, 2 become 0, 1, 2, 3, 4) so small steps either way have mostly zero high bytes:
/// <c>z = (d &lt;&lt; 1) ^ (d &lt; 0 ? ~0 : 0)</c>, inverse <c>d = (z &gt;&gt;&gt; 1) ^ -(z &amp; 1)</c>.
/// </para>
/// All operations wrap modulo 2^bits, so every map is a bijection and every inverse is exact.
/// </remarks>
internal static class OrderedBits
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Map<T>(T x)
        where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>, IMinMaxValue<T> =>
        x ^ ((x >> (Unsafe.SizeOf<T>() * 8 - 1)) | T.MinValue);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Unmap<T>(T m)
        where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>, IMinMaxValue<T> =>
        m ^ ((~m >> (Unsafe.SizeOf<T>() * 8 - 1)) | T.MinValue);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T ZigZag<T>(T d)
        where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T> =>
        (d << 1) ^ (d >> (Unsafe.SizeOf<T>() * 8 - 1));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T UnZigZag<T>(T z)
        where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T> =>
        (z >>> 1) ^ (T.Zero - (z & T.One));

    // The vector forms use a compare for the sign mask: it exists for every lane width on every ISA, whereas an
    // arithmetic right shift of 8- or 64-bit lanes is emulated without AVX-512.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Map<T>(Vector128<T> x)
        where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>, IMinMaxValue<T> =>
        x ^ (Vector128.LessThan(x, Vector128<T>.Zero) | Vector128.Create(T.MinValue));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Unmap<T>(Vector128<T> m)
        where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>, IMinMaxValue<T> =>
        m ^ (Vector128.GreaterThanOrEqual(m, Vector128<T>.Zero) | Vector128.Create(T.MinValue));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> ZigZag<T>(Vector128<T> d)
        where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T> =>
        (d << 1) ^ Vector128.LessThan(d, Vector128<T>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> UnZigZag<T>(Vector128<T> z)
        where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T> =>
        (z >>> 1) ^ (Vector128<T>.Zero - (z & Vector128<T>.One));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Map<T>(Vector256<T> x)
        where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>, IMinMaxValue<T> =>
        x ^ (Vector256.LessThan(x, Vector256<T>.Zero) | Vector256.Create(T.MinValue));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Unmap<T>(Vector256<T> m)
        where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>, IMinMaxValue<T> =>
        m ^ (Vector256.GreaterThanOrEqual(m, Vector256<T>.Zero) | Vector256.Create(T.MinValue));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> ZigZag<T>(Vector256<T> d)
        where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T> =>
        (d << 1) ^ Vector256.LessThan(d, Vector256<T>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> UnZigZag<T>(Vector256<T> z)
        where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T> =>
        (z >>> 1) ^ (Vector256<T>.Zero - (z & Vector256<T>.One));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Map<T>(Vector512<T> x)
        where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>, IMinMaxValue<T> =>
        x ^ (Vector512.LessThan(x, Vector512<T>.Zero) | Vector512.Create(T.MinValue));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Unmap<T>(Vector512<T> m)
        where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>, IMinMaxValue<T> =>
        m ^ (Vector512.GreaterThanOrEqual(m, Vector512<T>.Zero) | Vector512.Create(T.MinValue));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> ZigZag<T>(Vector512<T> d)
        where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T> =>
        (d << 1) ^ Vector512.LessThan(d, Vector512<T>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> UnZigZag<T>(Vector512<T> z)
        where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T> =>
        (z >>> 1) ^ (Vector512<T>.Zero - (z & Vector512<T>.One));
}
