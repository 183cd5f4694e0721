using System.Numerics;
using System.Runtime.CompilerServices;

namespace Z4Ai.Delta;

/// <summary>
/// The adaptive binary model of the sparse delta (docs/delta-format.md, section 1.5): a 12-bit probability that the
/// next bit is 0, moved 1/32 of the way towards each bit seen. Integer arithmetic only, so every machine codes the
/// same bytes.
/// </summary>
internal static class BinaryModel
{
    /// <summary>Probabilities are out of 2^12.</summary>
    public const int Bits = 12;

    /// <summary>The starting probability: one half.</summary>
    public const ushort Half = 1 << (Bits - 1);

    /// <summary>The adaptation shift: each update moves the probability 1/32 of the way.</summary>
    public const int Shift = 5;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Update(ref ushort p, int bit)
    {
        if (bit == 0)
        {
            p += (ushort)(((1 << Bits) - p) >> Shift);
        }
        else
        {
            p -= (ushort)(p >> Shift);
        }
    }
}

/// <summary>
/// Binary range encoder (the carry-propagating scheme of LZMA: 32-bit range, 33-bit low, a cached byte plus a run of
/// 0xFF bytes awaiting a possible carry). Writes into a fixed span and reports overflow instead of growing, so a
/// caller can cap a candidate at the size of the best one found so far.
/// </summary>
internal ref struct RangeEncoder
{
    private const uint Top = 1u << 24;

    private readonly Span<byte> _destination;
    private int _position;
    private ulong _low;
    private uint _range;
    private byte _cache;
    private long _cacheSize;

    public RangeEncoder(Span<byte> destination)
    {
        _destination = destination;
        _position = 0;
        _low = 0;
        _range = uint.MaxValue;
        _cache = 0;
        _cacheSize = 1;
        Overflow = false;
    }

    /// <summary>True once a byte did not fit in the destination; the output is then unusable.</summary>
    public bool Overflow { get; private set; }

    /// <summary>Bytes written so far (final after <see cref="Flush"/>).</summary>
    public readonly int Length => _position;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void EncodeBit(ref ushort probability, int bit)
    {
        uint bound = (_range >> BinaryModel.Bits) * probability;
        if (bit == 0)
        {
            _range = bound;
        }
        else
        {
            _low += bound;
            _range -= bound;
        }

        BinaryModel.Update(ref probability, bit);
        while (_range < Top)
        {
            _range <<= 8;
            ShiftLow();
        }
    }

    /// <summary>Codes the low <paramref name="count"/> bits of <paramref name="value"/>, most significant first, each at probability one half.</summary>
    public void EncodeDirect(ulong value, int count)
    {
        for (int i = count - 1; i >= 0; i--)
        {
            _range >>= 1;
            if (((value >> i) & 1) != 0)
            {
                _low += _range;
            }

            while (_range < Top)
            {
                _range <<= 8;
                ShiftLow();
            }
        }
    }

    /// <summary>Codes <paramref name="value"/> (below 2^<paramref name="bits"/>) with a binary tree of adaptive models, most significant bit first.</summary>
    public void EncodeTree(Span<ushort> tree, int value, int bits)
    {
        int node = 1;
        for (int i = bits - 1; i >= 0; i--)
        {
            int bit = (value >> i) & 1;
            EncodeBit(ref tree[node], bit);
            node = (node << 1) | bit;
        }
    }

    /// <summary>
    /// Codes <paramref name="n"/> (at least 1) as its bit length (a tree over <paramref name="tree"/> of depth
    /// <paramref name="treeBits"/>), then the two bits below the leading one with models chosen by that length
    /// (<paramref name="low"/>, four per length), then the remaining bits directly.
    /// </summary>
    public void EncodeNumber(ulong n, Span<ushort> tree, int treeBits, Span<ushort> low)
    {
        int length = 64 - BitOperations.LeadingZeroCount(n);
        EncodeTree(tree, length - 1, treeBits);
        int extra = length - 1;
        if (extra == 0)
        {
            return;
        }

        Span<ushort> models = low.Slice(length * 4, 4);
        int first = (int)(n >> (extra - 1)) & 1;
        EncodeBit(ref models[1], first);
        if (extra == 1)
        {
            return;
        }

        EncodeBit(ref models[2 + first], (int)(n >> (extra - 2)) & 1);
        EncodeDirect(n, extra - 2);
    }

    /// <summary>Writes out the pending bytes; call once at the end.</summary>
    public void Flush()
    {
        for (int i = 0; i < 5; i++)
        {
            ShiftLow();
        }
    }

    private void ShiftLow()
    {
        if ((uint)_low < 0xFF000000u || (_low >> 32) != 0)
        {
            byte carry = (byte)(_low >> 32);
            byte pending = _cache;
            do
            {
                Put((byte)(pending + carry));
                pending = 0xFF;
            }
            while (--_cacheSize != 0);
            _cache = (byte)((uint)_low >> 24);
        }

        _cacheSize++;
        _low = (uint)_low << 8;
    }

    private void Put(byte value)
    {
        if (_position < _destination.Length)
        {
            _destination[_position] = value;
        }
        else
        {
            Overflow = true;
        }

        _position++;
    }
}

