using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Z4Ai.Internal;

namespace Z4Ai.Transforms;

/// <summary>
/// Tensors with few distinct bit patterns: a sorted codebook plus k-bit indices. Dequantised INT8 weights
/// (&lt;= 256 values) cost one byte per element plus the codebook. For INT4/INT8 weights dequantised with per-row
/// or per-group scales, each group (a row, or 32/64/128 elements) gets its own codebook, or an affine rule
/// <c>value = (c0 + index) * scale</c> when every value of the group is proven to be exactly that product.
/// </summary>
/// <remarks>
/// The codebook and the index stream are separate outputs so the codec can entropy-code each. Frame: the
/// <see cref="PaletteParameters"/> block, the group table, the codebook, the indices (layout documented there).
/// </remarks>
internal static partial class Palette
{
    /// <summary>The widest index.</summary>
    public const int MaxIndexBits = 16;

    /// <summary>The most entries a global codebook or one group's codebook may have.</summary>
    public const int MaxEntries = 1 << MaxIndexBits;

    /// <summary>The longest group descriptor: an affine code offset of up to 2^20 needs 4 LEB128 bytes.</summary>
    public const int MaxDescriptorLength = 4;

    /// <summary>Codebook entries an affine group's F32 scale takes in <see cref="PaletteLayout.GroupedWide"/>.</summary>
    public const int WideScaleEntries = 2;

    private const int MemoBits = 6;

    /// <summary>True for the dtypes whose affine groups may carry an F32 scale (<see cref="PaletteLayout.GroupedWide"/>).</summary>
    public static bool HasWideScales(DType dtype) => dtype is DType.BF16 or DType.F16;

    /// <summary>The widest index for an element size: wider indices than elements never pay.</summary>
    public static int MaxIndexBitsFor(int elementSize) => Math.Min(MaxIndexBits, elementSize * 8);

    /// <summary>Writes the index stream (<see cref="PaletteParameters.IndicesLength"/> bytes); the codebook and the
    /// group table are <see cref="PalettePlan.Codebook"/> and <see cref="PalettePlan.GroupTable"/>.</summary>
    /// <exception cref="ArgumentException">A buffer has the wrong size, or an element is not in the planned codebook.</exception>
    public static void ForwardIndices(ReadOnlySpan<byte> raw, PalettePlan plan, Span<byte> indices)
    {
        ArgumentNullException.ThrowIfNull(plan);
        PaletteParameters p = plan.Parameters;
        CheckRaw(raw.Length, p);
        ArgumentOutOfRangeException.ThrowIfLessThan(indices.Length, p.IndicesLength, nameof(indices));
        bool ok = p.ElementSize switch
        {
            1 => MapIndices<Element1>(raw, plan, indices),
            2 => MapIndices<Element2>(raw, plan, indices),
            4 => MapIndices<Element4>(raw, plan, indices),
            _ => MapIndices<Element8>(raw, plan, indices),
        };

        if (!ok)
        {
            throw new ArgumentException("an element is not described by the planned codebook; plan again", nameof(raw));
        }
    }

    /// <summary>Rebuilds the raw bytes from the three streams.</summary>
    /// <exception cref="Z4AiFormatException">A stream has the wrong length, a descriptor or index is out of range, or
    /// an affine product is not finite.</exception>
    public static void Inverse(
        in PaletteParameters parameters, ReadOnlySpan<byte> groupTable, ReadOnlySpan<byte> codebook, ReadOnlySpan<byte> indices, Span<byte> raw)
    {
        CheckRaw(raw.Length, parameters);
        if (groupTable.Length != parameters.GroupTableLength || codebook.Length != parameters.CodebookLength
            || indices.Length != parameters.IndicesLength)
        {
            ThrowHelper.CorruptFrame(
                $"palette streams have {groupTable.Length}, {codebook.Length} and {indices.Length} bytes, expected "
                + $"{parameters.GroupTableLength}, {parameters.CodebookLength} and {parameters.IndicesLength}");
        }

        if (!BitPacking.HasZeroPadding(indices, parameters.ElementCount, parameters.IndexBits))
        {
            ThrowHelper.CorruptFrame("palette index stream has non-zero padding bits");
        }

        switch (parameters.ElementSize)
        {
            case 1:
                Expand<Element1>(parameters, groupTable, codebook, indices, raw);
                break;
            case 2:
                Expand<Element2>(parameters, groupTable, codebook, indices, raw);
                break;
            case 4:
                Expand<Element4>(parameters, groupTable, codebook, indices, raw);
                break;
            default:
                Expand<Element8>(parameters, groupTable, codebook, indices, raw);
                break;
        }
    }

