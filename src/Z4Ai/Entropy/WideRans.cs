using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Z4Ai.Internal;

namespace Z4Ai.Entropy;

/// <summary>
/// The 64-state body of <see cref="EntropyMethod.RansOrder0Wide"/> and <see cref="EntropyMethod.RansRowClassesWide"/>:
/// the steps, state rules and 16-bit words of <see cref="RansCodec"/>, with symbol <c>i</c> coded by state
/// <c>i mod 64</c> and the table of its row's class (one class covering every row for order 0).
/// </summary>
/// <remarks>
/// <para>Body: the 64 final encoder states as u32 little-endian (state 0 first), then the words in the order the
/// decoder reads them: symbols in their own order, each state taking a word right after its step when it has fallen
/// below 2^16. Decoding must end with every state back at 2^16 and every word consumed.</para>
/// <para>Why 64 states: a scalar decoder spends a table lookup, a multiply and a branch-free refill on every symbol
/// (row-class-probe: 0.71-0.75 G symbols/s for order 0 on the development machine). Sixty-four states decode as four
/// 16-lane vectors, a round of 64 symbols costing a few gathers, multiplies and one masked expand of the next words per
/// vector, with the four vectors independent so their gather latencies overlap (2.06 G symbols/s on the same probe).
/// The cost is 240 bytes more of states per stream, so encoders use it only on long streams. With AVX2 alone eight
/// 8-lane vectors do the same, a permutation per refill mask standing in for the expand (1.62 G symbols/s on the
/// same probe); without vectors, groups of four states decode at about 0.8 of the four-state speed.</para>
/// </remarks>
internal static unsafe class WideRans
{
    /// <summary>The number of interleaved states (a format constant).</summary>
    public const int Lanes = 64;

    /// <summary>The bytes of the 64 states at the start of a body.</summary>
    public const int StateBytes = Lanes * 4;

    private const int VectorLanes = 16;

    /// <summary>The decoders, so tests can pin each against the scalar oracle.</summary>
    internal enum Path
    {
        /// <summary>One symbol at a time with every check: the oracle.</summary>
        Oracle,

        /// <summary>Groups of four states, branch-free, as the four-state decoders: machines without AVX-512.</summary>
        Scalar,

        /// <summary>Eight 8-lane vectors per round, the expand done with a permutation per refill mask.</summary>
        Avx2,

        /// <summary>Four 16-lane vectors per round.</summary>
        Avx512,
    }

    /// <summary>The fastest decoder this machine runs.</summary>
    internal static Path Best =>
        !BitConverter.IsLittleEndian ? Path.Scalar
        : Avx512F.IsSupported && Avx2.IsSupported ? Path.Avx512
        : Avx2.IsSupported ? Path.Avx2
        : Path.Scalar;

    /// <summary>Per 8-bit refill mask, the word each lane takes: lane l with its bit set takes the word at its rank
    /// among the set bits (a software expand for AVX2).</summary>
    private static readonly int[] s_expand = BuildExpand();

    /// <summary>Every decoder this machine runs, the oracle first (for tests and benchmarks).</summary>
    internal static IEnumerable<Path> Available()
    {
        yield return Path.Oracle;
        yield return Path.Scalar;
        if (Avx2.IsSupported && BitConverter.IsLittleEndian)
        {
            yield return Path.Avx2;
        }

        if (Best == Path.Avx512)
        {
            yield return Path.Avx512;
        }
    }

