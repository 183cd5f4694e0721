namespace Z4Ai.Archival;

/// <summary>
/// A one-byte summary of the bits seen in one context: bounded counts of zeros and ones, biased towards recent
/// bits, plus the last bit while both counts are small. An adaptive state map (in the model) learns what each state
/// actually predicts, which is what makes a hashed context useful after only a few visits.
/// </summary>
/// <remarks>
/// The table is generated here by integer code, breadth first from the empty state, so its numbering is fixed
/// by this file alone (a test pins its SHA-256). Rules: a bit increments its own count; if the opposite count is
/// above 2 it is discounted to <c>n / 2 + 1</c> (old evidence fades); the pair is then bounded by
/// <see cref="Bound"/>, where the larger count may grow further the smaller the other count is: the opposite count
/// is lowered until the pair fits, and only when it is zero is the count just raised capped.
/// </remarks>
internal static class BitHistory
{
    /// <summary>The number of states in use (state 0 is "never seen").</summary>
    public static readonly int Count;

    // Largest allowed count of the majority bit, indexed by the minority count.
    private static readonly int[] Bound = [40, 24, 14, 8, 6, 5];

    private static readonly byte[] NextTable = new byte[512];
    private static readonly byte[] Zeros = new byte[256];
    private static readonly byte[] Ones = new byte[256];

    static BitHistory()
    {
        var index = new Dictionary<int, int>();
        var queue = new List<(int N0, int N1, int Last)>();
        index[Key(0, 0, 0)] = 0;
        queue.Add((0, 0, 0));
        for (int head = 0; head < queue.Count; head++)
        {
            (int n0, int n1, _) = queue[head];
            Zeros[head] = (byte)n0;
            Ones[head] = (byte)n1;
            for (int bit = 0; bit < 2; bit++)
            {
                (int a0, int a1, int l) = Step(n0, n1, bit);
                int key = Key(a0, a1, l);
                if (!index.TryGetValue(key, out int next))
                {
                    next = queue.Count;
                    if (next > 255)
                    {
                        throw new InvalidOperationException("bit-history table exceeds 256 states");
                    }

                    index[key] = next;
                    queue.Add((a0, a1, l));
                }

                NextTable[(head * 2) + bit] = (byte)next;
            }
        }

        Count = queue.Count;
    }

    /// <summary>The state after <paramref name="bit"/> is seen in <paramref name="state"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static byte Next(int state, int bit) =>
        System.Runtime.CompilerServices.Unsafe.Add(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(NextTable), ((state & 255) << 1) | (bit & 1));

    /// <summary>The transition table, state * 2 + bit to next state (for the hot loops and the hash test).</summary>
    public static byte[] Transitions => NextTable;

    /// <summary>The zero count of <paramref name="state"/>.</summary>
    public static int ZeroCount(int state) => Zeros[state];

    /// <summary>The one count of <paramref name="state"/>.</summary>
    public static int OneCount(int state) => Ones[state];

    private static int Key(int n0, int n1, int last) => (n0 << 16) | (n1 << 8) | last;

    private static (int N0, int N1, int Last) Step(int n0, int n1, int bit)
    {
        int mine = bit == 0 ? n0 : n1;
        int other = bit == 0 ? n1 : n0;
        mine++;
        if (other > 2)
        {
            other = (other / 2) + 1;
        }

        while (!Allowed(mine, other))
        {
            // Keep the fresh evidence: the stale side shrinks first; only then is the side just raised capped.
            if (other > 0)
            {
                other--;
            }
            else
            {
                mine--;
            }
        }

        n0 = bit == 0 ? mine : other;
        n1 = bit == 0 ? other : mine;
        int lo = Math.Min(n0, n1);
        return (n0, n1, lo is 1 or 2 ? bit : 0);
    }

    private static bool Allowed(int a, int b)
    {
        int lo = Math.Min(a, b);
        int hi = Math.Max(a, b);
        return lo < Bound.Length && hi <= Bound[lo];
    }
}
