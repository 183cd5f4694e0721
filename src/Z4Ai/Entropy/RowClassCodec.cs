using System.Runtime.CompilerServices;
using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using Z4Ai.Internal;

namespace Z4Ai.Entropy;

/// <summary>
/// Static-table interleaved rANS in which each row of the stream is coded with the order-0 table of its class
/// (<see cref="EntropyMethod.RansRowClasses"/>; the plan is a <see cref="RowClassModel"/>).
/// </summary>
/// <remarks>
/// <para>Payload: <c>u8 K</c> (2..16, at most the number of rows), <c>u8 id coding</c> (0: the row classes packed
/// LSB-first at <c>bitlen(K − 1)</c> bits, zero padding to a byte; 1: a varint length m ≥ 1 and m bytes of an
/// order-0 rANS payload of the classes with alphabet bits <c>bitlen(K − 1)</c>), the table section (K frequency
/// tables back to back, bit-packed, zero padding to a byte), the four final states as u32 little-endian and the
/// 16-bit words: the steps and state rules of order-0 rANS (<see cref="RansCodec"/>), except that symbol <c>i</c> is
/// coded by state <c>i mod 4</c> (symbols are decoded in their own order, not in four contiguous lanes) with the
/// table of class <c>classes[i / rowLength]</c>. Every class id must be below K and every class must be used.</para>
/// <para>Why interleaved: the four states then work on the same row, so one 16 KiB slot table serves all four
/// at a time, as in order 0 (four lanes in four rows of different classes would touch 64 KiB per step and miss the
/// first-level cache).</para>
/// </remarks>
internal static unsafe class RowClassCodec
{
    /// <summary>Encodes <paramref name="symbols"/> with <paramref name="model"/> (fitted to these symbols) and appends the payload.</summary>
    /// <param name="symbols">The symbols.</param>
    /// <param name="model">The plan, fitted to these symbols.</param>
    /// <param name="output">Receives the payload.</param>
    /// <param name="wide">Code the body with 64 interleaved states (<see cref="EntropyMethod.RansRowClassesWide"/>).</param>
    public static int Encode(ReadOnlySpan<byte> symbols, RowClassModel model, IBufferWriter<byte> output, bool wide = false)
    {
        int n = symbols.Length;
        if (n == 0)
        {
            return 0;
        }

        int rowLength = model.RowLength;
        int rows = RowClassModel.RowCount(n, rowLength);
        if (rows != model.Classes.Length)
        {
            throw new ArgumentException($"the model has {model.Classes.Length} rows, the symbols make {rows}", nameof(model));
        }

        int bits = model.AlphabetBits;
        int size = 1 << bits;
        int tables = model.ClassCount;
        RansCodec.EncodeEntry[] entries = ArrayPool<RansCodec.EncodeEntry>.Shared.Rent(tables * size);
        ushort[] words = ArrayPool<ushort>.Shared.Rent(n + 1);
        try
        {
            for (int t = 0; t < tables; t++)
            {
                uint c = 0;
                for (int s = 0; s < size; s++)
                {
                    uint f = model.Freqs[(t * size) + s];
                    entries[(t * size) + s] = new RansCodec.EncodeEntry(f, c);
                    c += f;
                }
            }

            if (wide)
            {
                return WideRans.Encode(symbols, model.Prefix, entries, bits, model.Classes, rowLength, output);
            }

            uint x0 = RansCodec.Lower, x1 = RansCodec.Lower, x2 = RansCodec.Lower, x3 = RansCodec.Lower;
            int wordCount;
            fixed (byte* src = symbols)
            fixed (byte* classes = model.Classes)
            fixed (RansCodec.EncodeEntry* table = entries)
            fixed (ushort* first = words)
            {
                ushort* w = first + words.Length;

                // The exact reverse of the decoder's order: symbol n − 1 down to 0, symbol i by state i mod 4, each
                // with its row's table (rows walked downwards).
                var row = new RowCursor(n - 1, rowLength);
                int groups = n / RansCodec.Lanes;
                for (int i = n - 1; i >= RansCodec.Lanes * groups; i--)
                {
                    RansCodec.EncodeEntry* entry = table + (row.ClassAt(i, classes) << bits) + src[i];
                    switch (i & 3)
                    {
                        case 0:
                            x0 = RansCodec.Put(x0, entry, ref w);
                            break;
                        case 1:
                            x1 = RansCodec.Put(x1, entry, ref w);
                            break;
                        default:
                            x2 = RansCodec.Put(x2, entry, ref w);
                            break;
                    }
                }

                for (int i = (RansCodec.Lanes * groups) - 1; i >= 0; i -= RansCodec.Lanes)
                {
                    x3 = RansCodec.Put(x3, table + (row.ClassAt(i, classes) << bits) + src[i], ref w);
                    x2 = RansCodec.Put(x2, table + (row.ClassAt(i - 1, classes) << bits) + src[i - 1], ref w);
                    x1 = RansCodec.Put(x1, table + (row.ClassAt(i - 2, classes) << bits) + src[i - 2], ref w);
                    x0 = RansCodec.Put(x0, table + (row.ClassAt(i - 3, classes) << bits) + src[i - 3], ref w);
                }

                wordCount = (int)(first + words.Length - w);
            }

            return RansCodec.WritePayload(model.Prefix, x0, x1, x2, x3, words.AsSpan(words.Length - wordCount), output);
        }
        finally
        {
            ArrayPool<ushort>.Shared.Return(words);
            ArrayPool<RansCodec.EncodeEntry>.Shared.Return(entries);
        }
    }

