using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Z4Ai.Archival;

/// <summary>
/// Learns the probability that the next bit is 1 for each of a set of contexts (typically bit-history states).
/// Each entry keeps a 22-bit probability and a 10-bit visit count; the step size is 1/(count + 1.5) until the
/// count reaches the limit, so a new context learns fast and a busy one settles.
/// </summary>
internal sealed class StateMap
{
    // Reciprocal step sizes 2^17 / (2n + 3), integer.
    private static readonly int[] Rates = BuildRates();

    private readonly uint[] _table;
    private readonly int _limit;
    private int _index;

    /// <summary>Creates a map of <paramref name="contexts"/> entries, all at probability 1/2.</summary>
    public StateMap(int contexts, int limit)
    {
        _table = new uint[contexts];
        _limit = Math.Clamp(limit, 1, 1023);
        _table.AsSpan().Fill(1u << 31);
    }

    /// <summary>Creates a map over bit-history states, each starting at the estimate its counts imply.</summary>
    public static StateMap ForBitHistory(int groups, int limit)
    {
        var map = new StateMap(groups * 256, limit);
        for (int g = 0; g < groups; g++)
        {
            for (int s = 0; s < 256; s++)
            {
                int n0 = BitHistory.ZeroCount(s);
                int n1 = BitHistory.OneCount(s);
                uint p = (uint)((((n1 * 2) + 1) << 22) / ((n0 + n1) * 2 + 2));
                map._table[(g * 256) + s] = p << 10;
            }
        }

        return map;
    }

    /// <summary>Predicts for <paramref name="context"/> (12 bits) and remembers it for <see cref="Update"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int P(int context)
    {
        _index = context;
        return (int)(Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_table), context) >> 20);
    }

    /// <summary>Moves the last predicted entry towards <paramref name="bit"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Update(int bit)
    {
        ref uint e = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_table), _index);
        uint v = e;
        int n = (int)(v & 1023);
        int p = (int)(v >> 10);
        int target = bit << 22;
        p += (int)(((long)(target - p) * Rates[n]) >> 17);
        p = Math.Clamp(p, 0, (1 << 22) - 1);
        if (n < _limit)
        {
            n++;
        }

        e = ((uint)p << 10) | (uint)n;
    }

    private static int[] BuildRates()
    {
        var rates = new int[1024];
        for (int n = 0; n < rates.Length; n++)
        {
            rates[n] = (1 << 17) / ((2 * n) + 3);
        }

        return rates;
    }
}
