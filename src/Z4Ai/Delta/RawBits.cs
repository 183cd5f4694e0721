using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Z4Ai.Delta;

/// <summary>
/// Writes bit fields least significant bit first into a fixed span (the raw-bits streams of the SparseBlock mode,
/// docs/delta-format.md, section 1.6). The span needs 8 bytes of room beyond the last byte written, since whole
/// words are stored at a time.
/// </summary>
internal ref struct RawBitWriter
{
    private readonly Span<byte> _destination;
    private int _position;
    private ulong _pending;
    private int _pendingBits;

    public RawBitWriter(Span<byte> destination)
    {
        _destination = destination;
        _position = 0;
        _pending = 0;
        _pendingBits = 0;
    }

    /// <summary>The bytes the stream takes once finished (a partial last byte counts whole).</summary>
    public readonly int Length => _position + ((_pendingBits + 7) >> 3);

    /// <summary>The most bytes <paramref name="bits"/> bits need, with the room the writer stores beyond them.</summary>
    public static int Capacity(long bits) => checked((int)((bits + 7) >> 3) + 8);

    /// <summary>Appends the low <paramref name="bits"/> (0 to 64) bits of <paramref name="value"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(ulong value, int bits)
    {
        if (bits > 56)
        {
            Put(value & uint.MaxValue, 32);
            Put(value >> 32, bits - 32);
        }
        else
        {
            Put(value, bits);
        }
    }

    /// <summary>Returns the finished stream (the pending bits padded with zeros to a whole byte).</summary>
    public readonly ReadOnlySpan<byte> Finish()
    {
        if (_pendingBits > 0)
        {
            _destination[_position] = (byte)_pending;
        }

        return _destination[..Length];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Put(ulong value, int bits)
    {
        if (bits == 0)
        {
            return;
        }

        ulong mask = bits == 64 ? ulong.MaxValue : (1UL << bits) - 1;
        _pending |= (value & mask) << _pendingBits;
        _pendingBits += bits;
        BinaryPrimitives.WriteUInt64LittleEndian(_destination[_position..], _pending);
        int whole = _pendingBits >> 3;
        _position += whole;
        _pending = whole == 8 ? 0 : _pending >> (whole << 3);
        _pendingBits &= 7;
    }
}

/// <summary>
/// Reads the bit fields <see cref="RawBitWriter"/> wrote. Reading past the end yields zero bits; <see cref="EndsExactly"/>
/// then reports false, so the caller rejects a damaged stream after bounded work instead of faulting in the loop.
/// </summary>
internal ref struct RawBitReader
{
    private readonly ReadOnlySpan<byte> _source;
    private long _bit;

    public RawBitReader(ReadOnlySpan<byte> source)
    {
        _source = source;
        _bit = 0;
    }

    /// <summary>Bits consumed so far.</summary>
    public readonly long BitPosition => _bit;

    /// <summary>
    /// True when the reads consumed every byte of the stream, ending inside its last byte, and the bits of that byte
    /// beyond the last read are zero: the writer's padding.
    /// </summary>
    public readonly bool EndsExactly
    {
        get
        {
            if (((_bit + 7) >> 3) != _source.Length)
            {
                return false;
            }

            int used = (int)(_bit & 7);
            return used == 0 || (_source[^1] >> used) == 0;
        }
    }

    /// <summary>Reads <paramref name="bits"/> (0 to 64) bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Read(int bits)
    {
        if (bits > 56)
        {
            ulong low = Take(32);
            return low | (Take(bits - 32) << 32);
        }

        return Take(bits);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Take(int bits)
    {
        long at = _bit >> 3;
        ulong word;
        if (at + 8 <= _source.Length)
        {
            word = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref MemoryMarshal.GetReference(_source), (nint)at));
            if (!BitConverter.IsLittleEndian)
            {
                word = BinaryPrimitives.ReverseEndianness(word);
            }
        }
        else
        {
            word = Tail(at);
        }

        ulong value = (word >> (int)(_bit & 7)) & ((1UL << bits) - 1);
        _bit += bits;
        return value;
    }

    /// <summary>The little-endian word at byte <paramref name="at"/>, with zeros past the end.</summary>
    private readonly ulong Tail(long at)
    {
        ulong word = 0;
        for (int i = 0; i < 8 && at + i < _source.Length; i++)
        {
            word |= (ulong)_source[(int)(at + i)] << (8 * i);
        }

        return word;
    }
}