    /// <summary>
    /// Decodes exactly <paramref name="symbols"/>.Length symbols in rows of <paramref name="rowLength"/>; bad input
    /// throws <see cref="Z4AiFormatException"/>. Allocates at most one byte per row and 16 KiB per class (K ≤ 16).
    /// </summary>
    /// <param name="encoded">The payload.</param>
    /// <param name="alphabetBits">The alphabet bits.</param>
    /// <param name="rowLength">Symbols per row.</param>
    /// <param name="symbols">Receives the symbols.</param>
    /// <param name="wide">The body has 64 interleaved states (<see cref="EntropyMethod.RansRowClassesWide"/>).</param>
    public static void Decode(ReadOnlySpan<byte> encoded, int alphabetBits, int rowLength, Span<byte> symbols, bool wide = false)
    {
        int n = symbols.Length;
        if (n == 0)
        {
            if (!encoded.IsEmpty)
            {
                ThrowHelper.CorruptFrame($"an empty row-class rANS stream must have no payload, found {encoded.Length} bytes");
            }

            return;
        }

        if (rowLength < 1)
        {
            ThrowHelper.CorruptFrame($"row-class rANS stream has row length {rowLength}");
        }

        int rows = RowClassModel.RowCount(n, rowLength);
        var reader = new SpanReader(encoded);
        int k = reader.ReadByte();
        if (k < RowClassModel.MinClasses || k > RowClassModel.MaxClasses || k > rows)
        {
            ThrowHelper.CorruptFrame($"row-class rANS stream declares {k} classes for {rows} rows (2 to {RowClassModel.MaxClasses}, at most one per row)", 0);
        }

        int size = 1 << alphabetBits;
        byte[] classes = ArrayPool<byte>.Shared.Rent(rows);
        uint[] freqs = ArrayPool<uint>.Shared.Rent(k * size);
        uint[] entries = ArrayPool<uint>.Shared.Rent(k * FrequencyTable.ProbScale);
        try
        {
            ReadClassIds(ref reader, k, classes.AsSpan(0, rows));
            var tableReader = new BitReader(reader.Rest);
            for (int t = 0; t < k; t++)
            {
                Span<uint> table = freqs.AsSpan(t * size, size);
                FrequencyTable.Read(ref tableReader, alphabetBits, table);
                RansCodec.FillEntries(table, entries.AsSpan(t * FrequencyTable.ProbScale, FrequencyTable.ProbScale));
            }

            ReadOnlySpan<byte> body = reader.Rest[tableReader.BytesConsumed..];
            if (body.Length < RansCodec.Lanes * 4)
            {
                ThrowHelper.CorruptFrame($"row-class rANS stream has {body.Length} bytes after its tables, fewer than the {RansCodec.Lanes * 4} state bytes");
            }

            if (wide)
            {
                WideRans.Decode(body, entries.AsSpan(0, k * FrequencyTable.ProbScale), classes.AsSpan(0, rows), rowLength, symbols, WideRans.Best);
            }
            else
            {
                DecodeBody(body, entries, classes, rowLength, symbols);
            }
        }
        finally
        {
            ArrayPool<uint>.Shared.Return(entries);
            ArrayPool<uint>.Shared.Return(freqs);
            ArrayPool<byte>.Shared.Return(classes);
        }
    }

