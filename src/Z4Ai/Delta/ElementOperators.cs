using System.Numerics;
using System.Runtime.Intrinsics;

namespace Z4Ai.Delta;

/// <summary><c>x ^ y</c>: the XOR delta, its own inverse.</summary>
internal readonly struct XorOperator<T> : IElementOperator<T>
    where T : unmanaged, IBinaryInteger<T>
{
    public static T Invoke(T x, T y) => x ^ y;

    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => x ^ y;

    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => x ^ y;

    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => x ^ y;
}

/// <summary>Forward integer delta: <c>zigzag(current - reference)</c>, modulo 2^bits.</summary>
internal readonly struct SubtractOperator<T> : IElementOperator<T>
    where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
{
    public static T Invoke(T x, T y) => OrderedBits.ZigZag(x - y);

    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => OrderedBits.ZigZag(x - y);

    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => OrderedBits.ZigZag(x - y);

    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => OrderedBits.ZigZag(x - y);
}

/// <summary>Inverse of <see cref="SubtractOperator{T}"/>: <c>reference + unzigzag(delta)</c>, with x the delta.</summary>
internal readonly struct AddOperator<T> : IElementOperator<T>
    where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
{
    public static T Invoke(T x, T y) => y + OrderedBits.UnZigZag(x);

    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => y + OrderedBits.UnZigZag(x);

    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => y + OrderedBits.UnZigZag(x);

    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => y + OrderedBits.UnZigZag(x);
}

/// <summary>Forward float delta: <c>zigzag(map(current) - map(reference))</c> over order-preserving integers.</summary>
internal readonly struct OrderedSubtractOperator<T> : IElementOperator<T>
    where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>, IMinMaxValue<T>
{
    public static T Invoke(T x, T y) => OrderedBits.ZigZag(OrderedBits.Map(x) - OrderedBits.Map(y));

    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => OrderedBits.ZigZag(OrderedBits.Map(x) - OrderedBits.Map(y));

    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => OrderedBits.ZigZag(OrderedBits.Map(x) - OrderedBits.Map(y));

    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => OrderedBits.ZigZag(OrderedBits.Map(x) - OrderedBits.Map(y));
}

/// <summary>
/// Inverse of <see cref="OrderedSubtractOperator{T}"/>: <c>unmap(map(reference) + unzigzag(delta))</c>, with x the delta.
/// </summary>
internal readonly struct OrderedAddOperator<T> : IElementOperator<T>
    where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>, IMinMaxValue<T>
{
    public static T Invoke(T x, T y) => OrderedBits.Unmap(OrderedBits.Map(y) + OrderedBits.UnZigZag(x));

    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => OrderedBits.Unmap(OrderedBits.Map(y) + OrderedBits.UnZigZag(x));

    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => OrderedBits.Unmap(OrderedBits.Map(y) + OrderedBits.UnZigZag(x));

    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => OrderedBits.Unmap(OrderedBits.Map(y) + OrderedBits.UnZigZag(x));
}
