using System.Buffers;

namespace Z4Ai.Entropy;

/// <summary>
/// The encoder's plan for a static rANS stream: which table codes each context, the 12-bit frequencies of every
/// table and the exact table section. Order 0 is the special case of a single shared table.
/// </summary>
/// <remarks>
/// Order-1 selection: a context (previous symbol) gets its own table only when the bits it saves against the shared
/// table pay for the table itself; all other contexts share one table built from their pooled counts. Two passes:
/// the first judges against the order-0 table, the second against the shared table of what was left. All costs are
/// integer Q16 bits, so the choice (and the bytes) never depend on the machine.
/// </remarks>
internal sealed class RansModel
{
    private RansModel(int alphabetBits, int tableCount, uint[] freqs, byte[] contextTable, byte[] tableSection, long codeCostQ16)
    {
        AlphabetBits = alphabetBits;
        TableCount = tableCount;
        Freqs = freqs;
        ContextTable = contextTable;
        TableSection = tableSection;
        CodeCostQ16 = codeCostQ16;
    }

    public int AlphabetBits { get; }

    public int AlphabetSize => 1 << AlphabetBits;

    /// <summary>The number of frequency tables.</summary>
    public int TableCount { get; }

    /// <summary>12-bit frequencies, <see cref="AlphabetSize"/> per table.</summary>
    public uint[] Freqs { get; }

    /// <summary>Context (previous symbol) to table index.</summary>
    public byte[] ContextTable { get; }

    /// <summary>The serialised table section, byte-aligned.</summary>
    public byte[] TableSection { get; }

    /// <summary>The ideal code length of the symbols under these tables, in Q16 bits (excluding tables).</summary>
    public long CodeCostQ16 { get; }

    /// <summary>Estimated encoded bytes: tables, final states and the code (rANS loses well under 0.1%).</summary>
    public long EstimatedBytes => TableSection.Length + (RansCodec.Lanes * 4) + ((CodeCostQ16 >> 16) + 15) / 16 * 2;

    /// <summary>Builds the order-0 plan from symbol counts.</summary>
    public static RansModel BuildOrder0(ReadOnlySpan<uint> counts, int alphabetBits)
    {
        int size = 1 << alphabetBits;
        uint[] freqs = new uint[size];
        FrequencyTable.Build(counts, alphabetBits, freqs, out int precision);
        var writer = new BitWriter();
        FrequencyTable.Write(writer, freqs, precision, alphabetBits, FrequencyTable.ProbBits - precision);
        return new RansModel(alphabetBits, 1, freqs, new byte[size], writer.Finish().ToArray(), FrequencyTable.CodeCostQ16(counts, freqs));
    }

    /// <summary>Builds the order-1 plan from pair counts (<c>pairs[context * size + symbol]</c>).</summary>
    public static RansModel BuildOrder1(ReadOnlySpan<uint> pairs, int alphabetBits)
    {
        int size = 1 << alphabetBits;
        uint[] pooled = ArrayPool<uint>.Shared.Rent(size);
        uint[] sharedFreqs = ArrayPool<uint>.Shared.Rent(size);
        uint[] ownFreqs = new uint[size * size];
        long[] ownCost = new long[size];
        int[] ownPrecision = new int[size];
        bool[] own = new bool[size];
        bool[] seen = new bool[size];
        try
        {
            Span<uint> pool = pooled.AsSpan(0, size);
            Span<uint> shared = sharedFreqs.AsSpan(0, size);

            // Pass 0: every context's own table and its cost; the order-0 table as the first shared candidate.
            pool.Clear();
            for (int c = 0; c < size; c++)
            {
                ReadOnlySpan<uint> row = pairs.Slice(c * size, size);
                long total = 0;
                for (int s = 0; s < size; s++)
                {
                    total += row[s];
                    pool[s] += row[s];
                }

                seen[c] = total != 0;
                if (seen[c])
                {
                    ownCost[c] = FrequencyTable.Build(row, alphabetBits, ownFreqs.AsSpan(c * size, size), out ownPrecision[c]);
                }
            }

            FrequencyTable.Build(pool, alphabetBits, shared, out _);
            for (int pass = 0; pass < 2; pass++)
            {
                for (int c = 0; c < size; c++)
                {
                    if (seen[c])
                    {
                        own[c] = ownCost[c] < SharedCost(pairs.Slice(c * size, size), shared);
                    }
                }

                PoolShared(pairs, seen, own, pool);
                if (pool.IndexOfAnyExcept(0u) < 0)
                {
                    break;
                }

                FrequencyTable.Build(pool, alphabetBits, shared, out _);
            }

            return Assemble(pairs, alphabetBits, seen, own, ownFreqs, ownPrecision, pool);
        }
        finally
        {
            ArrayPool<uint>.Shared.Return(pooled);
            ArrayPool<uint>.Shared.Return(sharedFreqs);
        }
    }

