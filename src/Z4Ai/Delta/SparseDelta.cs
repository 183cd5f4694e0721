using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Z4Ai.Internal;

namespace Z4Ai.Delta;

/// <summary>
/// The Sparse chunk mode: only the elements that changed, as gaps between their positions and their steps, coded
/// with adaptive binary models (docs/delta-format.md, section 1.5). Costs close to the information in a sparse
/// change, and decodes in time proportional to the changes after one copy of the reference.
/// </summary>
/// <remarks>
/// <para>
/// Payload: <c>varint K</c> (the number of changed elements, 1 to the element count), then one range-coded stream
/// holding, for each change in position order, the gap (unchanged elements since the previous change, plus one) and
/// the step <c>zigzag(map(current) - map(reference))</c> over the dtype's lanes (the Subtract mode's transform,
/// never zero for a changed element). Both are coded by <see cref="RangeEncoder.EncodeNumber"/>: the gap's bit length
/// in the context of the previous gap's bit length, the step's bit length in the context of eight bits of the
/// reference element below its sign (the exponent for BF16 and F32).
/// </para>
/// <para>
/// Decoding copies the reference chunk and patches the K elements; every position and step is validated as it is
/// decoded, and a stream that ends early or leaves bytes unread is rejected, so damaged input raises
/// <see cref="Z4AiFormatException"/> after bounded work.
/// </para>
/// </remarks>
internal static class SparseDelta
{
    private const int GapTreeBits = 5;
    private const int GapContexts = 33;
    private const int MaxGapLength = 32;
    private const int ValueContexts = 256;

    /// <summary>Whether a chunk of <paramref name="length"/> bytes with these lanes can be stored sparse.</summary>
    public static bool Supports(int laneSize, int length) => laneSize is 1 or 2 or 4 or 8 && length % laneSize == 0;

    /// <summary>Counts the elements of <paramref name="chunk"/> that differ from <paramref name="basis"/>.</summary>
    public static int CountChanges(ReadOnlySpan<byte> chunk, ReadOnlySpan<byte> basis, int laneSize)
    {
        int count = 0;
        int at = 0;
        while (at < chunk.Length)
        {
            int same = chunk[at..].CommonPrefixLength(basis[at..]);
            at += same;
            if (at >= chunk.Length)
            {
                break;
            }

            count++;
            at = ((at / laneSize) + 1) * laneSize;
        }

        return count;
    }

    /// <summary>
    /// Encodes the payload into <paramref name="destination"/>; returns its length, or -1 if it does not fit (the
    /// caller passes the size it has to beat).
    /// </summary>
    public static int Encode(ReadOnlySpan<byte> chunk, ReadOnlySpan<byte> basis, int laneSize, bool ordered, int changes, Span<byte> destination)
    {
        if (destination.Length < VarInt.MaxLength)
        {
            return -1;
        }

        int header = VarInt.Write(destination, (ulong)changes);
        var lanes = new Lanes(laneSize, ordered);
        ushort[] rented = RentModels(lanes, out Models models);
        try
        {
            var encoder = new RangeEncoder(destination[header..]);
            int previous = -1;
            int gapContext = 0;
            int at = 0;
            for (int k = 0; k < changes; k++)
            {
                at += chunk[at..].CommonPrefixLength(basis[at..]);
                int element = at / laneSize;
                ulong gap = (ulong)(element - previous);
                encoder.EncodeNumber(gap, models.GapTree(gapContext), GapTreeBits, models.GapLow);
                gapContext = 64 - System.Numerics.BitOperations.LeadingZeroCount(gap);
                previous = element;

                int offset = element * laneSize;
                ulong reference = lanes.Read(basis, offset);
                ulong step = lanes.Step(lanes.Read(chunk, offset), reference);
                encoder.EncodeNumber(step, models.ValueTree(lanes.Context(reference)), lanes.TreeBits, models.ValueLow);
                at = offset + laneSize;
                if (encoder.Overflow)
                {
                    return -1;
                }
            }

            encoder.Flush();
            return encoder.Overflow ? -1 : header + encoder.Length;
        }
        finally
        {
            ArrayPool<ushort>.Shared.Return(rented);
        }
    }