    /// <summary>Appends the parameter block and the three streams; returns the bytes written (= EstimatedSize).</summary>
    public static int Encode(ReadOnlySpan<byte> raw, PalettePlan plan, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(output);
        PaletteParameters p = plan.Parameters;
        CheckRaw(raw.Length, p);
        p.Write(output);
        output.Write(plan.GroupTable);
        output.Write(plan.Codebook);
        int length = p.IndicesLength;
        ForwardIndices(raw, plan, output.GetSpan(length));
        output.Advance(length);
        return (int)p.EstimatedSize;
    }

    /// <summary>Decodes a frame written by <see cref="Encode"/> into exactly <paramref name="destination"/>.</summary>
    /// <exception cref="Z4AiFormatException">The frame is truncated, has trailing bytes, or is inconsistent.</exception>
    public static void Decode(ReadOnlySpan<byte> encoded, DType dtype, Span<byte> destination)
    {
        var reader = new SpanReader(encoded);
        PaletteParameters p = PaletteParameters.Read(ref reader, dtype, destination.Length);
        ReadOnlySpan<byte> table = reader.ReadBytes(p.GroupTableLength);
        ReadOnlySpan<byte> codebook = reader.ReadBytes(p.CodebookLength);
        ReadOnlySpan<byte> indices = reader.ReadBytes(p.IndicesLength);
        if (reader.Remaining != 0)
        {
            ThrowHelper.CorruptFrame($"palette frame has {reader.Remaining} trailing bytes", reader.Position);
        }

        Inverse(p, table, codebook, indices, destination);
    }

    private static void CheckRaw(int rawLength, in PaletteParameters p)
    {
        if (p.ElementSize == 0 || rawLength != (long)p.ElementCount * p.ElementSize)
        {
            throw new ArgumentException($"the palette covers {p.ElementCount} elements of {p.ElementSize} bytes, not {rawLength} bytes");
        }
    }

