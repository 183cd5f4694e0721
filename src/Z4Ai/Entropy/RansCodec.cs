using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Z4Ai.Internal;

namespace Z4Ai.Entropy;

/// <summary>
/// Static-table interleaved rANS, order 0 and order 1 (context = previous symbol).
/// </summary>
/// <remarks>
/// <para>State: 32 bits, kept in [2^16, 2^32); renormalisation moves one 16-bit word at a time, and because every
/// frequency is at least 1 at 12-bit precision, a decode step needs at most one word. Four states run side by side,
/// each over its own contiguous quarter of the symbols (the last <c>n mod 4</c> symbols are a tail coded by state 0),
/// so the four dependency chains of order-1 decoding (symbol → next table) overlap instead of queueing.</para>
/// <para>Payload: the table section (see <see cref="RansModel"/> and <see cref="FrequencyTable"/>), byte-aligned;
/// the four final encoder states as u32 little-endian (state 0 first); then the 16-bit little-endian words in the
/// order the decoder reads them. A lane's first symbol has context 0; the tail continues from the symbol before it.
/// Decoding must end with every state back at 2^16 and every word consumed, which catches most corruption early.</para>
/// </remarks>
internal static unsafe class RansCodec
{
    /// <summary>The number of interleaved states (a format constant).</summary>
    public const int Lanes = 4;

    internal const uint Lower = 1u << 16;
    internal const int SlotMask = FrequencyTable.ProbScale - 1;

    /// <summary>Counts the symbols and builds the plan; symbols outside the alphabet throw <see cref="ArgumentException"/>.</summary>
    public static RansModel BuildModel(ReadOnlySpan<byte> symbols, bool order1, int alphabetBits)
    {
        int size = 1 << alphabetBits;
        if (!order1)
        {
            Span<uint> counts = stackalloc uint[size];
            CountOrder0(symbols, counts);
            return RansModel.BuildOrder0(counts, alphabetBits);
        }

        uint[] pairs = ArrayPool<uint>.Shared.Rent(size * size);
        try
        {
            Span<uint> pairSpan = pairs.AsSpan(0, size * size);
            CountOrder1(symbols, alphabetBits, pairSpan);
            return RansModel.BuildOrder1(pairSpan, alphabetBits);
        }
        finally
        {
            ArrayPool<uint>.Shared.Return(pairs);
        }
    }

    /// <summary>Counts symbols (order 0).</summary>
    public static void CountOrder0(ReadOnlySpan<byte> symbols, Span<uint> counts)
    {
        counts.Clear();

        // Four sub-histograms break the store-to-load dependency when the same symbol repeats.
        Span<uint> h = stackalloc uint[4 * 256];
        h.Clear();
        int i = 0;
        for (; i + 4 <= symbols.Length; i += 4)
        {
            h[symbols[i]]++;
            h[256 + symbols[i + 1]]++;
            h[512 + symbols[i + 2]]++;
            h[768 + symbols[i + 3]]++;
        }

        for (; i < symbols.Length; i++)
        {
            h[symbols[i]]++;
        }

        for (int s = 0; s < 256; s++)
        {
            uint c = h[s] + h[256 + s] + h[512 + s] + h[768 + s];
            if (c != 0)
            {
                if (s >= counts.Length)
                {
                    throw new ArgumentException($"symbol {s} does not fit an alphabet of {counts.Length}", nameof(symbols));
                }

                counts[s] = c;
            }
        }
    }

    /// <summary>Counts (context, symbol) pairs with exactly the contexts the coder uses.</summary>
    public static void CountOrder1(ReadOnlySpan<byte> symbols, int alphabetBits, Span<uint> pairs)
    {
        int size = 1 << alphabetBits;
        if (size < 256 && symbols.IndexOfAnyInRange((byte)size, (byte)255) >= 0)
        {
            throw new ArgumentException($"a symbol does not fit an alphabet of {size}", nameof(symbols));
        }

        pairs.Clear();
        int n = symbols.Length;
        int segment = n / Lanes;
        for (int k = 0; k < Lanes; k++)
        {
            int context = 0;
            foreach (byte s in symbols.Slice(k * segment, segment))
            {
                pairs[(context << alphabetBits) | s]++;
                context = s;
            }
        }

        for (int i = Lanes * segment; i < n; i++)
        {
            pairs[((i == 0 ? 0 : symbols[i - 1]) << alphabetBits) | symbols[i]]++;
        }
    }

