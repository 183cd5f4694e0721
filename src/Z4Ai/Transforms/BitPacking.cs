using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Z4Ai.Transforms;

/// <summary>
/// Packs unsigned values of a fixed width k (0..64 bits) into a little-endian bit stream and back.
/// </summary>
/// <remarks>
/// <para>Layout: value i occupies stream bits <c>[i*k, (i+1)*k)</c>, least significant bit first, where stream bit j
/// is bit <c>j % 8</c> of byte <c>j / 8</c>. The stream is <c>ceil(count*k/8)</c> bytes and the unused high bits of
/// the last byte are zero. A block of a multiple of 8 values therefore packs to a whole number of bytes, so callers
/// may pack a long sequence block by block into consecutive slices.</para>
/// <para><see cref="PackScalar"/> and <see cref="UnpackScalar"/> move one bit at a time: they are the oracle the
/// word-at-a-time paths are tested against, and the baseline for benchmarks.</para>
/// </remarks>
internal static class BitPacking
{
    /// <summary>The widest value <see cref="Pack64"/> handles.</summary>
    public const int MaxBits = 64;

    /// <summary>The byte length of <paramref name="count"/> values of <paramref name="bits"/> bits each.</summary>
    public static long GetPackedLength(long count, int bits)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(bits);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bits, MaxBits);

        // count is at most int.MaxValue in practice; the product of two such bounds cannot overflow a long.
        return checked((count * bits) + 7) >> 3;
    }

    /// <summary>The number of bits needed to write <paramref name="value"/> (0 for 0).</summary>
    public static int BitsFor(ulong value) => 64 - BitOperations.LeadingZeroCount(value);

    /// <summary>Packs values of at most 32 bits.</summary>
    /// <exception cref="ArgumentException">A value does not fit in <paramref name="bits"/> bits, or the destination is too short.</exception>
    public static void Pack(ReadOnlySpan<uint> values, int bits, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bits);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bits, 32);
        int length = CheckLength(values.Length, bits, destination.Length, nameof(destination));
        ulong excess = 0;
        switch (bits)
        {
            case 0:
                foreach (uint v in values)
                {
                    excess |= v;
                }

                break;
            case 8:
                for (int i = 0; i < values.Length; i++)
                {
                    uint v = values[i];
                    excess |= v >> 8;
                    destination[i] = (byte)v;
                }

                break;
            case 16:
                for (int i = 0; i < values.Length; i++)
                {
                    uint v = values[i];
                    excess |= v >> 16;
                    BinaryPrimitives.WriteUInt16LittleEndian(destination[(i * 2)..], (ushort)v);
                }

                break;
            case 32:
                for (int i = 0; i < values.Length; i++)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(destination[(i * 4)..], values[i]);
                }

                break;
            default:
                excess = PackWords(values, bits, destination[..length]);
                break;
        }

        if (excess != 0)
        {
            ThrowValueTooWide(bits);
        }
    }

    /// <summary>Unpacks values of at most 32 bits; fills all of <paramref name="values"/>.</summary>
    /// <exception cref="ArgumentException">The source is shorter than the packed length.</exception>
    public static void Unpack(ReadOnlySpan<byte> source, int bits, Span<uint> values)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bits);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bits, 32);
        int length = CheckLength(values.Length, bits, source.Length, nameof(source));
        switch (bits)
        {
            case 0:
                values.Clear();
                break;
            case 8:
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = source[i];
                }

                break;
            case 16:
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = BinaryPrimitives.ReadUInt16LittleEndian(source[(i * 2)..]);
                }

                break;
            case 32:
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = BinaryPrimitives.ReadUInt32LittleEndian(source[(i * 4)..]);
                }

                break;
            default:
                UnpackWords(source[..length], bits, values);
                break;
        }
    }

    /// <summary>Packs values of at most 64 bits.</summary>
    /// <exception cref="ArgumentException">A value does not fit in <paramref name="bits"/> bits, or the destination is too short.</exception>
    public static void Pack64(ReadOnlySpan<ulong> values, int bits, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bits);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bits, MaxBits);
        int length = CheckLength(values.Length, bits, destination.Length, nameof(destination));
        var writer = new BitWriter(destination[..length]);
        ulong excess = 0;
        if (bits <= 32)
        {
            foreach (ulong v in values)
            {
                excess |= v >> bits;
                writer.Write((uint)v, bits);
            }
        }
        else
        {
            // A wide value goes in as two fields: the low 32 bits, then the rest.
            foreach (ulong v in values)
            {
                excess |= bits == 64 ? 0 : v >> bits;
                writer.Write((uint)v, 32);
                writer.Write((uint)(v >> 32), bits - 32);
            }
        }

        writer.Flush();
        if (excess != 0)
        {
            ThrowValueTooWide(bits);
        }
    }

    /// <summary>Unpacks values of at most 64 bits; fills all of <paramref name="values"/>.</summary>
    /// <exception cref="ArgumentException">The source is shorter than the packed length.</exception>
    public static void Unpack64(ReadOnlySpan<byte> source, int bits, Span<ulong> values)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bits);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bits, MaxBits);
        int length = CheckLength(values.Length, bits, source.Length, nameof(source));
        source = source[..length];
        long position = 0;
        if (bits <= 32)
        {
            for (int i = 0; i < values.Length; i++, position += bits)
            {
                values[i] = Read32(source, position, bits);
            }
        }
        else
        {
            for (int i = 0; i < values.Length; i++, position += bits)
            {
                values[i] = Read32(source, position, 32) | ((ulong)Read32(source, position + 32, bits - 32) << 32);
            }
        }
    }

    /// <summary>True when the bits after the last value in the last byte are all zero, as a packer leaves them.</summary>
    public static bool HasZeroPadding(ReadOnlySpan<byte> packed, long count, int bits)
    {
        long totalBits = count * bits;
        int used = (int)(totalBits & 7);
        if (used == 0)
        {
            return true;
        }

        long last = totalBits >> 3;
        return last < packed.Length && (packed[(int)last] >> used) == 0;
    }

    /// <summary>The oracle: packs one bit at a time.</summary>
    internal static void PackScalar(ReadOnlySpan<ulong> values, int bits, Span<byte> destination)
    {
        int length = CheckLength(values.Length, bits, destination.Length, nameof(destination));
        destination[..length].Clear();
        long position = 0;
        foreach (ulong v in values)
        {
            if (bits < 64 && (v >> bits) != 0)
            {
                ThrowValueTooWide(bits);
            }

            for (int b = 0; b < bits; b++, position++)
            {
                if (((v >> b) & 1) != 0)
                {
                    destination[(int)(position >> 3)] |= (byte)(1 << (int)(position & 7));
                }
            }
        }
    }

    /// <summary>The oracle: unpacks one bit at a time.</summary>
    internal static void UnpackScalar(ReadOnlySpan<byte> source, int bits, Span<ulong> values)
    {
        CheckLength(values.Length, bits, source.Length, nameof(source));
        long position = 0;
        for (int i = 0; i < values.Length; i++)
        {
            ulong v = 0;
            for (int b = 0; b < bits; b++, position++)
            {
                v |= (ulong)((source[(int)(position >> 3)] >> (int)(position & 7)) & 1) << b;
            }

            values[i] = v;
        }
    }

    // Appends each value to a 64-bit accumulator and stores 32 bits whenever 32 are ready. Eight values of k bits
    // fill exactly k bytes, so the loop is unrolled by eight to give the JIT straight-line code.
    private static ulong PackWords(ReadOnlySpan<uint> values, int bits, Span<byte> destination)
    {
        var writer = new BitWriter(destination);
        ulong excess = 0;
        int i = 0;
        ref uint v = ref MemoryMarshal.GetReference(values);
        for (; i + 8 <= values.Length; i += 8)
        {
            uint v0 = Unsafe.Add(ref v, i), v1 = Unsafe.Add(ref v, i + 1), v2 = Unsafe.Add(ref v, i + 2), v3 = Unsafe.Add(ref v, i + 3);
            uint v4 = Unsafe.Add(ref v, i + 4), v5 = Unsafe.Add(ref v, i + 5), v6 = Unsafe.Add(ref v, i + 6), v7 = Unsafe.Add(ref v, i + 7);
            excess |= (ulong)(v0 | v1 | v2 | v3 | v4 | v5 | v6 | v7) >> bits;
            writer.Write(v0, bits);
            writer.Write(v1, bits);
            writer.Write(v2, bits);
            writer.Write(v3, bits);
            writer.Write(v4, bits);
            writer.Write(v5, bits);
            writer.Write(v6, bits);
            writer.Write(v7, bits);
        }

        for (; i < values.Length; i++)
        {
            uint x = Unsafe.Add(ref v, i);
            excess |= (ulong)x >> bits;
            writer.Write(x, bits);
        }

        writer.Flush();
        return excess;
    }

    // Reads each value from an unaligned 64-bit window that starts at the byte holding its first bit; with k <= 32
    // and a start offset <= 7 the value always lies inside the window. Windows that would run past the end fall
    // back to a byte-wise read.
    private static void UnpackWords(ReadOnlySpan<byte> source, int bits, Span<uint> values)
    {
        ulong mask = LowMask(bits);
        ref byte src = ref MemoryMarshal.GetReference(source);
        ref uint dst = ref MemoryMarshal.GetReference(values);
        int count = values.Length;

        // Values whose 8-byte window fits: (i*bits)/8 + 8 <= length.
        long fast = source.Length >= 8 ? Math.Min(count, ((((long)source.Length - 8) * 8) / bits) + 1) : 0;
        int i = 0;
        long position = 0;
        for (; i + 8 <= fast; i += 8)
        {
            for (int j = 0; j < 8; j++)
            {
                ulong w = ReadUInt64(ref Unsafe.Add(ref src, (nint)(position >> 3)));
                Unsafe.Add(ref dst, i + j) = (uint)((w >> (int)(position & 7)) & mask);
                position += bits;
            }
        }

        for (; i < count; i++)
        {
            Unsafe.Add(ref dst, i) = ReadField(source, position, bits);
            position += bits;
        }
    }

    // Reads a field of at most 32 bits at any bit position: from one unaligned 64-bit window when it fits, else
    // byte by byte, never past the end.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Read32(ReadOnlySpan<byte> source, long position, int bits)
    {
        long first = position >> 3;
        if (first + 8 <= source.Length)
        {
            ulong w = ReadUInt64(ref Unsafe.Add(ref MemoryMarshal.GetReference(source), (nint)first));
            return (uint)((w >> (int)(position & 7)) & LowMask(bits));
        }

        return ReadField(source, position, bits);
    }

    private static uint ReadField(ReadOnlySpan<byte> source, long position, int bits)
    {
        if (bits == 0)
        {
            return 0;
        }

        int first = (int)(position >> 3);
        int last = (int)((position + bits - 1) >> 3);
        ulong w = 0;
        for (int b = first; b <= last; b++)
        {
            w |= (ulong)source[b] << ((b - first) * 8);
        }

        return (uint)((w >> (int)(position & 7)) & LowMask(bits));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ReadUInt64(ref byte source)
    {
        ulong w = Unsafe.ReadUnaligned<ulong>(ref source);
        return BitConverter.IsLittleEndian ? w : BinaryPrimitives.ReverseEndianness(w);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint LowMask(int bits) => bits >= 32 ? uint.MaxValue : (1u << bits) - 1;

    private static int CheckLength(int count, int bits, int available, string name)
    {
        long length = GetPackedLength(count, bits);
        if (length > available)
        {
            throw new ArgumentException($"{count} values of {bits} bits need {length} bytes, {available} given", name);
        }

        return (int)length;
    }

    [DoesNotReturn]
    private static void ThrowValueTooWide(int bits) =>
        throw new ArgumentException($"a value to pack does not fit in {bits} bits");

    /// <summary>A 64-bit accumulator that stores whole 32-bit words; writes exactly the packed length.</summary>
    private ref struct BitWriter
    {
        private readonly Span<byte> _destination;
        private ulong _accumulator;
        private int _filled;
        private int _offset;

        public BitWriter(Span<byte> destination)
        {
            _destination = destination;
        }

        // bits <= 32 and the value has no bits above them (callers mask or check). _filled < 32 on entry, so the
        // shifted value fits below bit 64; a store happens only for 32 bits already accounted for, so the four
        // bytes always lie inside the exact packed length.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Write(uint value, int bits)
        {
            _accumulator |= (ulong)value << _filled;
            _filled += bits;
            if (_filled >= 32)
            {
                uint word = (uint)_accumulator;
                Unsafe.WriteUnaligned(
                    ref Unsafe.Add(ref MemoryMarshal.GetReference(_destination), _offset),
                    BitConverter.IsLittleEndian ? word : BinaryPrimitives.ReverseEndianness(word));
                _offset += 4;
                _accumulator >>= 32;
                _filled -= 32;
            }
        }

        public void Flush()
        {
            while (_filled > 0)
            {
                _destination[_offset++] = (byte)_accumulator;
                _accumulator >>= 8;
                _filled -= 8;
            }
        }
    }
}
