using System.Numerics;
using System.Runtime.Intrinsics;

namespace Z4Ai.Delta;

/// <summary>
/// One element-wise binary operation at every vector width, so <see cref="DeltaKernels"/> writes each width's
/// loop once and the JIT specialises it per operator (the TensorPrimitives operator-struct pattern).
/// </summary>
/// <typeparam name="T">The lane type: the element's bits as an integer.</typeparam>
internal interface IElementOperator<T>
    where T : unmanaged, IBinaryInteger<T>
{
    /// <summary>Combines one element of each operand.</summary>
    static abstract T Invoke(T x, T y);

    /// <summary>Combines one 128-bit vector of each operand, lane by lane, exactly as the scalar form.</summary>
    static abstract Vector128<T> Invoke(Vector128<T> x, Vector128<T> y);

    /// <summary>Combines one 256-bit vector of each operand, lane by lane, exactly as the scalar form.</summary>
    static abstract Vector256<T> Invoke(Vector256<T> x, Vector256<T> y);

    /// <summary>Combines one 512-bit vector of each operand, lane by lane, exactly as the scalar form.</summary>
    static abstract Vector512<T> Invoke(Vector512<T> x, Vector512<T> y);
}
