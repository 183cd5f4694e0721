using System.Numerics;
using Z4Ai.Internal;

namespace Z4Ai.Entropy;

/// <summary>
/// Static frequency tables for rANS: deterministic integer normalisation of counts, the compact serialised form,
/// and exact cost estimates (code bits plus table bits) in Q16 fixed point.
/// </summary>
/// <remarks>
/// Every table is applied at <see cref="ProbBits"/> = 12 bits, but is stored at a precision p ≤ 12 (frequencies sum
/// to 2^p and are scaled up by 2^(12−p) when read), so a table for a context seen a few dozen times costs a few
/// dozen bits instead of a dozen 12-bit numbers. Serialised layout (bit fields, least-significant bit first):
/// <c>p</c> (4 bits), <c>lo</c> (alphabetBits), <c>hi − lo</c> (alphabetBits), then for each symbol in [lo, hi) its
/// frequency as an Exp-Golomb code whose order follows the previous frequency; the frequency of <c>hi</c> is the
/// remainder and must be at least 1.
/// </remarks>
internal static class FrequencyTable
{
    /// <summary>The precision every table is applied at.</summary>
    public const int ProbBits = 12;

    /// <summary>2^<see cref="ProbBits"/>.</summary>
    public const int ProbScale = 1 << ProbBits;

    // log2(f) in Q16 for f in [0, 4096]; built with integer code so it is identical everywhere.
    private static readonly int[] s_log2Table = BuildLog2Table();

    /// <summary>The cost, in Q16 bits, of coding one symbol whose 12-bit frequency is <paramref name="freq"/>.</summary>
    public static int SymbolCostQ16(uint freq) => (ProbBits << 16) - s_log2Table[freq];

    /// <summary>
    /// Scales <paramref name="counts"/> (total <paramref name="total"/> &gt; 0) to frequencies summing to exactly
    /// 2^<paramref name="precision"/>, every present symbol getting at least 1. Symbols too rare for a proportional
    /// share get 1; the rest share what remains by the largest-remainder rule, ties going to the smaller symbol.
    /// </summary>
    public static void Normalize(ReadOnlySpan<uint> counts, long total, int precision, Span<uint> freqs)
    {
        int alphabet = counts.Length;
        long scale = 1L << precision;
        Span<bool> pinned = stackalloc bool[alphabet];
        pinned.Clear();
        long budget = scale;
        long rest = total;

        // Pin the symbols whose proportional share rounds to zero; pinning lowers the share of the others, so repeat
        // until nothing changes (at most once per symbol). The largest symbol is never pinned while 2^p ≥ present.
        bool changed = true;
        while (changed)
        {
            changed = false;
            for (int s = 0; s < alphabet; s++)
            {
                uint c = counts[s];
                if (c != 0 && !pinned[s] && c * budget / rest == 0)
                {
                    pinned[s] = true;
                    budget--;
                    rest -= c;
                    changed = true;
                }
            }
        }

        Span<long> order = stackalloc long[alphabet];
        int candidates = 0;
        long assigned = 0;
        for (int s = 0; s < alphabet; s++)
        {
            uint c = counts[s];
            if (c == 0)
            {
                freqs[s] = 0;
            }
            else if (pinned[s])
            {
                freqs[s] = 1;
            }
            else
            {
                long share = c * budget;
                long f = share / rest;
                freqs[s] = (uint)f;
                assigned += f;

                // Sort key: remainder descending, then symbol ascending (remainder < rest ≤ 2^31).
                order[candidates++] = ((share % rest) << 8) | (long)(255 - (s & 0xFF));
            }
        }

        long leftover = budget - assigned;
        if (leftover > 0)
        {
            Span<long> keys = order[..candidates];
            keys.Sort();
            for (int i = 0; i < leftover; i++)
            {
                long key = keys[candidates - 1 - i];
                freqs[255 - (int)(key & 0xFF)]++;
            }
        }
    }

    /// <summary>
    /// Picks the storage precision that minimises code plus table bits for <paramref name="counts"/>, writes the
    /// 12-bit frequencies to <paramref name="freqs12"/> and returns that total cost in Q16 bits.
    /// </summary>
    public static long Build(ReadOnlySpan<uint> counts, int alphabetBits, Span<uint> freqs12, out int precision)
    {
        long total = 0;
        int present = 0;
        foreach (uint c in counts)
        {
            total += c;
            present += c != 0 ? 1 : 0;
        }

        int minPrecision = present <= 1 ? 0 : 32 - BitOperations.LeadingZeroCount((uint)present - 1);

        // A precision above log2(4·total) cannot describe the counts any better; it only costs table bits.
        int maxPrecision = Math.Clamp(64 - BitOperations.LeadingZeroCount((ulong)total) + 2, minPrecision, ProbBits);
        Span<uint> trial = stackalloc uint[counts.Length];
        long best = long.MaxValue;
        precision = ProbBits;
        var counter = new BitWriter(countOnly: true);
        for (int p = minPrecision; p <= maxPrecision; p++)
        {
            Normalize(counts, total, p, trial);
            long cost = 0;
            for (int s = 0; s < counts.Length; s++)
            {
                if (counts[s] != 0)
                {
                    cost += counts[s] * (long)SymbolCostQ16(trial[s] << (ProbBits - p));
                }
            }

            long before = counter.BitCount;
            Write(counter, trial, p, alphabetBits);
            cost += (counter.BitCount - before) << 16;
            if (cost < best)
            {
                best = cost;
                precision = p;
                for (int s = 0; s < counts.Length; s++)
                {
                    freqs12[s] = trial[s] << (ProbBits - p);
                }
            }
        }

        return best;
    }

