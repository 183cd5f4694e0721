using System.Buffers;
using System.Numerics;
using Z4Ai.Internal;

namespace Z4Ai.Entropy;

/// <summary>
/// The encoder's plan for a row-class rANS stream (<see cref="EntropyMethod.RansRowClasses"/>): the symbols are cut
/// into rows of a fixed length, every row is assigned one of K classes, and each class has its own static order-0
/// table. Also the serialised prefix of the payload (K, the class ids and the tables).
/// </summary>
/// <remarks>
/// <para>Why: one table for a whole tensor pays, on every row, the divergence between that row's distribution and
/// the tensor's. Quantised weights with a scale per row (or per tensor) spread their codes differently from row to
/// row (the ratio of a row's spread to its maximum varies), and the rows fall on a one-parameter family that a
/// handful of tables covers.</para>
/// <para>Fitting is Lloyd's algorithm on the exact cost: rows start in K quantiles of their cost under the
/// stream-wide table (which orders them by spread), then each round builds every class's table from its rows'
/// pooled counts and moves each row to the table that codes it cheapest (a row stays on ties), until nothing moves
/// or <see cref="MaxIterations"/> rounds. Several K are tried (<see cref="ClassCounts"/>, stopping at the first that
/// does not improve) and the smallest plan kept. Everything is integer arithmetic on counts and Q16 costs, so the
/// plan and the bytes never depend on the machine.</para>
/// </remarks>
internal sealed class RowClassModel
{
    /// <summary>The most classes a stream may declare (a format limit: the decoder keeps one 16 KiB slot table per class).</summary>
    public const int MaxClasses = 16;

    /// <summary>The fewest classes a stream may declare (one class is order 0).</summary>
    public const int MinClasses = 2;

    /// <summary>Class-id section: ids packed at <c>bitlen(K − 1)</c> bits each.</summary>
    public const byte IdsPacked = 0;

    /// <summary>Class-id section: a varint length, then an order-0 rANS payload of the ids.</summary>
    public const byte IdsRans = 1;

    private const int MaxIterations = 12;

    // Doubling: the cost falls smoothly with K on a one-parameter family of rows, so the steps in between gain a few
    // bytes per stream and cost as much fitting again (most on 8-bit alphabets).
    private static readonly int[] ClassCounts = [2, 4, 8, 16];

    private RowClassModel(int alphabetBits, int rowLength, int classCount, byte[] classes, uint[] freqs, byte[] prefix, long codeCostQ16)
    {
        AlphabetBits = alphabetBits;
        RowLength = rowLength;
        ClassCount = classCount;
        Classes = classes;
        Freqs = freqs;
        Prefix = prefix;
        CodeCostQ16 = codeCostQ16;
    }

    public int AlphabetBits { get; }

    /// <summary>Symbols per row (the last row may be shorter).</summary>
    public int RowLength { get; }

    /// <summary>K, the number of classes (tables).</summary>
    public int ClassCount { get; }

    /// <summary>The class of each row.</summary>
    public byte[] Classes { get; }

    /// <summary>12-bit frequencies, 2^<see cref="AlphabetBits"/> per class.</summary>
    public uint[] Freqs { get; }

    /// <summary>The payload up to the rANS states: K, the id coding, the class ids and the table section.</summary>
    public byte[] Prefix { get; }

    /// <summary>The ideal code length of the symbols under their rows' tables, in Q16 bits.</summary>
    public long CodeCostQ16 { get; }

    /// <summary>Estimated payload bytes: the prefix, the final states and the code (rANS loses well under 0.1%).</summary>
    public long EstimatedBytes => Prefix.Length + (RansCodec.Lanes * 4) + ((((CodeCostQ16 >> 16) + 15) / 16) * 2);

    /// <summary>The number of rows <paramref name="symbolCount"/> symbols make at <paramref name="rowLength"/> per row.</summary>
    public static int RowCount(int symbolCount, int rowLength) => (int)(((long)symbolCount + rowLength - 1) / rowLength);