    /// <summary>
    /// Appends <paramref name="prefix"/> (the method's table section) and the body coding <paramref name="symbols"/>
    /// in rows of <paramref name="rowLength"/>, each with the table of its class; returns the bytes written.
    /// </summary>
    /// <param name="symbols">The symbols, each with a non-zero frequency in its row's table.</param>
    /// <param name="prefix">The table section, written first.</param>
    /// <param name="entries">Encoder constants per (table, symbol): table <c>t</c> at <c>t &lt;&lt; bits</c>.</param>
    /// <param name="bits">The alphabet bits.</param>
    /// <param name="classes">The table of each row (a single 0 for order 0).</param>
    /// <param name="rowLength">Symbols per row (at least the symbol count for order 0).</param>
    /// <param name="output">Receives the payload.</param>
    public static int Encode(
        ReadOnlySpan<byte> symbols, ReadOnlySpan<byte> prefix, RansCodec.EncodeEntry[] entries, int bits, ReadOnlySpan<byte> classes, int rowLength, IBufferWriter<byte> output)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rowLength, 1);
        if ((long)classes.Length * rowLength < symbols.Length)
        {
            throw new ArgumentException("the rows do not cover the symbols", nameof(classes));
        }

        fixed (byte* cls = classes)
        {
            return Encode(symbols, prefix, entries, bits, new Layout(cls, null, rowLength), output);
        }
    }

    /// <summary>
    /// As <see cref="Encode(ReadOnlySpan{byte}, ReadOnlySpan{byte}, RansCodec.EncodeEntry[], int, ReadOnlySpan{byte}, int, IBufferWriter{byte})"/>
    /// with segments of any length instead of rows: segment <c>t</c> ends before symbol <c>ends[t]</c> (ascending,
    /// the last one the symbol count) and is coded with table <c>t</c>.
    /// </summary>
    public static int EncodeSegments(
        ReadOnlySpan<byte> symbols, ReadOnlySpan<byte> prefix, RansCodec.EncodeEntry[] entries, int bits, ReadOnlySpan<int> ends, IBufferWriter<byte> output)
    {
        CheckSegments(ends, symbols.Length);
        fixed (int* segmentEnds = ends)
        {
            return Encode(symbols, prefix, entries, bits, new Layout(null, segmentEnds, 0), output);
        }
    }

    private static int Encode(ReadOnlySpan<byte> symbols, ReadOnlySpan<byte> prefix, RansCodec.EncodeEntry[] entries, int bits, Layout layout, IBufferWriter<byte> output)
    {
        int n = symbols.Length;
        if (n == 0)
        {
            throw new ArgumentException("an empty stream has no body", nameof(symbols));
        }

        ushort[] words = ArrayPool<ushort>.Shared.Rent(n + 1);
        try
        {
            Span<uint> states = stackalloc uint[Lanes];
            states.Fill(RansCodec.Lower);
            int wordCount;
            fixed (byte* src = symbols)
            fixed (RansCodec.EncodeEntry* table = entries)
            fixed (ushort* first = words)
            fixed (uint* x = states)
            {
                ushort* w = first + words.Length;

                // The exact reverse of the decoder's order: symbol n − 1 down to 0, rows walked downwards.
                int row = layout.RowOf(n - 1);
                long rowStart = layout.Start(row);
                RansCodec.EncodeEntry* rowTable = table + (layout.Table(row) << bits);
                for (int i = n - 1; i >= 0; i--)
                {
                    while (i < rowStart)
                    {
                        row--;
                        rowStart = layout.Start(row);
                        rowTable = table + (layout.Table(row) << bits);
                    }

                    int lane = i & (Lanes - 1);
                    x[lane] = RansCodec.Put(x[lane], rowTable + src[i], ref w);
                }

                wordCount = (int)(first + words.Length - w);
            }

            return RansCodec.WritePayload(prefix, states, words.AsSpan(words.Length - wordCount), output);
        }
        finally
        {
            ArrayPool<ushort>.Shared.Return(words);
        }
    }

    private static void CheckSegments(ReadOnlySpan<int> ends, int n)
    {
        if (ends.IsEmpty || ends[^1] != n)
        {
            throw new ArgumentException("the segments must end at the symbol count", nameof(ends));
        }

        for (int t = 0; t < ends.Length; t++)
        {
            if (ends[t] < (t == 0 ? 0 : ends[t - 1]))
            {
                throw new ArgumentException("segment ends must ascend", nameof(ends));
            }
        }
    }

    /// <summary>
    /// Decodes exactly <paramref name="symbols"/>.Length symbols from <paramref name="body"/> (states and words) in
    /// rows of <paramref name="rowLength"/>, each with the table of its class; bad input throws
    /// <see cref="Z4AiFormatException"/>.
    /// </summary>
    /// <param name="body">The 64 states and the words.</param>
    /// <param name="entries">Decode entries (<see cref="RansCodec.FillEntries"/>), 4096 per table.</param>
    /// <param name="classes">The table of each row (a single 0 for order 0), each below the number of tables.</param>
    /// <param name="rowLength">Symbols per row.</param>
    /// <param name="symbols">Receives the symbols.</param>
    /// <param name="path">The decoder; <see cref="Best"/> outside tests.</param>
    public static void Decode(ReadOnlySpan<byte> body, ReadOnlySpan<uint> entries, ReadOnlySpan<byte> classes, int rowLength, Span<byte> symbols, Path path)
    {
        if (rowLength < 1 || (long)classes.Length * rowLength < symbols.Length)
        {
            throw new ArgumentException("the rows do not cover the symbols", nameof(classes));
        }

        fixed (byte* cls = classes)
        {
            Decode(body, entries, new Layout(cls, null, rowLength), symbols, path);
        }
    }

    /// <summary>
    /// As <see cref="Decode(ReadOnlySpan{byte}, ReadOnlySpan{uint}, ReadOnlySpan{byte}, int, Span{byte}, Path)"/>
    /// with segments: segment <c>t</c> ends before symbol <c>ends[t]</c> and is decoded with table <c>t</c>.
    /// </summary>
    public static void DecodeSegments(ReadOnlySpan<byte> body, ReadOnlySpan<uint> entries, ReadOnlySpan<int> ends, Span<byte> symbols, Path path)
    {
        CheckSegments(ends, symbols.Length);
        if ((long)ends.Length * FrequencyTable.ProbScale > entries.Length)
        {
            throw new ArgumentException("every segment needs a table", nameof(entries));
        }

        fixed (int* segmentEnds = ends)
        {
            Decode(body, entries, new Layout(null, segmentEnds, 0), symbols, path);
        }
    }

    private static void Decode(ReadOnlySpan<byte> body, ReadOnlySpan<uint> entries, Layout layout, Span<byte> symbols, Path path)
    {
        int n = symbols.Length;
        if (n == 0)
        {
            throw new ArgumentException("an empty stream has no body", nameof(symbols));
        }

        if (body.Length < StateBytes)
        {
            ThrowHelper.CorruptFrame($"wide rANS stream has {body.Length} bytes after its tables, fewer than the {StateBytes} state bytes");
        }

        Span<uint> states = stackalloc uint[Lanes];
        fixed (byte* src = body)
        fixed (byte* dst = symbols)
        fixed (uint* table = entries)
        fixed (uint* x = states)
        {
            for (int k = 0; k < Lanes; k++)
            {
                x[k] = RansCodec.ReadState(src + (4 * k));
            }

            byte* p = src + StateBytes;
            byte* end = src + body.Length;
            int done = path switch
            {
                Path.Avx512 when Avx512F.IsSupported && Avx2.IsSupported && BitConverter.IsLittleEndian => DecodeAvx512(ref p, end, x, table, layout, dst, n),
                Path.Avx2 or Path.Avx512 when Avx2.IsSupported && BitConverter.IsLittleEndian => DecodeAvx2(ref p, end, x, table, layout, dst, n),
                Path.Scalar or Path.Avx2 or Path.Avx512 => DecodeGroups(ref p, end, x, table, layout, dst, n),
                _ => 0,
            };
            DecodeScalar(ref p, end, x, table, layout, dst, done, n);
            for (int k = 0; k < Lanes; k++)
            {
                if (x[k] != RansCodec.Lower)
                {
                    ThrowHelper.CorruptFrame($"wide rANS stream does not end cleanly (state {k} is {x[k]:X}, expected {RansCodec.Lower:X})");
                }
            }

            if (p != end)
            {
                ThrowHelper.CorruptFrame($"wide rANS stream does not end cleanly ({end - p} bytes left)");
            }
        }
    }

    /// <summary>The oracle and the tail: symbols <paramref name="from"/> to <paramref name="n"/>, one at a time, every read checked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DecodeScalar(ref byte* p, byte* end, uint* x, uint* table, Layout layout, byte* dst, int from, int n)
    {
        if (from >= n)
        {
            return;
        }

        int row = layout.RowOf(from);
        long rowEnd = layout.End(row);
        uint* rowTable = table + ((nint)layout.Table(row) << FrequencyTable.ProbBits);
        for (int i = from; i < n; i++)
        {
            while (i >= rowEnd)
            {
                row++;
                rowEnd = layout.End(row);
                rowTable = table + ((nint)layout.Table(row) << FrequencyTable.ProbBits);
            }

            dst[i] = RansCodec.StepChecked(rowTable, ref x[i & (Lanes - 1)], ref p, end);
        }
    }

    /// <summary>
    /// Whole rounds of 64 symbols as sixteen groups of four states with the branch-free refill of the four-state
    /// decoders (within a round the states take their words in order, so a group of four consecutive states reads as
    /// the four states of <see cref="RansCodec"/> do), while the words a round could read are in the body; a round
    /// across rows goes through the checked loop. Returns the symbols decoded.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int DecodeGroups(ref byte* p, byte* end, uint* x, uint* table, Layout layout, byte* dst, int n)
    {
        int rounds = n / Lanes;
        int row = layout.RowOf(0);
        long rowEnd = layout.End(row);
        uint* t = table + ((nint)layout.Table(row) << FrequencyTable.ProbBits);
        byte* at = p;
        int r = 0;

        // A round reads at most 64 words, each group's window 8 bytes from its start.
        for (; r < rounds && end - at >= (2 * Lanes) + 8; r++)
        {
            int i = r * Lanes;
            while (i >= rowEnd)
            {
                row++;
                rowEnd = layout.End(row);
                t = table + ((nint)layout.Table(row) << FrequencyTable.ProbBits);
            }

            if (i + Lanes > rowEnd)
            {
                DecodeScalar(ref at, end, x, table, layout, dst, i, i + Lanes);
                continue;
            }

            byte* o = dst + i;
            for (int g = 0; g < Lanes; g += 4)
            {
                uint x0 = x[g], x1 = x[g + 1], x2 = x[g + 2], x3 = x[g + 3];
                at += RansCodec.StepFour(t, ref x0, ref x1, ref x2, ref x3, RansCodec.ReadWindow(at), o + g, o + g + 1, o + g + 2, o + g + 3);
                x[g] = x0;
                x[g + 1] = x1;
                x[g + 2] = x2;
                x[g + 3] = x3;
            }
        }

        p = at;
        return r * Lanes;
    }

    /// <summary>
    /// Whole rounds of 64 symbols while the words they could read are in the body; returns the symbols decoded.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int DecodeAvx512(ref byte* p, byte* end, uint* x, uint* table, Layout layout, byte* dst, int n)
    {
        Vector512<uint> s0 = Vector512.Load(x);
        Vector512<uint> s1 = Vector512.Load(x + VectorLanes);
        Vector512<uint> s2 = Vector512.Load(x + (2 * VectorLanes));
        Vector512<uint> s3 = Vector512.Load(x + (3 * VectorLanes));
        byte* at = p;
        int rounds = n / Lanes;
        int r = 0;
        var rows = new RowBases(layout);

        // A round reads at most 16 words per vector, each read loading 32 bytes from its start.
        for (; r < rounds && end - at >= 4 * 32; r++)
        {
            int i = r * Lanes;
            byte* o = dst + i;
            s0 = Step(s0, rows.For(i), table, o);
            s1 = Step(s1, rows.For(i + VectorLanes), table, o + VectorLanes);
            s2 = Step(s2, rows.For(i + (2 * VectorLanes)), table, o + (2 * VectorLanes));
            s3 = Step(s3, rows.For(i + (3 * VectorLanes)), table, o + (3 * VectorLanes));
            s0 = Refill(s0, ref at);
            s1 = Refill(s1, ref at);
            s2 = Refill(s2, ref at);
            s3 = Refill(s3, ref at);
        }

        s0.Store(x);
        s1.Store(x + VectorLanes);
        s2.Store(x + (2 * VectorLanes));
        s3.Store(x + (3 * VectorLanes));
        p = at;
        return r * Lanes;
    }

    /// <summary>
    /// Whole rounds of 64 symbols as eight 8-lane AVX2 vectors while the words they could read are in the body;
    /// returns the symbols decoded.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int DecodeAvx2(ref byte* p, byte* end, uint* x, uint* table, Layout layout, byte* dst, int n)
    {
        const int Width = 8;
        Span<Vector256<uint>> s = stackalloc Vector256<uint>[Lanes / Width];
        for (int v = 0; v < s.Length; v++)
        {
            s[v] = Vector256.Load(x + (v * Width));
        }

        byte* at = p;
        int rounds = n / Lanes;
        int r = 0;
        var rows = new RowBases(layout);
        fixed (int* expand = s_expand)
        {
            // A round reads at most 8 words per vector, each read loading 16 bytes from its start.
            for (; r < rounds && end - at >= 8 * 16; r++)
            {
                int i = r * Lanes;
                for (int v = 0; v < s.Length; v++)
                {
                    s[v] = Step8(s[v], rows.For8(i + (v * Width)), table, dst + i + (v * Width));
                }

                for (int v = 0; v < s.Length; v++)
                {
                    s[v] = Refill8(s[v], expand, ref at);
                }
            }
        }

        for (int v = 0; v < s.Length; v++)
        {
            s[v].Store(x + (v * Width));
        }

        p = at;
        return r * Lanes;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Step8(Vector256<uint> state, Vector256<uint> tableBase, uint* table, byte* output)
    {
        Vector256<uint> slotMask = Vector256.Create((uint)RansCodec.SlotMask);
        Vector256<uint> entry = Avx2.GatherVector256(table, ((state & slotMask) + tableBase).AsInt32(), 4);

        // The low byte of each entry is its symbol: gather them to the first four bytes of each half, then join.
        Vector256<byte> low = Avx2.Shuffle(entry.AsByte(), Vector256.Create(0, 4, 8, 12, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 0, 4, 8, 12, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128).AsByte());
        Vector256<int> joined = Avx2.PermuteVar8x32(low.AsInt32(), Vector256.Create(0, 4, 0, 0, 0, 0, 0, 0));
        *(ulong*)output = joined.AsUInt64().ToScalar();
        Vector256<uint> frequency = (entry >> 20) + Vector256<uint>.One;
        return Avx2.MultiplyLow(frequency, state >> FrequencyTable.ProbBits) + ((entry >> 8) & slotMask);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Refill8(Vector256<uint> state, int* expand, ref byte* at)
    {
        // A state needs a word when it is below 2^16, i.e. when its high half is zero (AVX2 has no unsigned compare).
        Vector256<uint> needs = Vector256.Equals(state >> 16, Vector256<uint>.Zero);
        uint mask = needs.ExtractMostSignificantBits();
        Vector256<int> words = Avx2.ConvertToVector256Int32(Vector128.Load((ushort*)at));
        Vector256<uint> placed = Avx2.PermuteVar8x32(words, Vector256.Load(expand + (mask * 8))).AsUInt32();
        at += 2 * BitOperations.PopCount(mask);
        return Vector256.ConditionalSelect(needs, (state << 16) | placed, state);
    }

    private static int[] BuildExpand()
    {
        int[] table = new int[256 * 8];
        for (int mask = 0; mask < 256; mask++)
        {
            int rank = 0;
            for (int lane = 0; lane < 8; lane++)
            {
                if ((mask & (1 << lane)) != 0)
                {
                    table[(mask * 8) + lane] = rank++;
                }
            }
        }

        return table;
    }

    // One decode step of 16 states: look up each slot in its row's table, write the symbols, advance the states.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Step(Vector512<uint> state, Vector512<uint> tableBase, uint* table, byte* output)
    {
        Vector512<uint> slotMask = Vector512.Create((uint)RansCodec.SlotMask);
        Vector512<int> slot = ((state & slotMask) + tableBase).AsInt32();
        Vector512<uint> entry = Vector512.Create(
            Avx2.GatherVector256(table, slot.GetLower(), 4),
            Avx2.GatherVector256(table, slot.GetUpper(), 4));
        Avx512F.ConvertToVector128Byte(entry).Store(output);
        Vector512<uint> frequency = (entry >> 20) + Vector512<uint>.One;
        return Avx512F.MultiplyLow(frequency, state >> FrequencyTable.ProbBits) + ((entry >> 8) & slotMask);
    }

    // The states below 2^16 take the next words, in lane order: an expand places the k-th word in the k-th such lane.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Refill(Vector512<uint> state, ref byte* at)
    {
        Vector512<uint> needs = Vector512.LessThan(state, Vector512.Create(RansCodec.Lower));
        Vector512<uint> words = Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)at));
        at += 2 * BitOperations.PopCount((uint)needs.ExtractMostSignificantBits());
        return Vector512.ConditionalSelect(needs, (state << 16) | Avx512F.Expand(Vector512<uint>.Zero, needs, words), state);
    }

    /// <summary>
    /// Where rows end and which table each uses: fixed rows of <c>rowLength</c> with a class per row, or segments of
    /// any length (segment t ends before <c>ends[t]</c>) with table t each.
    /// </summary>
    private readonly struct Layout
    {
        private readonly byte* _classes;
        private readonly int* _ends;
        private readonly int _rowLength;

        public Layout(byte* classes, int* ends, int rowLength)
        {
            _classes = classes;
            _ends = ends;
            _rowLength = rowLength;
        }

        /// <summary>The symbol after the last of <paramref name="row"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public long End(int row) => _ends == null ? ((long)row + 1) * _rowLength : _ends[row];

        /// <summary>The first symbol of <paramref name="row"/>.</summary>
        public long Start(int row) => row == 0 ? 0 : End(row - 1);

        /// <summary>The table of <paramref name="row"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Table(int row) => _ends == null ? _classes[row] : row;

        /// <summary>The row holding symbol <paramref name="i"/> (a non-empty one for segments).</summary>
        public int RowOf(int i)
        {
            if (_ends == null)
            {
                return i / _rowLength;
            }

            int row = 0;
            while (_ends[row] <= i)
            {
                row++;
            }

            return row;
        }
    }

    /// <summary>The table offset of each lane of a 16-symbol vector, walking the rows forwards.</summary>
    private struct RowBases
    {
        private readonly Layout _layout;
        private int _row;
        private long _rowEnd;
        private Vector512<uint> _base;
        private uint _baseScalar;

        public RowBases(Layout layout)
        {
            _layout = layout;
            _row = layout.RowOf(0);
            _rowEnd = layout.End(_row);
            _baseScalar = (uint)layout.Table(_row) << FrequencyTable.ProbBits;
            _base = Vector512.Create(_baseScalar);
        }

        /// <summary>The offsets for symbols <paramref name="start"/> to start + 15 (start only increases).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<uint> For(int start)
        {
            // Almost always the whole vector lies in the current row.
            return start + VectorLanes <= _rowEnd ? _base : Cross(start);
        }

        /// <summary>The offsets for symbols <paramref name="start"/> to start + 7 (start only increases).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<uint> For8(int start)
        {
            return start + 8 <= _rowEnd ? Vector256.Create(_baseScalar) : Cross8(start);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private Vector256<uint> Cross8(int start)
        {
            Span<uint> lanes = stackalloc uint[8];
            FillLanes(start, lanes);
            return Vector256.Create<uint>(lanes);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private Vector512<uint> Cross(int start)
        {
            Span<uint> lanes = stackalloc uint[VectorLanes];
            FillLanes(start, lanes);
            return Vector512.Create<uint>(lanes);
        }

        // Each lane's table offset, walking the rows forwards; the last lane's row is the current one from here on.
        private void FillLanes(int start, Span<uint> lanes)
        {
            for (int l = 0; l < lanes.Length; l++)
            {
                while (start + l >= _rowEnd)
                {
                    _row++;
                    _rowEnd = _layout.End(_row);
                }

                lanes[l] = (uint)_layout.Table(_row) << FrequencyTable.ProbBits;
            }

            _baseScalar = (uint)_layout.Table(_row) << FrequencyTable.ProbBits;
            _base = Vector512.Create(_baseScalar);
        }
    }
}
