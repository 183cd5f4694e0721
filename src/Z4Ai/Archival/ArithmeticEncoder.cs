using System.Runtime.CompilerServices;

namespace Z4Ai.Archival;

/// <summary>
/// Binary arithmetic encoder over a 32-bit interval [low, high], carry-less: a byte is emitted as soon as the
/// top bytes of both bounds agree, so no carry can ever reach bytes already written. Probabilities are 12-bit
/// chances that the bit is 1, clamped by the caller to 1..4095.
/// </summary>
internal sealed class ArithmeticEncoder
{
    private byte[] _buffer;
    private int _length;
    private uint _low;
    private uint _high = uint.MaxValue;

    /// <summary>Creates an encoder whose buffer starts at <paramref name="capacity"/> bytes.</summary>
    public ArithmeticEncoder(int capacity) => _buffer = new byte[Math.Max(16, capacity)];

    /// <summary>The bytes written so far (complete only after <see cref="Flush"/>).</summary>
    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    /// <summary>The underlying buffer; the first <see cref="Length"/> bytes are the output.</summary>
    public byte[] Buffer => _buffer;

    /// <summary>The number of bytes written so far.</summary>
    public int Length => _length;

    /// <summary>Codes <paramref name="bit"/> with probability <paramref name="p1"/>/4096 that it is 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Encode(int bit, int p1)
    {
        uint mid = _low + (uint)(((ulong)(_high - _low) * (uint)p1) >> 12);
        if (bit != 0)
        {
            _high = mid;
        }
        else
        {
            _low = mid + 1;
        }

        while (((_low ^ _high) & 0xFF000000u) == 0)
        {
            Put((byte)(_high >> 24));
            _low <<= 8;
            _high = (_high << 8) | 255;
        }
    }

    /// <summary>
    /// Writes the final byte: the decoder pads with 0xFF, and the low bound's top byte followed by 0xFF... lies
    /// inside the interval because the two bounds differ in their top byte.
    /// </summary>
    public void Flush() => Put((byte)(_low >> 24));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Put(byte value)
    {
        if (_length == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        _buffer[_length++] = value;
    }
}