    /// <summary>
    /// Fits the smallest plan for <paramref name="symbols"/> (each below 2^<paramref name="alphabetBits"/>) in rows
    /// of <paramref name="rowLength"/>, or null when the stream has fewer than two rows or the row histograms would
    /// take more memory than a few times the stream. At most <paramref name="maxClasses"/> classes are tried.
    /// </summary>
    public static RowClassModel? Build(ReadOnlySpan<byte> symbols, int alphabetBits, int rowLength, int maxClasses = MaxClasses)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(alphabetBits, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(alphabetBits, 8);
        ArgumentOutOfRangeException.ThrowIfLessThan(rowLength, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxClasses, MinClasses);
        int n = symbols.Length;
        int size = 1 << alphabetBits;
        int rows = RowCount(n, rowLength);
        if (rows < MinClasses || (long)rows * size > (2L * n) + (1 << 16))
        {
            return null;
        }

        var histograms = RowHistograms.Count(symbols, alphabetBits, rowLength, rows);
        RowClassModel? best = null;
        foreach (int k in ClassCounts)
        {
            if (k > rows || k > maxClasses)
            {
                break;
            }

            RowClassModel candidate = Fit(histograms, alphabetBits, rowLength, k);
            if (best is not null && candidate.EstimatedBytes >= best.EstimatedBytes)
            {
                break;
            }

            best = candidate;
        }

        return best;
    }