    /// <summary>Reads the change count at the start of a payload, checking it against the chunk's element count.</summary>
    public static int ReadCount(ReadOnlySpan<byte> payload, int elements, int chunkIndex, long offset)
    {
        var reader = new SpanReader(payload);
        ulong count = reader.ReadVarUInt64();
        if (count == 0 || count > (ulong)elements)
        {
            ThrowHelper.CorruptFrame($"sparse chunk {chunkIndex} declares {count} changed elements, expected 1 to {elements}", offset);
        }

        return (int)count;
    }

    /// <summary>
    /// Patches <paramref name="target"/>, which holds the reference chunk, with the changes in
    /// <paramref name="payload"/>.
    /// </summary>
    public static void Decode(ReadOnlySpan<byte> payload, Span<byte> target, int laneSize, bool ordered, int chunkIndex)
    {
        int elements = target.Length / laneSize;
        int changes = ReadCount(payload, elements, chunkIndex, 0);
        int header = VarInt.Write(stackalloc byte[VarInt.MaxLength], (ulong)changes);
        var lanes = new Lanes(laneSize, ordered);
        ushort[] rented = RentModels(lanes, out Models models);
        try
        {
            var decoder = new RangeDecoder(payload[header..]);
            long element = -1;
            int gapContext = 0;
            for (int k = 0; k < changes; k++)
            {
                ulong gap = decoder.DecodeNumber(models.GapTree(gapContext), GapTreeBits, models.GapLow, MaxGapLength);
                element += (long)gap;
                if (gap == 0 || element >= elements)
                {
                    ThrowHelper.CorruptFrame($"sparse chunk {chunkIndex}: change {k} of {changes} lies outside the chunk's {elements} elements");
                }

                gapContext = 64 - System.Numerics.BitOperations.LeadingZeroCount(gap);
                int offset = (int)element * laneSize;
                ulong reference = lanes.Read(target, offset);
                ulong step = decoder.DecodeNumber(models.ValueTree(lanes.Context(reference)), lanes.TreeBits, models.ValueLow, lanes.BitCount);
                if (step == 0)
                {
                    ThrowHelper.CorruptFrame($"sparse chunk {chunkIndex}: change {k} of {changes} has a step wider than {lanes.BitCount} bits");
                }

                lanes.Write(target, offset, lanes.Apply(reference, step));
            }

            if (decoder.Position != payload.Length - header)
            {
                ThrowHelper.CorruptFrame(
                    $"sparse chunk {chunkIndex}: the coded changes take {decoder.Position} bytes but the payload holds {payload.Length - header}");
            }
        }
        finally
        {
            ArrayPool<ushort>.Shared.Return(rented);
        }
    }

    private static ushort[] RentModels(in Lanes lanes, out Models models)
    {
        int gapTree = GapContexts << GapTreeBits;
        int gapLow = (MaxGapLength + 1) * 4;
        int valueTree = ValueContexts << lanes.TreeBits;
        int valueLow = (lanes.BitCount + 1) * 4;
        int total = gapTree + gapLow + valueTree + valueLow;
        ushort[] rented = ArrayPool<ushort>.Shared.Rent(total);
        rented.AsSpan(0, total).Fill(BinaryModel.Half);
        models = new Models(rented, gapTree, gapLow, valueTree, valueLow, lanes.TreeBits);
        return rented;
    }

