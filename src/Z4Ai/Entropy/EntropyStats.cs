namespace Z4Ai.Entropy;

/// <summary>Shannon bounds of a symbol stream, for reports and tests (not used to make format decisions).</summary>
internal static class EntropyStats
{
    /// <summary>Total bits of the order-0 bound: Σ −log2(count(s)/n) over the symbols.</summary>
    public static double Order0Bits(ReadOnlySpan<byte> symbols)
    {
        Span<long> counts = stackalloc long[256];
        counts.Clear();
        foreach (byte s in symbols)
        {
            counts[s]++;
        }

        double bits = 0;
        foreach (long c in counts)
        {
            if (c != 0)
            {
                bits -= c * Math.Log2((double)c / symbols.Length);
            }
        }

        return bits;
    }

    /// <summary>Total bits of the order-1 bound: Σ −log2(count(prev, s)/count(prev)), the first symbol after a virtual 0.</summary>
    public static double Order1Bits(ReadOnlySpan<byte> symbols)
    {
        long[] pairs = new long[256 * 256];
        Span<long> totals = stackalloc long[256];
        totals.Clear();
        int previous = 0;
        foreach (byte s in symbols)
        {
            pairs[(previous << 8) | s]++;
            totals[previous]++;
            previous = s;
        }

        double bits = 0;
        for (int i = 0; i < pairs.Length; i++)
        {
            long c = pairs[i];
            if (c != 0)
            {
                bits -= c * Math.Log2((double)c / totals[i >> 8]);
            }
        }

        return bits;
    }
}