    /// <summary>Fits a plan with at most <paramref name="classes"/> classes (empty classes are dropped).</summary>
    internal static RowClassModel Fit(ReadOnlySpan<byte> symbols, int alphabetBits, int rowLength, int classes)
    {
        int rows = RowCount(symbols.Length, rowLength);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, MinClasses);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(classes, Math.Min(MaxClasses, rows));
        return Fit(RowHistograms.Count(symbols, alphabetBits, rowLength, rows), alphabetBits, rowLength, classes);
    }

    private static RowClassModel Fit(RowHistograms h, int alphabetBits, int rowLength, int k)
    {
        int size = 1 << alphabetBits;
        int rows = h.Rows;
        int[] assign = new int[rows];
        InitialQuantiles(h, alphabetBits, k, assign);
        uint[] freqs = new uint[k * size];
        int[] costs = new int[k * size];
        int classCount = Refit(h, alphabetBits, k, assign, freqs, costs);
        for (int iteration = 0; iteration < MaxIterations; iteration++)
        {
            if (!Reassign(h, size, classCount, costs, assign))
            {
                break;
            }

            classCount = Refit(h, alphabetBits, classCount, assign, freqs, costs);
        }

        // One class left (all rows alike) is still written with the minimum of two: the second gets one row.
        if (classCount < MinClasses)
        {
            assign[rows - 1] = 1;
            classCount = Refit(h, alphabetBits, MinClasses, assign, freqs, costs);
        }

        return Assemble(h, alphabetBits, rowLength, classCount, assign, freqs);
    }

    // Rows sorted by their per-symbol cost under the stream-wide table (ties by row), cut into k equal parts.
    private static void InitialQuantiles(RowHistograms h, int alphabetBits, int k, int[] assign)
    {
        int size = 1 << alphabetBits;
        int rows = h.Rows;
        Span<uint> global = stackalloc uint[size];
        global.Clear();
        for (int e = 0; e < h.Symbols.Length; e++)
        {
            global[h.Symbols[e]] += h.Counts[e];
        }

        Span<uint> table = stackalloc uint[size];
        FrequencyTable.Build(global, alphabetBits, table, out _);
        long[] keys = new long[rows];
        for (int r = 0; r < rows; r++)
        {
            long cost = 0;
            long total = 0;
            for (int e = h.Start[r]; e < h.Start[r + 1]; e++)
            {
                cost += h.Counts[e] * (long)FrequencyTable.SymbolCostQ16(table[h.Symbols[e]]);
                total += h.Counts[e];
            }

            // Per-symbol cost is below 2^20 (at most 12 bits in Q16) and rows below 2^31: the key fits 51 bits.
            keys[r] = ((cost / total) * rows) + r;
        }

        Array.Sort(keys);
        for (int i = 0; i < rows; i++)
        {
            assign[(int)(keys[i] % rows)] = (int)((long)i * k / rows);
        }
    }

    // Builds each class's table from its rows' pooled counts, renumbering classes so that empty ones disappear
    // (order kept). Returns the number of classes left; costs[t·size + s] is the Q16 cost of s, or -1 when absent.
    private static int Refit(RowHistograms h, int alphabetBits, int k, int[] assign, uint[] freqs, int[] costs)
    {
        int size = 1 << alphabetBits;
        uint[] pooled = new uint[k * size];
        Span<int> remap = stackalloc int[k];
        remap.Clear();
        for (int r = 0; r < h.Rows; r++)
        {
            int t = assign[r];
            remap[t] = 1;
            for (int e = h.Start[r]; e < h.Start[r + 1]; e++)
            {
                pooled[(t * size) + h.Symbols[e]] += h.Counts[e];
            }
        }

        int used = 0;
        for (int t = 0; t < k; t++)
        {
            if (remap[t] != 0)
            {
                if (used != t)
                {
                    pooled.AsSpan(t * size, size).CopyTo(pooled.AsSpan(used * size, size));
                }

                remap[t] = used++;
            }
        }

        for (int r = 0; r < h.Rows; r++)
        {
            assign[r] = remap[assign[r]];
        }

        for (int t = 0; t < used; t++)
        {
            Span<uint> table = freqs.AsSpan(t * size, size);
            FrequencyTable.Build(pooled.AsSpan(t * size, size), alphabetBits, table, out _);
            for (int s = 0; s < size; s++)
            {
                costs[(t * size) + s] = table[s] == 0 ? -1 : FrequencyTable.SymbolCostQ16(table[s]);
            }
        }

        return used;
    }

    // Moves every row to the class that codes it cheapest (a table must hold every symbol of the row; a row keeps
    // its class on ties). Returns whether any row moved.
    private static bool Reassign(RowHistograms h, int size, int k, int[] costs, int[] assign)
    {
        bool changed = false;
        for (int r = 0; r < h.Rows; r++)
        {
            int current = assign[r];
            long best = RowCost(h, r, costs.AsSpan(current * size, size));
            int choice = current;
            for (int t = 0; t < k; t++)
            {
                if (t == current)
                {
                    continue;
                }

                long cost = RowCost(h, r, costs.AsSpan(t * size, size));
                if (cost < best)
                {
                    best = cost;
                    choice = t;
                }
            }

            if (choice != current)
            {
                assign[r] = choice;
                changed = true;
            }
        }

        return changed;
    }

    private static long RowCost(RowHistograms h, int row, ReadOnlySpan<int> costs)
    {
        long cost = 0;
        for (int e = h.Start[row]; e < h.Start[row + 1]; e++)
        {
            int c = costs[h.Symbols[e]];
            if (c < 0)
            {
                return long.MaxValue;
            }

            cost += h.Counts[e] * (long)c;
        }

        return cost;
    }

    // The final plan: tables for the assignment (already built by the last Refit), their section, the class ids in
    // whichever coding is shorter, and the code cost.
    private static RowClassModel Assemble(RowHistograms h, int alphabetBits, int rowLength, int k, int[] assign, uint[] allFreqs)
    {
        int size = 1 << alphabetBits;
        int rows = h.Rows;
        uint[] freqs = allFreqs.AsSpan(0, k * size).ToArray();
        byte[] classes = new byte[rows];
        long codeCost = 0;
        for (int r = 0; r < rows; r++)
        {
            classes[r] = (byte)assign[r];
            ReadOnlySpan<uint> table = freqs.AsSpan(assign[r] * size, size);
            for (int e = h.Start[r]; e < h.Start[r + 1]; e++)
            {
                codeCost += h.Counts[e] * (long)FrequencyTable.SymbolCostQ16(table[h.Symbols[e]]);
            }
        }

        var prefix = new ArrayBufferWriter<byte>();
        prefix.Write([(byte)k]);
        WriteClassIds(classes, k, prefix);
        var tables = new BitWriter();
        for (int t = 0; t < k; t++)
        {
            // The table was built at the precision that minimised its cost; recover it from the frequencies.
            ReadOnlySpan<uint> table = freqs.AsSpan(t * size, size);
            int precision = StoredPrecision(table);
            FrequencyTable.Write(tables, table, precision, alphabetBits, FrequencyTable.ProbBits - precision);
        }

        prefix.Write(tables.Finish());
        return new RowClassModel(alphabetBits, rowLength, k, classes, freqs, prefix.WrittenSpan.ToArray(), codeCost);
    }

    // The smallest precision p at which every frequency is a multiple of 2^(12 − p) (a table built at p is written
    // at p; writing a coarser table at a finer precision would only cost bits).
    private static int StoredPrecision(ReadOnlySpan<uint> freqs12)
    {
        uint all = 0;
        foreach (uint f in freqs12)
        {
            all |= f;
        }

        int zeros = Math.Min(FrequencyTable.ProbBits, BitOperations.TrailingZeroCount(all));
        return FrequencyTable.ProbBits - zeros;
    }

    // Packed at bitlen(K − 1) bits, or as an order-0 rANS payload when that is shorter (ties: packed).
    private static void WriteClassIds(byte[] classes, int k, ArrayBufferWriter<byte> output)
    {
        int bits = BitOperations.Log2((uint)(k - 1)) + 1;
        var packed = new BitWriter();
        foreach (byte c in classes)
        {
            packed.Write(c, bits);
        }

        ReadOnlySpan<byte> packedBytes = packed.Finish();
        var coded = new ArrayBufferWriter<byte>();
        RansCodec.Encode(classes, RansCodec.BuildModel(classes, order1: false, bits), coded);
        int codedTotal = VarInt.GetLength((ulong)coded.WrittenCount) + coded.WrittenCount;
        if (codedTotal < packedBytes.Length)
        {
            output.Write([IdsRans]);
            VarInt.Write(output, (ulong)coded.WrittenCount);
            output.Write(coded.WrittenSpan);
        }
        else
        {
            output.Write([IdsPacked]);
            output.Write(packedBytes);
        }
    }

    /// <summary>Per-row histograms in sparse form: for row r, entries Start[r] .. Start[r + 1] − 1 of (symbol, count).</summary>
    private sealed class RowHistograms
    {
        private RowHistograms(int rows, int[] start, byte[] symbols, uint[] counts)
        {
            Rows = rows;
            Start = start;
            Symbols = symbols;
            Counts = counts;
        }

        public int Rows { get; }

        public int[] Start { get; }

        public byte[] Symbols { get; }

        public uint[] Counts { get; }

        public static RowHistograms Count(ReadOnlySpan<byte> symbols, int alphabetBits, int rowLength, int rows)
        {
            int size = 1 << alphabetBits;
            uint[] dense = ArrayPool<uint>.Shared.Rent(rows * size);
            try
            {
                Span<uint> all = dense.AsSpan(0, rows * size);
                all.Clear();
                for (int r = 0; r < rows; r++)
                {
                    int from = r * rowLength;
                    ReadOnlySpan<byte> row = symbols.Slice(from, Math.Min(rowLength, symbols.Length - from));
                    Span<uint> counts = all.Slice(r * size, size);
                    foreach (byte s in row)
                    {
                        if (s >= size)
                        {
                            throw new ArgumentException($"symbol {s} does not fit {alphabetBits} bits", nameof(symbols));
                        }

                        counts[s]++;
                    }
                }

                int present = all.Length - all.Count(0u);
                int[] start = new int[rows + 1];
                byte[] ids = new byte[present];
                uint[] values = new uint[present];
                int e = 0;
                for (int r = 0; r < rows; r++)
                {
                    start[r] = e;
                    ReadOnlySpan<uint> counts = all.Slice(r * size, size);
                    for (int s = 0; s < size; s++)
                    {
                        if (counts[s] != 0)
                        {
                            ids[e] = (byte)s;
                            values[e++] = counts[s];
                        }
                    }
                }

                start[rows] = e;
                return new RowHistograms(rows, start, ids, values);
            }
            finally
            {
                ArrayPool<uint>.Shared.Return(dense);
            }
        }
    }
}
