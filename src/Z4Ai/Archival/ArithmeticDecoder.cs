using System.Runtime.CompilerServices;

namespace Z4Ai.Archival;

/// <summary>
/// The decoder matching <see cref="ArithmeticEncoder"/>. Reads past the end of the payload yield 0xFF, as the
/// encoder's one-byte flush assumes; a payload that needs more than three such bytes was not written by the
/// encoder, and <see cref="Overrun"/> reports it so the caller can reject the frame.
/// </summary>
internal ref struct ArithmeticDecoder
{
    private readonly ReadOnlySpan<byte> _payload;
    private int _position;
    private uint _low;
    private uint _high;
    private uint _x;

    public ArithmeticDecoder(ReadOnlySpan<byte> payload)
    {
        _payload = payload;
        _position = 0;
        _low = 0;
        _high = uint.MaxValue;
        _x = 0;
        for (int i = 0; i < 4; i++)
        {
            _x = (_x << 8) | Next();
        }
    }

    /// <summary>True when more padding was consumed than any valid payload needs.</summary>
    public readonly bool Overrun => _position > _payload.Length + 3;

    /// <summary>
    /// True when the payload was consumed exactly as the encoder wrote it: the encoder emits one byte per shift plus
    /// one flush byte, the decoder reads four bytes ahead plus one per shift, so a complete decode has read three
    /// bytes of padding, no more and no fewer.
    /// </summary>
    public readonly bool EndsExactly => _position == _payload.Length + 3;

    /// <summary>Decodes one bit coded with probability <paramref name="p1"/>/4096 that it is 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Decode(int p1)
    {
        uint mid = _low + (uint)(((ulong)(_high - _low) * (uint)p1) >> 12);
        int bit;
        if (_x <= mid)
        {
            bit = 1;
            _high = mid;
        }
        else
        {
            bit = 0;
            _low = mid + 1;
        }

        while (((_low ^ _high) & 0xFF000000u) == 0)
        {
            _low <<= 8;
            _high = (_high << 8) | 255;
            _x = (_x << 8) | Next();
        }

        return bit;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint Next()
    {
        int i = _position++;
        return (uint)i < (uint)_payload.Length ? _payload[i] : 0xFFu;
    }
}