    // The class ids: every one below K and every class used (the encoder drops empty classes).
    private static void ReadClassIds(ref SpanReader reader, int k, Span<byte> classes)
    {
        int rows = classes.Length;
        int bits = BitOperations.Log2((uint)(k - 1)) + 1;
        int at = reader.Position;
        byte coding = reader.ReadByte();
        if (coding == RowClassModel.IdsPacked)
        {
            long totalBits = (long)rows * bits;
            ReadOnlySpan<byte> packed = reader.ReadBytes((int)((totalBits + 7) / 8));
            var bitReader = new BitReader(packed);
            for (int r = 0; r < rows; r++)
            {
                classes[r] = (byte)bitReader.Read(bits);
            }

            int padding = (int)((packed.Length * 8L) - totalBits);
            if (bitReader.Read(padding) != 0)
            {
                ThrowHelper.CorruptFrame("row-class ids have non-zero padding bits", reader.Position - 1);
            }
        }
        else if (coding == RowClassModel.IdsRans)
        {
            int length = reader.ReadVarInt32(reader.Remaining);
            if (length == 0)
            {
                ThrowHelper.CorruptFrame("row-class ids have an empty rANS payload", reader.Position);
            }

            RansCodec.Decode(reader.ReadBytes(length), order1: false, bits, classes);
        }
        else
        {
            ThrowHelper.CorruptFrame($"row-class ids have unknown coding {coding}", at);
        }

        Span<bool> used = stackalloc bool[RowClassModel.MaxClasses];
        used.Clear();
        int distinct = 0;
        foreach (byte c in classes)
        {
            if (c >= k)
            {
                ThrowHelper.CorruptFrame($"row class {c} is not below the {k} classes");
            }

            if (!used[c])
            {
                used[c] = true;
                distinct++;
            }
        }

        if (distinct != k)
        {
            ThrowHelper.CorruptFrame($"row-class rANS stream declares {k} classes but its rows use {distinct}");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DecodeBody(ReadOnlySpan<byte> body, uint[] entries, byte[] classes, int rowLength, Span<byte> symbols)
    {
        int n = symbols.Length;
        int groups = n / RansCodec.Lanes;
        fixed (byte* src = body)
        fixed (byte* dst = symbols)
        fixed (uint* table = entries)
        fixed (byte* cls = classes)
        {
            byte* end = src + body.Length;
            uint x0 = RansCodec.ReadState(src), x1 = RansCodec.ReadState(src + 4), x2 = RansCodec.ReadState(src + 8), x3 = RansCodec.ReadState(src + 12);
            byte* p = src + (RansCodec.Lanes * 4);
            int g = 0;
            int row = 0;
            long rowEnd = rowLength;
            while (g < groups)
            {
                // The groups of four symbols that lie inside the current row share its table. The row advances by
                // addition (a division per row cost a few percent of the decode at rows of 128).
                int i = RansCodec.Lanes * g;
                while (i >= rowEnd)
                {
                    row++;
                    rowEnd += rowLength;
                }

                int run = (int)Math.Min(groups - g, (rowEnd - i) / RansCodec.Lanes);
                if (run == 0)
                {
                    // A group across a row boundary: each symbol with its own row's table.
                    dst[i] = RansCodec.StepChecked(TableOf(table, cls, i, rowLength), ref x0, ref p, end);
                    dst[i + 1] = RansCodec.StepChecked(TableOf(table, cls, i + 1, rowLength), ref x1, ref p, end);
                    dst[i + 2] = RansCodec.StepChecked(TableOf(table, cls, i + 2, rowLength), ref x2, ref p, end);
                    dst[i + 3] = RansCodec.StepChecked(TableOf(table, cls, i + 3, rowLength), ref x3, ref p, end);
                    g++;
                    continue;
                }

                uint* t = table + ((nint)cls[row] << FrequencyTable.ProbBits);
                int stop = g + run;
                while (g < stop)
                {
                    // Each group reads at most one word per state: this many groups need no bounds checks.
                    int safe = (int)Math.Min(stop - g, (end - p) / (2 * RansCodec.Lanes));
                    if (safe == 0)
                    {
                        byte* o = dst + (RansCodec.Lanes * g);
                        o[0] = RansCodec.StepChecked(t, ref x0, ref p, end);
                        o[1] = RansCodec.StepChecked(t, ref x1, ref p, end);
                        o[2] = RansCodec.StepChecked(t, ref x2, ref p, end);
                        o[3] = RansCodec.StepChecked(t, ref x3, ref p, end);
                        g++;
                        continue;
                    }

                    for (int limit = g + safe; g < limit; g++)
                    {
                        byte* o = dst + (RansCodec.Lanes * g);
                        p += RansCodec.StepFour(t, ref x0, ref x1, ref x2, ref x3, RansCodec.ReadWindow(p), o, o + 1, o + 2, o + 3);
                    }
                }
            }

            // The last n mod 4 symbols, by states 0, 1, 2.
            for (int i = RansCodec.Lanes * groups; i < n; i++)
            {
                uint* t = TableOf(table, cls, i, rowLength);
                dst[i] = (i & 3) switch
                {
                    0 => RansCodec.StepChecked(t, ref x0, ref p, end),
                    1 => RansCodec.StepChecked(t, ref x1, ref p, end),
                    _ => RansCodec.StepChecked(t, ref x2, ref p, end),
                };
            }

            RansCodec.CheckEnd(x0, x1, x2, x3, p, end);
        }
    }

    private static uint* TableOf(uint* table, byte* classes, int i, int rowLength) =>
        table + ((nint)classes[i / rowLength] << FrequencyTable.ProbBits);

    /// <summary>The encoder's current row while it walks the symbols backwards.</summary>
    private struct RowCursor
    {
        private readonly int _rowLength;
        private int _row;
        private long _rowStart;

        public RowCursor(int last, int rowLength)
        {
            _rowLength = rowLength;
            _row = Math.Max(0, last) / rowLength;
            _rowStart = (long)_row * rowLength;
        }

        /// <summary>The class of the row holding symbol <paramref name="i"/> (i only decreases).</summary>
        public int ClassAt(int i, byte* classes)
        {
            while (i < _rowStart)
            {
                _row--;
                _rowStart -= _rowLength;
            }

            return classes[_row];
        }
    }
}
