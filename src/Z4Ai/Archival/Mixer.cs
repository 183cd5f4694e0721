using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Z4Ai.Archival;

/// <summary>
/// A gated logistic mixer: combines stretched predictions with one of several weight vectors (chosen by a small
/// context) and learns online by gradient descent on coding cost. Inputs and weights are 16-bit integers
/// (weights 2.14 fixed point), so the dot product is exact in 32 bits and the whole mixer gives the same result
/// in every vector width and in the scalar oracle.
/// </summary>
/// <remarks>
/// Mix: <c>s = clamp((Σ x·w) >> 14, ±2047)</c>, <c>p = squash(s)</c>. Train on bit y:
/// <c>e = ((y·4096 − p)·rate) >> 1</c>, <c>w = sat16(w + ((x·e + 2^14) >> 15))</c> (the rounding of
/// <c>pmulhrsw</c>). Inputs must stay within ±2047 so no product or sum can overflow.
/// </remarks>
internal sealed class Mixer
{
    private readonly short[] _inputs;
    private readonly short[] _weights;
    private readonly int _stride;
    private readonly int _contexts;
    private readonly int _rate;
    private int _offset;
    private int _p;

    /// <summary>Creates a mixer over <paramref name="inputs"/> (length a multiple of 16).</summary>
    /// <param name="inputs">The shared input vector; unused tail entries must stay 0.</param>
    /// <param name="contexts">The number of weight sets.</param>
    /// <param name="rate">The learning rate (error multiplier, 1..15).</param>
    /// <param name="initialWeight">The starting weight of every input, 2.14 fixed point.</param>
    public Mixer(short[] inputs, int contexts, int rate, int initialWeight)
    {
        if (inputs.Length % 16 != 0)
        {
            throw new ArgumentException("the input vector length must be a multiple of 16", nameof(inputs));
        }

        _inputs = inputs;
        _stride = inputs.Length;
        _contexts = contexts;
        _rate = Math.Clamp(rate, 1, 15);
        _weights = new short[contexts * _stride];
        _weights.AsSpan().Fill((short)initialWeight);
    }

    private Mixer(Mixer other, short[] inputs)
    {
        _inputs = inputs;
        _stride = other._stride;
        _contexts = other._contexts;
        _rate = other._rate;
        _weights = (short[])other._weights.Clone();
        _offset = other._offset;
        _p = other._p;
    }

    /// <summary>A deep copy in the same state that reads <paramref name="inputs"/> (the clone's own input vector).</summary>
    public Mixer CloneOver(short[] inputs) => new(this, inputs);

    /// <summary>The probability of the last <see cref="Mix"/>, 12 bits.</summary>
    public int P => _p;

    /// <summary>The padded input count: a multiple of every vector width in use.</summary>
    public static int PadInputs(int count) => (count + 15) & ~15;

