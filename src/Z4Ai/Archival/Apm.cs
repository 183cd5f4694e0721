using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Z4Ai.Archival;

/// <summary>
/// Adaptive probability map (secondary estimation): refines a probability given a small context by
/// interpolating between 33 learned points on the stretched scale, then nudging the nearer point towards the
/// coded bit. It corrects systematic over- or under-confidence of the mixer in each context.
/// </summary>
internal sealed class Apm
{
    private readonly ushort[] _table;
    private readonly int _rate;
    private int _index;

    /// <summary>Creates a map with <paramref name="contexts"/> contexts, each starting as the identity.</summary>
    public Apm(int contexts, int rate)
    {
        _table = GC.AllocateUninitializedArray<ushort>(contexts * 33);
        _rate = rate;
        Span<ushort> row = stackalloc ushort[33];
        for (int j = 0; j < 33; j++)
        {
            row[j] = (ushort)(Logistic.Squash((j - 16) * 128) * 16);
        }

        for (int c = 0; c < contexts; c++)
        {
            row.CopyTo(_table.AsSpan(c * 33, 33));
        }
    }

    private Apm(Apm other)
    {
        _table = (ushort[])other._table.Clone();
        _rate = other._rate;
        _index = other._index;
    }

    /// <summary>A deep copy in the same state.</summary>
    public Apm Clone() => new(this);

    /// <summary>Refines <paramref name="p"/> (12 bits) in <paramref name="context"/>; returns 12 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Refine(int p, int context)
    {
        int s = Logistic.Stretch(p) + 2048;
        int lo = s >> 7;
        int w = s & 127;
        int i = (context * 33) + lo;
        ref ushort t = ref MemoryMarshal.GetArrayDataReference(_table);
        int a = Unsafe.Add(ref t, i);
        int b = Unsafe.Add(ref t, i + 1);
        _index = i + (w >> 6);
        return ((a * (128 - w)) + (b * w)) >> 11;
    }

    /// <summary>Moves the nearer point of the last refinement towards <paramref name="bit"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Update(int bit)
    {
        ref ushort e = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_table), _index);
        int target = bit == 0 ? 0 : 65535;
        e = (ushort)(e + ((target - e) >> _rate));
    }
}