    /// <summary>Encodes <paramref name="symbols"/> with <paramref name="model"/> and appends the payload.</summary>
    public static int Encode(ReadOnlySpan<byte> symbols, RansModel model, IBufferWriter<byte> output)
    {
        int n = symbols.Length;
        if (n == 0)
        {
            return 0;
        }

        int bits = model.AlphabetBits;
        int size = 1 << bits;

        // Per (table, symbol): frequency, start of its slot range and the reciprocal of the frequency, side by side,
        // so that a step touches one entry and multiplies where it would divide.
        EncodeEntry[] entries = ArrayPool<EncodeEntry>.Shared.Rent(model.TableCount * size);
        ushort[] words = ArrayPool<ushort>.Shared.Rent(n + 1);
        try
        {
            for (int t = 0; t < model.TableCount; t++)
            {
                uint c = 0;
                for (int s = 0; s < size; s++)
                {
                    uint f = model.Freqs[(t * size) + s];
                    entries[(t * size) + s] = new EncodeEntry(f, c);
                    c += f;
                }
            }

            int segment = n / Lanes;
            uint x0 = Lower, x1 = Lower, x2 = Lower, x3 = Lower;
            int wordCount;
            fixed (byte* src = symbols)
            fixed (byte* contexts = model.ContextTable)
            fixed (EncodeEntry* table = entries)
            fixed (ushort* first = words)
            {
                ushort* w = first + words.Length;

                // Encode in the exact reverse of the decoder's order: the tail first, then the lanes backwards.
                for (int i = n - 1; i >= Lanes * segment; i--)
                {
                    int context = i == 0 ? 0 : src[i - 1];
                    x0 = Put(x0, table + ((contexts[context] << bits) | src[i]), ref w);
                }

                byte* s0 = src;
                byte* s1 = src + segment;
                byte* s2 = src + (2 * segment);
                byte* s3 = src + (3 * segment);
                for (int j = segment - 1; j >= 0; j--)
                {
                    int c0 = 0, c1 = 0, c2 = 0, c3 = 0;
                    if (j != 0)
                    {
                        c0 = contexts[s0[j - 1]] << bits;
                        c1 = contexts[s1[j - 1]] << bits;
                        c2 = contexts[s2[j - 1]] << bits;
                        c3 = contexts[s3[j - 1]] << bits;
                    }
                    else
                    {
                        c0 = c1 = c2 = c3 = contexts[0] << bits;
                    }

                    x3 = Put(x3, table + (c3 | s3[j]), ref w);
                    x2 = Put(x2, table + (c2 | s2[j]), ref w);
                    x1 = Put(x1, table + (c1 | s1[j]), ref w);
                    x0 = Put(x0, table + (c0 | s0[j]), ref w);
                }

                wordCount = (int)(first + words.Length - w);
            }

            return WritePayload(model.TableSection, x0, x1, x2, x3, words.AsSpan(words.Length - wordCount), output);
        }
        finally
        {
            ArrayPool<ushort>.Shared.Return(words);
            ArrayPool<EncodeEntry>.Shared.Return(entries);
        }
    }

    /// <summary>
    /// Encodes <paramref name="symbols"/> with the order-0 <paramref name="model"/> and 64 interleaved states
    /// (<see cref="EntropyMethod.RansOrder0Wide"/>: the same table section, then the body of <see cref="WideRans"/>).
    /// </summary>
    public static int EncodeWide(ReadOnlySpan<byte> symbols, RansModel model, IBufferWriter<byte> output)
    {
        if (symbols.IsEmpty)
        {
            return 0;
        }

        if (model.TableCount != 1)
        {
            throw new ArgumentException("the wide coder takes an order-0 model", nameof(model));
        }

        int size = 1 << model.AlphabetBits;
        EncodeEntry[] entries = ArrayPool<EncodeEntry>.Shared.Rent(size);
        try
        {
            uint c = 0;
            for (int s = 0; s < size; s++)
            {
                uint f = model.Freqs[s];
                entries[s] = new EncodeEntry(f, c);
                c += f;
            }

            ReadOnlySpan<byte> oneClass = [0];
            return WideRans.Encode(symbols, model.TableSection, entries, model.AlphabetBits, oneClass, symbols.Length, output);
        }
        finally
        {
            ArrayPool<EncodeEntry>.Shared.Return(entries);
        }
    }