    /// <summary>The coding cost in Q16 bits of <paramref name="counts"/> under the 12-bit table <paramref name="freqs12"/>.</summary>
    public static long CodeCostQ16(ReadOnlySpan<uint> counts, ReadOnlySpan<uint> freqs12)
    {
        long cost = 0;
        for (int s = 0; s < counts.Length; s++)
        {
            if (counts[s] != 0)
            {
                cost += counts[s] * (long)SymbolCostQ16(freqs12[s]);
            }
        }

        return cost;
    }

    /// <summary>Serialises a table given at 12-bit scale that is exactly representable at <paramref name="precision"/>.</summary>
    public static void Write(BitWriter writer, ReadOnlySpan<uint> freqs12, int precision, int alphabetBits, int shift)
    {
        Span<uint> native = stackalloc uint[freqs12.Length];
        for (int s = 0; s < freqs12.Length; s++)
        {
            native[s] = freqs12[s] >> shift;
        }

        Write(writer, native, precision, alphabetBits);
    }

    /// <summary>Serialises a table whose frequencies sum to 2^<paramref name="precision"/>.</summary>
    public static void Write(BitWriter writer, ReadOnlySpan<uint> freqs, int precision, int alphabetBits)
    {
        int lo = 0;
        while (freqs[lo] == 0)
        {
            lo++;
        }

        int hi = freqs.Length - 1;
        while (freqs[hi] == 0)
        {
            hi--;
        }

        writer.Write((uint)precision, 4);
        writer.Write((uint)lo, alphabetBits);
        writer.Write((uint)(hi - lo), alphabetBits);
        int k = InitialOrder(precision, hi - lo + 1);
        for (int s = lo; s < hi; s++)
        {
            writer.WriteExpGolomb(freqs[s], k);
            k = NextOrder(freqs[s]);
        }
    }

    /// <summary>
    /// Reads a table into <paramref name="freqs12"/> (length 2^alphabetBits) at 12-bit scale, validating that the
    /// frequencies sum to 2^p with the last present symbol at least 1.
    /// </summary>
    public static void Read(ref BitReader reader, int alphabetBits, scoped Span<uint> freqs12)
    {
        freqs12.Clear();
        int precision = (int)reader.Read(4);
        if (precision > ProbBits)
        {
            ThrowHelper.CorruptFrame($"entropy table precision {precision} exceeds {ProbBits}");
        }

        int lo = (int)reader.Read(alphabetBits);
        int span = (int)reader.Read(alphabetBits);
        int hi = lo + span;
        if (hi >= freqs12.Length)
        {
            ThrowHelper.CorruptFrame($"entropy table symbol range [{lo}, {hi}] exceeds the alphabet");
        }

        uint scale = 1u << precision;
        uint sum = 0;
        int k = InitialOrder(precision, span + 1);
        for (int s = lo; s < hi; s++)
        {
            uint f = reader.ReadExpGolomb(k, precision + 1);
            sum += f;
            if (sum >= scale)
            {
                ThrowHelper.CorruptFrame("entropy table frequencies exceed their total");
            }

            freqs12[s] = f << (ProbBits - precision);
            k = NextOrder(f);
        }

        freqs12[hi] = (scale - sum) << (ProbBits - precision);
    }

    // Start near the size of an average frequency, then follow the previous one: neighbouring symbols of an
    // exponent stream have similar frequencies, so the next code is short.
    private static int InitialOrder(int precision, int symbols) =>
        Math.Max(0, precision - (32 - BitOperations.LeadingZeroCount((uint)symbols)));

    private static int NextOrder(uint previous) => Math.Max(0, 31 - BitOperations.LeadingZeroCount(previous | 1));

    private static int[] BuildLog2Table()
    {
        int[] table = new int[ProbScale + 1];
        for (int f = 1; f <= ProbScale; f++)
        {
            table[f] = FixedLog2.Log2Q16((ulong)f);
        }

        return table;
    }
}