    private static long SharedCost(ReadOnlySpan<uint> row, ReadOnlySpan<uint> shared)
    {
        long cost = 0;
        for (int s = 0; s < row.Length; s++)
        {
            if (row[s] != 0)
            {
                if (shared[s] == 0)
                {
                    return long.MaxValue;
                }

                cost += row[s] * (long)FrequencyTable.SymbolCostQ16(shared[s]);
            }
        }

        return cost;
    }

    private static void PoolShared(ReadOnlySpan<uint> pairs, bool[] seen, bool[] own, Span<uint> pool)
    {
        int size = pool.Length;
        pool.Clear();
        for (int c = 0; c < size; c++)
        {
            if (seen[c] && !own[c])
            {
                ReadOnlySpan<uint> row = pairs.Slice(c * size, size);
                for (int s = 0; s < size; s++)
                {
                    pool[s] += row[s];
                }
            }
        }
    }

    // Table section (order 1): 1 bit "some context has its own table"; if set, lo and span of the own contexts
    // (alphabetBits each) and a bitmap of span + 1 bits; 1 bit "a shared table follows"; then the own tables in
    // context order and the shared table last. Contexts without a table of their own use the shared table (table 0
    // when there is none: the encoder never needs them, a hostile stream merely decodes garbage).
    private static RansModel Assemble(ReadOnlySpan<uint> pairs, int alphabetBits, bool[] seen, bool[] own, uint[] ownFreqs, int[] ownPrecision, ReadOnlySpan<uint> pool)
    {
        int size = 1 << alphabetBits;
        int lo = Array.IndexOf(own, true);
        int hi = Array.LastIndexOf(own, true);
        bool hasShared = pool.IndexOfAnyExcept(0u) >= 0;
        int ownCount = 0;
        foreach (bool o in own)
        {
            ownCount += o ? 1 : 0;
        }

        int tableCount = ownCount + (hasShared ? 1 : 0);
        uint[] freqs = new uint[tableCount * size];
        byte[] contextTable = new byte[size];
        var writer = new BitWriter();
        writer.Write(lo >= 0 ? 1u : 0u, 1);
        if (lo >= 0)
        {
            writer.Write((uint)lo, alphabetBits);
            writer.Write((uint)(hi - lo), alphabetBits);
            for (int c = lo; c <= hi; c++)
            {
                writer.Write(own[c] ? 1u : 0u, 1);
            }
        }

        writer.Write(hasShared ? 1u : 0u, 1);
        int sharedIndex = hasShared ? ownCount : 0;
        int t = 0;
        long codeCost = 0;
        for (int c = 0; c < size; c++)
        {
            if (own[c])
            {
                ReadOnlySpan<uint> table = ownFreqs.AsSpan(c * size, size);
                table.CopyTo(freqs.AsSpan(t * size, size));
                FrequencyTable.Write(writer, table, ownPrecision[c], alphabetBits, FrequencyTable.ProbBits - ownPrecision[c]);
                codeCost += FrequencyTable.CodeCostQ16(pairs.Slice(c * size, size), table);
                contextTable[c] = (byte)t++;
            }
            else
            {
                contextTable[c] = (byte)sharedIndex;
            }
        }

        if (hasShared)
        {
            Span<uint> table = freqs.AsSpan(sharedIndex * size, size);
            FrequencyTable.Build(pool, alphabetBits, table, out int precision);
            FrequencyTable.Write(writer, table, precision, alphabetBits, FrequencyTable.ProbBits - precision);
            for (int c = 0; c < size; c++)
            {
                if (seen[c] && !own[c])
                {
                    codeCost += FrequencyTable.CodeCostQ16(pairs.Slice(c * size, size), table);
                }
            }
        }

        return new RansModel(alphabetBits, tableCount, freqs, contextTable, writer.Finish().ToArray(), codeCost);
    }
}