    /// <summary>Decodes exactly <paramref name="symbols"/>.Length symbols; bad input throws <see cref="Z4AiFormatException"/>.</summary>
    /// <param name="encoded">The payload.</param>
    /// <param name="order1">Order 1 (one table per context) instead of order 0.</param>
    /// <param name="alphabetBits">The alphabet bits.</param>
    /// <param name="symbols">Receives the symbols.</param>
    /// <param name="wide">The body has 64 interleaved states (<see cref="EntropyMethod.RansOrder0Wide"/>; order 0 only).</param>
    public static void Decode(ReadOnlySpan<byte> encoded, bool order1, int alphabetBits, Span<byte> symbols, bool wide = false)
    {
        if (order1 && wide)
        {
            throw new ArgumentException("the wide coder is order 0 only", nameof(wide));
        }

        int n = symbols.Length;
        if (n == 0)
        {
            if (!encoded.IsEmpty)
            {
                ThrowHelper.CorruptFrame($"an empty rANS stream must have no payload, found {encoded.Length} bytes");
            }

            return;
        }

        int size = 1 << alphabetBits;
        Span<byte> contextTable = stackalloc byte[256];
        contextTable.Clear();
        var reader = new BitReader(encoded);
        int tableCount = order1 ? ReadContextMap(ref reader, alphabetBits, n, contextTable) : 1;
        uint[] freqs = ArrayPool<uint>.Shared.Rent(tableCount * size);
        try
        {
            int minSymbol = size;
            int maxSymbol = 0;
            for (int t = 0; t < tableCount; t++)
            {
                Span<uint> table = freqs.AsSpan(t * size, size);
                FrequencyTable.Read(ref reader, alphabetBits, table);
                minSymbol = Math.Min(minSymbol, table.IndexOfAnyExcept(0u));
                maxSymbol = Math.Max(maxSymbol, table.LastIndexOfAnyExcept(0u));
            }

            ReadOnlySpan<byte> body = encoded[reader.BytesConsumed..];
            if (body.Length < Lanes * 4)
            {
                ThrowHelper.CorruptFrame($"rANS stream has {body.Length} bytes after its tables, fewer than the {Lanes * 4} state bytes");
            }

            if (order1)
            {
                DecodeOrder1(body, freqs, size, tableCount, contextTable, minSymbol, maxSymbol, symbols);
            }
            else
            {
                uint[] entries = ArrayPool<uint>.Shared.Rent(FrequencyTable.ProbScale);
                try
                {
                    FillEntries(freqs.AsSpan(0, size), entries);
                    if (wide)
                    {
                        ReadOnlySpan<byte> oneClass = [0];
                        WideRans.Decode(body, entries.AsSpan(0, FrequencyTable.ProbScale), oneClass, n, symbols, WideRans.Best);
                    }
                    else
                    {
                        DecodeOrder0(body, entries, symbols);
                    }
                }
                finally
                {
                    ArrayPool<uint>.Shared.Return(entries);
                }
            }
        }
        finally
        {
            ArrayPool<uint>.Shared.Return(freqs);
        }
    }

    /// <summary>
    /// Appends a payload: <paramref name="prefix"/> (the table section), the four final states as u32 little-endian
    /// (state 0 first), then <paramref name="written"/>, the 16-bit words in the order the decoder reads them.
    /// Returns the bytes written.
    /// </summary>
    internal static int WritePayload(
        ReadOnlySpan<byte> prefix, uint x0, uint x1, uint x2, uint x3, ReadOnlySpan<ushort> written, IBufferWriter<byte> output) =>
        WritePayload(prefix, [x0, x1, x2, x3], written, output);