    /// <summary>Mixes the inputs with the weight set <paramref name="context"/>; returns a stretched value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Mix(int context)
    {
        // Callers pass contexts below the count they declared; the check keeps a model bug inside the array.
        if ((uint)context >= (uint)_contexts)
        {
            context = 0;
        }

        _offset = context * _stride;
        ref short w = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_weights), _offset);
        int dot = Dot(ref MemoryMarshal.GetArrayDataReference(_inputs), ref w, _stride);
        int s = Math.Clamp(dot >> 14, -Logistic.StretchLimit, Logistic.StretchLimit);
        _p = Logistic.Squash(s);
        return s;
    }

    /// <summary>Trains the weight set used by the last <see cref="Mix"/> on <paramref name="bit"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Update(int bit)
    {
        int err = (((bit << 12) - _p) * _rate) >> 1;
        ref short w = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_weights), _offset);
        Train(ref MemoryMarshal.GetArrayDataReference(_inputs), ref w, _stride, err);
    }

    /// <summary>The exact dot product of <paramref name="length"/> inputs and weights (wrapping modulo 2^32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Dot(ref short x, ref short w, int length)
    {
        if (Avx2.IsSupported)
        {
            return DotVector256(ref x, ref w, length);
        }

        if (Ssse3.IsSupported)
        {
            return DotVector128(ref x, ref w, length);
        }

        return DotScalar(ref x, ref w, length);
    }

    /// <summary>Adds <c>(x·err + 2^14) >> 15</c> to each weight with 16-bit saturation (err is a 16-bit value).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Train(ref short x, ref short w, int length, int err)
    {
        if (Avx2.IsSupported)
        {
            TrainVector256(ref x, ref w, length, err);
        }
        else if (Ssse3.IsSupported)
        {
            TrainVector128(ref x, ref w, length, err);
        }
        else
        {
            TrainScalar(ref x, ref w, length, err);
        }
    }

    internal static int DotScalar(ref short x, ref short w, int length)
    {
        int sum = 0;
        for (int i = 0; i < length; i++)
        {
            sum += Unsafe.Add(ref x, i) * Unsafe.Add(ref w, i);
        }

        return sum;
    }

    internal static int DotVector128(ref short x, ref short w, int length)
    {
        Vector128<int> acc = Vector128<int>.Zero;
        int i = 0;
        for (; i <= length - Vector128<short>.Count; i += Vector128<short>.Count)
        {
            acc += Sse2.MultiplyAddAdjacent(Vector128.LoadUnsafe(ref x, (nuint)i), Vector128.LoadUnsafe(ref w, (nuint)i));
        }

        // Integer sums wrap identically in any order, so the tail may be added last.
        return Vector128.Sum(acc) + DotScalar(ref Unsafe.Add(ref x, i), ref Unsafe.Add(ref w, i), length - i);
    }

    internal static int DotVector256(ref short x, ref short w, int length)
    {
        Vector256<int> acc = Vector256<int>.Zero;
        int i = 0;
        for (; i <= length - Vector256<short>.Count; i += Vector256<short>.Count)
        {
            acc += Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref x, (nuint)i), Vector256.LoadUnsafe(ref w, (nuint)i));
        }

        return Vector256.Sum(acc) + DotScalar(ref Unsafe.Add(ref x, i), ref Unsafe.Add(ref w, i), length - i);
    }

    internal static void TrainScalar(ref short x, ref short w, int length, int err)
    {
        // The vector paths broadcast the error as a 16-bit lane.
        err = (short)err;
        for (int i = 0; i < length; i++)
        {
            ref short wi = ref Unsafe.Add(ref w, i);
            // pmulhrsw keeps the low 16 bits of the rounded product; so does the oracle.
            int delta = (short)(((Unsafe.Add(ref x, i) * err) + (1 << 14)) >> 15);
            wi = (short)Math.Clamp(wi + delta, short.MinValue, short.MaxValue);
        }
    }

    internal static void TrainVector128(ref short x, ref short w, int length, int err)
    {
        Vector128<short> e = Vector128.Create((short)err);
        int i = 0;
        for (; i <= length - Vector128<short>.Count; i += Vector128<short>.Count)
        {
            Vector128<short> delta = Ssse3.MultiplyHighRoundScale(Vector128.LoadUnsafe(ref x, (nuint)i), e);
            Sse2.AddSaturate(Vector128.LoadUnsafe(ref w, (nuint)i), delta).StoreUnsafe(ref w, (nuint)i);
        }

        TrainScalar(ref Unsafe.Add(ref x, i), ref Unsafe.Add(ref w, i), length - i, err);
    }

    internal static void TrainVector256(ref short x, ref short w, int length, int err)
    {
        Vector256<short> e = Vector256.Create((short)err);
        int i = 0;
        for (; i <= length - Vector256<short>.Count; i += Vector256<short>.Count)
        {
            Vector256<short> delta = Avx2.MultiplyHighRoundScale(Vector256.LoadUnsafe(ref x, (nuint)i), e);
            Avx2.AddSaturate(Vector256.LoadUnsafe(ref w, (nuint)i), delta).StoreUnsafe(ref w, (nuint)i);
        }

        TrainScalar(ref Unsafe.Add(ref x, i), ref Unsafe.Add(ref w, i), length - i, err);
    }
}