    /// <summary>The model arrays, carved out of one rented buffer.</summary>
    private readonly struct Models
    {
        private readonly ushort[] _all;
        private readonly int _gapLow;
        private readonly int _valueTree;
        private readonly int _valueLow;
        private readonly int _valueLowLength;
        private readonly int _treeBits;

        public Models(ushort[] all, int gapTree, int gapLow, int valueTree, int valueLow, int treeBits)
        {
            _all = all;
            _gapLow = gapTree;
            _valueTree = gapTree + gapLow;
            _valueLow = _valueTree + valueTree;
            _valueLowLength = valueLow;
            _treeBits = treeBits;
        }

        public Span<ushort> GapLow => _all.AsSpan(_gapLow, (MaxGapLength + 1) * 4);

        public Span<ushort> ValueLow => _all.AsSpan(_valueLow, _valueLowLength);

        public Span<ushort> GapTree(int context) => _all.AsSpan(context << GapTreeBits, 1 << GapTreeBits);

        public Span<ushort> ValueTree(int context) => _all.AsSpan(_valueTree + (context << _treeBits), 1 << _treeBits);
    }

    /// <summary>Lane arithmetic on values held in a <see cref="ulong"/>, for any of the lane widths.</summary>
    internal readonly struct Lanes
    {
        private readonly ulong _mask;
        private readonly ulong _sign;
        private readonly bool _ordered;

        public Lanes(int laneSize, bool ordered)
        {
            Size = laneSize;
            BitCount = laneSize * 8;
            _mask = BitCount == 64 ? ulong.MaxValue : (1UL << BitCount) - 1;
            _sign = 1UL << (BitCount - 1);
            _ordered = ordered;
            // Depth of the tree over bit lengths 1..BitCount: 4 for 8-bit lanes, 5, 6, 7 for 16, 32, 64.
            TreeBits = System.Numerics.BitOperations.Log2((uint)BitCount) + 1;
        }

        public int Size { get; }

        public int BitCount { get; }

        public int TreeBits { get; }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ulong Read(ReadOnlySpan<byte> span, int offset) => Size switch
        {
            1 => span[offset],
            2 => BinaryPrimitives.ReadUInt16LittleEndian(span[offset..]),
            4 => BinaryPrimitives.ReadUInt32LittleEndian(span[offset..]),
            _ => BinaryPrimitives.ReadUInt64LittleEndian(span[offset..]),
        };

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Write(Span<byte> span, int offset, ulong value)
        {
            switch (Size)
            {
                case 1:
                    span[offset] = (byte)value;
                    break;
                case 2:
                    BinaryPrimitives.WriteUInt16LittleEndian(span[offset..], (ushort)value);
                    break;
                case 4:
                    BinaryPrimitives.WriteUInt32LittleEndian(span[offset..], (uint)value);
                    break;
                default:
                    BinaryPrimitives.WriteUInt64LittleEndian(span[offset..], value);
                    break;
            }
        }

        /// <summary>Eight bits of the reference below its sign: the exponent of BF16 and F32 (four bits for 8-bit lanes).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Context(ulong reference) =>
            BitCount >= 16 ? (int)((reference >> (BitCount - 9)) & 0xFF) : (int)((reference >> 3) & 0xF);

        /// <summary><c>zigzag(map(current) - map(reference))</c> modulo 2^bits; at least 1 when the two differ.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ulong Step(ulong current, ulong reference)
        {
            ulong d = (Map(current) - Map(reference)) & _mask;
            ulong negative = (d & _sign) != 0 ? _mask : 0;
            return ((d << 1) ^ negative) & _mask;
        }

        /// <summary>The inverse of <see cref="Step"/>: the current value from the reference and the step.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ulong Apply(ulong reference, ulong step)
        {
            ulong d = ((step >> 1) ^ (0UL - (step & 1))) & _mask;
            return Unmap((Map(reference) + d) & _mask);
        }

        // Branch-free: the sign of a changed weight is as unpredictable as a coin. Negative values flip every bit,
        // others only the sign bit; the inverse reads the sign bit of the mapped value the other way round.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private ulong Map(ulong x) => !_ordered ? x : x ^ (((0UL - ((x >> (BitCount - 1)) & 1)) & _mask) | _sign);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private ulong Unmap(ulong m) => !_ordered ? m : m ^ (((((m >> (BitCount - 1)) & 1) - 1) & _mask) | _sign);
    }
}
