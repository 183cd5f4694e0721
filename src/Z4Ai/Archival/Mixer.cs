using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Z4Ai.Archival;

/// <summary>
/// A gated logistic mixer: combines stretched predictions with one of several weight vectors (chosen by a small
/// context) and learns online by gradient descent on coding cost. All in 32-bit integers: weights are 16.16 fixed
/// point, sums wrap modulo 2^32 exactly alike in every vector width, so the result does not depend on the CPU.
/// </summary>
internal sealed class Mixer
{
    private readonly int[] _inputs;
    private readonly int[] _weights;
    private readonly int _stride;
    private readonly int _contexts;
    private readonly int _rate;
    private int _offset;
    private int _p;

    /// <summary>Creates a mixer over <paramref name="inputs"/> (length a multiple of the vector width).</summary>
    /// <param name="inputs">The shared input vector; unused tail entries must stay 0.</param>
    /// <param name="contexts">The number of weight sets.</param>
    /// <param name="rate">The learning rate (error multiplier).</param>
    /// <param name="initialWeight">The starting weight of every input, 16.16 fixed point.</param>
    public Mixer(int[] inputs, int contexts, int rate, int initialWeight)
    {
        _inputs = inputs;
        _stride = inputs.Length;
        _contexts = contexts;
        _rate = rate;
        _weights = new int[contexts * _stride];
        _weights.AsSpan().Fill(initialWeight);
    }

    /// <summary>The padded input count: a multiple of every vector width in use.</summary>
    public static int PadInputs(int count) => (count + 15) & ~15;

    /// <summary>Mixes the inputs with the weight set <paramref name="context"/>; returns a stretched value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Mix(int context)
    {
        _offset = (int)((uint)context % (uint)_contexts) * _stride;
        int dot = Dot(_inputs, _weights.AsSpan(_offset, _stride));
        int s = Math.Clamp(dot >> 16, -Logistic.StretchLimit, Logistic.StretchLimit);
        _p = Logistic.Squash(s);
        return s;
    }

    /// <summary>The probability of the last <see cref="Mix"/>, 12 bits.</summary>
    public int P => _p;

    /// <summary>Trains the weight set used by the last <see cref="Mix"/> on <paramref name="bit"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Update(int bit)
    {
        int err = ((bit << 12) - _p) * _rate;
        Train(_inputs, _weights.AsSpan(_offset, _stride), err);
    }

    internal static int Dot(ReadOnlySpan<int> x, ReadOnlySpan<int> w)
    {
        int i = 0;
        int sum = 0;
        ref int rx = ref MemoryMarshal.GetReference(x);
        ref int rw = ref MemoryMarshal.GetReference(w);
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<int>.Count)
        {
            Vector<int> acc = Vector<int>.Zero;
            for (; i <= x.Length - Vector<int>.Count; i += Vector<int>.Count)
            {
                var vx = Vector.LoadUnsafe(ref rx, (nuint)i);
                var vw = Vector.LoadUnsafe(ref rw, (nuint)i);
                acc += vx * vw;
            }

            sum = Vector.Sum(acc);
        }

        for (; i < x.Length; i++)
        {
            sum += Unsafe.Add(ref rx, i) * Unsafe.Add(ref rw, i);
        }

        return sum;
    }

    internal static void Train(ReadOnlySpan<int> x, Span<int> w, int err)
    {
        const int Limit = (1 << 19) - 1;
        int i = 0;
        ref int rx = ref MemoryMarshal.GetReference(x);
        ref int rw = ref MemoryMarshal.GetReference(w);
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<int>.Count)
        {
            var verr = new Vector<int>(err);
            var round = new Vector<int>(1 << 13);
            var hi = new Vector<int>(Limit);
            var lo = new Vector<int>(-Limit);
            for (; i <= x.Length - Vector<int>.Count; i += Vector<int>.Count)
            {
                var vx = Vector.LoadUnsafe(ref rx, (nuint)i);
                var vw = Vector.LoadUnsafe(ref rw, (nuint)i);
                vw += Vector.ShiftRightArithmetic((vx * verr) + round, 14);
                Vector.Min(Vector.Max(vw, lo), hi).StoreUnsafe(ref rw, (nuint)i);
            }
        }

        for (; i < x.Length; i++)
        {
            ref int wi = ref Unsafe.Add(ref rw, i);
            wi = Math.Clamp(wi + (((Unsafe.Add(ref rx, i) * err) + (1 << 13)) >> 14), -Limit, Limit);
        }
    }
}