    private static bool MapIndices<TE>(ReadOnlySpan<byte> raw, PalettePlan plan, Span<byte> indices)
        where TE : struct, IElementAccess
    {
        PaletteParameters p = plan.Parameters;
        var packer = new IndexPacker(indices[..p.IndicesLength], p.IndexBits, stackalloc uint[Elements.BlockLength]);
        int bits = TE.Size * 8;
        KeyKind kind = KindOf(p.DType);
        if (p.Layout == PaletteLayout.Global)
        {
            using var map = new ValueIndexMap(p.CodebookEntries);
            for (int e = 0; e < p.CodebookEntries; e++)
            {
                map.TryAdd(Elements.Get<TE>(plan.Codebook, e), e);
            }

            for (int i = 0; i < p.ElementCount; i++)
            {
                int index = map.Find(Elements.Get<TE>(raw, i));
                if (index < 0)
                {
                    return false;
                }

                packer.Add((uint)index);
            }

            packer.Finish();
            return true;
        }

        FloatFormat format = FloatFormat.Of(p.DType) ?? default;
        var walker = new GroupWalker(plan.GroupTable, p);
        Span<ulong> memoValues = stackalloc ulong[1 << MemoBits];
        Span<long> memoCodes = stackalloc long[1 << MemoBits];
        ulong[] keys = ArrayPool<ulong>.Shared.Rent(Math.Min(p.GroupLength, MaxEntries));
        try
        {
            for (int start = 0; start < p.ElementCount; start += p.GroupLength)
            {
                int length = Math.Min(p.GroupLength, p.ElementCount - start);
                walker.Next(length);
                if (walker.Affine)
                {
                    // Every element is proven with TryCode; a small direct-mapped memo of proven (value, code) pairs
                    // saves repeating the proof for the few values a quantised group repeats.
                    ulong scale = walker.Scale<TE>(plan.Codebook);
                    memoCodes.Fill(long.MinValue);
                    for (int i = start; i < start + length; i++)
                    {
                        ulong value = Elements.Get<TE>(raw, i);
                        int slot = (int)((value * 0x9E3779B97F4A7C15UL) >> (64 - MemoBits));
                        long code = memoCodes[slot];
                        if (code == long.MinValue || memoValues[slot] != value)
                        {
                            if (!(walker.Wide ? TryCodeWide(value, scale, format, out code) : TryCode(value, scale, format, out code))
                                || code < walker.C0 || code - walker.C0 > (long)Elements.LowMask(p.IndexBits))
                            {
                                return false;
                            }

                            memoValues[slot] = value;
                            memoCodes[slot] = code;
                        }

                        packer.Add((uint)(code - walker.C0));
                    }

                    continue;
                }

                Span<ulong> groupKeys = keys.AsSpan(0, walker.Entries);
                for (int e = 0; e < groupKeys.Length; e++)
                {
                    groupKeys[e] = ToKey(Elements.Get<TE>(plan.Codebook, walker.Offset + e), bits, kind);
                }

                for (int i = start; i < start + length; i++)
                {
                    int index = groupKeys.BinarySearch(ToKey(Elements.Get<TE>(raw, i), bits, kind));
                    if (index < 0)
                    {
                        return false;
                    }

                    packer.Add((uint)index);
                }
            }
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(keys);
        }

        walker.Finish();
        packer.Finish();
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Expand<TE>(
        in PaletteParameters p, ReadOnlySpan<byte> groupTable, ReadOnlySpan<byte> codebook, ReadOnlySpan<byte> indices, Span<byte> raw)
        where TE : struct, IElementAccess
    {
        var unpacker = new IndexUnpacker(indices, p.IndexBits, p.ElementCount, stackalloc uint[Elements.BlockLength]);
        if (p.Layout == PaletteLayout.Global)
        {
            if (p.IndexBits == 8)
            {
                ExpandCodebook<TE>(unpacker.TakeBytes(p.ElementCount), codebook, raw, 0);
                return;
            }

            uint entries = (uint)p.CodebookEntries;
            for (int i = 0; i < p.ElementCount; i++)
            {
                uint index = unpacker.Next();
                if (index >= entries)
                {
                    ThrowHelper.CorruptFrame($"palette index {index} at element {i} is not below {entries}");
                }

                Elements.Set<TE>(raw, i, Elements.Get<TE>(codebook, (int)index));
            }

            return;
        }

        var walker = new GroupWalker(groupTable, p);
        AffineProducts? affine = null;
        try
        {
            bool byteIndices = p.IndexBits == 8;
            for (int start = 0; start < p.ElementCount; start += p.GroupLength)
            {
                int length = Math.Min(p.GroupLength, p.ElementCount - start);
                walker.Next(length);
                Span<byte> groupRaw = raw.Slice(start * TE.Size, length * TE.Size);
                if (walker.Affine)
                {
                    affine ??= new AffineProducts(FloatFormat.Of(p.DType) ?? default, walker.Wide, 1 << p.IndexBits);
                    affine.Use(walker.C0, walker.Scale<TE>(codebook));
                    if (byteIndices)
                    {
                        // Byte-wide indices (INT8 codes, zigzagged steps) are read in place, in a loop of its own.
                        ExpandAffine<TE>(unpacker.TakeBytes(length), affine, groupRaw, start);
                        continue;
                    }

                    for (int j = 0; j < length; j++)
                    {
                        Elements.Set<TE>(groupRaw, j, affine.Get(unpacker.Next(), start, start + j));
                    }

                    continue;
                }

                ReadOnlySpan<byte> groupCodebook = codebook.Slice(walker.Offset * TE.Size, walker.Entries * TE.Size);
                if (byteIndices)
                {
                    ExpandCodebook<TE>(unpacker.TakeBytes(length), groupCodebook, groupRaw, start);
                    continue;
                }

                for (int j = 0; j < length; j++)
                {
                    Elements.Set<TE>(groupRaw, j, CodebookEntry<TE>(groupCodebook, unpacker.Next(), start + j));
                }
            }
        }
        finally
        {
            affine?.Dispose();
        }

        walker.Finish();
    }

    /// <summary>One affine group's elements from byte-wide indices.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ExpandAffine<TE>(ReadOnlySpan<byte> indices, AffineProducts affine, Span<byte> destination, int start)
        where TE : struct, IElementAccess
    {
        ref byte target = ref MemoryMarshal.GetReference(destination);
        for (int j = 0; j < indices.Length; j++)
        {
            TE.Store(ref Unsafe.Add(ref target, (nint)j * TE.Size), affine.Get(indices[j], start, start + j));
        }
    }

    /// <summary>One codebook group's elements from byte-wide indices.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ExpandCodebook<TE>(ReadOnlySpan<byte> indices, ReadOnlySpan<byte> codebook, Span<byte> destination, int start)
        where TE : struct, IElementAccess
    {
        int entries = codebook.Length / TE.Size;
        int j = 0;
        if (CodebookLookup.Applies(TE.Size, entries) && indices.Length >= 2 * CodebookLookup.MaxEntries)
        {
            j = CodebookLookup.Expand(indices, codebook, entries, TE.Size, destination, CodebookLookup.Best);
        }

        ref byte target = ref MemoryMarshal.GetReference(destination);
        for (; j < indices.Length; j++)
        {
            TE.Store(ref Unsafe.Add(ref target, (nint)j * TE.Size), CodebookEntry<TE>(codebook, indices[j], start + j));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong CodebookEntry<TE>(ReadOnlySpan<byte> codebook, uint index, int element)
        where TE : struct, IElementAccess
    {
        if (index >= (uint)(codebook.Length / TE.Size))
        {
            ThrowIndex(index, element, codebook.Length / TE.Size);
        }

        return TE.Load(ref Unsafe.Add(ref MemoryMarshal.GetReference(codebook), (nint)index * TE.Size));
    }

    [DoesNotReturn]
    private static void ThrowIndex(uint index, int element, int entries) =>
        ThrowHelper.CorruptFrame($"palette index {index} at element {element} is not below the {entries} entries of its codebook");

    [DoesNotReturn]
    private static void ThrowAffine(int start, int element) =>
        ThrowHelper.CorruptFrame($"palette affine group at element {start} has no finite value at element {element}");

    private static bool Multiply(long code, ulong scale, FloatFormat format, bool wide, out ulong value) =>
        wide ? FloatBits.TryMultiplyWide(code, scale, format, out value) : FloatBits.TryMultiply(code, scale, format, out value);

    /// <summary>
    /// The products of the current affine rule (code offset and scale), each computed the first time an index uses
    /// it: an exact multiply costs tens of nanoseconds, a group of INT8 codes repeats few of its codes, and runs of
    /// groups often share one rule (per-row scales over rows longer than a group, a zigzagged step stream whose
    /// groups start at the same code), so while the rule repeats nothing is recomputed. A new rule resets only the
    /// slots the old one filled.
    /// </summary>
    private sealed class AffineProducts : IDisposable
    {
        /// <summary>Marks a slot not computed under the current rule: an all-ones pattern is a NaN at every width,
        /// and a product is always finite.</summary>
        public const ulong NotComputed = ulong.MaxValue;

        private readonly FloatFormat _format;
        private readonly bool _wide;
        private readonly int[] _filled;
        private int _filledCount;
        private bool _hasRule;
        private long _offset;
        private ulong _scale;

        public AffineProducts(FloatFormat format, bool wide, int tableSize)
        {
            _format = format;
            _wide = wide;
            Products = ArrayPool<ulong>.Shared.Rent(tableSize);
            Products.AsSpan(0, tableSize).Fill(NotComputed);
            _filled = ArrayPool<int>.Shared.Rent(tableSize);
        }

        /// <summary>Slot per index: the product under the current rule, or <see cref="NotComputed"/>.</summary>
        public ulong[] Products { get; }

        public void Use(long offset, ulong scale)
        {
            if (_hasRule && offset == _offset && scale == _scale)
            {
                return;
            }

            for (int k = 0; k < _filledCount; k++)
            {
                Products[_filled[k]] = NotComputed;
            }

            _filledCount = 0;
            _hasRule = true;
            _offset = offset;
            _scale = scale;
        }

        /// <summary>The product for <paramref name="index"/>, computed now if this rule has not used it yet.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ulong Get(uint index, int groupStart, int element)
        {
            // Indices are below 2^IndexBits, the table's size: no bounds check on the hot path.
            ulong value = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Products), index);
            return value == NotComputed ? Compute(index, groupStart, element) : value;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public ulong Compute(uint index, int groupStart, int element)
        {
            if (!Multiply(_offset + index, _scale, _format, _wide, out ulong value))
            {
                ThrowAffine(groupStart, element);
            }

            Products[index] = value;
            _filled[_filledCount++] = (int)index;
            return value;
        }

        public void Dispose()
        {
            ArrayPool<ulong>.Shared.Return(Products);
            ArrayPool<int>.Shared.Return(_filled);
        }
    }

    /// <summary>The integer code c with <c>(c * scale)</c> in F32, rounded to <paramref name="format"/>, equal to
    /// <paramref name="value"/> (<see cref="FloatBits.TryMultiplyWide"/>); the quotient's neighbours are tried too,
    /// since the narrowing can move a product by almost half a code.</summary>
    internal static bool TryCodeWide(ulong value, ulong scaleF32, FloatFormat format, out long code)
    {
        code = 0;
        if (FloatBits.IsNonFinite(value, format))
        {
            return false;
        }

        double q = FloatBits.ToDouble(value, format) / FloatBits.ToDouble(scaleF32, FloatFormat.F32);
        double rounded = Math.Round(q);
        long max = FloatBits.MaxCode(FloatFormat.F32);
        if (!(Math.Abs(rounded) <= max))
        {
            return false;
        }

        long guess = (long)rounded;
        long second = q >= rounded ? guess + 1 : guess - 1;
        foreach (long c in (ReadOnlySpan<long>)[guess, second])
        {
            if (FloatBits.TryMultiplyWide(c, scaleF32, format, out ulong product) && product == value)
            {
                code = c;
                return true;
            }
        }

        return false;
    }

    /// <summary>The integer code c with <c>c * scale == value</c> exactly as <see cref="FloatBits.TryMultiply"/> rounds.</summary>
    internal static bool TryCode(ulong value, ulong scale, FloatFormat format, out long code)
    {
        code = 0;
        if (FloatBits.IsNonFinite(value, format))
        {
            return false;
        }

        // The quotient in double is only a guess; the integer product below is the proof.
        double q = FloatBits.ToDouble(value, format) / FloatBits.ToDouble(scale, format);
        double rounded = Math.Round(q);
        long max = FloatBits.MaxCode(format);
        if (!(Math.Abs(rounded) <= max))
        {
            return false;
        }

        code = (long)rounded;
        return FloatBits.TryMultiply(code, scale, format, out ulong product) && product == value;
    }

    /// <summary>How element patterns are ordered in a codebook: by numeric value for the dtype.</summary>
    internal enum KeyKind
    {
        Unsigned,
        TwosComplement,
        SignMagnitude,
    }

    internal static KeyKind KindOf(DType dtype) =>
        Elements.IsSignMagnitudeFloat(dtype) ? KeyKind.SignMagnitude
        : Elements.IsSignedInteger(dtype) ? KeyKind.TwosComplement
        : KeyKind.Unsigned;

    /// <summary>A key whose unsigned order is the numeric order of the element (negative floats reversed).</summary>
    internal static ulong ToKey(ulong value, int bits, KeyKind kind)
    {
        ulong sign = 1UL << (bits - 1);
        return kind switch
        {
            KeyKind.TwosComplement => value ^ sign,
            KeyKind.SignMagnitude => (value & sign) != 0 ? ~value & Elements.LowMask(bits) : value | sign,
            _ => value,
        };
    }

    /// <summary>The inverse of <see cref="ToKey"/>.</summary>
    internal static ulong FromKey(ulong key, int bits, KeyKind kind)
    {
        ulong sign = 1UL << (bits - 1);
        return kind switch
        {
            KeyKind.TwosComplement => key ^ sign,
            KeyKind.SignMagnitude => (key & sign) != 0 ? key ^ sign : ~key & Elements.LowMask(bits),
            _ => key,
        };
    }

    /// <summary>Walks the group table, validating each descriptor against the group and the codebook.</summary>
    private ref struct GroupWalker
    {
        private readonly int _totalEntries;
        private readonly bool _affineAllowed;
        private readonly long _maxCode;
        private readonly int _affineEntries;
        private SpanReader _table;
        private int _used;

        public GroupWalker(ReadOnlySpan<byte> table, in PaletteParameters p)
        {
            _table = new SpanReader(table);
            _totalEntries = p.CodebookEntries;
            FloatFormat? format = FloatFormat.Of(p.DType);
            _affineAllowed = format is not null && p.DType != DType.C64;
            Wide = p.Layout == PaletteLayout.GroupedWide;
            _maxCode = format is { } f ? FloatBits.MaxCode(Wide ? FloatFormat.F32 : f) : 0;
            _affineEntries = Wide ? WideScaleEntries : 1;
        }

        /// <summary>True when affine scales are F32 (<see cref="PaletteLayout.GroupedWide"/>).</summary>
        public bool Wide { get; }

        public bool Affine { get; private set; }

        public int Entries { get; private set; }

        public int Offset { get; private set; }

        public long C0 { get; private set; }

        public void Next(int groupLength)
        {
            int at = _table.Position;
            ulong descriptor = _table.ReadVarUInt64();
            if ((descriptor & 1) == 0)
            {
                ulong entries = (descriptor >> 1) + 1;
                if (entries > (ulong)groupLength)
                {
                    ThrowHelper.CorruptFrame($"palette group has {entries} entries for {groupLength} elements", at);
                }

                Affine = false;
                Entries = (int)entries;
            }
            else
            {
                ulong zigzag = descriptor >> 1;
                long c0 = (long)(zigzag >> 1) ^ -(long)(zigzag & 1);
                if (!_affineAllowed || c0 < -_maxCode || c0 > _maxCode)
                {
                    ThrowHelper.CorruptFrame($"palette affine group with code offset {c0} is not allowed here", at);
                }

                Affine = true;
                Entries = _affineEntries;
                C0 = c0;
            }

            if (Entries > _totalEntries - _used)
            {
                ThrowHelper.CorruptFrame($"palette groups need more than the {_totalEntries} codebook entries", at);
            }

            Offset = _used;
            _used += Entries;
        }

        /// <summary>The current affine group's scale: its entry, or the F32 its two entries hold.</summary>
        public readonly ulong Scale<TE>(ReadOnlySpan<byte> codebook)
            where TE : struct, IElementAccess =>
            Wide ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(codebook.Slice(Offset * TE.Size, 4)) : Elements.Get<TE>(codebook, Offset);

        public readonly void Finish()
        {
            if (_table.Remaining != 0 || _used != _totalEntries)
            {
                ThrowHelper.CorruptFrame(
                    $"palette group table leaves {_table.Remaining} bytes and {_totalEntries - _used} codebook entries unused");
            }
        }
    }

    /// <summary>Collects indices in blocks and packs each full block at its byte offset.</summary>
    private ref struct IndexPacker
    {
        private readonly Span<byte> _destination;
        private readonly int _bits;
        private readonly Span<uint> _block;
        private int _filled;
        private long _packed;

        public IndexPacker(Span<byte> destination, int bits, Span<uint> block)
        {
            _destination = destination;
            _bits = bits;
            _block = block;
        }

        public void Add(uint index)
        {
            _block[_filled++] = index;
            if (_filled == _block.Length)
            {
                Flush();
            }
        }

        public void Finish() => Flush();

        private void Flush()
        {
            BitPacking.Pack(_block[.._filled], _bits, _destination[(int)(_packed * _bits / 8)..]);
            _packed += _filled;
            _filled = 0;
        }
    }

    /// <summary>Unpacks indices block by block.</summary>
    private ref struct IndexUnpacker
    {
        private readonly ReadOnlySpan<byte> _source;
        private readonly int _bits;
        private readonly int _count;
        private readonly Span<uint> _block;
        private int _next;
        private int _available;
        private long _consumed;

        public IndexUnpacker(ReadOnlySpan<byte> source, int bits, int count, Span<uint> block)
        {
            _source = source;
            _bits = bits;
            _count = count;
            _block = block;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public uint Next()
        {
            // Byte-wide indices (INT8 codes, most grouped palettes) need no unpacking at all.
            if (_bits == 8)
            {
                return _source[(int)_consumed++];
            }

            if (_next == _available)
            {
                Refill();
            }

            return _block[_next++];
        }

        /// <summary>The next <paramref name="count"/> indices in place; only for byte-wide indices.</summary>
        public ReadOnlySpan<byte> TakeBytes(int count)
        {
            Debug.Assert(_bits == 8, "only byte-wide indices are stored one per byte");
            ReadOnlySpan<byte> taken = _source.Slice((int)_consumed, count);
            _consumed += count;
            return taken;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private void Refill()
        {
            int n = (int)Math.Min(_block.Length, _count - _consumed);
            BitPacking.Unpack(_source[(int)(_consumed * _bits / 8)..], _bits, _block[..n]);
            _consumed += n;
            _available = n;
            _next = 0;
        }
    }
}

/// <summary>An encoder's palette decision: the parameters plus the codebook and group table it computed.</summary>
internal sealed class PalettePlan
{
    private readonly byte[] _codebook;
    private readonly byte[] _groupTable;

    internal PalettePlan(PaletteParameters parameters, byte[] codebook, byte[] groupTable)
    {
        Parameters = parameters;
        _codebook = codebook;
        _groupTable = groupTable;
    }

    /// <summary>What the frame's parameter block records.</summary>
    public PaletteParameters Parameters { get; }

    /// <summary>The codebook stream (<see cref="PaletteParameters.CodebookLength"/> bytes).</summary>
    public ReadOnlySpan<byte> Codebook => _codebook;

    /// <summary>The group table stream (<see cref="PaletteParameters.GroupTableLength"/> bytes; empty for a global palette).</summary>
    public ReadOnlySpan<byte> GroupTable => _groupTable;

    /// <summary>The exact size of <see cref="Palette.Encode"/>'s output.</summary>
    public int EstimatedSize => (int)Parameters.EstimatedSize;
}