/// <summary>
/// The decoder matching <see cref="RangeEncoder"/>. Reading past the end of the input yields zero bytes and is
/// reported by <see cref="Overrun"/>, so a damaged stream decodes to bounded garbage that the caller rejects rather
/// than to an exception from deep inside the loop.
/// </summary>
internal ref struct RangeDecoder
{
    private const uint Top = 1u << 24;

    private readonly ReadOnlySpan<byte> _source;
    private int _position;
    private uint _range;
    private uint _code;

    public RangeDecoder(ReadOnlySpan<byte> source)
    {
        _source = source;
        _position = 0;
        _range = uint.MaxValue;
        _code = 0;
        for (int i = 0; i < 5; i++)
        {
            _code = (_code << 8) | Next();
        }
    }

    /// <summary>True when the decoder needed more bytes than the input holds.</summary>
    public readonly bool Overrun => _position > _source.Length;

    /// <summary>Bytes consumed so far.</summary>
    public readonly int Position => _position;

    /// <summary>
    /// Decodes one bit and updates its model. Branch-free apart from renormalisation: the bits of a well-fitted model
    /// are close to random, so a branch on them would mispredict about as often as not. Same arithmetic as
    /// <see cref="RangeEncoder.EncodeBit"/> and <see cref="BinaryModel.Update"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int DecodeBit(ref ushort probability)
    {
        uint p = probability;
        uint bound = (_range >> BinaryModel.Bits) * p;

        // 1 when code >= bound: the borrow of the 64-bit difference lands in bit 63 exactly when code < bound.
        uint bit = (uint)(((ulong)_code - bound) >> 63) ^ 1u;
        uint mask = 0u - bit;
        _code -= bound & mask;
        _range = (bound & ~mask) | ((_range - bound) & mask);
        uint towardZero = p + (((1u << BinaryModel.Bits) - p) >> BinaryModel.Shift);
        uint towardOne = p - (p >> BinaryModel.Shift);
        probability = (ushort)((towardZero & ~mask) | (towardOne & mask));
        while (_range < Top)
        {
            _range <<= 8;
            _code = (_code << 8) | Next();
        }

        return (int)bit;
    }

    public ulong DecodeDirect(int count)
    {
        ulong value = 0;
        for (int i = 0; i < count; i++)
        {
            _range >>= 1;
            uint bit = (uint)(((ulong)_code - _range) >> 63) ^ 1u;
            _code -= _range & (0u - bit);

            value = (value << 1) | bit;
            while (_range < Top)
            {
                _range <<= 8;
                _code = (_code << 8) | Next();
            }
        }

        return value;
    }

    public int DecodeTree(Span<ushort> tree, int bits)
    {
        int node = 1;
        for (int i = 0; i < bits; i++)
        {
            node = (node << 1) | DecodeBit(ref tree[node]);
        }

        return node - (1 << bits);
    }

    /// <summary>
    /// Decodes a number coded by <see cref="RangeEncoder.EncodeNumber"/>; returns 0 when its bit length exceeds
    /// <paramref name="maxLength"/> (damaged input), which no encoder writes.
    /// </summary>
    public ulong DecodeNumber(Span<ushort> tree, int treeBits, Span<ushort> low, int maxLength)
    {
        int length = DecodeTree(tree, treeBits) + 1;
        if (length > maxLength)
        {
            return 0;
        }

        int extra = length - 1;
        if (extra == 0)
        {
            return 1;
        }

        Span<ushort> models = low.Slice(length * 4, 4);
        int first = DecodeBit(ref models[1]);
        ulong n = 2UL | (uint)first;
        if (extra == 1)
        {
            return n;
        }

        n = (n << 1) | (uint)DecodeBit(ref models[2 + first]);
        return (n << (extra - 2)) | DecodeDirect(extra - 2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint Next()
    {
        int at = _position++;
        return (uint)at < (uint)_source.Length ? _source[at] : 0u;
    }
}