    /// <summary>
    /// Appends <paramref name="prefix"/>, the final <paramref name="states"/> as u32 little-endian (state 0 first) and
    /// the words as u16 little-endian; returns the bytes written. Shared by the four- and 64-state coders.
    /// </summary>
    internal static int WritePayload(ReadOnlySpan<byte> prefix, ReadOnlySpan<uint> states, ReadOnlySpan<ushort> written, IBufferWriter<byte> output)
    {
        int total = prefix.Length + (states.Length * 4) + (written.Length * 2);
        Span<byte> dst = output.GetSpan(total);
        prefix.CopyTo(dst);
        int at = prefix.Length;
        foreach (uint state in states)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(dst[at..], state);
            at += 4;
        }

        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(written).CopyTo(dst[at..]);
        }
        else
        {
            foreach (ushort word in written)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(dst[at..], word);
                at += 2;
            }
        }

        output.Advance(total);
        return total;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint Put(uint x, EncodeEntry* entry, ref ushort* w)
    {
        uint f = entry->Frequency;

        // Branch-free renormalisation (the word is stored unconditionally and kept only when needed): whether a
        // state overflows is as unpredictable here as the refill is in the decoder. w − 1 stays in the buffer
        // because it holds one more word than there are symbols.
        uint emit = (uint)((((ulong)f << 20) - 1 - x) >> 63);
        w[-1] = (ushort)x;
        w -= emit;
        uint state = x >> (int)(emit << 4);

        // (q << 12) + (state mod f) + start with q = state / f, the remainder written as state − q·f.
        uint q = Divide(state, f, entry->Reciprocal);
        return state + entry->Start + (q * ((uint)FrequencyTable.ProbScale - f));
    }

    /// <summary>One symbol's encoder constants.</summary>
    internal readonly struct EncodeEntry
    {
        public EncodeEntry(uint frequency, uint start)
        {
            Reciprocal = RansCodec.Reciprocal(frequency);
            Frequency = frequency;
            Start = start;
        }

        public ulong Reciprocal { get; }

        public uint Frequency { get; }

        public uint Start { get; }
    }

    /// <summary>The multiplier <see cref="Divide"/> uses for divisor <paramref name="divisor"/>: ⌈2^64 / d⌉ (0 for 0 and 1).</summary>
    internal static ulong Reciprocal(uint divisor) => divisor <= 1 ? 0 : (ulong.MaxValue / divisor) + 1;

    /// <summary>
    /// <paramref name="value"/> / <paramref name="divisor"/> from the divisor's <see cref="Reciprocal"/>: the high
    /// 64 bits of a 64 × 64-bit product, exact for every 32-bit value and divisor (Lemire, Kaser and Kurz, "Faster
    /// remainder by direct computation", 2019); a divisor of 1, whose multiplier would need 65 bits, is the value.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint Divide(uint value, uint divisor, ulong reciprocal) =>
        divisor == 1 ? value : (uint)Math.BigMul(reciprocal, value, out _);

    // Context map (order 1): see RansModel for the bit layout. Returns the number of tables and fills the table
    // index of each context.
    private static int ReadContextMap(ref BitReader reader, int alphabetBits, int symbolCount, scoped Span<byte> contextTable)
    {
        int size = 1 << alphabetBits;
        Span<bool> own = stackalloc bool[size];
        own.Clear();
        int ownCount = 0;
        if (reader.Read(1) == 1)
        {
            int lo = (int)reader.Read(alphabetBits);
            int hi = lo + (int)reader.Read(alphabetBits);
            if (hi >= size)
            {
                ThrowHelper.CorruptFrame($"rANS context range [{lo}, {hi}] exceeds the alphabet");
            }

            for (int c = lo; c <= hi; c++)
            {
                own[c] = reader.Read(1) == 1;
                ownCount += own[c] ? 1 : 0;
            }
        }

        bool hasShared = reader.Read(1) == 1;
        int tableCount = ownCount + (hasShared ? 1 : 0);

        // Each table the encoder writes belongs to a context that occurs, so more tables than symbols is forged.
        if (tableCount == 0 || ownCount > symbolCount)
        {
            ThrowHelper.CorruptFrame($"rANS stream declares {ownCount} context tables for {symbolCount} symbols");
        }

        int shared = hasShared ? ownCount : 0;
        int t = 0;
        for (int c = 0; c < size; c++)
        {
            contextTable[c] = (byte)(own[c] ? t++ : shared);
        }

        return tableCount;
    }

    // Decode entry per slot: bits 0-7 symbol, 8-19 slot minus the symbol's cumulative start, 20-31 frequency − 1.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void FillEntries(ReadOnlySpan<uint> freqs, Span<uint> entries)
    {
        int total = 0;
        foreach (uint f in freqs)
        {
            total += (int)f;
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThan(total, entries.Length, nameof(freqs));
        if (!Vector256.IsHardwareAccelerated)
        {
            FillEntriesScalar(freqs, entries);
            return;
        }

        // A row-class stream rebuilds up to 16 tables of 4096 slots per block of half a million symbols, so the
        // fill shows in decode time. Eight slots per store: a symbol's run may spill up to seven slots into the
        // next symbol's, which that symbol then overwrites; the last runs, within eight slots of the end, go one
        // slot at a time.
        ref uint start = ref MemoryMarshal.GetReference(entries);
        Vector256<uint> ramp = Vector256.Create(0u, 1u << 8, 2u << 8, 3u << 8, 4u << 8, 5u << 8, 6u << 8, 7u << 8);
        Vector256<uint> step = Vector256.Create(8u << 8);
        int slot = 0;
        for (int s = 0; s < freqs.Length; s++)
        {
            uint f = freqs[s];
            if (f == 0)
            {
                continue;
            }

            uint head = ((f - 1) << 20) | (uint)s;
            int stop = slot + (int)f;
            if (stop + Vector256<uint>.Count <= entries.Length)
            {
                Vector256<uint> run = Vector256.Create(head) | ramp;
                for (int at = slot; at < stop; at += Vector256<uint>.Count)
                {
                    run.StoreUnsafe(ref start, (nuint)at);
                    run += step;
                }
            }
            else
            {
                for (uint b = 0; b < f; b++)
                {
                    entries[slot + (int)b] = head | (b << 8);
                }
            }

            slot = stop;
        }
    }

    /// <summary>The oracle for <see cref="FillEntries"/>: slot by slot, each symbol's run of its frequency.</summary>
    internal static void FillEntriesScalar(ReadOnlySpan<uint> freqs, Span<uint> entries)
    {
        int slot = 0;
        for (int s = 0; s < freqs.Length; s++)
        {
            uint f = freqs[s];
            uint head = ((f - 1) << 20) | (uint)s;
            for (uint b = 0; b < f; b++)
            {
                entries[slot++] = head | (b << 8);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DecodeOrder0(ReadOnlySpan<byte> body, uint[] entries, Span<byte> symbols)
    {
        int n = symbols.Length;
        int segment = n / Lanes;
        fixed (byte* src = body)
        fixed (byte* dst = symbols)
        fixed (uint* table = entries)
        {
            byte* end = src + body.Length;
            uint x0 = ReadState(src), x1 = ReadState(src + 4), x2 = ReadState(src + 8), x3 = ReadState(src + 12);
            byte* p = src + (Lanes * 4);
            byte* o0 = dst;
            byte* o1 = dst + segment;
            byte* o2 = dst + (2 * segment);
            byte* o3 = dst + (3 * segment);
            int j = 0;

            while (j < segment)
            {
                // Each round reads at most one word per state: this many rounds need no bounds checks.
                int safe = (int)Math.Min(segment - j, (end - p) / (2 * Lanes));
                if (safe == 0)
                {
                    break;
                }

                for (int limit = j + safe; j < limit; j++)
                {
                    p += StepFour(table, ref x0, ref x1, ref x2, ref x3, ReadWindow(p), o0 + j, o1 + j, o2 + j, o3 + j);
                }
            }

            for (; j < segment; j++)
            {
                o0[j] = StepChecked(table, ref x0, ref p, end);
                o1[j] = StepChecked(table, ref x1, ref p, end);
                o2[j] = StepChecked(table, ref x2, ref p, end);
                o3[j] = StepChecked(table, ref x3, ref p, end);
            }

            for (int i = Lanes * segment; i < n; i++)
            {
                dst[i] = StepChecked(table, ref x0, ref p, end);
            }

            CheckEnd(x0, x1, x2, x3, p, end);
        }
    }

    // Order-1 decode tables come in two layouts. Per symbol (DirectTables): context c (every decodable symbol lies in
    // [minSymbol, maxSymbol]) owns block c − minSymbol, a copy of its table, and one more block holds the table of
    // the lanes' start context 0; the next table is then an address computed from the symbol, with no lookup in the
    // dependency chain, but the copies cost (maxSymbol − minSymbol + 2) · 16 KiB, up to 4 MiB. Per table
    // (SharedTables): one block per table and a pointer per context, one more load per symbol. A short stream over a
    // wide alphabet (a codebook's byte plane, say) would spend longer building copies than decoding, so the
    // per-table layout is used when the copies it saves outnumber the symbols. Both decode the same symbols; the layout is the decoder's choice, not the format's.
    private static void DecodeOrder1(
        ReadOnlySpan<byte> body, uint[] freqs, int size, int tableCount, ReadOnlySpan<byte> contextTable, int minSymbol, int maxSymbol, Span<byte> symbols)
    {
        int range = maxSymbol - minSymbol + 1;
        if (UsesSharedTables(range, tableCount, symbols.Length))
        {
            DecodeOrder1Shared(body, freqs, size, tableCount, contextTable, symbols);
            return;
        }

        uint[] entries = ArrayPool<uint>.Shared.Rent((range + 1) * FrequencyTable.ProbScale);
        try
        {
            for (int c = minSymbol; c <= maxSymbol; c++)
            {
                int t = contextTable[c];
                Span<uint> block = entries.AsSpan((c - minSymbol) * FrequencyTable.ProbScale, FrequencyTable.ProbScale);
                if (c > minSymbol && contextTable[c - 1] == t)
                {
                    // Same table as the previous context (rare contexts share one): copying 16 KiB beats a rebuild.
                    entries.AsSpan((c - 1 - minSymbol) * FrequencyTable.ProbScale, FrequencyTable.ProbScale).CopyTo(block);
                }
                else
                {
                    FillEntries(freqs.AsSpan(t * size, size), block);
                }
            }

            FillEntries(freqs.AsSpan(contextTable[0] * size, size), entries.AsSpan(range * FrequencyTable.ProbScale, FrequencyTable.ProbScale));
            fixed (uint* table = entries)
            {
                // Block of symbol s: based + (s << 12); "based" may point before the array, but it is only ever
                // offset by decodable symbols, which land inside it.
                uint* based = table - ((nint)minSymbol << FrequencyTable.ProbBits);
                DecodeOrder1<DirectTables>(body, table + ((nint)range << FrequencyTable.ProbBits), based, null, symbols);
            }
        }
        finally
        {
            ArrayPool<uint>.Shared.Return(entries);
        }
    }

    /// <summary>True when an order-1 stream of <paramref name="symbolCount"/> symbols whose decodable symbols span
    /// <paramref name="range"/> values is decoded with one block per table: the per-symbol copies it saves outnumber
    /// the symbols.</summary>
    internal static bool UsesSharedTables(int range, int tableCount, int symbolCount) =>
        (long)(range + 1 - tableCount) * FrequencyTable.ProbScale > symbolCount;

    private static void DecodeOrder1Shared(
        ReadOnlySpan<byte> body, uint[] freqs, int size, int tableCount, ReadOnlySpan<byte> contextTable, Span<byte> symbols)
    {
        uint[] entries = ArrayPool<uint>.Shared.Rent(tableCount * FrequencyTable.ProbScale);
        try
        {
            for (int t = 0; t < tableCount; t++)
            {
                FillEntries(freqs.AsSpan(t * size, size), entries.AsSpan(t * FrequencyTable.ProbScale, FrequencyTable.ProbScale));
            }

            fixed (uint* table = entries)
            {
                uint** tableOf = stackalloc uint*[256];
                for (int c = 0; c < 256; c++)
                {
                    tableOf[c] = table + ((nint)contextTable[c] << FrequencyTable.ProbBits);
                }

                DecodeOrder1<SharedTables>(body, tableOf[0], null, tableOf, symbols);
            }
        }
        finally
        {
            ArrayPool<uint>.Shared.Return(entries);
        }
    }

    /// <summary>Where the table of the context that follows a symbol lies (see the layouts above).</summary>
    private interface INextTable
    {
        static abstract uint* Of(uint* based, uint** tableOf, nint symbol);
    }

    private readonly struct DirectTables : INextTable
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static uint* Of(uint* based, uint** tableOf, nint symbol) => based + (symbol << FrequencyTable.ProbBits);
    }

    private readonly struct SharedTables : INextTable
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static uint* Of(uint* based, uint** tableOf, nint symbol) => tableOf[symbol];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DecodeOrder1<TNext>(ReadOnlySpan<byte> body, uint* start, uint* based, uint** tableOf, Span<byte> symbols)
        where TNext : struct, INextTable
    {
        int n = symbols.Length;
        int segment = n / Lanes;
        fixed (byte* src = body)
        fixed (byte* dst = symbols)
        {
            byte* end = src + body.Length;
            uint x0 = ReadState(src), x1 = ReadState(src + 4), x2 = ReadState(src + 8), x3 = ReadState(src + 12);
            byte* p = src + (Lanes * 4);
            byte* o0 = dst;
            byte* o1 = dst + segment;
            byte* o2 = dst + (2 * segment);
            byte* o3 = dst + (3 * segment);

            uint* t0 = start;
            uint* t1 = t0, t2 = t0, t3 = t0;
            int j = 0;
            while (j < segment)
            {
                // Each round reads at most one word per state: this many rounds need no bounds checks.
                int safe = (int)Math.Min(segment - j, (end - p) / (2 * Lanes));
                if (safe == 0)
                {
                    break;
                }

                for (int limit = j + safe; j < limit; j++)
                {
                    ulong window = ReadWindow(p);
                    uint e0 = t0[x0 & SlotMask];
                    uint e1 = t1[x1 & SlotMask];
                    uint e2 = t2[x2 & SlotMask];
                    uint e3 = t3[x3 & SlotMask];
                    o0[j] = (byte)e0;
                    o1[j] = (byte)e1;
                    o2[j] = (byte)e2;
                    o3[j] = (byte)e3;
                    x0 = (((e0 >> 20) + 1) * (x0 >> FrequencyTable.ProbBits)) + ((e0 >> 8) & SlotMask);
                    x1 = (((e1 >> 20) + 1) * (x1 >> FrequencyTable.ProbBits)) + ((e1 >> 8) & SlotMask);
                    x2 = (((e2 >> 20) + 1) * (x2 >> FrequencyTable.ProbBits)) + ((e2 >> 8) & SlotMask);
                    x3 = (((e3 >> 20) + 1) * (x3 >> FrequencyTable.ProbBits)) + ((e3 >> 8) & SlotMask);

                    // Branch-free refill (arithmetic, because the JIT turns conditionals into branches here):
                    // whether a state needs a word is data dependent and unpredictable. The next four words are
                    // loaded at once before the states are known, and each state takes the word at its rank among
                    // the states that refill, so no load waits on the states before it.
                    uint r0 = Refill(x0), r1 = Refill(x1), r2 = Refill(x2), r3 = Refill(x3);
                    uint k1 = r0, k2 = r0 + r1, k3 = k2 + r2;
                    x0 = (x0 << (int)(r0 << 4)) | ((uint)(ushort)window & (0u - r0));
                    x1 = (x1 << (int)(r1 << 4)) | ((uint)(ushort)(window >> (int)(k1 << 4)) & (0u - r1));
                    x2 = (x2 << (int)(r2 << 4)) | ((uint)(ushort)(window >> (int)(k2 << 4)) & (0u - r2));
                    x3 = (x3 << (int)(r3 << 4)) | ((uint)(ushort)(window >> (int)(k3 << 4)) & (0u - r3));
                    p += (k3 + r3) << 1;

                    t0 = TNext.Of(based, tableOf, (byte)e0);
                    t1 = TNext.Of(based, tableOf, (byte)e1);
                    t2 = TNext.Of(based, tableOf, (byte)e2);
                    t3 = TNext.Of(based, tableOf, (byte)e3);
                }
            }

            for (; j < segment; j++)
            {
                byte s0 = StepChecked(t0, ref x0, ref p, end);
                byte s1 = StepChecked(t1, ref x1, ref p, end);
                byte s2 = StepChecked(t2, ref x2, ref p, end);
                byte s3 = StepChecked(t3, ref x3, ref p, end);
                o0[j] = s0;
                o1[j] = s1;
                o2[j] = s2;
                o3[j] = s3;
                t0 = TNext.Of(based, tableOf, s0);
                t1 = TNext.Of(based, tableOf, s1);
                t2 = TNext.Of(based, tableOf, s2);
                t3 = TNext.Of(based, tableOf, s3);
            }

            for (int i = Lanes * segment; i < n; i++)
            {
                uint* t = i == 0 ? start : TNext.Of(based, tableOf, dst[i - 1]);
                dst[i] = StepChecked(t, ref x0, ref p, end);
            }

            CheckEnd(x0, x1, x2, x3, p, end);
        }
    }

    // 1 when the state has dropped below 2^16 and needs a word, else 0, without a branch.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint Refill(uint state) => (uint)(((ulong)state - Lower) >> 63);

    /// <summary>
    /// One decode step of four states on one table, with the branch-free refill from <paramref name="window"/> (the
    /// next four words): writes the four symbols and returns the bytes of words taken. Shared by every decoder that
    /// steps four states in lockstep on the same table.
    /// </summary>
    /// <remarks>Branch-free (arithmetic, because the JIT turns conditionals into branches here): whether a state needs a
    /// word is data dependent and unpredictable. The next four words are loaded at once before the states are known,
    /// and each state takes the word at its rank among the states that refill, so no load waits on the states before
    /// it.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint StepFour(
        uint* table, ref uint x0, ref uint x1, ref uint x2, ref uint x3, ulong window, byte* out0, byte* out1, byte* out2, byte* out3)
    {
        uint e0 = table[x0 & SlotMask];
        uint e1 = table[x1 & SlotMask];
        uint e2 = table[x2 & SlotMask];
        uint e3 = table[x3 & SlotMask];
        *out0 = (byte)e0;
        *out1 = (byte)e1;
        *out2 = (byte)e2;
        *out3 = (byte)e3;
        uint s0 = (((e0 >> 20) + 1) * (x0 >> FrequencyTable.ProbBits)) + ((e0 >> 8) & SlotMask);
        uint s1 = (((e1 >> 20) + 1) * (x1 >> FrequencyTable.ProbBits)) + ((e1 >> 8) & SlotMask);
        uint s2 = (((e2 >> 20) + 1) * (x2 >> FrequencyTable.ProbBits)) + ((e2 >> 8) & SlotMask);
        uint s3 = (((e3 >> 20) + 1) * (x3 >> FrequencyTable.ProbBits)) + ((e3 >> 8) & SlotMask);
        uint r0 = Refill(s0), r1 = Refill(s1), r2 = Refill(s2), r3 = Refill(s3);
        uint k1 = r0, k2 = r0 + r1, k3 = k2 + r2;
        x0 = (s0 << (int)(r0 << 4)) | ((uint)(ushort)window & (0u - r0));
        x1 = (s1 << (int)(r1 << 4)) | ((uint)(ushort)(window >> (int)(k1 << 4)) & (0u - r1));
        x2 = (s2 << (int)(r2 << 4)) | ((uint)(ushort)(window >> (int)(k2 << 4)) & (0u - r2));
        x3 = (s3 << (int)(r3 << 4)) | ((uint)(ushort)(window >> (int)(k3 << 4)) & (0u - r3));
        return (k3 + r3) << 1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static byte StepChecked(uint* table, ref uint x, ref byte* p, byte* end)
    {
        uint state = x;
        uint e = table[state & SlotMask];
        state = (((e >> 20) + 1) * (state >> FrequencyTable.ProbBits)) + ((e >> 8) & SlotMask);
        if (state < Lower)
        {
            if (end - p < 2)
            {
                ThrowHelper.CorruptFrame("rANS stream ends early");
            }

            state = (state << 16) | ReadWord(p);
            p += 2;
        }

        x = state;
        return (byte)e;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint ReadWord(byte* p)
    {
        ushort v = Unsafe.ReadUnaligned<ushort>(p);
        return BitConverter.IsLittleEndian ? v : BinaryPrimitives.ReverseEndianness(v);
    }

    // The next four 16-bit words, the first in the low bits; the caller guarantees eight readable bytes.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong ReadWindow(byte* p)
    {
        ulong v = Unsafe.ReadUnaligned<ulong>(p);
        return BitConverter.IsLittleEndian ? v : BinaryPrimitives.ReverseEndianness(v);
    }

    internal static uint ReadState(byte* p)
    {
        uint v = Unsafe.ReadUnaligned<uint>(p);
        v = BitConverter.IsLittleEndian ? v : BinaryPrimitives.ReverseEndianness(v);
        if (v < Lower)
        {
            ThrowHelper.CorruptFrame($"rANS initial state {v} is below {Lower}");
        }

        return v;
    }

    internal static void CheckEnd(uint x0, uint x1, uint x2, uint x3, byte* p, byte* end)
    {
        if ((x0 | x1 | x2 | x3) != Lower || ((x0 ^ x1) | (x0 ^ x2) | (x0 ^ x3)) != 0 || p != end)
        {
            ThrowHelper.CorruptFrame($"rANS stream does not end cleanly ({end - p} bytes left, states {x0:X}/{x1:X}/{x2:X}/{x3:X})");
        }
    }
}
